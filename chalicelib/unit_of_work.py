"""The unit of work: one committed change of the petitions, across the features' tables.

``commit(outcome, env)``:
1. plans what the change implies beyond the petition: the linked timeline events, the
   outbox records (quiet hours stamped: a citizen SMS at night waits until 08:00), a
   ``notification`` event for each, the next SLA timer, the violations;
2. stages every write with the store that owns its table — petitions and events
   (petitions), outbox (notify), timers and violations (sla), and whatever the caller
   adds (intake's idempotency key) — and commits them as ONE conditional transaction
   with the petition's version check: no event without its change, no change without its
   event, and of two racing writers exactly one wins (the other gets 409);
3. then publishes the outbox records; what fails to publish stays queued for the sweep.

It sits above the features and imports their stores' interfaces and pure planners; the
features never import it back: the runtime hands it to their services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from chalicelib.clock import iso, utc_key
from chalicelib.errors import Conflict, TransactionConflict
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.notify.quiet import deliver_at
from chalicelib.petitions import chain
from chalicelib.petitions.domain import Env, Notice, Outcome, Petition, Violation
from chalicelib.petitions.machine import OPEN
from chalicelib.sla.ladder import next_due
from chalicelib.sla.timer_store import Timer
from chalicelib.sla.violation_store import ViolationRecord
from chalicelib.supervision import rollups
from chalicelib.supervision.records import Record, plan_records
from chalicelib.supervision.store import shard

Stage = Callable[[Any], None]  # adds a caller's own write to the transaction (intake's idempotency key)


class Transaction(Protocol):
    def commit(self) -> None: ...


class Database(Protocol):
    def transaction(self) -> Any: ...


class PetitionWrites(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def stage(self, tx: Any, p: Petition, *, new: bool) -> None: ...
    def stage_events(self, tx: Any, petition_id: str, events: list[dict]) -> None: ...


class OutboxWrites(Protocol):
    def stage_new(self, tx: Any, record: OutboxRecord) -> None: ...


class TimerWrites(Protocol):
    def stage(self, tx: Any, timer: Timer) -> None: ...


class ViolationWrites(Protocol):
    def stage(self, tx: Any, v: ViolationRecord) -> None: ...


class SupervisionWrites(Protocol):
    def stage_counters(self, tx: Any, pk: str, sk: str, deltas: dict[str, int]) -> None: ...
    def stage_record(self, tx: Any, record: Record, *, new: bool = False) -> None: ...


# --- planning (pure) ----------------------------------------------------------------------------------------


def plan_timer(p: Petition, env: Env) -> Timer:
    """The petition's next firing; nothing pending once it is closed, merged or done with its ladder."""
    due = next_due(p, env) if p.status not in ("closed", "merged") else None
    if due is None or p.stage is None:
        return Timer(p.id)
    return Timer(p.id, utc_key(iso(due)), p.stage.name, p.stage.fired)


def plan_outbox(
    p: Petition, notes: list[Notice], seq: int, env: Env, phones: Callable[[str], str | None]
) -> list[OutboxRecord]:
    """Outbox records for a change's notifications; ``phones`` seals another petition's citizen
    (a merged one, on the main petition's closure)."""
    records = []
    now = env.now
    for n, note in enumerate(notes):
        body: dict[str, Any] = {k: v for k, v in note.items() if k not in ("kind", "channel", "urgent")}
        if p.stage is not None and p.stage.due_at and "due" not in body.get("values", {}):
            body["values"] = {**body.get("values", {}), "due": p.stage.due_at, "stage": p.stage.name}
        urgent = bool(note.get("urgent"))
        sms = note["channel"] != "topic"
        if sms:
            target = note.get("petition") or p.id
            body["to_sealed"] = p.contact.get("phone_sealed") if target == p.id else phones(target)
        when = deliver_at(now, urgent) if sms else now
        records.append(
            OutboxRecord(
                id=f"{p.id}#{seq}#{n}",
                petition_id=p.id,
                kind=note["kind"],
                channel="sms" if sms else "topic",
                status="queued",
                created_at=iso(now),
                body=body,
                next_attempt_at=utc_key(iso(when)),
                urgent=urgent,
                district=p.district,
            )
        )
    return records


def notification_events(records: list[OutboxRecord], at: str) -> list[dict]:
    return [
        {
            "type": "notification",
            "at": at,
            "actor": "system",
            "notification": r.id,
            "kind": r.kind,
            "channel": r.channel,
            "status": "queued",
            "attempts": 0,
            "deliver_at": r.next_attempt_at if r.next_attempt_at != utc_key(at) else None,
        }
        for r in records
    ]


def plan_violations(p: Petition, violations: list[Violation], seq: int) -> list[ViolationRecord]:
    records = []
    for n, v in enumerate(violations):
        unit = v.get("unit")
        if not unit:
            continue
        detail = {k: val for k, val in v.items() if k not in ("unit", "district", "kind", "stage", "at")}
        records.append(
            ViolationRecord(
                unit=unit,
                sk=f"{utc_key(v['at'])}#{p.id}#{seq}#{n}",
                district=v["district"],
                kind=v["kind"],
                petition_id=p.id,
                stage=v["stage"],
                at=v["at"],
                detail=detail or None,
            )
        )
    return records


