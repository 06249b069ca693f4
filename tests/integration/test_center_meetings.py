"""逢六说事 (CONTRACT §11) over HTTP: a grid's meeting, its issues become petitions (channel
``meeting``) linked to it, and the meeting counts how many were solved that day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.petition_factory import petition_body

GRID = "210902-001-001"  # 光明社区
DESK = "desk@210902.center"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def today(api) -> str:
    """Working hours in Shanghai, the next day at 10:00: the meeting is held today."""
    current = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    target = (current + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    assert api.post("/_local/clock", {"set": target.isoformat()}).status_code == 200
    return target.date().isoformat()


def test_a_meetings_two_issues_become_two_linked_petitions_one_solved_that_day(api, today):
    # Given a 逢六说事 meeting of 光明社区, recorded by the center's desk
    r = api.post(
        "/v1/meetings", {"grid": GRID, "date": today, "topic": "小区停车难", "attendees": 23}, as_=DESK
    )
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert (meeting["grid"], meeting["district"], meeting["issues"]) == (GRID, "210902", [])
    # When two issues are raised there
    ids = []
    for text in ("小区门口乱停车堵住消防通道", "楼道里堆放杂物无人清理"):
        body = petition_body()
        body["content"] = body["content"].replace("小区门口路灯坏了一个月，晚上出行很不方便", text)
        r = api.post(f"/v1/meetings/{meeting['id']}/issues", body, as_=DESK)
        assert r.status_code == 201, r.text
        p = r.json()
        assert (p["channel"], p["channel_ref"]) == ("meeting", f"meeting:{meeting['id']}")
        assert p["location"]["grid"] == GRID
        ids.append(p["id"])
    assert len(set(ids)) == 2
    # and the desk answers the first on the spot (即办)
    r = api.post(f"/v1/petitions/{ids[0]}/answer", {"reply": "已联系物业当场清理消防通道"}, as_=DESK)
    assert r.status_code == 200, r.text
    # Then the grid's meetings list both petitions, one solved that day
    listed = api.get("/v1/meetings", params={"grid": GRID}, as_="dispatcher@210902").json()["items"]
    (found,) = [m for m in listed if m["id"] == meeting["id"]]
    assert [i["petition"] for i in found["issues"]] == ids
    assert [i["solved_that_day"] for i in found["issues"]] == [True, False]
    assert found["solved_that_day"] == 1


def test_meetings_are_held_and_read_only_in_scope(api, today):
    body = {"grid": GRID, "date": today, "topic": "垃圾分类", "attendees": 5}
    assert api.post("/v1/meetings", body, as_="desk@210903.center").status_code == 403
    assert api.post("/v1/meetings", body, as_="handler@210902.urban").status_code == 403
    r = api.post("/v1/meetings", {**body, "grid": "nowhere"}, as_=DESK)
    assert r.status_code == 400 and r.json()["error"]["field"] == "grid"
    r = api.post("/v1/meetings", {**body, "attendees": 0}, as_=DESK)
    assert r.status_code == 400 and r.json()["error"]["field"] == "attendees"
    assert api.get("/v1/meetings", params={"grid": GRID}, as_="dispatcher@210903").status_code == 404
    r = api.post("/v1/meetings", body, as_="dispatcher@210902")
    assert r.status_code == 201, r.text
    issue = petition_body(district="210903")
    r = api.post(f"/v1/meetings/{r.json()['id']}/issues", issue, as_=DESK)
    assert r.status_code == 400 and r.json()["error"]["field"] == "district"
    assert api.post("/v1/meetings/SS000000000000/issues", petition_body(), as_=DESK).status_code == 404


def test_a_grid_worker_holds_meetings_in_their_grid_and_below_only(api, today):
    body = {"grid": GRID, "date": today, "topic": "楼道照明", "attendees": 9}
    r = api.post("/v1/meetings", body, as_="gridworker@210902-001")  # the street's worker, above 光明社区
    assert r.status_code == 201, r.text
    assert api.post("/v1/meetings", body, as_="gridworker@210902-001-001-001").status_code == 403  # below it
    r = api.post(f"/v1/meetings/{r.json()['id']}/issues", petition_body(), as_="gridworker@210902-001-001")
    assert r.status_code == 201 and r.json()["channel"] == "meeting", r.text
    listed = api.get("/v1/meetings", params={"grid": GRID}, as_="gridworker@210902-001-001").json()["items"]
    assert any(m["topic"] == "楼道照明" and len(m["issues"]) == 1 for m in listed)
