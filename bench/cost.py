"""Cost per 1,000 petitions, all-in but SMS, at list prices (bench/data/prices.json), beside a Step
Functions Standard clock for the same petitions (issue 17 item 4).

Runs the local stack (moto) and takes N petitions through a whole life over HTTP — create,
dispatch, accept, resolve, review, feedback — counting from the client side:
- API Gateway requests: the HTTP requests made;
- Lambda: one invocation per request, per outbox stream batch (each commit's handoff, an upper
  bound: a stream batch can carry several commits) and per scheduled run; GB-seconds from the
  measured durations (each request's wall time, the drain's time per handoff, one sweep's and one
  export's) × the function's memory (.chalice/config.json);
- DynamoDB: read and write units estimated from the items on the wire (bench/sweep.py's Meter:
  4 KB reads, 1 KB writes, transactions double, GSI upkeep), all tables;
- SNS: topic publishes (citizen SMS are excluded, as asked); S3: the export's PUTs (and GETs of
  the partitions it merges into); the scheduler: scheduled rules (not charged).
The sweep runs every minute whatever the volume, so its share per 1,000 petitions depends on the
day's volume: printed at DESIGN's 100,000 a day and at Fuxin's ~300 a day.
The Step Functions clock: one Standard execution per petition with a Wait state per SLA stage
(dispatch, accept, resolve): ≥ 2 transitions per stage + start and end (a lower bound).
Printed figures, never assertions. Durations on moto in one process are not Lambda's: they are
printed so the GB-s line can be checked, and are an upper bound on this machine's load.

Run: ``python -m bench cost`` or ``python -m bench.cost --petitions 100``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

PRICES = Path(__file__).with_name("data") / "prices.json"
CONFIG = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"
PETITIONS = 100
DISTRICT = "210911"
DEPARTMENT = f"{DISTRICT}.urban"
VOLUMES = (100_000, 300)  # petitions a day: DESIGN's region, and Fuxin's
SWEEPS_PER_DAY = 24 * 60
EXPORTS_PER_DAY = 1
SFN_TRANSITIONS = 3 * 2 + 2  # dispatch, accept, resolve: Wait → Fire each, plus start and end


def memory_gb() -> dict[str, float]:
    config = json.loads(CONFIG.read_text())
    default = config.get("lambda_memory_size", 128)
    out = {"default": default / 1024}
    for stage in config.get("stages", {}).values():
        for name, fn in (stage.get("lambda_functions") or {}).items():
            out[name] = fn.get("lambda_memory_size", default) / 1024
    for name, fn in (config.get("lambda_functions") or {}).items():
        out[name] = fn.get("lambda_memory_size", default) / 1024
    return out


def lifecycle(api, n: int) -> tuple[list[float], Counter]:
    durations: list[float] = []
    outcomes: Counter = Counter()

    def call(method, path, body, who):
        t = time.perf_counter()
        r = api.post(path, body, as_=who) if method == "POST" else api.get(path, as_=who)
        durations.append(time.perf_counter() - t)
        outcomes[r.status_code] += 1
        if r.status_code >= 400:
            outcomes[f"{path.rsplit('/', 1)[-1]} {r.status_code}: {r.text[:120]}"] += 1
        return r

    for i in range(n):
        body = {
            "district": DISTRICT,
            "content": f"小区路灯不亮（成本{i}）",
            "citizen": {"phone": f"1360136{i:04d}"},
        }
        pid = call("POST", "/v1/petitions", body, "local-hotline").json()["id"]
        for action, who, payload in [
            ("dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT}),
            ("accept", f"handler@{DEPARTMENT}", {}),
            ("resolve", f"handler@{DEPARTMENT}", {"reply": "已更换灯泡"}),
            ("review", f"reviewer@{DISTRICT}", {"approve": True}),
            ("feedback", "local-hotline", {"rating": "satisfied"}),
        ]:
            call("POST", f"/v1/petitions/{pid}/{action}", payload, who)
    return durations, outcomes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost")
    parser.add_argument("--petitions", type=int, default=PETITIONS)
    args = parser.parse_args(argv or [])
    import tempfile

    import boto3

    from bench.sweep import Meter, Schema, next_weekday_10, short
    from chalicelib import db
    from chalicelib.local import journal
    from chalicelib.local.stack import LocalStack
    from chalicelib.runtime import get_runtime
    from tests.conftest import Api

    prices = json.loads(PRICES.read_text())
    mem = memory_gb()
    n = args.petitions
    with tempfile.TemporaryDirectory(prefix="fzt-bench-cost-") as tmp:
        start = next_weekday_10(datetime.now().astimezone())
        stack = LocalStack(port=0, sweep_interval=0, clock_start=start, export_dir=Path(tmp) / "exports")
        stack.start()
        try:
            api = Api(stack.url)
            api.get("/health")
            runtime = get_runtime()
            runtime.export()  # the first (full) export of the empty tables: the watermark is set
            db.bound()
            client = boto3.client("dynamodb")
            meter = Meter(Schema(client, client.list_tables()["TableNames"]))
            for c in {id(c): c for c in db.all_connections()}.values():
                c.meta.events.register("before-call.dynamodb", meter.before, unique_id=f"cost-b{id(c)}")
                c.meta.events.register("after-call.dynamodb", meter.after, unique_id=f"cost-a{id(c)}")
            # The drain (the outbox stream's function in AWS): count its invocations and time them
            handoffs = Counter()
            drain_seconds = [0.0]
            lock = threading.Lock()
            real_after_commit = runtime.publisher.after_commit

            def timed_after_commit(ids, env):
                t = time.perf_counter()
                try:
                    real_after_commit(ids, env)
                finally:
                    with lock:
                        drain_seconds[0] += time.perf_counter() - t
                        handoffs["invocations"] += 1

            runtime.publisher.after_commit = timed_after_commit
            sns_before = [e for e in journal.entries()]
            meter.start()
            durations, outcomes = lifecycle(api, n)
            runtime.settle()
            life = meter.take()
            published = journal.entries()[len(sns_before) :]
            topics = sum(1 for e in published if e["kind"] == "topic")
            sms = sum(1 for e in published if e["kind"] == "sms")
            # One sweep with nothing due (its fixed cost every minute) and the day's export
            meter.start()
            t = time.perf_counter()
            runtime.run_sweep(runtime.clock.now() + timedelta(minutes=1))
            sweep_s = time.perf_counter() - t
            sweep = meter.take()
            files_before = {p: p.stat().st_mtime for p in (Path(tmp) / "exports").rglob("*.parquet")}
            meter.start()
            t = time.perf_counter()
            exported = runtime.export()
            export_s = time.perf_counter() - t
            export = meter.take()
            files_after = {p: p.stat().st_mtime for p in (Path(tmp) / "exports").rglob("*.parquet")}
            puts = sum(1 for p, m in files_after.items() if files_before.get(p) != m)
            gets = sum(1 for p in files_after if p in files_before and files_before[p] != files_after[p])
        finally:
            stack.stop()

    def units(counts: dict) -> tuple[float, float]:
        return sum(counts["rru"].values()), sum(counts["wru"].values())

    life_rru, life_wru = units(life)
    sweep_rru, sweep_wru = units(sweep)
    export_rru, export_wru = units(export)
    timers_wru = sum(v for k, v in life["wru"].items() if "Timers" in k)
    requests = len(durations)
    per = 1000 / n
    print(
        f"{n} petitions × 6 requests: {requests} requests, outcomes {dict(outcomes)}; {sms} SMS (excluded), "
        f"{topics} topic publishes; {handoffs['invocations']} drain invocations"
    )
    by_table = sorted(life["wru"].items(), key=lambda kv: -kv[1])
    print("write units per petition, by table: " + ", ".join(f"{t} {v / n:.0f}" for t, v in by_table if v))
    detail = sorted(life["wru_detail"].items(), key=lambda kv: -kv[1])
    print(
        "  of which (table, operation, base item or index entries): "
        + ", ".join(f"{short(t)} {op} {part} {v / n:.1f}" for (t, op, part), v in detail if v / n >= 0.5)
    )
    print(
        f"request wall time: mean {sum(durations) / requests * 1000:.1f} ms, "
        f"p50 {sorted(durations)[requests // 2] * 1000:.1f} ms (moto in process; Lambda bills its own)"
    )
    print(
        f"one sweep with nothing due: {sweep_s * 1000:.0f} ms, {sweep_rru:.1f} RRU; "
        f"one export of these petitions: {export_s:.2f} s, {export_rru:.1f} RRU, {puts} files written "
        f"(mode {exported['mode']})"
    )

    def lines(volume: int) -> dict[str, dict[str, float]]:
        """Usage per 1,000 petitions, by service."""
        sweeps = SWEEPS_PER_DAY * 1000 / volume
        exports = EXPORTS_PER_DAY * 1000 / volume
        # One export a day reads and writes that day's changes: its time grows with the day's volume,
        # so per 1,000 petitions it is this run's export time scaled to 1,000 petitions.
        return {
            "api requests": {"apigateway_rest_per_million": requests * per / 1e6},
            "lambda invocations": {
                "lambda_per_million_requests": (requests + handoffs["invocations"]) * per / 1e6
                + (sweeps + exports) / 1e6
            },
            "lambda GB-s (API)": {"lambda_per_gb_second": sum(durations) * per * mem["default"]},
            "lambda GB-s (outbox stream)": {"lambda_per_gb_second": drain_seconds[0] * per * mem["default"]},
            "lambda GB-s (sweep)": {"lambda_per_gb_second": sweeps * sweep_s * mem["default"]},
            "lambda GB-s (export)": {
                "lambda_per_gb_second": export_s * per * mem.get("audit_daily_export", 1.0)
            },
            "dynamodb writes": {"dynamodb_per_million_wru": (life_wru * per + sweeps * sweep_wru) / 1e6},
            "dynamodb reads": {
                "dynamodb_per_million_rru": (life_rru * per + sweeps * sweep_rru + export_rru * per) / 1e6
            },
            "sns topic publishes": {"sns_per_million_publishes": topics * per / 1e6},
            "s3 (export)": {
                "s3_per_thousand_puts": exports * puts / 1e3,
                "s3_per_thousand_gets": exports * gets / 1e3,
            },
            "scheduler": {"eventbridge_scheduled_rule_invocations": 0.0},
        }

    def clock_usage(volume: int) -> dict[str, float]:
        sweeps = SWEEPS_PER_DAY * 1000 / volume
        return {
            "lambda_per_million_requests": sweeps / 1e6,
            "lambda_per_gb_second": sweeps * sweep_s * mem["default"],
            "dynamodb_per_million_rru": sweeps * sweep_rru / 1e6,
            "dynamodb_per_million_wru": timers_wru * per / 1e6,
        }

    for region, table in prices.items():
        if region.startswith("_"):
            continue
        cur = table["currency"]

        def price(key, table=table):
            return table[key]["value"]

        print(f"\n== {region} ({cur}; prices {table['read']}) ==")
        for volume in VOLUMES:
            total, missing = 0.0, set()
            print(f"-- at {volume:,} petitions a day, per 1,000 petitions --")
            for label, usage in lines(volume).items():
                cost = 0.0
                for key, qty in usage.items():
                    if price(key) is None:
                        missing.add(key)
                        continue
                    cost += qty * price(key)
                total += cost
                print(f"  {label:30} {cost:12.5f} {cur}")
            if missing:  # a partial sum is not a cost: say what is missing instead of a total
                print(
                    f"  {'all-in (no SMS)':30} {'incomplete':>12}   priced lines sum to {total:.5f} {cur}; "
                    f"no price for {sorted(missing)}"
                )
            else:
                print(f"  {'all-in (no SMS)':30} {total:12.5f} {cur}")
            clock = sum(q * price(k) for k, q in clock_usage(volume).items() if price(k) is not None)
            sfn_price = price("stepfunctions_standard_per_thousand_transitions")
            if sfn_price is None:
                print("  clock: no Step Functions price for this region")
                continue
            sfn = 1000 * SFN_TRANSITIONS / 1000 * sfn_price
            ratio = sfn / clock if clock else float("inf")
            print(
                f"  the clock (sweep runs + timer writes) {clock:.5f} {cur} beside Step Functions Standard "
                f"{sfn:.5f} {cur} ({SFN_TRANSITIONS} transitions a petition): {ratio:.1f}× cheaper "
                "(target ≥ 5×)"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
