"""The petition aggregate and the pure function that applies an action to it.

``apply`` checks who may act (role, scope), whether the action fits the current
status, and returns the next petition with the timeline events and the
notifications the change causes. The repository commits all of them in one
conditional transaction. No I/O here: the directory, policy, calendar and the
instant come in through :class:`Env`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from chalicelib.auth.identity import Identity
from chalicelib.clock import iso
from chalicelib.directory.model import Directory
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.petitions.machine import RULES
from chalicelib.timing import stage as stage_clock
from chalicelib.timing.calendar import WorkingCalendar
from chalicelib.timing.policy import Policy
from chalicelib.timing.stage import StageClock

RETURN_REASONS = {
    "jurisdiction": "属地不符",
    "function": "职能不符",
    "incomplete": "信息不全",
    "duplicate": "重复件",
    "other": "其他",
}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
LEVELS = ("none", "district", "city")
WORKING_DAY = 86400


@dataclass(frozen=True)
class Env:
    """Everything the pure domain may know of the world: the instant, the directory, the SLA
    policy and the working calendar (with the notices loaded since deployment). Built in one
    place, the runtime, for the API, the sweep, inbound SMS and calendar loading alike."""

    now: datetime
    directory: Directory
    policy: Policy
    calendar: WorkingCalendar

    @property
    def city(self) -> str:
        """The directory's top district (the city), never a literal."""
        return self.directory.city


class Notice(TypedDict):
    """A notification a change causes: an SMS to a citizen, or a message to a topic."""

    kind: str
    channel: str  # sms | sms_merged (another petition's citizen) | topic
    template: str
    values: dict[str, Any]
    urgent: NotRequired[bool]
    topic: NotRequired[str]
    attributes: NotRequired[dict[str, str]]
    petition: NotRequired[str]  # sms_merged: whose citizen
    merged_from: NotRequired[str]


class Violation(TypedDict):
    """A 问责记录 a change causes, against the unit that answers for the stage."""

    kind: str
    unit: str | None
    district: str
    stage: str
    at: str
    reason: NotRequired[str]


@dataclass
class Effect:
    """What an action does beyond the state machine's table: field changes, the event's data,
    further events, notifications and violations."""

    changes: dict[str, Any] = field(default_factory=dict)
    event: dict[str, Any] = field(default_factory=dict)
    more_events: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[Notice] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


@dataclass(frozen=True)
class Petition:
    id: str
    version: int
    status: str
    channel: str
    district: str
    content: str
    created_at: str
    priority: str = "normal"
    title: str | None = None
    category: str | None = None
    department: str | None = None
    co_departments: tuple[str, ...] = ()
    first_owner: str | None = None
    # 首问负责: the unit and person that received it answer for it to the end, through every
    # transfer and return: {"unit": department code, "user": operator or channel}.
    first_inquiry: dict | None = None
    anonymous: bool = False
    contact: dict = field(
        default_factory=dict
    )  # phone_hash, phone_masked, phone_sealed, name_masked, name_sealed
    location: dict | None = None
    channel_ref: str | None = None
    reported_by: str | None = None
    stage: StageClock | None = None
    escalation_level: str = "none"
    returns: int = 0
    reopens: int = 0
    extension_pending: dict | None = None
    merged_into: str | None = None
    merged: tuple[str, ...] = ()
    awaiting_feedback: bool = False
    rating: str | None = None
    reply: str | None = None
    answered_by: str | None = None  # the desk that answered on the spot (即办)
    last_hash: str = ""
    last_seq: int = 0
    timer_key: str = ""  # the timer last written with this petition (repository bookkeeping)
    # Rollup bookkeeping (supervision/rollups.py), written by the unit of work with each change:
    # the timeline's facts the figures need, and the contribution last added to the counters.
    tally: dict = field(default_factory=dict)
    rolled: dict | None = None
    # 疑难/重点: flagged by a chief handler, on their board until closed: {"by", "note", "at"}.
    key_case: dict | None = None
    updated_at: str | None = None

    @property
    def has_phone(self) -> bool:
        return bool(self.contact.get("phone_sealed"))


