"""All persistence of petitions. A state change, its timeline events, its outbox
records (and, on create, the idempotency key) commit in ONE conditional
TransactWriteItems with an optimistic version check: no event without its change,
no change without its event, and of two racing writers exactly one wins.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import asdict, replace
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import db
from chalicelib.clock import iso, parse_instant
from chalicelib.errors import Conflict, InvalidInput
from chalicelib.notify.quiet import deliver_at
from chalicelib.petitions import chain
from chalicelib.petitions.clock import StageClock
from chalicelib.petitions.domain import Outcome, Petition
from chalicelib.petitions.models import (
    EventItem,
    IdempotencyItem,
    OutboxItem,
    PetitionItem,
    TimerItem,
    ViolationItem,
)

OUTBOX_SHARDS = 16
TIMER_SHARDS = 16


class IdempotencyClash(Exception):
    """The idempotency item already exists (its petition may be returned, or the body differs)."""


class IdClash(Exception):
    """The tracking number is taken (a one-in-hundreds-of-millions draw): draw again."""


def utc_key(instant_iso: str) -> str:
    return parse_instant(instant_iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- mapping ---------------------------------------------------------------------------------------------


def to_doc(p: Petition) -> dict:
    d = asdict(p)
    d["stage"] = p.stage.to_dict() if p.stage else None
    d["co_departments"] = list(p.co_departments)
    d["merged"] = list(p.merged)
    return d


def from_item(item: PetitionItem) -> Petition:
    d = dict(item.doc)
    d["version"] = int(item.version or 0)
    d["stage"] = StageClock.from_dict(d.get("stage"))
    d["co_departments"] = tuple(d.get("co_departments") or ())
    d["merged"] = tuple(d.get("merged") or ())
    return Petition(**d)


def to_item(p: Petition) -> PetitionItem:
    doc = to_doc(p)
    doc.pop("version")
    due = p.stage.due_at if p.stage and p.stage.running and p.stage.due_at else None
    item = PetitionItem(
        id=p.id,
        status=p.status,
        district=p.district,
        department=p.department,
        channel=p.channel,
        phone_hash=p.contact.get("phone_hash"),
        created_key=f"{utc_key(p.created_at)}#{p.id}",
        due_at=utc_key(due) if due else None,
        doc=doc,
    )
    if p.version:
        item.version = p.version  # PynamoDB checks version == this and writes this + 1
    return item


# --- reads --------------------------------------------------------------------------------------------------


def get(petition_id: str) -> Petition | None:
    db.bound()
    try:
        return from_item(PetitionItem.get(petition_id, consistent_read=True))
    except DoesNotExist:
        return None


def timeline(petition_id: str) -> list[dict]:
    db.bound()
    events = []
    for e in EventItem.query(petition_id, consistent_read=True):
        events.append(
            {
                "seq": int(e.seq),
                "type": e.type,
                "at": e.at,
                "actor": e.actor,
                **(e.data or {}),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
        )
    return events


# --- writes -------------------------------------------------------------------------------------------------


def _event_items(p: Petition, events: list[dict], first_seq: int) -> tuple[list[EventItem], str]:
    items, prev = [], p.last_hash
    for offset, event in enumerate(events):
        seq = first_seq + offset
        body = {"seq": seq, **event}
        digest = chain.link(prev, {**body, "prev_hash": prev})
        data = {k: v for k, v in event.items() if k not in ("type", "at", "actor")}
        items.append(
            EventItem(
                petition_id=p.id,
                seq=seq,
                type=event["type"],
                at=event["at"],
                actor=event["actor"],
                data=data,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return items, prev


def _outbox_items(p: Petition, notes: list[dict], seq: int, now: datetime) -> list[OutboxItem]:
    items = []
    for n, note in enumerate(notes):
        oid = f"{p.id}#{seq}#{n}"
        body = {k: v for k, v in note.items() if k not in ("kind", "channel", "urgent")}
        if p.stage is not None and p.stage.due_at and "due" not in body.get("values", {}):
            body["values"] = {**body.get("values", {}), "due": p.stage.due_at, "stage": p.stage.name}
        urgent = bool(note.get("urgent"))
        when = deliver_at(now, urgent) if note["channel"] == "sms" else now
        items.append(
            OutboxItem(
                id=oid,
                petition_id=p.id,
                kind=note["kind"],
                channel="topic" if note["channel"] == "topic" else "sms",
                status="queued",
                attempts=0,
                shard=str(shard_of(oid, OUTBOX_SHARDS)),
                next_attempt_at=utc_key(iso(when)),
                created_at=iso(now),
                urgent=urgent,
                body=body,
            )
        )
    return items


def shard_of(key: str, shards: int) -> int:
    """A stable shard for a sparse index partition (crc32: the same in every process)."""
    return zlib.crc32(key.encode()) % shards


def _notification_events(outbox: list[OutboxItem], at: str) -> list[dict]:
    return [
        {
            "type": "notification",
            "at": at,
            "actor": "system",
            "notification": o.id,
            "kind": o.kind,
            "channel": o.channel,
            "status": "queued",
            "attempts": 0,
            "deliver_at": o.next_attempt_at if o.next_attempt_at != utc_key(at) else None,
        }
        for o in outbox
    ]


def _timer_item(p: Petition, env) -> TimerItem:
    """The petition's next firing; without shard/due_at it stays out of the sparse `due` index."""
    from chalicelib.sla.ladder import next_due

    due = next_due(p, env) if p.status not in ("closed", "merged") else None
    item = TimerItem(pk=p.id, sk="clock")
    if due is not None and p.stage is not None:
        item.shard = str(timer_shard(p.id))
        item.due_at = utc_key(iso(due))
        item.stage = p.stage.name
        item.step = p.stage.fired
    return item


