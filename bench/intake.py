"""Intake throughput on the local stack, beside two floors measured in the same run.

Starts the local stack (``make run``'s: moto + the Chalice app + the outbox drain worker), then,
with the same number of concurrent clients:

1. ``GET /health`` rate: what the same HTTP server answers when a request does nothing;
2. bare five-item ``TransactWriteItems`` rate on the same moto (a scratch table): the storage floor;
3. ``POST /v1/petitions`` rate (every create answered 201), then how long the drain takes to
   send every receipt SMS after the last create, and whether each went out exactly once.

Process layouts (``--layout``):

- ``processes`` (the default): moto in a child process of its own (``LocalStack(moto_process=True)``),
  the app and its drain in this one, and the client threads in a third (multiprocessing, spawned:
  clients are other machines in real life). The floor's transactions are sent from the clients'
  process to the same moto.
- ``one-process``: everything on one GIL as ``make run`` runs it (moto, app, drain and the client
  threads), for comparison with the figures measured before.

The receipt SMS are read from the outbox journal, which lives in the app's process (it is recorded
client-side by the app's SNS client). Beside the rates, the CPU seconds each process used during the
creates (from /proc) show where the two cores went.

Printed figures, never assertions. Run: ``python -m bench intake`` or
``python -m bench.intake --creates 400 --clients 8`` (``--at 10:00`` sets the stack's clock: at
night quiet hours defer the receipt SMS, which is what made night-time intake faster before the
publish left the request path).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

CLIENTS = 8
CREATES = 400
HEALTH = 1_000
FLOOR_TX = 600
DISTRICTS = ("210902", "210903", "210904", "210905", "210911", "210921", "210922")
CST = timezone(timedelta(hours=8))


def _rate(n: int, clients: int, work: Callable[[int, int], object]) -> tuple[float, Counter]:
    """Runs ``work(client, i)`` n times over ``clients`` threads; returns per-second rate and outcomes."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    counter = iter(range(n))

    def run(c: int) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                outcome = work(c, i)
            except Exception as exc:  # noqa: BLE001 - counted and printed, never raised
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - started), outcomes


def _sessions(clients: int):
    import requests

    return [requests.Session() for _ in range(clients)]


def health_rate(url: str, clients: int, n: int = HEALTH) -> tuple[float, Counter]:
    sessions = _sessions(clients)
    return _rate(n, clients, lambda c, i: sessions[c].get(f"{url}/health", timeout=30).status_code)


def floor_rate(clients: int, n: int = FLOOR_TX) -> tuple[float, Counter]:
    """Bare five-item TransactWriteItems (five Puts of small items) on the same moto server."""
    import boto3

    ddb = boto3.client("dynamodb")
    name = f"bench-floor-{uuid.uuid4().hex[:6]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    clients_ = [boto3.client("dynamodb") for _ in range(clients)]

    def tx(c: int, i: int) -> int:
        items = [
            {"Put": {"TableName": name, "Item": {"pk": {"S": f"{i}#{k}"}, "v": {"S": "x" * 200}}}}
            for k in range(5)
        ]
        clients_[c].transact_write_items(TransactItems=items)
        return 200

    try:
        return _rate(n, clients, tx)
    finally:
        ddb.delete_table(TableName=name)


def create_rate(api_url: str, clients: int, n: int) -> tuple[float, Counter, list[str], list[str]]:
    sessions = _sessions(clients)
    ids: list[str] = []
    phones: list[str] = []
    lock = threading.Lock()
    run = uuid.uuid4().hex[:4]

    def create(c: int, i: int) -> int:
        phone = f"139{i:08d}"
        body = {
            "district": DISTRICTS[i % len(DISTRICTS)],
            "content": f"路灯不亮，夜间出行不便（压测 {run}-{i}）",
            "citizen": {"phone": phone},
        }
        r = sessions[c].post(
            f"{api_url}/v1/petitions", json=body, headers={"X-Api-Key": "local-hotline"}, timeout=60
        )
        if r.status_code == 201:
            with lock:
                ids.append(r.json()["id"])
                phones.append(phone)
        return r.status_code

    rate, outcomes = _rate(n, clients, create)
    return rate, outcomes, ids, phones


def receipts(phones: list[str]) -> Counter:
    """How many receipt SMS each phone got, from the local stack's outbox journal (no flush)."""
    from chalicelib.local import journal

    sent = Counter(e.get("to", "").removeprefix("+86") for e in journal.entries() if e.get("kind") == "sms")
    return Counter(sent.get(p, 0) for p in phones)


