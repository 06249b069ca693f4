"""An outbox record, as the publisher and the unit of work see it (no storage here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SHARDS = 16
DAY_SHARDS = 4  # the `by_day` index's partitions per Shanghai day (the daily export reads them all)
PENDING = ("queued", "failed", "sending")
ATTENTION = ("dead", "unconfirmed")


@dataclass
class OutboxRecord:
    """One notification: an SMS to a citizen or a message to a topic.

    ``status`` goes queued → sending → sent, or → failed (retried) → dead; a crash after
    sending leaves ``sending`` (→ unconfirmed for SMS). ``next_attempt_at`` (UTC key) is
    present while it waits; ``attention_district`` once a person must look at it.

    ``outcomes`` is the record's own history, one entry per attempt's outcome (``status``, ``at``,
    ``attempts``, and ``error``/``reason``/``retry_at``): the petition's timeline shows them after
    the ``notification`` event that queued the record (written with the change that caused it), so
    a delivery never rewrites the petition. ``district`` is the petition's, for ``attention``.
    """

    id: str
    petition_id: str
    kind: str
    channel: str  # sms | topic
    status: str
    created_at: str
    body: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    next_attempt_at: str | None = None
    urgent: bool = False
    attention_district: str | None = None
    problem: str | None = None
    district: str | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.status in PENDING


def outcome_events(records: list[OutboxRecord]) -> list[dict[str, Any]]:
    """The records' delivery outcomes as the timeline shows them: ``notification`` events."""
    return [
        {
            "type": "notification",
            "actor": "system:notify",
            "notification": r.id,
            "kind": r.kind,
            "channel": r.channel,
            **o,
        }
        for r in records
        for o in r.outcomes
    ]