@dataclass
class Outcome:
    """A change of one petition (and, for a merge, of others) to be committed as one unit."""

    petition: Petition
    events: list[dict[str, Any]]
    notifications: list[Notice]
    # Other petitions changed in the same transaction (merge), each with its own events.
    others: list[tuple[Petition, list[dict[str, Any]]]] = field(default_factory=list)
    # 问责记录 caused by this change (overdue stages, returns, reopens), queryable per unit.
    violations: list[Violation] = field(default_factory=list)
    # Filled by the unit of work on commit: the outbox records written, for the publisher.
    outbox_ids: list[str] = field(default_factory=list)


# --- who may act ---------------------------------------------------------------------------------------


def can_see(identity, p: Petition, directory) -> bool:
    if identity is None:
        return False
    if identity.is_channel:
        return p.channel == identity.name
    if identity.role in ("auditor", "admin"):
        return True
    if identity.role == "handler":
        return in_pool(identity, p) or (
            identity.department is not None
            and (p.department == identity.department or identity.department in p.co_departments)
        )
    if identity.role == "desk":  # 我首问的诉求: what its unit received
        return identity.department is not None and first_unit(p) == identity.department
    if identity.role == "grid_worker":
        return in_grid(identity, p, directory)
    return directory.covers(identity.district, p.district)


def grid_of(p: Petition) -> str | None:
    return (p.location or {}).get("grid")


def in_grid(identity, p: Petition, directory) -> bool:
    """A grid worker's petitions: those of their grid and the grids below it, and what they filed."""
    return p.reported_by == identity.name or (
        identity.grid is not None and directory.grid_covers(identity.grid, grid_of(p))
    )


def in_pool(identity, p: Petition) -> bool:
    """部门报到: a posted petition is open to every handler of its district, until one claims it."""
    return p.status == "posted" and identity.role == "handler" and identity.district == p.district


def first_unit(p: Petition) -> str | None:
    return (p.first_inquiry or {}).get("unit")


def _may_act(identity, rule, p: Petition, directory) -> None:
    if identity.role not in rule.roles:
        raise Forbidden(f"{identity.role} may not {rule.action}")
    if identity.is_channel:
        if p.channel != identity.name:
            raise NotFound(f"no petition {p.id}")
        return
    if identity.role == "handler" and rule.action == "claim" and p.status == "posted":
        if not in_pool(identity, p):
            raise Forbidden(f"{p.id} is not in the claim pool of {identity.district}")
        return
    if identity.role == "grid_worker":
        if not in_grid(identity, p, directory):
            raise Forbidden(f"{p.id} is outside the grid {identity.grid}")
        return
    if identity.role == "handler":
        if p.department != identity.department:
            raise Forbidden(f"{p.id} is not an order of {identity.department}")
        return
    if identity.role == "desk":
        if first_unit(p) != identity.department:
            raise Forbidden(f"{p.id} was not received by {identity.department}")
        return
    if not directory.covers(identity.district, p.district):
        raise Forbidden(f"{p.id} is outside {identity.district}")


# --- helpers ----------------------------------------------------------------------------------------------


def _event(event_type: str, env: Env, identity, /, **data: Any) -> dict:
    return {
        "type": event_type,
        "at": iso(env.now),
        "actor": identity.actor if identity else "system",
        **{k: v for k, v in data.items() if v is not None},
    }


def _department_for(env: Env, p: Petition, code: str, field_name: str) -> str:
    dep = env.directory.department(code)
    if dep is None:
        raise InvalidInput(f"unknown department {code!r}", field=field_name)
    if dep.district != p.district and not env.directory.is_city(dep.district):
        raise InvalidInput(f"{code} is not a department of {p.district} or of the city", field=field_name)
    return code


def _note(payload: dict, name: str, required: bool = False) -> str | None:
    value = payload.get(name)
    if required and not value:
        raise InvalidInput(f"{name} is required", field=name)
    return value


def _order_notice(kind: str, p: Petition, department: str | None, env: Env, **values: Any) -> Notice:
    """A message to the department holding the order (None only on a malformed petition)."""
    dep = env.directory.department(department or "")
    return {
        "kind": kind,
        "channel": "topic",
        "topic": "orders",
        "attributes": {"kind": kind, "district": p.district, "department": department or ""},
        "template": kind,
        "values": {"id": p.id, "department": dep.name if dep else department, **values},
    }


