"""The citizen API of CONTRACT §9, played inside the test for the citizen entrance's browser tests.

Until the real routes exist, ``CitizenStub`` answers the page's ``/v1/citizen/…`` requests through
Playwright's ``page.route``. It plays them on top of the stack's channel API, from the test process:
a petition the page submits is created by ``POST /v1/petitions`` with the WeChat channel's key and
the phone the SMS code proved, and what the page reads back is the real ``PetitionOut`` of
``GET /v1/petitions/{id}``. So the page is tested against the real shapes (status, stage, due time,
timeline), and the channel key stays here, never in the browser.

Every request the page made is kept in ``requests`` (method, path, headers, JSON body), so tests can
say what was sent; ``fail_next`` makes the next matching request answer an error.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import Api

CHANNEL = "local-wechat"
CITIZEN_ROUTES = re.compile(r"^https?://[^/]+(?:/[^?#]*)?/v1/citizen/.*$")
MOBILE = re.compile(r"^(?:\+?86)?(1[3-9][0-9]{9})$")


def error(code: str, message: str, field_name: str | None = None) -> dict:
    e: dict[str, Any] = {"code": code, "message": message}
    if field_name:
        e["field"] = field_name
    return {"error": e}


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class CitizenStub:
    api: Api
    code: str = "246810"
    page_size: int = 20
    requests: list[Seen] = field(default_factory=list)
    sms: list[str] = field(default_factory=list)  # phones a code went to
    tokens: dict[str, str] = field(default_factory=dict)  # token → phone
    mine: dict[str, list[str]] = field(default_factory=dict)  # phone → petition ids, oldest first
    _failures: list[tuple[str, re.Pattern, int, dict, dict]] = field(default_factory=list)
    _last_code_at: dict[str, float] = field(default_factory=dict)

    def install(self, page) -> CitizenStub:
        page.route(CITIZEN_ROUTES, self._handle)
        return self

    def fail_next(
        self, method: str, path: str, status: int, body: dict, headers: dict[str, str] | None = None
    ) -> None:
        """The next ``method`` request whose path matches the regex ``path`` answers ``status``/``body``."""
        self._failures.append((method, re.compile(path), status, body, headers or {}))

    def sign_in(self, phone: str) -> str:
        """A token for ``phone`` as if the page had verified it (for tests that start signed in)."""
        token = "ctz-" + uuid.uuid4().hex
        self.tokens[token] = phone
        return token

    def own(self, phone: str, pid: str) -> None:
        """Counts a petition made elsewhere (by the channel API) as this phone's."""
        self.mine.setdefault(phone, []).append(pid)

    def sent(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    # --- the routes ---------------------------------------------------------------------------------

    def _handle(self, route) -> None:
        request = route.request
        url = urlsplit(request.url)
        path = url.path[url.path.index("/v1/citizen/") :]
        try:
            body = request.post_data_json if request.post_data else None
        except (ValueError, json.JSONDecodeError):
            body = request.post_data
        seen = Seen(request.method, path, parse_qs(url.query), dict(request.headers), body)
        self.requests.append(seen)
        status, answer, headers = self._answer(seen)
        route.fulfill(
            status=status,
            headers=headers,
            content_type="application/json",
            body=json.dumps(answer, ensure_ascii=False),
        )

    def _answer(self, r: Seen) -> tuple[int, Any, dict[str, str]]:
        for i, (method, pattern, status, body, headers) in enumerate(self._failures):
            if method == r.method and pattern.fullmatch(r.path):
                del self._failures[i]
                return status, body, headers
        return (*self._play(r), {})

    def _play(self, r: Seen) -> tuple[int, Any]:
        if r.method == "POST" and r.path == "/v1/citizen/otp":
            return self._otp(r)
        if r.method == "POST" and r.path == "/v1/citizen/session":
            return self._session(r)
        phone = self.tokens.get(r.headers.get("authorization", "").removeprefix("Bearer "))
        if phone is None:
            return 401, error("unauthorized", "missing or expired citizen token")
        if r.method == "POST" and r.path == "/v1/citizen/petitions":
            return self._submit(phone, r.body)
        if r.method == "GET" and r.path == "/v1/citizen/petitions":
            return self._list(phone, r.query)
        m = re.fullmatch(r"/v1/citizen/petitions/([^/]+)(/feedback)?", r.path)
        if m and m.group(1) in self.mine.get(phone, []):
            pid = m.group(1)
            if r.method == "GET" and not m.group(2):
                got = self.api.get(f"/v1/petitions/{pid}", as_=CHANNEL)
                return got.status_code, got.json()
            if r.method == "POST" and m.group(2):
                done = self.api.post(f"/v1/petitions/{pid}/feedback", r.body, as_=CHANNEL)
                return done.status_code, done.json()
        if m:
            return 404, error("not_found", f"no petition {m.group(1)}")
        return 404, error("not_found", "no such route")

    def _otp(self, r: Seen) -> tuple[int, Any]:
        m = MOBILE.fullmatch(str((r.body or {}).get("phone", "")))
        if not m:
            return 400, error("invalid", "phone: not a valid mainland China number", "phone")
        phone = m.group(1)
        if time.monotonic() - self._last_code_at.get(phone, -1e9) < 60:
            return 429, error("rate_limited", "验证码发送太频繁，请1分钟后再试", "phone")
        self._last_code_at[phone] = time.monotonic()
        self.sms.append(phone)
        return 202, {"expires_in": 300}

    def _session(self, r: Seen) -> tuple[int, Any]:
        body = r.body or {}
        m = MOBILE.fullmatch(str(body.get("phone", "")))
        if not m or m.group(1) not in self.sms:
            return 400, error("invalid", "no code was sent to this phone", "phone")
        if body.get("code") != self.code:
            return 401, error("bad_code", "验证码不正确，还可尝试4次", "code")
        token = self.sign_in(m.group(1))
        expires = datetime.now(UTC) + timedelta(hours=2)
        return 200, {"token": token, "expires_at": expires.isoformat()}

    def _submit(self, phone: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "citizen" in body:
            return 400, error("invalid", "the phone comes from the token: no citizen here", "citizen")
        made = self.api.post("/v1/petitions", {**body, "citizen": {"phone": phone}}, as_=CHANNEL)
        if made.status_code == 201:
            self.own(phone, made.json()["id"])
        return made.status_code, made.json()

    def _list(self, phone: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        ids = list(reversed(self.mine.get(phone, [])))  # newest first
        start = int((query.get("cursor") or ["0"])[0])
        chunk = ids[start : start + self.page_size]
        items = [self.api.get(f"/v1/petitions/{pid}", as_=CHANNEL).json() for pid in chunk]
        more = start + self.page_size < len(ids)
        return 200, {"items": items, "next_cursor": str(start + self.page_size) if more else None}
