"""The daily export reads what changed that day (issue 17): after a first, full export, the next
day's export reads the day's events from the events' ``by_day`` index and only the petitions,
notifications and violations they name — counted here on the wire (botocore's after-call: items
each Query, Scan and BatchGetItem returned), not taken from the export's own figures. The older
partitions keep their rows, a changed petition's row is replaced in its own day's partition, and
every petition's hash chain still verifies across the days."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from chalicelib import db
from chalicelib.audit.verify import verify_export
from chalicelib.clock import SHANGHAI, iso
from tests.integration.export_job import export_now

DISTRICT = "210922"
OLD = 8  # petitions of the first day, untouched on the second but one


class WireCount:
    """Items DynamoDB returned per (operation, table[/index]), for every read the stack's clients make."""

    def __init__(self) -> None:
        self.items: Counter = Counter()
        self.scans = 0
        self.clients = db.all_connections()

    def before(self, params=None, model=None, context=None, **_kw) -> None:
        if context is not None and params:
            index = params.get("IndexName")
            tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            context["fzt_read"] = [f"{t}/{index}" if index else t for t in tables]

    def after(self, http_response=None, parsed=None, model=None, context=None, **_kw) -> None:
        if not parsed or model is None:
            return
        where = ",".join((context or {}).get("fzt_read", []))
        if model.name in ("Query", "Scan"):
            self.items[(model.name, where)] += parsed.get("Count", 0)
            self.scans += model.name == "Scan"
        elif model.name == "BatchGetItem":
            for table, found in parsed.get("Responses", {}).items():
                self.items[("BatchGetItem", table)] += len(found)

    def __enter__(self) -> WireCount:
        for client in self.clients:
            client.meta.events.register("before-parameter-build.dynamodb", self.before)
            client.meta.events.register("after-call.dynamodb", self.after)
        return self

    def __exit__(self, *exc) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-parameter-build.dynamodb", self.before)
            client.meta.events.unregister("after-call.dynamodb", self.after)

    def total(self, operation: str, contains: str) -> int:
        return sum(n for (op, where), n in self.items.items() if op == operation and contains in where)


def file(api, n: int) -> str:
    body = {"district": DISTRICT, "content": f"村道路灯不亮（{n}）", "citizen": {"phone": f"1330133{n:04d}"}}
    r = api.post("/v1/petitions", body, as_="local-hotline")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def at(api, day_offset: int, hour: int = 10) -> datetime:
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    when = (now + timedelta(days=day_offset)).replace(hour=hour, minute=0, second=0, microsecond=0)
    assert api.post("/_local/clock", {"set": iso(when)}).status_code == 200
    return when


def later(api, minutes: int) -> None:
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"])
    assert api.post("/_local/clock", {"set": iso(now + timedelta(minutes=minutes))}).status_code == 200


def rows(root, table: str, where: str = "true") -> list[tuple]:
    con = duckdb.connect()
    glob = str(root / table / "dt=*" / "*.parquet")
    return con.execute(
        f"SELECT * FROM read_parquet('{glob}', hive_partitioning=true) WHERE {where}"
    ).fetchall()


def test_the_next_days_export_reads_only_that_days_changes(api):
    # Given a first day of petitions, exported whole
    day1 = at(api, 1)
    old = [file(api, n) for n in range(OLD)]
    api.get("/_local/outbox")  # their receipts are out
    later(api, minutes=10)
    with WireCount() as wire:
        first = export_now(api)
    root = Path(first["location"])
    assert first["mode"] == "full"
    # (even the full read takes the violations district by district from their index: no Scan there)
    violations = [(op, where) for op, where in wire.items if "ViolationsTable" in where]
    assert ("Scan" not in {op for op, _ in violations}) and any(
        op == "Query" and where.endswith("/by_district") for op, where in violations
    ), violations
    before = {t: len(rows(root, t)) for t in ("petitions", "events", "notifications")}
    # When, the next day, two petitions arrive and one of the old ones is dispatched
    day2 = at(api, 1)
    new = [file(api, 100 + n) for n in range(2)]
    r = api.post(
        f"/v1/petitions/{old[0]}/dispatch", {"department": f"{DISTRICT}.urban"}, as_=f"dispatcher@{DISTRICT}"
    )
    assert r.status_code == 200, r.text
    api.get("/_local/outbox")  # the receipts are out (their marks are the day's changes too)
    with WireCount() as wire:
        second = export_now(api)
    # Then it read no table whole, and as many petitions as changed that day (not the whole table)
    assert second["mode"] == "incremental" and wire.scans == 0, wire.items
    assert second["read"]["petitions"] == 3
    day2_events = rows(root, "events", f"dt = '{day2.date().isoformat()}'")
    assert second["read"]["events"] == len(day2_events) > 0
    # on the wire: the day's events (Query), and the petitions + notifications they name (BatchGetItem)
    notifications = second["read"]["notifications"]
    assert wire.total("Query", "EventsTable") == len(day2_events), wire.items
    # and the notifications written or marked that day, from the outbox's keys-only by_day index
    assert 0 < wire.total("Query", "OutboxTable") <= notifications
    assert wire.total("BatchGetItem", "PetitionsTable") == 3
    assert wire.total("BatchGetItem", "OutboxTable") == notifications
    # The older partitions kept every row; the dispatched petition's row changed in its own day
    assert len(rows(root, "petitions")) == before["petitions"] + 2
    assert len(rows(root, "events")) == before["events"] + len(day2_events)
    # (the day's notifications: its new records; the first day's, marked before the first export, are
    # read again from that day's index entries and merged in place, not added)
    new_notifications = rows(root, "notifications", f"dt = '{day2.date().isoformat()}'")
    assert 0 < len(new_notifications) <= notifications
    assert len(rows(root, "notifications")) == before["notifications"] + len(new_notifications)
    (status,) = {
        r[0]
        for r in duckdb.connect()
        .sql(
            f"SELECT status FROM read_parquet('{root}/petitions/dt={day1.date().isoformat()}/*.parquet') "
            f"WHERE id = '{old[0]}'"
        )
        .fetchall()
    }
    assert status == "dispatched"
    assert {
        r[0]
        for r in duckdb.connect()
        .sql(f"SELECT id FROM read_parquet('{root}/petitions/dt={day2.date().isoformat()}/*.parquet')")
        .fetchall()
    } >= set(new)
    # and every petition's hash chain verifies across the two days' partitions
    assert verify_export(root) == {}


def test_a_day_with_no_change_reads_nothing(api):
    at(api, 3)
    export_now(api)  # catches up: the days since the last export, with whatever they changed
    later(api, minutes=5)
    with WireCount() as wire:
        quiet = export_now(api)  # the same day again: nothing changed since
    assert quiet["mode"] == "incremental" and wire.scans == 0
    assert quiet["read"] == {"petitions": 0, "events": 0, "notifications": 0, "violations": 0}
    assert wire.total("Query", "EventsTable") == 0 and wire.total("BatchGetItem", "") == 0
