"""Operator tokens on AWS stages: OIDC ID tokens (Cognito user pools in global regions; the
city's own OIDC provider in the China regions, where Cognito is not offered), verified in
the app so that routes open to both channels (API keys) and operators share one check.

Signature (RS256 against the provider's JWKS, fetched once per container and again on an
unknown key id), issuer, audience (the console's client id) and expiry are checked; the
user name claim names the directory user.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import datetime

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from chalicelib.errors import Unauthenticated


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        username_claim: str = "cognito:username",
        jwks_url: str | None = None,
        fetch=None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.username_claim = username_claim
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        self._fetch = fetch or (lambda url: urllib.request.urlopen(url, timeout=5).read())  # noqa: S310
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(json.loads(self._fetch(self.jwks_url)))
            return self._keys

    def username(self, token: str, now: datetime) -> str:
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=["RS256"])
            except JoseError:
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=["RS256"])  # key rotation
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"operator token refused: {type(exc).__name__}") from exc
        if decoded.claims.get("token_use", "id") != "id":
            raise Unauthenticated("an ID token is expected")
        name = decoded.claims.get(self.username_claim)
        if not name:
            raise Unauthenticated(f"the token carries no {self.username_claim}")
        return str(name)


_verifier: OidcVerifier | None = None


def verifier(settings) -> OidcVerifier:
    global _verifier
    if _verifier is None or _verifier.issuer != settings.oidc_issuer.rstrip("/"):
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise Unauthenticated("operator sign-in is not configured on this stage")
        _verifier = OidcVerifier(
            settings.oidc_issuer,
            settings.oidc_audience,
            settings.oidc_username_claim,
            settings.oidc_jwks_url or None,
        )
    return _verifier
