"""``make run``: start the whole system on this machine and wait for Ctrl-C / SIGTERM.

It keeps its state in ``var/state`` (elsewhere with ``--state-dir`` or ``FZT_STATE_DIR``; nowhere with
``--no-state`` or ``FZT_STATE_DIR=none``): a snapshot every few seconds while something changes and one on
Ctrl-C / SIGTERM, resumed on the next start; ``make reset`` deletes it. Started by the test suite
(``PYTEST_CURRENT_TEST`` set) without any of these, it keeps nothing, so no test reads or writes the
developer's ``var/state``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from chalicelib.local.stack import ROOT, LocalStack

DEFAULT_STATE_DIR = ROOT / "var" / "state"


def state_dir_for(args: argparse.Namespace, environ: dict[str, str] | os._Environ[str]) -> Path | None:
    if args.no_state:
        return None
    if args.state_dir:
        return Path(args.state_dir)
    if environ.get("FZT_STATE_DIR"):
        return None if environ["FZT_STATE_DIR"] == "none" else Path(environ["FZT_STATE_DIR"])
    if environ.get("PYTEST_CURRENT_TEST"):
        return None
    return DEFAULT_STATE_DIR


def environ_flag(environ: dict[str, str] | os._Environ[str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sweep-interval", type=float, default=60.0)
    parser.add_argument(
        "--state-dir", help=f"keep the state here across restarts (default {DEFAULT_STATE_DIR})"
    )
    parser.add_argument("--no-state", action="store_true", help="keep nothing: start fresh, lose all on stop")
    parser.add_argument("--snapshot-interval", type=float, default=2.0, help="seconds between snapshots")
    parser.add_argument(
        "--moto-process",
        action="store_true",
        default=environ_flag(os.environ, "FZT_MOTO_PROCESS"),
        help="run moto in a child process of its own (FZT_MOTO_PROCESS=1); keeps no state: with --no-state",
    )
    args = parser.parse_args(argv)
    state_dir = state_dir_for(args, os.environ)

    started = time.monotonic()
    from chalicelib.clock import parse_instant
    from chalicelib.settings import settings_from_env

    start_at = settings_from_env().clock_start
    stack = LocalStack(
        port=args.port,
        host=args.host,
        clock_start=parse_instant(start_at) if start_at else None,
        sweep_interval=args.sweep_interval,
        state_dir=state_dir,
        snapshot_interval=args.snapshot_interval,
        moto_process=args.moto_process,
    )
    from chalicelib.local.moto_process import PersistenceUnavailable
    from chalicelib.local.state import SnapshotFailed, SnapshotUnreadable, StateInUse

    # Ctrl-C / SIGTERM from here on stop the stack cleanly (with its last snapshot), even while it starts:
    # it then stops as soon as it is up. A second one during the start interrupts it.
    done = threading.Event()
    up = threading.Event()

    def _stop(signum, frame):  # noqa: ARG001
        if done.is_set() and not up.is_set():
            raise KeyboardInterrupt
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.start()
    except (StateInUse, SnapshotUnreadable, SnapshotFailed, PersistenceUnavailable) as exc:
        print(f"not started: {exc}", file=sys.stderr, flush=True)
        if isinstance(exc, SnapshotUnreadable):
            print(f"  `make reset` deletes {state_dir} and starts clean", file=sys.stderr, flush=True)
        return 1
    from chalicelib.clock import get_clock, iso

    up.set()
    if state_dir is None:
        kept = "nothing kept: stopping loses every petition"
    else:
        how = (
            f"resumed the snapshot of {iso(stack.restored_from)}" if stack.restored_from else "a fresh start"
        )
        kept = f"{state_dir} — {how}\n             kept across restarts; `make reset` starts clean"
    notes = "".join(f"\n  note: {n}" for n in stack.notes)

    print(
        f"""
阜政通 Fuzhengtong is running (stage local, {time.monotonic() - started:.1f}s to ready)
  API        {stack.url}/v1/…       health {stack.url}/health
  OpenAPI    {stack.url}/openapi.json
  Console    {stack.url}/console/
  Clock      {iso(get_clock().now())}  (GET/POST {stack.url}/_local/clock)
  AWS (moto) {stack.moto_url}
  Exports    {stack.export_dir}
  State      {kept}{notes}
Demo credentials:
  channel keys (X-Api-Key): local-wechat, local-hotline, local-phone, local-grid, local-walkin
  operators: POST {stack.url}/_local/token {{"user": "dispatcher@210902"}} — also handler@210902.housing,
             reviewer@210902, supervisor@210902, chief@210902, chief@210900, auditor@210900, admin@210900,
             desk@210902.center, desk@210900.hotline
  citizens:  {stack.url}/m/ (the SMS code is in GET {stack.url}/_local/outbox)
Ctrl-C to stop.""",
        flush=True,
    )
    # A timed wait, again and again: the kernel may hand the signal to any thread (the server's, the
    # drain's), and Python runs its handler only when the main thread next runs — a wait without a
    # timeout would sleep through it (SIGTERM then went unanswered for 30 s under load).
    while not done.wait(0.2):
        pass
    print("stopping…", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is saved by now (the last snapshot is written before "stopped."): skip the
    # interpreter's teardown, which under load took 1-3 s more and put the 5 s stop at risk.
    os._exit(code)
