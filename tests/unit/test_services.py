"""The services on in-memory stores and a fake SMS port: intake, the publisher, the sweep and
calendar loading, wired by the real runtime — no sockets, no moto, a clock the test holds.

The fakes keep the stores' promises (tests/integration/test_store_contract.py runs both).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.auth.identity import OPERATOR, Identity
from chalicelib.clock import SHANGHAI, iso
from chalicelib.errors import Conflict
from chalicelib.notify import publisher
from chalicelib.runtime import Runtime
from chalicelib.sla.sweep import SweepCrash
from tests.unit.support import DISPATCHER, WALKIN, body


def timeline_statuses(rt: Runtime, pid: str) -> list[str]:
    """The notifications' statuses as the timeline shows them: queued (in the chain), then outcomes."""
    p = rt.stores.petitions.get(pid)
    assert p is not None
    return [e["status"] for e in rt.petitions.timeline(p) if e["type"] == "notification"]


# --- intake ------------------------------------------------------------------------------------------------


def test_a_petition_is_one_transaction_and_its_receipt_goes_out_once(rt):
    status, out = rt.intake.create(WALKIN, body(), None)
    assert status == 201 and out["status"] == "received"
    assert rt.stores.database.transactions == 1  # the create; the receipt is marked on its record alone
    p = rt.stores.petitions.get(out["id"])
    assert p is not None and p.version == 1  # the delivery did not rewrite the petition
    assert [phone for phone, _ in rt.port.sms] == ["+8613800138000"]
    assert out["id"] in rt.port.sms[0][1]
    assert timeline_statuses(rt, out["id"]) == ["queued", "sent"]
    assert rt.stores.timers.rows[out["id"]].stage == "dispatch"


def test_a_retry_with_the_same_key_returns_the_same_petition_and_another_body_is_refused(rt):
    first = rt.intake.create(WALKIN, body(), "key-1")
    again = rt.intake.create(WALKIN, body(), "key-1")
    assert (first[0], again[0]) == (201, 200) and again[1]["id"] == first[1]["id"]
    with pytest.raises(Conflict) as refused:
        rt.intake.create(WALKIN, body("另一件事：楼道灯也坏了很久了"), "key-1")
    assert refused.value.code == "idempotency_key_reused"
    assert len(rt.stores.petitions.rows) == 1 and len(rt.port.sms) == 1


def test_a_double_click_within_two_minutes_is_one_petition_and_after_it_two(rt):
    a = rt.intake.create(WALKIN, body(), None)[1]["id"]
    rt.clock.at += timedelta(seconds=60)
    assert rt.intake.create(WALKIN, body(), None)[1]["id"] == a
    rt.clock.at += timedelta(seconds=121)
    assert rt.intake.create(WALKIN, body(), None)[1]["id"] != a


# --- the publisher -----------------------------------------------------------------------------------------


def test_sns_failing_twice_is_retried_after_each_backoff_and_sent_once(rt):
    rt.port.fail = 2
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    assert timeline_statuses(rt, pid) == ["queued", "failed"]
    rt.clock.at += timedelta(seconds=29)
    assert rt.publisher.drain(rt.env()) == {}  # the 30-second backoff has not passed
    rt.clock.at += timedelta(seconds=1)
    assert rt.publisher.drain(rt.env()) == {"failed": 1}
    rt.clock.at += timedelta(seconds=60)
    assert rt.publisher.drain(rt.env()) == {"sent": 1}
    assert timeline_statuses(rt, pid) == ["queued", "failed", "failed", "sent"]
    assert len(rt.port.sms) == 1


def test_after_max_attempts_a_notification_is_dead_and_on_the_attention_list(rt):
    rt.port.fail = 1000
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    for _ in range(publisher.MAX_ATTEMPTS):
        rt.clock.at += timedelta(hours=2)
        rt.publisher.drain(rt.env())
    assert timeline_statuses(rt, pid)[-1] == "dead" and timeline_statuses(rt, pid).count("dead") == 1
    supervisor = Identity(kind=OPERATOR, name="supervisor@210902", role="supervisor", district="210902")
    listed = rt.attention(supervisor, None)["items"]
    assert [(n["petition_id"], n["status"], n["attempts"]) for n in listed] == [
        (pid, "dead", publisher.MAX_ATTEMPTS)
    ]


def test_an_sms_claimed_by_a_publisher_that_died_is_never_sent_again(rt):
    rt.uow.publish = None  # the commit's own publishing "dies" before it runs
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    (record,) = rt.stores.outbox.rows.values()
    assert rt.stores.outbox.claim(record, "2026-11-02T02:01:00Z")  # claimed, then the process died
    rt.clock.at += timedelta(minutes=5)
    assert rt.publisher.drain(rt.env()) == {"unconfirmed": 1}
    rt.clock.at += timedelta(minutes=5)
    assert rt.publisher.drain(rt.env()) == {}
    assert rt.port.sms == [] and timeline_statuses(rt, pid) == ["queued", "unconfirmed"]


