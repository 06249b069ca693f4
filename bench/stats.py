"""`/v1/stats` for a year, city-wide, from the rollups — beside the full read it replaced (issue 14 item 8).

Runs the in-process local stack (moto). A year (2025) of petitions across the seven districts is
written straight into the tables with ``batch_write()`` — each petition with a timeline of 4–9
events (dispatched, returned, accepted on time or late, resolved, approved, rated, reopened) —
together with the rollup counters those petitions would have ADDed as they moved: each
petition's tally folded from its events and its contribution added, with the very functions the
unit of work uses (``tests/unit/test_rollups.py`` holds the transactional path to the same
counters). Then, at N/10 and at N petitions in the tables, two ways of answering the same
question, "the year city-wide", are timed and their DynamoDB reads counted:

- rollups: ``Stats.stats`` (what ``GET /v1/stats?from=2025-01-01&to=2025-12-31`` runs);
- the full read (the service before rollups): every petition of the year by the district index,
  then each one's timeline, then ``stats.figures`` over them.

Printed figures, never assertions; the two answers are compared and a difference is reported.

Run: ``python -m bench stats`` (defaults) or ``python -m bench.stats --petitions 20000``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace

N_PETITIONS = 100_000
DISTRICTS = ("210902", "210903", "210904", "210905", "210911", "210921", "210922")
CHANNELS = ("wechat", "wechat", "hotline_12345", "hotline_12345", "phone", "walkin", "grid")
CATEGORIES = ("municipal.lighting", "property.repair", "heating.low_temperature", "sanitation.garbage", None)
DEPARTMENTS = ("urban", "housing", "market", "civil")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--petitions", type=int, default=N_PETITIONS, help=f"the larger size (default {N_PETITIONS:,})"
    )
    ap.add_argument(
        "--full-read-max",
        type=int,
        default=2_000,
        help="run the full read (every petition, its timeline; local moto server) up to this size",
    )
    return ap.parse_args(argv or [])


def timeline(rng: random.Random, created: datetime) -> tuple[str, str | None, list[dict]]:
    """A plausible life: (status now, department, events with the fields the figures read)."""
    at = created
    events: list[dict] = [{"type": "created", "at": at}]

    def step(kind: str, hours: float, **data) -> None:
        nonlocal at
        at = at + timedelta(hours=hours)
        events.append({"type": kind, "at": at, **data})

    if rng.random() < 0.05:
        step("answered", 0.2, on_time=True)
        status = "resolved"
        department = None
    else:
        department = rng.choice(DEPARTMENTS)
        step("dispatched", rng.uniform(0.5, 30), on_time=rng.random() < 0.93)
        if rng.random() < 0.08:
            step("returned", rng.uniform(1, 20))
            step("dispatched", rng.uniform(0.5, 10), on_time=rng.random() < 0.8)
        status = "dispatched"
        if rng.random() < 0.95:
            step("accepted", rng.uniform(0.5, 30), on_time=rng.random() < 0.9)
            status = "accepted"
            if rng.random() < 0.9:
                step("resolved", rng.uniform(4, 200), on_time=rng.random() < 0.85)
                status = "resolved"
    if status == "resolved" and rng.random() < 0.95:
        step("review_approved", rng.uniform(1, 20))
        status = "closed"
        if rng.random() < 0.7:
            rating = rng.choice(
                ("satisfied", "satisfied", "satisfied", "basically_satisfied", "dissatisfied")
            )
            step("feedback", rng.uniform(1, 48), rating=rating)
            if rating == "dissatisfied" and department:
                step("reopened", 0)
                status = "accepted"
    return status, department, events


def populate(start: int, stop: int, seed: int, counters: dict) -> int:
    """Petitions ``start``..``stop`` of the year, and their contributions added to ``counters``."""
    from chalicelib.clock import SHANGHAI, iso
    from chalicelib.petitions.domain import Petition
    from chalicelib.petitions.machine import OPEN
    from chalicelib.petitions.models import EventItem, PetitionItem
    from chalicelib.petitions.repository import to_item
    from chalicelib.supervision import rollups
    from chalicelib.supervision.store import shard
    from chalicelib.timing.calendar import WorkingCalendar

    calendar = WorkingCalendar.bundled()
    rng = random.Random(seed * 1_000_003 + start)
    year_start = datetime(2025, 1, 1, 8, 0, tzinfo=SHANGHAI)
    written = 0
    with PetitionItem.batch_write() as pb, EventItem.batch_write() as eb:
        for i in range(start, stop):
            pid = f"250000{i:06d}"
            # spread over the year whatever the size (a low-discrepancy sequence: every prefix covers it)
            created = year_start + timedelta(seconds=int(((i * 0.6180339887498949) % 1) * 364 * 86400))
            district = DISTRICTS[i % len(DISTRICTS)]
            status, dep, raw = timeline(rng, created)
            events = [{**e, "at": iso(e["at"])} for e in raw]
            p = Petition(
                id=pid,
                version=1,
                status=status,
                channel=CHANNELS[i % len(CHANNELS)],
                district=district,
                content="小区路灯不亮，晚上出行不便",
                created_at=events[0]["at"],
                category=CATEGORIES[i % len(CATEGORIES)],
                department=f"{district}.{dep}" if dep else None,
                updated_at=events[-1]["at"],
                last_seq=len(events),
            )
            tally = rollups.fold(None, events, p.created_at, calendar)
            p = replace(p, tally=tally)
            c = rollups.contribution(p, OPEN)
            row = counters.setdefault((*c["key"], shard(pid)), Counter())
            row.update(c["c"])
            pb.save(to_item(p))
            written += len(events)
            for seq, e in enumerate(events, start=1):
                data = {k: v for k, v in e.items() if k not in ("type", "at")}
                eb.save(
                    EventItem(
                        petition_id=pid,
                        seq=seq,
                        type=e["type"],
                        at=e["at"],
                        actor="bench",
                        data=data,
                        prev_hash="",
                        hash=f"{pid}-{seq}",
                    )
                )
    return written


def write_counters(counters: dict) -> int:
    """The rollup items as the transactions would have left them (ADD of every contribution)."""
    from chalicelib.supervision import rollups
    from chalicelib.supervision.store import RollupItem

    rows = rollups.items(counters, {})
    with RollupItem.batch_write() as batch:
        for pk, sk, values in rows:
            item = RollupItem(pk=pk, sk=sk)
            for name, value in values.items():
                setattr(item, name, value)
            batch.save(item)
    return len(rows)


class Meter:
    """DynamoDB requests and items read, from the wire (every client PynamoDB uses)."""

    def __init__(self) -> None:
        self.requests: Counter = Counter()
        self.items = 0

    def after(self, http_response, parsed, model, **_):
        self.requests[model.name] += 1
        if "Responses" in parsed:  # BatchGetItem: the items of every table it answered
            self.items += sum(len(items) for items in parsed["Responses"].values())
            return
        self.items += int(parsed.get("ScannedCount", parsed.get("Count", 1 if "Item" in parsed else 0)))

    def reset(self) -> None:
        self.requests.clear()
        self.items = 0


def full_read(rt, districts, first: datetime, last: datetime) -> dict:
    """What `/v1/stats` did before rollups: every petition of the window and its timeline."""
    from chalicelib.clock import iso, utc_key
    from chalicelib.stats.figures import figures

    lo, hi = utc_key(iso(first)), utc_key(iso(last + timedelta(days=1)))
    rows = []
    for d in districts:
        for p in rt.stores.petitions.received_between("district", d, lo, hi):
            rows.append((p, rt.stores.petitions.timeline(p.id, p.last_seq)))
    return figures(rows, rt.env().calendar)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    n = max(args.petitions, 10)
    sizes = sorted({min(args.full_read_max, n // 10), n // 10, n})
    started = time.perf_counter()
    from chalicelib import db
    from chalicelib.auth.identity import OPERATOR, Identity
    from chalicelib.clock import SHANGHAI
    from chalicelib.local.stack import LocalStack
    from chalicelib.runtime import get_runtime

    print(f"a year (2025) city-wide at {', '.join(f'{x:,}' for x in sizes)} petitions (--petitions: largest)")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="fzt-bench-stats-") as tmp:
        stack = LocalStack(port=0, sweep_interval=0, export_dir=Path(tmp))
        stack.start()
        try:
            db.bound()
            meter = Meter()
            for c in {id(c): c for c in db.all_connections()}.values():
                c.meta.events.register("after-call.dynamodb", meter.after, unique_id=f"bench-stats-{id(c)}")
            rt = get_runtime()
            auditor = Identity(kind=OPERATOR, name="auditor@210900", role="auditor", district="210900")
            query = SimpleNamespace(from_="2025-01-01", to="2025-12-31", district=None, department=None)
            first = datetime(2025, 1, 1, tzinfo=SHANGHAI)
            last = datetime(2025, 12, 31, tzinfo=SHANGHAI)
            counters: dict = {}
            written = 0
            events_total = 0
            results = []
            for size in sizes:
                t = time.perf_counter()
                events_total += populate(written, size, 1, counters)
                items = write_counters(counters)
                print(
                    f"populated {size - written:,} petitions with their timelines and {items:,} rollup items "
                    f"in {time.perf_counter() - t:.0f} s",
                    flush=True,
                )
                written = size
                meter.reset()
                t = time.perf_counter()
                fast = rt.stats.stats(auditor, query)
                fast_s, fast_items, fast_req = (
                    time.perf_counter() - t,
                    meter.items,
                    sum(meter.requests.values()),
                )
                row = {"size": size, "fast_s": fast_s, "fast_items": fast_items, "fast_req": fast_req}
                line = f"  {size:>7,} petitions: rollups {fast_items:,} items in {fast_req} requests, "
                line += f"{fast_s * 1000:.0f} ms"
                if size <= args.full_read_max:
                    meter.reset()
                    t = time.perf_counter()
                    slow = full_read(rt, [d.code for d in rt.directory().districts], first, last)
                    row |= {"slow_s": time.perf_counter() - t, "slow_items": meter.items}
                    row["same"] = {k: fast[k] for k in slow} == slow
                    line += (
                        f" | full read {meter.items:,} items in {sum(meter.requests.values()):,} requests, "
                        f"{row['slow_s']:.1f} s | same figures: {row['same']}"
                    )
                else:
                    # What the full read returns is every petition of the year and its timeline: counted
                    # here from what was written, not timed (moto walks a table per Query: quadratic).
                    row["slow_items_counted"] = size + events_total
                    line += (
                        f" | full read not run above {args.full_read_max:,} petitions (--full-read-max); "
                        f"it would read {size + events_total:,} items"
                    )
                results.append(row)
                print(line, flush=True)
            print(
                "\npetitions  rollup items  rollup ms  full-read items  full-read s  items ratio  time ratio"
            )
            for r in results:
                if "slow_s" in r:
                    tail = (
                        f"{r['slow_items']:>15,}  {r['slow_s']:>11.1f}  "
                        f"{r['slow_items'] / max(r['fast_items'], 1):>11.0f}×  "
                        f"{r['slow_s'] / max(r['fast_s'], 1e-9):>9.0f}×"
                    )
                else:
                    counted = r["slow_items_counted"]
                    tail = f"{counted:>15,}  {'(not run)':>11}  {counted / max(r['fast_items'], 1):>11.0f}×  "
                    tail += "(items counted from what was written)"
                print(f"{r['size']:>9,}  {r['fast_items']:>12,}  {r['fast_s'] * 1000:>9.0f}  {tail}")
            small, big = results[-2]["fast_items"], results[-1]["fast_items"]
            print(
                f"rollup items read grew {big / max(small, 1):.2f}× "
                f"while petitions grew {sizes[-1] / sizes[-2]:.0f}× "
                "(bounded by 12 × the (department, channel, category) combinations that occur, "
                "per district, for a year)"
            )
            print(f"bench took {time.perf_counter() - started:.0f} s")
        finally:
            stack.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
