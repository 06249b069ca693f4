"""The grid network at work (CONTRACT §10) over HTTP against the local stack: locate, grid workers
filing within their grid, evidence uploads, resolving on the spot through review and the rating
SMS, door-knock visits, the public board."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from chalicelib.clock import SHANGHAI, get_clock, iso
from chalicelib.directory import DEMO_DIRECTORY, load_directory
from chalicelib.grid.geometry import GridIndex

pytestmark = pytest.mark.slow

ZHANGWU_WORKER = "gridworker@210922-101"  # 哈尔套镇, 彰武县
HAIZHOU_WORKER = "gridworker@210902-001"  # 解放街道, 海州区 (its 社区, 小区 and 楼栋 lie below it)
HAIZHOU_BUILDING = "210902-001-001-001-01"
PHONE = "13700137012"


@pytest.fixture(scope="module", autouse=True)
def daytime(api):
    """10:00 tomorrow in Shanghai: citizens' SMS go out at once (no quiet hours)."""
    morning = (get_clock().now().astimezone(SHANGHAI) + timedelta(days=1)).replace(hour=10, minute=0)
    assert api.post("/_local/clock", {"set": iso(morning)}).status_code == 200


def body(**over) -> dict:
    import uuid

    b = {
        "district": "210902",
        "content": f"楼道灯不亮，老人上下楼不方便（{uuid.uuid4().hex[:8]}）",
        "title": "楼道灯不亮",
        "category": "municipal.lighting",
        "citizen": {"name": "李四", "phone": PHONE},
        "location": {"address": "阳光家园小区3号楼", "grid": HAIZHOU_BUILDING},
    }
    b.update(over)
    return b


def events(api, pid: str, as_: str = "dispatcher@210902") -> list[dict]:
    return api.get(f"/v1/petitions/{pid}", as_=as_).json()["timeline"]


def upload(api, as_: str, data: bytes, content_type: str = "image/jpeg", declared: int | None = None) -> str:
    r = api.post("/v1/uploads", {"content_type": content_type, "size": declared or len(data)}, as_=as_)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["evidence"].startswith("evidence/") and out["method"] == "PUT"
    put = requests.put(out["url"], data=data, headers={"Content-Type": content_type}, timeout=10)
    assert put.status_code == 200, put.text
    return out["evidence"]


# --- locate -----------------------------------------------------------------------------------------


def test_locate_answers_each_seeded_grid_for_a_point_of_its_own_and_404_outside_fuxin(api):
    directory = load_directory(DEMO_DIRECTORY)
    index = GridIndex((a.grid, a.geometry) for a in directory.areas)
    assert len(index) == len(directory.grids) > 40
    for grid in directory.grids:
        lat, lon = index.interior_point(grid.code)
        r = api.get("/v1/grids/locate", params={"lat": lat, "lon": lon})
        assert r.status_code == 200, (grid.code, r.text)
        assert r.json()["code"] == grid.code
        assert r.json()["path"][-1] == grid.code and r.json()["district"] == grid.district
    beijing = api.get("/v1/grids/locate", params={"lat": 39.90, "lon": 116.40})
    assert beijing.status_code == 404 and beijing.json()["error"]["code"] == "not_found"
    bad = api.get("/v1/grids/locate", params={"lat": 91, "lon": 121.6})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "lat"


def test_a_petition_with_a_point_and_no_grid_gets_its_grid_at_intake(api):
    directory = load_directory(DEMO_DIRECTORY)
    index = GridIndex((a.grid, a.geometry) for a in directory.areas)
    lat, lon = index.interior_point(HAIZHOU_BUILDING)
    b = body(location={"address": "阳光家园小区3号楼", "lat": lat, "lon": lon})
    r = api.post("/v1/petitions", b, as_="local-wechat")
    assert r.status_code == 201, r.text
    [created] = [e for e in events(api, r.json()["id"]) if e["type"] == "created"]
    assert created["grid"] == HAIZHOU_BUILDING and created["grid_located"] is True


# --- grid workers file within their grid ------------------------------------------------------------------