def test_citizen_sms_at_night_waits_for_eight(rt):
    rt.clock.at = datetime(2026, 11, 2, 23, 30, tzinfo=SHANGHAI)
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    assert rt.port.sms == [] and timeline_statuses(rt, pid) == ["queued"]
    rt.clock.at = datetime(2026, 11, 3, 7, 59, tzinfo=SHANGHAI)
    assert rt.publisher.drain(rt.env()) == {}
    rt.clock.at = datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)
    assert rt.publisher.drain(rt.env()) == {"sent": 1}


# --- the sweep ---------------------------------------------------------------------------------------------


def fired(result: dict) -> list[str]:
    return [f["type"] if f["type"] != "escalated" else f"escalated:{f['level']}" for f in result["fired"]]


def test_the_sweep_fires_each_step_once_in_order_and_reads_only_what_is_due(rt):
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    assert rt.run_sweep()["summary"]["index_items_read"] == 0  # nothing due: nothing read
    rt.clock.at = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI) + timedelta(hours=18, minutes=1)
    assert fired(rt.run_sweep()) == ["reminder"]
    assert fired(rt.run_sweep()) == []
    rt.clock.at = datetime(2026, 11, 6, 11, 0, tzinfo=SHANGHAI)  # past due + 3 working days
    late = rt.run_sweep()
    assert fired(late) == ["supervision_notice", "escalated:district", "escalated:city"]
    assert [f["petition"] for f in late["fired"]] == [pid] * 3
    assert fired(rt.run_sweep()) == []
    kinds = [(n[2]["kind"], n[2]["level"]) for n in rt.port.topics]
    assert kinds == [
        ("reminder", "district"),
        ("supervision_notice", "district"),
        ("escalation", "district"),
        ("escalation", "city"),
    ]
    unit = rt.stores.violations.of_unit("210902.dispatch", "0000", "9999~", 10)
    assert [(v.kind, v.petition_id) for v in unit] == [("slow_dispatch", pid)]


def test_a_sweep_that_crashes_half_way_fires_the_rest_next_time_and_nothing_twice(rt):
    ids = [rt.intake.create(WALKIN, body(f"第{i}件：小区路灯坏了一个月"), None)[1]["id"] for i in range(4)]
    rt.clock.at += timedelta(days=1)
    with pytest.raises(SweepCrash):
        rt.run_sweep(crash_after=2)
    rest = rt.run_sweep()
    assert rest["summary"]["fired"] == 2  # the two petitions the crashed sweep did not reach
    for pid in ids:  # each got its reminder and its supervision notice, once
        kinds = [e["type"] for e in rt.stores.petitions.timeline(pid)]
        assert (kinds.count("reminder"), kinds.count("supervision_notice")) == (1, 1), pid


def test_an_action_between_the_read_and_the_commit_makes_the_sweep_skip_not_double_fire(rt):
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    rt.clock.at += timedelta(days=1)
    original = rt.stores.petitions.get
    raced = []

    def dispatched_meanwhile(petition_id):
        p = original(petition_id)
        if not raced:  # a dispatcher acts right after the sweep read the petition
            raced.append(True)
            rt.petitions.act(DISPATCHER, pid, "dispatch", {"department": "210902.urban"})
        return p

    rt.stores.petitions.get = dispatched_meanwhile
    result = rt.run_sweep()
    rt.stores.petitions.get = original
    assert result["summary"]["lost_race"] == 1 and result["fired"] == []
    assert [e["type"] for e in rt.stores.petitions.timeline(pid) if e["type"] == "reminder"] == []


# --- calendar loading and the sweep on one calendar ---------------------------------------------

NOTICE_2027 = {
    "year": 2027,
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
    "holidays": {f"2027-01-0{d}": "元旦" for d in range(1, 9)},
    "workdays": {},
}


def test_a_loaded_notice_moves_the_due_time_and_the_sweep_keeps_to_it(rt):
    rt.clock.at = datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI)
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    loaded = rt.load_calendar_notice(NOTICE_2027)
    assert loaded["recomputed"] == [pid]
    due = datetime.fromisoformat(rt.petitions.get(DISPATCHER, pid)["due_at"])
    assert due == datetime(2027, 1, 11, 10, 0, tzinfo=SHANGHAI)
    rt.clock.at = due - timedelta(minutes=1)
    before = rt.run_sweep()
    assert fired(before) == ["reminder"]  # 75 % of the working day: reminded, not yet overdue
    assert all(e["type"] != "violation" for e in rt.stores.petitions.timeline(pid))
    rt.clock.at = due + timedelta(minutes=1)
    assert fired(rt.run_sweep()) == ["supervision_notice"]
    assert fired(rt.run_sweep()) == []


def test_the_sweep_records_its_lag_and_counts_as_metrics(rt):
    seen: dict[str, float] = {}
    rt.sweep.metric = lambda name, value: seen.__setitem__(name, value)
    rt.intake.create(WALKIN, body(), None)
    rt.clock.at += timedelta(days=1)
    rt.run_sweep()
    assert seen["SweepFired"] == 1 and seen["SweepLagSeconds"] > 0
    assert iso(rt.clock.now())
