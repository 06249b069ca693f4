"""Exports on several days: every table means one thing, so the README's auditor queries count
each petition and each violation once, however many exports have run (and three at once).

The truth comes from the API (each petition's rating, the violations listing), never from the
export itself. The stack is this module's own: its tables hold only what this module files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.audit.__main__ import connect
from chalicelib.audit.verify import verify_export
from chalicelib.clock import SHANGHAI, iso
from tests.integration.test_audit import readme_queries

DISTRICT = "210921"
DEPARTMENT = f"{DISTRICT}.housing"
DISPATCHER, HANDLER, REVIEWER = f"dispatcher@{DISTRICT}", f"handler@{DEPARTMENT}", f"reviewer@{DISTRICT}"
AUDITOR, ADMIN = "auditor@210900", "admin@210900"
SATISFIED = ("satisfied", "basically_satisfied")
OVERDUE = ("refused_order", "slow_handling")  # the first README query's kinds


def act(api, pid: str, action: str, who: str, body: dict | None = None) -> None:
    r = api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=who)
    assert r.status_code == 200, (action, r.text)


class Filer:
    """Files petitions in DISTRICT and drives them down the paths the queries count."""

    def __init__(self, api) -> None:
        self.api = api
        self.ids: list[str] = []

    def file(self, priority: str = "normal") -> str:
        body = {
            "district": DISTRICT,
            "content": f"第{len(self.ids)}件：楼道灯坏了，晚上看不见台阶",
            "category": "water",
            "priority": priority,
            "citizen": {"phone": f"1370013{len(self.ids):04d}"},
        }
        r = self.api.post("/v1/petitions", body, as_="local-hotline")
        assert r.status_code == 201, r.text
        self.ids.append(r.json()["id"])
        return self.ids[-1]

    def dispatched(self, priority: str = "normal") -> str:
        pid = self.file(priority)
        act(self.api, pid, "dispatch", DISPATCHER, {"department": DEPARTMENT})
        return pid

    def returned(self, reason: str) -> str:
        pid = self.dispatched()
        act(self.api, pid, "return", HANDLER, {"reason": reason, "note": "请重新分拨"})
        return pid

    def accepted(self, priority: str = "normal") -> str:
        pid = self.dispatched(priority)
        act(self.api, pid, "accept", HANDLER)
        return pid

    def rated(self, rating: str) -> str:
        pid = self.accepted()
        act(self.api, pid, "resolve", HANDLER, {"reply": "已更换楼道灯"})
        act(self.api, pid, "review", REVIEWER, {"approve": True})
        act(self.api, pid, "feedback", "local-hotline", {"rating": rating})
        return pid


def export(api) -> dict:
    from tests.integration.export_job import export_now

    return export_now(api, ADMIN)


def set_clock(api, instant: datetime) -> None:
    r = api.post("/_local/clock", {"set": iso(instant)})
    assert r.status_code == 200, r.text


def three_days(api) -> list[datetime]:
    """Monday, Wednesday and Friday 09:00 of one week inside one month, a few weeks ahead."""
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    day = (now + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() != 0 or day.day > 20:
        day += timedelta(days=1)
    return [day, day + timedelta(days=2), day + timedelta(days=4)]


@pytest.fixture(scope="module")
def history(api):
    """Three days, an export at the end of each, with petitions and violations between them."""
    f = Filer(api)
    days = three_days(api)
    exports = []

    set_clock(api, days[0])
    f.rated("satisfied")
    f.returned("function")  # → returned
    refuser = f.dispatched("urgent")  # 30 min to accept: the sweep files refused_order
    f.rated("dissatisfied")  # → reopened
    exports.append(export(api))

    set_clock(api, days[1])
    assert api.post("/_local/sweep").status_code == 200
    act(api, refuser, "accept", HANDLER)  # a petition exported yesterday changes today
    f.rated("basically_satisfied")
    f.returned("incomplete")
    f.accepted("urgent")  # 24 h to resolve: the sweep files slow_handling
    exports.append(export(api))

    set_clock(api, days[2])
    assert api.post("/_local/sweep").status_code == 200
    f.returned("function")
    f.rated("satisfied")
    exports.append(export(api))
    assert len({e["dt"] for e in exports}) == 3
    return {"ids": f.ids, "days": days, "exports": exports, "location": Path(exports[-1]["location"])}


def truth(api, history) -> dict:
    """What the README's three queries must answer, from the API."""
    petitions = [api.get(f"/v1/petitions/{pid}", as_=AUDITOR).json() for pid in history["ids"]]
    r = api.get(f"/v1/violations?district={DISTRICT}", as_=AUDITOR)
    assert r.status_code == 200, r.text
    violations = r.json()["items"]
    # "Last month" of the first query, for a current_date in the month after the three days
    month = history["days"][0].date().replace(day=1)
    as_of = (month + timedelta(days=32)).replace(day=1)
    lo, hi = (
        datetime.combine(month, datetime.min.time(), UTC),
        datetime.combine(as_of, datetime.min.time(), UTC),
    )
    overdue = Counter(
        (v["unit"], v["kind"])
        for v in violations
        if v["kind"] in OVERDUE and lo <= datetime.fromisoformat(v["at"]).astimezone(UTC) < hi
    )
    rated = [p for p in petitions if p["rating"] is not None]
    return {
        "as_of": as_of,
        "petitions": len(petitions),
        "violations": len(violations),
        "overdue": dict(overdue),
        "satisfaction": [(DISTRICT, sum(p["rating"] in SATISFIED for p in rated), len(rated))],
        "returns": dict(Counter(v["detail"]["reason"] for v in violations if v["kind"] == "returned")),
    }


