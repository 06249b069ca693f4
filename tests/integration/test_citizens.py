"""Citizens and the front desk over HTTP (CONTRACT §9): sign-in by SMS code with its limits, a
citizen's own petitions only, ratings of merged petitions, the desk's 首接首办 with on-the-spot
answers, the first-inquiry unit kept and told of every change, and the phone channel apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.clock import SHANGHAI, get_clock, iso
from tests.integration import petition_factory as pf

DISTRICT = "210922"  # 彰武县


@pytest.fixture(scope="module", autouse=True)
def daytime(api):
    """A working morning: citizens' SMS other than codes wait out the night (quiet hours)."""
    morning = (get_clock().now().astimezone(SHANGHAI) + timedelta(days=1)).replace(hour=9, minute=0)
    assert api.post("/_local/clock", {"set": iso(morning)}).status_code == 200


def move_on(api, seconds: int) -> None:
    assert (
        api.post("/_local/clock", {"set": iso(get_clock().now() + timedelta(seconds=seconds))}).status_code
        == 200
    )


def codes_sent(api, phone: str) -> list[str]:
    sent = api.get("/_local/outbox", params={"to": f"+86{phone}"}).json()
    return re.findall(r"验证码(\d{6})", " ".join(e["message"] for e in sent if e["kind"] == "sms"))


def ask_code(api, phone: str):
    return api.post("/v1/citizen/otp", {"phone": phone})


def sign_in(api, phone: str, code: str):
    return api.post("/v1/citizen/session", {"phone": phone, "code": code})


