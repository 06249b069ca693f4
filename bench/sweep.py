"""The SLA sweep at scale (DESIGN invariant 2): items read per item due beside a full Scan; a month's cost.

Runs the in-process local stack (moto). The timers table is filled with N open
timers of which a few are due at the bench instant: the due ones belong to real
petitions created through the API (POST /v1/petitions, then POST /_local/clock),
the rest are bare timers due later over the next 30 days, which the sweep must
never read. Printed figures, never assertions:

- the real sweep (``run_sweep``): wall time, DynamoDB requests by operation,
  items read from the ``due`` index ÷ items due, items read with the petitions;
- a full-Scan sweep over the same table (FilterExpression due_at <= now): items
  read (ScannedCount) ÷ due, and time, side by side;
- a cost model for a month of sweeps at list prices, beside Step Functions
  Standard with a Wait state per stage per petition, at DESIGN's 100,000 petitions a day.

Read and write units are estimated from the requests and items on the wire
(DynamoDB's rules: 4 KB read units, 1 KB write units, transactions cost double,
GSI upkeep per index an item is in); moto's own ConsumedCapacity is a constant.

Run: ``python -m bench sweep`` (defaults) or ``python -m bench.sweep --open 20000 --due 200``.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

# --- sizes of the run -----------------------------------------------------------------------------
N_OPEN = 100_000
N_DUE = 1_000
REDUCED = (20_000, 200)  # same 1% due: the ratio is what matters
POPULATION_BUDGET_S = 180.0  # if populating the defaults is projected past this, use REDUCED (and say so)
TOTAL_BUDGET_S = 300.0  # likewise for the whole run
MOTO_PASS_S_PER_TIMER = 0.0006  # the sweep's 16 index Queries + the Scan on moto, per open timer (measured)
PROBE_CREATES = 20
PROBE_TIMERS = 2_000
DISTRICT = "210911"

# --- list prices (USD, us-east-1, on-demand / standard, as of the author's knowledge; no free tier)
# DynamoDB on-demand: these are the long-standing us-east-1 list prices. AWS halved on-demand throughput
# prices on 2024-11-01 (to $0.125 per million RRU, $0.625 per million WRU); the model prints that variant too.
# AWS China regions (cn-north-1, cn-northwest-1) bill in CNY at other prices: the ratio is what carries over.
DDB_USD_PER_MILLION_RRU = (
    0.25  # 1 RRU = one strongly consistent read of up to 4 KB (eventually consistent: 1/2)
)
DDB_USD_PER_MILLION_WRU = 1.25  # 1 WRU = one write of up to 1 KB (transactional: 2)
DDB_PRICE_CUT_2024 = 0.5
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_USD_PER_GB_SECOND = 0.0000166667  # x86
SFN_STANDARD_USD_PER_1000_TRANSITIONS = 0.025

# --- volumes and assumptions of the cost model (printed with the figures) -------------------------
PETITIONS_PER_DAY = 100_000  # DESIGN "Scale and cost, on paper"
DAYS_PER_MONTH = 30
SWEEPS_PER_MONTH = 60 * 24 * DAYS_PER_MONTH  # one scheduled run a minute: 43,200
LAMBDA_MEMORY_GB = 0.5
SWEEP_RUN_BASE_S = (
    0.5  # one run's fixed work in AWS: 16 index Queries + 16 outbox Queries at ~10 ms, plus overhead
)
FIRE_S = 0.05  # one firing in AWS: GetItem + TransactWriteItems + publishing its notification
FIRINGS_PER_PETITION = (
    1.0  # commits the clock makes per petition over its life (a reminder on one stage, say)
)
ACTIONS_PER_PETITION = (
    5  # create, dispatch, accept, resolve, close: each rewrites the timer like a create does
)
SFN_STAGES = 3  # dispatch, accept, resolve
SFN_TRANSITIONS_PER_STAGE = (
    2  # Wait -> Fire (a Task); a lower bound: a ladder run to the city chief adds more
)
MIN_QUERY_RRU = 0.5  # a Query reads at least one 4 KB unit; GSI reads are eventually consistent (half a unit)

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


# --- DynamoDB item sizes and capacity units -------------------------------------------------------


def _value_size(value: dict) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v) if isinstance(v, bytes) else len(base64.b64decode(v))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(e) for k, e in v.items())
    return len(json.dumps(v))


def item_size(item: dict | None) -> int:
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


def read_units(nbytes: int, consistent: bool) -> float:
    return max(1, math.ceil(nbytes / 4096)) * (1.0 if consistent else 0.5)


def write_units(nbytes: int) -> int:
    return max(1, math.ceil(nbytes / 1024))


_UPDATE_WORDS = {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"}


@dataclass(frozen=True)
class Update:
    """The top-level attributes an UpdateExpression writes (``touched``), and those it removes."""

    touched: frozenset[str]
    removed: frozenset[str]

    @classmethod
    def of(cls, request: dict) -> Update:
        names = request.get("ExpressionAttributeNames", {})
        touched: set[str] = set()
        removed: set[str] = set()
        parts = re.split(r"\b(SET|REMOVE|ADD|DELETE)\b", request.get("UpdateExpression", ""))
        for action, clause in zip(parts[1::2], parts[2::2], strict=True):
            for part in clause.split(","):
                token = re.match(r"\s*(#?[A-Za-z_]\w*)", part)
                if token and token.group(1) not in _UPDATE_WORDS:
                    name = names.get(token.group(1), token.group(1))
                    touched.add(name)
                    if action == "REMOVE":
                        removed.add(name)
        return cls(frozenset(touched), frozenset(removed))


class Schema:
    """Key and GSI layout of every table (from DescribeTable), for write-unit estimates.

    Each GSI is (its key attributes, the attributes its entries hold): every attribute for an
    ALL projection (None), else the table's and the index's keys plus an INCLUDE's NonKeyAttributes.
    """

    def __init__(self, client, names: list[str]) -> None:
        self.tables: dict[str, dict] = {}
        for name in names:
            t = client.describe_table(TableName=name)["Table"]
            keys = {k["KeyType"]: k["AttributeName"] for k in t["KeySchema"]}
            table_keys = [keys["HASH"], keys.get("RANGE")]
            gsis: list[tuple[list[str], frozenset[str] | None]] = []
            for g in t.get("GlobalSecondaryIndexes", []):
                attrs = [k["AttributeName"] for k in g["KeySchema"]]
                projection = g.get("Projection", {})
                if projection.get("ProjectionType", "ALL") == "ALL":
                    gsis.append((attrs, None))
                else:  # KEYS_ONLY, or INCLUDE with its NonKeyAttributes
                    held = (
                        {a for a in table_keys if a}
                        | set(attrs)
                        | set(projection.get("NonKeyAttributes", []))
                    )
                    gsis.append((attrs, frozenset(held)))
            self.tables[name] = {"keys": table_keys, "gsis": gsis}

    def key(self, table: str, item: dict) -> str | None:
        spec = self.tables.get(table)
        if spec is None:
            return None
        try:
            return json.dumps([item[k] for k in spec["keys"] if k], sort_keys=True, default=str)
        except KeyError:
            return None

    def index_units(
        self, table: str, old: dict | None, new: dict | None, update: Update | None = None
    ) -> int:
        """Write units a base-table write costs in its GSIs: the new entry, and a moved or removed one.

        DynamoDB writes an index entry only when the entry changes: its keys, or an attribute it
        holds (any, for ALL; the keys and NonKeyAttributes for INCLUDE; only the keys for KEYS_ONLY).
        An entry costs units by its own size. ``update`` is an UpdateItem's attributes when its
        result is unknown (``new`` is then the item as last seen, if it was)."""
        units = 0
        for attrs, held in self.tables.get(table, {}).get("gsis", []):
            in_old = old is not None and all(a in old for a in attrs)
            in_new = new is not None and all(a in new for a in attrs)
            entry = (
                {} if new is None else new if held is None else {k: v for k, v in new.items() if k in held}
            )
            if update is not None:
                keys_set = (update.touched - update.removed) & set(attrs)
                if update.removed & set(attrs):
                    units += 1 if in_old else 0  # the entry leaves the index
                elif keys_set:
                    units += (1 if in_old else 0) + write_units(item_size(entry))  # it moves or appears
                elif in_old and (held is None or update.touched & held):
                    units += write_units(item_size(entry))  # an update of what the entry holds
                continue
            moved = in_old and in_new and any(old[a] != new[a] for a in attrs)
            if in_old and (not in_new or moved):
                units += 1  # the old entry leaves the index
            if not in_new:
                continue
            if not in_old or moved:
                units += write_units(item_size(entry))
            elif old != new and (held is None or any(old.get(a) != new.get(a) for a in held)):
                units += write_units(item_size(entry))  # an attribute the entry holds changed in place
        return units


class Meter:
    """Counts DynamoDB requests by operation, with read/write units by table and time in each operation."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.active = False
        self.local = threading.local()
        self.known: dict[tuple[str, str], dict] = {}  # last item seen per (table, key): sizes for updates
        self.reset()

    FIELDS = ("calls", "calls_by_table", "seconds", "seconds_by_op", "rru", "rru_query", "wru")
    FIELDS += ("query_items", "query_bytes", "wru_detail")

    def reset(self) -> None:
        self.counts = {f: Counter() for f in self.FIELDS}

    def start(self) -> None:
        self.reset()
        self.active = True

    def take(self) -> dict:
        """Stops counting and hands over what was counted since start()."""
        self.active = False
        out = self.counts
        self.reset()
        return out

    @staticmethod
    def merge(into: dict, more: dict) -> None:
        for f, counter in more.items():
            into[f].update(counter)

    def before(self, model=None, params=None, **_kw) -> None:
        if not self.active:
            return
        body = (params or {}).get("body") or b"{}"
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        self.local.pending = (model.name, request, time.perf_counter())

    def after(self, model=None, parsed=None, **_kw) -> None:
        pending = getattr(self.local, "pending", None)
        self.local.pending = None
        if not self.active or pending is None or pending[0] != model.name:
            return
        op, request, started = pending
        spent = time.perf_counter() - started
        table = request.get("TableName", "")
        c = self.counts
        c["calls"][op] += 1
        c["calls_by_table"][(op, table)] += 1
        c["seconds"][(op, table)] += spent
        c["seconds_by_op"][op] += spent
        try:
            self._units(op, request, parsed or {})
        except Exception:  # noqa: BLE001 - an estimate must never break the bench
            pass

    # units ------------------------------------------------------------------------------------------------
    def _remember(self, table: str, item: dict | None) -> None:
        if item:
            key = self.schema.key(table, item)
            if key is not None:
                self.known[(table, key)] = item

    def _write(
        self,
        table: str,
        old: dict | None,
        new: dict | None,
        factor: int,
        update: Update | None = None,
    ) -> None:
        size = item_size(new if new is not None else old) or 1024
        base = factor * write_units(size)
        index = self.schema.index_units(table, old, new, update)
        self.counts["wru"][table] += base + index
        # where they go: (table, operation, "base"/"index") — the cost bench prints it
        op = getattr(self.local, "op", "?")
        self.counts["wru_detail"][(table, op, "base")] += base
        self.counts["wru_detail"][(table, op, "index")] += index

    def _put(self, table: str, item: dict, factor: int) -> None:
        key = self.schema.key(table, item)
        old = self.known.get((table, key)) if key else None
        self._write(table, old, item, factor)
        self._remember(table, item)

    def _keyed(self, table: str, body: dict, factor: int, delete: bool) -> None:
        key = self.schema.key(table, body["Key"])
        old = self.known.get((table, key)) if key else None
        new = None if delete else old  # an update's result is unknown here: size it like the item it changes
        self._write(table, old, new, factor, None if delete else Update.of(body))
        if delete and key:
            self.known.pop((table, key), None)

    def _units(self, op: str, request: dict, parsed: dict) -> None:
        self.local.op = op
        table = request.get("TableName", "")
        consistent = bool(request.get("ConsistentRead"))
        if op == "GetItem":
            self.counts["rru"][table] += read_units(item_size(parsed.get("Item")), consistent)
            self._remember(table, parsed.get("Item"))
        elif op in ("Query", "Scan"):
            items = parsed.get("Items", [])
            nbytes = sum(item_size(i) for i in items)
            if parsed.get("ScannedCount", len(items)) > len(items) and items:
                nbytes = (
                    nbytes * parsed["ScannedCount"] // len(items)
                )  # filtered out: size like the kept ones
            self.counts["rru"][table] += read_units(nbytes, consistent)
            self.counts["rru_query"][table] += read_units(nbytes, consistent)
            self.counts["query_items"][table] += len(items)
            self.counts["query_bytes"][table] += nbytes
            for i in items:
                self._remember(table, i)
        elif op == "BatchGetItem":
            for name, items in parsed.get("Responses", {}).items():
                strong = bool(request.get("RequestItems", {}).get(name, {}).get("ConsistentRead"))
                for i in items:
                    self.counts["rru"][name] += read_units(item_size(i), strong)
                    self._remember(name, i)
        elif op == "PutItem":
            self._put(table, request["Item"], 1)
        elif op in ("UpdateItem", "DeleteItem"):
            self._keyed(table, request, 1, op == "DeleteItem")
        elif op == "BatchWriteItem":
            for name, entries in request.get("RequestItems", {}).items():
                for e in entries:
                    if "PutRequest" in e:
                        self._put(name, e["PutRequest"]["Item"], 1)
                    else:
                        self._keyed(name, e["DeleteRequest"], 1, True)
        elif op == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                ((kind, body),) = entry.items()
                name = body.get("TableName", "")
                if kind == "Put":
                    self._put(name, body["Item"], 2)
                elif kind in ("Update", "Delete"):
                    self._keyed(name, body, 2, kind == "Delete")
                else:  # ConditionCheck
                    self.counts["wru"][name] += 2


