"""The supervision table: rollup counters, chiefs' boards, urges and accountability actions.

One table, several item kinds (partition key ``pk``, sort key ``sk``):

=================================  ======================================  ==============================
pk                                 sk                                      what
=================================  ======================================  ==============================
``u#<district>#<YYYY-MM>``         ``<day>#<department>#<channel>#<category>#<shard>``  §6 counters (ADDed)
``g#<district>#<YYYY-MM>``         ``<day>#<grid>#<category>#<shard>``     received per grid (hotspots)
``board#<chief>``                  ``<kind>#<petition>#<seq>``             a chief's board entry
``urge#<unit>``                    ``<at>#<petition>#<seq>``               催办单/督办单 sent to a unit
``action#<unit>``                  ``<violation sk>#<at>``                 提醒/约谈/移送纪委 on a violation
=================================  ======================================  ==============================

Counters are written by ADD inside the petition change's transaction, so they never drift from
the petitions; the other records by put, in the same transaction as the event they come from.
A month's counters of a district are one Query: a year city-wide is 12 × 8 Queries, whatever
the number of petitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import db
from chalicelib.supervision.records import Record
from chalicelib.supervision.rollups import COUNTERS, SHARDS

ROLLUP = "rollup"
RECORD = "supervision"


class _RollupMeta:
    table_name = "fzt-supervision"


# A key's counters (one shard of them): one top-level number per counter, since ADD works on
# top-level attributes; declared from COUNTERS so a new counter needs no second list.
RollupItem: Any = db.table("table_supervision")(
    type(
        "RollupItem",
        (Model,),
        {
            "__module__": __name__,
            "__doc__": "A key's rollup counters (one shard).",
            "Meta": _RollupMeta,
            "pk": UnicodeAttribute(hash_key=True),
            "sk": UnicodeAttribute(range_key=True),
            **{name: NumberAttribute(null=True) for name in COUNTERS},
        },
    )
)


@db.table("table_supervision")
class RecordItem(Model):
    class Meta:
        table_name = "fzt-supervision"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    doc = db.CompactJSON()


def shard(petition_id: str) -> int:
    return db.shard_of(petition_id, SHARDS)


class SupervisionStore:
    # --- writes, staged into the petition change's transaction -----------------------------------------

    def stage_counters(self, tx: db.DynamoTransaction, pk: str, sk: str, deltas: dict[str, int]) -> None:
        item = RollupItem(pk=pk, sk=sk)
        actions = [getattr(RollupItem, name).add(value) for name, value in sorted(deltas.items())]
        tx.update(ROLLUP, item, actions)

    def stage_record(self, tx: db.DynamoTransaction, record: Record, *, new: bool = False) -> None:
        item = RecordItem(pk=record.pk, sk=record.sk, doc=record.doc)
        tx.save(RECORD, item, RecordItem.pk.does_not_exist() if new else None)

    # --- reads ---------------------------------------------------------------------------------------

    def counters(self, pk: str, lo: str, hi: str) -> Iterator[tuple[str, dict[str, int]]]:
        """(sk, counters) of one partition with lo <= sk <= hi."""
        db.bound()
        for item in RollupItem.query(pk, RollupItem.sk.between(lo, hi)):
            values = {name: int(getattr(item, name)) for name in COUNTERS if getattr(item, name, None)}
            yield item.sk, values

    def records(self, pk: str, prefix: str = "", limit: int | None = None) -> list[Record]:
        db.bound()
        condition = RecordItem.sk.startswith(prefix) if prefix else None
        return [
            Record(i.pk, i.sk, i.doc)
            for i in RecordItem.query(pk, condition, scan_index_forward=False, limit=limit)
        ]

    def records_between(self, pk: str, lo: str, hi: str) -> list[Record]:
        db.bound()
        return [Record(i.pk, i.sk, i.doc) for i in RecordItem.query(pk, RecordItem.sk.between(lo, hi))]
