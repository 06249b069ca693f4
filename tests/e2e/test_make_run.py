"""The local stack as a newcomer starts it: ready, the contract's controls answer, and it stops cleanly."""

from __future__ import annotations

import signal
from datetime import datetime

from tests.e2e.conftest import RunningStack


def test_stack_is_ready_and_prints_where_to_go(live):
    assert live.api.get("/health").json() == {"status": "ok"}
    printed = live.log.read_text(encoding="utf-8")
    assert live.url in printed and "local-wechat" in printed and "/_local/token" in printed


def test_clock_starts_at_fzt_clock_start(live):
    now = datetime.fromisoformat(live.api.get("/_local/clock").json()["now"])
    # FZT_CLOCK_START=2026-11-20T10:00+08:00, then it ticks with real time (a test run takes seconds).
    assert datetime.fromisoformat("2026-11-20T10:00:00+08:00") <= now
    assert (now - datetime.fromisoformat("2026-11-20T10:00:00+08:00")).total_seconds() < 600


def test_every_seeded_operator_role_gets_a_token(live):
    for user in [
        "dispatcher@210902",
        "handler@210902.housing",
        "reviewer@210902",
        "supervisor@210902",
        "chief@210902",
        "chief@210900",
        "auditor@210900",
        "admin@210900",
    ]:
        r = live.api.post("/_local/token", {"user": user})
        assert r.status_code == 200, (user, r.text)


def test_sigterm_stops_within_five_seconds():
    stack = RunningStack()
    elapsed = stack.stop(signal.SIGTERM, timeout=5.0)
    assert stack.proc.returncode == 0
    assert elapsed < 5.0


def test_ctrl_c_stops_within_five_seconds():
    stack = RunningStack()
    elapsed = stack.stop(signal.SIGINT, timeout=5.0)
    assert stack.proc.returncode == 0
    assert elapsed < 5.0
