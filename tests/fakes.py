"""In-memory fakes of the stores and the SMS port, for tests without sockets.

Each fake keeps the promises its DynamoDB store keeps — conditional writes staged into one
transaction that commits all or nothing, sparse indexes that hold only what is pending,
newest-first paging by cursor — and ``tests/integration/test_store_contract.py`` runs the same
test class against both, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from chalicelib.clock import utc_key
from chalicelib.directory.model import Directory
from chalicelib.errors import TransactionConflict
from chalicelib.intake.idempotency_store import LABEL as IDEMPOTENCY
from chalicelib.intake.idempotency_store import Claim
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.petitions.domain import Petition
from chalicelib.petitions.paging import merge_page
from chalicelib.runtime import Stores
from chalicelib.sla.timer_store import Timer
from chalicelib.sla.violation_store import ViolationRecord
from chalicelib.supervision.records import Record


class MemoryDatabase:
    """The tables of every fake, and the one lock their transactions commit under."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[Any, Any]] = defaultdict(dict)
        self.transactions = 0

    def transaction(self) -> MemoryTransaction:
        return MemoryTransaction(self)


class MemoryTransaction:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.ops: list[tuple[str, Callable[[], bool], Callable[[], None]]] = []

    def add(self, label: str, check: Callable[[], bool], apply: Callable[[], None]) -> None:
        self.ops.append((label, check, apply))

    def __len__(self) -> int:
        return len(self.ops)

    def commit(self) -> None:
        if not self.ops:
            return
        with self.db.lock:
            failed = [label for label, check, _ in self.ops if not check()]
            if failed:
                raise TransactionConflict(failed)
            for _, _, apply in self.ops:
                apply()
            self.db.transactions += 1


def _created_key(p: Petition) -> str:
    return f"{utc_key(p.created_at)}#{p.id}"


def _due_key(p: Petition) -> str | None:
    due = p.stage.due_at if p.stage and p.stage.running and p.stage.due_at else None
    return utc_key(due) if due else None


class MemoryPetitions:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.rows: dict[str, Petition] = db.tables["petitions"]
        self.events: dict[str, dict[int, dict]] = db.tables["events"]

    def get(self, petition_id: str) -> Petition | None:
        with self.db.lock:
            p = self.rows.get(petition_id)
            return copy.deepcopy(p) if p else None

    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]:
        with self.db.lock:
            events = sorted(self.events.get(petition_id, {}).items())
        return [dict(e) for seq, e in events if upto is None or seq <= upto]

    def by_phone(self, phone_hash: str, limit: int) -> list[str]:
        with self.db.lock:
            mine = [p for p in self.rows.values() if p.contact.get("phone_hash") == phone_hash]
        return [p.id for p in sorted(mine, key=_created_key, reverse=True)[:limit]]

    def _in(self, index: str, key: str) -> list[Petition]:
        def value(p: Petition) -> str | None:
            if index == "first_unit":
                return (p.first_inquiry or {}).get("unit")
            return getattr(
                p, {"district": "district", "department": "department", "channel": "channel"}[index]
            )

        with self.db.lock:
            return [copy.deepcopy(p) for p in self.rows.values() if value(p) == key]

    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterator[Petition]:
        for p in sorted(self._in(index, key), key=_created_key):
            if lo <= _created_key(p) <= hi:
                yield p

    def page(
        self, partitions, limit, cursor, *, status=None, district=None, due_before=None, department=None
    ):
        candidates, done = [], {}
        for index, key in partitions:
            name = f"{index}:{key}"
            if cursor.get(name) == "":
                continue
            rows = sorted(self._in(index, key), key=_created_key, reverse=True)
            if cursor.get(name):
                rows = [p for p in rows if _created_key(p) < cursor[name]]
            matching = [
                p
                for p in rows
                if (not status or p.status == status)
                and (not district or p.district == district)
                and (not department or p.department == department)
                and (not due_before or ((_due_key(p) or "~") < due_before))
            ]
            candidates += [(_created_key(p), name, p) for p in matching[:limit]]
            done[name] = len(matching) <= limit
        return merge_page(partitions, candidates, done, limit, cursor)

    def stage(self, tx: MemoryTransaction, p: Petition, *, new: bool) -> None:
        def check() -> bool:
            stored = self.rows.get(p.id)
            return stored is None if new else stored is not None and stored.version == p.version

        def apply() -> None:
            self.rows[p.id] = replace(copy.deepcopy(p), version=(p.version or 0) + 1)

        tx.add("petition", check, apply)

    def stage_events(self, tx: MemoryTransaction, petition_id: str, events: list[dict]) -> None:
        for e in events:
            tx.add(
                "event",
                lambda seq=e["seq"]: seq not in self.events.get(petition_id, {}),
                lambda e=e: self.events.setdefault(petition_id, {}).__setitem__(e["seq"], dict(e)),
            )


