"""Sign-in codes by SMS, as rules (pure): a 6-digit code, valid 5 minutes, 5 tries; at most one
code a minute and 10 an hour per phone. Codes are kept only as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

CODE_DIGITS = 6
VALID_SECONDS = 300
MAX_TRIES = 5
MIN_GAP_SECONDS = 60
PER_HOUR = 10
HOUR = 3600


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, phone_hash: str, code: str, issued_epoch: int) -> str:
    """Keyed and salted by the phone and the moment of issue: a leaked table reveals no code."""
    return hmac.new(key, f"{phone_hash}:{issued_epoch}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Rate:
    """When a phone was sent codes within the last hour (epoch seconds), and the item's version."""

    issued: list[int] = field(default_factory=list)
    version: int = 0

    def recent(self, now: int) -> list[int]:
        return [t for t in self.issued if now - t < HOUR]

    def wait(self, now: int) -> int:
        """Seconds until another code may be sent (0: now)."""
        recent = sorted(self.recent(now))
        waits = [0]
        if recent and now - recent[-1] < MIN_GAP_SECONDS:
            waits.append(MIN_GAP_SECONDS - (now - recent[-1]))
        if len(recent) >= PER_HOUR:
            waits.append(HOUR - (now - recent[-PER_HOUR]))
        return max(waits)


@dataclass
class Code:
    hash: str
    issued_epoch: int
    tries: int = 0
    used: bool = False

    def expired(self, now: int) -> bool:
        return now - self.issued_epoch >= VALID_SECONDS

    @property
    def locked(self) -> bool:
        return self.tries >= MAX_TRIES