LAYOUTS = ("processes", "one-process")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), or None."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_phase(phase: str, url: str, moto_url: str, clients: int, n: int) -> dict:
    """One phase of the clients' work, run in the clients' process (or, one-process, in this one)."""
    if moto_url and os.environ.get("AWS_ENDPOINT_URL") != moto_url:  # the clients' own process
        from chalicelib.local.stack import point_at

        point_at(moto_url)
    result: dict = {"pid": os.getpid()}
    if phase == "health":
        result["rate"], result["outcomes"] = health_rate(url, clients, n)
    elif phase == "floor":
        result["rate"], result["outcomes"] = floor_rate(clients, n)
    else:
        result["rate"], result["outcomes"], result["ids"], result["phones"] = create_rate(url, clients, n)
    result["done_at"] = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake")
    parser.add_argument("--creates", type=int, default=CREATES)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--at", default="10:00", help="the stack's local time (Asia/Shanghai) at the start")
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="processes",
        help="processes: moto, the app and the clients in three processes; one-process: all on one GIL",
    )
    args = parser.parse_args(argv or [])

    from chalicelib.local.stack import LocalStack

    hh, mm = (int(x) for x in args.at.split(":"))
    start = datetime(2026, 6, 2, hh, mm, tzinfo=CST).astimezone(UTC)
    apart = args.layout == "processes"
    stack = LocalStack(port=0, sweep_interval=0, clock_start=start, moto_process=apart).start()
    pool = None
    try:
        import requests

        from chalicelib.db import all_connections

        # Steady state: every table's client built before the clock starts (PynamoDB builds one on a
        # connection's first use, unlocked, so 8 first requests at once each built their own).
        all_connections()
        requests.get(f"{stack.url}/health", timeout=30)
        if apart:
            import multiprocessing

            # spawned, not forked: this process runs the app's threads; the clients start clean
            pool = multiprocessing.get_context("spawn").Pool(1)

            def phase(name: str, n: int) -> dict:
                return pool.apply(_client_phase, (name, stack.url, stack.moto_url, args.clients, n))
        else:

            def phase(name: str, n: int) -> dict:
                return _client_phase(name, stack.url, "", args.clients, n)

        h = phase("health", HEALTH)
        f = phase("floor", FLOOR_TX)
        app_pid = os.getpid()
        moto_pid = stack._moto.pid if apart else app_pid
        client_pid = h["pid"]
        cpu_before = {p: _cpu_seconds(p) for p in {app_pid, moto_pid, client_pid}}
        wall_before = time.monotonic()
        c = phase("create", args.creates)
        cpu = {p: (_cpu_seconds(p) or 0.0) - (cpu_before[p] or 0.0) for p in cpu_before}
        wall = c["done_at"] - wall_before
        health, h_out = h["rate"], h["outcomes"]
        floor, f_out = f["rate"], f["outcomes"]
        rate, c_out, phones = c["rate"], c["outcomes"], c["phones"]
        done_at = c["done_at"]
        # The receipts leave after the commit: wait for the drain to send them (without flushing it),
        # unless quiet hours (22:00-08:00) defer them to 08:00.
        quiet = hh >= 22 or hh < 8
        deadline = done_at + (0 if quiet else 60)
        while time.monotonic() < deadline and receipts(phones)[1] < len(phones):
            time.sleep(0.05)
        lag = time.monotonic() - done_at
        got = receipts(phones)
        errors = sum(v for k, v in c_out.items() if k != 201)
        if apart:
            print(
                f"layout: processes — moto (pid {moto_pid}), the app + outbox drain (pid {app_pid}) and "
                f"{args.clients} client threads (pid {client_pid}) in three processes; {os.cpu_count()} cores"
            )
        else:
            print(
                f"layout: one-process — moto, the app + outbox drain and {args.clients} client threads "
                f"on one GIL (pid {app_pid}); {os.cpu_count()} cores"
            )
        print(f"clients {args.clients}, creates {args.creates}, stack clock {args.at} Asia/Shanghai")
        print(f"GET /health                  {health:8.1f} req/s   outcomes {dict(h_out)}")
        print(f"bare 5-item TransactWrite    {floor:8.1f} tx/s    outcomes {dict(f_out)}")
        print(f"POST /v1/petitions           {rate:8.1f} /s       outcomes {dict(c_out)}, errors {errors}")
        print(f"  ratio to GET /health       {rate / health:8.2f}")
        print(f"  ratio to the storage floor {rate / floor:8.2f}")
        if apart:
            print(
                f"  CPU during the creates ({wall:.1f} s): app {cpu[app_pid]:.1f} s, "
                f"moto {cpu[moto_pid]:.1f} s, clients {cpu[client_pid]:.1f} s"
            )
        else:
            print(f"  CPU during the creates ({wall:.1f} s): the one process {cpu[app_pid]:.1f} s")
        if quiet:
            print(f"receipt SMS: deferred by quiet hours to 08:00 (sent so far, count: phones {dict(got)})")
        else:
            sent = "all sent" if got[1] == len(phones) else f"NOT all sent ({got[1]} of {len(phones)})"
            print(
                f"receipt SMS: {sent} {lag:.2f} s after the last create answered; "
                f"per phone (count of SMS: phones) {dict(sorted(got.items()))}"
            )
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        stack.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
