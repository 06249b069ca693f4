"""The outbox publisher: delivers queued notifications, at least once for topic messages, at
most once across a crash for citizen SMS, and puts every outcome on the timeline.

A record goes queued → sending (claimed with a conditional write: attempts+1 and a
lease) → sent, or → failed (retried with exponential backoff: 30 s, 60 s, 120 s, …
capped at 1 h) → dead after MAX_ATTEMPTS. Each outcome appends a ``notification``
event to the petition's timeline in a transaction with the record's update.

Crash between publish and mark: the record stays ``sending`` past its lease.
- Topic messages (department and supervision) are published again: subscribers
  receive the ``notification_id`` attribute and can drop a repeat.
- Citizen SMS are NOT sent again — SMS to a phone number has no deduplication in
  SNS, so a second send would reach the citizen twice. The record is marked
  ``unconfirmed`` on the timeline and the supervision views for a person to check.

Everything it touches comes in through the constructor: the outbox store, the petitions
store (to find the petition whose timeline gets the event), the unit of work (to write the
mark and the event together) and the port (SNS, or a fake in tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from chalicelib.clock import iso, parse_instant, utc_key
from chalicelib.errors import Conflict, TransactionConflict
from chalicelib.notify import compose
from chalicelib.notify.outbox import ATTENTION, OutboxRecord
from chalicelib.petitions.domain import Env, Outcome, Petition
from chalicelib.privacy import unseal

log = logging.getLogger("fzt.notify")

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=60)
BASE_BACKOFF = 30
MAX_BACKOFF = 3600
RECORD_TRIES = 5


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
    def stage_mark(self, tx: Any, record: OutboxRecord) -> None: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...


class Writer(Protocol):
    def write(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Callable[[Any], None]] = ()
    ) -> Petition: ...


@dataclass
class Publisher:
    outbox: OutboxReads
    petitions: PetitionReads
    writer: Writer
    port: SmsPort
    counts: Callable[[str, int], None] = field(default=lambda name, n: None)
    # Writes a record's new state alone: for messages of no petition (a citizen's sign-in code)
    mark_alone: Callable[[OutboxRecord], None] | None = None

    def _record(self, item: OutboxRecord, status: str, now: datetime, env: Env, **extra: Any) -> None:
        """The record's new state and its timeline event, in one transaction (retried on a lost race)."""
        pending = status in ("failed", "sending")
        if not item.petition_id:  # no timeline to write to: the record's state is all there is
            item.status = status
            item.problem = (extra.get("reason") or extra.get("error")) if status == "dead" else None
            if not pending:
                item.next_attempt_at = None
            if self.mark_alone is not None:
                self.mark_alone(item)
            return
        for _ in range(RECORD_TRIES):
            petition = self.petitions.get(item.petition_id)
            if petition is None:
                return
            # Never before the petition's last change: a drain that started earlier may record its
            # delivery after a person acted (the timeline's times never go back).
            at = max(now, parse_instant(petition.updated_at)) if petition.updated_at else now
            event = {
                "type": "notification",
                "at": iso(at),
                "actor": "system:notify",
                "notification": item.id,
                "kind": item.kind,
                "channel": item.channel,
                "status": status,
                "attempts": item.attempts,
                **extra,
            }
            item.status = status
            # Dead and unconfirmed records join the district's `attention` index: the supervision
            # board lists them for a person to check (a call, a letter), so none is lost silently.
            item.attention_district = petition.district if status in ATTENTION else None
            item.problem = (extra.get("reason") or extra.get("error")) if status == "dead" else None
            if not pending:
                item.next_attempt_at = None
            try:
                mark: Callable[[Any], None] = partial(self.outbox.stage_mark, record=item)
                self.writer.write(Outcome(petition, [event], []), env, extra=[mark])
                return
            except (Conflict, TransactionConflict):
                continue
        log.warning(
            "could not record notification outcome", extra={"notification": item.id, "status": status}
        )

    def deliver(self, item: OutboxRecord, env: Env) -> str:
        now = env.now
        if item.status == "sending" and item.channel == "sms":
            # A publisher died after claiming: for SMS we cannot know whether SNS sent it.
            self._record(item, "unconfirmed", now, env)
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
                    self._record(item, "dead", now, env, reason="no phone number")
                    return "dead"
                self.port.send_sms(unseal(body["to_sealed"]), message)
            else:
                self.port.publish_topic(
                    body["topic"], message, {**body.get("attributes", {}), "notification_id": item.id}
                )
        except Exception as exc:  # noqa: BLE001 - any failure to publish is retried, never dropped
            if item.attempts >= MAX_ATTEMPTS:
                self._record(item, "dead", now, env, error=type(exc).__name__)
                return "dead"
            retry = now + backoff(item.attempts)
            item.next_attempt_at = utc_key(iso(retry))
            self._record(item, "failed", now, env, error=type(exc).__name__, retry_at=iso(retry))
            return "failed"
        self._record(item, "sent", now, env)
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
