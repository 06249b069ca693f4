"""The outbox table: records written in the causing transaction, claimed and marked by the publisher.

Sparse indexes: ``pending`` (shard, next_attempt_at) holds exactly the records still to be
sent, so a drain reads what is due and nothing else; ``attention`` (district, created_at)
holds the dead and unconfirmed ones for the supervision board.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import db
from chalicelib.notify.outbox import SHARDS, OutboxRecord


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
    body = JSONAttribute()  # template, values, topic, attributes, sealed recipient
    attention_district = UnicodeAttribute(null=True)  # present when dead or unconfirmed: `attention`
    problem = UnicodeAttribute(null=True)  # why it is dead: a reason, or the error's name

    pending = _Pending()
    attention = _Attention()


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
    )


class OutboxStore:
    def stage_new(self, tx: db.DynamoTransaction, record: OutboxRecord) -> None:
        tx.save("outbox", _item(record), OutboxItem.id.does_not_exist())

    def stage_mark(self, tx: db.DynamoTransaction, record: OutboxRecord) -> None:
        tx.save("outbox-mark", _item(record))

    def get(self, record_id: str) -> OutboxRecord | None:
        db.bound()
        try:
            return _record(OutboxItem.get(record_id, consistent_read=True))
        except OutboxItem.DoesNotExist:
            return None

    def get_many(self, ids: list[str]) -> list[OutboxRecord]:
        db.bound()
        return [_record(i) for i in OutboxItem.batch_get(ids)] if ids else []

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
