"""``make run``: start the whole system on this machine and wait for Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from chalicelib.local.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sweep-interval", type=float, default=60.0)
    args = parser.parse_args(argv)

    started = time.monotonic()
    from chalicelib.clock import parse_instant
    from chalicelib.settings import settings_from_env

    start_at = settings_from_env().clock_start
    stack = LocalStack(
        port=args.port,
        host=args.host,
        clock_start=parse_instant(start_at) if start_at else None,
        sweep_interval=args.sweep_interval,
    )
    stack.start()
    from chalicelib.clock import get_clock, iso

    print(
        f"""
阜政通 Fuzhengtong is running (stage local, {time.monotonic() - started:.1f}s to ready)
  API        {stack.url}/v1/…       health {stack.url}/health
  OpenAPI    {stack.url}/openapi.json
  Console    {stack.url}/console/
  Clock      {iso(get_clock().now())}  (GET/POST {stack.url}/_local/clock)
  AWS (moto) {stack.moto_url}
  Exports    {stack.export_dir}
Demo credentials:
  channel keys (X-Api-Key): local-wechat, local-hotline, local-grid, local-walkin
  operators: POST {stack.url}/_local/token {{"user": "dispatcher@210902"}} — also handler@210902.housing,
             reviewer@210902, supervisor@210902, chief@210902, chief@210900, auditor@210900, admin@210900
Ctrl-C to stop.""",
        flush=True,
    )
    done = threading.Event()

    def _stop(signum, frame):  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    done.wait()
    print("stopping…", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
