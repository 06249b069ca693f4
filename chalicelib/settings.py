"""One typed settings object, read once from the environment.

Nothing else in the code base reads ``os.environ``. Tests and the local stack
change the environment and call :func:`reset_settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["local", "dev", "prod"]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    stage: Stage = "local"
    region: str = "cn-north-1"
    table_petitions: str = "fzt-petitions"
    table_events: str = "fzt-events"
    table_timers: str = "fzt-timers"
    table_outbox: str = "fzt-outbox"
    table_directory: str = "fzt-directory"
    table_idempotency: str = "fzt-idempotency"
    table_violations: str = "fzt-violations"
    table_citizen: str = "fzt-citizen"
    table_grid: str = "fzt-grid"
    table_center: str = "fzt-center"
    table_supervision: str = "fzt-supervision"
    table_foresight: str = "fzt-foresight"
    topic_orders_arn: str = ""
    topic_supervision_arn: str = ""
    export_bucket: str = ""
    export_dir: str = ""
    # The export function an on-demand export job is handed to (async invoke; AWS stages only).
    export_function: str = ""
    # Signs local operator tokens; in AWS operators carry Cognito tokens instead.
    token_secret: str = Field(default="local-only-token-secret", repr=False)
    # Keys the phone hash used for look-ups and for pseudonymised exports.
    phone_key: str = Field(default="local-only-phone-key", repr=False)
    # Seals phone numbers and names at rest (AES-GCM); in AWS it comes from SSM SecureString.
    data_key: str = Field(default="local-only-data-key", repr=False)
    sms_sender_id: str = "FZT12345"
    # Operators on AWS stages: an OIDC provider (Cognito, or the city's own in aws-cn).
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_username_claim: str = "cognito:username"
    # The console's sign-in (authorisation code + PKCE, a public client): where the browser is
    # sent to sign in, where it trades the code for tokens, and where it signs out (optional).
    oidc_authorize_url: str = ""
    oidc_token_url: str = ""
    oidc_logout_url: str = ""
    oidc_scopes: str = "openid profile"
    clock_start: str | None = None
    directory_path: str | None = None
    log_level: str = "INFO"

    @property
    def partition(self) -> str:
        """ARN partition: AWS China regions live in ``aws-cn`` (PIPL keeps data there)."""
        return "aws-cn" if self.region.startswith("cn-") else "aws"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


_ENV = {
    "stage": "FZT_STAGE",
    "table_petitions": "FZT_TABLE_PETITIONS",
    "table_events": "FZT_TABLE_EVENTS",
    "table_timers": "FZT_TABLE_TIMERS",
    "table_outbox": "FZT_TABLE_OUTBOX",
    "table_directory": "FZT_TABLE_DIRECTORY",
    "table_idempotency": "FZT_TABLE_IDEMPOTENCY",
    "table_violations": "FZT_TABLE_VIOLATIONS",
    "table_citizen": "FZT_TABLE_CITIZEN",
    "table_grid": "FZT_TABLE_GRID",
    "table_center": "FZT_TABLE_CENTER",
    "table_supervision": "FZT_TABLE_SUPERVISION",
    "table_foresight": "FZT_TABLE_FORESIGHT",
    "topic_orders_arn": "FZT_TOPIC_ORDERS_ARN",
    "topic_supervision_arn": "FZT_TOPIC_SUPERVISION_ARN",
    "export_bucket": "FZT_EXPORT_BUCKET",
    "export_dir": "FZT_EXPORT_DIR",
    "export_function": "FZT_EXPORT_FUNCTION",
    "token_secret": "FZT_TOKEN_SECRET",
    "phone_key": "FZT_PHONE_KEY",
    "data_key": "FZT_DATA_KEY",
    "sms_sender_id": "FZT_SMS_SENDER_ID",
    "oidc_issuer": "FZT_OIDC_ISSUER",
    "oidc_audience": "FZT_OIDC_AUDIENCE",
    "oidc_jwks_url": "FZT_OIDC_JWKS_URL",
    "oidc_username_claim": "FZT_OIDC_USERNAME_CLAIM",
    "oidc_authorize_url": "FZT_OIDC_AUTHORIZE_URL",
    "oidc_token_url": "FZT_OIDC_TOKEN_URL",
    "oidc_logout_url": "FZT_OIDC_LOGOUT_URL",
    "oidc_scopes": "FZT_OIDC_SCOPES",
    "clock_start": "FZT_CLOCK_START",
    "directory_path": "FZT_DIRECTORY_PATH",
    "log_level": "FZT_LOG_LEVEL",
}


LOCAL_ONLY_SECRETS = ("token_secret", "phone_key", "data_key")


class InsecureSettings(RuntimeError):
    pass


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, str] = {k: env[v] for k, v in _ENV.items() if env.get(v)}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        values["region"] = region
    settings = Settings.model_validate(values)
    if not settings.is_local:
        defaults = [
            _ENV[name]
            for name in ("phone_key", "data_key")
            if getattr(settings, name) == Settings.model_fields[name].default
        ]
        if defaults:
            # Personal data sealed or hashed with a published key is not protected: refuse to run.
            raise InsecureSettings(f"set {', '.join(defaults)} on stage {settings.stage}")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()


def reset_settings() -> None:
    get_settings.cache_clear()
