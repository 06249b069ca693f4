"""The 1+1+7 clock through the live stack: the ladder fires in order, once, also when late,
twice-run, concurrent or crashed half way."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from chalicelib.clock import SHANGHAI, get_clock, iso
from chalicelib.runtime import get_runtime
from chalicelib.sla.sweep import SweepCrash
from chalicelib.timing.policy import Policy

DISTRICT = "210904"  # 太平区: other suites keep to other districts where they count
# Petitions are created a moment after `start` (real time ticks), so their steps fall a little later.
SLACK = timedelta(minutes=2)


def next_friday_10(api) -> datetime:
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    day = (now + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    while day.weekday() != 4 or not get_runtime().calendars.current().is_working_day(day.date()):
        day += timedelta(days=1)
    return day


def set_clock(api, instant: datetime) -> None:
    """Moves the clock to ``instant``, or leaves it where real time has already carried it past."""
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"])
    if instant > now:
        r = api.post("/_local/clock", {"set": iso(instant)})
        assert r.status_code == 200, r.text


def submit(api, text="垃圾站满溢多日无人清运，气味很大", priority="normal") -> str:
    body = {
        "district": DISTRICT,
        "content": text,
        "category": "sanitation",
        "priority": priority,
        "citizen": {"phone": "13900139000"},
    }
    r = api.post("/v1/petitions", body, as_="local-hotline")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def clock_events(api, pid: str) -> list[dict]:
    timeline = api.get(f"/v1/petitions/{pid}", as_="supervisor@210904").json()["timeline"]
    return [e for e in timeline if e["type"] in ("reminder", "supervision_notice", "escalated", "violation")]


def mine(result: dict, pid: str) -> list[str]:
    return [
        f["type"] if f["type"] != "escalated" else f"escalated:{f['level']}"
        for f in result["fired"]
        if f["petition"] == pid
    ]


def test_dispatch_ladder_fires_each_step_once_in_order_also_when_late(api):
    # Given a normal petition received on a Friday 10:00
    start = next_friday_10(api)
    set_clock(api, start)
    pid = submit(api)
    ladder = Policy.bundled().ladder(DISTRICT, "normal", "dispatch", get_runtime().calendars.current(), start)
    reminder, notice, district, city = (s.at for s in ladder)

    # When the sweep runs before the reminder, nothing fires for it
    set_clock(api, reminder - timedelta(minutes=10))
    assert mine(api.post("/_local/sweep").json(), pid) == []
    # At the reminder: the reminder, once, even when the sweep runs twice
    set_clock(api, reminder + SLACK)
    assert mine(api.post("/_local/sweep").json(), pid) == ["reminder"]
    assert mine(api.post("/_local/sweep").json(), pid) == []
    r = api.get(f"/v1/petitions/{pid}", as_="dispatcher@210904").json()
    assert r["sla_state"] == "due_soon"

    # When the sweep is late by days: every step that came due fires, in order, once
    set_clock(api, city + timedelta(hours=5))
    assert mine(api.post("/_local/sweep").json(), pid) == [
        "supervision_notice",
        "escalated:district",
        "escalated:city",
    ]
    assert mine(api.post("/_local/sweep").json(), pid) == []

    # Then the timeline tells it, with the violation against the dispatch desk
    events = clock_events(api, pid)
    assert [e["type"] for e in events] == [
        "reminder",
        "supervision_notice",
        "violation",
        "escalated",
        "escalated",
    ]
    assert events[2]["kind"] == "slow_dispatch"
    assert [e.get("chief") for e in events if e["type"] == "escalated"] == ["chief@210904", "chief@210900"]
    r = api.get(f"/v1/petitions/{pid}", as_="supervisor@210904").json()
    assert r["escalation_level"] == "city" and r["sla_state"] == "overdue"
    overdue = api.get(f"/v1/petitions?overdue=true&district={DISTRICT}", as_="supervisor@210904").json()[
        "items"
    ]
    assert pid in [p["id"] for p in overdue]
    # And after the city's chief nothing more fires for this stage
    set_clock(api, city + timedelta(days=30))
    assert mine(api.post("/_local/sweep").json(), pid) == []


def test_each_stage_runs_its_own_ladder(api):
    start = next_friday_10(api)
    set_clock(api, start)
    pid = submit(api, "小区路面塌陷，车辆无法通行，请尽快处理")
    r = api.post(f"/v1/petitions/{pid}/dispatch", {"department": "210904.urban"}, as_="dispatcher@210904")
    assert r.status_code == 200, r.text
    ladder = Policy.bundled().ladder(DISTRICT, "normal", "accept", get_runtime().calendars.current(), start)
    set_clock(api, ladder[1].at + SLACK)
    assert mine(api.post("/_local/sweep").json(), pid) == ["reminder", "supervision_notice"]
    violation = [e for e in clock_events(api, pid) if e["type"] == "violation"][0]
    assert violation["kind"] == "refused_order" and violation["unit"] == "210904.urban"  # 拒不接单
    # When the handler accepts, the resolve stage starts a fresh ladder
    assert api.post(f"/v1/petitions/{pid}/accept", {}, as_="handler@210904.urban").status_code == 200
    assert mine(api.post("/_local/sweep").json(), pid) == []
    r = api.get("/v1/violations?unit=210904.urban", as_="supervisor@210904")
    assert r.status_code == 200
    assert pid in [v["petition_id"] for v in r.json()["items"] if v["kind"] == "refused_order"]


def _reminders(api, pid):
    return sum(1 for e in clock_events(api, pid) if e["type"] == "reminder")


def test_a_sweep_crashing_half_way_then_rerun_fires_all_once(api, stack):
    start = next_friday_10(api)
    set_clock(api, start)
    pids = [submit(api, f"第{i}号楼下水道堵塞，污水外溢，请尽快疏通") for i in range(6)]
    ladder = Policy.bundled().ladder(DISTRICT, "normal", "dispatch", get_runtime().calendars.current(), start)
    set_clock(api, ladder[0].at + SLACK)
    with pytest.raises(SweepCrash):
        get_runtime().run_sweep(get_clock().now(), crash_after=3)
    counts = [_reminders(api, p) for p in pids]
    # The crash left work undone (other suites' petitions may have taken some of the 3 commits)
    assert set(counts) <= {0, 1} and sum(counts) <= 3 and 0 in counts
    get_runtime().run_sweep(get_clock().now())
    assert [_reminders(api, p) for p in pids] == [1] * 6


def test_two_sweeps_at_once_fire_each_step_once(api, stack):
    start = next_friday_10(api)
    set_clock(api, start)
    pids = [submit(api, f"第{i}单元暖气不热，室温只有十二度") for i in range(8)]
    ladder = Policy.bundled().ladder(DISTRICT, "normal", "dispatch", get_runtime().calendars.current(), start)
    set_clock(api, ladder[0].at + SLACK)
    now = get_clock().now()
    barrier = threading.Barrier(2)
    results: list[dict] = []

    def sweep():
        barrier.wait()
        results.append(get_runtime().run_sweep(now))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A firing that lost its race (to the other sweep, or to the publisher marking a message sent)
    # stays due; one more sweep picks it up. Across all three runs each petition fired exactly once.
    results.append(get_runtime().run_sweep(get_clock().now()))
    fired = [f["petition"] for r in results for f in r["fired"] if f["petition"] in pids]
    assert sorted(fired) == sorted(pids)
    assert [_reminders(api, p) for p in pids] == [1] * 8


def test_the_sweep_reads_only_due_timers(api):
    start = next_friday_10(api)
    set_clock(api, start)
    submit(api, "公园健身器材损坏，存在安全隐患")
    # Nothing of this petition is due yet: the sweep's index reads are only what is due
    result = api.post("/_local/sweep").json()
    assert result["summary"]["index_items_read"] == result["summary"]["due"]
