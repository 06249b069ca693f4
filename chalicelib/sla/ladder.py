"""What the clock does to a petition: the steps of its current stage's ladder that have come due.

Pure. Each stage (dispatch, accept, resolve, reopen) runs four steps on its own
clock — reminder (催办) at 75% of the budget, supervision notice (督办) at due
with a violation against the unit, escalation to the district's chief handler
1 working day after due, to the city's 3 working days after due — and nothing
after the city's chief. ``StageClock.fired`` counts the steps already fired, so
a step fires once per stage instance; a late sweep fires every step that came
due, in order, in one outcome.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.clock import iso, parse_instant
from chalicelib.petitions.domain import LEVELS, Env, Notice, Outcome, Petition, Violation, fallback
from chalicelib.timing.policy import STEP_NAMES, Step
from chalicelib.timing.stage import StageClock

# A stage overdue is a violation of this kind against the unit holding it (问责记录).
VIOLATION_KIND = {
    "dispatch": "slow_dispatch",
    "accept": "refused_order",  # 拒不接单
    "resolve": "slow_handling",
    "reopen": "slow_handling",
}


def steps(p: Petition, env: Env) -> list[Step]:
    """The four planned steps of the petition's running stage (empty when no clock runs)."""
    clock = p.stage
    if clock is None or not clock.running:
        return []
    return env.policy.ladder(
        p.district,
        p.priority,
        clock.name,
        env.calendar,
        parse_instant(clock.started_at),
        consumed_seconds=clock.consumed,
        budget_seconds=clock.budget,
    )


def next_due(p: Petition, env: Env) -> datetime | None:
    """When the next step fires, or None when the stage is done with its ladder or paused."""
    planned = steps(p, env)
    fired = p.stage.fired if p.stage else 0
    return planned[fired].at if fired < len(planned) else None


def unit_of(p: Petition) -> str:
    """Who answers for the stage: the department holding it, or the district's dispatch desk."""
    return p.department or f"{p.district}.dispatch"


def fire_due(p: Petition, env: Env) -> Outcome | None:
    if p.status in ("closed", "merged") or p.stage is None:
        return None
    planned = steps(p, env)
    clock: StageClock = p.stage
    due = [(i, s) for i, s in enumerate(planned) if i >= clock.fired and s.at <= env.now]
    if not due:
        return None
    if clock.name == "claim":
        return _claim_due(p, env, due)
    events: list[dict] = []
    notes: list[Notice] = []
    violations: list[Violation] = []
    level = p.escalation_level
    for index, step in due:
        base = {
            "at": iso(env.now),
            "actor": "system:sla",
            "stage": clock.name,
            "step": STEP_NAMES[index],
            "due_at": clock.due_at,
            "planned_at": iso(step.at),
        }
        holder = unit_of(p)
        attrs = {"district": p.district, "department": holder}
        if index == 0:
            events.append({**base, "type": "reminder", "to": holder})
            notes.append(_notice("reminder", p, attrs, level="district"))
        elif index == 1:
            events.append(
                {**base, "type": "supervision_notice", "to": holder, "supervisor": f"supervisor@{p.district}"}
            )
            kind = VIOLATION_KIND[clock.name]
            events.append({**base, "type": "violation", "kind": kind, "unit": holder})
            violations.append(
                {
                    "kind": kind,
                    "unit": holder,
                    "district": p.district,
                    "stage": clock.name,
                    "at": iso(env.now),
                }
            )
            notes.append(_notice("supervision_notice", p, attrs, level="district"))
        else:
            target = "district" if index == 2 else "city"
            if target == "district" and p.district == env.city:
                target = "city"
            chief = f"chief@{p.district}" if target == "district" else f"chief@{env.city}"
            if LEVELS.index(target) > LEVELS.index(level):
                level = target
            events.append({**base, "type": "escalated", "level": target, "chief": chief})
            notes.append(_notice("escalation", p, attrs, level=target))
    fired = due[-1][0] + 1
    nxt = replace(p, stage=replace(clock, fired=fired), escalation_level=level, updated_at=iso(env.now))
    return Outcome(nxt, events, notes, violations=violations)


def _claim_due(p: Petition, env: Env, due: list[tuple[int, Step]]) -> Outcome:
    """The claim pool's clock (部门报到, §10): at 75% of ``claim_within`` a reminder to the district's
    handlers (kind ``pool``); at ``claim_within`` — not before — the district's center takes it (兜底)."""
    if due[-1][0] >= 1:
        return fallback(p, env)
    clock = p.stage
    assert clock is not None
    step = due[-1][1]
    event = {
        "type": "reminder",
        "at": iso(env.now),
        "actor": "system:sla",
        "stage": "claim",
        "step": STEP_NAMES[0],
        "due_at": clock.due_at,
        "planned_at": iso(step.at),
        "to": f"{p.district}.pool",
    }
    note: Notice = {
        "kind": "pool",
        "channel": "topic",
        "topic": "orders",
        "attributes": {"kind": "pool", "district": p.district, "department": f"{p.district}.pool"},
        "template": "pool_reminder",
        "values": {"id": p.id, "district": p.district, "due": clock.due_at or ""},
    }
    nxt = replace(p, stage=replace(clock, fired=1), updated_at=iso(env.now))
    return Outcome(nxt, [event], [note])


def _notice(kind: str, p: Petition, attrs: dict, level: str) -> Notice:
    return {
        "kind": kind,
        "channel": "topic",
        "topic": "supervision",
        "attributes": {"kind": kind, **attrs, "level": level},
        "template": kind,
        "values": {
            "id": p.id,
            "department": attrs["department"],
            "stage": p.stage.name if p.stage else "",
            "due": p.stage.due_at if p.stage else "",
            "level": level,
        },
    }
