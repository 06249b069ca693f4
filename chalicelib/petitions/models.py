"""PynamoDB models of the petitions feature: petitions and their timeline events.

Index attributes (status, district, department, channel, phone_hash, created_key,
due_at) are top-level so the table's GSIs can use them; the rest of the
aggregate lives in ``doc``.

The listing indexes project only what their readers filter on (INCLUDE), never the
~2 KB ``doc``: DynamoDB rewrites an index entry when its keys or a projected attribute
change, so a write that changes neither costs the index nothing, and one that does
costs one unit instead of the whole item again. Readers fetch the petitions of a page
by key (``PetitionRepository.page``). infra/template.yaml declares the same projections
(tests/integration/test_petition_indexes.py holds the two together).
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import db


# Each listing index includes what PetitionRepository.page may filter on (status, district,
# department, due_at) less its own key: a filter reads the index entry, not the table's item.
class _ByDistrict(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_district"
        projection = IncludeProjection(["status", "department", "due_at"])

    district = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_department"
        projection = IncludeProjection(["status", "district", "due_at"])

    department = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByChannel(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_channel"
        projection = IncludeProjection(["status", "district", "department", "due_at"])

    channel = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByFirstUnit(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_first_unit"
        projection = IncludeProjection(["status", "district", "department", "due_at"])

    first_unit = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByPhone(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_phone"
        projection = KeysOnlyProjection()

    phone_hash = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@db.table("table_petitions")
class PetitionItem(Model):
    class Meta:
        table_name = "fzt-petitions"

    id = UnicodeAttribute(hash_key=True)
    version = VersionAttribute()
    status = UnicodeAttribute()
    district = UnicodeAttribute()
    department = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()
    phone_hash = UnicodeAttribute(null=True)
    first_unit = UnicodeAttribute(null=True)  # the first-inquiry unit (首问负责), for the desk's list
    created_key = UnicodeAttribute()  # created_at (UTC, sortable) + "#" + id
    due_at = UnicodeAttribute(null=True)  # current stage's due instant (UTC ISO), for ?overdue=true
    doc = db.CompactJSON()

    by_district = _ByDistrict()
    by_department = _ByDepartment()
    by_channel = _ByChannel()
    by_phone = _ByPhone()
    by_first_unit = _ByFirstUnit()


class _EventsByDay(GlobalSecondaryIndex):
    """Every event by its Shanghai day (sharded: a busy day spreads over DAY_SHARDS partitions), so
    the daily export reads the day's changes and nothing older (chalicelib/audit/changes.py)."""

    class Meta:
        index_name = "by_day"
        projection = AllProjection()

    day_shard = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


DAY_SHARDS = 16


@db.table("table_events")
class EventItem(Model):
    class Meta:
        table_name = "fzt-events"

    petition_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    type = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    data = db.CompactJSON()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    day_shard = UnicodeAttribute(null=True)  # "YYYY-MM-DD#n": the `by_day` index (day in Shanghai)

    by_day = _EventsByDay()