def test_a_zhangwu_worker_filing_for_haizhou_is_refused_and_nothing_is_stored(api):
    before = api.get("/v1/petitions?district=210902&limit=100", as_="dispatcher@210902").json()["items"]
    for b in (body(), body(location=None)):
        r = api.post("/v1/grid/petitions", b, as_=ZHANGWU_WORKER)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["field"] in ("location.grid", "district")
    after = api.get("/v1/petitions?district=210902&limit=100", as_="dispatcher@210902").json()["items"]
    assert len(after) == len(before)


def test_a_worker_files_for_a_resident_in_a_grid_below_theirs(api):
    r = api.post("/v1/grid/petitions", body(), as_=HAIZHOU_WORKER)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["channel"] == "grid" and out["status"] == "received"
    [created] = [e for e in events(api, out["id"]) if e["type"] == "created"]
    assert created["actor"] == HAIZHOU_WORKER and created["grid"] == HAIZHOU_BUILDING
    # the worker reads it; a worker of another grid does not
    assert api.get(f"/v1/petitions/{out['id']}", as_=HAIZHOU_WORKER).status_code == 200
    assert api.get(f"/v1/petitions/{out['id']}", as_="gridworker@210902-002").status_code == 404
    mine = api.get("/v1/petitions?limit=100", as_=HAIZHOU_WORKER).json()["items"]
    assert out["id"] in [p["id"] for p in mine]
    theirs = api.get("/v1/petitions?limit=100", as_="gridworker@210902-002").json()["items"]
    assert out["id"] not in [p["id"] for p in theirs]


# --- evidence and the on-the-spot resolution ---------------------------------------------------------------


JPEG = b"\xff\xd8\xff\xe0" + b"0" * 2048 + b"\xff\xd9"


def test_a_worker_resolves_on_the_spot_with_a_photo_and_it_closes_through_review_with_the_rating_sms(api):
    key = upload(api, HAIZHOU_WORKER, JPEG)
    on_spot = {"reply": "已当场更换楼道灯泡，恢复照明", "evidence": [key]}
    r = api.post("/v1/grid/petitions", body(resolved_on_spot=on_spot), as_=HAIZHOU_WORKER)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["status"] == "resolved"
    kinds = [e["type"] for e in events(api, pid) if e["type"] != "notification"]
    assert kinds[:2] == ["created", "resolved_on_spot"]
    detail = api.get(f"/v1/petitions/{pid}", as_="reviewer@210902").json()
    [evidence] = detail["evidence"]
    assert evidence["key"] == key and evidence["content_type"] == "image/jpeg"
    assert requests.get(evidence["url"], timeout=10).content == JPEG
    # review, closure, and the SMS asking the citizen to rate it
    r = api.post(f"/v1/petitions/{pid}/review", {"approve": True, "note": "属实"}, as_="reviewer@210902")
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    sent = api.get("/_local/outbox", params={"to": f"+86{PHONE}"}).json()
    assert any(pid in e["message"] and ("满意" in e["message"] or "评价" in e["message"]) for e in sent), sent
    # the citizen answers the SMS: 1 satisfied
    r = api.post("/_local/sms/inbound", {"from": f"+86{PHONE}", "text": "1"})
    assert r.status_code == 200, r.text
    rated = [e for e in events(api, pid) if e["type"] == "feedback"]
    assert [e["rating"] for e in rated] == ["satisfied"]


