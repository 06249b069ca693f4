"""Personal data: phones and names are sealed at rest, hashed for look-ups, masked for display.

- ``phone_hash``: HMAC-SHA256 keyed by settings.phone_key — finds a citizen's petitions
  (inbound SMS replies) and pseudonymises exports without the number in clear.
- ``seal``/``unseal``: AES-256-GCM with a key derived from settings.data_key — only the
  SMS publisher and the owning channel's reads unseal.
- ``mask_phone``/``mask_name``: what operators and logs see (138****8000, 张*).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from chalicelib.settings import get_settings


def _key() -> bytes:
    return hashlib.sha256(("fzt-seal:" + get_settings().data_key).encode()).digest()


def _aead():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # loaded where personal data is

    return AESGCM(_key())


def seal(text: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aead().encrypt(nonce, text.encode("utf-8"), b"fzt")).decode()


def unseal(token: str) -> str:
    raw = base64.b64decode(token)
    return _aead().decrypt(raw[:12], raw[12:], b"fzt").decode("utf-8")


def phone_hash(e164: str) -> str:
    return hmac.new(get_settings().phone_key.encode(), e164.encode(), hashlib.sha256).hexdigest()


def mask_phone(national: str) -> str:
    digits = national[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "****"


def mask_name(name: str) -> str:
    return (name[0] + "*" * max(len(name) - 1, 1)) if name else ""