def run_readme_queries(location: Path, as_of: date) -> list[list[tuple]]:
    """The README's queries as written, but for current_date, which the stack's clock replaces:
    DuckDB's current_date is the machine's, the data is dated on the stack's clock."""
    con = connect(location)
    return [con.execute(q.replace("current_date", f"DATE '{as_of}'")).fetchall() for q in readme_queries()]


def assert_queries_match(api, history) -> None:
    expected = truth(api, history)
    # The test proves something only if every query has something to count
    kinds = {kind for _, kind in expected["overdue"]}
    assert kinds == set(OVERDUE), expected["overdue"]
    assert expected["returns"] == {"function": 2, "incomplete": 1}
    assert expected["satisfaction"] == [(DISTRICT, 3, 4)]

    overdue, satisfaction, returns = run_readme_queries(history["location"], expected["as_of"])
    assert {(unit, kind): n for unit, kind, n in overdue} == expected["overdue"]
    assert len(overdue) == len(expected["overdue"])
    assert satisfaction == expected["satisfaction"]
    assert dict(returns) == expected["returns"] and len(returns) == len(expected["returns"])

    con = connect(history["location"])
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM petitions").fetchone() == (
        expected["petitions"],
        expected["petitions"],
    )
    assert con.execute("SELECT count(*) FROM violations").fetchone()[0] == expected["violations"]


def test_the_readme_queries_count_each_petition_and_violation_once_after_three_days(api, history):
    assert_queries_match(api, history)


def test_petitions_show_their_latest_state_once(api, history):
    con = connect(history["location"])
    for pid in history["ids"]:
        status = api.get(f"/v1/petitions/{pid}", as_=AUDITOR).json()["status"]
        assert con.execute("SELECT status FROM petitions WHERE id = ?", [pid]).fetchall() == [(status,)]


def test_every_event_and_notification_is_exported_once_and_every_chain_verifies(api, history):
    con = connect(history["location"])
    events, distinct = con.execute(
        "SELECT count(*), count(DISTINCT (petition_id, seq)) FROM events"
    ).fetchone()
    assert events == distinct > 0
    timelines = [api.get(f"/v1/petitions/{pid}", as_=ADMIN).json()["timeline"] for pid in history["ids"]]
    # The chain's events (with seq); delivery outcomes are shown among them from the outbox records
    assert events == sum(len([e for e in t if "seq" in e]) for t in timelines)
    n, ids = con.execute("SELECT count(*), count(DISTINCT id) FROM notifications").fetchone()
    assert n == ids > 0
    latest = {e["notification"]: e["status"] for t in timelines for e in t if e["type"] == "notification"}
    exported = dict(con.execute("SELECT id, status FROM notifications").fetchall())
    assert {k: exported.get(k) for k in latest} == latest  # each as its petition's timeline last shows it
    assert verify_export(history["location"]) == {}


def test_rows_sit_in_the_partition_of_their_own_day(history):
    """dt is the Shanghai day a row was created (petitions, notifications) or happened (events,
    violations): a row never moves, so no export, early or late or concurrent, can put it twice."""
    con = connect(history["location"])
    for table, column in (
        ("petitions", "created_at"),
        ("events", "occurred_at"),
        ("notifications", "created_at"),
        ("violations", "occurred_at"),
    ):
        misplaced = con.execute(
            f"SELECT count(*) FROM {table} WHERE dt <> strftime(timezone('Asia/Shanghai', "
            f"timezone('UTC', {column})), '%Y-%m-%d')"
        ).fetchone()[0]
        assert misplaced == 0, table
    days = {d.date().isoformat() for d in history["days"]}
    assert {dt for (dt,) in con.execute("SELECT DISTINCT dt FROM events").fetchall()} == days


def test_three_concurrent_exports_on_one_day_neither_fail_nor_corrupt(api, history):
    from tests.integration.export_job import start_export, wait_for

    # Three jobs started at once run at once (three threads of the stack, three invokes in AWS)
    jobs = [start_export(api, ADMIN)["id"] for _ in range(3)]
    answers = [wait_for(api, job, ADMIN) for job in jobs]
    assert [j["state"] for j in answers] == ["done", "done", "done"], answers
    assert len({tuple(sorted(j["result"]["tables"].items())) for j in answers}) == 1
    root = history["location"]
    assert not [p for p in root.rglob("*") if p.is_file() and p.suffix != ".parquet"]
    for folder in root.glob("*/dt=*"):
        assert [p.name for p in folder.iterdir()] == ["part-0.parquet"], folder
    assert_queries_match(api, history)
    assert verify_export(root) == {}
