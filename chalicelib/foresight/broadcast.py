"""发一封短信: a publicity SMS to every phone that used the platform, minus those who replied TD.

Recipients are the foresight table's ``rcpt#<shard>`` items, written in the transaction that
creates each petition (never a Scan of the petitions). A broadcast walks the shards in key
order with a cursor saved after each page, so a run that dies resumes where the last saved
page ended. Each phone's delivery is claimed with a conditional put *before* the SMS leaves
(``bc#<id>`` / phone hash): a page read again after a crash skips every phone claimed before,
so no phone is sent the broadcast twice. The price of that promise is the publisher's, for
the same reason (SMS to a number has no deduplication): a run killed between its claim and
the gateway's answer leaves that one phone ``unconfirmed`` — counted, never resent.

Throttled by policy (``per_minute``: what one scheduled run may send); nothing leaves in quiet
hours (22:00–08:00): the run defers and the next run after 08:00 goes on. Petition replies
(receipt, closure) are not publicity and ignore opt-outs; broadcasts honour them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from chalicelib.auth.identity import Identity
from chalicelib.clock import iso, parse_instant
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.notify.quiet import deliver_at, is_quiet
from chalicelib.notify.segments import count_segments
from chalicelib.privacy import phone_hash, unseal
from chalicelib.validation import parse_mobile

POLICY = Path(__file__).with_name("data") / "policy.json"
ACTIVE = ("queued", "running", "deferred")
MAX_SEGMENTS = 3


@cache
def policy() -> dict:
    return json.loads(POLICY.read_text(encoding="utf-8"))


class SimulatedCrash(RuntimeError):
    """The local control's ``crash_after``: the run dies after the gateway took an SMS and
    before its delivery was marked — the worst moment, which tests must survive."""


class SmsSender(Protocol):
    def send_sms(self, phone: str, message: str) -> str: ...


class BroadcastStore(Protocol):
    shards: int

    def recipients(
        self, shard: int, after: str | None, limit: int, district: str | None
    ) -> tuple[list[tuple[str, str, str]], str | None]: ...
    def count_recipients(self, district: str | None) -> int: ...
    def opt_out(self, phone_hash: str, at: str) -> None: ...
    def opted_out(self, phone_hashes: list[str]) -> set[str]: ...
    def put_broadcast(self, record: dict) -> None: ...
    def broadcast(self, broadcast_id: str) -> tuple[dict, int] | None: ...
    def save_broadcast(self, record: dict, version: int) -> bool: ...
    def broadcasts(self) -> list[dict]: ...
    def claim_delivery(self, broadcast_id: str, phone_hash: str, at: str) -> bool: ...
    def delivery_status(self, broadcast_id: str, phone_hash: str) -> str | None: ...
    def mark_delivery(self, broadcast_id: str, phone_hash: str, status: str) -> None: ...


def full_text(message: str) -> str:
    p = policy()["broadcast"]
    return f"{p['prefix']}{message}{p['suffix']}"


def estimate(message: str, recipients: int) -> dict:
    """segments × recipients × the segment price (policy), and the time at the throttle."""
    p = policy()["broadcast"]
    info = count_segments(full_text(message))
    per_minute = int(p["per_minute"])
    return {
        "text": full_text(message),
        "segments": info.segments,
        "recipients": recipients,
        "segment_price_cny": p["segment_price_cny"],
        "cost_cny": round(info.segments * recipients * p["segment_price_cny"], 4),
        "per_minute": per_minute,
        "minutes_at_throttle": -(-recipients // per_minute) if per_minute else None,
    }


def _summary(b: dict) -> dict:
    done = b["sent"] + b["failed"] + b["opted_out"] + b["unconfirmed"]
    return {
        "id": b["id"],
        "status": b["status"],
        "message": b["message"],
        "district": b.get("district"),
        "created_at": b["created_at"],
        "created_by": b["created_by"],
        "segments": b["segments"],
        "recipients": b["recipients"],
        "sent": b["sent"],
        "failed": b["failed"],
        "opted_out": b["opted_out"],
        "unconfirmed": b["unconfirmed"],
        "remaining": 0 if b["status"] == "done" else max(b["recipients"] - done, 0),
        "cost_cny": round(b["segments"] * (b["sent"] + b["unconfirmed"]) * b["segment_price_cny"], 4),
        "estimated_cost_cny": b["estimated_cost_cny"],
        "deferred_until": b.get("deferred_until"),
        "finished_at": b.get("finished_at"),
    }


@dataclass
class Broadcasts:
    store: BroadcastStore
    port: SmsSender
    env: Callable[[], Any]  # the Env: the instant and the directory

    # --- the admin's calls ----------------------------------------------------------------------------

    def _check(self, body: Any) -> None:
        env = self.env()
        if body.district is not None and env.directory.district(body.district) is None:
            raise InvalidInput(f"unknown district {body.district!r}", field="district")
        if count_segments(full_text(body.message)).segments > MAX_SEGMENTS:
            raise InvalidInput(f"the message is longer than {MAX_SEGMENTS} SMS segments", field="message")

    def estimate(self, identity: Identity, body: Any) -> dict:
        self._check(body)
        return estimate(body.message, self.store.count_recipients(body.district))

    def create(self, identity: Identity, body: Any) -> dict:
        self._check(body)
        env = self.env()
        cost = estimate(body.message, self.store.count_recipients(body.district))
        now = env.now
        record = {
            "id": now.strftime("%y%m%d") + secrets.token_hex(4).upper(),
            "status": "queued",
            "message": body.message,
            "text": cost["text"],
            "district": body.district,
            "created_at": iso(now),
            "created_by": identity.actor,
            "segments": cost["segments"],
            "segment_price_cny": cost["segment_price_cny"],
            "estimated_cost_cny": cost["cost_cny"],
            "recipients": cost["recipients"],
            "cursor": {"shard": 0, "after": None, "last_phone": None},
            "sent": 0,
            "failed": 0,
            "opted_out": 0,
            "unconfirmed": 0,
        }
        self.store.put_broadcast(record)
        return _summary(record)

    def get(self, identity: Identity, broadcast_id: str) -> dict:
        found = self.store.broadcast(broadcast_id)
        if found is None:
            raise NotFound(f"no broadcast {broadcast_id}", field="id")
        return _summary(found[0])

    def list(self, identity: Identity) -> dict:
        return {"items": [_summary(b) for b in self.store.broadcasts()]}

    # --- opt-out (a citizen's TD reply) ---------------------------------------------------------------

    def opt_out(self, sender: str) -> dict:
        try:
            e164 = parse_mobile(sender)
        except ValueError:
            return {"outcome": "ignored", "reason": "sender is not a mainland mobile number"}
        self.store.opt_out(phone_hash(e164), iso(self.env().now))
        return {"outcome": "opted_out"}

    # --- the run (scheduled each minute; POST /_local/broadcasts/run locally) --------------------------

    def run_due(self, *, limit: int | None = None, crash_after: int | None = None) -> dict:
        """Runs every active broadcast within one throttle budget; returns what each did."""
        budget = int(policy()["broadcast"]["per_minute"]) if limit is None else limit
        out: list[dict] = []
        for b in self.store.broadcasts():
            if b["status"] not in ACTIVE or budget <= 0:
                continue
            try:
                result = self.run(b["id"], limit=budget, crash_after=crash_after)
            except SimulatedCrash as crash:
                # The run died where it stood: nothing after the crash was saved. Said, not a 500.
                return {"broadcasts": out, "crashed": str(crash)}
            budget -= result.get("sent_now", 0)
            out.append(result)
        return {"broadcasts": out}

    def run(self, broadcast_id: str, *, limit: int, crash_after: int | None = None) -> dict:
        env = self.env()
        now: datetime = env.now
        found = self.store.broadcast(broadcast_id)
        if found is None:
            raise NotFound(f"no broadcast {broadcast_id}", field="id")
        b, version = found
        if b["status"] not in ACTIVE:
            return {"id": b["id"], "outcome": b["status"], "sent_now": 0}
        if b.get("lease_until") and parse_instant(b["lease_until"]) > now:
            return {"id": b["id"], "outcome": "busy", "sent_now": 0}  # another run holds it
        if is_quiet(now):
            b = {**b, "status": "deferred", "deferred_until": iso(deliver_at(now, urgent=False))}
            if not self.store.save_broadcast(b, version):
                raise Conflict("the broadcast changed meanwhile", code="conflict")
            return {"id": b["id"], "outcome": "deferred", "sent_now": 0}
        lease = int(policy()["broadcast"]["lease_seconds"])
        b = {
            **b,
            "status": "running",
            "deferred_until": None,
            "lease_until": iso(now + timedelta(seconds=lease)),
        }
        if not self.store.save_broadcast(b, version):
            return {"id": b["id"], "outcome": "busy", "sent_now": 0}
        version += 1
        sent_now = 0
        page_size = int(policy()["broadcast"]["page_size"])
        cursor = dict(b["cursor"])
        while cursor["shard"] < self.store.shards and sent_now < limit:
            rows, _ = self.store.recipients(cursor["shard"], cursor["after"], page_size, b.get("district"))
            if not rows:
                cursor = {"shard": cursor["shard"] + 1, "after": None, "last_phone": None}
                continue
            blocked = self.store.opted_out([h for _, h, _ in rows])
            counts = {"sent": 0, "failed": 0, "opted_out": 0, "unconfirmed": 0}
            for sk, phone, sealed in rows:
                if sent_now >= limit:
                    break
                cursor["after"] = sk
                if phone == cursor["last_phone"]:
                    continue  # the same phone under another district: one SMS a phone
                cursor["last_phone"] = phone
                if phone in blocked:
                    counts["opted_out"] += 1
                    continue
                if not self.store.claim_delivery(b["id"], phone, iso(now)):
                    # Claimed by a run that died before saving this page: count what it did, send nothing.
                    status = self.store.delivery_status(b["id"], phone)
                    counts["unconfirmed" if status == "sending" else status or "failed"] += 1
                    continue
                try:
                    self.port.send_sms(unseal(sealed), b["text"])
                except Exception:  # noqa: BLE001 - the gateway refused: counted failed, not retried
                    self.store.mark_delivery(b["id"], phone, "failed")
                    counts["failed"] += 1
                    continue
                sent_now += 1
                if crash_after is not None and sent_now >= crash_after:
                    raise SimulatedCrash(f"crashed after {sent_now} sends, before marking the last")
                self.store.mark_delivery(b["id"], phone, "sent")
                counts["sent"] += 1
            b = {**b, "cursor": dict(cursor), **{k: b[k] + v for k, v in counts.items()}}
            if not self.store.save_broadcast(b, version):
                raise Conflict("the broadcast changed meanwhile", code="conflict")
            version += 1
        finished = cursor["shard"] >= self.store.shards
        b = {
            **b,
            "cursor": cursor,
            "status": "done" if finished else "running",
            "lease_until": None,
            "finished_at": iso(now) if finished else None,
        }
        self.store.save_broadcast(b, version)
        return {"id": b["id"], "outcome": b["status"], "sent_now": sent_now}
