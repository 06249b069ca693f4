"""A load test on loopback (issue 17 item 5): petitions at a steady rate for some minutes, with their
actions and the sweep interleaved; latency percentiles, errors, and nothing lost.

An asyncio scheduler releases one petition every 1/rate seconds; each petition's life (create,
dispatch, accept, resolve, review, feedback — one request after the other, as people would) runs on
a bounded pool of workers (``--workers``; a request waits for a free worker, so a slow server
shows as latency and a falling achieved rate, never as unbounded concurrency). The sweep runs every
``--sweep-every`` seconds through ``POST /_local/sweep``. Afterwards every created petition's
timeline is read back: complete means it holds the events of every action that was answered 200/201
and its receipt SMS went out once.

Process layouts (``--layout``): ``processes`` (the default) runs moto in a child process of its own
(``LocalStack(moto_process=True)``), the app and its outbox drain in this one, and the load (the
scheduler, the workers and the read-back) in a third, spawned with multiprocessing, as the clients
are other machines in real life; ``one-process`` runs all of it on one GIL, as before.

Run: ``python -m bench load`` (10 minutes at 50 petitions/s) or
``python -m bench.load --minutes 1 --rate 10`` for a quick run. Loopback only: it starts its own
local stack. Printed figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests

DISTRICT = "210903"
DEPARTMENT = f"{DISTRICT}.urban"
ACTIONS = [
    ("dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT}),
    ("accept", f"handler@{DEPARTMENT}", {}),
    ("resolve", f"handler@{DEPARTMENT}", {"reply": "已处理"}),
    ("review", f"reviewer@{DISTRICT}", {"approve": True}),
    ("feedback", "local-hotline", {"rating": "satisfied"}),
]
NO_ANSWER = 599  # the status recorded for a request that got no answer in time (e.g. a sweep after 120 s)
EVENT_OF = {
    "dispatch": "dispatched",
    "accept": "accepted",
    "resolve": "resolved",
    "review": "review_approved",
}


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {}
        self.status: Counter = Counter()
        self.done: dict[str, list[str]] = {}  # petition → actions answered 200
        self.ended = 0.0  # perf_counter when the last life ended

    def add(self, what: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency.setdefault(what, []).append(seconds)
            self.status[(what, status)] += 1


def life(api_factory, local: threading.local, n: int, rec: Recorder) -> None:
    api = getattr(local, "api", None)
    if api is None:
        api = local.api = api_factory()
    body = {"district": DISTRICT, "content": f"楼道灯不亮（压测{n}）", "citizen": {"phone": f"1350{n:07d}"}}
    t = time.perf_counter()
    r = api.post("/v1/petitions", body, as_="local-hotline")
    rec.add("create", time.perf_counter() - t, r.status_code)
    if r.status_code != 201:
        return
    pid = r.json()["id"]
    with rec.lock:
        rec.done[pid] = []
    for action, who, payload in ACTIONS:
        t = time.perf_counter()
        r = api.post(f"/v1/petitions/{pid}/{action}", payload, as_=who)
        rec.add(action, time.perf_counter() - t, r.status_code)
        if r.status_code != 200:
            return
        with rec.lock:
            rec.done[pid].append(action)


async def drive(
    url: str, minutes: float, rate: float, workers: int, sweep_every: float, rec: Recorder
) -> float:
    from tests.conftest import Api

    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=workers)
    local = threading.local()
    gate = asyncio.Semaphore(workers * 2)  # bounded: at most this many lives queued or running
    end = time.perf_counter() + minutes * 60
    tasks = []
    sweeper = Api(url)

    async def one(n: int) -> None:
        try:
            await loop.run_in_executor(pool, life, lambda: Api(url), local, n, rec)
        finally:
            gate.release()

    async def sweeps() -> None:
        while time.perf_counter() < end:
            await asyncio.sleep(sweep_every)
            t = time.perf_counter()
            try:
                r = await loop.run_in_executor(
                    None, lambda: sweeper.session.post(f"{url}/_local/sweep", timeout=120)
                )
                status = r.status_code
            except requests.RequestException:  # counted as an error, not a crash of the run
                status = NO_ANSWER
            except asyncio.CancelledError:  # the load ended first: still unanswered, counted so
                rec.add("sweep", time.perf_counter() - t, NO_ANSWER)
                raise
            rec.add("sweep", time.perf_counter() - t, status)

    sweep_task = asyncio.create_task(sweeps())
    started = time.perf_counter()
    n = 0
    while time.perf_counter() < end:
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        tasks.append(asyncio.create_task(one(n)))
        n += 1
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    rec.ended = time.perf_counter()
    sweep_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweep_task  # a sweep still waiting is recorded as unanswered
    pool.shutdown()
    return n / elapsed


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_load(url: str, minutes: float, rate: float, workers: int, sweep_every: float) -> dict:
    """The load and its read-back, in the clients' process: plain data back (it crosses processes)."""
    from tests.conftest import Api

    rec = Recorder()
    achieved = asyncio.run(drive(url, minutes, rate, workers, sweep_every, rec))
    api = Api(url)
    # GET /_local/outbox first waits for the outbox drain to deliver what was committed: behind a
    # long load that takes longer than a request's usual 30 s, and how long is a figure too.
    outbox = api.session.get(f"{url}/_local/outbox", timeout=1800).json()
    drained = time.perf_counter() - rec.ended
    sms = [e for e in outbox if e["kind"] == "sms"]
    # the receipt, not the closure SMS that asks for a rating (回复1满意…)
    sent = Counter(e.get("to") for e in sms if "回复1" not in e["message"])
    lost = []
    for pid, actions in rec.done.items():
        timeline = api.get(f"/v1/petitions/{pid}", as_=f"supervisor@{DISTRICT}").json()["timeline"]
        types = [e["type"] for e in timeline]
        expected = ["created", *[EVENT_OF.get(a, a) for a in actions]]
        if any(t not in types for t in expected):
            lost.append(pid)
    receipts = Counter(v for k, v in sent.items() if k and k.startswith("+861350"))
    return {
        "achieved": achieved,
        "latency": rec.latency,
        "status": rec.status,
        "lost": len(lost),
        "receipts": receipts,
        "drained": drained,
        "pid": os.getpid(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="petitions released per second")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--sweep-every", type=float, default=10.0)
    parser.add_argument(
        "--layout",
        choices=("processes", "one-process"),
        default="processes",
        help="processes: moto, the app and the load in three processes; one-process: all on one GIL",
    )
    args = parser.parse_args(argv or [])

    from chalicelib.clock import SHANGHAI
    from chalicelib.local.stack import LocalStack

    start = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    apart = args.layout == "processes"
    stack = LocalStack(port=0, sweep_interval=0, clock_start=start, moto_process=apart).start()
    load = (stack.url, args.minutes, args.rate, args.workers, args.sweep_every)
    try:
        from chalicelib.db import all_connections

        # Steady state: every table's client built before the load starts (PynamoDB builds one on a
        # connection's first use, unlocked, so 16 first requests at once each built their own).
        all_connections()
        if apart:
            import multiprocessing

            # spawned, not forked: this process runs the app's threads; the clients start clean
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result = pool.apply(run_load, load)
            layout = (
                f"layout: processes — moto (pid {stack._moto.pid}), the app + outbox drain "
                f"(pid {os.getpid()}) and the load (pid {result['pid']}) in three processes"
            )
        else:
            result = run_load(*load)
            layout = (
                "layout: one-process — moto, the app + outbox drain and the load on one GIL "
                f"(pid {os.getpid()})"
            )
    finally:
        stack.stop()
    status: Counter = result["status"]
    creates = sum(v for (w, s), v in status.items() if w == "create")
    errors = {k: v for k, v in status.items() if k[1] >= 400}
    print(f"{layout}; {os.cpu_count()} cores")
    print(
        f"{args.minutes:g} min at {args.rate:g} petitions/s asked, {result['achieved']:.1f}/s released "
        f"({args.workers} workers); {creates:,} petitions, {sum(status.values()):,} requests"
    )
    print(f"{'request':10} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for what, values in result["latency"].items():
        print(f"{what:10} {len(values):7,} {pct(values, 0.5) * 1000:8.1f} {pct(values, 0.99) * 1000:8.1f}")
    print(
        f"errors: {errors or 0}"
        + (f" ({NO_ANSWER}: no answer in time)" if any(k[1] == NO_ANSWER for k in errors) else "")
    )
    print(f"the outbox drain delivered the last notifications {result['drained']:.1f} s after the load")
    print(
        f"lost (a timeline missing an answered action): {result['lost']}; "
        f"receipts per phone {dict(result['receipts'])}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
