"""The grid feature's pure parts: the geometry index, the loader's checks of the polygons, and the
claim pool's rules (whistle, claim, the fallback at claim_within and not a minute before)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.auth.identity import OPERATOR, Identity
from chalicelib.clock import iso, parse_instant
from chalicelib.directory import DEMO_DIRECTORY, DirectoryError, load_directory
from chalicelib.errors import Conflict, Forbidden
from chalicelib.grid.geometry import GridIndex, index_for
from chalicelib.grid.pool import pool_writes, resolve_on_spot
from chalicelib.petitions import domain
from chalicelib.petitions.domain import Env
from chalicelib.sla.ladder import fire_due, next_due
from chalicelib.timing.calendar import WorkingCalendar
from chalicelib.timing.policy import Policy

SH = ZoneInfo("Asia/Shanghai")
DIRECTORY = load_directory(DEMO_DIRECTORY)
POLICY = Policy.bundled()
CALENDAR = WorkingCalendar.bundled()


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


# --- geometry ----------------------------------------------------------------------------------------------


def test_locate_answers_the_smallest_grid_holding_the_point():
    index = GridIndex(
        [
            ("street", square(0, 0, 10, 10)),
            ("community", square(1, 1, 5, 5)),
            ("building", square(2, 2, 3, 3)),
        ]
    )
    assert index.locate(lat=2.5, lon=2.5) == "building"
    assert index.locate(lat=4, lon=4) == "community"
    assert index.locate(lat=8, lon=8) == "street"
    assert index.locate(lat=11, lon=5) is None
    assert index.locate(lat=5, lon=1) == "community"  # on a boundary: covered, so inside


def test_an_empty_index_finds_nothing():
    assert GridIndex([]).locate(42.0, 121.65) is None


def test_every_seeded_grid_answers_for_a_point_of_its_own_and_the_index_is_cached_per_directory():
    index = index_for(DIRECTORY)
    assert index is index_for(DIRECTORY)
    assert len(index) == len(DIRECTORY.grids)
    for grid in DIRECTORY.grids:
        assert index.locate(*index.interior_point(grid.code)) == grid.code
    assert index.locate(39.9, 116.4) is None  # Beijing


def test_the_seeded_polygons_are_what_the_script_writes():
    from tools.make_grid_geojson import GEO, build

    for name, text in build().items():
        assert (GEO / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run tools/make_grid_geojson.py"
        )


# --- the loader's checks ----------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIRECTORY, target)
    return target


def _edit(folder, district: str, code: str, geometry: dict) -> None:
    path = folder / "geo" / f"{district}.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for f in doc["features"]:
        if f["properties"]["code"] == code:
            f["geometry"] = geometry
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_a_child_outside_its_parent_is_refused_naming_the_file_and_the_feature(folder):
    _edit(folder, "210902", "210902-001-001", square(100, 10, 101, 11))
    with pytest.raises(DirectoryError) as err:
        load_directory(folder)
    assert err.value.file == "geo/210902.geojson"
    assert "210902-001-001" in str(err.value) and "not inside its parent" in str(err.value)


def test_overlapping_siblings_are_refused(folder):
    # 五龙街道 grown over 解放街道 (still holding its own community): siblings that overlap
    features = json.loads((folder / "geo" / "210902.geojson").read_text(encoding="utf-8"))["features"]
    rings = [
        f["geometry"]["coordinates"][0]
        for f in features
        if f["properties"]["code"] in ("210902-001", "210902-002")
    ]
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    _edit(folder, "210902", "210902-002", square(min(xs), min(ys), max(xs), max(ys)))
    with pytest.raises(DirectoryError) as err:
        load_directory(folder)
    assert "overlaps its sibling" in str(err.value) and err.value.file == "geo/210902.geojson"


def test_a_grid_without_a_polygon_is_refused(folder):
    path = folder / "geo" / "210922.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"] = doc["features"][1:]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DirectoryError, match="no polygon for grid"):
        load_directory(folder)


def test_a_feature_in_another_districts_file_is_refused(folder):
    src = json.loads((folder / "geo" / "210922.geojson").read_text(encoding="utf-8"))
    dst_path = folder / "geo" / "210903.geojson"
    dst = json.loads(dst_path.read_text(encoding="utf-8"))
    dst["features"].append(src["features"][0])
    dst_path.write_text(json.dumps(dst), encoding="utf-8")
    with pytest.raises(DirectoryError) as err:
        load_directory(folder)
    assert err.value.file == "geo/210903.geojson" and "a grid of 210922" in str(err.value)


def test_grid_workers_are_users_scoped_to_their_grid_and_its_district():
    user = DIRECTORY.user("gridworker@210922-101-001")
    assert (user.role, user.grid, user.district) == ("grid_worker", "210922-101-001", "210922")
    assert {u.scope for u in DIRECTORY.users if u.role == "grid_worker"} == {g.code for g in DIRECTORY.grids}
    assert DIRECTORY.grid_covers("210922-101", "210922-101-001-001")
    assert not DIRECTORY.grid_covers("210922-101-001", "210922-101")


# --- the claim pool's rules -------------------------------------------------------------------------------


def env_at(now: datetime) -> Env:
    return Env(now=now, directory=DIRECTORY, policy=POLICY, calendar=CALENDAR)


def operator(name: str) -> Identity:
    user = DIRECTORY.user(name)
    return Identity(
        kind=OPERATOR,
        name=user.username,
        role=user.role,
        district=user.district,
        department=user.department,
        grid=user.grid,
    )


def new(now: datetime, district: str = "210905", grid: str | None = "210905-001-001") -> domain.Petition:
    outcome = domain.new_petition(
        id="FZ0000009",
        channel="grid",
        district=district,
        content="供暖管道漏水，楼下住户受影响",
        env=env_at(now),
        identity=operator("gridworker@210905-001"),
        priority="normal",
        title="供暖管道漏水",
        category="municipal",
        anonymous=False,
        contact={"phone_hash": "h", "phone_masked": "136****6005", "phone_tail": "6005", "phone_sealed": "s"},
        location={"grid": grid} if grid else None,
        channel_ref=None,
        reported_by="gridworker@210905-001",
    )
    assert outcome.events[0]["grid"] == grid
    return outcome.petition


def act(p, action: str, who: str, payload: dict, now: datetime):
    return domain.apply(p, action, operator(who), payload, env_at(now))


def test_a_whistle_posts_it_with_a_claim_clock_of_four_working_hours():
    now = datetime(2026, 11, 27, 22, 0, tzinfo=SH)  # a Friday evening: 2 working hours left that day
    o = act(new(now), "whistle", "gridworker@210905-001", {"note": "需要部门报到"}, now)
    p = o.petition
    assert p.status == "posted" and p.stage.name == "claim" and p.stage.running
    assert parse_instant(p.stage.due_at) == datetime(2026, 11, 30, 2, 0, tzinfo=SH)  # Monday 02:00
    assert o.events[0]["type"] == "whistled" and o.events[0]["claim_due"] == p.stage.due_at
    assert o.events[0]["stage"] == "dispatch"  # a whistle ends the dispatch stage, like a dispatch
    [pool] = [n for n in o.notifications if n["kind"] == "pool"]
    assert pool["topic"] == "orders" and pool["attributes"]["district"] == "210905"
    assert pool_writes(p, o.events)[0][0] == "open"


def test_whistle_is_the_grid_workers_of_that_grid_or_the_districts_dispatcher():
    now = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    with pytest.raises(Forbidden):
        act(new(now), "whistle", "gridworker@210905-002", {"note": "x"}, now)
    with pytest.raises(Forbidden):
        act(new(now), "whistle", "dispatcher@210902", {"note": "x"}, now)
    assert act(new(now), "whistle", "dispatcher@210905", {"note": "x"}, now).petition.status == "posted"


def test_any_handler_of_the_district_claims_it_and_the_resolve_clock_starts():
    posted_at = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    p = act(new(posted_at), "whistle", "dispatcher@210905", {"note": "x"}, posted_at).petition
    later = posted_at + timedelta(minutes=90)
    assert domain.can_see(operator("handler@210905.housing"), p, DIRECTORY)
    assert not domain.can_see(operator("handler@210902.housing"), p, DIRECTORY)
    with pytest.raises(Forbidden):
        act(p, "claim", "handler@210902.housing", {}, later)
    o = act(p, "claim", "handler@210905.housing", {}, later)
    assert (o.petition.status, o.petition.department) == ("accepted", "210905.housing")
    assert o.petition.stage.name == "resolve" and o.petition.stage.started_at == iso(later)
    assert o.events[0]["claim_seconds"] == 90 * 60
    # the figures read completions from events: the claim stage ended, in time
    assert (o.events[0]["stage"], o.events[0]["on_time"]) == ("claim", True)
    [(status, at, doc)] = pool_writes(o.petition, o.events)
    assert (status, at, doc["department"]) == ("claimed", iso(posted_at), "210905.housing")
    # claimed now: another department's handler no longer sees it, and claiming again is refused
    assert not domain.can_see(operator("handler@210905.urban"), o.petition, DIRECTORY)
    with pytest.raises(Forbidden):
        act(o.petition, "claim", "handler@210905.urban", {}, later)
    with pytest.raises(Conflict):
        act(o.petition, "claim", "handler@210905.housing", {}, later)


def test_unclaimed_it_passes_to_the_center_at_claim_within_and_not_a_minute_before():
    posted_at = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    p = act(new(posted_at), "whistle", "gridworker@210905-001", {"note": "x"}, posted_at).petition
    due = parse_instant(p.stage.due_at)
    assert due == posted_at + timedelta(hours=4)
    # 75%: a reminder to the district's pool, nothing else
    reminder = fire_due(p, env_at(posted_at + timedelta(hours=3)))
    assert [e["type"] for e in reminder.events] == ["reminder"] and reminder.petition.status == "posted"
    p = reminder.petition
    assert next_due(p, env_at(due)) == due
    assert fire_due(p, env_at(due - timedelta(minutes=1))) is None
    o = fire_due(p, env_at(due))
    assert (o.petition.status, o.petition.department) == ("accepted", "210905.center")
    assert [e["type"] for e in o.events] == ["fallback_assigned", "supervision_notice"]
    assert o.events[1]["supervisor"] == "supervisor@210905"
    assert o.petition.stage.name == "resolve" and o.petition.stage.running
    kinds = {(n["topic"], n["kind"]) for n in o.notifications}
    assert {("supervision", "supervision_notice"), ("orders", "pool"), ("orders", "new_order")} <= kinds
    assert pool_writes(o.petition, o.events)[0][0] == "fallback"
    assert fire_due(o.petition, env_at(due)) is None  # fired once


def test_resolving_on_the_spot_adds_its_event_to_the_new_petitions_outcome():
    now = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    outcome = domain.new_petition(
        id="FZ0000010",
        channel="grid",
        district="210905",
        content="楼道灯不亮，老人上下楼不方便",
        env=env_at(now),
        identity=operator("gridworker@210905-001"),
        priority="normal",
        title=None,
        category=None,
        anonymous=True,
        contact={},
        location={"grid": "210905-001"},
        channel_ref=None,
        reported_by="gridworker@210905-001",
    )
    o = resolve_on_spot(
        outcome, operator("gridworker@210905-001"), "已更换灯泡", ["evidence/k.jpg"], env_at(now)
    )
    assert [e["type"] for e in o.events] == ["created", "resolved_on_spot"]
    assert o.petition.status == "resolved" and not o.petition.stage.running and o.petition.department is None
    assert o.events[1]["evidence"] == ["evidence/k.jpg"] and o.events[1]["grid"] == "210905-001"
    # reviewed back, it goes to dispatch like a desk's answer
    back = act(o.petition, "review", "reviewer@210905", {"approve": False, "note": "未解决"}, now)
    assert back.petition.status == "received" and back.petition.stage.name == "dispatch"
