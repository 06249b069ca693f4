"""The petitions feature's tables, mapped: petitions and their timeline events.

A plain mapper. It reads petitions and timelines, and *stages* a petition's new state
(conditional on its version, or on not existing yet) and its linked events into a
transaction that the unit of work commits with the other features' writes. It plans
nothing and imports no other feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import MISSING, asdict, fields
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib import db
from chalicelib.clock import SHANGHAI, parse_instant, utc_key
from chalicelib.petitions.domain import Petition
from chalicelib.petitions.models import DAY_SHARDS, EventItem, PetitionItem
from chalicelib.petitions.paging import merge_page
from chalicelib.timing.stage import StageClock

PETITION = "petition"
EVENT = "event"
FETCH_BATCH = 100  # BatchGetItem's most keys a request


# --- mapping ---------------------------------------------------------------------------------------------


# What the item's own attributes already hold (from_item puts them back): not repeated in ``doc``.
ON_ITEM = ("id", "version", "status", "district", "department", "channel")


# A field at its dataclass default is left out of ``doc`` (Petition(**doc) restores it): most of a
# petition's fields are unset for most of its life, and DynamoDB bills each started KB of the item.
def _defaults() -> dict[str, Any]:
    """Each field's default as to_doc writes it (tuples as lists): a doc's value compares as is."""
    out: dict[str, Any] = {}
    for f in fields(Petition):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


DEFAULTS = _defaults()


def to_doc(p: Petition) -> dict:
    d = asdict(p)
    d["stage"] = p.stage.to_dict() if p.stage else None
    d["co_departments"] = list(p.co_departments)
    d["merged"] = list(p.merged)
    return {k: v for k, v in d.items() if k not in ON_ITEM and (k not in DEFAULTS or v != DEFAULTS[k])}


def from_item(item: PetitionItem) -> Petition:
    d = dict(item.doc)
    # items written before ON_ITEM left the doc carry these in it too; the attributes are the same values
    d.update(
        id=item.id,
        status=item.status,
        district=item.district,
        department=item.department,
        channel=item.channel,
    )
    d["version"] = int(item.version or 0)
    d["stage"] = StageClock.from_dict(d.get("stage"))
    d["co_departments"] = tuple(d.get("co_departments") or ())
    d["merged"] = tuple(d.get("merged") or ())
    return Petition(**d)


def to_item(p: Petition) -> PetitionItem:
    doc = to_doc(p)
    due = p.stage.due_at if p.stage and p.stage.running and p.stage.due_at else None
    item = PetitionItem(
        id=p.id,
        status=p.status,
        district=p.district,
        department=p.department,
        channel=p.channel,
        phone_hash=p.contact.get("phone_hash"),
        first_unit=(p.first_inquiry or {}).get("unit"),
        created_key=f"{utc_key(p.created_at)}#{p.id}",
        due_at=utc_key(due) if due else None,
        doc=doc,
    )
    if p.version:
        item.version = p.version  # PynamoDB checks version == this and writes this + 1
    return item


def _event_out(e: EventItem) -> dict:
    return {
        "seq": int(e.seq),
        "type": e.type,
        "at": e.at,
        "actor": e.actor,
        **(e.data or {}),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def day_shard(petition_id: str, at: str) -> str:
    """An event's `by_day` key: its Shanghai day and a shard of its petition."""
    day = parse_instant(at).astimezone(SHANGHAI).date().isoformat()
    return f"{day}#{db.shard_of(petition_id, DAY_SHARDS):02d}"


