"""The outbox through the live stack: delivered once, retried through failures, deferred in quiet hours,
never sent twice to a citizen across a crash, every outcome on the timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from chalicelib.clock import SHANGHAI, get_clock, iso
from chalicelib.notify import publisher
from chalicelib.notify.sns import SnsPort
from chalicelib.runtime import get_runtime
from chalicelib.settings import get_settings

DISTRICT = "210905"  # 清河门区


def move_to(api, instant: datetime) -> None:
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"])
    if instant > now:
        assert api.post("/_local/clock", {"set": iso(instant)}).status_code == 200


def next_day_at(api, hour: int, minute: int = 0) -> datetime:
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    return (now + timedelta(days=2)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def submit(api, phone: str, text: str = "楼道照明损坏，夜间上下楼不安全") -> str:
    body = {"district": DISTRICT, "content": text, "citizen": {"phone": phone}}
    r = api.post("/v1/petitions", body, as_="local-walkin")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def sms_to(api, phone: str) -> list[dict]:
    return [e for e in api.get("/_local/outbox", params={"to": phone}).json() if e["kind"] == "sms"]


def statuses(api, pid: str) -> list[str]:
    timeline = api.get(f"/v1/petitions/{pid}", as_="supervisor@210905").json()["timeline"]
    return [e["status"] for e in timeline if e["type"] == "notification"]


def attention(api, who: str, pid: str) -> list[dict]:
    """What the supervision board of ``who`` lists for this petition as needing a person."""
    r = api.get("/v1/notifications/attention", as_=who)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["petition_id"] == pid]


class Flaky(SnsPort):
    """SNS that fails the first ``failures`` SMS to one phone (fault injected at the publisher's
    port); every other message of the stack goes through, so the count is exact."""

    def __init__(self, failures: int, phone: str) -> None:
        super().__init__(get_settings())
        self.failures = failures
        self.phone = phone

    def send_sms(self, phone, message):
        if phone == self.phone and self.failures > 0:
            self.failures -= 1
            raise ConnectionError("SNS unreachable")
        return super().send_sms(phone, message)


def use_port(port) -> None:
    get_runtime().publisher.port = port


@pytest.fixture
def restore_port():
    yield
    use_port(SnsPort(get_settings()))


def test_receipt_sms_is_sent_once_with_the_tracking_number(api):
    move_to(api, next_day_at(api, 10))
    pid = submit(api, "13700137001")
    sent = sms_to(api, "+8613700137001")
    assert len(sent) == 1 and pid in sent[0]["message"] and sent[0]["message"].startswith("【阜政通】")
    assert statuses(api, pid) == ["queued", "sent"]
    assert attention(api, "supervisor@210905", pid) == []  # delivered: nothing for a person to do
    api.post("/_local/sweep")
    assert len(sms_to(api, "+8613700137001")) == 1


def test_sns_failing_for_a_while_loses_nothing_and_delivers_once(api, restore_port):
    move_to(api, next_day_at(api, 10))
    use_port(Flaky(failures=3, phone="+8613700137002"))
    pid = submit(api, "13700137002")
    assert sms_to(api, "+8613700137002") == []
    assert statuses(api, pid) == ["queued", "failed"]
    # The sweep retries after each backoff (30 s, 60 s, …) until SNS answers
    for _ in range(4):
        move_to(api, get_clock().now() + timedelta(minutes=5))
        api.post("/_local/sweep")
    assert len(sms_to(api, "+8613700137002")) == 1
    assert statuses(api, pid) == ["queued", "failed", "failed", "failed", "sent"]


def test_after_max_attempts_a_notification_is_dead_and_visible(api, restore_port):
    move_to(api, next_day_at(api, 10))
    use_port(Flaky(failures=10_000, phone="+8613700137003"))
    pid = submit(api, "13700137003")
    for _ in range(publisher.MAX_ATTEMPTS + 1):
        move_to(api, get_clock().now() + timedelta(hours=2))
        api.post("/_local/sweep")
    assert statuses(api, pid)[-1] == "dead"
    assert statuses(api, pid).count("dead") == 1
    assert sms_to(api, "+8613700137003") == []
    # The district's supervision board lists it for a person to check; the next district's does not
    mine = attention(api, "supervisor@210905", pid)
    assert [(n["kind"], n["channel"], n["status"], n["problem"]) for n in mine] == [
        ("receipt", "sms", "dead", "ConnectionError")
    ]
    assert mine[0]["attempts"] == publisher.MAX_ATTEMPTS
    assert attention(api, "chief@210900", pid) == mine  # the city sees every district's
    assert attention(api, "supervisor@210902", pid) == []


def test_quiet_hours_defer_citizen_sms_until_eight(api):
    night = next_day_at(api, 23, 10)
    move_to(api, night)
    pid = submit(api, "13700137004")
    assert sms_to(api, "+8613700137004") == []
    assert statuses(api, pid) == ["queued"]
    move_to(api, (night + timedelta(hours=8, minutes=20)).replace(hour=7, minute=59))
    api.post("/_local/sweep")
    assert sms_to(api, "+8613700137004") == []
    move_to(api, night.replace(hour=8, minute=0) + timedelta(days=1))
    api.post("/_local/sweep")
    assert len(sms_to(api, "+8613700137004")) == 1


def test_a_crash_between_publish_and_mark_does_not_send_the_sms_twice(api, restore_port):
    # Given a publisher that dies right after SNS accepted the SMS
    move_to(api, next_day_at(api, 10))

    class DiesAfterPublish(SnsPort):
        def send_sms(self, phone, message):
            super().send_sms(phone, message)
            raise SystemExit("publisher killed after publish")

    use_port(DiesAfterPublish(get_settings()))
    # When the create commits and the outbox drain (the stream consumer, locally a thread) dies
    # after SNS accepted the receipt: the request itself never waited for SNS, so it succeeded
    env = get_runtime().env()
    submit(api, "13700137005", "小区门禁损坏，陌生人随意进出")
    get_runtime().settle()  # the drain has run (and "died") before the port is healed
    use_port(SnsPort(get_settings()))
    assert len(sms_to(api, "+8613700137005")) == 1
    # When later sweeps run past the lease
    for _ in range(3):
        move_to(api, env.now + timedelta(minutes=10 * (_ + 1)))
        api.post("/_local/sweep")
    # Then the citizen got it once, and the timeline says it is unconfirmed for a person to check
    sent = sms_to(api, "+8613700137005")
    assert len(sent) == 1
    pid = re.search(r"编号(\w+)", sent[0]["message"]).group(1)
    assert statuses(api, pid) == ["queued", "unconfirmed"]
    assert [(n["kind"], n["status"]) for n in attention(api, "supervisor@210905", pid)] == [
        ("receipt", "unconfirmed")
    ]


def close(api, phone: str) -> str:
    pid = submit(api, phone, "小区电梯停运一周，老人上下楼困难")
    for action, who, body in [
        ("dispatch", "dispatcher@210905", {"department": "210905.housing"}),
        ("accept", "handler@210905.housing", {}),
        ("resolve", "handler@210905.housing", {"reply": "已联系维保单位修复电梯，并加强巡检。"}),
        ("review", "reviewer@210905", {"approve": True}),
    ]:
        r = api.post(f"/v1/petitions/{pid}/{action}", body, as_=who)
        assert r.status_code == 200, (action, r.text)
    return pid


def test_closure_sms_asks_for_a_rating_and_the_reply_records_it(api):
    move_to(api, next_day_at(api, 10))
    pid = close(api, "13700137006")
    closure = [m for m in sms_to(api, "+8613700137006") if "回复1满意" in m["message"]]
    assert len(closure) == 1 and pid in closure[0]["message"]
    # When the citizen answers "3" (不满意) by SMS
    r = api.post("/_local/sms/inbound", {"from": "13700137006", "text": " 3 "})
    assert r.json() == {"outcome": "recorded", "petition": pid, "rating": "dissatisfied"}
    # Then the petition is reopened (重办) and a second reply finds nothing awaiting a rating
    p = api.get(f"/v1/petitions/{pid}", as_="supervisor@210905").json()
    assert p["status"] == "accepted" and p["rating"] == "dissatisfied" and p["stage"]["name"] == "reopen"
    r = api.post("/_local/sms/inbound", {"from": "13700137006", "text": "1"})
    assert r.json()["outcome"] == "ignored"


@pytest.mark.parametrize("sender, text", [("13700137007", "好的谢谢"), ("10086", "1"), ("13700137099", "2")])
def test_other_replies_are_ignored_with_a_reason(api, sender, text):
    r = api.post("/_local/sms/inbound", {"from": sender, "text": text})
    assert r.status_code == 200
    assert r.json()["outcome"] == "ignored" and r.json()["reason"]


def test_the_main_petitions_outcome_reaches_every_merged_citizen(api):
    # Given a duplicate merged (并单) into a main petition, each from its own citizen
    move_to(api, next_day_at(api, 10))
    main = submit(api, "13700137008", "小区东门路灯不亮已经两周")
    duplicate = submit(api, "13700137009", "东门那边的路灯一直不亮，晚上很黑")
    r = api.post(f"/v1/petitions/{duplicate}/merge", {"into": main}, as_="dispatcher@210905")
    assert r.status_code == 200 and r.json()["status"] == "merged"
    merged_notice = [m for m in sms_to(api, "+8613700137009") if "并单" in m["message"]]
    assert len(merged_notice) == 1 and main in merged_notice[0]["message"]
    # When the main petition is closed
    for action, who, body in [
        ("dispatch", "dispatcher@210905", {"department": "210905.urban"}),
        ("accept", "handler@210905.urban", {}),
        ("resolve", "handler@210905.urban", {"reply": "已更换东门路灯灯具，恢复照明。"}),
        ("review", "reviewer@210905", {"approve": True}),
    ]:
        assert api.post(f"/v1/petitions/{main}/{action}", body, as_=who).status_code == 200
    # Then both citizens get the closure reply, each under their own tracking number
    for phone, pid in (("+8613700137008", main), ("+8613700137009", duplicate)):
        closure = [m for m in sms_to(api, phone) if "回复1满意" in m["message"]]
        assert len(closure) == 1 and pid in closure[0]["message"], phone