def test_evidence_keys_are_checked_when_attached(api):
    # never issued
    bad = body(resolved_on_spot={"reply": "已处理", "evidence": ["evidence/210902/20260101/nope.jpg"]})
    r = api.post("/v1/grid/petitions", bad, as_=HAIZHOU_WORKER)
    assert r.status_code == 400 and r.json()["error"]["field"] == "evidence[0]", r.text
    # issued but never uploaded
    r = api.post("/v1/uploads", {"content_type": "image/png", "size": 100}, as_=HAIZHOU_WORKER)
    missing = r.json()["evidence"]
    r = api.post(
        "/v1/grid/petitions",
        body(resolved_on_spot={"reply": "已处理", "evidence": [missing]}),
        as_=HAIZHOU_WORKER,
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "evidence[0]"
    # uploaded, but not the size declared (the signed header's promise, checked again here)
    short = upload(api, HAIZHOU_WORKER, b"x" * 10, content_type="image/png", declared=5000)
    r = api.post(
        "/v1/grid/petitions",
        body(resolved_on_spot={"reply": "已处理", "evidence": [short]}),
        as_=HAIZHOU_WORKER,
    )
    assert r.status_code == 400 and "declared" in r.json()["error"]["message"]
    # uploaded by someone of another district
    theirs = upload(api, ZHANGWU_WORKER, JPEG)
    r = api.post(
        "/v1/grid/petitions",
        body(resolved_on_spot={"reply": "已处理", "evidence": [theirs]}),
        as_=HAIZHOU_WORKER,
    )
    assert r.status_code == 400 and "scope" in r.json()["error"]["message"]


def test_uploads_refuse_other_types_and_large_files(api):
    for b, field in (
        ({"content_type": "image/gif", "size": 100}, "content_type"),
        ({"content_type": "image/jpeg", "size": 10 * 1024 * 1024 + 1}, "size"),
        ({"content_type": "image/jpeg", "size": 0}, "size"),
    ):
        r = api.post("/v1/uploads", b, as_=HAIZHOU_WORKER)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
    assert (
        api.post("/v1/uploads", {"content_type": "image/jpeg", "size": 9}, as_="auditor@210900").status_code
        == 403
    )


# --- visits and the board ---------------------------------------------------------------------------


def test_visits_are_logged_in_the_workers_grid_and_counted_per_worker(api):
    visit = {"grid": HAIZHOU_BUILDING, "households": 12, "notes": "走访独居老人", "issues": ["3单元楼道灯"]}
    r = api.post("/v1/grid/visits", visit, as_=HAIZHOU_WORKER)
    assert r.status_code == 201, r.text
    r = api.post("/v1/grid/visits", {**visit, "households": 3}, as_="gridworker@210902-001-001")
    assert r.status_code == 201, r.text
    assert api.post("/v1/grid/visits", visit, as_=ZHANGWU_WORKER).status_code == 403
    bad = api.post("/v1/grid/visits", {**visit, "households": 0}, as_=HAIZHOU_WORKER)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "households"
    listed = api.get("/v1/grid/visits", params={"grid": "210902-001"}, as_="supervisor@210902").json()
    assert listed["per_worker"] == {HAIZHOU_WORKER: 1, "gridworker@210902-001-001": 1}
    assert listed["households"] == 15
    assert (
        api.get("/v1/grid/visits", params={"grid": "210902-001"}, as_="supervisor@210903").status_code == 404
    )
    assert api.get("/v1/grid/visits", params={"grid": "210902-001"}, as_=ZHANGWU_WORKER).status_code == 404


def test_the_public_board_shows_photos_and_masked_building_heads(api):
    board = api.get(f"/v1/grids/{HAIZHOU_BUILDING}").json()
    assert board["workers"] and all(w["photo_url"] for w in board["workers"])
    [head] = board["building_heads"]
    assert head["building"] == "阳光家园小区3号楼" and head["phone"] == "139****0101"


def test_the_exported_petitions_carry_the_grid_and_its_path(api):
    import duckdb

    r = api.post("/v1/grid/petitions", body(), as_=HAIZHOU_WORKER)
    pid = r.json()["id"]
    import time

    job = api.post("/v1/exports", as_="auditor@210900")
    assert job.status_code in (200, 202), job.text
    out = job.json()
    for _ in range(120):  # an export job (202) finishes in the background
        if out.get("location") or out.get("state") in ("done", "failed"):
            break
        time.sleep(0.5)
        out = api.get(f"/v1/exports/{out['id']}", as_="auditor@210900").json()
    where = out.get("location") or out["result"]["location"]
    [(grid, path)] = (
        duckdb.connect()
        .execute(
            f"SELECT grid, grid_path FROM read_parquet('{where}/petitions/*/*.parquet') WHERE id = ?", [pid]
        )
        .fetchall()
    )
    assert grid == HAIZHOU_BUILDING
    assert path == "210902-001/210902-001-001/210902-001-001-001/210902-001-001-001-01"
