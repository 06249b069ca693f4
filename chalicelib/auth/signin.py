"""What the console needs to sign an operator in, and who the signed-in operator is.

On the local stage seeded operators get tokens from ``POST /_local/token``; on every stage
with an OIDC provider configured (Cognito's hosted UI in global regions, the city's provider
in the China regions) the console sends the browser to the provider and trades the returned
code for an ID token itself (authorisation code + PKCE, a public client with no secret).
"""

from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.settings import Settings


def signin_options(settings: Settings) -> dict:
    oidc = None
    needed = (
        settings.oidc_issuer,
        settings.oidc_audience,
        settings.oidc_authorize_url,
        settings.oidc_token_url,
    )
    if all(needed):
        oidc = {
            "authorize_url": settings.oidc_authorize_url,
            "token_url": settings.oidc_token_url,
            "logout_url": settings.oidc_logout_url or None,
            "client_id": settings.oidc_audience,
            "scopes": settings.oidc_scopes,
        }
    return {"stage": settings.stage, "local_tokens": settings.is_local, "oidc": oidc}


def me(identity, directory) -> dict:
    user = directory.user(identity.name)
    if user is None:  # identify() found them a moment ago; a directory reload may have removed them
        raise NotFound("unknown operator")
    return {
        "user": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "district": user.district,
        "department": user.department,
    }