def _citizen_sms(template: str, p: Petition, **values: Any) -> list[Notice]:
    if not p.has_phone:
        return []  # anonymous without a phone: nothing to send, by design
    return [
        {
            "kind": template,
            "channel": "sms",
            "template": template,
            "values": {"id": p.id, **values},
            "urgent": p.priority == "urgent",
        }
    ]


def _start(env: Env, p: Petition, name: str) -> StageClock:
    return stage_clock.start(env.calendar, env.policy, p.district, p.priority, name, env.now)


# --- the actions -------------------------------------------------------------------------------------


def apply(p: Petition, action: str, identity, payload: dict, env: Env) -> Outcome:
    rule = RULES.get(action)
    if rule is None:
        raise NotFound(f"no action {action!r}")
    _may_act(identity, rule, p, env.directory)
    if p.status not in rule.sources:
        raise Conflict(f"cannot {action} a petition that is {p.status}", code="invalid_state")
    outcome_key, effect = _outcome(rule.action, p, payload, identity, env)
    to, event_type, clock_effect = rule.outcomes[outcome_key]
    changes: dict[str, Any] = dict(effect.changes)
    events: list[dict] = [_event(event_type, env, identity, **effect.event)]
    if action in STAGE_COMPLETING and p.stage is not None:
        # The figures (§6) are computed from events: say which stage this ends and whether in time.
        events[0].update(_completion(p.stage, env))
    events += effect.more_events
    stage = _clock(clock_effect, p, env, changes)
    nxt = replace(
        p,
        status=to or p.status,
        stage=stage,
        updated_at=iso(env.now),
        **changes,
    )
    notes = effect.notifications + _first_inquiry_notice(p, nxt, env)
    return Outcome(nxt, events, notes, violations=effect.violations)


def _first_inquiry_notice(before: Petition, after: Petition, env: Env) -> list[Notice]:
    """The first-inquiry unit hears of each status change of what it received (首问负责到底)."""
    unit = first_unit(after)
    if not unit or before.status == after.status:
        return []
    dep = env.directory.department(unit)
    return [
        {
            "kind": "first_inquiry",
            "channel": "topic",
            "topic": "orders",
            "attributes": {"kind": "first_inquiry", "district": after.district, "department": unit},
            "template": "first_inquiry",
            "values": {"id": after.id, "department": dep.name if dep else unit, "status": after.status},
        }
    ]


STAGE_COMPLETING = ("dispatch", "accept", "resolve", "answer", "whistle", "claim")  # whistle ends dispatch


def _completion(stage: StageClock, env: Env) -> dict:
    left = stage_clock.remaining(env.calendar, stage, env.now)
    return {"stage": stage.name, "stage_due_at": stage.due_at, "on_time": left >= 0}


def _clock(effect: str, p: Petition, env: Env, changes: dict) -> StageClock | None:
    if effect == "none":
        return p.stage
    if effect.startswith("start:"):
        return _start(env, p, effect.split(":", 1)[1])
    if effect == "reopen":
        return _start(env, p, "reopen")
    if effect == "stop":
        return None
    if effect == "pause":
        return stage_clock.pause(env.calendar, p.stage, env.now) if p.stage else None
    if effect == "resume":
        return stage_clock.resume(env.calendar, p.stage, env.now) if p.stage else None
    if effect == "extend":
        seconds = changes.pop("_extend_seconds")
        return stage_clock.extend(env.calendar, p.stage, seconds) if p.stage else None
    raise ValueError(f"unknown clock effect {effect}")


