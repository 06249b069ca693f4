"""Notifications a person must check: dead ones (every attempt failed, or no phone to send to)
and citizen SMS whose sending could not be confirmed after a crash (publisher.py). They are
listed per district for the supervision board from the outbox's sparse ``attention`` index:
a read of exactly those records, never of the outbox.
"""

from __future__ import annotations

from chalicelib import db
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.petitions.models import OutboxItem

LIMIT = 200


def _out(item: OutboxItem) -> dict:
    body = item.body or {}
    return {
        "id": item.id,
        "petition_id": item.petition_id,
        "kind": item.kind,
        "channel": item.channel,
        "topic": body.get("topic") if item.channel == "topic" else None,
        "status": item.status,
        "attempts": item.attempts,
        "problem": item.problem,
        "created_at": item.created_at,
    }


def list_attention(identity, district: str | None, directory) -> dict:
    db.bound()
    scope = identity.scope
    if district is not None:
        if directory.district(district) is None:
            raise InvalidInput(f"unknown district {district!r}", field="district")
        if not directory.covers(scope, district):
            raise NotFound("outside your scope", field="district")
        districts = [district]
    else:
        districts = [d.code for d in directory.districts if directory.covers(scope, d.code)]
    items: list[OutboxItem] = []
    for code in districts:
        items += OutboxItem.attention.query(code, scan_index_forward=False, limit=LIMIT)
    items.sort(key=lambda i: i.created_at, reverse=True)
    return {"items": [_out(i) for i in items[:LIMIT]]}
