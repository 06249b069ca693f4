"""The timers table: a petition's next SLA firing. ``shard``/``due_at`` exist only while a
step is pending, so the sparse ``due`` index holds exactly the timers that will fire and the
sweep reads what is due, never the table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import db

SHARDS = 16


class _Due(GlobalSecondaryIndex):
    class Meta:
        index_name = "due"
        projection = AllProjection()

    shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


@db.table("table_timers")
class TimerItem(Model):
    class Meta:
        table_name = "fzt-timers"

    pk = UnicodeAttribute(hash_key=True)  # petition id
    sk = UnicodeAttribute(range_key=True)  # "clock"
    shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    stage = UnicodeAttribute(null=True)
    step = NumberAttribute(null=True)

    due = _Due()


@dataclass(frozen=True)
class Timer:
    """When a petition's stage fires next (``due_at`` a UTC key), or None: nothing pending."""

    petition_id: str
    due_at: str | None = None
    stage: str | None = None
    step: int | None = None

    @property
    def key(self) -> str:
        """What the petition remembers of the timer it last wrote (unchanged → not written again)."""
        shard = db.shard_of(self.petition_id, SHARDS) if self.due_at else None
        return f"{shard}|{self.due_at}|{self.step}"


def _item(t: Timer) -> TimerItem:
    item = TimerItem(pk=t.petition_id, sk="clock")
    if t.due_at is not None:
        item.shard = str(db.shard_of(t.petition_id, SHARDS))
        item.due_at = t.due_at
        item.stage = t.stage
        item.step = t.step
    return item


class TimerStore:
    def stage(self, tx: db.DynamoTransaction, timer: Timer) -> None:
        tx.save("timer", _item(timer))

    def put(self, timer: Timer) -> None:
        db.bound()
        _item(timer).save()

    def due(self, cutoff: str) -> Iterator[Timer]:
        """Timers due at or before ``cutoff`` (UTC key), shard by shard from the sparse index."""
        db.bound()
        for shard in range(SHARDS):
            for t in TimerItem.due.query(str(shard), TimerItem.due_at <= cutoff):
                yield Timer(t.pk, t.due_at, t.stage, int(t.step) if t.step is not None else None)

    def pending_from(self, cutoff: str) -> Iterator[Timer]:
        """Timers still to fire at or after ``cutoff`` (a calendar notice may move them)."""
        db.bound()
        for shard in range(SHARDS):
            for t in TimerItem.due.query(str(shard), TimerItem.due_at >= cutoff):
                yield Timer(t.pk, t.due_at, t.stage, int(t.step) if t.step is not None else None)
