"""The SLA policy as data, the step ladder, and suspension arithmetic."""

from __future__ import annotations

import copy
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.timing.calendar import WorkingCalendar
from chalicelib.timing.policy import (
    CALENDAR_SECONDS,
    STEP_NAMES,
    WORKING_SECONDS,
    Policy,
    PolicyError,
    StageRule,
    Step,
    advance,
    elapsed,
    plan_steps,
)

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400


def remaining_at(cal, rule, started_at, budget, paused_at, *, consumed_seconds: int = 0) -> int:
    """What is left of a stage clock running since ``started_at`` when paused at ``paused_at``."""
    from chalicelib.clock import iso
    from chalicelib.timing.stage import StageClock, remaining

    clock = StageClock("resolve", rule.unit, budget, iso(started_at), consumed=consumed_seconds)
    return remaining(cal, clock, paused_at)


POLICY_JSON = Path(__file__).resolve().parents[2] / "chalicelib/timing/data/policy.json"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.bundled()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.bundled()


def document() -> dict[str, Any]:
    return json.loads(POLICY_JSON.read_text(encoding="utf-8"))


HALF_DAY = DAY // 2


def with_override() -> dict[str, Any]:
    """The shipped document plus a test-only override: 210902 dispatches normal petitions in half a day.

    The shipped policy adopts no override (CONTRACT §5: "1 working day to dispatch" everywhere);
    the mechanism is tested on this document of our own.
    """
    d = document()
    d["overrides"]["210902"] = {"normal": {"dispatch": {"budget": HALF_DAY}}}
    return d


@pytest.fixture(scope="module")
def overridden() -> Policy:
    return Policy.from_dict(with_override())


# --- the bundled policy ---------------------------------------------------------------------------------


def test_bundled_policy_validates_and_says_1_1_7(policy: Policy) -> None:
    for stage, budget in {"dispatch": DAY, "accept": DAY, "resolve": 7 * DAY, "reopen": 7 * DAY}.items():
        assert policy.stage(None, "normal", stage) == StageRule(budget, WORKING_SECONDS)
    for stage, budget in {"dispatch": 1800, "accept": 1800, "resolve": DAY, "reopen": DAY}.items():
        assert policy.stage(None, "urgent", stage) == StageRule(budget, CALENDAR_SECONDS)
    normal = policy.for_(None, "normal")
    assert (
        normal.reminder_fraction,
        normal.district_chief_after,
        normal.city_chief_after,
        normal.return_limit,
    ) == (
        0.75,
        DAY,
        3 * DAY,
        3,
    )
    urgent = policy.for_(None, "urgent")
    assert (urgent.district_chief_after, urgent.city_chief_after, urgent.unit) == (
        7200,
        21600,
        CALENDAR_SECONDS,
    )
    assert policy.reminder_fraction("210902", "urgent") == 0.75
    assert policy.return_limit(None, "normal") == 3


def test_bundled_policy_round_trips(policy: Policy) -> None:
    assert policy.to_dict() == document()
    again = Policy.from_dict(policy.to_dict())
    assert again.districts_with_overrides == ()
    assert again.stage("210902", "normal", "dispatch") == StageRule(DAY, WORKING_SECONDS)


def test_bundled_policy_adopts_no_district_override(policy: Policy) -> None:
    # CONTRACT §5: "1 working day to dispatch" — the demo district included.
    assert policy.districts_with_overrides == ()
    overrides = document()["overrides"]
    assert "_note" in overrides
    assert [k for k in overrides if not k.startswith("_")] == []
    for district in ("210902", "210903", "210900"):
        for priority in ("normal", "urgent"):
            assert policy.for_(district, priority) == policy.for_(None, priority)
    assert policy.stage("210902", "normal", "dispatch") == StageRule(DAY, WORKING_SECONDS)


def test_override_round_trips(overridden: Policy) -> None:
    assert overridden.to_dict() == with_override()
    again = Policy.from_dict(overridden.to_dict())
    assert again.districts_with_overrides == ("210902",)
    assert again.stage("210902", "normal", "dispatch").budget == HALF_DAY


