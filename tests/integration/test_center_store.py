"""The center table's store and its in-memory fake keep the same promises (run against both):
version-checked cases and meetings (of two writers of one version, one wins), append-only case
events, cases per unit and per district within a created-key window, meetings per grid newest first."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.center import mediation as m
from chalicelib.center.meetings import Meeting
from chalicelib.clock import iso, utc_key
from chalicelib.errors import TransactionConflict
from chalicelib.runtime import Stores
from tests.fakes import memory_stores

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
PARTY = m.Party("applicant", "sealed", "王**", "sealed-phone", "139****1111")


def fresh(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def opened(unit: str, district: str, at: datetime = T0) -> m.Change:
    return m.open_case(
        id=fresh("TJ"),
        district=district,
        unit=unit,
        mediator=f"mediator@{unit}",
        kind="family",
        pre_litigation=False,
        parties=(PARTY,),
        petition=None,
        actor="desk@210902.center",
        now=at,
    )


def write(stores: Stores, *stages) -> None:
    tx = stores.database.transaction()
    for stage in stages:
        stage(tx)
    tx.commit()


class CenterContract:
    @pytest.fixture
    def stores(self) -> Stores:
        raise NotImplementedError

    def test_a_case_round_trips_with_its_events_and_a_stale_version_loses(self, stores):
        s = stores.center
        change = opened("210902.center", "210902")
        write(
            stores,
            lambda tx: s.stage_case(tx, change.case, new=True),
            lambda tx: s.stage_case_events(tx, change.case.id, change.events),
        )
        stored = s.case(change.case.id)
        assert stored == replace(change.case, version=1)
        assert [e["type"] for e in s.case_events(change.case.id)] == ["opened"]
        with pytest.raises(TransactionConflict):  # created twice
            write(stores, lambda tx: s.stage_case(tx, change.case, new=True))
        session = m.add_session(stored, T0 + timedelta(days=1), None, "mediator", T0)
        write(
            stores,
            lambda tx: s.stage_case(tx, session.case, new=False),
            lambda tx: s.stage_case_events(tx, stored.id, session.events),
        )
        with pytest.raises(TransactionConflict):  # the same version again: the other writer won
            write(stores, lambda tx: s.stage_case(tx, session.case, new=False))
        with pytest.raises(TransactionConflict):  # an event's seq is written once
            write(stores, lambda tx: s.stage_case_events(tx, stored.id, session.events))
        assert s.case(stored.id).version == 2 and len(s.case(stored.id).sessions) == 1
        assert s.case(fresh("TJ")) is None

    def test_cases_are_listed_per_unit_and_district_within_the_window(self, stores):
        s = stores.center
        unit = f"210902.c{uuid.uuid4().hex[:6]}"
        district = "210902"
        early, late = opened(unit, district, T0), opened(unit, district, T0 + timedelta(days=40))
        for c in (late, early):
            write(stores, lambda tx, c=c: s.stage_case(tx, c.case, new=True))
        assert [c.id for c in s.cases("unit", unit)] == [early.case.id, late.case.id]
        lo, hi = utc_key(iso(T0 - timedelta(days=1))), utc_key(iso(T0 + timedelta(days=30)))
        assert [c.id for c in s.cases("unit", unit, lo, hi)] == [early.case.id]
        assert early.case.id in [c.id for c in s.cases("district", district, lo, hi)]

    def test_meetings_per_grid_newest_first_and_version_checked(self, stores):
        s = stores.center
        grid = f"210902-{uuid.uuid4().hex[:6]}"
        first = Meeting(fresh("SS"), 0, grid, "210902", "2026-11-06", "停车", 12, iso(T0), "desk")
        second = replace(first, id=fresh("SS"), date="2026-11-16")
        for mt in (first, second):
            write(stores, lambda tx, mt=mt: s.stage_meeting(tx, mt, new=True))
        assert [mt.id for mt in s.meetings("grid", grid)] == [second.id, first.id]
        linked = replace(s.meeting(first.id), issues=("261106ABCDEF",))
        write(stores, lambda tx: s.stage_meeting(tx, linked, new=False))
        assert s.meeting(first.id).issues == ("261106ABCDEF",)
        with pytest.raises(TransactionConflict):
            write(stores, lambda tx: s.stage_meeting(tx, linked, new=False))


class TestMemoryCenter(CenterContract):
    @pytest.fixture
    def stores(self) -> Stores:
        return memory_stores()


class TestDynamoCenter(CenterContract):
    @pytest.fixture
    def stores(self, stack) -> Stores:
        return Stores.dynamo()
