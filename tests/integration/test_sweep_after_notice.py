"""The sweep keeps to the calendar operators see: after a holiday notice is loaded, nothing fires
before the due time the API shows, and everything due fires once after it.

(The sweep once built its own calendar without the loaded notices: with 1–8 January off, a
petition received on 31 December showed its dispatch due on 11 January, but the sweep fired
the whole ladder — reminder, supervision notice, violation, both chiefs — days before.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.clock import SHANGHAI, iso
from chalicelib.timing.calendar import WorkingCalendar, YearNotice

DISTRICT = "210921"  # 阜新蒙古族自治县


def clock_now(api) -> datetime:
    return datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)


def move_to(api, instant: datetime) -> None:
    assert api.post("/_local/clock", {"set": iso(instant)}).status_code == 200


def fired_for(api, pid: str) -> list[str]:
    r = api.post("/_local/sweep")
    assert r.status_code == 200, r.text
    return [
        f["type"] if f["type"] != "escalated" else f"escalated:{f['level']}"
        for f in r.json()["fired"]
        if f["petition"] == pid
    ]


def test_after_a_notice_moves_a_due_time_the_sweep_fires_nothing_before_it_and_all_once_after(api):
    # Given the eve of a year the platform has no notice for, and a petition received that morning
    year = clock_now(api).year + 1
    eve = date(year - 1, 12, 31)
    while eve.weekday() >= 5:
        eve -= timedelta(days=1)
    received = datetime(eve.year, eve.month, eve.day, 10, tzinfo=SHANGHAI)
    move_to(api, received)
    body = {
        "district": DISTRICT,
        "content": "村里自来水停了三天，老人取水困难",
        "citizen": {"phone": "13500135001"},
    }
    r = api.post("/v1/petitions", body, as_="local-hotline")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    # When the admin loads the year's notice with 1–8 January off
    notice = {
        "year": year,
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知（测试）",
        "holidays": {date(year, 1, d).isoformat(): "元旦" for d in range(1, 9)},
        "workdays": {},
    }
    loaded = api.post("/v1/admin/calendar", notice, as_="admin@210900")
    assert loaded.status_code == 200, loaded.text
    assert pid in loaded.json()["recomputed"]
    shown = api.get(f"/v1/petitions/{pid}", as_=f"dispatcher@{DISTRICT}").json()
    due = datetime.fromisoformat(shown["due_at"])
    calendar = WorkingCalendar.bundled().with_notice(YearNotice.from_dict(notice))
    assert due == calendar.add_working_seconds(received, 86400).at
    assert due.date() > date(year, 1, 8)  # past the holidays

    # Then a sweep a minute before that due time fires the reminder (75 % gone) and nothing else
    move_to(api, due - timedelta(minutes=1))
    assert fired_for(api, pid) == ["reminder"]
    timeline = api.get(f"/v1/petitions/{pid}", as_=f"supervisor@{DISTRICT}").json()["timeline"]
    assert not [e for e in timeline if e["type"] in ("violation", "supervision_notice", "escalated")]

    # and a minute after it the supervision notice with its violation, once
    move_to(api, due + timedelta(minutes=1))
    assert fired_for(api, pid) == ["supervision_notice"]
    assert fired_for(api, pid) == []
    timeline = api.get(f"/v1/petitions/{pid}", as_=f"supervisor@{DISTRICT}").json()["timeline"]
    assert [e["kind"] for e in timeline if e["type"] == "violation"] == ["slow_dispatch"]