def _outcome(action: str, p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    handler = _HANDLERS.get(action)
    if handler is None:  # merge changes two petitions: the service calls merge_into with the main one
        raise InvalidInput(f"{action} needs the main petition (merge_into)", field="into")
    return handler(p, payload, identity, env)


def _dispatch(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    department = _department_for(env, p, payload["department"], "department")
    co = tuple(
        dict.fromkeys(
            _department_for(env, p, c, "co_departments") for c in payload.get("co_departments") or ()
        )
    )
    if department in co:
        raise InvalidInput("the lead department cannot also be a co-department", field="co_departments")
    changes = {"department": department, "co_departments": co, "first_owner": p.first_owner or department}
    notes = [_order_notice("new_order", p, department, env)]
    notes += [_order_notice("new_order", p, c, env, role="协办") for c in co]
    return "ok", Effect(
        changes=changes,
        notifications=notes,
        event={
            "department": department,
            "co_departments": list(co) or None,
            "note": _note(payload, "note"),
        },
    )


def _accept(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    return "ok", Effect(event={"department": p.department})


def _return(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    reason = payload["reason"]
    if reason not in RETURN_REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(RETURN_REASONS)}", field="reason")
    returns = p.returns + 1
    changes: dict[str, Any] = {
        "department": None,
        "co_departments": (),
        "returns": returns,
        "extension_pending": None,
    }
    event = {
        "department": p.department,
        "reason": reason,
        "reason_label": RETURN_REASONS[reason],
        "note": payload.get("note"),
        "returns": returns,
        "first_owner": p.first_owner,
    }
    more: list[dict] = []
    limit = env.policy.return_limit(p.district, p.priority)
    notes = [_order_notice("returned", p, p.department, env, reason=RETURN_REASONS[reason])]
    if returns >= limit and LEVELS.index(p.escalation_level) < LEVELS.index("district"):
        # The third return of one petition goes to the chief handler (CONTRACT §5).
        changes["escalation_level"] = "district"
        more.append(
            _event(
                "escalated",
                env,
                None,
                level="district",
                chief=f"chief@{p.district}",
                reason=f"第{returns}次退单",
            )
        )
    violation: Violation = {
        "kind": "returned",
        "unit": p.department,
        "district": p.district,
        "stage": "accept",
        "at": iso(env.now),
        "reason": reason,
    }
    return "ok", Effect(
        changes=changes,
        event=event,
        more_events=more,
        notifications=notes,
        violations=[violation],
    )


def _transfer(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    department = _department_for(env, p, payload["department"], "department")
    if department == p.department:
        raise InvalidInput("transfer to the department that already holds it", field="department")
    changes = {
        "department": department,
        "co_departments": tuple(c for c in p.co_departments if c != department),
        "extension_pending": None,  # the old department's request does not carry over
    }
    notes = [_order_notice("transferred", p, department, env)]
    return "ok", Effect(
        changes=changes,
        notifications=notes,
        event={
            "from": p.department,
            "department": department,
            "reason": payload.get("reason"),
            "first_owner": p.first_owner,
        },
    )


def _extension(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    if p.extension_pending:
        raise Conflict("an extension request is already pending", code="invalid_state")
    request = {
        "working_days": payload["working_days"],
        "reason": payload["reason"],
        "by": identity.actor,
        "at": iso(env.now),
    }
    return "ok", Effect(
        changes={"extension_pending": request},
        event={"working_days": request["working_days"], "reason": request["reason"]},
    )


def _extension_decision(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    pending = p.extension_pending
    if not pending:
        raise Conflict("no extension request is pending", code="invalid_state")
    approve = bool(payload["approve"])
    changes: dict = {"extension_pending": None}
    if approve:
        changes["_extend_seconds"] = int(pending["working_days"]) * WORKING_DAY
    return ("approve" if approve else "reject"), Effect(
        changes=changes,
        event={"approve": approve, "working_days": pending["working_days"], "note": payload.get("note")},
    )


def _suspend(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    # A handler suspends only with a supervisor's consent, named and checked against the directory.
    consent = payload.get("consented_by")
    if not consent:
        raise InvalidInput("a handler needs a supervisor's consent (consented_by)", field="consented_by")
    user = env.directory.user(consent)
    if user is None or user.role != "supervisor" or not env.directory.covers(user.district, p.district):
        raise InvalidInput(f"{consent!r} is not a supervisor of {p.district}", field="consented_by")
    return "ok", Effect(event={"reason": payload["reason"], "consented_by": consent})


def _resume(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    return "ok", Effect(event={"note": payload.get("note")})


def _resolve(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    return "ok", Effect(
        changes={"reply": payload["reply"]},
        event={"reply": payload["reply"], "evidence": payload.get("evidence") or None},
    )


def _answer(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """即办: answered on the spot by the desk that received it; the dispatch stage ends in time."""
    return "ok", Effect(
        changes={"reply": payload["reply"], "answered_by": identity.actor},
        event={
            "reply": payload["reply"],
            "evidence": payload.get("evidence") or None,
            "unit": identity.department,
        },
    )


def _review(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    approve = bool(payload["approve"])
    if not approve:
        # 乱办: a resolution the reviewer sends back is recorded against the unit that made it.
        sloppy: Violation = {
            "kind": "sloppy_handling",
            "unit": p.department or first_unit(p),
            "district": p.district,
            "stage": "resolve",
            "at": iso(env.now),
        }
        event = {"note": payload.get("note")}
        if p.department is None:  # an on-the-spot answer sent back: dispatched like any other now
            return "reject_answer", Effect(changes={"answered_by": None}, event=event, violations=[sloppy])
        return "reject", Effect(event=event, violations=[sloppy])
    notes = _citizen_sms("closure", p, reply=p.reply or "")
    # 并单: the main petition's outcome reaches every merged citizen.
    notes += [{**n, "merged_from": p.id} for n in _merged_closures(p)]
    return "approve", Effect(
        changes={"awaiting_feedback": True, "rating": None},
        event={"note": payload.get("note")},
        notifications=notes,
    )


def _merged_closures(p: Petition) -> list[Notice]:
    return [
        {
            "kind": "closure",
            "channel": "sms_merged",
            "template": "closure",
            "petition": child,
            "values": {"id": child, "reply": p.reply or ""},
            "urgent": False,
        }
        for child in p.merged
    ]


def _feedback(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    if not p.awaiting_feedback:
        raise Conflict("this petition already has its rating", code="invalid_state")
    rating = payload["rating"]
    event = {"rating": rating, "rating_label": RATINGS[rating], "comment": payload.get("comment")}
    if rating != "dissatisfied":
        return "satisfied", Effect(changes={"awaiting_feedback": False, "rating": rating}, event=event)
    # 重办: a fresh resolve stage, counted against the department.
    reopened = _event("reopened", env, identity, department=p.department, reopens=p.reopens + 1)
    violation: Violation = {
        "kind": "reopened",
        "unit": p.department or first_unit(p),  # an on-the-spot answer: the desk's unit answers
        "district": p.district,
        "stage": "reopen",
        "at": iso(env.now),
    }
    if p.department is None:  # answered at the desk: no department holds it, so it is dispatched anew
        return "dissatisfied_answer", Effect(
            violations=[violation],
            changes={
                "awaiting_feedback": False,
                "rating": rating,
                "reopens": p.reopens + 1,
                "answered_by": None,
            },
            event=event,
            more_events=[reopened],
            notifications=_citizen_sms("reopen", p),
        )
    return "dissatisfied", Effect(
        violations=[violation],
        changes={"awaiting_feedback": False, "rating": rating, "reopens": p.reopens + 1},
        event=event,
        more_events=[reopened],
        notifications=_citizen_sms("reopen", p)
        + [_order_notice("new_order", p, p.department, env, role="重办")],
    )


def _escalate(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    current = LEVELS.index(p.escalation_level)
    if current >= LEVELS.index("city"):
        raise Conflict("already escalated to the city's chief handler", code="invalid_state")
    level = LEVELS[current + 1]
    chief = f"chief@{p.district}" if level == "district" else f"chief@{env.city}"
    if level == "district" and env.directory.is_city(p.district):
        level, chief = "city", f"chief@{env.city}"
    return "ok", Effect(
        changes={"escalation_level": level},
        event={"level": level, "chief": chief, "note": payload.get("note")},
    )


def _instruction(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """批示: reaches the holder and the district's supervisor (topic kind ``instruction``)."""
    holder = p.department or f"{p.district}.dispatch"
    notice: Notice = {
        "kind": "instruction",
        "channel": "topic",
        "topic": "supervision",
        "attributes": {
            "kind": "instruction",
            "district": p.district,
            "department": holder,
            "level": "district",
        },
        "template": "instruction",
        "values": {"id": p.id, "department": holder, "note": payload["note"], "chief": identity.actor},
    }
    return "ok", Effect(event={"note": payload["note"], "to": holder}, notifications=[notice])


TRIAGE_ROUTES = {
    "dispatch": "分拨派单",
    "mediation": "调解",
    "legal_aid": "法律援助",
    "litigation": "诉讼引导",
}


def _triage(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """分流交办 (§11): ``dispatch`` leaves it to the dispatcher; any other route hands it to the
    district's 社会治理综合服务中心 (the unit stationed there mediates, aids or guides to court)."""
    route = payload["route"]
    if route not in TRIAGE_ROUTES:
        raise InvalidInput(f"route must be one of {', '.join(TRIAGE_ROUTES)}", field="route")
    event = {"route": route, "route_label": TRIAGE_ROUTES[route], "note": payload.get("note")}
    if route == "dispatch":
        return "dispatch", Effect(event=event)
    center = f"{p.district}.center"
    if env.directory.department(center) is None:
        raise InvalidInput(f"{p.district} has no service center", field="route")
    changes = {"department": center, "co_departments": (), "first_owner": p.first_owner or center}
    return "center", Effect(
        changes=changes,
        event={**event, "department": center},
        notifications=[_order_notice("new_order", p, center, env, role=TRIAGE_ROUTES[route])],
    )


def _whistle(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """基层吹哨: posted to the district's claim pool; every handler of the district hears of it."""
    due = _start(env, p, "claim").due_at
    pool: Notice = {
        "kind": "pool",
        "channel": "topic",
        "topic": "orders",
        "attributes": {"kind": "pool", "district": p.district, "department": f"{p.district}.pool"},
        "template": "pool_posted",
        "values": {"id": p.id, "district": p.district, "due": due},
    }
    event = {
        "note": payload["note"],
        "district": p.district,
        "grid": grid_of(p),
        "title": p.title,
        "category": p.category,
        "claim_due": due,
    }
    return "ok", Effect(event=event, notifications=[pool])


def _claim(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """部门报到: the first handler to claim takes it for their department; the resolve clock starts."""
    department = identity.department or ""
    changes = {"department": department, "co_departments": (), "first_owner": p.first_owner or department}
    waited = stage_clock.remaining(env.calendar, p.stage, env.now) if p.stage else 0
    budget = p.stage.budget if p.stage else 0
    pool: Notice = {
        "kind": "pool",
        "channel": "topic",
        "topic": "orders",
        "attributes": {"kind": "pool", "district": p.district, "department": department},
        "template": "pool_claimed",
        "values": {"id": p.id, "department": department},
    }
    event = {
        "department": department,
        "posted_at": p.stage.started_at if p.stage else None,
        "claim_seconds": max(budget - waited, 0),  # counted in the claim stage's unit
        "note": payload.get("note"),
    }
    return "ok", Effect(changes=changes, event=event, notifications=[pool])


def fallback(p: Petition, env: Env) -> Outcome:
    """兜底 (§10): unclaimed at ``claim_within``, the petition goes to the district's service
    center, accepted for it at once (the center takes what nobody claims: no second wait to
    sign), with its 7-day resolve clock; the supervisor is sent a supervision notice."""
    center = f"{p.district}.center"
    posted_at = p.stage.started_at if p.stage else None
    due_at = p.stage.due_at if p.stage else None
    nxt = replace(
        p,
        status="accepted",
        department=center,
        co_departments=(),
        first_owner=p.first_owner or center,
        updated_at=iso(env.now),
    )
    nxt = replace(nxt, stage=_start(env, nxt, "resolve"))
    base: dict[str, Any] = {"at": iso(env.now), "actor": "system:sla", "stage": "claim"}
    events: list[dict[str, Any]] = [
        {
            **base,
            "type": "fallback_assigned",
            "department": center,
            "posted_at": posted_at,
            "due_at": due_at,
        },
        {
            **base,
            "type": "supervision_notice",
            "step": "supervision_notice",
            "to": center,
            "supervisor": f"supervisor@{p.district}",
        },
    ]
    attrs = {"district": p.district, "department": center}
    notes: list[Notice] = [
        _order_notice("new_order", p, center, env, role="兜底"),
        {
            "kind": "supervision_notice",
            "channel": "topic",
            "topic": "supervision",
            "attributes": {"kind": "supervision_notice", **attrs, "level": "district"},
            "template": "supervision_notice",
            "values": {
                "id": p.id,
                "department": center,
                "stage": "claim",
                "due": due_at or "",
                "level": "district",
            },
        },
        {
            "kind": "pool",
            "channel": "topic",
            "topic": "orders",
            "attributes": {"kind": "pool", **attrs},
            "template": "pool_fallback",
            "values": {"id": p.id, "department": center},
        },
    ]
    return Outcome(nxt, events, notes + _first_inquiry_notice(p, nxt, env))


def _flag(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """疑难/重点: on the flagging chief's board (supervision records) until closed; false takes it off."""
    key = bool(payload["key_case"])
    if key == bool(p.key_case):
        raise Conflict("already flagged" if key else "not flagged", code="invalid_state")
    flag = {"by": identity.actor, "note": payload.get("note"), "at": iso(env.now)} if key else None
    return "ok", Effect(changes={"key_case": flag}, event={"key_case": key, "note": payload.get("note")})


URGE_KINDS = {"reminder": "催办单", "supervision": "督办单"}


def _urge(p: Petition, payload: dict, identity: Identity, env: Env) -> tuple[str, Effect]:
    """催办单/督办单 by hand: to the unit holding the petition (its department, or the district's
    dispatch desk), on the supervision topic with the same kinds as the clock's own."""
    kind = payload["kind"]
    if kind not in URGE_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(URGE_KINDS)}", field="kind")
    holder = p.department or f"{p.district}.dispatch"
    topic_kind = "reminder" if kind == "reminder" else "supervision_notice"
    stage = p.stage.name if p.stage else ""
    notice: Notice = {
        "kind": topic_kind,
        "channel": "topic",
        "topic": "supervision",
        "attributes": {
            "kind": topic_kind,
            "district": p.district,
            "department": holder,
            "level": "district",
            "source": "manual",
        },
        "template": f"urge_{kind}",
        "values": {"id": p.id, "department": holder, "note": payload["note"], "stage": stage},
    }
    return "ok", Effect(
        event={
            "kind": kind,
            "kind_label": URGE_KINDS[kind],
            "note": payload["note"],
            "to": holder,
            "stage": stage,
        },
        notifications=[notice],
    )


_HANDLERS = {
    "whistle": _whistle,
    "claim": _claim,
    "dispatch": _dispatch,
    "accept": _accept,
    "return": _return,
    "transfer": _transfer,
    "extension": _extension,
    "extension/decision": _extension_decision,
    "suspend": _suspend,
    "resume": _resume,
    "resolve": _resolve,
    "answer": _answer,
    "review": _review,
    "feedback": _feedback,
    "escalate": _escalate,
    "instruction": _instruction,
    "flag": _flag,
    "urge": _urge,
    "triage": _triage,
}


def merge_into(child: Petition, main: Petition, identity, payload: dict, env: Env) -> Outcome:
    """并单: the duplicate is closed into the main petition; both change in one transaction."""
    rule = RULES["merge"]
    _may_act(identity, rule, child, env.directory)
    if child.status not in rule.sources:
        raise Conflict(f"cannot merge a petition that is {child.status}", code="invalid_state")
    if main.id == child.id:
        raise InvalidInput("a petition cannot be merged into itself", field="into")
    if main.status in ("merged", "closed"):
        raise Conflict(f"the main petition is {main.status}", code="invalid_state")
    if not can_see(identity, main, env.directory):
        raise NotFound(f"no petition {main.id}", field="into")
    now = iso(env.now)
    child_next = replace(child, status="merged", merged_into=main.id, stage=None, updated_at=now)
    # A duplicate that had duplicates merged into it brings them along: the main petition's outcome
    # reaches every citizen down the chain (A into B, then B into C: C's closure reaches A too).
    carried = tuple(c for c in child.merged if c not in main.merged and c != main.id)
    main_next = replace(main, merged=(*main.merged, child.id, *carried), updated_at=now)
    child_events = [_event("merged", env, identity, into=main.id, note=payload.get("note"))]
    main_events = [
        _event(
            "merged", env, identity, merged=child.id, carried=list(carried) or None, note=payload.get("note")
        )
    ]
    notes = _citizen_sms("merged", child, into=main.id)
    return Outcome(child_next, child_events, notes, others=[(main_next, main_events)])


def rate(p: Petition, main: Petition | None, identity: Identity, payload: dict, env: Env) -> Outcome:
    """A citizen's rating (满意/基本满意/不满意): of their own closed petition, or — 并单 — of the
    main petition's outcome when theirs was merged into it (``main``: the open or closed petition
    their chain of merges ends in)."""
    if p.status != "merged":
        return apply(p, "feedback", identity, payload, env)
    _may_act(identity, RULES["feedback"], p, env.directory)
    if main is None or main.status != "closed":
        raise Conflict("the petition it was merged into is not closed yet", code="invalid_state")
    if p.rating is not None:
        raise Conflict("this petition already has its rating", code="invalid_state")
    rating = payload["rating"]
    if rating not in RATINGS:
        raise InvalidInput(f"rating must be one of {', '.join(RATINGS)}", field="rating")
    child_next = replace(p, rating=rating, updated_at=iso(env.now))
    feedback = _event(
        "feedback",
        env,
        identity,
        rating=rating,
        rating_label=RATINGS[rating],
        comment=payload.get("comment"),
        of=main.id,
    )
    if rating != "dissatisfied":
        return Outcome(child_next, [feedback], [])
    # 重办 of the main petition, counted against its department, caused by a merged citizen.
    reopens = main.reopens + 1
    held = main.department is not None  # else answered at the desk: dispatched anew
    main_next = replace(
        main,
        status="accepted" if held else "received",
        stage=_start(env, main, "reopen" if held else "dispatch"),
        reopens=reopens,
        awaiting_feedback=False,
        answered_by=main.answered_by if held else None,
        updated_at=iso(env.now),
    )
    reopened = _event("reopened", env, identity, department=main.department, reopens=reopens, by_merged=p.id)
    violation: Violation = {
        "kind": "reopened",
        "unit": main.department or first_unit(main),
        "district": main.district,
        "stage": "reopen",
        "at": iso(env.now),
    }
    notes = [_order_notice("new_order", main, main.department, env, role="重办")] if held else []
    notes += _citizen_sms("reopen", main)
    notes += _first_inquiry_notice(main, main_next, env)
    return Outcome(main_next, [reopened], notes, others=[(child_next, [feedback])], violations=[violation])


def new_petition(
    *,
    id: str,
    channel: str,
    district: str,
    content: str,
    env: Env,
    identity,
    priority: str,
    title: str | None,
    category: str | None,
    anonymous: bool,
    contact: dict,
    location: dict | None,
    channel_ref: str | None,
    reported_by: str | None,
    first_inquiry: dict | None = None,
) -> Outcome:
    """A received petition with its dispatch stage running, its `created` event and the receipt SMS."""
    p = Petition(
        id=id,
        version=0,
        status="received",
        channel=channel,
        district=district,
        content=content,
        created_at=iso(env.now),
        updated_at=iso(env.now),
        priority=priority,
        title=title,
        category=category,
        anonymous=anonymous,
        contact=contact,
        location=location,
        channel_ref=channel_ref,
        reported_by=reported_by,
        first_inquiry=first_inquiry,
    )
    p = replace(p, stage=_start(env, p, "dispatch"))
    suggestion = env.directory.route(category, district) if category else None
    event = _event(
        "created",
        env,
        identity,
        channel=channel,
        district=district,
        category=category,
        priority=priority,
        suggested_department=suggestion.department if suggestion else None,
        suggested_co_departments=list(suggestion.co_departments) if suggestion else [],
        reported_by=reported_by,
        first_inquiry=first_inquiry,
        grid=grid_of(p),
    )
    return Outcome(p, [event], _citizen_sms("receipt", p))


def mediation_result(p: Petition, identity: Identity, payload: dict, env: Env) -> Outcome:
    """A linked petition moves on with its mediation's outcome (§11), committed in the mediation's
    own transaction (center/service.py): an agreement — or a failed case referred to court, the
    citizen guided to litigation — resolves it (review and rating follow as usual); any other
    outcome is put on its timeline (event ``mediated``) and the center goes on handling it.

    ``payload``: ``mediation`` (id), ``result``, ``reply`` (what the citizen is told), ``referred_to_court``.
    """
    if not can_see(identity, p, env.directory):
        raise NotFound(f"no petition {p.id}", field="petition")
    event = _event(
        "mediated",
        env,
        identity,
        mediation=payload["mediation"],
        result=payload["result"],
        referred_to_court=payload.get("referred_to_court"),
    )
    resolves = payload["result"] == "agreement" or bool(payload.get("referred_to_court"))
    if not resolves or p.status != "accepted":
        return Outcome(replace(p, updated_at=iso(env.now)), [event], [])
    stage = stage_clock.pause(env.calendar, p.stage, env.now) if p.stage else None
    nxt = replace(p, status="resolved", stage=stage, reply=payload["reply"], updated_at=iso(env.now))
    return Outcome(nxt, [event], _first_inquiry_notice(p, nxt, env))
