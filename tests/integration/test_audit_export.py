"""The exporter on its own (no stack): each row in the partition of its day, rewritten whole by
each export; stale partitions pruned locally; concurrent exports on one folder; the bucket path."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from chalicelib.audit import export as export_module
from chalicelib.audit.__main__ import connect
from chalicelib.audit.export import Exporter
from chalicelib.clock import SHANGHAI, iso
from chalicelib.petitions.domain import Petition
from chalicelib.petitions.models import PetitionItem
from chalicelib.petitions.repository import to_item

T0 = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: the next hour is another day
NOW = datetime(2026, 4, 1, 1, 0, tzinfo=SHANGHAI)


def petition(i: int, status: str = "received") -> PetitionItem:
    created = iso(T0 + timedelta(hours=i))
    p = Petition(
        id=f"P{i:04d}",
        version=1,
        status=status,
        channel="wechat",
        district="210921",
        content=f"第{i}件",
        created_at=created,
    )
    return to_item(p)  # as the repository writes it (not saved: the exporter's reader is faked below)


def event(i: int) -> SimpleNamespace:
    return SimpleNamespace(
        petition_id=f"P{i:04d}",
        seq=1,
        type="created",
        at=iso(T0 + timedelta(hours=i)),
        actor="channel:wechat",
        data={},
        prev_hash="0" * 64,
        hash=f"{i:064x}",
    )


def violation(i: int) -> SimpleNamespace:
    return SimpleNamespace(
        unit="210921.housing",
        district="210921",
        kind="returned",
        petition_id=f"P{i:04d}",
        stage="accept",
        detail={"reason": "function"},
        at=iso(T0 + timedelta(hours=i)),
    )


def exporter(folder: Path | None, n: int, status: str = "received", upload=None) -> Exporter:
    return Exporter(
        sources={
            "petitions": lambda: (petition(i, status) for i in range(n)),
            "events": lambda: (event(i) for i in range(n)),
            "violations": lambda: (violation(i) for i in range(n)),
        },
        export_dir=str(folder) if folder else "",
        bucket="fzt-exports",
        upload=upload,
    )


def shanghai_day(i: int) -> str:
    return (T0 + timedelta(hours=i)).astimezone(SHANGHAI).date().isoformat()


def test_each_row_lies_in_its_own_days_partition_once_however_many_exports(tmp_path):
    exporter(tmp_path, 30).run(NOW)
    result = exporter(tmp_path, 50, status="closed").run(NOW + timedelta(days=1))
    assert result["tables"] == {"petitions": 50, "events": 50, "violations": 50}
    assert result["dt"] == "2026-04-02"  # the export's own day; the rows keep theirs
    con = connect(tmp_path)
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM petitions").fetchone() == (50, 50)
    assert con.execute("SELECT DISTINCT status FROM petitions").fetchall() == [("closed",)]
    assert con.execute("SELECT count(*) FROM violations").fetchone() == (50,)
    days = {shanghai_day(i) for i in range(50)}
    assert {p.parent.name[3:] for p in tmp_path.glob("events/dt=*/part-0.parquet")} == days
    for table in ("petitions", "events", "violations"):
        for i in (0, 1, 49):  # 23:30 and 00:30 in Shanghai: two days
            dt = con.execute(
                f"SELECT dt FROM {table} WHERE {'id' if table == 'petitions' else 'petition_id'} = ?",
                [f"P{i:04d}"],
            ).fetchone()[0]
            assert dt == shanghai_day(i), (table, i)
    # A table without a file yet is an empty view: the README's queries run on any export
    assert con.execute("SELECT count(*) FROM notifications").fetchone() == (0,)


def test_more_days_than_open_spools(tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "OPEN_SPOOLS", 3)
    n = 24 * 10  # ten days, rows interleaved across them would reopen spools anyway
    exporter(tmp_path, n).run(NOW)
    con = connect(tmp_path)
    assert con.execute("SELECT count(*), count(DISTINCT dt) FROM events").fetchone() == (n, 11)


def test_stale_partitions_go_but_not_a_newer_exports(tmp_path):
    # A partition no row belongs to (the old snapshot layout, a reset stack), written before
    stale = tmp_path / "events" / "dt=2026-01-05" / "part-0.parquet"
    stale.parent.mkdir(parents=True)
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{stale}' (FORMAT parquet)")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    dead = tmp_path / "events" / "dt=2026-01-05" / ".part-0.dead.tmp"
    dead.write_bytes(b"half a file")
    os.utime(dead, (time.time() - 7200, time.time() - 7200))
    # ... and one a concurrent export wrote after this one started
    newer = tmp_path / "violations" / "dt=2026-01-06" / "part-0.parquet"
    newer.parent.mkdir(parents=True)
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{newer}' (FORMAT parquet)")
    os.utime(newer, (time.time() + 60, time.time() + 60))
    exporter(tmp_path, 5).run(NOW)
    assert not stale.exists() and not dead.exists()
    assert newer.exists()


def test_three_concurrent_exports_of_a_growing_table_neither_fail_nor_corrupt(tmp_path):
    errors: list[BaseException] = []
    exporters = [exporter(tmp_path, n) for n in (200, 210, 220)]

    def run(e: Exporter) -> None:
        try:
            e.run(NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            errors.append(exc)

    for _ in range(3):
        threads = [threading.Thread(target=run, args=(e,)) for e in exporters]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".parquet"]
        con = connect(tmp_path)
        for table, key in (("petitions", "id"), ("events", "petition_id"), ("violations", "petition_id")):
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
            assert total == distinct and 200 <= total <= 220, table
    # Once they are done, the next export leaves exactly the newest rows
    exporters[-1].run(NOW)
    assert connect(tmp_path).execute("SELECT count(*) FROM events").fetchone() == (220,)


def test_the_bucket_gets_one_whole_file_per_table_and_day(tmp_path):
    keys: dict[str, int] = {}

    def upload(path: str, bucket: str, key: str) -> None:
        assert bucket == "fzt-exports"
        keys[key] = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]

    result = exporter(None, 30, upload=upload).run(NOW)
    assert result["location"] == "s3://fzt-exports/exports/"
    days = sorted({shanghai_day(i) for i in range(30)})
    expected = {
        f"exports/{t}/dt={d}/part-0.parquet" for t in ("petitions", "events", "violations") for d in days
    }
    assert set(keys) == expected
    assert sum(n for k, n in keys.items() if k.startswith("exports/events/")) == 30


def test_an_export_with_nowhere_to_go_refuses():
    with pytest.raises(RuntimeError):
        exporter(None, 1).run(NOW)


def test_athena_projects_every_shanghai_day_that_has_begun():
    """Athena projects dt in UTC; a row's dt is its Shanghai day, up to one day ahead of UTC's.
    The location template is where the exporter writes."""
    from cfnlint.decode import decode_str

    root = Path(__file__).resolve().parents[2]
    template, _ = decode_str((root / "infra" / "template.yaml").read_text(encoding="utf-8"))
    glue = [
        r["Properties"]["TableInput"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::Table"
    ]
    assert {t["Name"] for t in glue} == {"petitions", "events", "notifications", "violations", "assessments"}
    for table in glue:
        params = table["Parameters"]
        assert params["projection.dt.range"].split(",")[1] == "NOW+1DAYS", table["Name"]
        assert params["projection.dt.format"] == "yyyy-MM-dd"
        location = params["storage.location.template"]["Fn::Sub"]
        assert location == "s3://${ExportBucket}/exports/%s/dt=${!dt}/" % table["Name"]
