"""A stand-in for Cognito's hosted UI, for the console's sign-in journey.

moto emulates the user pool (users, passwords, RS256 ID tokens and their JWKS) but not the
hosted UI's web pages. This small server plays those pages the way Cognito does for a public
client with PKCE: ``/oauth2/authorize`` shows a sign-in form, a right password (checked by
moto's AdminInitiateAuth) sends the browser back with a one-time code, ``/oauth2/token``
trades the code for moto's ID token only with the verifier that hashes to the challenge, and
``/logout`` sends the browser back. The tokens the console receives are moto's, verified by
the app against moto's JWKS like any other.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import boto3

PASSWORD = "Sign-in-1!"
REGION = "us-east-1"  # moto, like AWS, offers Cognito outside the China regions


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class HostedUi:
    def __init__(self, users: list[str]) -> None:
        from moto.server import ThreadedMotoServer

        from tests.e2e.conftest import free_port

        port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        self.moto_url = f"http://127.0.0.1:{port}"
        self.idp = boto3.client(
            "cognito-idp",
            region_name=REGION,
            endpoint_url=self.moto_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.pool = self.idp.create_user_pool(PoolName="fzt-operators-local")["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool, ClientName="console", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"]
        )["UserPoolClient"]["ClientId"]
        for user in users:
            self.idp.admin_create_user(
                UserPoolId=self.pool, Username=user, TemporaryPassword="Tmp-pass1!", MessageAction="SUPPRESS"
            )
            self.idp.admin_set_user_password(
                UserPoolId=self.pool, Username=user, Password=PASSWORD, Permanent=True
            )
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name="hosted-ui", daemon=True).start()

    def stack_env(self) -> dict[str, str]:
        """The app's settings for this provider, as infra/package.py wires them for Cognito."""
        return {
            "FZT_OIDC_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool}",
            "FZT_OIDC_AUDIENCE": self.client_id,
            "FZT_OIDC_JWKS_URL": f"{self.moto_url}/{self.pool}/.well-known/jwks.json",
            "FZT_OIDC_AUTHORIZE_URL": f"{self.url}/oauth2/authorize",
            "FZT_OIDC_TOKEN_URL": f"{self.url}/oauth2/token",
            "FZT_OIDC_LOGOUT_URL": f"{self.url}/logout",
        }

    def stop(self) -> None:
        self._server.shutdown()
        self.moto.stop()

    # --- the pages -----------------------------------------------------------------------------

    def _sign_in(self, form: dict[str, str]) -> tuple[int, dict, str]:
        try:
            r = self.idp.admin_initiate_auth(
                UserPoolId=self.pool,
                ClientId=self.client_id,
                AuthFlow="ADMIN_NO_SRP_AUTH",
                AuthParameters={"USERNAME": form.get("username", ""), "PASSWORD": form.get("password", "")},
            )
        except self.idp.exceptions.ClientError:
            return 200, {}, self._form(form, "Incorrect username or password.")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "id_token": r["AuthenticationResult"]["IdToken"],
            "challenge": form["code_challenge"],
            "redirect_uri": form["redirect_uri"],
        }
        back = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form['state']})}"
        return 302, {"Location": back}, ""

    def _form(self, q: dict[str, str], error: str = "") -> str:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(q.get(k, ""))}">'
            for k in ("redirect_uri", "state", "code_challenge")
        )
        return (
            "<!doctype html><meta charset=utf-8><title>Sign in</title>"
            f'<form method="post" action="/login">{hidden}'
            f'<p class="error">{html.escape(error)}</p>'
            '<input name="username" id="signInFormUsername"><input name="password" type="password" '
            'id="signInFormPassword"><button type="submit" name="signInSubmitButton">Sign in</button></form>'
        )

    def _authorize(self, q: dict[str, str]) -> tuple[int, dict, str]:
        if q.get("client_id") != self.client_id:
            return 400, {}, "unknown client"
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return 400, {}, "a public client must use the code flow with S256 PKCE"
        if not q.get("code_challenge") or not q.get("state") or "openid" not in q.get("scope", "").split():
            return 400, {}, "code_challenge, state and the openid scope are required"
        return 200, {}, self._form(q)

    def _token(self, form: dict[str, str]) -> tuple[int, dict, str]:
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        ok = (
            grant is not None
            and form.get("grant_type") == "authorization_code"
            and form.get("client_id") == self.client_id
            and form.get("redirect_uri") == grant["redirect_uri"]
            and _challenge(form.get("code_verifier", "")) == grant["challenge"]
        )
        if not ok:
            return 400, {"Content-Type": "application/json"}, json.dumps({"error": "invalid_grant"})
        body = {"id_token": grant["id_token"], "token_type": "Bearer", "expires_in": 3600}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _handler(self):
        ui = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, headers: dict, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header(
                    "Access-Control-Allow-Origin", "*"
                )  # the token endpoint is called by the page
                self.send_header("Content-Type", headers.pop("Content-Type", "text/html; charset=utf-8"))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/oauth2/authorize":
                    self._answer(*ui._authorize(q))
                elif url.path == "/logout" and q.get("client_id") == ui.client_id and q.get("logout_uri"):
                    self._answer(302, {"Location": q["logout_uri"]}, "")
                elif url.path == "/favicon.ico":
                    self._answer(204, {}, "")
                else:
                    self._answer(404, {}, "not found")

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/login":
                    self._answer(*ui._sign_in(form))
                elif self.path == "/oauth2/token":
                    self._answer(*ui._token(form))
                else:
                    self._answer(404, {}, "not found")

        return Handler