def test_override_applies_only_to_its_district_priority_and_stage(overridden: Policy) -> None:
    assert overridden.districts_with_overrides == ("210902",)
    assert overridden.stage("210902", "normal", "dispatch") == StageRule(HALF_DAY, WORKING_SECONDS)
    # The other stages of that priority keep the defaults (stage blocks merge key by key) ...
    assert overridden.stage("210902", "normal", "accept") == StageRule(DAY, WORKING_SECONDS)
    assert overridden.stage("210902", "normal", "resolve") == StageRule(7 * DAY, WORKING_SECONDS)
    assert overridden.stage("210902", "normal", "reopen") == StageRule(7 * DAY, WORKING_SECONDS)
    # ... and so do the scalars, the other priority, the other districts and the defaults.
    assert overridden.return_limit("210902", "normal") == 3
    assert overridden.reminder_fraction("210902", "normal") == 0.75
    assert overridden.stage("210902", "urgent", "dispatch") == StageRule(1800, CALENDAR_SECONDS)
    assert overridden.stage("210903", "normal", "dispatch") == StageRule(DAY, WORKING_SECONDS)
    assert overridden.stage(None, "normal", "dispatch") == StageRule(DAY, WORKING_SECONDS)


def test_override_can_change_scalars_too() -> None:
    d = with_override()
    d["overrides"]["210903"] = {"urgent": {"reminder_fraction": 0.5, "return_limit": 2}}
    p = Policy.from_dict(d)
    assert p.reminder_fraction("210903", "urgent") == 0.5
    assert p.return_limit("210903", "urgent") == 2
    assert p.reminder_fraction("210903", "normal") == 0.75
    assert p.reminder_fraction("210902", "urgent") == 0.75
    assert p.stage("210903", "urgent", "dispatch") == StageRule(1800, CALENDAR_SECONDS)
    assert p.stage("210902", "normal", "dispatch") == StageRule(HALF_DAY, WORKING_SECONDS)
    assert p.districts_with_overrides == ("210902", "210903")


def test_unknown_priority_or_stage_is_an_error(policy: Policy) -> None:
    with pytest.raises(PolicyError, match="unknown priority 'critical'"):
        policy.for_(None, "critical")
    with pytest.raises(PolicyError, match="unknown stage 'review'"):
        policy.stage(None, "normal", "review")


def _set(d: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        d = d.setdefault(key, {})
    if value is _DELETE:
        del d[last]
    else:
        d[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("normal.resolve.budget", -1, "normal.resolve.budget"),
        ("normal.resolve.budget", 0, "normal.resolve.budget"),
        ("normal.resolve.budget", "7d", "normal.resolve.budget"),
        ("normal.resolve.budget", True, "normal.resolve.budget"),
        ("normal.resolve.budget", 6048000000, "normal.resolve.budget"),
        ("normal.resolve.budget", _DELETE, "normal.resolve.budget"),
        ("normal.resolve.unit", "days", "normal.resolve.unit"),
        ("normal.resolve.unit", CALENDAR_SECONDS, "normal.resolve.unit"),
        ("normal.accept", _DELETE, "normal.accept"),
        ("normal.resolv", {"budget": 1, "unit": WORKING_SECONDS}, "normal.resolv"),
        ("urgent.reminder_fraction", 1.5, "urgent.reminder_fraction"),
        ("urgent.reminder_fraction", 0, "urgent.reminder_fraction"),
        ("normal.city_chief_after", DAY, "normal.city_chief_after"),
        ("normal.district_chief_after", 0.5, "normal.district_chief_after"),
        ("urgent.return_limit", 0, "urgent.return_limit"),
        ("urgent", _DELETE, "urgent"),
        ("overrides.210902.normal.dispatch.budget", 0, "overrides.210902.normal.dispatch.budget"),
        ("overrides.210902.normal.dispatch.unit", CALENDAR_SECONDS, "overrides.210902.normal.dispatch.unit"),
        ("overrides.210902.urgent.resolve.unit", "hours", "overrides.210902.urgent.resolve.unit"),
        ("overrides.210902.critical", {}, "overrides.210902.critical"),
        ("overrides.Haizhou", {"normal": {}}, "overrides.Haizhou"),
        ("overrides.210903.normal.city_chief_after", 1, "overrides.210903.normal.city_chief_after"),
        ("overrides.210902.normal.dispatch.budget", "12h", "overrides.210902.normal.dispatch.budget"),
        ("overrides.210902.normal.dispatch.deadline", 1, "overrides.210902.normal.dispatch.deadline"),
        ("overrides.210902.normal.return_limit", 0, "overrides.210902.normal.return_limit"),
        ("overrides.210902.normal", [], "overrides.210902.normal"),
        ("overrides.210902", "strict", "overrides.210902"),
        ("overrides.21090", {"normal": {}}, "overrides.21090"),
    ],
)
def test_invalid_values_are_rejected_with_the_path_named(path: str, value: Any, named: str) -> None:
    d = copy.deepcopy(with_override())  # the override paths are checked on an existing override too
    _set(d, path, value)
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(d)
    assert info.value.path == named
    assert str(info.value).startswith(f"{named}: ")


