"""The outbox publisher: delivers queued notifications, at least once for topic messages, at
most once across a crash for citizen SMS, and puts every outcome on the timeline.

A record goes queued → sending (claimed with a conditional write: attempts+1 and a
lease) → sent, or → failed (retried with exponential backoff: 30 s, 60 s, 120 s, …
capped at 1 h) → dead after MAX_ATTEMPTS. Each outcome is appended to the record's own
history in one conditional write of the record (``outcomes``); the petition's timeline
shows them as ``notification`` events after the one that queued the record (written with
the change that caused it, hash-chained). A delivery never rewrites the petition item, so
it never takes a person's action's version and costs one small write, not a transaction.

Crash between publish and mark: the record stays ``sending`` past its lease.
- Topic messages (department and supervision) are published again: subscribers
  receive the ``notification_id`` attribute and can drop a repeat.
- Citizen SMS are NOT sent again — SMS to a phone number has no deduplication in
  SNS, so a second send would reach the citizen twice. The record is marked
  ``unconfirmed`` on the timeline and the supervision views for a person to check.

Everything it touches comes in through the constructor: the outbox store, the petitions
store (only for the district of a record written before records kept it) and the port
(SNS, or a fake in tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.clock import iso, parse_instant, utc_key
from chalicelib.notify import compose
from chalicelib.notify.outbox import ATTENTION, OutboxRecord
from chalicelib.petitions.domain import Env, Petition
from chalicelib.privacy import unseal

log = logging.getLogger("fzt.notify")

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=60)
BASE_BACKOFF = 30
MAX_BACKOFF = 3600


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


class SmsPort(Protocol):
    def send_sms(self, phone: str, message: str) -> str: ...
    def publish_topic(self, topic: str, message: str, attributes: dict[str, str]) -> str: ...


class OutboxReads(Protocol):
    def get(self, record_id: str) -> OutboxRecord | None: ...
    def get_many(self, ids: list[str]) -> list[OutboxRecord]: ...
    def due(self, cutoff: str) -> Iterable[OutboxRecord]: ...
    def claim(self, record: OutboxRecord, lease_until: str) -> bool: ...
    def mark(self, record: OutboxRecord) -> bool: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...


@dataclass
class Publisher:
    outbox: OutboxReads
    petitions: PetitionReads
    port: SmsPort
    counts: Callable[[str, int], None] = field(default=lambda name, n: None)

    def _record(self, item: OutboxRecord, status: str, now: datetime, **extra: Any) -> None:
        """The record's new state, its outcome appended to its history: one conditional write of the
        record alone. The petition is not rewritten (a delivery never races a person's action for the
        petition's version); its timeline shows the outcome after the event that queued the record."""
        pending = status in ("failed", "sending")
        at = max(now, parse_instant(item.created_at)) if item.created_at else now
        item.status = status
        item.problem = (extra.get("reason") or extra.get("error")) if status == "dead" else None
        if not pending:
            item.next_attempt_at = None
        # Dead and unconfirmed records join the district's `attention` index: the supervision
        # board lists them for a person to check (a call, a letter), so none is lost silently.
        district = item.district
        if status in ATTENTION and district is None and item.petition_id:
            found = self.petitions.get(item.petition_id)  # a record written before it kept its district
            district = found.district if found else None
        item.attention_district = district if status in ATTENTION else None
        outcome = {"status": status, "at": iso(at), "attempts": item.attempts, **extra}
        item.outcomes = [*item.outcomes, outcome]
        if not self.outbox.mark(item):
            log.warning(
                "notification outcome not recorded: another publisher took the record over",
                extra={"notification": item.id, "status": status},
            )

    def deliver(self, item: OutboxRecord, env: Env) -> str:
        now = env.now
        if item.status == "sending" and item.channel == "sms":
            # A publisher died after claiming: for SMS we cannot know whether SNS sent it.
            self._record(item, "unconfirmed", now)
            return "unconfirmed"
        lease_until = utc_key(iso(now + LEASE))
        if not self.outbox.claim(item, lease_until):
            return "skipped"
        # The claim's condition held, so the stored record is exactly this (no read back needed).
        item = replace(item, status="sending", attempts=item.attempts + 1, next_attempt_at=lease_until)
        body = item.body or {}
        try:
            message = compose.text(body, env.directory)
            if item.channel == "sms":
                if not body.get("to_sealed"):
                    self._record(item, "dead", now, reason="no phone number")
                    return "dead"
                self.port.send_sms(unseal(body["to_sealed"]), message)
            else:
                self.port.publish_topic(
                    body["topic"], message, {**body.get("attributes", {}), "notification_id": item.id}
                )
        except Exception as exc:  # noqa: BLE001 - any failure to publish is retried, never dropped
            if item.attempts >= MAX_ATTEMPTS:
                self._record(item, "dead", now, error=type(exc).__name__)
                return "dead"
            retry = now + backoff(item.attempts)
            item.next_attempt_at = utc_key(iso(retry))
            self._record(item, "failed", now, error=type(exc).__name__, retry_at=iso(retry))
            return "failed"
        self._record(item, "sent", now)
        return "sent"

    def drain(self, env: Env, ids: list[str] | None = None) -> dict[str, int]:
        """Delivers what is due: the given records (right after a commit), or all pending (the sweep)."""
        cutoff = utc_key(iso(env.now))
        if ids is not None:
            items = [
                i
                for i in self.outbox.get_many(ids)
                if i.status in ("queued", "failed") and i.next_attempt_at and i.next_attempt_at <= cutoff
            ]
        else:
            items = list(self.outbox.due(cutoff))
        counts: dict[str, int] = {}
        for item in sorted(items, key=lambda i: i.id):
            outcome = self.deliver(item, env)
            counts[outcome] = counts.get(outcome, 0) + 1
        for name in ("sent", "failed", "dead", "unconfirmed"):
            if counts.get(name):
                self.counts(name, counts[name])
        return counts

    def after_commit(self, ids: list[str], env: Env) -> None:
        """Publish right after the commit; whatever fails here stays queued and the sweep retries it."""
        if not ids:
            return
        try:
            self.drain(env, ids)
        except Exception:  # noqa: BLE001 - the outbox record is durable; the next sweep delivers it
            log.exception("publishing after commit failed; the sweep will retry")
