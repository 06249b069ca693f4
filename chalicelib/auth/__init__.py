"""Who is calling, and what they may do. Every route goes through :func:`identify`."""

from chalicelib.auth.identity import (
    CHANNEL,
    OPERATOR,
    OPERATOR_ROLES,
    Identity,
    identify,
    issue_local_token,
)

__all__ = ["CHANNEL", "OPERATOR", "OPERATOR_ROLES", "Identity", "identify", "issue_local_token"]
