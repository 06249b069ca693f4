"""One test class, run against the in-memory fakes and against the DynamoDB stores (moto, built
from infra/template.yaml): the fakes the service tests rely on keep the same promises as the
real stores — all-or-nothing transactions with their conditions, sparse indexes that hold only
what is pending, newest-first paging by cursor — or this fails.

Every key is fresh per test (the DynamoDB side shares the session's stack with other suites).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clock import SHANGHAI, iso, utc_key
from chalicelib.errors import TransactionConflict
from chalicelib.intake.idempotency_store import Claim
from chalicelib.notify.outbox import OutboxRecord
from chalicelib.petitions.chain import link_events
from chalicelib.petitions.domain import Petition
from chalicelib.runtime import Stores
from chalicelib.sla.timer_store import Timer
from chalicelib.sla.violation_store import ViolationRecord
from tests.fakes import memory_stores

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def fresh(prefix: str = "C") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def petition(
    pid: str, *, at: datetime = T0, channel: str = "wechat", department: str | None = None, **kw
) -> Petition:
    return Petition(
        id=pid,
        version=0,
        status=kw.pop("status", "received"),
        channel=channel,
        district=kw.pop("district", "210902"),
        content="路灯不亮已经一个月",
        created_at=iso(at),
        department=department,
        **kw,
    )


def events(n: int, first: int = 1, prev: str = "") -> list[dict]:
    linked, _ = link_events(
        prev, [{"type": "note", "at": iso(T0), "actor": "test", "i": i} for i in range(n)], first
    )
    return linked


def commit(stores: Stores, *stage) -> None:
    tx = stores.database.transaction()
    for s in stage:
        s(tx)
    tx.commit()


def create(stores: Stores, p: Petition, n_events: int = 1) -> Petition:
    commit(
        stores,
        lambda tx: stores.petitions.stage(tx, p, new=True),
        lambda tx: stores.petitions.stage_events(tx, p.id, events(n_events)),
    )
    stored = stores.petitions.get(p.id)
    assert stored is not None
    return stored


def outbox_record(pid: str, n: int = 0, due: datetime = T0, **kw) -> OutboxRecord:
    return OutboxRecord(
        id=f"{pid}#1#{n}",
        petition_id=pid,
        kind="receipt",
        channel="sms",
        status=kw.pop("status", "queued"),
        created_at=iso(due),
        body={"template": "receipt", "values": {"id": pid}},
        next_attempt_at=utc_key(iso(due)),
        **kw,
    )


class StoreContract:
    @pytest.fixture
    def stores(self) -> Stores:
        raise NotImplementedError

    # --- petitions and events: one transaction, conditions, all or nothing --------------------------------

    def test_a_petition_and_its_events_commit_together_at_version_one(self, stores):
        p = create(stores, petition(fresh()), n_events=3)
        assert p.version == 1 and p.status == "received"
        timeline = stores.petitions.timeline(p.id)
        assert [e["seq"] for e in timeline] == [1, 2, 3]
        assert [e["i"] for e in timeline] == [0, 1, 2] and timeline[2]["prev_hash"] == timeline[1]["hash"]

    def test_a_taken_id_fails_the_whole_transaction(self, stores):
        p = create(stores, petition(fresh()))
        record = outbox_record(p.id)
        with pytest.raises(TransactionConflict) as clash:
            commit(
                stores,
                lambda tx: stores.petitions.stage(tx, replace(p, version=0, status="dispatched"), new=True),
                lambda tx: stores.outbox.stage_new(tx, record),
            )
        assert "petition" in clash.value.labels
        assert stores.petitions.get(p.id).status == "received"
        assert stores.outbox.get(record.id) is None  # nothing of the failed transaction was written

    def test_a_stale_version_loses_and_the_current_one_wins(self, stores):
        p = create(stores, petition(fresh()))
        commit(stores, lambda tx: stores.petitions.stage(tx, replace(p, status="dispatched"), new=False))
        with pytest.raises(TransactionConflict) as clash:
            commit(stores, lambda tx: stores.petitions.stage(tx, replace(p, status="merged"), new=False))
        assert clash.value.labels == ["petition"]
        now = stores.petitions.get(p.id)
        assert (now.status, now.version) == ("dispatched", 2)

    def test_an_event_number_is_written_once(self, stores):
        p = create(stores, petition(fresh()), n_events=2)
        with pytest.raises(TransactionConflict) as clash:
            commit(stores, lambda tx: stores.petitions.stage_events(tx, p.id, events(1, first=2)))
        assert clash.value.labels == ["event"]
        assert len(stores.petitions.timeline(p.id)) == 2

    # --- petition reads ---------------------------------------------------------------------------------

    def test_pages_merge_partitions_newest_first_without_repeats_or_gaps(self, stores):
        a, b = fresh("ch-"), fresh("ch-")
        made = []
        for i in range(7):
            p = petition(fresh(), at=T0 + timedelta(minutes=i), channel=a if i % 3 else b)
            made.append(create(stores, p))
        want = [p.id for p in sorted(made, key=lambda p: p.created_at, reverse=True)]
        partitions = [("channel", a), ("channel", b)]
        seen, cursor = [], {}
        while True:
            items, state = stores.petitions.page(partitions, 3, cursor)
            seen += [p.id for p in items]
            if state is None:
                break
            cursor = state
        assert seen == want

    def test_page_filters_by_status_and_due_time(self, stores):
        ch = fresh("ch-")
        open_ = create(stores, petition(fresh(), channel=ch))
        commit(stores, lambda tx: stores.petitions.stage(tx, replace(open_, status="dispatched"), new=False))
        create(stores, petition(fresh(), channel=ch, at=T0 + timedelta(minutes=1)))
        items, _ = stores.petitions.page([("channel", ch)], 10, {}, status="dispatched")
        assert [p.id for p in items] == [open_.id]

    def test_phone_and_window_reads(self, stores):
        phone, dep = fresh("h-"), fresh("dep.")
        older = create(stores, petition(fresh(), at=T0, department=dep, contact={"phone_hash": phone}))
        newer = create(
            stores,
            petition(fresh(), at=T0 + timedelta(hours=1), department=dep, contact={"phone_hash": phone}),
        )
        assert stores.petitions.by_phone(phone, 10) == [newer.id, older.id]
        assert stores.petitions.by_phone(phone, 1) == [newer.id]
        lo, hi = utc_key(iso(T0 + timedelta(minutes=30))), utc_key(iso(T0 + timedelta(hours=2)))
        assert [p.id for p in stores.petitions.received_between("department", dep, lo, hi)] == [newer.id]

    # --- outbox: the pending index, claims, marks, the attention index ------------------------------------

    def test_the_pending_index_holds_what_waits_until_it_is_marked(self, stores):
        pid = fresh()
        r = outbox_record(pid)
        later = outbox_record(pid, n=1, due=T0 + timedelta(hours=1))
        commit(
            stores, lambda tx: stores.outbox.stage_new(tx, r), lambda tx: stores.outbox.stage_new(tx, later)
        )
        due = [x.id for x in stores.outbox.due(utc_key(iso(T0))) if x.petition_id == pid]
        assert due == [r.id]
        assert stores.outbox.claim(r, utc_key(iso(T0 + timedelta(minutes=1))))
        outcome = {"status": "sent", "at": iso(T0 + timedelta(seconds=2)), "attempts": 1}
        sent = replace(stores.outbox.get(r.id), status="sent", next_attempt_at=None, outcomes=[outcome])
        assert stores.outbox.mark(sent) is True
        assert [
            x.id for x in stores.outbox.due(utc_key(iso(T0 + timedelta(hours=2)))) if x.petition_id == pid
        ] == [later.id]
        assert (stores.outbox.get(r.id).status, stores.outbox.get(r.id).outcomes) == ("sent", [outcome])

    def test_a_mark_holds_only_for_the_attempt_its_publisher_claimed(self, stores):
        r = outbox_record(fresh())
        commit(stores, lambda tx: stores.outbox.stage_new(tx, r))
        lease = utc_key(iso(T0 + timedelta(minutes=1)))
        assert stores.outbox.mark(replace(r, status="sent")) is False  # never claimed: still queued
        assert stores.outbox.claim(r, lease)
        first = stores.outbox.get(r.id)
        assert stores.outbox.claim(first, lease)  # its lease ran out: another publisher took it over
        assert stores.outbox.mark(replace(first, status="sent")) is False  # the first one's mark is refused
        second = stores.outbox.get(r.id)
        assert stores.outbox.mark(replace(second, status="sent")) is True
        assert stores.outbox.mark(replace(second, status="unconfirmed")) is False  # no longer sending
        assert (stores.outbox.get(r.id).status, stores.outbox.get(r.id).attempts) == ("sent", 2)

    def test_records_are_found_under_the_day_they_were_last_written(self, stores):
        created = T0 + timedelta(days=40, hours=13)  # 23:00 in Shanghai: its SMS waits for 08:00
        r = outbox_record(fresh(), due=created)
        commit(stores, lambda tx: stores.outbox.stage_new(tx, r))
        day = created.astimezone(SHANGHAI).date()
        assert r.id in set(stores.outbox.changed_on(day.isoformat()))
        assert stores.outbox.claim(r, utc_key(iso(created + timedelta(hours=9))))
        sent_at = iso(created + timedelta(hours=9))  # 08:00 the next day
        sent = replace(stores.outbox.get(r.id), status="sent", outcomes=[{"status": "sent", "at": sent_at}])
        assert stores.outbox.mark(sent)
        assert r.id not in set(stores.outbox.changed_on(day.isoformat()))
        assert r.id in set(stores.outbox.changed_on((day + timedelta(days=1)).isoformat()))

    def test_a_record_is_claimed_once_per_attempt(self, stores):
        r = outbox_record(fresh())
        commit(stores, lambda tx: stores.outbox.stage_new(tx, r))
        lease = utc_key(iso(T0 + timedelta(minutes=1)))
        assert stores.outbox.claim(r, lease) is True
        assert stores.outbox.claim(r, lease) is False  # the same attempt, claimed by another publisher
        claimed = stores.outbox.get(r.id)
        assert (claimed.status, claimed.attempts, claimed.next_attempt_at) == ("sending", 1, lease)
        assert stores.outbox.claim(claimed, lease) is True  # a lease that ran out is claimed anew
        assert stores.outbox.get_many([r.id])[0].attempts == 2

    def test_a_new_outbox_id_is_written_once(self, stores):
        r = outbox_record(fresh())
        commit(stores, lambda tx: stores.outbox.stage_new(tx, r))
        with pytest.raises(TransactionConflict) as clash:
            commit(stores, lambda tx: stores.outbox.stage_new(tx, r))
        assert clash.value.labels == ["outbox"]

    def test_dead_records_are_listed_for_their_district_newest_first(self, stores):
        district = fresh("d")
        a = replace(
            outbox_record(fresh()), status="dead", attention_district=district, problem="no phone number"
        )
        b = replace(
            outbox_record(fresh(), due=T0 + timedelta(minutes=5)),
            status="unconfirmed",
            attention_district=district,
        )
        for r in (a, b):
            commit(stores, lambda tx, r=r: stores.outbox.stage_new(tx, replace(r, status="queued")))
            assert stores.outbox.claim(replace(r, status="queued"), utc_key(iso(T0)))
            assert stores.outbox.mark(replace(r, attempts=1))
        listed = stores.outbox.attention(district, 10)
        assert [(x.id, x.status) for x in listed] == [(b.id, "unconfirmed"), (a.id, "dead")]
        assert listed[1].problem == "no phone number"
        assert (
            list(
                x.id for x in stores.outbox.due(utc_key(iso(T0 + timedelta(days=1)))) if x.id in (a.id, b.id)
            )
            == []
        )

    # --- timers and violations --------------------------------------------------------------------------

    def test_timers_are_in_the_due_index_only_while_a_step_is_pending(self, stores):
        pid = fresh()
        at = utc_key(iso(T0 + timedelta(minutes=7)))
        commit(stores, lambda tx: stores.timers.stage(tx, Timer(pid, at, "dispatch", 0)))
        assert [t for t in stores.timers.due(at) if t.petition_id == pid] == [Timer(pid, at, "dispatch", 0)]
        assert [t for t in stores.timers.due(utc_key(iso(T0))) if t.petition_id == pid] == []
        assert [t.petition_id for t in stores.timers.pending_from(at) if t.petition_id == pid] == [pid]
        stores.timers.put(Timer(pid))  # nothing pending: out of the index
        assert [
            t for t in stores.timers.due(utc_key(iso(T0 + timedelta(days=400)))) if t.petition_id == pid
        ] == []

    def test_violations_by_unit_and_by_district_newest_first_in_range(self, stores):
        district, unit = fresh("d"), fresh("u.")
        rows = [
            ViolationRecord(
                unit,
                f"{utc_key(iso(T0 + timedelta(days=i)))}#{fresh()}#1#0",
                district,
                "slow_handling",
                "P",
                "resolve",
                iso(T0),
            )
            for i in range(3)
        ]
        commit(stores, *[lambda tx, v=v: stores.violations.stage(tx, v) for v in rows])
        assert stores.violations.of_unit(unit, "0000", "9999~", 10) == rows[::-1]
        assert stores.violations.of_district(district, "0000", "9999~", 2) == rows[:0:-1]
        lo = utc_key(iso(T0 + timedelta(days=1)))
        assert stores.violations.of_unit(unit, lo, "9999~", 10) == rows[:0:-1]

    # --- idempotency keys -----------------------------------------------------------------------------------

    def test_an_idempotency_key_is_taken_once_unless_it_expired(self, stores):
        key = fresh("k#")
        first = Claim(key, "h1", "P1", 1000)
        commit(stores, lambda tx: stores.idempotency.stage(tx, first, reusable_after=None))
        with pytest.raises(TransactionConflict) as clash:
            commit(
                stores,
                lambda tx: stores.idempotency.stage(tx, Claim(key, "h2", "P2", 2000), reusable_after=None),
            )
        assert clash.value.labels == ["idempotency"]
        with pytest.raises(TransactionConflict):
            commit(
                stores,
                lambda tx: stores.idempotency.stage(tx, Claim(key, "h2", "P2", 2000), reusable_after=999),
            )
        commit(
            stores, lambda tx: stores.idempotency.stage(tx, Claim(key, "h3", "P3", 3000), reusable_after=1001)
        )
        assert stores.idempotency.get(key) == Claim(key, "h3", "P3", 3000)
        assert stores.idempotency.get(fresh("k#")) is None


class TestMemoryStores(StoreContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()


class TestDynamoStores(StoreContract):
    @pytest.fixture
    def stores(self, stack) -> Stores:
        return Stores.dynamo()
