"""The petitions table's listing indexes project only what a listing filters on (issue 17: a write
then costs an index a unit when a filtered attribute changes, not the whole ~2 KB item every time).

What must hold for that to stay invisible: the models and infra/template.yaml declare the same
indexes; every filter a listing applies reads an attribute its index carries; and the readers
fetch whole, current petitions in the index's order, across partitions, pages and batches.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.clock import iso, utc_key
from chalicelib.petitions import repository
from chalicelib.petitions.models import EventItem, PetitionItem
from chalicelib.runtime import Stores
from chalicelib.timing.policy import CALENDAR_SECONDS
from chalicelib.timing.stage import StageClock
from tests.integration import petition_factory as pf
from tests.integration.test_store_contract import T0, commit, create, fresh, petition

ROOT = Path(__file__).resolve().parents[2]
LISTING_FILTERS = {"status", "district", "department", "due_at"}  # PetitionRepository.page's filters


def template_indexes(resource: str) -> dict[str, dict]:
    from cfnlint.decode import decode_str

    template, _ = decode_str((ROOT / "infra" / "template.yaml").read_text(encoding="utf-8"))
    gsis = template["Resources"][resource]["Properties"]["GlobalSecondaryIndexes"]
    return {
        g["IndexName"]: {
            "keys": {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]},
            "projection": g["Projection"]["ProjectionType"],
            "non_key": sorted(g["Projection"].get("NonKeyAttributes", [])),
        }
        for g in gsis
    }


def model_indexes(model) -> dict[str, dict]:
    out = {}
    for index in model._indexes.values():
        schema = index._get_schema()
        projection = schema["projection"]
        out[schema["index_name"]] = {
            "keys": {k["AttributeName"]: k["KeyType"] for k in schema["key_schema"]},
            "projection": projection["ProjectionType"],
            "non_key": sorted(projection.get("NonKeyAttributes", [])),
        }
    return out


@pytest.mark.parametrize("model, resource", [(PetitionItem, "PetitionsTable"), (EventItem, "EventsTable")])
def test_the_models_and_the_template_declare_the_same_indexes(model, resource):
    """The template provisions moto and the cloud; the models are what the code believes."""
    assert model_indexes(model) == template_indexes(resource)


def test_every_listing_index_carries_what_a_listing_filters_on_and_not_the_item():
    for name, index in template_indexes("PetitionsTable").items():
        if name == "by_phone":
            assert index["projection"] == "KEYS_ONLY"  # read for ids only (citizen.service, notify.inbound)
            continue
        assert index["projection"] == "INCLUDE", name
        assert LISTING_FILTERS <= set(index["keys"]) | set(index["non_key"]), name
        assert "doc" not in index["non_key"], name


# --- the DynamoDB readers (moto applies a query's filter to the projected entry, as DynamoDB does) ------


@pytest.fixture
def stores(stack) -> Stores:
    return Stores.dynamo()


def whole(pid: str, at, channel: str, **kw):
    """A petition with the parts no index carries: a stage clock, the first inquiry, a location."""
    stage = StageClock(
        name="dispatch",
        unit=CALENDAR_SECONDS,
        budget=86400,
        started_at=iso(at),
        due_at=iso(at + timedelta(days=1)),
    )
    return petition(
        pid,
        at=at,
        channel=channel,
        stage=stage,
        first_inquiry={"unit": "210902.desk", "by": "desk@210902"},
        location={"grid": "210902.g1", "address": "解放大街1号"},
        **kw,
    )


def test_a_filtered_page_across_partitions_is_whole_current_petitions_newest_first(stores):
    # Given nine petitions in two channels, every third one dispatched (a change after creation)
    a, b = fresh("ch-"), fresh("ch-")
    made = []
    for i in range(9):
        p = create(stores, whole(fresh(), T0 + timedelta(minutes=i), a if i % 2 else b))
        if i % 3 == 0:
            commit(
                stores, lambda tx, p=p: stores.petitions.stage(tx, replace(p, status="dispatched"), new=False)
            )
        made.append(stores.petitions.get(p.id))
    want = [p for p in sorted(made, key=lambda p: p.created_at, reverse=True) if p.status == "dispatched"]

    # When the dispatched ones are paged two at a time over both channels
    seen, cursor = [], {}
    while True:
        items, state = stores.petitions.page([("channel", a), ("channel", b)], 2, cursor, status="dispatched")
        assert len(items) <= 2
        seen += items
        if state is None:
            break
        cursor = state

    # Then they come newest first, once each, whole and at their current version
    assert [p.id for p in seen] == [p.id for p in want] and len(want) == 3
    assert seen == want
    assert all(p.version == 2 and p.stage.due_at and p.first_inquiry["unit"] for p in seen)


def test_a_change_of_a_filtered_attribute_moves_the_petition_between_listings(stores):
    ch = fresh("ch-")
    p = create(stores, whole(fresh(), T0, ch))
    assert [x.id for x in stores.petitions.page([("channel", ch)], 5, {}, status="received")[0]] == [p.id]

    commit(stores, lambda tx: stores.petitions.stage(tx, replace(p, status="accepted"), new=False))

    assert stores.petitions.page([("channel", ch)], 5, {}, status="received")[0] == []
    (now,), _ = stores.petitions.page([("channel", ch)], 5, {}, status="accepted")
    assert (now.id, now.status, now.version) == (p.id, "accepted", 2)


def test_the_other_filters_read_the_index_entry(stores):
    # Given one department's petitions in two districts, one with its stage due before the cut
    dep = fresh("dep.")
    early = create(stores, whole(fresh(), T0, "wechat", department=dep, district="210902"))
    create(stores, whole(fresh(), T0 + timedelta(minutes=1), "wechat", department=dep, district="210903"))
    late_due = StageClock(
        name="resolve",
        unit=CALENDAR_SECONDS,
        budget=30 * 86400,
        started_at=iso(T0),
        due_at=iso(T0 + timedelta(days=30)),
    )
    create(
        stores, replace(whole(fresh(), T0 + timedelta(minutes=2), "wechat", department=dep), stage=late_due)
    )
    cut = utc_key(iso(T0 + timedelta(days=2)))

    by_district = stores.petitions.page([("department", dep)], 10, {}, district="210902")[0]
    overdue = stores.petitions.page([("department", dep)], 10, {}, due_before=cut)[0]

    assert {p.district for p in by_district} == {"210902"} and len(by_district) == 2
    assert [p.id for p in overdue] == [
        p.id
        for p in stores.petitions.page([("department", dep)], 10, {})[0]
        if p.stage.due_at < iso(T0 + timedelta(days=2))
    ]
    assert early.id in [p.id for p in overdue] and len(overdue) == 2


def test_a_window_longer_than_a_batch_reads_every_petition_whole_and_in_order(stores):
    # Given more petitions of one department than one BatchGetItem returns
    dep = fresh("dep.")
    made = [
        create(stores, whole(fresh(), T0 + timedelta(seconds=i), "wechat", department=dep))
        for i in range(repository.FETCH_BATCH + 3)
    ]
    lo, hi = utc_key(iso(T0)), utc_key(iso(T0 + timedelta(hours=1)))

    got = list(stores.petitions.received_between("department", dep, lo, hi))

    assert got == made  # oldest first, each whole (equality covers the doc, the version, the stage)


# --- through the API ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


def test_a_city_listing_by_status_shows_each_petition_as_reading_it_does(api):
    # Given petitions in three districts, some dispatched to a department
    dispatched = []
    for district in ("210902", "210905", "210911", "210902", "210905", "210911"):
        assert api.post("/_local/clock", {"advance_seconds": 2}).status_code == 200
        pid = pf.create(api, as_="local-walkin", district=district)["id"]
        if district != "210911":
            pf.act(api, pid, "dispatch", f"dispatcher@{district}", {"department": f"{district}.urban"})
            dispatched.append(pid)
    pf.settle(api)

    # When the city's chief lists the dispatched ones, two a page, across the eight districts
    listed = pf.list_all(api, "chief@210900", limit=2, status="dispatched")

    # Then ours are there newest first, and each is what reading that petition shows (less the
    # timeline and the evidence links, which only a reading adds)
    ours = [p for p in listed if p["id"] in dispatched]
    assert [p["id"] for p in ours] == dispatched[::-1]
    for p in ours:
        read = pf.read(api, p["id"], as_="chief@210900")
        del read["timeline"], read["evidence"]
        assert p == read
        assert p["status"] == "dispatched" and p["department"].endswith(".urban")
