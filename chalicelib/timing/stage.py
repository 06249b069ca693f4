"""A petition's stage clock (dispatch, accept, resolve, reopen): start, pause, resume, extend.

A running stage is ``(started_at, budget, consumed)``: the clock has used
``consumed`` seconds before ``started_at`` and runs from there; it is due when
``budget - consumed`` more seconds (working or calendar, by the policy's unit)
have passed. Pausing folds the time since ``started_at`` into ``consumed``;
resuming restarts from the resume instant — so resume gives back exactly the
remaining budget. Pure: the calendar and the instant are passed in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from chalicelib.clock import iso, parse_instant
from chalicelib.timing.calendar import WorkingCalendar
from chalicelib.timing.policy import Policy, advance, elapsed


@dataclass(frozen=True)
class StageClock:
    name: str  # dispatch | accept | resolve | reopen
    unit: str
    budget: int
    started_at: str  # ISO instant of the last (re)start
    consumed: int = 0
    running: bool = True
    due_at: str | None = None
    provisional: bool = False
    total_budget: int = 0  # the budget the ladder is planned on (budget after extensions)
    fired: int = 0  # how many steps of this stage's ladder have fired (reminder, notice, district, city)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> StageClock | None:
        return cls(**d) if d else None


def _due(calendar: WorkingCalendar, clock: StageClock) -> StageClock:
    deadline = advance(
        calendar, clock.unit, parse_instant(clock.started_at), max(clock.budget - clock.consumed, 0)
    )
    return replace(clock, due_at=iso(deadline.at), provisional=deadline.provisional)


def start(
    calendar: WorkingCalendar, policy: Policy, district: str, priority: str, name: str, now: datetime
) -> StageClock:
    rule = policy.stage(district, priority, name)
    clock = StageClock(
        name=name, unit=rule.unit, budget=rule.budget, started_at=iso(now), total_budget=rule.budget
    )
    return _due(calendar, clock)


def recompute(calendar: WorkingCalendar, clock: StageClock) -> StageClock:
    """The same stage under another calendar (a newly loaded year's notice)."""
    return _due(calendar, clock) if clock.running else clock


def pause(calendar: WorkingCalendar, clock: StageClock, now: datetime) -> StageClock:
    if not clock.running:
        return clock
    used = elapsed(calendar, clock.unit, parse_instant(clock.started_at), now)
    return replace(clock, consumed=clock.consumed + used, running=False, due_at=None)


def resume(calendar: WorkingCalendar, clock: StageClock, now: datetime) -> StageClock:
    if clock.running:
        return clock
    return _due(calendar, replace(clock, started_at=iso(now), running=True))


def extend(calendar: WorkingCalendar, clock: StageClock, seconds: int) -> StageClock:
    grown = replace(clock, budget=clock.budget + seconds, total_budget=clock.total_budget + seconds)
    return _due(calendar, grown) if grown.running else grown


def remaining(calendar: WorkingCalendar, clock: StageClock, now: datetime) -> int:
    if not clock.running:
        return clock.budget - clock.consumed
    return clock.budget - clock.consumed - elapsed(calendar, clock.unit, parse_instant(clock.started_at), now)


def sla_state(
    calendar: WorkingCalendar, clock: StageClock | None, now: datetime, reminder_fraction: float
) -> str:
    """on_time / due_soon (the reminder threshold passed) / overdue (past due)."""
    if clock is None:
        return "on_time"
    left = remaining(calendar, clock, now)
    if left < 0 or (clock.running and clock.due_at and now >= parse_instant(clock.due_at)):
        return "overdue"
    if clock.budget and left <= clock.budget * (1 - reminder_fraction):
        return "due_soon"
    return "on_time"