def as_citizen(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def body(text: str = "村道积雪未清，校车无法通行") -> dict:
    return {"district": DISTRICT, "content": text, "category": "municipal.road"}


# --- sign-in --------------------------------------------------------------------------------------


def test_a_code_arrives_by_sms_signs_in_once_and_is_never_stored_in_clear(api):
    phone = "13900139001"
    assert ask_code(api, phone).status_code == 202
    (code,) = codes_sent(api, phone)
    r = sign_in(api, phone, code)
    assert r.status_code == 200, r.text
    assert r.json()["token"].startswith("fztc.") and r.json()["expires_at"]
    again = sign_in(api, phone, code)
    assert again.status_code == 401 and again.json()["error"]["field"] == "code"  # used up
    from tests.integration.export_job import export_now

    assert export_now(api)["tables"]["petitions"] >= 0


def test_one_code_a_minute_and_ten_an_hour_with_retry_after(api):
    phone = "13900139002"
    assert ask_code(api, phone).status_code == 202
    second = ask_code(api, phone)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    assert second.json()["error"]["code"] == "rate_limited"
    for _ in range(9):
        move_on(api, 61)
        assert ask_code(api, phone).status_code == 202
    move_on(api, 61)
    eleventh = ask_code(api, phone)
    assert eleventh.status_code == 429 and int(eleventh.headers["Retry-After"]) > 60
    assert len(codes_sent(api, phone)) == 10  # a refused request sends nothing


def test_five_wrong_tries_lock_the_code_and_it_expires_after_five_minutes(api):
    phone = "13900139003"
    ask_code(api, phone)
    (code,) = codes_sent(api, phone)
    wrong = "000000" if code != "000000" else "111111"
    messages = [sign_in(api, phone, wrong).json()["error"]["message"] for _ in range(5)]
    assert "还可尝试4次" in messages[0] and "次数过多" in messages[-1]
    locked = sign_in(api, phone, code)  # the sixth try, though right
    assert locked.status_code == 401 and "次数过多" in locked.json()["error"]["message"]
    move_on(api, 61)
    ask_code(api, phone)
    fresh = codes_sent(api, phone)[-1]
    move_on(api, 301)
    expired = sign_in(api, phone, fresh)
    assert expired.status_code == 401 and "过期" in expired.json()["error"]["message"]


def test_a_phone_that_is_not_a_mainland_mobile_is_a_400_naming_phone_and_sends_nothing(api):
    for phone in ("+12025550123", "0418-2812345", "1380013800a"):
        r = ask_code(api, phone)
        assert r.status_code == 400 and r.json()["error"]["field"] == "phone", r.text


# --- their own petitions --------------------------------------------------------------------------


def test_a_citizen_files_sees_only_theirs_and_cannot_open_another_phones(api):
    mine = as_citizen(api.citizen_token("13900139004"))
    theirs = as_citizen(api.citizen_token("13900139005"))
    r = api.post("/v1/citizen/petitions", body(), headers=mine)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["channel"] == "wechat"
    assert r.json()["first_inquiry"] == {"unit": "210900.center", "user": "channel:wechat"}
    listed = api.get("/v1/citizen/petitions", headers=mine).json()["items"]
    assert [p["id"] for p in listed] == [pid]
    assert api.get("/v1/citizen/petitions", headers=theirs).json()["items"] == []
    assert api.get(f"/v1/citizen/petitions/{pid}", headers=theirs).status_code == 404
    detail = api.get(f"/v1/citizen/petitions/{pid}", headers=mine).json()
    assert detail["timeline"][0]["type"] == "created" and detail["citizen"]["phone"] == "139****9004"


def test_citizen_and_operator_tokens_are_not_interchangeable(api):
    citizen = as_citizen(api.citizen_token("13900139006"))
    assert api.get("/v1/petitions", headers=citizen).status_code == 403
    assert api.post("/v1/petitions", pf.petition_body(), headers=citizen).status_code == 403
    assert api.get("/v1/citizen/petitions", as_="dispatcher@210922").status_code == 403
    assert api.get("/v1/citizen/petitions", as_="local-wechat").status_code == 403
    forged = api.get("/v1/citizen/petitions", headers={"Authorization": "Bearer fztc.e30.forged"})
    assert forged.status_code == 401


def test_the_phone_is_the_signed_in_one(api):
    mine = as_citizen(api.citizen_token("13900139007"))
    r = api.post("/v1/citizen/petitions", {**body(), "citizen": {"phone": "13800138000"}}, headers=mine)
    assert r.status_code == 400 and r.json()["error"]["field"] == "citizen.phone"
    assert api.get("/v1/citizen/petitions", headers=mine).json()["items"] == []


def close(api, pid: str, district: str = DISTRICT, department: str | None = None) -> None:
    department = department or f"{district}.urban"
    pf.act(api, pid, "dispatch", f"dispatcher@{district}", {"department": department})
    pf.act(api, pid, "accept", f"handler@{department}")
    pf.act(api, pid, "resolve", f"handler@{department}")
    pf.act(api, pid, "review", f"reviewer@{district}")


def test_every_citizen_of_a_merged_petition_rates_it_once_and_a_dissatisfied_one_reopens_it(api):
    a_phone, b_phone = "13900139008", "13900139009"
    a, b = as_citizen(api.citizen_token(a_phone)), as_citizen(api.citizen_token(b_phone))
    main = api.post("/v1/citizen/petitions", body("村口桥面塌陷，车辆绕行十里"), headers=a).json()["id"]
    dup = api.post("/v1/citizen/petitions", body("村口那座桥塌了一块，很危险"), headers=b).json()["id"]
    pf.act(api, dup, "merge", f"dispatcher@{DISTRICT}", {"into": main})
    early = api.post(f"/v1/citizen/petitions/{dup}/feedback", {"rating": "satisfied"}, headers=b)
    assert early.status_code == 409  # its main petition is not closed yet
    close(api, main)
    closures = [
        e
        for e in api.get("/_local/outbox", params={"to": f"+86{b_phone}"}).json()
        if "回复1满意" in e["message"]
    ]
    assert len(closures) == 1  # the merged citizen got the closure SMS with the question
    assert api.get(f"/v1/citizen/petitions/{dup}", headers=b).json()["awaiting_feedback"] is True
    assert (
        api.post(f"/v1/citizen/petitions/{main}/feedback", {"rating": "satisfied"}, headers=a).status_code
        == 200
    )
    r = api.post(f"/v1/citizen/petitions/{dup}/feedback", {"rating": "dissatisfied"}, headers=b)
    assert r.status_code == 200, r.text
    twice = api.post(f"/v1/citizen/petitions/{dup}/feedback", {"rating": "satisfied"}, headers=b)
    assert twice.status_code == 409
    reopened = pf.read(api, main)
    assert reopened["status"] == "accepted" and reopened["reopens"] == 1
    stats = api.get("/v1/stats", as_=f"supervisor@{DISTRICT}").json()["total"]["satisfaction_rate"]
    assert (stats["numerator"], stats["denominator"]) == (1, 2)  # each citizen once


# --- the front desk -------------------------------------------------------------------------------


def test_a_desk_registers_a_walk_in_answers_it_on_the_spot_and_it_closes_with_the_rating_sms(api):
    desk = f"desk@{DISTRICT}.center"
    phone = "13900139010"
    r = api.post("/v1/desk/petitions", {**body("咨询新农合报销比例"), "citizen": {"phone": phone}}, as_=desk)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["channel"] == "walkin"
    assert r.json()["first_inquiry"] == {"unit": f"{DISTRICT}.center", "user": desk}
    assert api.get(f"/v1/petitions/{pid}", as_="desk@210902.center").status_code == 404
    mine = [p["id"] for p in pf.list_all(api, desk)]
    assert mine == [pid]
    answered = pf.act(api, pid, "answer", desk, {"reply": "已当场答复：住院报销比例为75%"})
    assert answered["status"] == "resolved" and answered["answered_by"] == desk
    pf.act(api, pid, "review", f"reviewer@{DISTRICT}")
    closure = [
        e
        for e in api.get("/_local/outbox", params={"to": f"+86{phone}"}).json()
        if "回复1满意" in e["message"]
    ]
    assert len(closure) == 1
    figures = api.get("/v1/stats", as_=f"supervisor@{DISTRICT}").json()["by_channel"]["walkin"]
    assert figures["on_spot_rate"]["numerator"] == 1 and figures["completion_rate"]["numerator"] == 1


def test_a_desk_receives_only_for_its_district_and_the_12345_desk_files_as_the_hotline(api):
    wrong = api.post(
        "/v1/desk/petitions",
        {**body(), "district": "210902", "citizen": {"phone": "13900139011"}},
        as_=f"desk@{DISTRICT}.center",
    )
    assert wrong.status_code == 403
    hotline = api.post(
        "/v1/desk/petitions", {**body(), "citizen": {"phone": "13900139011"}}, as_="desk@210900.hotline"
    )
    assert hotline.status_code == 201 and hotline.json()["channel"] == "hotline_12345"
    assert hotline.json()["first_inquiry"]["unit"] == "210900.hotline"


def test_the_first_inquiry_unit_is_kept_through_a_transfer_and_told_of_each_change(api):
    desk = f"desk@{DISTRICT}.center"
    pid = api.post("/v1/desk/petitions", {**body(), "citizen": {"phone": "13900139012"}}, as_=desk).json()[
        "id"
    ]
    pf.act(api, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": f"{DISTRICT}.urban"})
    pf.act(
        api,
        pid,
        "transfer",
        f"dispatcher@{DISTRICT}",
        {"department": f"{DISTRICT}.housing", "reason": "属住建"},
    )
    pf.act(api, pid, "accept", f"handler@{DISTRICT}.housing")
    p = pf.read(api, pid)
    assert p["first_inquiry"] == {"unit": f"{DISTRICT}.center", "user": desk}
    told = [
        e
        for e in api.get("/_local/outbox").json()
        if e["kind"] == "topic" and e["attributes"].get("kind") == "first_inquiry" and pid in e["message"]
    ]
    assert len(told) == 2  # dispatched, accepted (a transfer keeps the status: dispatched)
    assert {e["attributes"]["department"] for e in told} == {f"{DISTRICT}.center"}


def test_the_phone_channel_counts_apart_from_the_12345_hotline(api):
    pf.create(api, as_="local-phone", district=DISTRICT)
    pf.create(api, as_="local-hotline", district=DISTRICT)
    channels = api.get("/v1/stats", as_=f"supervisor@{DISTRICT}").json()["by_channel"]
    assert channels["phone"]["received"] >= 1 and channels["hotline_12345"]["received"] >= 1


def test_a_merged_citizen_rates_by_sms_reply_once(api):
    a_phone, b_phone = "13900139013", "13900139014"
    main = pf.create(api, district=DISTRICT, citizen={"phone": a_phone})["id"]
    dup = pf.create(api, district=DISTRICT, citizen={"phone": b_phone})["id"]
    pf.act(api, dup, "merge", f"dispatcher@{DISTRICT}", {"into": main})
    close(api, main)
    first = api.post("/_local/sms/inbound", {"from": f"+86{b_phone}", "text": "2"}).json()
    assert first == {"outcome": "recorded", "petition": dup, "rating": "basically_satisfied"}
    again = api.post("/_local/sms/inbound", {"from": f"+86{b_phone}", "text": "3"}).json()
    assert again["outcome"] == "ignored"
    assert pf.read(api, main)["status"] == "closed"  # the ignored "3" reopened nothing
