"""A real `make run` stack in a subprocess on a free port, driven over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningStack:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ROOT / "artifacts" / f"make-run-{self.port}.log"
        self.log.parent.mkdir(exist_ok=True)
        # A test stack keeps nothing (var/state is make run's): FZT_STATE_DIR=none, unless a test says.
        full_env = {
            **os.environ,
            "PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
            "FZT_STATE_DIR": "none",
            **(env or {}),
        }
        self._out = self.log.open("wb")
        started = time.monotonic()
        # The same entry point `make run` execs, without make's venv bootstrap (already done by `make test`).
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local.run", "--port", str(self.port)],
            cwd=ROOT,
            env=full_env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make run exited early:\n{self.log.read_text(errors='replace')}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("stack not ready within 60 s")
        self.ready_seconds = time.monotonic() - started
        self.api = Api(self.url)

    def stop(self, sig=signal.SIGTERM, timeout: float = 5.0) -> float:
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._out.close()
        return time.monotonic() - started


@pytest.fixture(scope="module")
def live():
    stack = RunningStack(env={"FZT_CLOCK_START": "2026-11-20T10:00:00+08:00"})
    yield stack
    if stack.proc.poll() is None:
        stack.stop()


def stack_at(clock_start: str):
    """A module-scoped fixture: a `make run` stack of the module's own, its clock starting at
    ``clock_start`` (each module keeps its own tables and clock). Assign it to the fixture's name:
    ``console_stack = stack_at(CLOCK_START)``."""

    @pytest.fixture(scope="module")
    def running():
        s = RunningStack(env={"FZT_CLOCK_START": clock_start})
        yield s
        if s.proc.poll() is None:
            s.stop(timeout=30)  # how fast it stops is test_make_run's business, not these modules'

    return running
