"""The service center (CONTRACT §11): its stationed units, mediation cases, their figures, and
逢六说事 meetings whose issues become petitions.

Writes and their transactions:
- a mediation change (opened, a session, the outcome) is the case item, its event and the
  parties' SMS (outbox records, quiet hours stamped) in ONE transaction, published after it;
- an outcome of a case linked to a petition also moves the petition (agreement, or a failed case
  referred to court → resolved; otherwise an event on its timeline): the case, its event and the
  petition's change go through the unit of work as one transaction (the case rides in its
  ``extra`` stages), so neither can be stored without the other and a lost race on either is a 409;
- a meeting's issue is a petition filed through intake (channel ``meeting``) with the meeting's
  new issue list staged into the petition's own transaction.

Everything comes in through the constructor (the runtime builds it); nothing here touches a table.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.center import mediation as m
from chalicelib.center.meetings import Meeting, channel_ref
from chalicelib.clock import SHANGHAI, iso, parse_instant, utc_key
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound, TransactionConflict
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.notify.quiet import deliver_at
from chalicelib.notify.templates import format_due
from chalicelib.petitions.domain import Env, Petition, can_see, mediation_result
from chalicelib.petitions.ids import normalise
from chalicelib.petitions.machine import OPEN as OPEN_STATUSES
from chalicelib.privacy import mask_name, mask_phone, seal, unseal

ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_WINDOW_DAYS = 366
PETITION_TRIES = 3
SOLVED = ("resolved", "answered", "resolved_on_spot")  # the events that count as solved (that day)
# Who reads a case's parties in clear: the people of the owning center or court.
OWNING_ROLES = ("mediator", "desk")


class CenterStore(Protocol):
    def stage_case(self, tx: Any, case: m.Mediation, *, new: bool) -> None: ...
    def stage_case_events(self, tx: Any, case_id: str, events: list[dict]) -> None: ...
    def case(self, case_id: str) -> m.Mediation | None: ...
    def case_events(self, case_id: str) -> list[dict]: ...
    def cases(self, index: str, key: str, lo: str = "0", hi: str = "~") -> Iterator[m.Mediation]: ...
    def stage_meeting(self, tx: Any, meeting: Meeting, *, new: bool) -> None: ...
    def meeting(self, meeting_id: str) -> Meeting | None: ...
    def meetings(self, index: str, key: str) -> list[Meeting]: ...


class Outbox(Protocol):
    def stage_new(self, tx: Any, record: OutboxRecord) -> None: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...
    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterator[Petition]: ...


class Committer(Protocol):
    def commit(self, outcome: Any, env: Env, *, new: bool = False, extra: Iterable[Any] = ()) -> Petition: ...


class Filing(Protocol):
    def file_for(
        self,
        channel: str,
        who: Identity,
        namespace: str,
        body: Any,
        idempotency_key: str | None,
        *,
        link: Callable[[str], Iterable[Any]] | None = None,
    ) -> tuple[int, dict]: ...


def _new_id(prefix: str, now: datetime) -> str:
    day = now.astimezone(SHANGHAI).strftime("%y%m%d")
    return prefix + day + "".join(secrets.choice(ID_ALPHABET) for _ in range(6))


def rate(numerator: int, denominator: int) -> dict:
    return {
        "value": round(numerator / denominator, 4) if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }


def figures(cases: Iterable[m.Mediation]) -> dict:
    """Pure: cases, concluded, agreements and the success rate (agreements ÷ concluded), per owning
    center or court, per mediator and per kind; court pre-litigation cases (诉前调解) apart."""

    def empty() -> dict:
        return {"cases": 0, "concluded": 0, "agreements": 0}

    groups = {
        name: {
            "total": empty(),
            "by_center": defaultdict(empty),
            "by_mediator": defaultdict(empty),
            "by_kind": defaultdict(empty),
        }
        for name in ("mediation", "pre_litigation")
    }
    for case in cases:
        group = groups["pre_litigation" if case.pre_litigation else "mediation"]
        for tally in (
            group["total"],
            group["by_center"][case.unit],
            group["by_mediator"][case.mediator],
            group["by_kind"][case.kind],
        ):
            tally["cases"] += 1
            tally["concluded"] += 1 if case.concluded else 0
            tally["agreements"] += 1 if case.result == "agreement" else 0

    def done(t: dict) -> dict:
        return {**t, "success_rate": rate(t["agreements"], t["concluded"])}

    return {
        name: {
            "total": done(g["total"]),
            **{
                part: {k: done(v) for k, v in sorted(g[part].items())}
                for part in ("by_center", "by_mediator", "by_kind")
            },
        }
        for name, g in groups.items()
    }


@dataclass
class Center:
    store: CenterStore
    database: Any
    outbox: Outbox
    publish: Callable[[list[str], Env], None]
    uow: Committer
    petitions: PetitionReads
    intake: Filing
    env: Callable[[], Env]
    # issue 12's evidence keys: a check that raises InvalidInput for a key not issued by POST /v1/uploads
    check_evidence: Callable[[Identity, list[str], str | None], None] | None = None

    # --- the center and its units (public) ----------------------------------------------------------

    def center(self, district: str) -> dict:
        directory = self.env().directory
        dep = directory.department(f"{district}.center") if directory.district(district) else None
        if dep is None:
            raise NotFound(f"no service center in {district!r}")
        return {
            "code": dep.code,
            "district": dep.district,
            "name": dep.name,
            "units": [
                {"unit": u.unit, "name": u.name, "kind": u.kind, "department": u.department}
                for u in directory.units_at(dep.code)
            ],
        }

    # --- mediation cases -----------------------------------------------------------------------------

    def open_mediation(self, identity: Identity, body: dict) -> dict:
        env = self.env()
        directory = env.directory
        mediator = directory.user(body["mediator"])
        if mediator is None or mediator.role != "mediator":
            raise InvalidInput(f"{body['mediator']!r} is not a mediator", field="mediator")
        unit = mediator.scope
        if identity.role == "mediator" and unit != identity.department:
            raise Forbidden(
                f"{mediator.username} is not a mediator of {identity.department}", field="mediator"
            )
        if identity.role != "mediator" and not scope.covers(identity, directory, mediator.district):
            raise Forbidden(f"{mediator.username} is outside your district", field="mediator")
        if body.get("pre_litigation") and not unit.endswith(".court"):
            raise InvalidInput("诉前调解 is a court's: name a court's mediator", field="pre_litigation")
        petition_id = None
        if body.get("petition"):
            p = self._petition(identity, body["petition"], env)
            if not directory.covers(mediator.district, p.district):
                raise InvalidInput(f"{p.id} is not of {mediator.district}", field="petition")
            if p.status not in OPEN_STATUSES:
                raise Conflict(f"the petition is {p.status}", code="invalid_state", field="petition")
            petition_id = p.id
        parties = tuple(
            m.Party(
                role=party["role"],
                name_sealed=seal(party["name"]),
                name_masked=mask_name(party["name"]),
                phone_sealed=seal(party["phone"]),
                phone_masked=mask_phone(party["phone"].removeprefix("+86")),
            )
            for party in body["parties"]
        )
        change = m.open_case(
            id=_new_id("TJ", env.now),
            district=mediator.district,
            unit=unit,
            mediator=mediator.username,
            kind=body["kind"],
            pre_litigation=bool(body.get("pre_litigation")),
            parties=parties,
            petition=petition_id,
            actor=identity.actor,
            now=env.now,
        )
        self._write(change, env, new=True)
        return self._present(change.case, identity, env, self.store.case_events(change.case.id))

    def add_session(self, identity: Identity, case_id: str, body: dict) -> dict:
        env = self.env()
        case = self._own_case(identity, case_id)
        try:
            at = parse_instant(body["at"])
        except (ValueError, TypeError) as exc:
            raise InvalidInput("at is not an ISO-8601 instant with its offset", field="at") from exc
        change = m.add_session(case, at, body.get("notes"), identity.actor, env.now)
        place = env.directory.department(case.unit)
        for sms in change.sms:
            sms["values"] = {
                "id": case.id,
                "at": format_due(at),
                "place": place.name if place else case.unit,
            }
        self._write(change, env)
        return self._present(change.case, identity, env, self.store.case_events(case.id))

    def conclude(self, identity: Identity, case_id: str, body: dict) -> dict:
        """The outcome, and a linked petition's move, in one transaction. The petition's version may
        change under it without anything the outcome depends on (its notifications being marked sent):
        the whole is read and decided again, a few times; a case concluded meanwhile is then a 409."""
        evidence = list(body.get("evidence") or [])
        if evidence and self.check_evidence is not None:
            self.check_evidence(identity, evidence, self._own_case(identity, case_id).district)
        for attempt in range(PETITION_TRIES):
            try:
                return self._conclude(identity, case_id, body, evidence)
            except Conflict as exc:
                if exc.code != "conflict" or attempt == PETITION_TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _conclude(self, identity: Identity, case_id: str, body: dict, evidence: list[str]) -> dict:
        env = self.env()
        case = self._own_case(identity, case_id)
        court = None
        if body.get("referred_to_court"):
            court = f"{case.district}.court"
            if env.directory.department(court) is None:
                raise InvalidInput(
                    f"{case.district} has no court in the directory", field="referred_to_court"
                )
        change = m.conclude(
            case,
            result=body["result"],
            agreement=body.get("agreement"),
            judicial_confirmation=body.get("judicial_confirmation"),
            referred_to_court=court,
            evidence=tuple(evidence),
            actor=identity.actor,
            now=env.now,
        )
        if case.petition:
            p = self.petitions.get(case.petition)
            if p is not None and p.status in (*OPEN_STATUSES, "closed"):
                court_dep = env.directory.department(court) if court else None
                payload = {
                    "mediation": case.id,
                    "result": change.case.result,
                    "referred_to_court": court,
                    "reply": m.petition_reply(change.case, court_dep.name if court_dep else None),
                }
                outcome = mediation_result(p, identity, payload, env)
                stages = self._stages(change, env)
                self.uow.commit(outcome, env, extra=stages)  # the petition's change and the case: one write
                self.publish(self._sms_ids(change), env)
                return self._present(change.case, identity, env, self.store.case_events(case.id))
        self._write(change, env)
        return self._present(change.case, identity, env, self.store.case_events(case.id))

    def get_mediation(self, identity: Identity, case_id: str) -> dict:
        env = self.env()
        case = self._visible_case(identity, case_id, env)
        return self._present(case, identity, env, self.store.case_events(case.id))

    def list_mediations(self, identity: Identity, query: Any) -> dict:
        env = self.env()
        cases = [
            c
            for index, key in self._partitions(identity, query.district, env)
            for c in self.store.cases(index, key)
        ]
        if query.mediator is not None:
            user = env.directory.user(query.mediator)
            if user is None or user.role != "mediator":
                raise InvalidInput(f"{query.mediator!r} is not a mediator", field="mediator")
            cases = [c for c in cases if c.mediator == query.mediator]
        if query.status is not None:
            cases = [c for c in cases if c.status == query.status]
        cases.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return {"items": [self._present(c, identity, env) for c in cases]}

    def stats(self, identity: Identity, query: Any) -> dict:
        env = self.env()
        today = env.now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        start = _day(query.from_, today - timedelta(days=30), "from")
        end = _day(query.to, today, "to") + timedelta(days=1)
        if end <= start:
            raise InvalidInput("to is before from", field="to")
        if (end - start).days > MAX_WINDOW_DAYS:
            raise InvalidInput(f"at most {MAX_WINDOW_DAYS} days", field="from")
        lo, hi = utc_key(iso(start)), utc_key(iso(end))
        partitions = self._partitions(identity, query.district, env)
        cases = [c for index, key in partitions for c in self.store.cases(index, key, lo, hi)]
        result = figures(cases)
        districts = sorted({key if index == "district" else key.split(".")[0] for index, key in partitions})
        triage: dict[str, int] = {}
        for district in districts:
            for p in self.petitions.received_between("district", district, lo, hi):
                routes = [
                    str(e.get("route"))
                    for e in self.petitions.timeline(p.id, p.last_seq)
                    if e["type"] == "triaged"
                ]
                if routes:
                    triage[routes[-1]] = triage.get(routes[-1], 0) + 1
        return {
            "from": start.date().isoformat(),
            "to": (end - timedelta(days=1)).date().isoformat(),
            **result,
            "triage": triage,
        }

    # --- 逢六说事 -------------------------------------------------------------------------------------

    def create_meeting(self, identity: Identity, body: dict) -> dict:
        env = self.env()
        grid = self._grid_in_scope(identity, body["grid"], env, acting=True)
        try:
            datetime.fromisoformat(body["date"])
        except ValueError as exc:
            raise InvalidInput("date is not a calendar date", field="date") from exc
        meeting = Meeting(
            id=_new_id("SS", env.now),
            version=0,
            grid=grid.code,
            district=grid.district,
            date=body["date"],
            topic=body["topic"],
            attendees=body["attendees"],
            created_at=iso(env.now),
            created_by=identity.actor,
        )
        tx = self.database.transaction()
        self.store.stage_meeting(tx, meeting, new=True)
        try:
            tx.commit()
        except TransactionConflict as exc:
            raise Conflict("the meeting id is taken; retry", code="conflict") from exc
        return self._meeting_out(replace(meeting, version=1))

    def raise_issue(self, identity: Identity, meeting_id: str, body: Any) -> tuple[int, dict]:
        env = self.env()
        meeting = self.store.meeting(meeting_id)
        if meeting is None:
            raise NotFound(f"no meeting {meeting_id}")
        self._grid_in_scope(identity, meeting.grid, env, acting=True)
        if body.district != meeting.district:
            raise InvalidInput(f"the meeting's petitions are of {meeting.district}", field="district")
        location = (
            body.location.model_copy(update={"grid": body.location.grid or meeting.grid})
            if body.location
            else None
        )
        body = body.model_copy(update={"channel_ref": channel_ref(meeting.id), "location": location})
        if body.location is None:
            from chalicelib.intake.models import Location

            body = body.model_copy(update={"location": Location(grid=meeting.grid)})

        def link(petition_id: str) -> list[Callable[[Any], None]]:
            linked = replace(meeting, issues=(*meeting.issues, petition_id))
            return [lambda tx: self.store.stage_meeting(tx, linked, new=False)]

        try:
            return self.intake.file_for("meeting", identity, f"meeting:{meeting.id}", body, None, link=link)
        except TransactionConflict as exc:  # another issue of the same meeting won the race
            raise Conflict("the meeting changed meanwhile; retry", code="conflict") from exc

    def list_meetings(self, identity: Identity, grid_code: str) -> dict:
        env = self.env()
        grid = self._grid_in_scope(identity, grid_code, env, acting=False)
        return {"items": [self._meeting_out(mt) for mt in self.store.meetings("grid", grid.code)]}

    # --- helpers -------------------------------------------------------------------------------------

    def _meeting_out(self, meeting: Meeting) -> dict:
        issues = []
        for pid in meeting.issues:
            p = self.petitions.get(pid)
            events = self.petitions.timeline(pid, p.last_seq) if p else []
            solved = any(
                e["type"] in SOLVED
                and parse_instant(e["at"]).astimezone(SHANGHAI).date().isoformat() == meeting.date
                for e in events
            )
            issues.append(
                {"petition": pid, "status": p.status if p else "unknown", "solved_that_day": solved}
            )
        return {
            "id": meeting.id,
            "grid": meeting.grid,
            "district": meeting.district,
            "date": meeting.date,
            "topic": meeting.topic,
            "attendees": meeting.attendees,
            "created_at": meeting.created_at,
            "created_by": meeting.created_by,
            "issues": issues,
            "solved_that_day": sum(i["solved_that_day"] for i in issues),
        }

    def _grid_in_scope(self, identity: Identity, code: str, env: Env, *, acting: bool):
        directory = env.directory
        grid = directory.grid(code)
        if grid is None:
            raise InvalidInput(f"unknown grid {code!r}", field="grid")
        if identity.role == "grid_worker":  # their grid and the grids below it (§10)
            if not identity.grid or not directory.grid_covers(identity.grid, grid.code):
                raise Forbidden(f"{code} is not your grid", field="grid")
            return grid
        if not scope.covers(identity, directory, grid.district):
            if acting:
                raise Forbidden(f"{code} is outside your district", field="grid")
            raise NotFound("outside your scope", field="grid")
        return grid

    def _petition(self, identity: Identity, petition_id: str, env: Env) -> Petition:
        key = normalise(petition_id)
        p = self.petitions.get(key) if key else None
        if p is None or not can_see(identity, p, env.directory):
            raise NotFound(f"no petition {petition_id}", field="petition")
        return p

    def _partitions(self, identity: Identity, district: str | None, env: Env) -> list[tuple[str, str]]:
        directory = env.directory
        if identity.role in OWNING_ROLES:  # a center's or court's people: their own unit's cases
            if district is not None:
                scope.district(identity, directory, district)
                unit_district = (identity.department or "").split(".")[0]
                if not directory.covers(district, unit_district):
                    raise NotFound("outside your scope", field="district")
            return [("unit", identity.department or "")]
        return [("district", d) for d in scope.districts(identity, directory, district)]

    def _visible_case(self, identity: Identity, case_id: str, env: Env) -> m.Mediation:
        case = self.store.case(case_id) if case_id else None
        if case is not None:
            if identity.role in OWNING_ROLES:
                visible = case.unit == identity.department
            else:
                visible = scope.covers(identity, env.directory, case.district)
            if not visible:
                case = None
        if case is None:
            raise NotFound(f"no mediation {case_id}")
        return case

    def _own_case(self, identity: Identity, case_id: str) -> m.Mediation:
        """A case the caller may change: a mediator's own center's or court's (else not there at all)."""
        case = self.store.case(case_id) if case_id else None
        if case is None or identity.role != "mediator" or case.unit != identity.department:
            raise NotFound(f"no mediation {case_id}")
        return case

    def _records(self, change: m.Change, env: Env) -> list[OutboxRecord]:
        seq = change.case.last_seq
        when = utc_key(
            iso(deliver_at(env.now, False))
        )  # quiet hours: a night session notice waits till 08:00
        return [
            OutboxRecord(
                id=f"mediation#{change.case.id}#{seq}#{n}",
                petition_id="",  # of no petition: the publisher marks it alone
                kind=sms["template"],
                channel="sms",
                status="queued",
                created_at=iso(env.now),
                body={"template": sms["template"], "values": sms["values"], "to_sealed": sms["phone_sealed"]},
                next_attempt_at=when,
            )
            for n, sms in enumerate(change.sms)
        ]

    def _sms_ids(self, change: m.Change) -> list[str]:
        return [f"mediation#{change.case.id}#{change.case.last_seq}#{n}" for n in range(len(change.sms))]

    def _stages(self, change: m.Change, env: Env, *, new: bool = False) -> list[Callable[[Any], None]]:
        records = self._records(change, env)
        return [
            lambda tx: self.store.stage_case(tx, change.case, new=new),
            lambda tx: self.store.stage_case_events(tx, change.case.id, change.events),
            *[lambda tx, r=r: self.outbox.stage_new(tx, r) for r in records],
        ]

    def _write(self, change: m.Change, env: Env, *, new: bool = False) -> None:
        tx = self.database.transaction()
        for stage in self._stages(change, env, new=new):
            stage(tx)
        try:
            tx.commit()
        except TransactionConflict as exc:
            raise Conflict("the mediation changed meanwhile; reload and try again", code="conflict") from exc
        self.publish(self._sms_ids(change), env)

    def _present(
        self, case: m.Mediation, identity: Identity, env: Env, events: list[dict] | None = None
    ) -> dict:
        owner = identity.role in OWNING_ROLES and identity.department == case.unit
        unit = env.directory.department(case.unit)
        upcoming = sorted(s["at"] for s in case.sessions if s["at"] >= iso(env.now))
        return {
            "id": case.id,
            "status": case.status,
            "status_label": {"open": "调解中", **m.RESULTS}[case.status],
            "district": case.district,
            "unit": case.unit,
            "unit_name": unit.name if unit else None,
            "mediator": case.mediator,
            "kind": case.kind,
            "kind_label": m.KINDS[case.kind],
            "pre_litigation": case.pre_litigation,
            "petition": case.petition,
            "parties": [
                {
                    "role": p.role,
                    "name": unseal(p.name_sealed) if owner else p.name_masked,
                    "phone": unseal(p.phone_sealed) if owner else p.phone_masked,
                }
                for p in case.parties
            ],
            "sessions": [dict(s) for s in case.sessions],
            "next_session": upcoming[0] if upcoming and case.status == "open" else None,
            "result": case.result,
            "agreement": case.agreement,
            "judicial_confirmation": case.judicial_confirmation,
            "referred_to_court": case.referred_to_court,
            "evidence": list(case.evidence),
            "created_at": case.created_at,
            "created_by": case.created_by,
            "concluded_at": case.concluded_at,
            "timeline": events,
        }


def _day(text: str | None, default: datetime, field: str) -> datetime:
    if not text:
        return default
    try:
        return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a calendar date", field=field) from exc
