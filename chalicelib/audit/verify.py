"""Recompute every petition's hash chain from an export and name each break.

An edited event fails its own link; a removed one leaves a gap in ``seq`` and breaks
the next link; reordered ones break the links where the order changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.petitions import chain


def load_events(root: Path) -> dict[str, list[dict]]:
    """Every exported event, by petition in ``seq`` order. Each event lies in the partition of
    the day it happened, so the chains are read across all of them (a petition's span days)."""
    import duckdb

    if not list(root.glob("events/dt=*/*.parquet")):
        return {}
    glob = str(root / "events" / "dt=*" / "*.parquet").replace("'", "''")
    # Its own connection: DuckDB's default one is shared by every thread of the process (an export
    # job's thread and a request reading exports at once fail with "unfinished result").
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT petition_id, seq, type, at_text, actor, data, prev_hash, hash "
            f"FROM read_parquet('{glob}', hive_partitioning=true, hive_types={{'dt': VARCHAR}}) "
            f"ORDER BY petition_id, seq"
        )
        .fetchall()
    )
    out: dict[str, list[dict]] = {}
    for petition_id, seq, type_, at, actor, data, prev_hash, hash_ in rows:
        out.setdefault(petition_id, []).append(
            {
                "seq": seq,
                "type": type_,
                "at": at,
                "actor": actor,
                **json.loads(data or "{}"),
                "prev_hash": prev_hash,
                "hash": hash_,
            }
        )
    return out


def verify_export(root: Path) -> dict[str, list[str]]:
    breaks = {}
    for petition_id, events in sorted(load_events(root).items()):
        problems = chain.verify_chain(events)
        if problems:
            breaks[petition_id] = problems
    return breaks
