"""PynamoDB models: petitions, timeline events, outbox records, idempotency keys.

Index attributes (status, district, department, channel, phone_hash, created_key,
due_at) are top-level so the table's GSIs can use them; the rest of the
aggregate lives in ``doc``.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import db


class _ByDistrict(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_district"
        projection = AllProjection()

    district = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByDepartment(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_department"
        projection = AllProjection()

    department = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByChannel(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_channel"
        projection = AllProjection()

    channel = UnicodeAttribute(hash_key=True)
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
    created_key = UnicodeAttribute()  # created_at (UTC, sortable) + "#" + id
    due_at = UnicodeAttribute(null=True)  # current stage's due instant (UTC ISO), for ?overdue=true
    doc = JSONAttribute()

    by_district = _ByDistrict()
    by_department = _ByDepartment()
    by_channel = _ByChannel()
    by_phone = _ByPhone()


@db.table("table_events")
class EventItem(Model):
    class Meta:
        table_name = "fzt-events"

    petition_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    type = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    data = JSONAttribute()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()


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
    status = UnicodeAttribute()  # queued | sent | failed | dead
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


@db.table("table_idempotency")
class IdempotencyItem(Model):
    class Meta:
        table_name = "fzt-idempotency"

    key = UnicodeAttribute(hash_key=True)
    body_hash = UnicodeAttribute()
    petition_id = UnicodeAttribute()
    expires_epoch = NumberAttribute()


class _Due(GlobalSecondaryIndex):
    class Meta:
        index_name = "due"
        projection = AllProjection()

    shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


@db.table("table_timers")
class TimerItem(Model):
    """The next firing of a petition's stage clock. ``shard``/``due_at`` exist only while a step
    is pending, so the ``due`` index holds exactly the timers that will fire (sparse)."""

    class Meta:
        table_name = "fzt-timers"

    pk = UnicodeAttribute(hash_key=True)  # petition id
    sk = UnicodeAttribute(range_key=True)  # "clock"
    shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    stage = UnicodeAttribute(null=True)
    step = NumberAttribute(null=True)

    due = _Due()


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
    sk = UnicodeAttribute(range_key=True)  # at (UTC) # petition id # seq
    district = UnicodeAttribute()
    kind = UnicodeAttribute()  # slow_dispatch | refused_order | slow_handling | returned | reopened
    petition_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    at = UnicodeAttribute()
    detail = JSONAttribute(null=True)

    by_district = _ViolationsByDistrict()
