"""两首一督: the chief's board, accountability actions on violations, and the annual assessment.

- The board of a chief handler (首席办事员): the key cases they flagged (until closed), the cases
  escalated to them (while open), and their instructions (批示) with what came of them.
- Accountability (问责跟进): 提醒/约谈/移送纪委 on a violation, by supervisors and chief handlers of
  its district. Each is an ``accountability`` event on the petition's timeline (hash-chained and
  exported with the events), a message to the unit on the supervision topic, and a record in the
  violation's history — all in one transaction.
- The assessment (年度考核) of a district's units over a year: the §6 rates from the rollups,
  violations by kind, urges and accountability actions, and the score of ``assessment.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import SHANGHAI, iso, utc_key
from chalicelib.errors import Forbidden, InvalidInput, NotFound
from chalicelib.notify.compose import unit_name
from chalicelib.petitions.domain import Env, Notice, Outcome, Petition
from chalicelib.petitions.machine import OPEN, STATUS_LABELS
from chalicelib.sla.violation_store import ViolationRecord
from chalicelib.sla.violations import parse_violation_id, violation_out
from chalicelib.supervision import assessment, rollups
from chalicelib.supervision.assessment import ACTION_LABELS, VIOLATION_LABELS
from chalicelib.supervision.records import Record

ACTING_ROLES = ("supervisor", "chief")
ASSESSING_ROLES = ("supervisor", "chief", "auditor", "admin")


class SupervisionReads(Protocol):
    def counters(self, pk: str, lo: str, hi: str) -> Iterable[tuple[str, dict[str, int]]]: ...
    def records(self, pk: str, prefix: str = "", limit: int | None = None) -> list[Record]: ...
    def records_between(self, pk: str, lo: str, hi: str) -> list[Record]: ...
    def stage_record(self, tx: Any, record: Record, *, new: bool = False) -> None: ...


class ViolationReads(Protocol):
    def get(self, unit: str, sk: str) -> ViolationRecord | None: ...
    def of_unit(self, unit: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...


class Committer(Protocol):
    def commit(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Any] = ()
    ) -> Petition: ...


def _summary(p: Petition | None, petition_id: str) -> dict[str, Any]:
    if p is None:
        return {"id": petition_id, "status": None}
    return {
        "id": p.id,
        "status": p.status,
        "status_label": STATUS_LABELS.get(p.status, p.status),
        "district": p.district,
        "department": p.department,
        "category": p.category,
        "title": p.title,
        "escalation_level": p.escalation_level,
        "due_at": p.stage.due_at if p.stage and p.stage.running else None,
        "reply": p.reply if p.status in ("resolved", "closed") else None,
        "updated_at": p.updated_at,
    }


def year_keys(year: int) -> tuple[str, str]:
    """The UTC sort-key range of a calendar year in Asia/Shanghai."""
    lo = datetime(year, 1, 1, tzinfo=SHANGHAI)
    hi = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    return utc_key(iso(lo)), utc_key(iso(hi))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _league_order(u: dict[str, Any]) -> tuple[bool, float, str]:
    score = u["score"]
    return (score is None, -float(score or 0), str(u["unit"]))


@dataclass
class Supervision:
    store: SupervisionReads
    violations: ViolationReads
    petitions: PetitionReads
    uow: Committer
    env: Callable[[], Env]

    # --- the chief's board --------------------------------------------------------------------------

    def board(self, identity: Identity) -> dict[str, Any]:
        if identity.role != "chief":
            raise Forbidden("the board is a chief handler's")
        entries = self.store.records(f"board#{identity.actor}")
        cache: dict[str, Petition | None] = {}

        def petition(pid: str) -> Petition | None:
            if pid not in cache:
                cache[pid] = self.petitions.get(pid)
            return cache[pid]

        key_cases, escalations, instructions = [], [], []
        for r in sorted(entries, key=lambda r: r.doc.get("at", ""), reverse=True):
            kind = r.sk.split("#", 1)[0]
            p = petition(r.doc["petition"])
            item = {**_summary(p, r.doc["petition"]), "at": r.doc.get("at"), "note": r.doc.get("note")}
            if kind == "key":
                if r.doc.get("key_case") and p is not None and p.status in OPEN and p.key_case:
                    key_cases.append(item)
            elif kind == "escalation":
                if p is not None and p.status in OPEN:
                    escalations.append({**item, "level": r.doc.get("level"), "reason": r.doc.get("reason")})
            elif kind == "instruction":
                instructions.append(
                    {**item, "to": r.doc.get("to"), "done": p is not None and p.status == "closed"}
                )
        return {
            "chief": identity.actor,
            "key_cases": key_cases,
            "escalations": escalations,
            "instructions": instructions,
        }

    # --- violations and accountability -------------------------------------------------------------

    def _violation(self, identity: Identity, vid: str, env: Env) -> ViolationRecord:
        parsed = parse_violation_id(vid)
        v = self.violations.get(*parsed) if parsed else None
        if v is None or not scope.covers(identity, env.directory, v.district):
            raise NotFound(f"no violation {vid}")
        if identity.role == "handler" and v.unit != identity.department:
            raise NotFound(f"no violation {vid}")
        return v

    def violation(self, identity: Identity, vid: str) -> dict[str, Any]:
        """A violation with its accountability history (oldest first)."""
        env = self.env()
        v = self._violation(identity, vid, env)
        history = [r.doc for r in reversed(self.store.records(f"action#{v.unit}", prefix=f"{v.sk}#"))]
        return {**violation_out(v), "kind_label": VIOLATION_LABELS.get(v.kind, v.kind), "actions": history}

    def account(self, identity: Identity, vid: str, payload: dict[str, Any]) -> dict[str, Any]:
        """提醒/约谈/移送纪委 on a violation: its history, the unit's message and the petition's
        timeline in one transaction."""
        env = self.env()
        if identity.role not in ACTING_ROLES:
            raise Forbidden(f"{identity.role} may not take accountability actions")
        v = self._violation(identity, vid, env)
        kind = payload["kind"]
        if kind not in ACTION_LABELS:
            raise InvalidInput(f"kind must be one of {', '.join(ACTION_LABELS)}", field="kind")
        p = self.petitions.get(v.petition_id)
        if p is None:  # a violation always points at a stored petition; say so rather than guess
            raise NotFound(f"no petition {v.petition_id}")
        self._account_once(identity, v, vid, kind, payload.get("note"), p, env)
        return self.violation(identity, vid)

    def _account_once(
        self,
        identity: Identity,
        v: ViolationRecord,
        vid: str,
        kind: str,
        note: str | None,
        p: Petition,
        env: Env,
    ) -> None:
        now = iso(env.now)
        label = ACTION_LABELS[kind]
        event = {
            "type": "accountability",
            "at": now,
            "actor": identity.actor,
            "kind": kind,
            "kind_label": label,
            "note": note,
            "violation": vid,
            "unit": v.unit,
            "violation_kind": v.kind,
        }
        notice: Notice = {
            "kind": "accountability",
            "channel": "topic",
            "topic": "supervision",
            "attributes": {
                "kind": "accountability",
                "district": v.district,
                "department": v.unit,
                "level": "district",
            },
            "template": "accountability",
            "values": {
                "id": p.id,
                "department": v.unit,
                "action": label,
                "violation": VIOLATION_LABELS.get(v.kind, v.kind),
                "stage": v.stage,
                "due": None,
                "note": note or "请限期整改",
            },
        }
        record = Record(
            f"action#{v.unit}",
            f"{v.sk}#{utc_key(now)}#{p.last_seq + 1}",
            {
                "violation": vid,
                "kind": kind,
                "kind_label": label,
                "note": note,
                "by": identity.actor,
                "at": now,
                "petition": p.id,
                "district": v.district,
                "unit": v.unit,
                "violation_kind": v.kind,
            },
        )
        outcome = Outcome(replace(p, updated_at=now), [event], [notice])
        self.uow.commit(outcome, env, extra=[lambda tx: self.store.stage_record(tx, record, new=True)])

    # --- the annual assessment ----------------------------------------------------------------------

    def units_of(self, district: str, env: Env) -> list[str]:
        deps = [d.code for d in env.directory.departments if d.district == district]
        return [f"{district}.dispatch", *sorted(deps)]

    def assessment(self, identity: Identity, year: int, district: str | None) -> dict[str, Any]:
        env = self.env()
        directory = env.directory
        if identity.role not in ASSESSING_ROLES:
            raise Forbidden(f"{identity.role} may not read assessments")
        if not 2000 <= year <= 2999:
            raise InvalidInput("year must be between 2000 and 2999", field="year")
        code = scope.district(
            identity, directory, district or scope.scope_district(identity, directory) or ""
        )
        return self._assess(code, year, env)

    def assessment_rows(self, now: datetime) -> list[dict[str, Any]]:
        """Every district's units, the year to date, as rows of the auditors' ``assessments`` table."""
        env = self.env()
        year = now.astimezone(SHANGHAI).year
        at = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows = []
        for d in env.directory.districts:
            for u in self._assess(d.code, year, env)["units"]:
                rows.append(
                    {
                        "year": year,
                        "district": d.code,
                        "unit": u["unit"],
                        "name": u["name"],
                        "score": u["score"],
                        "rank": u.get("rank"),
                        "received": u["figures"].get("received", 0),
                        "figures": _json(u["figures"]),
                        "violations": _json(u["violations"]),
                        "urges": _json(u["urges"]),
                        "actions": _json(u["actions"]),
                        "reasons": _json(u["reasons"]),
                        "computed_at": at,
                    }
                )
        return rows

    def _assess(self, code: str, year: int, env: Env) -> dict[str, Any]:
        directory = env.directory
        first = datetime(year, 1, 1, tzinfo=SHANGHAI)
        last = datetime(year, 12, 31, tzinfo=SHANGHAI)
        # A city department may hold any district's petitions: the city's units read every district.
        sources = [d.code for d in directory.districts] if directory.is_city(code) else [code]
        by_unit: dict[str, Counter] = {}
        own_total: Counter = Counter()
        for split, d, department, values in rollups.read(self.store, sources, first, last):
            if split != "dep":
                continue
            if department != rollups.NONE:
                by_unit.setdefault(department, Counter()).update(values)
            if d == code:
                own_total.update(values)
        lo, hi = year_keys(year)
        w = assessment.weights(code)
        units = []
        for unit in self.units_of(code, env):
            if unit.endswith(".dispatch"):
                # The dispatch desk answers for the dispatch stage of the district's petitions.
                full = rollups.result(own_total)
                figures = {
                    "received": full["received"],
                    "on_time_dispatch_rate": full["on_time_dispatch_rate"],
                }
            else:
                figures = rollups.result(by_unit.get(unit, Counter()))
            violations = Counter(v.kind for v in self.violations.of_unit(unit, lo, hi, 1_000_000))
            urges = Counter(
                str(r.doc.get("kind")) for r in self.store.records_between(f"urge#{unit}", lo, hi)
            )
            actions = Counter(
                str(r.doc.get("kind")) for r in self.store.records_between(f"action#{unit}", lo, hi)
            )
            value, reasons = assessment.score(figures, violations, urges, actions, w)
            units.append(
                {
                    "unit": unit,
                    "name": unit_name(unit, directory),
                    "score": value,
                    "figures": figures,
                    "violations": dict(sorted(violations.items())),
                    "urges": dict(sorted(urges.items())),
                    "actions": dict(sorted(actions.items())),
                    "reasons": reasons,
                }
            )
        units.sort(key=_league_order)
        for rank, u in enumerate((u for u in units if u["score"] is not None), start=1):
            u["rank"] = rank
        return {
            "year": year,
            "district": code,
            "formula": assessment.formula_text(),
            "weights": w,
            "units": units,
        }
