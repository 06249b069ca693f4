"""The exported tables: their columns (DuckDB / Parquet / Athena types) and how a row is made.

Instants are UTC ``timestamp`` columns (``occurred_at``: ``at`` is reserved in DuckDB's SQL).
Each row lies in the ``dt`` partition of its own day (:data:`DAY_COLUMN`, in Asia/Shanghai): the
day a petition or notification was created, the day an event or violation happened. That day
never changes, so a row is in exactly one partition whatever exports ran, and every table means
one thing: each of its rows once, as the latest export saw it.
Personal data is pseudonymised: the phone becomes its keyed hash (HMAC-SHA256 under the
deployment's phone key, the same value the platform uses for look-ups), names are not
exported, free text is kept (auditors need it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.clock import SHANGHAI, parse_instant
from chalicelib.petitions.repository import from_item

TABLES: dict[str, dict[str, str]] = {
    "petitions": {
        "id": "VARCHAR",
        "channel": "VARCHAR",
        "district": "VARCHAR",
        "department": "VARCHAR",
        "first_owner": "VARCHAR",
        "category": "VARCHAR",
        "priority": "VARCHAR",
        "status": "VARCHAR",
        "anonymous": "BOOLEAN",
        "phone_pseudonym": "VARCHAR",
        "title": "VARCHAR",
        "content": "VARCHAR",
        "reply": "VARCHAR",
        "rating": "VARCHAR",
        "returns": "INTEGER",
        "reopens": "INTEGER",
        "escalation_level": "VARCHAR",
        "merged_into": "VARCHAR",
        "stage": "VARCHAR",
        "stage_due_at": "TIMESTAMP",
        "created_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
        "grid": "VARCHAR",  # the smallest grid (网格) it lies in, §10
        "grid_path": "VARCHAR",  # its grids from the top down, '/'-joined (210902-001/210902-001-001)
    },
    "events": {
        "petition_id": "VARCHAR",
        "seq": "INTEGER",
        "type": "VARCHAR",
        "occurred_at": "TIMESTAMP",
        "at_text": "VARCHAR",
        "actor": "VARCHAR",
        "data": "VARCHAR",
        "prev_hash": "VARCHAR",
        "hash": "VARCHAR",
    },
    "notifications": {
        "id": "VARCHAR",
        "petition_id": "VARCHAR",
        "kind": "VARCHAR",
        "channel": "VARCHAR",
        "status": "VARCHAR",
        "attempts": "INTEGER",
        "created_at": "TIMESTAMP",
    },
    "violations": {
        "unit": "VARCHAR",
        "district": "VARCHAR",
        "kind": "VARCHAR",
        "petition_id": "VARCHAR",
        "stage": "VARCHAR",
        "reason": "VARCHAR",
        "occurred_at": "TIMESTAMP",
    },
    # 年度考核 (§12): each unit's year-to-date assessment as of the export, one partition a day.
    "assessments": {
        "year": "INTEGER",
        "district": "VARCHAR",
        "unit": "VARCHAR",
        "name": "VARCHAR",
        "score": "DOUBLE",
        "rank": "INTEGER",
        "received": "INTEGER",
        "figures": "VARCHAR",  # JSON: each §6 rate with numerator and denominator
        "violations": "VARCHAR",  # JSON: kind → count
        "urges": "VARCHAR",
        "actions": "VARCHAR",
        "reasons": "VARCHAR",  # JSON: every term of the score with its points
        "computed_at": "TIMESTAMP",
    },
}

# The column whose Shanghai day names a row's partition: set when the row is born, never changed.
DAY_COLUMN = {
    "petitions": "created_at",
    "events": "occurred_at",
    "notifications": "created_at",
    "violations": "occurred_at",
    "assessments": "computed_at",
}


def utc(text: str | None) -> str | None:
    """ISO instant → naive UTC 'YYYY-MM-DD HH:MM:SS' (Parquet/Athena `timestamp`)."""
    if not text:
        return None
    return parse_instant(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def day_of(table: str, row: dict) -> str:
    """The row's partition: the Shanghai date (YYYY-MM-DD) of its :data:`DAY_COLUMN`."""
    value = row[DAY_COLUMN[table]]
    if not value:
        raise ValueError(f"a {table} row without {DAY_COLUMN[table]} has no partition: {row}")
    return datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(SHANGHAI).date().isoformat()


def petition_row(item) -> dict:
    p = from_item(item)  # the petition as its repository reads it (a doc leaves out what is at its default)
    stage = p.stage.to_dict() if p.stage else {}
    grid = (p.location or {}).get("grid")
    return {
        "id": p.id,
        "channel": p.channel,
        "district": p.district,
        "department": p.department,
        "first_owner": p.first_owner,
        "category": p.category,
        "priority": p.priority,
        "status": p.status,
        "anonymous": bool(p.anonymous),
        "phone_pseudonym": p.contact.get("phone_hash"),
        "title": p.title,
        "content": p.content,
        "reply": p.reply,
        "rating": p.rating,
        "returns": p.returns,
        "reopens": p.reopens,
        "escalation_level": p.escalation_level,
        "merged_into": p.merged_into,
        "stage": stage.get("name"),
        "stage_due_at": utc(stage.get("due_at")),
        "created_at": utc(p.created_at),
        "updated_at": utc(p.updated_at),
        "grid": grid,
        "grid_path": grid_path(grid),
    }


def grid_path(code: str | None) -> str | None:
    """A grid's path from its top-level grid: grid codes extend their parent's code by one
    ``-segment`` (the directory loader holds them to it), so the path is the code's prefixes."""
    if not code:
        return None
    parts = code.split("-")
    return "/".join("-".join(parts[:n]) for n in range(2, len(parts) + 1))


def event_row(item) -> dict:
    return {
        "petition_id": item.petition_id,
        "seq": int(item.seq),
        "type": item.type,
        "occurred_at": utc(item.at),
        "at_text": item.at,
        "actor": item.actor,
        "data": json.dumps(item.data or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        "prev_hash": item.prev_hash,
        "hash": item.hash,
    }


def notification_row(item) -> dict:
    return {
        "id": item.id,
        "petition_id": item.petition_id,
        "kind": item.kind,
        "channel": item.channel,
        "status": item.status,
        "attempts": int(item.attempts or 0),
        "created_at": utc(item.created_at),
    }


def violation_row(item) -> dict:
    return {
        "unit": item.unit,
        "district": item.district,
        "kind": item.kind,
        "petition_id": item.petition_id,
        "stage": item.stage,
        "reason": (item.detail or {}).get("reason"),
        "occurred_at": utc(item.at),
    }
