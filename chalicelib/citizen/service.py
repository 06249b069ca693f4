"""The citizen's own entrance (CONTRACT §9): an SMS code signs them in; they file petitions in
their own name, see theirs (by their phone's keyed hash) and rate them — a merged one included.

Codes are kept hashed; tries and sending rates are kept in DynamoDB, so every Lambda instance
enforces the same limits. The code's SMS goes through the outbox like every message, sealed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.auth.identity import CHANNEL, Identity, issue_citizen_token
from chalicelib.citizen import otp
from chalicelib.clock import iso, utc_key, wall_now
from chalicelib.errors import InvalidInput, NotFound, RateLimited, TransactionConflict, Unauthenticated
from chalicelib.intake.models import PetitionIn
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.petitions import present
from chalicelib.petitions.domain import Env, Petition
from chalicelib.privacy import phone_hash, seal, unseal
from chalicelib.validation import parse_mobile

MY_PETITIONS = 50  # newest first; a citizen with more sees them at the 12345 hotline


class Codes(Protocol):
    def rate(self, phone_hash: str) -> otp.Rate: ...
    def code(self, phone_hash: str) -> otp.Code | None: ...
    def stage_issue(self, tx: Any, phone_hash: str, rate: otp.Rate, code: otp.Code, now: int) -> None: ...
    def record_try(self, phone_hash: str, code: otp.Code, *, used: bool, now: int) -> bool: ...


class Outbox(Protocol):
    def stage_new(self, tx: Any, record: OutboxRecord) -> None: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...
    def by_phone(self, phone_hash: str, limit: int) -> list[str]: ...


class Filing(Protocol):
    def file_for(
        self, channel: str, who: Identity, namespace: str, body: PetitionIn, idempotency_key: str | None
    ) -> tuple[int, dict]: ...


class Acting(Protocol):
    def act(self, identity: Identity, petition_id: str, action: str, payload: dict) -> dict: ...
    def main_of(self, p: Petition) -> Petition | None: ...


@dataclass
class Citizens:
    codes: Codes
    database: Any
    outbox: Outbox
    publish: Callable[[list[str], Env], None]
    intake: Filing
    petitions: Acting
    store: PetitionReads
    env: Callable[[], Env]
    key: bytes  # hashes codes and signs sessions (derived from the data key)

    # --- signing in -----------------------------------------------------------------------------------

    def send_code(self, phone: str) -> dict:
        e164 = _mobile(phone)
        hashed = phone_hash(e164)
        env = self.env()
        now = int(env.now.timestamp())
        rate = self.codes.rate(hashed)
        wait = rate.wait(now)
        if wait:
            raise RateLimited(f"验证码发送过于频繁，请{wait}秒后再试", field="phone", retry_after=wait)
        code = otp.new_code()
        issued = otp.Code(otp.code_hash(self.key, hashed, code, now), now)
        sent = replace(rate, issued=[*rate.recent(now), now])
        record = OutboxRecord(
            id=f"otp#{hashed[:20]}#{now}",
            petition_id="",  # a sign-in code belongs to no petition
            kind="otp",
            channel="sms",
            status="queued",
            created_at=iso(env.now),
            body={"template": "otp", "values": {"code_sealed": seal(code)}, "to_sealed": seal(e164)},
            next_attempt_at=utc_key(iso(env.now)),
            urgent=True,  # a code is wanted now, quiet hours or not
        )
        tx = self.database.transaction()
        self.codes.stage_issue(tx, hashed, sent, issued, now)
        self.outbox.stage_new(tx, record)
        try:
            tx.commit()
        except TransactionConflict as exc:  # another request for this phone won the same moment
            raise RateLimited(
                "验证码发送过于频繁，请稍后再试", field="phone", retry_after=otp.MIN_GAP_SECONDS
            ) from exc
        self.publish([record.id], env)
        return {"expires_in": otp.VALID_SECONDS}

    def sign_in(self, phone: str, code: str) -> dict:
        e164 = _mobile(phone)
        hashed = phone_hash(e164)
        now = int(self.env().now.timestamp())
        held = self.codes.code(hashed)
        if held is None or held.used or held.expired(now):
            raise Unauthenticated("验证码无效或已过期，请重新获取", field="code")
        if held.locked:
            raise Unauthenticated("验证码错误次数过多，请重新获取", field="code")
        right = hmac.compare_digest(held.hash, otp.code_hash(self.key, hashed, code, held.issued_epoch))
        if not self.codes.record_try(hashed, held, used=right, now=now):
            raise Unauthenticated("验证码已失效，请重新获取", field="code")  # a racing try used it
        if not right:
            left = otp.MAX_TRIES - held.tries - 1
            message = f"验证码错误，还可尝试{left}次" if left > 0 else "验证码错误次数过多，请重新获取"
            raise Unauthenticated(message, field="code")
        token, expires = issue_citizen_token(hashed, seal(e164), self.key, wall_now())
        return {"token": token, "expires_at": iso(datetime.fromtimestamp(expires, UTC))}

    # --- their petitions ------------------------------------------------------------------------------

    def file(self, citizen: Identity, body: dict, idempotency_key: str | None) -> tuple[int, dict]:
        phone = unseal(citizen.phone_sealed or "")
        person = dict(body.pop("citizen", None) or {})
        if person.get("phone") and phone_hash(_mobile(person["phone"])) != citizen.phone_hash:
            raise InvalidInput("the phone is the one you signed in with", field="citizen.phone")
        person["phone"] = phone
        validated = PetitionIn.model_validate({**body, "citizen": person, "anonymous": False})
        namespace = f"citizen:{citizen.phone_hash}"
        status, out = self.intake.file_for("wechat", citizen, namespace, validated, idempotency_key)
        return status, out

    def mine(self, citizen: Identity) -> dict:
        env = self.env()
        items = []
        for pid in self.store.by_phone(citizen.phone_hash or "", MY_PETITIONS):
            p = self.store.get(pid)
            if p is not None and p.contact.get("phone_hash") == citizen.phone_hash:
                items.append(self._present(p, citizen, env, timeline=False))
        return {"items": items, "next_cursor": None}

    def one(self, citizen: Identity, petition_id: str) -> dict:
        env = self.env()
        return self._present(self._own(citizen, petition_id), citizen, env, timeline=True)

    def rate(self, citizen: Identity, petition_id: str, payload: dict) -> dict:
        p = self._own(citizen, petition_id)
        as_channel = Identity(kind=CHANNEL, name=p.channel, role="channel")
        self.petitions.act(as_channel, p.id, "feedback", payload)
        return self.one(citizen, p.id)

    def _own(self, citizen: Identity, petition_id: str) -> Petition:
        from chalicelib.petitions.ids import normalise

        key = normalise(petition_id)
        p = self.store.get(key) if key else None
        if p is None or not citizen.phone_hash or p.contact.get("phone_hash") != citizen.phone_hash:
            raise NotFound(f"no petition {petition_id}")  # another phone's petition is not there at all
        return p

    def _present(self, p: Petition, citizen: Identity, env: Env, *, timeline: bool) -> dict:
        events = self.store.timeline(p.id, p.last_seq) if timeline else None
        out = present.petition(p, citizen, env, events)
        # A merged petition is rated once its main one is closed (并单: each citizen rates once).
        if p.status == "merged":
            main = self.petitions.main_of(p)
            out["awaiting_feedback"] = bool(main and main.status == "closed" and p.rating is None)
            out["merged_into"] = main.id if main else p.merged_into
        return out


def _mobile(phone: str) -> str:
    try:
        return parse_mobile(phone)
    except ValueError as exc:
        raise InvalidInput(f"phone: {exc}", field="phone") from exc