def refresh_timer(p: Petition, env) -> None:
    """Rewrites a timer that came due with nothing to fire (its deadline moved later).

    Only the timer moves; the petition's ``timer_key`` keeps the old value, so its next
    commit writes the timer again (never skips a needed write)."""
    db.bound()
    _timer_item(p, env).save()


def timer_shard(petition_id: str) -> int:
    return shard_of(petition_id, TIMER_SHARDS)


def _violation_items(p: Petition, violations: list[dict], seq: int) -> list[ViolationItem]:
    items = []
    for n, v in enumerate(violations):
        if not v.get("unit"):
            continue
        items.append(
            ViolationItem(
                unit=v["unit"],
                sk=f"{utc_key(v['at'])}#{p.id}#{seq}#{n}",
                district=v["district"],
                kind=v["kind"],
                petition_id=p.id,
                stage=v["stage"],
                at=v["at"],
                detail={
                    k: val for k, val in v.items() if k not in ("unit", "district", "kind", "stage", "at")
                }
                or None,
            )
        )
    return items


def commit(
    outcome: Outcome,
    env,
    *,
    recipients: dict[str, str] | None = None,
    idempotency: IdempotencyItem | None = None,
    idempotency_condition=None,
    new: bool = False,
    extra_writes: list[tuple[str, object, object]] | None = None,
) -> Petition:
    """Writes the outcome atomically; returns the petition as stored (version bumped).

    In one TransactWriteItems: each changed petition (conditional on its version, or on
    not existing yet), its timeline events, its outbox records, its timer (the next
    firing of its stage clock), violations, and on create the idempotency key.
    ``recipients`` maps petition ids to sealed phones for SMS to other petitions'
    citizens (the merged ones, on the main petition's closure).
    """
    db.bound()
    now = env.now
    writes: list[tuple[str, object, object]] = []
    stored: Petition | None = None
    changes = [
        (outcome.petition, outcome.events, outcome.notifications, outcome.violations),
        *[(p, e, [], []) for p, e in outcome.others],
    ]
    for index, (petition, events, notes, violations) in enumerate(changes):
        first_seq = petition.last_seq + 1
        outbox = _outbox_items(petition, notes, first_seq, now)
        for o in outbox:
            if o.channel == "sms":
                target = o.body.get("petition") or petition.id
                sealed = (
                    petition.contact.get("phone_sealed")
                    if target == petition.id
                    else (recipients or {}).get(target)
                )
                o.body = {**o.body, "to_sealed": sealed}
        all_events = events + _notification_events(outbox, iso(now))
        event_items, last_hash = _event_items(petition, all_events, first_seq)
        timer = _timer_item(petition, env)
        # The petition remembers the timer it last wrote, in the same transaction: an unchanged
        # timer (a notification marked sent, a note) is not written again.
        timer_key = f"{timer.shard}|{timer.due_at}|{timer.step}"
        write_timer = timer_key != petition.timer_key
        petition = replace(
            petition, last_hash=last_hash, last_seq=first_seq + len(all_events) - 1, timer_key=timer_key
        )
        item = to_item(petition)
        condition = PetitionItem.id.does_not_exist() if new and index == 0 else None
        writes.append(("petition", item, condition))
        writes += [("event", e, EventItem.seq.does_not_exist()) for e in event_items]
        writes += [("outbox", o, OutboxItem.id.does_not_exist()) for o in outbox]
        if write_timer:
            writes.append(("timer", timer, None))
        writes += [("violation", v, None) for v in _violation_items(petition, violations, first_seq)]
        if index == 0:
            stored = replace(petition, version=(petition.version or 0) + 1)
    if idempotency is not None:
        writes.append(("idempotency", idempotency, idempotency_condition))
    writes += extra_writes or []
    try:
        with TransactWrite(connection=db.connection()) as tx:
            for _, item, condition in writes:
                tx.save(item, condition=condition)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        kinds = [
            writes[i][0]
            for i, r in enumerate(reasons)
            if r is not None and r.code == "ConditionalCheckFailed"
        ]
        if "idempotency" in kinds:
            raise IdempotencyClash() from exc
        if new and "petition" in kinds:
            raise IdClash() from exc
        if kinds:
            raise Conflict("the petition changed meanwhile; reload and try again", code="conflict") from exc
        raise
    assert stored is not None
    outcome.outbox_ids = [item.id for kind, item, _ in writes if kind == "outbox"]
    return stored