def _stored(r: OutboxRecord) -> OutboxRecord:
    """As the DynamoDB store keeps it: the next attempt only while the record waits."""
    kept = copy.deepcopy(r)
    if not (r.pending and r.next_attempt_at is not None):
        kept.next_attempt_at = None
    return kept


class MemoryOutbox:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.rows: dict[str, OutboxRecord] = db.tables["outbox"]

    def stage_new(self, tx: MemoryTransaction, record: OutboxRecord) -> None:
        tx.add(
            "outbox",
            lambda: record.id not in self.rows,
            lambda: self.rows.__setitem__(record.id, _stored(record)),
        )

    def mark(self, record: OutboxRecord) -> bool:
        with self.db.lock:
            stored = self.rows.get(record.id)
            if stored is None or stored.attempts != record.attempts or stored.status != "sending":
                return False
            self.rows[record.id] = _stored(record)
            return True

    def changed_on(self, day: str) -> Iterator[str]:
        from chalicelib.clock import SHANGHAI, parse_instant

        def last(r: OutboxRecord) -> str:
            return str(r.outcomes[-1]["at"]) if r.outcomes else r.created_at

        with self.db.lock:
            ids = sorted(
                r.id
                for r in self.rows.values()
                if parse_instant(last(r)).astimezone(SHANGHAI).date().isoformat() == day
            )
        yield from ids

    def get(self, record_id: str) -> OutboxRecord | None:
        with self.db.lock:
            r = self.rows.get(record_id)
            return copy.deepcopy(r) if r else None

    def get_many(self, ids: list[str]) -> list[OutboxRecord]:
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def due(self, cutoff: str) -> Iterator[OutboxRecord]:
        with self.db.lock:
            due = [
                copy.deepcopy(r)
                for r in self.rows.values()
                if r.pending and r.next_attempt_at is not None and r.next_attempt_at <= cutoff
            ]
        yield from sorted(due, key=lambda r: r.next_attempt_at or "")

    def claim(self, record: OutboxRecord, lease_until: str) -> bool:
        with self.db.lock:
            stored = self.rows.get(record.id)
            if (
                stored is None
                or stored.attempts != record.attempts
                or stored.status not in ("queued", "failed", "sending")
            ):
                return False
            stored.status, stored.attempts, stored.next_attempt_at = (
                "sending",
                record.attempts + 1,
                lease_until,
            )
            return True

    def attention(self, district: str, limit: int) -> list[OutboxRecord]:
        with self.db.lock:
            rows = [copy.deepcopy(r) for r in self.rows.values() if r.attention_district == district]
        return sorted(rows, key=lambda r: r.created_at, reverse=True)[:limit]


class MemoryTimers:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.rows: dict[str, Timer] = db.tables["timers"]

    def stage(self, tx: MemoryTransaction, timer: Timer) -> None:
        tx.add("timer", lambda: True, lambda: self.rows.__setitem__(timer.petition_id, timer))

    def put(self, timer: Timer) -> None:
        with self.db.lock:
            self.rows[timer.petition_id] = timer

    def _pending(self) -> list[Timer]:
        with self.db.lock:
            return [t for t in self.rows.values() if t.due_at is not None]

    def due(self, cutoff: str) -> Iterator[Timer]:
        yield from sorted(
            (t for t in self._pending() if (t.due_at or "") <= cutoff), key=lambda t: t.due_at or ""
        )

    def pending_from(self, cutoff: str) -> Iterator[Timer]:
        yield from sorted(
            (t for t in self._pending() if (t.due_at or "") >= cutoff), key=lambda t: t.due_at or ""
        )


