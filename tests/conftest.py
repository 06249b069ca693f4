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
        return {"Authorization": f"Bearer {self.token(as_)}"}

    def _send(self, method: str, path: str, as_: str | None, kw: dict) -> requests.Response:
        extra = kw.pop("headers", {})
        r = self.session.request(
            method, self.url + path, headers={**self.headers(as_), **extra}, timeout=TIMEOUT, **kw
        )
        if r.status_code == 401 and as_ is not None and not as_.startswith("local-"):
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