def plan_rollups(p: Petition, events: list[dict], env: Env) -> tuple[Petition, dict, dict]:
    """The petition with its tally and contribution brought up to date by ``events``, and the
    counter deltas that takes (keyed with the petition's shard)."""
    tally = rollups.fold(p.tally, events, p.created_at, env.calendar)
    p = replace(p, tally=tally)
    now = rollups.contribution(p, OPEN)
    units, grids = rollups.deltas(p.rolled, now)
    n = shard(p.id)
    return (
        replace(p, rolled=now),
        {(*key, n): d for key, d in units.items()},
        {(*key, n): d for key, d in grids.items()},
    )


def stage_rollups(tx: Any, store: SupervisionWrites, units: dict, grids: dict) -> None:
    for pk, sk, deltas in rollups.items(units, grids):
        store.stage_counters(tx, pk, sk, deltas)


# --- the unit of work ---------------------------------------------------------------------------------


@dataclass
class UnitOfWork:
    database: Database
    petitions: PetitionWrites
    outbox: OutboxWrites
    timers: TimerWrites
    violations: ViolationWrites
    supervision: SupervisionWrites
    # Set by the runtime once the publisher exists (it writes back through this unit of work).
    publish: Callable[[list[str], Env], None] | None = None
    # Set by the runtime: writes a new petition brings along in its own transaction (foresight's
    # broadcast recipients: the phone that used the platform), each given (tx, petition).
    on_create: list[Callable[[Any, Petition], None]] = field(default_factory=list)
    # Set by the runtime: writes any change brings along, given (tx, petition, its linked events)
    # (the grid's claim pool: posted, claimed and fallen-back items, in the petition's transaction).
    on_change: list[Callable[[Any, Petition, list[dict]], None]] = field(default_factory=list)

    def commit(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Stage] = ()
    ) -> Petition:
        """Writes the outcome atomically, then publishes its notifications; returns the petition as stored."""
        stored = self.write(outcome, env, new=new, extra=extra)
        if self.publish is not None and outcome.outbox_ids:
            self.publish(outcome.outbox_ids, env)
        return stored

    def write(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Stage] = ()
    ) -> Petition:
        """The one transaction. A lost version check is a 409 (``Conflict``); on a create
        (``new``) the failed conditions are raised as they are, for intake to tell a taken
        tracking number from a replayed idempotency key."""
        tx = self.database.transaction()
        stored: Petition | None = None
        outbox_ids: list[str] = []
        changes = [
            (outcome.petition, outcome.events, outcome.notifications, outcome.violations),
            *[(p, e, [], []) for p, e in outcome.others],
        ]
        units: dict = {}
        grids: dict = {}
        for index, (petition, events, notes, violations) in enumerate(changes):
            first_seq = petition.last_seq + 1
            records = plan_outbox(petition, notes, first_seq, env, self._sealed_phone)
            linked, last_hash = chain.link_events(
                petition.last_hash, events + notification_events(records, iso(env.now)), first_seq
            )
            timer = plan_timer(petition, env)
            # The petition remembers the timer it last wrote, in the same transaction: an unchanged
            # timer (a notification marked sent, a note) is not written again.
            write_timer = timer.key != petition.timer_key
            petition = replace(
                petition, last_hash=last_hash, last_seq=first_seq + len(linked) - 1, timer_key=timer.key
            )
            petition, unit_deltas, grid_deltas = plan_rollups(petition, linked, env)
            rollups.merge_into(units, unit_deltas)
            rollups.merge_into(grids, grid_deltas)
            self.petitions.stage(tx, petition, new=new and index == 0)
            self.petitions.stage_events(tx, petition.id, linked)
            for record in records:
                self.outbox.stage_new(tx, record)
            if write_timer:
                self.timers.stage(tx, timer)
            for v in plan_violations(petition, violations, first_seq):
                self.violations.stage(tx, v)
            for supervision_record in plan_records(petition, linked):
                self.supervision.stage_record(tx, supervision_record)
            for on_change in self.on_change:
                on_change(tx, petition, linked)
            outbox_ids += [r.id for r in records]
            if index == 0:
                stored = replace(petition, version=(petition.version or 0) + 1)
                for hook in self.on_create if new else ():
                    hook(tx, petition)
        # One update per counter item, however many petitions of the change fall under it.
        stage_rollups(tx, self.supervision, units, grids)
        for stage in extra:
            stage(tx)
        try:
            tx.commit()
        except TransactionConflict as exc:
            if new:
                raise
            raise Conflict("the petition changed meanwhile; reload and try again", code="conflict") from exc
        assert stored is not None
        outcome.outbox_ids = outbox_ids
        return stored

    def _sealed_phone(self, petition_id: str) -> str | None:
        other = self.petitions.get(petition_id)
        return other.contact.get("phone_sealed") if other else None
