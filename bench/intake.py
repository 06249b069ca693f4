"""Intake throughput on the local stack, beside two floors measured in the same run.

Starts the in-process local stack (``make run``'s: moto + the Chalice app + the outbox drain
worker), then, with the same number of concurrent clients:

1. ``GET /health`` rate: what the same HTTP server answers when a request does nothing;
2. bare five-item ``TransactWriteItems`` rate on the same moto (a scratch table): the storage floor;
3. ``POST /v1/petitions`` rate (every create answered 201), then how long the drain takes to
   send every receipt SMS after the last create, and whether each went out exactly once.

Printed figures, never assertions. Run: ``python -m bench intake`` or
``python -m bench.intake --creates 400 --clients 8`` (``--at 10:00`` sets the stack's clock: at
night quiet hours defer the receipt SMS, which is what made night-time intake faster before the
publish left the request path).
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake")
    parser.add_argument("--creates", type=int, default=CREATES)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--at", default="10:00", help="the stack's local time (Asia/Shanghai) at the start")
    args = parser.parse_args(argv or [])

    from chalicelib.local.stack import LocalStack

    hh, mm = (int(x) for x in args.at.split(":"))
    start = datetime(2026, 6, 2, hh, mm, tzinfo=CST).astimezone(UTC)
    stack = LocalStack(port=0, sweep_interval=0, clock_start=start).start()
    try:
        import requests

        requests.get(f"{stack.url}/health", timeout=30)
        health, h_out = health_rate(stack.url, args.clients)
        floor, f_out = floor_rate(args.clients)
        rate, c_out, ids, phones = create_rate(stack.url, args.clients, args.creates)
        done_at = time.perf_counter()
        # The receipts leave after the commit: wait for the drain to send them (without flushing it),
        # unless quiet hours (22:00-08:00) defer them to 08:00.
        quiet = hh >= 22 or hh < 8
        deadline = done_at + (0 if quiet else 60)
        while time.perf_counter() < deadline and receipts(phones)[1] < len(phones):
            time.sleep(0.05)
        lag = time.perf_counter() - done_at
        got = receipts(phones)
        errors = sum(v for k, v in c_out.items() if k != 201)
        print(f"clients {args.clients}, creates {args.creates}, stack clock {args.at} Asia/Shanghai")
        print(f"GET /health                  {health:8.1f} req/s   outcomes {dict(h_out)}")
        print(f"bare 5-item TransactWrite    {floor:8.1f} tx/s    outcomes {dict(f_out)}")
        print(f"POST /v1/petitions           {rate:8.1f} /s       outcomes {dict(c_out)}, errors {errors}")
        print(f"  ratio to GET /health       {rate / health:8.2f}")
        print(f"  ratio to the storage floor {rate / floor:8.2f}")
        if quiet:
            print(f"receipt SMS: deferred by quiet hours to 08:00 (sent so far, count: phones {dict(got)})")
        else:
            print(
                f"receipt SMS: all sent {lag:.2f} s after the last create answered; "
                f"per phone (count of SMS: phones) {dict(sorted(got.items()))}"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
