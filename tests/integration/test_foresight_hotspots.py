"""未诉先办 over HTTP: eight quiet weeks raise no hotspot; a burst in one grid × category opens one,
notified (kind ``hotspot``) to the department and the supervisor; a dispatcher opens a proactive
case into which the burst and later matching petitions are merged, and when it closes every
citizen gets the closure SMS."""

from __future__ import annotations

import pytest

from tests.integration.petition_factory import ADMIN, create

HOT_GRID = "210902-001-001"  # 光明社区
QUIET_GRID = "210902-002-001"  # 五龙社区
CATEGORY = "municipal.lighting"
DISPATCHER = "dispatcher@210902"
START = "2027-01-04T02:00:00Z"  # a Monday, 10:00 in Shanghai
WEEK = 7 * 86400


def act(api, pid: str, action: str, as_: str, body: dict | None = None) -> dict:
    for _ in range(5):  # 409 "changed meanwhile": the publisher wrote an event in between; reload, retry
        r = api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=as_)
        if r.status_code != 409 or r.json()["error"]["code"] != "conflict":
            break
    assert r.status_code == 200, (action, r.status_code, r.text)
    return r.json()


def petition(api, grid: str | None, phone: str, category: str = CATEGORY, content: str | None = None) -> str:
    extra = {"content": content} if content else {}
    return create(
        api,
        category=category,
        citizen={"name": "测试", "phone": phone},
        location={"address": "海州区", **({"grid": grid} if grid else {})},
        **extra,
    )["id"]


def detect(api) -> dict:
    r = api.post("/_local/hotspots", {"district": "210902"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def weeks(api):
    """Eight quiet weeks: one petition a week in each grid."""
    assert api.post("/_local/clock", {"set": START}).status_code == 200
    for week in range(8):
        petition(api, HOT_GRID, f"1370000{week:04d}")
        petition(api, QUIET_GRID, f"1370001{week:04d}")
        assert detect(api)["opened"] == [], week
        api.post("/_local/clock", {"advance_seconds": WEEK})


def test_quiet_weeks_raise_none_and_a_burst_opens_one_hotspot(api, weeks):
    # When six people of one community report the same thing within two days
    burst = [petition(api, HOT_GRID, f"1390000{i:04d}") for i in range(6)]
    api.post("/_local/clock", {"advance_seconds": 86400})
    result = detect(api)
    # Then one hotspot opens, for that grid and category only
    assert len(result["opened"]) == 1, result
    hotspots = api.get("/v1/hotspots", as_=DISPATCHER, params={"district": "210902"}).json()["items"]
    [h] = [h for h in hotspots if h["status"] == "open"]
    assert (h["grid"], h["category"], h["department"]) == (HOT_GRID, CATEGORY, "210902.urban")
    assert h["count"] >= 6 and h["events"][0]["type"] == "opened"
    # notified to the department (orders) and the supervisor (supervision), kind hotspot
    topics = [e for e in api.get("/_local/outbox").json() if e["kind"] == "topic"]
    notices = [e for e in topics if (e.get("attributes") or {}).get("kind") == "hotspot"]
    assert len(notices) == 2, notices
    assert {n["attributes"].get("department") for n in notices} >= {"210902.urban"}
    assert all("热点预警" in n["message"] for n in notices)
    # a second run opens nothing new
    assert detect(api)["opened"] == []
    # scope: another district's dispatcher does not see it, a supervisor does
    assert api.get("/v1/hotspots", as_="dispatcher@210903").json()["items"] == []
    assert api.get("/v1/hotspots", as_="supervisor@210902").json()["items"]
    assert api.get("/v1/hotspots", as_="dispatcher@210903", params={"district": "210902"}).status_code == 404
    pytest.burst = (h["id"], burst)


def test_a_proactive_case_absorbs_matching_petitions_and_every_citizen_is_called_back(api, weeks):
    hotspot, burst = pytest.burst
    # only a dispatcher of the district opens the case
    assert api.post(f"/v1/hotspots/{hotspot}/case", {}, as_="supervisor@210902").status_code == 403
    assert api.post(f"/v1/hotspots/{hotspot}/case", {}, as_="dispatcher@210903").status_code == 404
    r = api.post(f"/v1/hotspots/{hotspot}/case", {}, as_=DISPATCHER)
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["status"] == "case_opened" and h["case"]
    case = h["case"]
    assert set(burst) <= set(h["merged"])
    assert api.post(f"/v1/hotspots/{hotspot}/case", {}, as_=DISPATCHER).status_code == 409
    # a later petition of the same grid and category is merged by the next run; another grid's is not
    later = petition(api, HOT_GRID, "13911110000")
    elsewhere = petition(
        api, QUIET_GRID, "13911110001", content="五龙社区路口的路灯杆被车撞歪了，存在安全隐患"
    )
    # the same complaint in nearly the same words, filed with no grid and another category: near duplicate
    same_words = petition(
        api,
        None,
        "13911110002",
        category="municipal.road",
        content="小区门口路灯坏了一个月，晚上出行很不方便啊",
    )
    assert detect(api)["merged"] == 2
    assert api.get(f"/v1/petitions/{later}", as_=ADMIN).json()["merged_into"] == case
    assert api.get(f"/v1/petitions/{same_words}", as_=ADMIN).json()["merged_into"] == case
    assert api.get(f"/v1/petitions/{elsewhere}", as_=ADMIN).json()["status"] == "received"
    # When the proactive case is handled and closed
    act(api, case, "dispatch", DISPATCHER, {"department": "210902.urban", "note": "热点统一处置"})
    act(api, case, "accept", "handler@210902.urban")
    act(api, case, "resolve", "handler@210902.urban", {"reply": "光明社区路灯线路已整体更换"})
    act(api, case, "review", "reviewer@210902", {"approve": True, "note": "属实"})
    api.post("/_local/sweep")
    # Then every citizen of a merged petition gets the closure SMS with the one outcome
    merged = api.get(f"/v1/petitions/{case}", as_=ADMIN).json()["merged"]
    assert set(burst) | {later, same_words} <= set(merged)
    for i, pid in enumerate(burst):
        sms = api.get("/_local/outbox", params={"to": f"+861390000{i:04d}"}).json()
        closures = [e["message"] for e in sms if "路灯线路已整体更换" in e["message"]]
        assert len(closures) == 1, (pid, sms)
    for phone in ("+8613911110000", "+8613911110002"):
        sms = api.get("/_local/outbox", params={"to": phone}).json()
        assert len([e for e in sms if "路灯线路已整体更换" in e["message"]]) == 1, phone
    sms = api.get("/_local/outbox", params={"to": "+8613911110001"}).json()
    assert not [e for e in sms if "路灯线路已整体更换" in e["message"]]


def test_a_hotspot_cools_when_its_week_is_quiet_again(api, weeks):
    hotspot, _ = pytest.burst
    api.post("/_local/clock", {"advance_seconds": 8 * 86400})
    result = detect(api)
    assert hotspot in result["cooled"]
    [h] = [h for h in api.get("/v1/hotspots", as_=DISPATCHER).json()["items"] if h["id"] == hotspot]
    assert h["status"] == "cooled" and [e["type"] for e in h["events"]][-1] == "cooled"
    assert detect(api)["cooled"] == []  # once
