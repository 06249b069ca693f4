"""Operators on AWS stages: Cognito ID tokens verified in the app (moto's user pool issues real RS256 JWTs).

moto offers Cognito in us-east-1 only, like AWS (no Cognito in the China regions, where the
same verifier takes the city's OIDC provider)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalice.test import Client

from chalicelib.auth.oidc import OidcVerifier
from chalicelib.errors import Unauthenticated


@pytest.fixture(scope="module")
def pool(stack):
    c = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = c.create_user_pool(PoolName="fzt-operators")["UserPool"]["Id"]
    client_id = c.create_user_pool_client(
        UserPoolId=pool_id, ClientName="console", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"]
    )["UserPoolClient"]["ClientId"]

    def token(username: str) -> str:
        c.admin_create_user(
            UserPoolId=pool_id, Username=username, TemporaryPassword="Tmp-pass1!", MessageAction="SUPPRESS"
        )
        c.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password="Real-pass1!", Permanent=True
        )
        r = c.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": "Real-pass1!"},
        )
        return r["AuthenticationResult"]["IdToken"]

    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    return {
        "issuer": issuer,
        "client": client_id,
        "jwks": f"{stack.moto_url}/{pool_id}/.well-known/jwks.json",
        "token": token,
    }


def verifier(pool, audience=None) -> OidcVerifier:
    return OidcVerifier(pool["issuer"], audience or pool["client"], jwks_url=pool["jwks"])


def test_a_pool_token_names_the_operator(pool):
    token = pool["token"]("dispatcher@210902")
    assert verifier(pool).username(token, datetime.now(UTC)) == "dispatcher@210902"


def test_wrong_audience_expired_or_tampered_tokens_are_refused(pool):
    token = pool["token"]("reviewer@210902")
    with pytest.raises(Unauthenticated):
        verifier(pool, audience="another-client").username(token, datetime.now(UTC))
    with pytest.raises(Unauthenticated):
        verifier(pool).username(token, datetime.now(UTC) + timedelta(hours=2))
    head, body, sig = token.split(".")
    with pytest.raises(Unauthenticated):
        verifier(pool).username(f"{head}.{body}x.{sig}", datetime.now(UTC))


@pytest.fixture
def prod_stage(pool, runtime_env):
    from chalicelib.clock import SystemClock

    env = {
        "FZT_STAGE": "prod",
        "FZT_OIDC_ISSUER": pool["issuer"],
        "FZT_OIDC_AUDIENCE": pool["client"],
        "FZT_OIDC_JWKS_URL": pool["jwks"],
        "FZT_DATA_KEY": "test-data-key",
        "FZT_PHONE_KEY": "test-phone-key",
    }
    runtime_env(env, clock=SystemClock())


def test_the_app_accepts_pool_tokens_and_refuses_local_ones_on_prod(pool, prod_stage):
    from chalicelib.auth.identity import issue_local_token
    from chalicelib.local.stack import load_app
    from chalicelib.settings import get_settings

    token = pool["token"]("supervisor@210902")
    local_token = issue_local_token("supervisor@210902", get_settings().token_secret, datetime.now(UTC))
    with Client(load_app()) as client:
        ok = client.http.get("/v1/petitions", headers={"Authorization": f"Bearer {token}"})
        refused = client.http.get("/v1/petitions", headers={"Authorization": f"Bearer {local_token}"})
    assert ok.status_code == 200, ok.body
    assert refused.status_code == 401
    assert json.loads(refused.body)["error"]["code"] == "unauthenticated"


@pytest.fixture
def local_with_provider(pool, runtime_env):
    env = {
        "FZT_OIDC_ISSUER": pool["issuer"],
        "FZT_OIDC_AUDIENCE": pool["client"],
        "FZT_OIDC_JWKS_URL": pool["jwks"],
        "FZT_OIDC_AUTHORIZE_URL": "https://signin.example/oauth2/authorize",
        "FZT_OIDC_TOKEN_URL": "https://signin.example/oauth2/token",
    }
    runtime_env(env)


def test_signin_options_name_the_provider_and_the_public_client(pool, local_with_provider):
    from chalicelib.local.stack import load_app

    with Client(load_app(), stage_name="local") as client:
        body = json.loads(client.http.get("/v1/signin").body)
    assert body["local_tokens"] is True
    assert body["oidc"] == {
        "authorize_url": "https://signin.example/oauth2/authorize",
        "token_url": "https://signin.example/oauth2/token",
        "logout_url": None,
        "client_id": pool["client"],
        "scopes": "openid profile",
    }


def test_the_local_stage_takes_the_providers_tokens_beside_its_own(pool, local_with_provider):
    from chalicelib.auth.identity import issue_local_token
    from chalicelib.clock import wall_now
    from chalicelib.local.stack import load_app
    from chalicelib.settings import get_settings

    pool_token = pool["token"]("reviewer@210903")
    local_token = issue_local_token("handler@210902.urban", get_settings().token_secret, wall_now())
    with Client(load_app(), stage_name="local") as client:
        a = client.http.get("/v1/me", headers={"Authorization": f"Bearer {pool_token}"})
        b = client.http.get("/v1/me", headers={"Authorization": f"Bearer {local_token}"})
        forged = client.http.get("/v1/me", headers={"Authorization": f"Bearer {pool_token[:-4]}AAAA"})
    assert json.loads(a.body)["user"] == "reviewer@210903", a.body
    assert b.status_code == 200 and json.loads(b.body)["user"] == "handler@210902.urban", (
        b.status_code,
        b.body,
    )
    assert forged.status_code == 401
