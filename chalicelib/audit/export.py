"""Export the tables as Parquet under ``exports/<table>/dt=YYYY-MM-DD/part-0.parquet``.

Each row lies in the partition of its own day (``tables.DAY_COLUMN``: the Shanghai day a petition
or notification was created, an event or violation happened), which never changes. An export
reads each table whole (paginated Scans) and rewrites every partition it has rows for, so each
table holds every row exactly once, as of the latest export: two exports on two days, or three
at once, cannot put a row twice, and the auditors' queries need no snapshot filter.

Rows stream from DynamoDB into one newline-delimited JSON spool file per day (a bounded number
open at a time), and DuckDB converts each spool to Parquet — memory stays bounded by one page of
items, whatever the table size. Locally the folder is ``settings.export_dir``: each file is
written under a name of its own (``.part-0.<uuid>.tmp``) and moved into place with
``os.replace``, so readers and concurrent exports only ever see whole files; partitions this
export has no rows for (a reset local stack, the old snapshot layout) are removed unless
written after it started. In AWS the files go to the export bucket (one PutObject per file,
atomic too); the function may not delete there (see README "Exports for auditors").
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from chalicelib.audit import tables
from chalicelib.clock import SHANGHAI, wall_now

PAGE = 500
DUCKDB_MEMORY = "256MB"  # the daily export's Lambda has 1 GB
OPEN_SPOOLS = 32  # day spools open at once while a table is read (any number of days is fine)
STALE_TMP_SECONDS = 3600  # a temporary file this old was left by an export that died
PART = "part-0.parquet"
ROW_MAPPERS = {
    "petitions": tables.petition_row,
    "events": tables.event_row,
    "notifications": tables.notification_row,
    "violations": tables.violation_row,
}
Scan = Callable[[], Iterable[Any]]  # a store's full read of its table, page by page
Progress = Callable[..., None]


class _Parquet:
    """One DuckDB connection converting a table's day spools, memory bounded."""

    def __init__(self, columns: dict[str, str]) -> None:
        import duckdb

        self.cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
        self.con = duckdb.connect()
        # Bounded: by default DuckDB takes up to 80 % of RAM and its rise grew with the table
        # (+590 MB converting 2 million events; +161 MB with this limit; it spills beyond it).
        self.con.execute(f"SET memory_limit='{DUCKDB_MEMORY}'")

    def write(self, spool: Path, target: Path) -> None:
        self.con.execute(
            f"COPY (SELECT * FROM read_json('{spool}', format='newline_delimited', columns={{{self.cols}}}, "
            f"timestampformat='%Y-%m-%d %H:%M:%S')) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        )

    def close(self) -> None:
        self.con.close()


class _DaySpools:
    """JSON-lines spools, one per day, at most OPEN_SPOOLS open (the rest reopened to append)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, int] = {}
        self._open: OrderedDict[str, IO[str]] = OrderedDict()

    def path(self, day: str) -> Path:
        return self.folder / f"{day}.jsonl"

    def write(self, day: str, line: str) -> None:
        out = self._open.get(day)
        if out is None:
            if len(self._open) >= OPEN_SPOOLS:
                self._open.popitem(last=False)[1].close()
            out = self._open[day] = self.path(day).open("a", encoding="utf-8")
        else:
            self._open.move_to_end(day)
        out.write(line)
        self.rows[day] = self.rows.get(day, 0) + 1

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()


def spool_table(name: str, scan: Scan, folder: Path, progress: Progress | None = None) -> _DaySpools:
    """Reads the table whole into one spool per day of its rows."""
    to_row = ROW_MAPPERS[name]
    folder.mkdir(parents=True, exist_ok=True)
    spools = _DaySpools(folder)
    total = 0
    try:
        for item in scan():
            row = to_row(item)
            spools.write(tables.day_of(name, row), json.dumps(row, ensure_ascii=False) + "\n")
            total += 1
            if progress and total % 1000 == 0:
                progress(name, total)
    finally:
        spools.close()
    return spools


def export_table(
    name: str,
    scan: Scan,
    publish: Callable[[str, Path], None],
    work: Path,
    parquet_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[int, set[str]]:
    """Spools the table by day, converts each day to Parquet and hands it to ``publish(day, file)``
    (which moves or uploads it; the file is gone or disposable after). Returns the rows and days.
    ``parquet_dir`` is where a day's file is written (by default ``work``): locally, the day's
    own partition folder, so that publishing it is a rename on one file system."""
    spools = spool_table(name, scan, work / f"{name}-spool", progress)
    parquet = _Parquet(tables.TABLES[name])
    try:
        for day in sorted(spools.rows):
            folder = parquet_dir / f"dt={day}" if parquet_dir else work
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f".part-0.{uuid.uuid4().hex}.tmp"  # concurrent exports never share one
            try:
                parquet.write(spools.path(day), target)
                publish(day, target)
            finally:
                target.unlink(missing_ok=True)
                spools.path(day).unlink()
    finally:
        parquet.close()
    total = sum(spools.rows.values())
    if progress:
        progress(name, total, done=True)
    return total, set(spools.rows)


def prune(table_dir: Path, days: set[str], started: float) -> list[Path]:
    """Removes the partitions of days this export had no rows for (rows are never deleted, so
    they come from another data set: a reset local stack, or the old one-snapshot-per-day layout),
    unless written after this export started: a concurrent, newer export's. Temporary files an
    export left when it died go too. Folders stay: another export may be about to write there."""
    removed = []
    for folder in table_dir.glob("dt=*"):
        for f in folder.iterdir():
            try:
                mtime = f.stat().st_mtime
            except FileNotFoundError:  # a concurrent export just moved its temporary file in place
                continue
            stale_part = f.name.endswith(".parquet") and folder.name[3:] not in days and mtime < started
            stale_tmp = f.name.endswith(".tmp") and mtime < started - STALE_TMP_SECONDS
            if stale_part or stale_tmp:
                f.unlink(missing_ok=True)
                removed.append(f)
    return removed


@dataclass
class Exporter:
    """Writes every table's partitions, locally to ``export_dir`` or to the bucket.

    ``sources`` maps each exported table to its store's full read; ``upload`` puts a file
    in the bucket (the runtime gives it an S3 client; locally nothing is uploaded)."""

    sources: dict[str, Scan]
    export_dir: str
    bucket: str
    upload: Callable[[str, str, str], None] | None = None

    def run(self, now: datetime, progress: Progress | None = None) -> dict:
        """Returns the location, the export's own day and the rows per table."""
        dt = now.astimezone(SHANGHAI).date().isoformat()
        started = wall_now().timestamp()  # compared with files' mtimes: real time, not the SLA clock
        root = Path(self.export_dir).resolve() if self.export_dir else None
        if root is None and self.upload is None:
            raise RuntimeError("no export folder and no bucket upload configured")
        counts = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, scan in self.sources.items():
                if root is not None:
                    table_dir = root / name
                    counts[name], days = export_table(
                        name, scan, _mover(table_dir), Path(tmp), table_dir, progress
                    )
                    prune(table_dir, days, started)
                else:
                    counts[name], _ = export_table(
                        name, scan, self._uploader(name), Path(tmp), None, progress
                    )
        location = str(root) if root is not None else f"s3://{self.bucket}/exports/"
        return {"location": location, "dt": dt, "tables": counts}

    def _uploader(self, name: str) -> Callable[[str, Path], None]:
        upload = self.upload
        assert upload is not None

        def put(day: str, file: Path) -> None:
            upload(str(file), self.bucket, f"exports/{name}/dt={day}/{PART}")

        return put


def _mover(table_dir: Path) -> Callable[[str, Path], None]:
    def move(day: str, file: Path) -> None:
        os.replace(file, table_dir / f"dt={day}" / PART)  # readers never see half a file

    return move


def print_progress(name: str, rows: int, done: bool = False) -> None:
    end = "\n" if done else "\r"
    sys.stderr.write(f"  {name:14} {rows:>10,} rows{' ✓' if done else ''}{end}")
    sys.stderr.flush()
