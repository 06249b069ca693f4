"""An outbox record, as the publisher and the unit of work see it (no storage here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SHARDS = 16
PENDING = ("queued", "failed", "sending")
ATTENTION = ("dead", "unconfirmed")


@dataclass
class OutboxRecord:
    """One notification: an SMS to a citizen or a message to a topic.

    ``status`` goes queued → sending → sent, or → failed (retried) → dead; a crash after
    sending leaves ``sending`` (→ unconfirmed for SMS). ``next_attempt_at`` (UTC key) is
    present while it waits; ``attention_district`` once a person must look at it.
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

    @property
    def pending(self) -> bool:
        return self.status in PENDING
