"""The center table: mediation cases with their events, and 逢六说事 meetings.

One table, items by kind:
- ``mediation#<id>`` / ``case``: the case (version-checked), with ``unit_key``
  (``mediation#<center or court>``) and ``district_key`` (``mediation#<district>``) for the
  ``by_unit`` and ``by_district`` indexes, ranged by ``created_key`` (created UTC key + id);
- ``mediation#<id>`` / ``event#<seq>``: its events, append-only (a seq is written once);
- ``meeting#<id>`` / ``meeting``: a meeting (version-checked), ``unit_key`` ``meeting#<grid>``,
  ``district_key`` ``meeting#<district>``, ranged by its date + id.
Parties' names and phones arrive sealed; nothing here sees them in clear.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import db
from chalicelib.center.mediation import Mediation, Party
from chalicelib.center.meetings import Meeting
from chalicelib.clock import utc_key

LABEL_CASE = "mediation"
LABEL_MEETING = "meeting"


class _ByUnit(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByDistrict(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_district"
        projection = AllProjection()

    district_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@db.table("table_center")
class CenterItem(Model):
    class Meta:
        table_name = "fzt-center"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = NumberAttribute(null=True)
    unit_key = UnicodeAttribute(null=True)
    district_key = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    doc = db.CompactJSON()

    by_unit = _ByUnit()
    by_district = _ByDistrict()


def _case_doc(case: Mediation) -> dict:
    doc = dataclasses.asdict(case)
    doc.pop("version")
    return doc


def _case(item: CenterItem) -> Mediation:
    doc = dict(item.doc)
    doc["parties"] = tuple(Party(**p) for p in doc.get("parties") or ())
    doc["sessions"] = tuple(doc.get("sessions") or ())
    doc["evidence"] = tuple(doc.get("evidence") or ())
    return Mediation(version=int(item.version or 0), **doc)


def _meeting(item: CenterItem) -> Meeting:
    doc = dict(item.doc)
    doc["issues"] = tuple(doc.get("issues") or ())
    return Meeting(version=int(item.version or 0), **doc)


def _versioned(new: bool, version: int):
    return CenterItem.pk.does_not_exist() if new else CenterItem.version == version


class CenterStore:
    # --- mediations ---------------------------------------------------------------------------------
    def stage_case(self, tx: db.DynamoTransaction, case: Mediation, *, new: bool) -> None:
        item = CenterItem(
            pk=f"mediation#{case.id}",
            sk="case",
            version=case.version + 1,
            unit_key=f"mediation#{case.unit}",
            district_key=f"mediation#{case.district}",
            created_key=f"{utc_key(case.created_at)}#{case.id}",
            doc=_case_doc(case),
        )
        tx.save(LABEL_CASE, item, _versioned(new, case.version))

    def stage_case_events(self, tx: db.DynamoTransaction, case_id: str, events: list[dict]) -> None:
        for e in events:
            item = CenterItem(pk=f"mediation#{case_id}", sk=f"event#{e['seq']:06d}", doc=e)
            tx.save("mediation-event", item, CenterItem.pk.does_not_exist())

    def case(self, case_id: str) -> Mediation | None:
        db.bound()
        try:
            return _case(CenterItem.get(f"mediation#{case_id}", "case", consistent_read=True))
        except CenterItem.DoesNotExist:
            return None

    def case_events(self, case_id: str) -> list[dict]:
        db.bound()
        rows = CenterItem.query(
            f"mediation#{case_id}", CenterItem.sk.startswith("event#"), consistent_read=True
        )
        return [dict(i.doc) for i in rows]

    def cases(self, index: str, key: str, lo: str = "0", hi: str = "~") -> Iterator[Mediation]:
        """Cases of a unit (``index="unit"``) or a district, created between two UTC keys, oldest first."""
        db.bound()
        gsi = CenterItem.by_unit if index == "unit" else CenterItem.by_district
        for item in gsi.query(f"mediation#{key}", CenterItem.created_key.between(lo, hi)):
            yield _case(item)

    # --- meetings -----------------------------------------------------------------------------------
    def stage_meeting(self, tx: db.DynamoTransaction, meeting: Meeting, *, new: bool) -> None:
        doc = dataclasses.asdict(meeting)
        doc.pop("version")
        item = CenterItem(
            pk=f"meeting#{meeting.id}",
            sk="meeting",
            version=meeting.version + 1,
            unit_key=f"meeting#{meeting.grid}",
            district_key=f"meeting#{meeting.district}",
            created_key=f"{meeting.date}#{meeting.id}",
            doc=doc,
        )
        tx.save(LABEL_MEETING, item, _versioned(new, meeting.version))

    def meeting(self, meeting_id: str) -> Meeting | None:
        db.bound()
        try:
            return _meeting(CenterItem.get(f"meeting#{meeting_id}", "meeting", consistent_read=True))
        except CenterItem.DoesNotExist:
            return None

    def meetings(self, index: str, key: str) -> list[Meeting]:
        """A grid's (``index="grid"``) or a district's meetings, newest first."""
        db.bound()
        gsi = CenterItem.by_unit if index == "grid" else CenterItem.by_district
        return [_meeting(i) for i in gsi.query(f"meeting#{key}", scan_index_forward=False)]