# --- the emulator ---------------------------------------------------------------------------------


# --- helpers --------------------------------------------------------------------------------------


def next_weekday_10(now: datetime) -> datetime:
    from chalicelib.clock import SHANGHAI

    day = now.astimezone(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def fmt_calls(calls: Counter, per: float = 1.0) -> str:
    if per == 1:
        return ", ".join(f"{op} {n:,}" for op, n in sorted(calls.items()))
    return ", ".join(f"{op} {n / per:,.2f}" for op, n in sorted(calls.items()) if n / per >= 0.005)


def short(table: str) -> str:
    """fzt-local-TimersTable-T19T7TL541BW -> Timers."""
    m = re.match(r"fzt-[a-z]+-(\w+?)Table-", table)
    return m.group(1) if m else table


def usd(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.splitlines()[0])
    p.add_argument("--open", type=int, default=None, help=f"open timers in the table (default {N_OPEN:,})")
    p.add_argument(
        "--due", type=int, default=None, help=f"of which due at the bench instant (default {N_DUE:,})"
    )
    p.add_argument("--again", action="store_true", help="run the sweep a second time (fires nothing)")
    return p.parse_args(argv or [])


# --- the bench ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    explicit = args.open is not None or args.due is not None
    n_due = args.due if args.due is not None else N_DUE
    n_open = args.open if args.open is not None else max(N_OPEN, n_due)
    if n_open < n_due or n_due < 1:
        raise SystemExit("--open must be at least --due, and --due at least 1")

    import boto3
    import requests

    from chalicelib import db
    from chalicelib.clock import get_clock, iso, utc_key
    from chalicelib.local.moto_patches import lighten_transactions
    from chalicelib.local.stack import LocalStack
    from chalicelib.runtime import get_runtime
    from chalicelib.sla.timer_store import SHARDS as TIMER_SHARDS
    from chalicelib.sla.timer_store import TimerItem

    def run_sweep(now):
        return get_runtime().run_sweep(now)

    from tests.conftest import Api

    bench_started = time.perf_counter()
    lighten_transactions()  # the local stack applies it too; the bench says so on screen
    stack = LocalStack(port=0, sweep_interval=0, clock_start=next_weekday_10(datetime.now().astimezone()))
    stack.start()
    try:
        api = Api(stack.url)
        api.get("/health")  # binds tables, warms the directory cache
        db.bound()
        client = boto3.client("dynamodb")
        timers_table = TimerItem.Meta.table_name
        meter = Meter(Schema(client, client.list_tables()["TableNames"]))
        for c in {id(c): c for c in db.all_connections()}.values():
            c.meta.events.register("before-call.dynamodb", meter.before, unique_id=f"bench-sweep-b{id(c)}")
            c.meta.events.register("after-call.dynamodb", meter.after, unique_id=f"bench-sweep-a{id(c)}")
        t0 = get_clock().now()
        print(
            f"stack up in {time.perf_counter() - bench_started:.1f} s; "
            f"clock at {iso(t0)} (a weekday, 10:00 Shanghai)"
        )
        print(
            "moto: TransactWriteItems backs up only the items it touches (local/moto_patches.py);\n"
            "      GSI Query and Scan are moto's own: each walks the whole table"
        )

        # ---- population --------------------------------------------------------------------------
        print("\n-- population --")
        created: list[str] = []
        bare = {"written": 0, "bytes": 0}

        def create(count: int) -> None:
            for _ in range(count):
                i = len(created)
                body = {
                    "district": DISTRICT,
                    "content": f"路灯不亮已有三天，夜间行人看不清路（第{i}处）",
                    # urgent: 30 min to dispatch, calendar time: the reminder is due 22.5 min after intake
                    "priority": "urgent",
                    "citizen": {"phone": f"1390{i:07d}"},
                }
                for attempt in range(3):
                    try:
                        r = api.post("/v1/petitions", body, as_="local-hotline")
                        break
                    except requests.exceptions.Timeout:  # a stalled machine: the retry replays (same body)
                        if attempt == 2:
                            raise
                if r.status_code not in (200, 201):
                    raise RuntimeError(f"create failed: {r.status_code} {r.text[:200]}")
                created.append(r.json()["id"])

        def write_bare(count: int) -> None:
            # Due from 1 h to 30 days after the clock's start: all after the bench instant (~25 min in).
            span = 30 * 86400 - 3600
            while count > 0:
                step = min(count, 10_000)
                with TimerItem.batch_write() as batch:
                    for j in range(bare["written"], bare["written"] + step):
                        pk = f"BENCH-{j:08d}"  # points at no petition: the sweep must never read it
                        due = t0 + timedelta(seconds=3600 + (j * 7919) % span)
                        item = TimerItem(
                            pk=pk,
                            sk="clock",
                            shard=str(db.shard_of(pk, TIMER_SHARDS)),
                            due_at=utc_key(iso(due)),
                            stage="resolve",
                            step=0,
                        )
                        bare["bytes"] += item_size(item.serialize())
                        batch.save(item)
                bare["written"] += step
                count -= step

        # Probe: a few creates (counted: the timer upkeep per commit), a batch of bare timers (not).
        meter.start()
        t = time.perf_counter()
        create(min(PROBE_CREATES, n_due))
        probe_creates_s = time.perf_counter() - t
        per_create = meter.take()

        # An idle run while the table is small: what every minute costs when nothing is due.
        meter.start()
        idle = run_sweep(get_clock().now())
        idle_m = meter.take()

        t = time.perf_counter()
        write_bare(min(PROBE_TIMERS, n_open - n_due))
        probe_timers_s = time.perf_counter() - t
        rate_create = probe_creates_s / max(len(created), 1)
        rate_timer = probe_timers_s / max(bare["written"], 1)

        def projection(n_open: int, n_due: int) -> tuple[float, float]:
            population = rate_create * n_due + rate_timer * (n_open - n_due)
            # then: a firing costs about a create; the index pass and the Scan walk the table on moto
            return population, population + rate_create * n_due + MOTO_PASS_S_PER_TIMER * n_open

        population, total = projection(n_open, n_due)
        print(
            f"probe: {rate_create * 1000:.0f} ms per create through the API, {rate_timer * 1e6:.0f} µs per "
            f"bare timer (BatchWriteItem): {n_open:,} open / {n_due:,} due projected at {population:.0f} s "
            f"to populate, ~{total:.0f} s in all"
        )
        if (population > POPULATION_BUDGET_S or total > TOTAL_BUDGET_S) and not explicit:
            n_open, n_due = REDUCED
            print(
                f"NOTE: REDUCED to {n_open:,} open / {n_due:,} due (same 1% due: the ratio is what counts),\n"
                f"      over the budget on this machine ({POPULATION_BUDGET_S:.0f} s to populate, "
                f"{TOTAL_BUDGET_S:.0f} s in all).\n"
                f"      Full size: python -m bench.sweep --open {N_OPEN} --due {N_DUE}"
            )
        t = time.perf_counter()
        meter.start()
        create(n_due - len(created))
        meter.merge(per_create, meter.take())
        creates_s = probe_creates_s + time.perf_counter() - t
        t = time.perf_counter()
        write_bare(n_open - n_due - bare["written"])
        timers_s = probe_timers_s + time.perf_counter() - t
        print(
            f"{len(created):,} petitions created through POST /v1/petitions in {creates_s:.1f} s "
            f"({creates_s / len(created) * 1000:.0f} ms each); {bare['written']:,} bare timers in "
            f"{timers_s:.1f} s: population {creates_s + timers_s:.1f} s"
        )
        timer_wru_per_action = per_create["wru"][timers_table] / len(created)
        print(
            f"per create: {fmt_calls(per_create['calls'], len(created))};\n"
            f"  of which {timer_wru_per_action:.1f} WRU on the timers table "
            f"(each commit puts the timer in its transaction, and its `due` index entry)"
        )
        print(
            f"idle sweep (nothing due, {len(created)} petitions): {idle['summary']['due']} due; "
            f"requests: {fmt_calls(idle_m['calls'])}; {sum(idle_m['rru'].values()):.1f} RRU"
        )

        # The bench instant: just after the last reminder came due (each at intake + 22.5 min).
        reminders = [x.due_at for x in TimerItem.batch_get([(pid, "clock") for pid in created])]
        now = datetime.fromisoformat(max(reminders).replace("Z", "+00:00")) + timedelta(seconds=30)
        r = api.post("/_local/clock", {"set": iso(now)})
        if r.status_code != 200:
            raise RuntimeError(f"moving the clock failed: {r.status_code} {r.text[:200]}")
        print(
            f"reminders due from {min(reminders)} to {max(reminders)}; clock moved to {iso(now)}; "
            f"bare timers due from {utc_key(iso(t0 + timedelta(hours=1)))} over 30 days"
        )

        # ---- the baseline: a full Scan of the timers table, filtered on due_at <= now ----------------
        cutoff = utc_key(iso(now))
        scanned = matched = pages = 0
        t = time.perf_counter()
        for page in client.get_paginator("scan").paginate(
            TableName=timers_table,
            FilterExpression="due_at <= :now",
            ExpressionAttributeValues={":now": {"S": cutoff}},
        ):
            pages += 1
            scanned += page["ScannedCount"]
            matched += page["Count"]
        scan_s = time.perf_counter() - t

        # ---- the real sweep ----------------------------------------------------------------------
        meter.start()
        t = time.perf_counter()
        result = run_sweep(now)
        sweep_s = time.perf_counter() - t
        sweep_m = meter.take()
        s = result["summary"]
        due, fired = s["due"], max(s["fired"], 1)
        index_s = sweep_m["seconds"][("Query", timers_table)]
        index_calls = sweep_m["calls_by_table"][("Query", timers_table)]
        index_rru = sweep_m["rru_query"][timers_table]
        timer_bytes = sweep_m["query_bytes"][timers_table] / max(sweep_m["query_items"][timers_table], 1)
        table_bytes = bare["bytes"] + timer_bytes * len(created)
        scan_rru = sum(
            read_units(min(1 << 20, int(table_bytes) - k * (1 << 20)), False)
            for k in range(math.ceil(table_bytes / (1 << 20)))
        )

        print(f"\n-- finding what is due at {iso(now)} among {n_open:,} open timers --")
        w = 28
        print(f"{'':{w}} {'due index (sweep)':>18} {'full Scan':>14}")
        print(f"{'items due':{w}} {due:>18,} {matched:>14,}")
        print(f"{'items read (timers)':{w}} {s['index_items_read']:>18,} {scanned:>14,}")
        print(
            f"{'  ÷ due':{w}} {s['index_items_read'] / max(due, 1):>18.2f} {scanned / max(matched, 1):>14.1f}"
            "   (target ≤ 1.1)"
        )
        print(
            f"{'+ a petition GetItem per due':{w}} {s['index_items_read'] + s['petitions_read']:>18,} "
            f"{scanned + matched:>14,}"
        )
        print(
            f"{'  ÷ due':{w}} {(s['index_items_read'] + s['petitions_read']) / max(due, 1):>18.2f} "
            f"{(scanned + matched) / max(matched, 1):>14.1f}"
        )
        print(f"{'requests':{w}} {f'Query {index_calls}':>18} {f'Scan {pages:,} pages':>14}")
        print(f"{'read units (est.)':{w}} {index_rru:>18.1f} {scan_rru:>14.1f}")
        print(
            f"{'time on moto':{w}} {index_s:>17.2f}s {scan_s:>13.2f}s   "
            f"Scan ÷ index: {scan_s / max(index_s, 1e-9):.2f}×"
        )
        print(
            f"(timer items ~{timer_bytes:.0f} B. On moto each of the 16 GSI Queries walks and sorts\n"
            " the whole table, so the index's time here grows with the table; in DynamoDB a Query\n"
            " reads only its range. Items and units read are the figures that carry over.)"
        )

        print(f"\n-- run_sweep at {iso(now)} --")
        print(
            f"wall {sweep_s:.1f} s on moto ({(sweep_s - index_s) / fired * 1000:.0f} ms per firing "
            f"beside {index_s:.1f} s in the index Queries)"
        )
        print(
            "summary: " + ", ".join(f"{k} {v:,}" for k, v in s.items()) + f"; published {result['published']}"
        )
        print(f"requests: {fmt_calls(sweep_m['calls'])}")
        print(
            "time by operation: "
            + ", ".join(f"{op} {sec:.1f} s" for op, sec in sorted(sweep_m["seconds_by_op"].items()))
        )
        print(
            f"items read from the index ÷ due: {s['index_items_read']:,} / {due:,} = "
            f"{s['index_items_read'] / max(due, 1):.2f}   (target ≤ 1.1)"
        )
        print(
            f"items read in all (index + the petition's GetItem per due timer): "
            f"{s['index_items_read'] + s['petitions_read']:,} = "
            f"{(s['index_items_read'] + s['petitions_read']) / max(due, 1):.2f} per due timer"
        )
        per_fire = Counter({op: n - idle_m["calls"].get(op, 0) for op, n in sweep_m["calls"].items()})
        print(f"per firing (beyond an idle run): {fmt_calls(+per_fire, fired)}")
        print(
            "read units (est.) by table: "
            + ", ".join(f"{short(k)} {v:,.1f}" for k, v in sorted(sweep_m["rru"].items()) if v)
        )
        print(
            "write units (est.) by table: "
            + ", ".join(f"{short(k)} {v:,.0f}" for k, v in sorted(sweep_m["wru"].items()) if v)
        )
        if args.again:
            t = time.perf_counter()
            a = run_sweep(now)["summary"]
            print(
                f"the same sweep again: due {a['due']:,}, fired {a['fired']:,} "
                f"({time.perf_counter() - t:.1f} s): nothing fires twice"
            )

        # ---- the month ---------------------------------------------------------------------------
        cost_model(
            idle_m=idle_m,
            sweep_m=sweep_m,
            fired=fired,
            timers_table=timers_table,
            timer_bytes=timer_bytes,
            timer_wru_per_action=timer_wru_per_action,
            moto_fire_s=(sweep_s - index_s) / fired,
        )
        print(
            f"\nbench took {time.perf_counter() - bench_started:.0f} s "
            f"({n_open:,} open timers, {n_due:,} due)"
        )
    finally:
        stack.stop()


def cost_model(
    *, idle_m, sweep_m, fired, timers_table, timer_bytes, timer_wru_per_action, moto_fire_s
) -> None:
    print("\n-- a month of the clock, at list prices --")
    petitions = PETITIONS_PER_DAY * DAYS_PER_MONTH
    firings = petitions * FIRINGS_PER_PETITION
    due_per_run = firings / SWEEPS_PER_MONTH
    transitions = SFN_STAGES * SFN_TRANSITIONS_PER_STAGE

    # Measured here, per firing: reads and writes beyond an idle run, split into the clock's own (the timers
    # table: reading the due entry, rewriting the timer) and the firing's work, which a Step Functions
    # Task does too.
    rru_fire = {k: (v - idle_m["rru"].get(k, 0)) / fired for k, v in sweep_m["rru"].items()}
    wru_fire = {k: (v - idle_m["wru"].get(k, 0)) / fired for k, v in sweep_m["wru"].items()}
    shared_rru = sum(v for k, v in rru_fire.items() if k != timers_table)
    shared_wru = sum(v for k, v in wru_fire.items() if k != timers_table)
    timer_wru_fire = wru_fire.get(timers_table, 0.0)
    idle_rru_other = sum(v for k, v in idle_m["rru"].items() if k != timers_table)  # outbox Queries
    shards = 16
    per_shard = due_per_run * timer_bytes / shards
    index_rru_run = shards * MIN_QUERY_RRU * max(1, math.ceil(per_shard / 4096))

    print("assumptions:")
    print(
        f"  {PETITIONS_PER_DAY:,} petitions a day × {DAYS_PER_MONTH} days = {petitions:,.0f} a month; "
        f"{FIRINGS_PER_PETITION:g} firing commit each\n"
        f"    = {firings:,.0f} firings ({due_per_run:.0f} due per minute)"
    )
    print(
        f"  sweep: a Lambda run a minute = {SWEEPS_PER_MONTH:,} runs at {LAMBDA_MEMORY_GB:g} GB, "
        f"{SWEEP_RUN_BASE_S:g} s per run + {FIRE_S:g} s per firing\n"
        f"    (AWS latencies; moto took {moto_fire_s * 1000:.0f} ms per firing)"
    )
    print(
        f"  sweep reads per run: {shards} index Queries = {index_rru_run:g} RRU ({due_per_run:.0f} due × "
        f"{timer_bytes:.0f} B, ≥ {MIN_QUERY_RRU:g} RRU each),\n"
        f"    + the outbox's pending Queries = {idle_rru_other:g} RRU (measured idle)"
    )
    print(
        f"  timer upkeep: every commit rewrites the timer; "
        f"{timer_wru_per_action:.1f} WRU measured per create (its commits)\n"
        f"    taken for each of {ACTIONS_PER_PETITION} actions per petition, "
        f"+ {timer_wru_fire:.1f} WRU per firing (measured)"
    )
    print(
        f"  per firing, in both designs (measured): {shared_rru:.1f} RRU + {shared_wru:.1f} WRU\n"
        f"    (read the petition; state + events + outbox in one transaction; publish and record it)"
    )
    print(
        f"  Step Functions Standard: {SFN_STAGES} stages × {SFN_TRANSITIONS_PER_STAGE} transitions "
        f"(Wait → Fire) = {transitions} per petition,\n"
        "    a lower bound (a stage run up its ladder adds 2 per step); the Fire Task is a Lambda"
    )
    print("    per firing at the sweep's memory and per-firing time; StartExecution/StopExecution at each")
    print("    stage change are not billed per call: left out, with the Lambda time to make them")
    print("  notifications (SNS, SMS) are the same in both designs and left out; no free tiers")

    def month(rru_price: float, wru_price: float) -> tuple[dict, dict]:
        r, wprice = rru_price / 1e6, wru_price / 1e6
        shared = firings * (shared_rru * r + shared_wru * wprice)
        sweep = {
            "Lambda requests": SWEEPS_PER_MONTH * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6,
            "Lambda GB-s": (SWEEPS_PER_MONTH * SWEEP_RUN_BASE_S + firings * FIRE_S)
            * LAMBDA_MEMORY_GB
            * LAMBDA_USD_PER_GB_SECOND,
            "index + outbox Queries": SWEEPS_PER_MONTH * (index_rru_run + idle_rru_other) * r,
            "timer writes": (
                petitions * ACTIONS_PER_PETITION * timer_wru_per_action + firings * timer_wru_fire
            )
            * wprice,
            "firings' reads/writes": shared,
        }
        sfn = {
            "state transitions": petitions * transitions * SFN_STANDARD_USD_PER_1000_TRANSITIONS / 1000,
            "Lambda requests": firings * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6,
            "Lambda GB-s": firings * FIRE_S * LAMBDA_MEMORY_GB * LAMBDA_USD_PER_GB_SECOND,
            "firings' reads/writes": shared,
        }
        return sweep, sfn

    for label, factor in (
        ("list prices above", 1.0),
        ("DynamoDB on-demand after its 2024-11 price cut", DDB_PRICE_CUT_2024),
    ):
        sweep, sfn = month(DDB_USD_PER_MILLION_RRU * factor, DDB_USD_PER_MILLION_WRU * factor)
        total_sweep, total_sfn = sum(sweep.values()), sum(sfn.values())
        clock_sweep = total_sweep - sweep["firings' reads/writes"]
        clock_sfn = total_sfn - sfn["firings' reads/writes"]
        print(
            f"\nper month, {label} (DynamoDB ${DDB_USD_PER_MILLION_RRU * factor:g}/M RRU, "
            f"${DDB_USD_PER_MILLION_WRU * factor:g}/M WRU):"
        )
        rows = list(dict.fromkeys([*sweep, *sfn]))
        print(f"  {'':26} {'sweep':>12} {'Step Functions':>15}")
        for k in rows:
            print(
                f"  {k:26} {usd(sweep[k]) if k in sweep else '—':>12} {usd(sfn[k]) if k in sfn else '—':>15}"
            )
        print(f"  {'total':26} {usd(total_sweep):>12} {usd(total_sfn):>15}")
        print(
            f"  Step Functions ÷ sweep: {total_sfn / total_sweep:.1f}× in all; "
            f"{clock_sfn / clock_sweep:.1f}× for the clock alone "
            f"({usd(clock_sfn)} vs {usd(clock_sweep)}, without the firings' shared work)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
