"""A year without a State Council notice counts weekends only and marks deadlines provisional;
loading the notice recomputes open deadlines with a timeline event."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.clock import SHANGHAI, iso
from chalicelib.timing.calendar import WorkingCalendar, YearNotice


def test_loading_a_new_years_notice_recomputes_provisional_deadlines(api):
    # Given a year with no notice yet, and a petition received on its eve
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    year = max(2027, now.year + 1)
    if now >= datetime(year - 1, 12, 20, tzinfo=SHANGHAI):
        year += 1
    eve = date(year - 1, 12, 31)
    while eve.weekday() >= 5:
        eve -= timedelta(days=1)
    start = datetime(eve.year, eve.month, eve.day, 10, tzinfo=SHANGHAI)
    assert api.post("/_local/clock", {"set": iso(start)}).status_code == 200
    body = {
        "district": "210922",
        "content": "村道积雪未清，校车无法通行",
        "citizen": {"phone": "13500135000"},
    }
    r = api.post("/v1/petitions", {**body, "reported_by": first_grid_worker(api)}, as_="local-grid")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    stage = r.json()["stage"]
    assert stage["provisional"] is True  # the dispatch deadline falls in a year without a notice

    # When the admin loads that year's notice (its first two weekdays off)
    notice = {
        "year": year,
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知（测试）",
        # the first two weekdays of January: days off that move the deadline
        "holidays": {d.isoformat(): "元旦" for d in first_weekdays(year, 2)},
        "workdays": {},
    }
    assert api.post("/v1/admin/calendar", notice, as_="dispatcher@210922").status_code == 403
    r = api.post("/v1/admin/calendar", notice, as_="admin@210900")
    assert r.status_code == 200, r.text
    assert pid in r.json()["recomputed"]

    # Then the deadline moves past the holidays, is no longer provisional, and the timeline says why
    expected = (
        WorkingCalendar.bundled().with_notice(YearNotice.from_dict(notice)).add_working_seconds(start, 86400)
    )
    p = api.get(f"/v1/petitions/{pid}", as_="dispatcher@210922").json()
    # (still provisional if the eve's own year has no notice either: 2027 has none shipped)
    assert p["stage"]["provisional"] is expected.provisional
    assert datetime.fromisoformat(p["due_at"]) == expected.at
    assert p["due_at"] != stage["due_at"]
    event = [e for e in p["timeline"] if e["type"] == "deadline_recomputed"]
    assert len(event) == 1 and event[0]["old_due_at"] == stage["due_at"] and event[0]["year"] == year


def first_weekdays(year: int, n: int) -> list[date]:
    day, out = date(year, 1, 1), []
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def first_grid_worker(api) -> str:
    grids = api.get("/v1/grids?district=210922").json()["items"]
    for g in grids:
        workers = api.get(f"/v1/grids/{g['code']}").json()["workers"]
        if workers:
            return workers[0]["id"]
    raise AssertionError("no grid worker in 210922")


def test_a_bad_notice_is_refused_with_the_field_named(api):
    r = api.post(
        "/v1/admin/calendar",
        {"year": 2030, "source": "x", "holidays": {"2031-01-01": "元旦"}},
        as_="admin@210900",
    )
    assert r.status_code == 400 and r.json()["error"]["field"]
