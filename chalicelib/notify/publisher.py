"""The outbox publisher: delivers queued notifications to SNS, at least once for topic
messages, at most once across a crash for citizen SMS, and puts every outcome on the timeline.

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
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib import aws, db
from chalicelib.clock import iso
from chalicelib.errors import Conflict
from chalicelib.notify import compose
from chalicelib.petitions import repository
from chalicelib.petitions.domain import Outcome
from chalicelib.petitions.models import OutboxItem
from chalicelib.privacy import unseal
from chalicelib.settings import get_settings

log = logging.getLogger("fzt.notify")

MAX_ATTEMPTS = 5
ATTENTION = ("dead", "unconfirmed")
LEASE = timedelta(seconds=60)
BASE_BACKOFF = 30
MAX_BACKOFF = 3600


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


class SnsPort:
    """The one place that talks to SNS; a domestic SMS gateway adapter can replace ``send_sms``."""

    def send_sms(self, phone: str, message: str) -> str:
        settings = get_settings()
        r = aws.client("sns").publish(
            PhoneNumber=phone,
            Message=message,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": settings.sms_sender_id},
            },
        )
        return r["MessageId"]

    def publish_topic(self, topic: str, message: str, attributes: dict[str, str]) -> str:
        settings = get_settings()
        arn = {"orders": settings.topic_orders_arn, "supervision": settings.topic_supervision_arn}[topic]
        r = aws.client("sns").publish(
            TopicArn=arn,
            Message=message,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v
            },
        )
        return r["MessageId"]


_port: SnsPort | None = None


def port() -> SnsPort:
    global _port
    if _port is None:
        _port = SnsPort()
    return _port


def set_port(p: SnsPort | None) -> None:
    """Tests inject faults at the publisher's client; None restores the SNS adapter."""
    global _port
    _port = p


def _claim(item: OutboxItem, now: datetime) -> bool:
    try:
        item.update(
            actions=[
                OutboxItem.status.set("sending"),
                OutboxItem.attempts.set(item.attempts + 1),
                OutboxItem.next_attempt_at.set(repository.utc_key(iso(now + LEASE))),
            ],
            condition=(OutboxItem.attempts == item.attempts)
            & OutboxItem.status.is_in("queued", "failed", "sending"),
        )
        return True
    except UpdateError:
        return False  # another publisher claimed it first


def _record(item: OutboxItem, status: str, now: datetime, env, **extra) -> None:
    """The record's new state and its timeline event, in one transaction (retried on a lost race)."""
    pending = status in ("failed", "sending")
    for _ in range(5):
        petition = repository.get(item.petition_id)
        if petition is None:
            return
        event = {
            "type": "notification",
            "at": iso(now),
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
        item.shard = item.shard if pending else None
        if not pending:
            item.next_attempt_at = None
        try:
            repository.commit(Outcome(petition, [event], []), env, extra_writes=[("outbox-mark", item, None)])
            return
        except (Conflict, TransactWriteError):
            continue
    log.warning("could not record notification outcome", extra={"notification": item.id, "status": status})


def deliver(item: OutboxItem, env) -> str:
    now = env.now
    if item.status == "sending":
        # A publisher died after claiming: for SMS we cannot know whether SNS sent it.
        if item.channel == "sms":
            _record(item, "unconfirmed", now, env)
            return "unconfirmed"
    if not _claim(item, now):
        return "skipped"
    item.refresh(consistent_read=True)
    body = item.body or {}
    try:
        message = compose.text(body, env.directory)
        if item.channel == "sms":
            if not body.get("to_sealed"):
                _record(item, "dead", now, env, reason="no phone number")
                return "dead"
            port().send_sms(unseal(body["to_sealed"]), message)
        else:
            port().publish_topic(
                body["topic"], message, {**body.get("attributes", {}), "notification_id": item.id}
            )
    except Exception as exc:  # noqa: BLE001 - any failure to publish is retried, never dropped
        if item.attempts >= MAX_ATTEMPTS:
            _record(item, "dead", now, env, error=type(exc).__name__)
            return "dead"
        item.next_attempt_at = repository.utc_key(iso(now + backoff(item.attempts)))
        _record(
            item, "failed", now, env, error=type(exc).__name__, retry_at=iso(now + backoff(item.attempts))
        )
        return "failed"
    _record(item, "sent", now, env)
    return "sent"


def drain(env, ids: list[str] | None = None) -> dict:
    """Delivers what is due: the given records (right after a commit), or every pending one (the sweep)."""
    db.bound()
    counts: dict[str, int] = {}
    if ids is not None:
        items = [i for i in OutboxItem.batch_get(ids)] if ids else []
        items = [
            i
            for i in items
            if i.status in ("queued", "failed")
            and i.next_attempt_at
            and i.next_attempt_at <= repository.utc_key(iso(env.now))
        ]
    else:
        cutoff = repository.utc_key(iso(env.now))
        items = [
            i
            for shard in range(repository.OUTBOX_SHARDS)
            for i in OutboxItem.pending.query(str(shard), OutboxItem.next_attempt_at <= cutoff)
        ]
    for item in sorted(items, key=lambda i: i.id):
        outcome = deliver(item, env)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def after_commit(outcome: Outcome, env) -> None:
    """Publish right after the commit; whatever fails here stays queued and the sweep retries it."""
    if not outcome.outbox_ids:
        return
    try:
        drain(env, outcome.outbox_ids)
    except Exception:  # noqa: BLE001 - the outbox record is durable; the next sweep delivers it
        log.exception("publishing after commit failed; the sweep will retry")
