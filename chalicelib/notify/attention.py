"""Notifications a person must check: dead ones (every attempt failed, or no phone to send to)
and citizen SMS whose sending could not be confirmed after a crash (publisher.py). They are
listed per district for the supervision board from the outbox's sparse ``attention`` index:
a read of exactly those records, never of the outbox.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.directory.model import Directory
from chalicelib.notify.outbox import OutboxRecord

LIMIT = 200


class AttentionIndex(Protocol):
    def attention(self, district: str, limit: int) -> list[OutboxRecord]: ...


def _out(item: OutboxRecord) -> dict:
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


def list_attention(
    outbox: AttentionIndex, identity: Identity, district: str | None, directory: Directory
) -> dict:
    items: list[OutboxRecord] = []
    for code in scope.districts(identity, directory, district):
        items += outbox.attention(code, LIMIT)
    items.sort(key=lambda i: i.created_at, reverse=True)
    return {"items": [_out(i) for i in items[:LIMIT]]}
