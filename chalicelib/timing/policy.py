"""The SLA policy as data, and the pure planning of a stage's reminder/escalation ladder.

``data/policy.json`` holds, per priority (``normal``, ``urgent``), each stage's budget
(``dispatch``, ``accept``, ``resolve``, ``reopen``) with its unit, the reminder
fraction, the escalation ladder after the due time, and the return limit; a
district may override any of these per priority (``overrides``, keyed by the
six-digit administrative division code). Keys starting with ``_`` are comments.

A stage's clock (CONTRACT §5) fires at most four steps, each at the instant the
clock has consumed a threshold of time:

=====================  ==============================
step                   threshold consumed
=====================  ==============================
``reminder``           ``reminder_fraction × budget``
``supervision_notice``  ``budget`` (the due time)
``escalate_district``  ``budget + district_chief_after``
``escalate_city``      ``budget + city_chief_after``
=====================  ==============================

Time is counted in the priority's unit: ``working_seconds`` (time on working days
of the ``WorkingCalendar``) or ``calendar_seconds`` (plain elapsed time).

Suspension: a stage clock is ``(started_at, consumed_seconds)``. Pausing at ``p``
adds ``elapsed(started_at, p)`` to ``consumed_seconds`` (``stage.remaining`` tells
what is left); resuming at ``r`` re-plans with ``plan_steps(..., started_at=r,
consumed_seconds=...)``, which gives back exactly the remaining budget: every
pending step moves on by exactly the working time of the pause.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.timing.calendar import Deadline, WorkingCalendar

POLICY_FILE = Path(__file__).resolve().parent / "data" / "policy.json"

PRIORITIES = ("normal", "urgent")
STAGES = ("dispatch", "accept", "resolve", "reopen")
WORKING_SECONDS = "working_seconds"
CALENDAR_SECONDS = "calendar_seconds"
UNITS = (WORKING_SECONDS, CALENDAR_SECONDS)
STEP_NAMES = ("reminder", "supervision_notice", "escalate_district", "escalate_city")

# No budget or ladder offset may exceed a year: a typo (an extra zero) must fail loudly.
MAX_SECONDS = 366 * 86400

_SCALARS = ("reminder_fraction", "district_chief_after", "city_chief_after", "return_limit")
# 部门报到 (§10): how long a whistled petition waits in the claim pool before the district's center
# takes it — the budget of the ``claim`` stage, in the priority's unit; 4 working hours by default.
CLAIM_STAGE = "claim"
DEFAULT_CLAIM_WITHIN = 4 * 3600
_DISTRICT_CODE = re.compile(r"^\d{6}$")


class PolicyError(ValueError):
    """An invalid policy document; ``path`` names the offending value (``normal.resolve.budget``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path


@dataclass(frozen=True)
class StageRule:
    budget: int
    unit: str


@dataclass(frozen=True)
class PriorityPolicy:
    """Everything the policy says about one priority (for one district, overrides applied)."""

    stages: Mapping[str, StageRule]
    reminder_fraction: float
    district_chief_after: int
    city_chief_after: int
    return_limit: int

    @property
    def unit(self) -> str:
        """The unit of the whole ladder (validation makes all stages share it)."""
        return self.stages[STAGES[0]].unit


@dataclass(frozen=True)
class Step:
    name: str
    at: datetime
    provisional: bool


# --- time in a unit ---------------------------------------------------------------------------------


def advance(calendar: WorkingCalendar, unit: str, start: datetime, seconds: int) -> Deadline:
    """``start`` plus ``seconds`` counted in ``unit``."""
    if unit == WORKING_SECONDS:
        return calendar.add_working_seconds(start, seconds)
    if unit == CALENDAR_SECONDS:
        return calendar.add_calendar_seconds(start, seconds)
    raise ValueError(f"unknown unit {unit!r}")


def elapsed(calendar: WorkingCalendar, unit: str, a: datetime, b: datetime) -> int:
    """Whole seconds counted in ``unit`` within ``[a, b)``; 0 if ``b <= a``."""
    if unit == WORKING_SECONDS:
        return calendar.working_seconds_between(a, b)
    if unit == CALENDAR_SECONDS:
        return calendar.calendar_seconds_between(a, b)
    raise ValueError(f"unknown unit {unit!r}")


def plan_steps(
    calendar: WorkingCalendar,
    rule: StageRule,
    started_at: datetime,
    budget_seconds: int,
    district_after: int,
    city_after: int,
    reminder_fraction: float,
    *,
    consumed_seconds: int = 0,
) -> list[Step]:
    """The four firings of a stage clock, in order.

    ``budget_seconds`` is normally ``rule.budget`` (more after an approved extension);
    ``rule.unit`` says how time counts. ``consumed_seconds`` is what the clock used before
    ``started_at`` (0 for a fresh stage; after a suspension, ``budget - stage.remaining``).
    A step whose threshold was already consumed before ``started_at`` is planned at
    ``started_at``: it fires on resume unless it already fired (firings are idempotent
    per (petition, stage, step), so planning it again is safe).
    """
    for name, value in (("budget_seconds", budget_seconds), ("consumed_seconds", consumed_seconds)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    thresholds = (
        round(reminder_fraction * budget_seconds),
        budget_seconds,
        budget_seconds + district_after,
        budget_seconds + city_after,
    )
    steps = []
    for name, threshold in zip(STEP_NAMES, thresholds, strict=True):
        deadline = advance(calendar, rule.unit, started_at, max(threshold - consumed_seconds, 0))
        steps.append(Step(name, deadline.at, deadline.provisional))
    return steps


# --- the policy document ----------------------------------------------------------------------------


class Policy:
    """The validated policy; immutable. Build with ``Policy.bundled()`` or ``Policy.from_dict``."""

    def __init__(
        self,
        defaults: dict[str, PriorityPolicy],
        overrides: dict[str, dict[str, PriorityPolicy]],
        document: dict[str, Any],
    ) -> None:
        self._defaults = defaults
        self._overrides = overrides
        self._document = document

    @classmethod
    def bundled(cls) -> Policy:
        return _bundled()

    @classmethod
    def from_dict(cls, d: Any) -> Policy:
        """Validate and build; raises ``PolicyError`` with the path of the first bad value."""
        _require_mapping(d, "")
        _reject_unknown(d, "", {*PRIORITIES, "overrides"})
        defaults: dict[str, PriorityPolicy] = {}
        for priority in PRIORITIES:
            if priority not in d:
                raise PolicyError(priority, "missing")
            defaults[priority] = _parse_priority(d[priority], priority)

        overrides: dict[str, dict[str, PriorityPolicy]] = {}
        raw_overrides = d.get("overrides", {})
        _require_mapping(raw_overrides, "overrides")
        for code, raw in raw_overrides.items():
            if code.startswith("_"):
                continue
            path = f"overrides.{code}"
            if not _DISTRICT_CODE.match(code):
                raise PolicyError(path, "a district is keyed by its six-digit administrative division code")
            _require_mapping(raw, path)
            _reject_unknown(raw, path, set(PRIORITIES))
            overrides[code] = {
                priority: _parse_priority(
                    _merge(d[priority], raw[priority], f"{path}.{priority}"), f"{path}.{priority}"
                )
                for priority in PRIORITIES
                if priority in raw
            }
        return cls(defaults, overrides, copy.deepcopy(dict(d)))

    def to_dict(self) -> dict[str, Any]:
        """The document it was built from (comments included)."""
        return copy.deepcopy(self._document)

    @property
    def districts_with_overrides(self) -> tuple[str, ...]:
        return tuple(sorted(self._overrides))

    def for_(self, district: str | None, priority: str) -> PriorityPolicy:
        """The policy for ``priority`` in ``district`` (``None`` or an unlisted district: the defaults)."""
        if priority not in self._defaults:
            raise PolicyError("", f"unknown priority {priority!r}; expected one of {PRIORITIES}")
        if district is not None and priority in self._overrides.get(district, {}):
            return self._overrides[district][priority]
        return self._defaults[priority]

    def stage(self, district: str | None, priority: str, stage: str) -> StageRule:
        stages = self.for_(district, priority).stages
        if stage not in stages:
            raise PolicyError("", f"unknown stage {stage!r}; expected one of {STAGES}")
        return stages[stage]

    def reminder_fraction(self, district: str | None, priority: str) -> float:
        return self.for_(district, priority).reminder_fraction

    def return_limit(self, district: str | None, priority: str) -> int:
        return self.for_(district, priority).return_limit

    def ladder(
        self,
        district: str | None,
        priority: str,
        stage: str,
        calendar: WorkingCalendar,
        started_at: datetime,
        *,
        consumed_seconds: int = 0,
        budget_seconds: int | None = None,
    ) -> list[Step]:
        """``plan_steps`` with this policy's values.

        ``budget_seconds`` replaces the stage budget (an approved extension adds to it).
        """
        pp = self.for_(district, priority)
        rule = self.stage(district, priority, stage)
        return plan_steps(
            calendar,
            rule,
            started_at,
            rule.budget if budget_seconds is None else budget_seconds,
            pp.district_chief_after,
            pp.city_chief_after,
            pp.reminder_fraction,
            consumed_seconds=consumed_seconds,
        )


@cache
def _bundled() -> Policy:
    return Policy.from_dict(json.loads(POLICY_FILE.read_text(encoding="utf-8")))


def _require_mapping(value: Any, path: str) -> None:
    if not isinstance(value, Mapping):
        raise PolicyError(path, f"expected an object, got {type(value).__name__}")


def _reject_unknown(value: Mapping[str, Any], path: str, allowed: set[str]) -> None:
    for key in value:
        if not isinstance(key, str) or (not key.startswith("_") and key not in allowed):
            where = f"{path}.{key}" if path else str(key)
            raise PolicyError(where, f"unknown key; expected one of {sorted(allowed)}")


def _merge(base: Mapping[str, Any], override: Any, path: str) -> dict[str, Any]:
    """A priority block with a district's partial override laid over it (stages merged key by key)."""
    _require_mapping(override, path)
    merged = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in override.items():
        if key in STAGES and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _int_seconds(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(path, f"expected a whole number of seconds, got {value!r}")
    if not 0 < value <= MAX_SECONDS:
        raise PolicyError(path, f"expected 1..{MAX_SECONDS} seconds, got {value}")
    return value


def _parse_priority(raw: Any, path: str) -> PriorityPolicy:
    _require_mapping(raw, path)
    _reject_unknown(raw, path, {*STAGES, *_SCALARS, "claim_within"})
    stages: dict[str, StageRule] = {}
    for stage in STAGES:
        spath = f"{path}.{stage}"
        if stage not in raw:
            raise PolicyError(spath, "missing")
        block = raw[stage]
        _require_mapping(block, spath)
        _reject_unknown(block, spath, {"budget", "unit"})
        if "budget" not in block:
            raise PolicyError(f"{spath}.budget", "missing")
        if "unit" not in block:
            raise PolicyError(f"{spath}.unit", "missing")
        budget = _int_seconds(block["budget"], f"{spath}.budget")
        unit = block["unit"]
        if unit not in UNITS:
            raise PolicyError(f"{spath}.unit", f"expected one of {UNITS}, got {unit!r}")
        stages[stage] = StageRule(budget, unit)
    units = [stages[s].unit for s in STAGES]
    if len(set(units)) > 1:
        # Name a stage in the minority: usually the one a document or an override changed.
        majority = max(units, key=units.count)
        odd = next(s for s in STAGES if stages[s].unit != majority)
        raise PolicyError(
            f"{path}.{odd}.unit",
            "all stages of a priority share one unit, because the escalation ladder counts in it",
        )

    claim_within = _int_seconds(raw.get("claim_within", DEFAULT_CLAIM_WITHIN), f"{path}.claim_within")
    stages[CLAIM_STAGE] = StageRule(claim_within, units[0])
    for key in _SCALARS:
        if key not in raw:
            raise PolicyError(f"{path}.{key}", "missing")
    fraction = raw["reminder_fraction"]
    if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 < fraction < 1:
        raise PolicyError(
            f"{path}.reminder_fraction", f"expected a number strictly between 0 and 1, got {fraction!r}"
        )
    district_after = _int_seconds(raw["district_chief_after"], f"{path}.district_chief_after")
    city_after = _int_seconds(raw["city_chief_after"], f"{path}.city_chief_after")
    if city_after <= district_after:
        raise PolicyError(
            f"{path}.city_chief_after",
            f"must come after district_chief_after ({district_after}), got {city_after}",
        )
    limit = raw["return_limit"]
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise PolicyError(f"{path}.return_limit", f"expected a positive whole number, got {limit!r}")
    return PriorityPolicy(stages, float(fraction), district_after, city_after, limit)