class MemoryViolations:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.rows: dict[tuple[str, str], ViolationRecord] = db.tables["violations"]

    def stage(self, tx: MemoryTransaction, v: ViolationRecord) -> None:
        tx.add("violation", lambda: True, lambda: self.rows.__setitem__((v.unit, v.sk), v))

    def _select(
        self, match: Callable[[ViolationRecord], bool], lo: str, hi: str, limit: int
    ) -> list[ViolationRecord]:
        with self.db.lock:
            rows = [v for v in self.rows.values() if match(v) and lo <= v.sk <= hi]
        return sorted(rows, key=lambda v: v.sk, reverse=True)[:limit]

    def get(self, unit: str, sk: str) -> ViolationRecord | None:
        with self.db.lock:
            return self.rows.get((unit, sk))

    def of_unit(self, unit: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]:
        return self._select(lambda v: v.unit == unit, lo, hi, limit)

    def of_district(self, district: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]:
        return self._select(lambda v: v.district == district, lo, hi, limit)


class MemorySupervision:
    """The supervision table: counters ADDed, records put, read back by partition and sort key."""

    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.counter_rows: dict[str, dict[str, dict[str, int]]] = db.tables["supervision_counters"]
        self.record_rows: dict[str, dict[str, Record]] = db.tables["supervision_records"]

    def stage_counters(self, tx: MemoryTransaction, pk: str, sk: str, deltas: dict[str, int]) -> None:
        def apply() -> None:
            row = self.counter_rows.setdefault(pk, {}).setdefault(sk, {})
            for name, value in deltas.items():
                row[name] = row.get(name, 0) + value

        tx.add("rollup", lambda: True, apply)

    def stage_record(self, tx: MemoryTransaction, record: Record, *, new: bool = False) -> None:
        def check() -> bool:
            return not new or record.sk not in self.record_rows.get(record.pk, {})

        def apply() -> None:
            self.record_rows.setdefault(record.pk, {})[record.sk] = copy.deepcopy(record)

        tx.add("supervision", check, apply)

    def counters(self, pk: str, lo: str, hi: str) -> Iterator[tuple[str, dict[str, int]]]:
        with self.db.lock:
            rows = sorted(self.counter_rows.get(pk, {}).items())
        for sk, values in rows:
            if lo <= sk <= hi:
                yield sk, {k: v for k, v in values.items() if v}

    def records(self, pk: str, prefix: str = "", limit: int | None = None) -> list[Record]:
        with self.db.lock:
            rows = sorted(self.record_rows.get(pk, {}).items(), reverse=True)
        out = [copy.deepcopy(r) for sk, r in rows if sk.startswith(prefix)]
        return out[:limit] if limit is not None else out

    def records_between(self, pk: str, lo: str, hi: str) -> list[Record]:
        with self.db.lock:
            rows = sorted(self.record_rows.get(pk, {}).items())
        return [copy.deepcopy(r) for sk, r in rows if lo <= sk <= hi]


class MemoryIdempotency:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.rows: dict[str, Claim] = db.tables["idempotency"]

    def stage(self, tx: MemoryTransaction, claim: Claim, *, reusable_after: int | None) -> None:
        def check() -> bool:
            held = self.rows.get(claim.key)
            return held is None or (reusable_after is not None and held.expires_epoch < reusable_after)

        tx.add(IDEMPOTENCY, check, lambda: self.rows.__setitem__(claim.key, claim))

    def get(self, key: str) -> Claim | None:
        with self.db.lock:
            return self.rows.get(key)


class MemoryDirectory:
    def __init__(self, db: MemoryDatabase, directory: Directory | None = None) -> None:
        self.db = db
        self.value = directory
        self.calendar: dict[int, dict] = db.tables["calendar"]

    def save(self, directory: Directory, version: str) -> int:
        self.value = directory
        return 1

    def get(self) -> Directory:
        if self.value is None:
            raise LookupError("no directory loaded")
        return self.value

    def clear(self) -> None:
        pass

    def save_notice(self, year: int, body: dict) -> None:
        with self.db.lock:
            self.calendar[year] = copy.deepcopy(body)

    def notices(self) -> list[dict]:
        with self.db.lock:
            return [copy.deepcopy(b) for _, b in sorted(self.calendar.items())]


