"""`make run` keeps its data: a real `python -m chalicelib.local.run` in a subprocess, stopped and started
again on one state folder (a temporary one, through FZT_STATE_DIR: never the repository's var/state).

SIGTERM keeps everything (petitions, idempotency keys, the clock); SIGKILL keeps what the last snapshot,
taken every few seconds, holds; `make reset` (python -m chalicelib.local.state reset) starts clean and
refuses while a stack runs on the folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.conftest import Api
from tests.e2e.conftest import ROOT, free_port

WECHAT = "local-wechat"
ADMIN = "admin@210900"
SNAPSHOT_INTERVAL = 2.0  # run.py's default


class Stack:
    """`python -m chalicelib.local.run` on a state folder; like conftest's RunningStack, but patient with a
    slow first answer on a busy machine, and it never leaves the process behind when it fails to start."""

    started: list[subprocess.Popen] = []

    def __init__(self, state: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ROOT / "artifacts" / f"persistence-{self.port}.log"
        self.log.parent.mkdir(exist_ok=True)
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "FZT_STATE_DIR": str(state), **env}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chalicelib.local.run", "--port", str(self.port)],
                cwd=ROOT,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        Stack.started.append(self.proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"run exited early:\n{self.log.read_text(errors='replace')}")
            try:
                if requests.get(self.url + "/health", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("stack not ready within 90 s")
        self.api = Api(self.url)

    def stop(self, sig: signal.Signals) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    yield
    for proc in Stack.started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    Stack.started.clear()


def body(tag: str) -> dict:
    return {
        "district": "210902",
        "content": f"小区门口路灯坏了一个月（{tag} {uuid.uuid4().hex[:10]}）",
        "citizen": {"phone": "13800138000"},
    }


def start(state: Path, **env: str) -> Stack:
    return Stack(state, **env)


def create(stack: Stack, payload: dict, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return stack.api.post("/v1/petitions", payload, as_=WECHAT, headers=headers)


def created(stack: Stack, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        r = create(stack, body(f"{tag}-{i}"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def served(stack: Stack, ids: list[str]) -> list[str]:
    found = []
    for pid in ids:
        r = stack.api.get(f"/v1/petitions/{pid}", as_=ADMIN)
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            assert r.json()["id"] == pid
            found.append(pid)
    return found


def now(stack: Stack) -> datetime:
    return datetime.fromisoformat(stack.api.get("/_local/clock").json()["now"])


def test_sigterm_keeps_every_petition_its_idempotency_key_and_the_clock(tmp_path):
    state = tmp_path / "state"
    first = start(state, FZT_CLOCK_START="2026-11-20T10:00:00+08:00")
    try:
        ids = created(first, 5, "sigterm")
        keyed_body = body("keyed")
        keyed = create(first, keyed_body, key="persist-key-1")
        assert keyed.status_code == 201, keyed.text
        ids.append(keyed.json()["id"])
        assert first.api.post("/_local/clock", {"advance_seconds": 3600}).status_code == 200
        before = now(first)
    finally:
        first.stop(signal.SIGTERM)
    assert first.proc.returncode == 0
    assert (state / "snapshot.pickle").is_file()

    # The same FZT_CLOCK_START again: it applies to a fresh start only; the clock resumes, never backwards.
    second = start(state, FZT_CLOCK_START="2026-11-20T10:00:00+08:00")
    try:
        assert served(second, ids) == ids
        again = create(second, keyed_body, key="persist-key-1")
        assert again.status_code == 200, again.text
        assert again.json()["id"] == keyed.json()["id"]
        assert now(second) >= before
        assert "resumed the snapshot" in second.log.read_text(encoding="utf-8")
    finally:
        second.stop(signal.SIGTERM)
    assert second.proc.returncode == 0


def test_sigkill_keeps_what_the_last_snapshot_holds(tmp_path):
    from chalicelib.local.state import StateDir

    state = tmp_path / "state"
    first = start(state)
    try:
        assert (state / "snapshot.pickle").is_file()  # a fresh stack saves itself before it answers
        ids = created(first, 5, "sigkill")
        acknowledged = datetime.now(UTC)
        # Wait (longer than the snapshot interval) for a snapshot taken after those creates were answered.
        waited = time.monotonic()
        while (
            StateDir(state).load().saved_at < acknowledged
            and time.monotonic() - waited < 15 * SNAPSHOT_INTERVAL
        ):
            time.sleep(0.2)
        saved_at = StateDir(state).load().saved_at
        assert saved_at >= acknowledged, f"no snapshot within 15 intervals: the last at {saved_at}"
    finally:
        first.stop(signal.SIGKILL)
    assert first.proc.returncode == -signal.SIGKILL

    second = start(state)
    try:
        assert served(second, ids) == ids
        assert not list(state.glob(".snapshot-*.tmp"))
    finally:
        second.stop(signal.SIGTERM)


def reset(state: Path, exports: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.local.state", "reset", "--state-dir", str(state)]
        + ["--exports-dir", str(exports)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_reset_refuses_a_running_stack_then_starts_clean(tmp_path):
    state, exports = tmp_path / "state", tmp_path / "exports"
    exports.mkdir()
    first = start(state)
    try:
        ids = created(first, 1, "reset")
        refused = reset(state, exports)
        assert refused.returncode == 1 and "another stack" in refused.stderr
        assert (state / "snapshot.pickle").is_file()
    finally:
        first.stop(signal.SIGTERM)
    done = reset(state, exports)
    assert done.returncode == 0, done.stderr
    assert not state.exists() and not exports.exists()

    second = start(state)
    try:
        assert served(second, ids) == []
        assert "a fresh start" in second.log.read_text(encoding="utf-8")
    finally:
        second.stop(signal.SIGTERM)