# --- the step ladder: worked examples -------------------------------------------------------------------


def test_normal_dispatch_received_friday_morning(cal: WorkingCalendar, policy: Policy) -> None:
    # 75% of 86400 = 64800 working s: Friday has 14 h (50400 s) left, the other 4 h fall on Monday.
    steps = policy.ladder(None, "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    assert steps == [
        Step("reminder", sh(2026, 11, 23, 4), False),
        Step("supervision_notice", sh(2026, 11, 23, 10), False),
        Step("escalate_district", sh(2026, 11, 24, 10), False),
        Step("escalate_city", sh(2026, 11, 26, 10), False),
    ]


def test_plan_steps_directly_matches_the_policy_ladder(cal: WorkingCalendar, policy: Policy) -> None:
    rule = policy.stage(None, "normal", "dispatch")
    direct = plan_steps(cal, rule, sh(2026, 11, 20, 10), rule.budget, DAY, 3 * DAY, 0.75)
    assert direct == policy.ladder(None, "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    assert [s.name for s in direct] == list(STEP_NAMES)


def test_stricter_district_dispatch(cal: WorkingCalendar, overridden: Policy, policy: Policy) -> None:
    # A district overriding dispatch to half a working day. 75% = 9 h -> Fri 19:00; due Fri 22:00.
    steps = overridden.ladder("210902", "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    assert [s.at for s in steps] == [
        sh(2026, 11, 20, 19),
        sh(2026, 11, 20, 22),
        sh(2026, 11, 23, 22),
        sh(2026, 11, 25, 22),
    ]
    # A neighbour without the override, and the shipped policy for 210902, keep 1 working day.
    neighbour = overridden.ladder("210903", "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    shipped = policy.ladder("210902", "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    assert neighbour == shipped == policy.ladder(None, "normal", "dispatch", cal, sh(2026, 11, 20, 10))
    assert shipped[1].at == sh(2026, 11, 23, 10)


def test_urgent_dispatch_ladder_counts_calendar_time(cal: WorkingCalendar, policy: Policy) -> None:
    steps = policy.ladder(None, "urgent", "dispatch", cal, sh(2026, 11, 20, 23, 50))
    assert [s.at for s in steps] == [
        sh(2026, 11, 21, 0, 12, 30),  # 1350 s
        sh(2026, 11, 21, 0, 20),  # 30 min
        sh(2026, 11, 21, 2, 20),  # + 2 h
        sh(2026, 11, 21, 6, 20),  # + 6 h
    ]
    assert not any(s.provisional for s in steps)


def test_resolve_over_national_day(cal: WorkingCalendar, policy: Policy) -> None:
    steps = policy.ladder(None, "normal", "resolve", cal, sh(2026, 9, 30, 15))
    assert steps[1].at == sh(2026, 10, 15, 15)


def test_steps_into_a_year_without_notice_are_provisional(cal: WorkingCalendar, policy: Policy) -> None:
    steps = policy.ladder(None, "normal", "resolve", cal, sh(2026, 12, 21, 10))
    # 7 working days from Mon 12-21 10:00: due Wed 12-30 10:00 inside 2026; the city step reaches 2027.
    assert steps[1] == Step("supervision_notice", sh(2026, 12, 30, 10), False)
    assert steps[3].provisional


def test_extension_moves_the_resolve_due_time_on(cal: WorkingCalendar, policy: Policy) -> None:
    rule = policy.stage(None, "normal", "resolve")
    steps = policy.ladder(
        None, "normal", "resolve", cal, sh(2026, 11, 23, 10), budget_seconds=rule.budget + 2 * DAY
    )
    assert steps[1].at == sh(2026, 12, 4, 10)  # 9 working days from Mon 11-23 10:00


def test_suspension_worked_example(cal: WorkingCalendar, policy: Policy) -> None:
    # Resolve stage from Mon 11-23 10:00 (due Wed 12-02 10:00), suspended Wed 11-25 10:00 (2 days used),
    # resumed Mon 11-30 10:00 (3 working days of pause): 5 days left, due Mon 12-07 10:00.
    rule = policy.stage(None, "normal", "resolve")
    start, paused, resumed = sh(2026, 11, 23, 10), sh(2026, 11, 25, 10), sh(2026, 11, 30, 10)
    assert policy.ladder(None, "normal", "resolve", cal, start)[1].at == sh(2026, 12, 2, 10)
    left = remaining_at(cal, rule, start, rule.budget, paused)
    assert left == 5 * DAY
    after = policy.ladder(None, "normal", "resolve", cal, resumed, consumed_seconds=rule.budget - left)
    assert after[1].at == sh(2026, 12, 7, 10)


def test_steps_already_passed_before_a_pause_are_planned_at_resume(cal: WorkingCalendar) -> None:
    rule = StageRule(DAY, WORKING_SECONDS)
    steps = plan_steps(cal, rule, sh(2026, 11, 30, 9), DAY, DAY, 3 * DAY, 0.75, consumed_seconds=DAY + 3600)
    assert [s.at for s in steps[:2]] == [sh(2026, 11, 30, 9)] * 2
    assert steps[2].at == sh(2026, 12, 1, 8)  # 23 h of the district threshold left


def test_overdue_at_pause_gives_a_negative_remainder(cal: WorkingCalendar) -> None:
    rule = StageRule(DAY, WORKING_SECONDS)
    assert remaining_at(cal, rule, sh(2026, 11, 23, 10), DAY, sh(2026, 11, 25, 10)) == -DAY


def test_plan_steps_rejects_negative_amounts(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="consumed_seconds"):
        plan_steps(
            cal,
            StageRule(DAY, WORKING_SECONDS),
            sh(2026, 11, 23),
            DAY,
            DAY,
            3 * DAY,
            0.75,
            consumed_seconds=-1,
        )


# --- properties -----------------------------------------------------------------------------------------

_MIN, _MAX = datetime(2025, 12, 1), datetime(2026, 12, 20)
instants = st.one_of(
    st.datetimes(min_value=_MIN, max_value=_MAX, timezones=st.just(SH)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(min_value=_MIN.date(), max_value=_MAX.date()).map(lambda d: datetime.combine(d, time(), SH)),
)
gaps = st.one_of(
    st.integers(0, 12 * DAY).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 12).map(lambda d: timedelta(days=d)),
)
rules = st.one_of(
    st.builds(
        StageRule,
        st.integers(1, 10).map(lambda d: d * DAY) | st.integers(1, 10 * DAY),
        st.just(WORKING_SECONDS),
    ),
    st.builds(StageRule, st.integers(1, 2 * DAY), st.just(CALENDAR_SECONDS)),
)


@settings(max_examples=300, deadline=None)
@given(rule=rules, start=instants, to_pause=gaps, pause=gaps)
def test_pause_then_resume_gives_back_exactly_the_remaining_at(
    cal: WorkingCalendar, rule: StageRule, start: datetime, to_pause: timedelta, pause: timedelta
) -> None:
    paused, resumed = start + to_pause, start + to_pause + pause
    budget, district_after, city_after = rule.budget, rule.budget // 2 + 1, rule.budget + 1
    used = elapsed(cal, rule.unit, start, paused)
    left = remaining_at(cal, rule, start, budget, paused)
    assert used + left == budget

    before = plan_steps(cal, rule, start, budget, district_after, city_after, 0.75)
    after = plan_steps(
        cal, rule, resumed, budget, district_after, city_after, 0.75, consumed_seconds=budget - left
    )
    if left >= 0:
        # Time counted before the pause plus time counted after the resume is the whole budget.
        assert used + elapsed(cal, rule.unit, resumed, after[1].at) == budget
    pause_time = elapsed(cal, rule.unit, paused, resumed)
    thresholds = (round(0.75 * budget), budget, budget + district_after, budget + city_after)
    for old, new, threshold in zip(before, after, thresholds, strict=True):
        if threshold > used:
            # Still pending at the pause: moves on by exactly the counted time of the pause.
            assert new.at == advance(cal, rule.unit, old.at, pause_time).at
        else:
            assert new.at == resumed


@settings(max_examples=200, deadline=None)
@given(rule=rules, start=instants)
def test_steps_are_in_order_and_not_provisional_inside_known_years(
    cal: WorkingCalendar, rule: StageRule, start: datetime
) -> None:
    steps = plan_steps(cal, rule, start, rule.budget, DAY, 3 * DAY, 0.75)
    assert [s.name for s in steps] == list(STEP_NAMES)
    assert all(a.at <= b.at for a, b in zip(steps, steps[1:], strict=False))
    if steps[-1].at.year <= 2026:
        assert not any(s.provisional for s in steps)
