"""The audit export at scale (issue 7 item 7): time and peak memory of ``run_export`` at N/4 and N.

Runs the in-process local stack (moto). Petitions (~5 timeline events each) are written straight
into the tables with PynamoDB ``batch_write()`` as synthetic but well-formed items, then
``chalicelib.audit.export.run_export`` is timed alone, first at N/4 and then, in the same process
after topping the tables up, at N, so the two sizes sit side by side. Printed figures, never
assertions. Memory: ``tracemalloc`` (Python-side peak; DuckDB allocates outside it) and
``ru_maxrss`` before/after (the process high-water mark: it only rises, so a zero delta means the
export stayed under a mark set earlier, by population for instance).

Run: ``python -m bench export`` (defaults) or ``python -m bench.export --petitions 5000``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

N_PETITIONS = 4_000  # moto's Scan sorts the whole table per page: larger N takes tens of minutes here
ISSUE_PETITIONS = 100_000
EVENTS_PER_PETITION = 5
DISTRICTS = ("210902", "210903", "210904", "210905", "210911", "210921", "210922")
CHANNELS = ("local-hotline", "wechat", "web", "app")
STATUSES = ("submitted", "dispatched", "accepted", "resolved", "closed")
EVENT_TYPES = ("created", "dispatched", "accepted", "resolved", "closed")
CONTENT = "路口信号灯故障，早晚高峰拥堵严重，请尽快派人检修。附近小学放学时段尤其危险。"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    p.add_argument("--petitions", type=int, default=N_PETITIONS, help=f"N (default {N_PETITIONS:,})")
    return p.parse_args(argv or [])


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def populate(start: int, stop: int, t0: datetime) -> None:
    from chalicelib.clock import iso
    from chalicelib.petitions.domain import Petition
    from chalicelib.petitions.models import EventItem, PetitionItem
    from chalicelib.petitions.repository import to_doc, utc_key

    with PetitionItem.batch_write() as pb, EventItem.batch_write() as eb:
        for i in range(start, stop):
            pid = f"FZT-{i:08d}"
            created = t0 + timedelta(seconds=37 * i)
            status = STATUSES[i % len(STATUSES)]
            district = DISTRICTS[i % len(DISTRICTS)]
            channel = CHANNELS[i % len(CHANNELS)]
            phone_hash = hashlib.sha256(f"phone-{i % 5000}".encode()).hexdigest()
            p = Petition(
                id=pid,
                version=1,
                status=status,
                channel=channel,
                district=district,
                content=f"{CONTENT}（{i}）",
                created_at=iso(created),
                department=f"{district}.urban" if status != "submitted" else None,
                contact={"phone_hash": phone_hash},
                stage=None,
                updated_at=iso(created + timedelta(hours=2)),
            )
            doc = to_doc(p)
            doc.pop("version")
            item = PetitionItem(
                id=pid,
                status=status,
                district=district,
                department=p.department,
                channel=channel,
                phone_hash=phone_hash,
                created_key=f"{utc_key(p.created_at)}#{pid}",
                due_at=None,
                doc=doc,
            )
            item.version = 1
            pb.save(item)
            prev = ""
            for seq in range(1, EVENTS_PER_PETITION + 1):
                digest = hashlib.sha256(f"{prev}|{pid}|{seq}".encode()).hexdigest()
                eb.save(
                    EventItem(
                        petition_id=pid,
                        seq=seq,
                        type=EVENT_TYPES[seq - 1],
                        at=iso(created + timedelta(minutes=20 * (seq - 1))),
                        actor="citizen" if seq == 1 else f"dispatcher@{district}",
                        data={},
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest


def measure_export(now: datetime, export_dir: Path) -> dict:
    from chalicelib.audit.export import run_export

    gc.collect()
    rss_before = maxrss_mb()
    per_table_peak: dict[str, float] = {}

    def progress(name: str, rows: int, done: bool = False) -> None:
        if done:  # Python-side peak while this table was scanned and converted, then start afresh
            per_table_peak[name] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        t = time.perf_counter()
        result = run_export(now, progress=progress)
        seconds = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_after = maxrss_mb()
    root = Path(result["location"])
    sizes = {
        name: sum(f.stat().st_size for f in (root / name / f"dt={result['dt']}").glob("*.parquet"))
        for name in result["tables"]
    }
    return {
        "tables": result["tables"],
        "seconds": seconds,
        "tm_peak_mb": max([peak / 2**20, *per_table_peak.values()]),
        "tm_table_mb": per_table_peak,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "bytes": sizes,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    n = max(args.petitions, 4)
    sizes = [n // 4, n]
    bench_started = time.perf_counter()

    from chalicelib import db
    from chalicelib.local.stack import LocalStack

    print(
        f"issue 7 item 7 asks for {ISSUE_PETITIONS:,} petitions; this run uses {n:,} "
        "(--petitions N to change):\n"
        f"populating through moto (an in-process emulator) is the limit, not the export. Sizes: "
        f"{sizes[0]:,} then {sizes[1]:,} petitions × {EVENTS_PER_PETITION} events, one process."
    )
    with tempfile.TemporaryDirectory(prefix="fzt-bench-export-") as tmp:
        stack = LocalStack(port=0, sweep_interval=0, export_dir=Path(tmp))
        stack.start()
        try:
            db.bound()
            import duckdb  # noqa: F401 - imported before measuring, so the first size doesn't carry the import

            t0 = datetime.fromisoformat("2025-03-03T09:00:00+08:00")
            now = datetime.fromisoformat("2025-06-02T02:00:00+08:00")
            results = []
            written = 0
            for size in sizes:
                t = time.perf_counter()
                populate(written, size, t0)
                pop_s = time.perf_counter() - t
                print(
                    f"populated {size - written:,} petitions + {(size - written) * EVENTS_PER_PETITION:,} "
                    f"events (batch_write) in {pop_s:.1f} s; tables now hold {size:,} petitions; "
                    f"ru_maxrss {maxrss_mb():.0f} MB",
                    flush=True,
                )
                written = size
                r = measure_export(now, Path(tmp))
                r["petitions"] = size
                results.append(r)
                print(f"  export at {size:,} petitions: {r['seconds']:.1f} s", flush=True)
            report(results)
            print(f"\nbench took {time.perf_counter() - bench_started:.0f} s")
        finally:
            stack.stop()


def report(results: list[dict]) -> None:
    names = list(results[0]["tables"])
    w = 34
    head = "".join(f"{'N = ' + format(r['petitions'], ','):>18}" for r in results)
    print(f"\n-- run_export, side by side --\n{'':{w}}{head}")

    def line(label: str, fmt) -> None:
        print(f"{label:{w}}" + "".join(f"{fmt(r):>18}" for r in results))

    for name in names:
        line(f"rows {name}", lambda r, k=name: f"{r['tables'][k]:,}")
    line("rows in all", lambda r: f"{sum(r['tables'].values()):,}")
    line("export wall time", lambda r: f"{r['seconds']:.1f} s")
    line("rows/s", lambda r: f"{sum(r['tables'].values()) / r['seconds']:,.0f}")
    line("s per 1,000 rows", lambda r: f"{r['seconds'] / sum(r['tables'].values()) * 1000:.3f} s")
    for name in names:
        line(f"Parquet {name}", lambda r, k=name: f"{r['bytes'][k] / 1024:,.0f} KiB")
    line("Parquet bytes/row (all)", lambda r: f"{sum(r['bytes'].values()) / sum(r['tables'].values()):.1f}")
    line("tracemalloc peak (Python)", lambda r: f"{r['tm_peak_mb']:.1f} MB")
    for name in names:
        line(f"  while exporting {name}", lambda r, k=name: f"{r['tm_table_mb'].get(k, 0):.1f} MB")
    line("ru_maxrss before export", lambda r: f"{r['rss_before']:.0f} MB")
    line("ru_maxrss after export", lambda r: f"{r['rss_after']:.0f} MB")
    line("  rise during export", lambda r: f"{r['rss_after'] - r['rss_before']:.0f} MB")
    a, b = results[0], results[-1]
    rows_ratio = sum(b["tables"].values()) / max(sum(a["tables"].values()), 1)
    print(
        f"\nrows grew {rows_ratio:.1f}×; export time {b['seconds'] / a['seconds']:.1f}×; "
        f"tracemalloc peak {b['tm_peak_mb'] / max(a['tm_peak_mb'], 1e-9):.2f}×."
    )
    print(
        "Notes: the wall time is taken under tracemalloc, which also traces moto's server (same process)\n"
        "and slows both several-fold: read seconds per 1,000 rows as a comparison across sizes, not a rate.\n"
        "moto runs in this process, so tracemalloc and ru_maxrss include the emulator: its Scan\n"
        "sorts a list of the whole table for every page (the list, and the sort's keys, grow with N;\n"
        "and the time per page too, so export time on moto grows faster than linearly). The export's\n"
        "own part (one 500-item page + one JSON line at a time, spooled to disk) does not grow with N.\n"
        "DuckDB's allocations (read_json → Parquet) are outside tracemalloc and show only in ru_maxrss,\n"
        "a high-water mark for the whole process (population included): a rise of 0 means the export\n"
        "stayed below a mark set earlier."
    )


if __name__ == "__main__":
    main(sys.argv[1:])
