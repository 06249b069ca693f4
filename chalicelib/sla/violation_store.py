"""The violations table (问责记录): one row per violation against a unit, by unit and by district."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import db


class _ViolationsByDistrict(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_district"
        projection = AllProjection()

    district = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


@db.table("table_violations")
class ViolationItem(Model):
    """问责记录: one row per violation against a unit (department, or a district's dispatch desk)."""

    class Meta:
        table_name = "fzt-violations"

    unit = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # at (UTC) # petition id # seq # n
    district = UnicodeAttribute()
    kind = (
        UnicodeAttribute()
    )  # slow_dispatch | refused_order | slow_handling | returned | reopened | sloppy_handling
    petition_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    at = UnicodeAttribute()
    detail = db.CompactJSON(null=True)

    by_district = _ViolationsByDistrict()


@dataclass(frozen=True)
class ViolationRecord:
    unit: str
    sk: str
    district: str
    kind: str
    petition_id: str
    stage: str
    at: str
    detail: dict[str, Any] | None = field(default=None)


def _record(v: ViolationItem) -> ViolationRecord:
    return ViolationRecord(v.unit, v.sk, v.district, v.kind, v.petition_id, v.stage, v.at, v.detail)


class ViolationStore:
    def stage(self, tx: db.DynamoTransaction, v: ViolationRecord) -> None:
        tx.save(
            "violation",
            ViolationItem(
                unit=v.unit,
                sk=v.sk,
                district=v.district,
                kind=v.kind,
                petition_id=v.petition_id,
                stage=v.stage,
                at=v.at,
                detail=v.detail,
            ),
        )

    def get(self, unit: str, sk: str) -> ViolationRecord | None:
        db.bound()
        try:
            return _record(ViolationItem.get(unit, sk))
        except ViolationItem.DoesNotExist:
            return None

    def of_unit(self, unit: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]:
        db.bound()
        rows = ViolationItem.query(
            unit, ViolationItem.sk.between(lo, hi), scan_index_forward=False, limit=limit
        )
        return [_record(v) for v in rows]

    def of_district(self, district: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]:
        db.bound()
        rows = ViolationItem.by_district.query(
            district, ViolationItem.sk.between(lo, hi), scan_index_forward=False, limit=limit
        )
        return [_record(v) for v in rows]

    def in_district(self, district: str) -> Iterator[ViolationItem]:
        """Every violation of a district, from the `by_district` index: the auditors' first (full)
        export reads the table district by district, never by a Scan."""
        db.bound()
        yield from ViolationItem.by_district.query(district)