# --- listing ---------------------------------------------------------------------------------------


def encode_cursor(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> dict:
    if not text:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(state, dict) or not all(isinstance(v, str) for v in state.values()):
            raise ValueError
        return state
    except ValueError as exc:
        raise InvalidInput("cursor is not one this API issued", field="cursor") from exc


def page(
    partitions: list[tuple[str, str]], limit: int, cursor: dict, filters
) -> tuple[list[Petition], dict | None]:
    """Newest first across several index partitions (a k-way merge), resumable by cursor.

    ``partitions`` are (index, key) pairs (one district, or the eight of the city).
    The cursor holds, per partition, the sort key of the last item handed out
    ("" once that partition is used up), so a page reads at most ``limit``
    matching items per partition and never repeats or skips one.
    """
    db.bound()
    indexes = {
        "district": PetitionItem.by_district,
        "department": PetitionItem.by_department,
        "channel": PetitionItem.by_channel,
    }
    candidates: list[tuple[str, str, Petition]] = []
    done: dict[str, bool] = {}
    for index, key in partitions:
        name = f"{index}:{key}"
        if cursor.get(name) == "":
            continue
        condition = PetitionItem.created_key < cursor[name] if cursor.get(name) else None
        # PynamoDB keeps reading past filtered-out items until `limit` match or the partition ends.
        results = indexes[index].query(
            key, condition, filter_condition=filters, scan_index_forward=False, limit=limit
        )
        candidates += [(f"{utc_key(p.created_at)}#{p.id}", name, p) for p in (from_item(i) for i in results)]
        done[name] = results.last_evaluated_key is None
    candidates.sort(key=lambda c: c[0], reverse=True)
    taken, left = candidates[:limit], candidates[limit:]
    state = dict(cursor)
    for sort_key, name, _ in taken:
        state[name] = sort_key
    for name, finished in done.items():
        if finished and not any(c[1] == name for c in left):
            state[name] = ""
    more = any(state.get(f"{i}:{k}") != "" for i, k in partitions)
    return [p for _, _, p in taken], (state if more else None)