class PetitionRepository:
    # --- reads -----------------------------------------------------------------------------------------

    def get(self, petition_id: str) -> Petition | None:
        db.bound()
        try:
            return from_item(PetitionItem.get(petition_id, consistent_read=True))
        except DoesNotExist:
            return None

    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]:
        """The petition's events in order; with ``upto``, those up to that seq (the petition's
        ``last_seq`` as read, so a petition and its timeline always show the same version)."""
        db.bound()
        condition = EventItem.seq <= upto if upto is not None else None
        return [_event_out(e) for e in EventItem.query(petition_id, condition, consistent_read=True)]

    def by_phone(self, phone_hash: str, limit: int) -> list[str]:
        """The ids of a phone's most recent petitions, newest first (a keys-only index)."""
        db.bound()
        return [k.id for k in PetitionItem.by_phone.query(phone_hash, scan_index_forward=False, limit=limit)]

    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterator[Petition]:
        """Petitions of one district or department created in [lo, hi] (UTC keys), oldest first:
        the index names them, the table gives them whole, a batch at a time."""
        db.bound()
        indexes = {"district": PetitionItem.by_district, "department": PetitionItem.by_department}
        ids: list[str] = []
        for entry in indexes[index].query(key, PetitionItem.created_key.between(lo, hi)):
            ids.append(entry.id)
            if len(ids) == FETCH_BATCH:
                yield from self._whole(ids)
                ids = []
        yield from self._whole(ids)

    def _whole(self, ids: list[str]) -> list[Petition]:
        """The petitions of these ids, in this order. An index entry is written after its item, but an
        eventually consistent read of the table may still miss a new one: those are read again strongly."""
        if not ids:
            return []
        found = {i.id: i for i in PetitionItem.batch_get(ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update((i.id, i) for i in PetitionItem.batch_get(missing, consistent_read=True))
        return [from_item(found[i]) for i in ids if i in found]

    def page(
        self,
        partitions: list[tuple[str, str]],
        limit: int,
        cursor: dict,
        *,
        status: str | None = None,
        district: str | None = None,
        due_before: str | None = None,
        department: str | None = None,
    ) -> tuple[list[Petition], dict | None]:
        """Newest first across several index partitions (a k-way merge), resumable by cursor.

        ``partitions`` are (index, key) pairs (one district, or the eight of the city).
        The cursor holds, per partition, the sort key of the last item handed out
        ("" once that partition is used up), so a page reads at most ``limit``
        matching items per partition and never repeats or skips one.
        """
        db.bound()
        filters: Condition | None = None
        for cond in (
            PetitionItem.status == status if status else None,
            PetitionItem.district == district if district else None,
            PetitionItem.due_at < due_before if due_before else None,
            PetitionItem.department == department if department else None,
        ):
            if cond is not None:
                filters = cond if filters is None else filters & cond
        indexes = {
            "district": PetitionItem.by_district,
            "department": PetitionItem.by_department,
            "channel": PetitionItem.by_channel,
            "first_unit": PetitionItem.by_first_unit,
        }
        candidates: list[tuple[str, str, str]] = []  # (created_key, partition, petition id)
        done: dict[str, bool] = {}
        for index, key in partitions:
            name = f"{index}:{key}"
            if cursor.get(name) == "":
                continue
            condition = PetitionItem.created_key < cursor[name] if cursor.get(name) else None
            # PynamoDB keeps reading past filtered-out items until `limit` match or the partition ends.
            # The filters read the index's projected attributes (models.py): the entries carry them.
            results = indexes[index].query(
                key, condition, filter_condition=filters, scan_index_forward=False, limit=limit
            )
            candidates += [(entry.created_key, name, entry.id) for entry in results]
            done[name] = results.last_evaluated_key is None
        ids, state = merge_page(partitions, candidates, done, limit, cursor)
        # Only the page's own petitions are read whole, in the page's order.
        return self._whole(ids), state

    def scan(self, page_size: int = 500) -> Iterator[PetitionItem]:
        db.bound()
        yield from PetitionItem.scan(page_size=page_size)

    def scan_events(self, page_size: int = 500) -> Iterator[EventItem]:
        db.bound()
        yield from EventItem.scan(page_size=page_size)

    def events_on(self, day: str, since: str | None = None) -> Iterator[EventItem]:
        """The events of a Shanghai day (YYYY-MM-DD), from ``since`` on (an instant of that day, ISO
        with the +08:00 offset every event's ``at`` has), from the `by_day` index: the daily export."""
        db.bound()
        for n in range(DAY_SHARDS):
            condition = EventItem.at >= since if since else None
            yield from EventItem.by_day.query(f"{day}#{n:02d}", condition)

    def items(self, ids: list[str]) -> Iterator[PetitionItem]:
        """The stored items of these petitions (the export's rows), in batches."""
        db.bound()
        yield from PetitionItem.batch_get(ids) if ids else ()

    # --- writes (staged; the unit of work commits) ----------------------------------------------------

    def stage(self, tx: db.DynamoTransaction, p: Petition, *, new: bool) -> None:
        """The petition's new state: conditional on not existing (new) or on its version."""
        tx.save(PETITION, to_item(p), PetitionItem.id.does_not_exist() if new else None)

    def stage_events(self, tx: db.DynamoTransaction, petition_id: str, events: list[dict]) -> None:
        """Linked events (with seq, prev_hash, hash); a seq already taken fails the transaction."""
        for e in events:
            data = {
                k: v for k, v in e.items() if k not in ("seq", "type", "at", "actor", "prev_hash", "hash")
            }
            item = EventItem(
                petition_id=petition_id,
                seq=e["seq"],
                type=e["type"],
                at=e["at"],
                actor=e["actor"],
                data=data,
                prev_hash=e["prev_hash"],
                hash=e["hash"],
                day_shard=day_shard(petition_id, e["at"]),
            )
            tx.save(EVENT, item, EventItem.seq.does_not_exist())
