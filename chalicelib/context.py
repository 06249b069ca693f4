"""Request-scoped wiring: the directory, the caller's identity, the stage."""

from __future__ import annotations

from chalicelib import observability
from chalicelib.auth import identify
from chalicelib.clock import wall_now
from chalicelib.directory.store import get_directory
from chalicelib.settings import get_settings


def directory():
    return get_directory()


def is_local() -> bool:
    return get_settings().is_local


def identify_request(request):
    settings = get_settings()
    observability.setup(settings)
    headers = request.headers
    if headers.get("x-api-key") is None and headers.get("authorization") is None:
        return None
    oidc = None
    if headers.get("authorization") is not None and (not settings.is_local or settings.oidc_issuer):
        from chalicelib.auth.oidc import verifier

        oidc = verifier(settings)
    return identify(
        headers,
        get_directory(),
        stage=settings.stage,
        secret=settings.token_secret,
        now=wall_now(),  # token expiry runs on real time, not the movable SLA clock
        oidc=oidc,
    )
