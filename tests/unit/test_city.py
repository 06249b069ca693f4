"""The generated city (bench/city.py): its plan is deterministic in the seed, 海州区 rises from 10 to
100 a day, and replayed through the services twice it leaves the same city (figures, not ids)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bench import city
from chalicelib.clock import SHANGHAI
from tests.unit.support import memory_runtime

START = datetime(2026, 10, 5, tzinfo=SHANGHAI)


def test_the_plan_is_the_same_for_a_seed_and_differs_for_another():
    assert city.plan(30, 7, START) == city.plan(30, 7, START)
    assert city.plan(30, 7, START) != city.plan(30, 8, START)


def test_haizhou_rises_from_10_to_100_a_day_and_the_channels_follow_the_mix():
    filed = city.plan(365, 17, START)
    per_day = Counter(f.at.date() for f in filed if f.district == city.HAIZHOU)
    days = sorted(per_day)
    assert (per_day[days[0]], per_day[days[-1]]) == (10, 100)
    assert all(per_day[a] <= per_day[b] for a, b in zip(days, days[1:], strict=False))
    channels = Counter(f.channel for f in filed)
    for channel, share in city.MIX:
        assert abs(channels[channel] / len(filed) - share) < 0.02, channel
    assert {f.fate for f in filed} == {fate for fate, _ in city.FATES}


def replay(seed: int) -> tuple[dict, dict, int, dict]:
    runtime = memory_runtime()
    runtime.clock.at = START
    out = city.run(city.plan(14, seed, START, scale=0.1), runtime)
    return city.summary(runtime, out.ids), dict(out.actions), out.fired, dict(out.refused)


def test_a_replayed_fortnight_leaves_the_same_city_and_every_planned_action_is_accepted():
    first, again = replay(3), replay(3)
    assert first == again
    summary, actions, fired, refused = first
    assert refused == {}  # the state machine took every action the plan made, as planned
    # late departments, returns, extensions and reopened petitions all happened, and the sweep fired
    assert actions["return"] > 0 and actions["extension/decision"] > 0 and fired > 0
    assert summary["status"].get("closed", 0) > 0
