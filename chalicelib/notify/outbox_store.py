"""The outbox table: records written in the causing transaction, claimed and marked by the publisher.

Sparse indexes: ``pending`` (shard, next_attempt_at) holds exactly the records still to be
sent, so a drain reads what is due and nothing else; ``attention`` (district, created_at)
holds the dead and unconfirmed ones for the supervision board; ``by_day`` (Shanghai day and a
shard, keys only) names the records written or marked on a day, for the daily export.

A delivery's outcome is written here alone — one conditional put of the record, its
``outcomes`` history appended — never on the petition's item: the timeline shows it after
the ``notification`` event that queued the record.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import db
from chalicelib.clock import SHANGHAI, parse_instant
from chalicelib.notify.outbox import DAY_SHARDS, SHARDS, OutboxRecord


class _Pending(GlobalSecondaryIndex):
    class Meta:
        index_name = "pending"
        projection = AllProjection()

    shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = UnicodeAttribute(range_key=True)


class _Attention(GlobalSecondaryIndex):
    """Sparse: only the records a person must look at (dead, or an SMS whose sending could not
    be confirmed), by the petition's district, newest last."""

    class Meta:
        index_name = "attention"
        projection = AllProjection()

    attention_district = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class _ByDay(GlobalSecondaryIndex):
    """Every record under the Shanghai day it was last written (created or marked): the daily
    export reads a day's notifications from here without a Scan. Keyed by (day, id), keys only:
    a mark on the day the record was written leaves its entry as it is (no index write); a
    second export on one day reads that day's records again (the rows are merged by id)."""

    class Meta:
        index_name = "by_day"
        projection = KeysOnlyProjection()

    day_shard = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@db.table("table_outbox")
class OutboxItem(Model):
    class Meta:
        table_name = "fzt-outbox"

    id = UnicodeAttribute(hash_key=True)
    petition_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()  # sms | topic
    status = UnicodeAttribute()  # queued | sending | sent | failed | dead | unconfirmed
    attempts = NumberAttribute(default=0)
    shard = UnicodeAttribute(null=True)  # present while pending: the sparse `pending` index
    next_attempt_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    urgent = BooleanAttribute(default=False)
    body = db.CompactJSON()  # template, values, topic, attributes, sealed recipient
    attention_district = UnicodeAttribute(null=True)  # present when dead or unconfirmed: `attention`
    problem = UnicodeAttribute(null=True)  # why it is dead: a reason, or the error's name
    district = UnicodeAttribute(null=True)  # the petition's (records before it was kept: none)
    outcomes = db.CompactJSON(null=True)  # [{status, at, attempts, error|reason|retry_at}], oldest first
    day_shard = UnicodeAttribute(null=True)  # `by_day`: the Shanghai day of the last write, a shard

    pending = _Pending()
    attention = _Attention()
    by_day = _ByDay()


def day_shard(record_id: str, at: str) -> str:
    day = parse_instant(at).astimezone(SHANGHAI).date().isoformat()
    return f"{day}#{db.shard_of(record_id, DAY_SHARDS):02d}"


def _record(i: OutboxItem) -> OutboxRecord:
    return OutboxRecord(
        id=i.id,
        petition_id=i.petition_id,
        kind=i.kind,
        channel=i.channel,
        status=i.status,
        created_at=i.created_at,
        body=dict(i.body or {}),
        attempts=int(i.attempts or 0),
        next_attempt_at=i.next_attempt_at,
        urgent=bool(i.urgent),
        attention_district=i.attention_district,
        problem=i.problem,
        district=i.district,
        outcomes=list(i.outcomes or []),
    )


def _item(r: OutboxRecord) -> OutboxItem:
    waiting = r.pending and r.next_attempt_at is not None
    return OutboxItem(
        id=r.id,
        petition_id=r.petition_id,
        kind=r.kind,
        channel=r.channel,
        status=r.status,
        attempts=r.attempts,
        shard=str(db.shard_of(r.id, SHARDS)) if waiting else None,
        next_attempt_at=r.next_attempt_at if waiting else None,
        created_at=r.created_at,
        urgent=r.urgent,
        body=r.body,
        attention_district=r.attention_district,
        problem=r.problem,
        district=r.district,
        outcomes=list(r.outcomes) or None,
        day_shard=day_shard(r.id, str(r.outcomes[-1]["at"]) if r.outcomes else r.created_at),
    )


class OutboxStore:
    def stage_new(self, tx: db.DynamoTransaction, record: OutboxRecord) -> None:
        tx.save("outbox", _item(record), OutboxItem.id.does_not_exist())

    def mark(self, record: OutboxRecord) -> bool:
        """The record's new state and outcome, if it is still the attempt its caller claimed (sending,
        with these attempts); False if another publisher took it over meanwhile."""
        db.bound()
        try:
            _item(record).save(
                condition=(OutboxItem.attempts == record.attempts) & (OutboxItem.status == "sending")
            )
            return True
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def changed_on(self, day: str) -> Iterator[str]:
        """The ids of the records written or last marked on a Shanghai day (YYYY-MM-DD)."""
        db.bound()
        for n in range(DAY_SHARDS):
            for k in OutboxItem.by_day.query(f"{day}#{n:02d}"):
                yield k.id

    def get(self, record_id: str) -> OutboxRecord | None:
        db.bound()
        try:
            return _record(OutboxItem.get(record_id, consistent_read=True))
        except OutboxItem.DoesNotExist:
            return None

    def get_many(self, ids: list[str]) -> list[OutboxRecord]:
        db.bound()
        return [_record(i) for i in OutboxItem.batch_get(ids, consistent_read=True)] if ids else []

    def due(self, cutoff: str) -> Iterator[OutboxRecord]:
        """Pending records whose next attempt is at or before ``cutoff`` (a UTC key), every shard."""
        db.bound()
        for shard in range(SHARDS):
            for i in OutboxItem.pending.query(str(shard), OutboxItem.next_attempt_at <= cutoff):
                yield _record(i)

    def claim(self, record: OutboxRecord, lease_until: str) -> bool:
        """queued/failed/sending → sending with attempts+1, if nobody claimed it meanwhile."""
        db.bound()
        item = _item(record)
        try:
            item.update(
                actions=[
                    OutboxItem.status.set("sending"),
                    OutboxItem.attempts.set(record.attempts + 1),
                    OutboxItem.next_attempt_at.set(lease_until),
                ],
                condition=(OutboxItem.attempts == record.attempts)
                & OutboxItem.status.is_in("queued", "failed", "sending"),
            )
            return True
        except UpdateError:
            return False  # another publisher claimed it first

    def attention(self, district: str, limit: int) -> list[OutboxRecord]:
        db.bound()
        rows = OutboxItem.attention.query(district, scan_index_forward=False, limit=limit)
        return [_record(i) for i in rows]

    def items(self, ids: list[str]) -> Iterator[OutboxItem]:
        """The stored items of these records (the export's rows), in batches."""
        db.bound()
        yield from OutboxItem.batch_get(ids) if ids else ()

    def scan(self, page_size: int = 500) -> Iterator[OutboxItem]:
        db.bound()
        yield from OutboxItem.scan(page_size=page_size)
