"""Auditor's command line.

python -m chalicelib.audit query "SELECT …" [--dir var/exports]   DuckDB over the local export folder
                                                                 (petitions, events, notifications,
                                                                 violations: each row once)
python -m chalicelib.audit verify [--dir var/exports]            recompute every petition's hash chain
python -m chalicelib.audit export                                export now, with the environment's
                                                                 settings (tables, bucket or folder)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "var" / "exports"


def connect(folder: Path):
    """DuckDB with one view per exported table, over all its ``dt`` partitions (each row is in
    exactly one: see chalicelib/audit/tables.py). ``dt`` is a string column, as in Athena. A
    table with no file yet is an empty view of its columns, so every query runs."""
    import duckdb

    from chalicelib.audit.tables import TABLES

    con = duckdb.connect()
    for name in TABLES:
        if list(folder.glob(f"{name}/dt=*/*.parquet")):
            glob = str(folder / name / "dt=*" / "*.parquet").replace("'", "''")
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=true, "
                f"hive_types={{'dt': VARCHAR}})"
            )
        else:
            cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in TABLES[name].items())
            con.execute(f"CREATE VIEW {name} AS SELECT {cols}, CAST(NULL AS VARCHAR) AS dt WHERE false")
    return con


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.audit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("query")
    q.add_argument("sql")
    q.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    v = sub.add_parser("verify")
    v.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    sub.add_parser("export")
    args = parser.parse_args(argv)
    if args.command == "query":
        connect(args.dir).sql(args.sql).show(max_rows=200, max_width=200)
        return 0
    if args.command == "verify":
        from chalicelib.audit.verify import load_events, verify_export

        chains = load_events(args.dir)
        breaks = verify_export(args.dir)
        for petition_id, problems in breaks.items():
            for problem in problems:
                print(f"{petition_id} {problem}")
        print(f"{len(chains)} chains, {sum(len(e) for e in chains.values())} events, {len(breaks)} broken")
        return 1 if breaks else 0
    from chalicelib.audit.export import print_progress
    from chalicelib.runtime import get_runtime

    result = get_runtime().export(progress=print_progress)
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
