"""Shared fixtures. The local stack starts only for tests that ask for it, one per test module:
each module has its own tables, clock and outbox, so no module's petitions are swept, counted
or published by another's (a stack starts in about half a second after the first)."""

from __future__ import annotations

import pytest
import requests

# A module's sweep fires only for that module's petitions: a request that takes longer is a fault.
TIMEOUT = 30


class Api:
    """A small HTTP client for the stack under test: channels by key, operators by token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._tokens: dict[str, str] = {}
        self._citizens: dict[str, str] = {}

    def citizen_token(self, phone: str) -> str:
        """A citizen's session as the page gets one: a code by SMS (read from the local outbox)."""
        import re

        if phone not in self._citizens:
            r = self.session.post(f"{self.url}/v1/citizen/otp", json={"phone": phone}, timeout=10)
            assert r.status_code == 202, r.text
            sent = self.session.get(
                f"{self.url}/_local/outbox", params={"to": f"+86{phone}"}, timeout=10
            ).json()
            code = re.findall(r"验证码(\d{6})", " ".join(e["message"] for e in sent if e["kind"] == "sms"))[
                -1
            ]
            r = self.session.post(
                f"{self.url}/v1/citizen/session", json={"phone": phone, "code": code}, timeout=10
            )
            assert r.status_code == 200, r.text
            self._citizens[phone] = r.json()["token"]
        return self._citizens[phone]

    def token(self, user: str) -> str:
        if user not in self._tokens:
            r = self.session.post(f"{self.url}/_local/token", json={"user": user}, timeout=10)
            r.raise_for_status()
            self._tokens[user] = r.json()["token"]
        return self._tokens[user]

    def headers(self, as_: str | None) -> dict:
        if as_ is None:
            return {}
        if as_.startswith("local-"):
            return {"X-Api-Key": as_}
        if as_.startswith("citizen:"):  # citizen:<phone>
            return {"Authorization": f"Bearer {self.citizen_token(as_.split(':', 1)[1])}"}
        return {"Authorization": f"Bearer {self.token(as_)}"}

    def _send(self, method: str, path: str, as_: str | None, kw: dict) -> requests.Response:
        extra = kw.pop("headers", {})
        r = self.session.request(
            method, self.url + path, headers={**self.headers(as_), **extra}, timeout=TIMEOUT, **kw
        )
        if r.status_code == 401 and as_ is not None and not as_.startswith(("local-", "citizen:")):
            # Tokens expire on the stack's clock, which tests move forward by days: take a fresh one.
            self._tokens.pop(as_, None)
            headers = {**self.headers(as_), **extra}
            r = self.session.request(method, self.url + path, headers=headers, timeout=TIMEOUT, **kw)
        return r

    def get(self, path: str, as_: str | None = None, **kw) -> requests.Response:
        return self._send("GET", path, as_, kw)

    def post(self, path: str, body=None, as_: str | None = None, **kw) -> requests.Response:
        if body is not None and "data" not in kw:
            kw["json"] = body
        return self._send("POST", path, as_, kw)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from chalicelib.local.stack import LocalStack

    s = LocalStack(port=0, sweep_interval=0, export_dir=tmp_path_factory.mktemp("exports")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api(stack) -> Api:
    return Api(stack.url)


@pytest.fixture
def runtime_env(monkeypatch):
    """Runs a test on other settings: ``runtime_env({"FZT_STAGE": "dev", …}, clock=…)`` sets the
    environment and puts a runtime built from it in place; the stack's runtime comes back after."""
    from chalicelib.runtime import Runtime, get_runtime, set_runtime
    from chalicelib.settings import reset_settings

    before = get_runtime()

    def apply(env: dict[str, str], clock=None):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        reset_settings()
        runtime = Runtime.build(clock=clock)
        set_runtime(runtime)
        return runtime

    yield apply
    monkeypatch.undo()
    reset_settings()
    set_runtime(before)
