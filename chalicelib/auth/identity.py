"""Identities of callers: channels (API keys) and operators (bearer tokens).

Local stage: operators carry HMAC-signed tokens issued by ``POST /_local/token``.
AWS stages: operators carry OIDC ID tokens (Cognito, or the city's provider in aws-cn),
verified in auth/oidc.py; the user name claim names the directory user, whose role and
scope come from the directory (never from the token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from chalicelib.errors import Unauthenticated

CHANNEL = "channel"
OPERATOR = "operator"
CITIZEN = "citizen"  # signed in by an SMS code on the citizen entrance (/m/)
CITIZEN_PREFIX = "fztc"
CITIZEN_TOKEN_TTL_SECONDS = 24 * 3600
OPERATOR_ROLES = (
    "dispatcher",
    "handler",
    "reviewer",
    "supervisor",
    "chief",
    "auditor",
    "admin",
    "desk",
    "mediator",
    "grid_worker",
)
TOKEN_TTL_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Identity:
    kind: str  # CHANNEL or OPERATOR
    name: str  # channel name (wechat, hotline_12345, …) or operator user name
    role: str  # "channel" for channels, else one of OPERATOR_ROLES
    district: str | None = None  # operator's district scope
    department: str | None = None  # handler's department scope
    phone_hash: str | None = None  # a citizen's keyed phone hash (their petitions are theirs by it)
    phone_sealed: str | None = None  # a citizen's phone, sealed (to file petitions in their name)
    grid: str | None = None  # a grid worker's grid (scope: it and the grids below it)

    @property
    def is_channel(self) -> bool:
        return self.kind == CHANNEL

    @property
    def is_citizen(self) -> bool:
        return self.kind == CITIZEN

    @property
    def actor(self) -> str:
        """How this caller is named on a timeline (a citizen by a short hash, never the number)."""
        return f"channel:{self.name}" if self.is_channel else self.name


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_local_token(username: str, secret: str, now: datetime) -> str:
    payload = _b64(json.dumps({"sub": username, "exp": int(now.timestamp()) + TOKEN_TTL_SECONDS}).encode())
    sig = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
    return f"fzt.{payload}.{sig}"


def verify_local_token(token: str, secret: str, now: datetime) -> str:
    """Returns the user name of a valid token, else raises Unauthenticated."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "fzt":
        raise Unauthenticated("malformed bearer token")
    expected = _b64(hmac.new(secret.encode(), parts[1].encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        raise Unauthenticated("bad token signature")
    try:
        claims = json.loads(_unb64(parts[1]))
        sub, exp = str(claims["sub"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("malformed bearer token") from exc
    if exp < now.timestamp():
        raise Unauthenticated("token expired")
    return sub


def issue_citizen_token(phone_hash: str, phone_sealed: str, key: bytes, now: datetime) -> tuple[str, int]:
    """A citizen's session: their phone hash and sealed phone, signed; ``fztc.`` never passes as
    an operator's token, nor an operator's as this."""
    exp = int(now.timestamp()) + CITIZEN_TOKEN_TTL_SECONDS
    payload = _b64(json.dumps({"ph": phone_hash, "ps": phone_sealed, "exp": exp}).encode())
    sig = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{CITIZEN_PREFIX}.{payload}.{sig}", exp


def verify_citizen_token(token: str, key: bytes, now: datetime) -> Identity:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != CITIZEN_PREFIX:
        raise Unauthenticated("malformed citizen token")
    expected = _b64(hmac.new(key, parts[1].encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        raise Unauthenticated("bad token signature")
    try:
        claims = json.loads(_unb64(parts[1]))
        phone_hash, sealed, exp = str(claims["ph"]), str(claims["ps"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("malformed citizen token") from exc
    if exp < now.timestamp():
        raise Unauthenticated("登录已过期，请重新获取验证码 (session expired)")
    return Identity(
        kind=CITIZEN,
        name=f"citizen:{phone_hash[:10]}",
        role="citizen",
        phone_hash=phone_hash,
        phone_sealed=sealed,
    )


def identify(
    headers, directory, *, stage: str, secret: str, now: datetime, oidc=None, citizen_key: bytes | None = None
):
    """Resolve the caller from request headers; ``None`` when no credentials were sent.

    Raises Unauthenticated for credentials that are present but wrong.
    """
    api_key = headers.get("x-api-key")
    authz = headers.get("authorization")
    if api_key is not None:
        channel = directory.channel_by_key(api_key)
        if channel is None:
            raise Unauthenticated("unknown API key", field="X-Api-Key")
        return Identity(kind=CHANNEL, name=channel.channel, role="channel")
    if authz is None:
        return None
    scheme, _, token = authz.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected 'Authorization: Bearer <token>'", field="Authorization")
    token = token.strip()
    if token.startswith(CITIZEN_PREFIX + "."):
        if citizen_key is None:
            raise Unauthenticated("citizen sign-in is not configured")
        return verify_citizen_token(token, citizen_key, now)
    # The local stage takes its own tokens ("fzt.…"), and also an OIDC provider's ID tokens
    # when one is configured, so that the console's sign-in can be exercised locally.
    if stage == "local" and (oidc is None or token.startswith("fzt.")):
        username = verify_local_token(token, secret, now)
    else:
        if oidc is None:
            raise Unauthenticated("operator sign-in is not configured on this stage")
        username = oidc.username(token, now)
    user = directory.user(username)
    if user is None:
        raise Unauthenticated("unknown operator", field="Authorization")
    return Identity(
        kind=OPERATOR,
        name=user.username,
        role=user.role,
        district=user.district,
        department=user.department,
        grid=user.grid,
    )
