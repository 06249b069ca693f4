"""Tracking numbers a citizen can read out on the phone.

``YYMMDD`` (the Shanghai date of receipt) + 6 characters drawn by ``secrets``
from 25 that cannot be confused when spoken or handwritten (no 0/O, 1/I/L, U/V,
S/5, Z/2 pairs). 25**6 ≈ 2.4e8 per day: not guessable in sequence, and unique
across concurrent writers without a counter item — the create transaction puts
the petition with ``attribute_not_exists(id)`` and draws again on a clash.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from chalicelib.clock import SHANGHAI

ALPHABET = "346789ABCDEFGHJKMNPQRTWXY"  # 25 characters: no 0/O, 1/I/L, U/V, S/5, Z/2
RANDOM_CHARS = 6
PATTERN = re.compile(rf"^\d{{6}}[{ALPHABET}]{{{RANDOM_CHARS}}}$")


def new_tracking_id(now: datetime) -> str:
    day = now.astimezone(SHANGHAI).strftime("%y%m%d")
    return day + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))


def normalise(text: str) -> str:
    """What a citizen types or an operator hears: spaces/dashes dropped, letters upper-cased."""
    return re.sub(r"[\s-]", "", text).upper()


def looks_like_tracking_id(text: str) -> bool:
    return bool(PATTERN.match(text))