class MemoryCenter:
    """The center table (chalicelib/center/store.py): version-checked cases and meetings, append-only
    case events, cases per unit or district by created key, meetings per grid newest first."""

    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.case_rows: dict[str, Any] = db.tables["center_cases"]
        self.event_rows: dict[str, dict[int, dict]] = db.tables["center_events"]
        self.meeting_rows: dict[str, Any] = db.tables["center_meetings"]

    def _stage_versioned(self, tx: MemoryTransaction, label: str, rows: dict, obj: Any, new: bool) -> None:
        def check() -> bool:
            held = rows.get(obj.id)
            return held is None if new else held is not None and held.version == obj.version

        def apply() -> None:
            rows[obj.id] = replace(copy.deepcopy(obj), version=obj.version + 1)

        tx.add(label, check, apply)

    def stage_case(self, tx: MemoryTransaction, case: Any, *, new: bool) -> None:
        self._stage_versioned(tx, "mediation", self.case_rows, case, new)

    def stage_case_events(self, tx: MemoryTransaction, case_id: str, events: list[dict]) -> None:
        for e in events:
            tx.add(
                "mediation-event",
                lambda seq=e["seq"]: seq not in self.event_rows.get(case_id, {}),
                lambda e=e: self.event_rows.setdefault(case_id, {}).__setitem__(e["seq"], dict(e)),
            )

    def case(self, case_id: str) -> Any:
        with self.db.lock:
            held = self.case_rows.get(case_id)
            return copy.deepcopy(held) if held else None

    def case_events(self, case_id: str) -> list[dict]:
        with self.db.lock:
            return [dict(e) for _, e in sorted(self.event_rows.get(case_id, {}).items())]

    def cases(self, index: str, key: str, lo: str = "0", hi: str = "~") -> Iterator[Any]:
        with self.db.lock:
            rows = [
                copy.deepcopy(c)
                for c in self.case_rows.values()
                if (c.unit if index == "unit" else c.district) == key
                and lo <= f"{utc_key(c.created_at)}#{c.id}" <= hi
            ]
        yield from sorted(rows, key=lambda c: f"{utc_key(c.created_at)}#{c.id}")

    def stage_meeting(self, tx: MemoryTransaction, meeting: Any, *, new: bool) -> None:
        self._stage_versioned(tx, "meeting", self.meeting_rows, meeting, new)

    def meeting(self, meeting_id: str) -> Any:
        with self.db.lock:
            held = self.meeting_rows.get(meeting_id)
            return copy.deepcopy(held) if held else None

    def meetings(self, index: str, key: str) -> list[Any]:
        with self.db.lock:
            rows = [
                copy.deepcopy(m)
                for m in self.meeting_rows.values()
                if (m.grid if index == "grid" else m.district) == key
            ]
        return sorted(rows, key=lambda m: f"{m.date}#{m.id}", reverse=True)


def memory_stores(directory: Directory | None = None) -> Stores:
    db = MemoryDatabase()
    return Stores(
        database=db,
        petitions=MemoryPetitions(db),
        outbox=MemoryOutbox(db),
        timers=MemoryTimers(db),
        violations=MemoryViolations(db),
        idempotency=MemoryIdempotency(db),
        directory=MemoryDirectory(db, directory),
        supervision=MemorySupervision(db),
        center=MemoryCenter(db),
    )


class FakeSms:
    """The SMS port, recording what it would send; ``fail`` makes the next N calls raise."""

    def __init__(self) -> None:
        self.sms: list[tuple[str, str]] = []
        self.topics: list[tuple[str, str, dict[str, str]]] = []
        self.fail = 0

    def _maybe_fail(self) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("SNS unreachable")

    def send_sms(self, phone: str, message: str) -> str:
        self._maybe_fail()
        self.sms.append((phone, message))
        return f"sms-{len(self.sms)}"

    def publish_topic(self, topic: str, message: str, attributes: dict[str, str]) -> str:
        self._maybe_fail()
        self.topics.append((topic, message, dict(attributes)))
        return f"topic-{len(self.topics)}"
