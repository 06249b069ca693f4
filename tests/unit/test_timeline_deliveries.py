"""Delivery outcomes (kept on outbox records) placed among a timeline's chained events."""

from __future__ import annotations

from chalicelib.petitions.service import with_deliveries


def ev(seq: int, type_: str, at: str, **kw) -> dict:
    return {"seq": seq, "type": type_, "at": f"2026-12-02T{at}+08:00", **kw}


def outcome(notification: str, status: str, at: str) -> dict:
    return {
        "type": "notification",
        "notification": notification,
        "status": status,
        "at": f"2026-12-02T{at}+08:00",
    }


def test_each_outcome_follows_its_queued_event_and_everything_before_its_instant():
    timeline = [
        ev(1, "created", "10:00:00"),
        ev(2, "notification", "10:00:00", notification="P#1#0", status="queued"),
        ev(3, "dispatched", "10:05:00"),
        ev(4, "notification", "10:05:00", notification="P#3#0", status="queued"),
        ev(5, "accepted", "11:00:00"),
    ]
    outcomes = [
        outcome("P#3#0", "sent", "10:05:01"),
        outcome("P#1#0", "failed", "10:00:01"),
        outcome("P#1#0", "sent", "10:01:00"),
    ]
    merged = with_deliveries(timeline, outcomes)
    assert [(e.get("seq"), e["type"], e["status"] if "status" in e else "") for e in merged] == [
        (1, "created", ""),
        (2, "notification", "queued"),
        (None, "notification", "failed"),
        (None, "notification", "sent"),
        (3, "dispatched", ""),
        (4, "notification", "queued"),
        (None, "notification", "sent"),
        (5, "accepted", ""),
    ]


def test_outcomes_after_the_last_event_come_last_in_time_order_and_none_is_dropped():
    timeline = [
        ev(1, "created", "22:30:00"),
        ev(2, "notification", "22:30:00", notification="P#1#0", status="queued"),
    ]
    late = [outcome("P#1#0", "sent", "08:00:00").copy()]
    late[0]["at"] = "2026-12-03T08:00:00+08:00"  # quiet hours: the next morning
    assert with_deliveries(timeline, late) == [*timeline, *late]
    assert with_deliveries(timeline, []) == timeline
