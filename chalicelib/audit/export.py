"""Export the tables as Parquet under ``exports/<table>/dt=YYYY-MM-DD/part-0.parquet``.

Two ways to read (issue 17): the first export (no watermark yet), or ``mode="full"``, reads each
table whole; every later one reads only what changed on the days since the last export
(chalicelib/audit/changes.py: the events' ``by_day`` index names the rest) and merges those rows
into the partitions they belong to — a partition is rewritten whole with its rows replaced by key,
never emptied, so a partition keeps every row it had (a row's day never changes). The watermark
(the last day exported) is kept beside the exports, not in them.

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
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from chalicelib.audit import tables
from chalicelib.clock import SHANGHAI, iso, parse_instant, wall_now

log = logging.getLogger("fzt.audit")

PAGE = 500
IN_FLIGHT = timedelta(seconds=60)  # longer than any request's commit (API Gateway ends them at 29 s)
DUCKDB_MEMORY = "256MB"  # the daily export's Lambda has 1 GB
OPEN_SPOOLS = 32  # day spools open at once while a table is read (any number of days is fine)
STALE_TMP_SECONDS = 3600  # a temporary file this old was left by an export that died
PART = "part-0.parquet"
ROW_MAPPERS: dict[str, Callable[[Any], dict]] = {
    "petitions": tables.petition_row,
    "events": tables.event_row,
    "notifications": tables.notification_row,
    "violations": tables.violation_row,
    "assessments": dict,  # computed rows (supervision.service.assessment_rows), already flat
}
Scan = Callable[[], Iterable[Any]]  # a store's full read of its table, page by page
# A row's identity within its table: what a changed row replaces when merged into its partition.
KEYS = {
    "petitions": ("id",),
    "events": ("petition_id", "seq"),
    "notifications": ("id",),
    "violations": ("unit", "petition_id", "kind", "stage", "occurred_at"),
    "assessments": ("year", "district", "unit"),
}
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

    def _spooled(self, spool: Path) -> str:
        return (
            f"SELECT * FROM read_json('{spool}', format='newline_delimited', columns={{{self.cols}}}, "
            "timestampformat='%Y-%m-%d %H:%M:%S')"
        )

    def write(self, spool: Path, target: Path, merge_into: Path | None = None, key: tuple = ()) -> None:
        """The spool as Parquet; with ``merge_into`` (the partition's current file), that file's rows
        too, except those the spool replaces (same ``key``)."""
        rows = self._spooled(spool)
        if merge_into is not None:
            cols = ", ".join(key)
            rows = (
                f"SELECT * FROM read_parquet('{merge_into}') WHERE ({cols}) NOT IN "
                f"(SELECT ({cols}) FROM ({rows})) UNION ALL BY NAME {rows}"
            )
        self.con.execute(f"COPY ({rows}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")

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
    current: Callable[[str, Path], Path | None] | None = None,
) -> tuple[int, set[str]]:
    """Spools the table by day, converts each day to Parquet and hands it to ``publish(day, file)``
    (which moves or uploads it; the file is gone or disposable after). Returns the rows and days.
    ``parquet_dir`` is where a day's file is written (by default ``work``): locally, the day's
    own partition folder, so that publishing it is a rename on one file system. With ``current``
    (an incremental export), each day's rows are merged into the partition's current file, which
    ``current(day, work)`` gives (or None: the partition is new)."""
    spools = spool_table(name, scan, work / f"{name}-spool", progress)
    parquet = _Parquet(tables.TABLES[name])
    try:
        for day in sorted(spools.rows):
            folder = parquet_dir / f"dt={day}" if parquet_dir else work
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f".part-0.{uuid.uuid4().hex}.tmp"  # concurrent exports never share one
            existing = None
            try:
                existing = current(day, work) if current is not None else None
                parquet.write(spools.path(day), target, existing, KEYS[name])
                publish(day, target)
            finally:
                target.unlink(missing_ok=True)
                spools.path(day).unlink()
                if existing is not None:  # a copy in the work folder (or a download), never the partition
                    existing.unlink(missing_ok=True)
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
    # Incremental exports (issue 17): the day's changes, the watermark, and (in AWS) a partition's
    # current file fetched from the bucket for the merge. Without ``changes`` every export is full.
    changes: Any = None  # audit.changes.ChangeReader
    watermark: Any = None  # get() -> last exported day | None; put(day)
    download: Callable[[str, str, str], bool] | None = None  # bucket, key, path → found
    # Tables computed at each export (not read from a table): written whole into the day's partition.
    derived: dict[str, Scan] = field(default_factory=dict)

    def run(self, now: datetime, progress: Progress | None = None, mode: str = "auto") -> dict:
        """Returns the location, the export's own day, the rows written per table, how it read
        (``full``: Scans; ``incremental``: the changes since the last export) and the items read."""
        dt = now.astimezone(SHANGHAI).date().isoformat()
        started = wall_now().timestamp()  # compared with files' mtimes: real time, not the SLA clock
        root = Path(self.export_dir).resolve() if self.export_dir else None
        if root is None and self.upload is None:
            raise RuntimeError("no export folder and no bucket upload configured")
        last: str | None = self.watermark.get() if self.watermark is not None else None
        incremental = mode != "full" and self.changes is not None and last is not None
        sources: dict[str, Scan] = self.sources
        read: dict[str, int] = {}
        if incremental and last is not None:
            try:
                sources, read = self._changed_since(min(parse_instant(last), now), now)
            except Exception:  # noqa: BLE001 - e.g. a local stack restored from before the by_day index
                log.warning("incremental read failed; exporting every table whole", exc_info=True)
                incremental, sources, read = False, self.sources, {}
        counts = {}
        sources = {**sources, **self.derived}
        with tempfile.TemporaryDirectory() as tmp:
            for name, scan in sources.items():
                if root is not None:
                    table_dir = root / name
                    current = _local_current(table_dir) if incremental else None
                    counts[name], days = export_table(
                        name, scan, _mover(table_dir), Path(tmp), table_dir, progress, current
                    )
                    if not incremental and name not in self.derived:  # a derived day is a snapshot: kept
                        prune(table_dir, days, started)
                else:
                    current = self._remote_current(name) if incremental else None
                    counts[name], _ = export_table(
                        name, scan, self._uploader(name), Path(tmp), None, progress, current
                    )
        if self.watermark is not None:
            # The next export reads from a minute before this one began: a change whose request read
            # the clock before and committed after this export read its day is read again, never missed.
            mark = now - IN_FLIGHT
            self.watermark.put(iso(max(mark, parse_instant(last)) if last else mark))
        location = str(root) if root is not None else f"s3://{self.bucket}/exports/"
        mode_used = "incremental" if incremental else "full"
        return {"location": location, "dt": dt, "tables": counts, "mode": mode_used, "read": read or counts}

    def _changed_since(self, since: datetime, now: datetime) -> tuple[dict[str, Scan], dict[str, int]]:
        """Each table's rows changed from ``since`` until now, each row once."""
        rows: dict[str, dict] = {name: {} for name in self.sources}
        read: dict[str, int] = dict.fromkeys(self.sources, 0)
        day = since.astimezone(SHANGHAI).date()
        last = now.astimezone(SHANGHAI).date()
        while day <= last:
            changed = self.changes.day(day.isoformat(), since)
            for name in self.sources:
                for item in changed.rows.get(name, ()):
                    rows[name][_item_key(name, item)] = item  # a later day's read is as new or newer
                read[name] += changed.read.get(name, 0)
            day += timedelta(days=1)
        return {name: _rows_of(r) for name, r in rows.items()}, read

    def _remote_current(self, name: str) -> Callable[[str, Path], Path | None]:
        download = self.download
        assert download is not None, "an incremental export to the bucket needs download"

        def fetch(day: str, work: Path) -> Path | None:
            path = work / f"{name}-{day}-current.parquet"
            found = download(self.bucket, f"exports/{name}/dt={day}/{PART}", str(path))
            return path if found else None

        return fetch

    def _uploader(self, name: str) -> Callable[[str, Path], None]:
        upload = self.upload
        assert upload is not None

        def put(day: str, file: Path) -> None:
            upload(str(file), self.bucket, f"exports/{name}/dt={day}/{PART}")

        return put


def _rows_of(rows: dict) -> Scan:
    return lambda: list(rows.values())


def _item_key(name: str, item: Any) -> tuple:
    if name == "events":
        return (item.petition_id, int(item.seq))
    if name == "violations":
        return (item.unit, item.sk)
    return (item.id,)


def _local_current(table_dir: Path) -> Callable[[str, Path], Path | None]:
    """A partition's current file, copied first: a concurrent export may replace it meanwhile, and the
    merge must read one file (opened once by the copy), not the first half of one and the rest of another."""

    def current(day: str, work: Path) -> Path | None:
        path = table_dir / f"dt={day}" / PART
        copy = work / f"{table_dir.name}-{day}-{uuid.uuid4().hex}.parquet"
        try:
            shutil.copyfile(path, copy)
        except FileNotFoundError:
            return None
        return copy

    return current


def _mover(table_dir: Path) -> Callable[[str, Path], None]:
    def move(day: str, file: Path) -> None:
        os.replace(file, table_dir / f"dt={day}" / PART)  # readers never see half a file

    return move


def print_progress(name: str, rows: int, done: bool = False) -> None:
    end = "\n" if done else "\r"
    sys.stderr.write(f"  {name:14} {rows:>10,} rows{' ✓' if done else ''}{end}")
    sys.stderr.flush()
