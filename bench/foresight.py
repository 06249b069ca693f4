"""Seeing ahead (CONTRACT §13), printed figures (never timed assertions):

1. hotspots: precision and recall of the pure detector on nine generated weeks of a city
   (8 districts × 60 grids × 15 categories) with bursts planted in the last week;
2. broadcasts: DynamoDB requests per recipient, counted on the local stack for a small
   broadcast, then the time at the throttle and the cost for 1.58 million recipients;
3. reports: the time to generate a city-year report (HTML + PDF) on the local stack.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import date, timedelta

from chalicelib.foresight.broadcast import estimate, policy
from chalicelib.foresight.hotspots import Thresholds, detect

TODAY = date(2027, 3, 31)
RECIPIENTS = 1_580_000


def generated_weeks(seed: int, bursts: int, sizes: tuple[int, int]) -> tuple[dict, set]:
    rng = random.Random(seed)
    counts: dict = {}
    cells = [(f"{d}-g{g:02d}", f"c{c:02d}") for d in range(8) for g in range(60) for c in range(15)]
    for grid, category in cells:
        weekly = rng.choice([0.1, 0.3, 0.5, 1.0, 2.0, 4.0])  # a cell's usual petitions a week
        for day in range(63):
            if rng.random() < weekly / 7:
                key = ((TODAY - timedelta(days=day)).isoformat(), grid, category)
                counts[key] = counts.get(key, 0) + 1
    planted = set(rng.sample(cells, bursts))
    for grid, category in planted:
        for _ in range(rng.randint(*sizes)):
            key = ((TODAY - timedelta(days=rng.randint(0, 6))).isoformat(), grid, category)
            counts[key] = counts.get(key, 0) + 1
    return counts, planted


def hotspots() -> None:
    t = Thresholds.from_policy()
    print(
        f"thresholds: >= {t.min_count} in {t.window_days} days, >= {t.ratio}x the weekly mean"
        f" of {t.baseline_weeks} weeks"
    )
    print("burst size | planted | found | true | precision | recall | detect ms")
    for sizes in ((3, 4), (5, 8), (8, 15), (15, 30)):
        tp = fp = planted_n = 0
        elapsed = 0.0
        for seed in range(5):
            counts, planted = generated_weeks(seed, bursts=40, sizes=sizes)
            started = time.perf_counter()
            found = {(h["grid"], h["category"]) for h in detect(counts, TODAY, t)}
            elapsed += time.perf_counter() - started
            tp += len(found & planted)
            fp += len(found - planted)
            planted_n += len(planted)
        precision = tp / (tp + fp) if tp + fp else float("nan")
        print(
            f"{sizes[0]:>3}-{sizes[1]:<3}     | {planted_n:>7} | {tp + fp:>5} | {tp:>4} | "
            f"{precision:>9.3f} | {tp / planted_n:>6.3f} | {elapsed / 5 * 1000:>8.1f}"
        )
    print(
        "(a burst adds to a cell's usual load: a cell of 4 a week needs 12+; the false ones are chance peaks)"
    )


def _meter(table: str):
    """Counts the DynamoDB requests on ``table`` only (the stack's publisher drains receipts meanwhile)."""
    from chalicelib import db

    calls: Counter = Counter()

    def count(params=None, event_name="", **_kw):
        params = params or {}
        op = event_name.rsplit(".", 1)[-1]
        if params.get("TableName") == table:
            calls[op] += 1
        elif table in params.get("RequestItems", {}):
            calls[op] += 1
            calls[f"{op}.keys"] += len(params["RequestItems"][table].get("Keys", []))

    for client in db.all_connections():
        client.meta.events.register("before-parameter-build.dynamodb", count)
    return calls


def broadcasts(n: int = 300) -> None:
    from chalicelib.local.stack import LocalStack
    from tests.conftest import Api

    stack = LocalStack(port=0, sweep_interval=0).start()
    try:
        api = Api(stack.url)
        api.post("/_local/clock", {"set": "2027-03-02T02:00:00Z"})
        for i in range(n):
            r = api.post(
                "/v1/petitions",
                {
                    "district": "210911",
                    "content": f"小区供暖不热，室温只有十度（{i}）",
                    "citizen": {"phone": f"1360000{i:04d}"},
                },
                as_="local-hotline",
            )
            assert r.status_code == 201, r.text
        admin = "admin@210900"
        r = api.post(
            "/v1/broadcasts", {"message": "细河区供暖热线已开通，欢迎来电。", "district": "210911"}, as_=admin
        )
        bid = r.json()["id"]
        from chalicelib.settings import get_settings

        calls = _meter(get_settings().table_foresight)
        started = time.perf_counter()
        while api.get(f"/v1/broadcasts/{bid}", as_=admin).json()["status"] != "done":
            api.post("/_local/broadcasts/run", {})
        seconds = time.perf_counter() - started
    finally:
        stack.stop()
    done = Counter({k: v for k, v in calls.items() if not k.endswith(".keys")})
    writes = done["PutItem"] + done["UpdateItem"] + done["TransactWriteItems"]
    print(f"{n} recipients sent on the local stack in {seconds:.1f} s (moto; progress reads included)")
    print("DynamoDB requests on the foresight table during the runs:", dict(sorted(done.items())))
    per_write = writes / n
    # Reads: a Query page of 100 small recipient items is ~4 KB (1 read unit, eventually consistent: 0.5);
    # BatchGetItem of the opt-outs costs 0.5 unit a key; the delivery's read-back happens only after a crash.
    read_units = done["Query"] * 1 + calls["BatchGetItem.keys"] * 0.5 + done["GetItem"] * 1
    per_read = read_units / n
    prices = policy()["dynamodb"]
    cost = estimate("细河区供暖热线已开通，欢迎来电。", RECIPIENTS)
    writes_usd = RECIPIENTS * per_write * prices["write_per_million_usd"] / 1e6
    reads_usd = RECIPIENTS * per_read * prices["read_per_million_usd"] / 1e6
    minutes = cost["minutes_at_throttle"]
    print(f"per recipient: {per_write:.2f} write requests, {per_read:.2f} read units")
    print(f"at {RECIPIENTS:,} recipients, {cost['per_minute']}/minute (policy):")
    print(f"  time at the throttle: {minutes} minutes = {minutes / 60:.1f} h ({minutes} scheduled runs)")
    print(
        f"  SMS: {cost['segments']} segment(s) x {RECIPIENTS:,} x ¥{cost['segment_price_cny']}"
        f" = ¥{cost['cost_cny']:,.0f}"
    )
    print(f"  DynamoDB on demand: writes ${writes_usd:.2f} + reads ${reads_usd:.2f} (prices: policy.json)")
    print(
        "  + 1 transactional item per new petition for its recipient row (2 write units, with the petition)"
    )


def reports() -> None:
    from chalicelib.local.stack import LocalStack
    from tests.conftest import Api

    stack = LocalStack(port=0, sweep_interval=0).start()
    try:
        api = Api(stack.url)
        api.post("/_local/clock", {"set": "2027-01-04T02:00:00Z"})
        districts = ["210902", "210903", "210904", "210905", "210911", "210921", "210922"]
        for month in range(12):
            for i, district in enumerate(districts):
                api.post(
                    "/v1/petitions",
                    {
                        "district": district,
                        "content": f"路灯不亮，晚上出行不便（{month}-{i}）",
                        "category": "municipal.lighting" if i % 2 else "municipal.road",
                        "citizen": {"phone": f"13900{month:02d}{i:04d}"},
                    },
                    as_="local-wechat",
                )
            api.post("/_local/clock", {"advance_seconds": 30 * 86400})
        api.post("/_local/clock", {"set": "2028-01-02T02:00:00Z"})
        started = time.perf_counter()
        r = api.post("/v1/reports", {"period": "2027"}, as_="admin@210900")
        seconds = time.perf_counter() - started
        assert r.status_code == 201, r.text
        out = r.json()
        print(
            f"city-year report 2027: {seconds:.2f} s (13 stats reads over the rollups, Jinja2, WeasyPrint); "
            f"HTML {out['html_bytes'] / 1024:.0f} KB, PDF {out['pdf_bytes'] / 1024:.0f} KB"
        )
    finally:
        stack.stop()


def main() -> None:
    print("-- hotspots --")
    hotspots()
    print("-- broadcasts --")
    broadcasts()
    print("-- reports --")
    reports()
