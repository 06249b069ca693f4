"""Figures and audit: /v1/stats from events, Parquet read by DuckDB, the hash chain, no phone in clear."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from chalicelib.audit.__main__ import connect
from chalicelib.audit.verify import verify_export
from chalicelib.clock import SHANGHAI, iso

DISTRICT = "210921"  # 阜新蒙古族自治县: only this suite files petitions here
# A mainland mobile in clear (optionally +86), not a run of digits inside a hex hash.
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")


def act(api, pid, action, who, body=None):
    r = api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=who)
    assert r.status_code == 200, (action, r.text)


@pytest.fixture(scope="module")
def scenario(api, caplog_module):
    """Five petitions through different paths; returns their ids and the window."""
    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    day = (now + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert api.post("/_local/clock", {"set": iso(day)}).status_code == 200
    ids = []
    for i in range(5):
        body = {
            "district": DISTRICT,
            "content": f"第{i}组：村里自来水浑浊发黄，已持续三天",
            "category": "water",
            "citizen": {"name": "李四", "phone": f"1590015900{i}"},
        }
        r = api.post("/v1/petitions", body, as_="local-wechat")
        assert r.status_code == 201
        ids.append(r.json()["id"])
    h, d, rv = f"handler@{DISTRICT}.housing", f"dispatcher@{DISTRICT}", f"reviewer@{DISTRICT}"
    for pid in ids[:4]:
        act(api, pid, "dispatch", d, {"department": f"{DISTRICT}.housing"})
    act(api, ids[3], "return", h, {"reason": "function", "note": "应由供水公司办理"})
    for pid in ids[:3]:
        act(api, pid, "accept", h)
        act(api, pid, "resolve", h, {"reply": "已协调供水公司冲洗管网，水质恢复"})
        act(api, pid, "review", rv, {"approve": True})
    act(api, ids[0], "feedback", "local-wechat", {"rating": "satisfied"})
    act(api, ids[1], "feedback", "local-wechat", {"rating": "dissatisfied"})
    from tests.integration.export_job import export_now

    return {"ids": ids, "day": day.date().isoformat(), "location": export_now(api)["location"]}


@pytest.fixture(scope="module")
def caplog_module():
    """Every log record emitted while the scenario runs (the log side of 'no phone in clear')."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old)


def test_stats_counts_the_scenario(api, scenario):
    r = api.get(
        f"/v1/stats?district={DISTRICT}&from={scenario['day']}&to={scenario['day']}", as_="chief@210900"
    )
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    assert total["received"] == 5
    # closed: one rated satisfied and one awaiting its rating; the dissatisfied one is reopened (重办)
    assert total["closed"] == 2
    assert total["satisfaction_rate"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert total["return_rate"] == {"value": 0.25, "numerator": 1, "denominator": 4}
    assert total["reopen_rate"] == {"value": round(1 / 3, 4), "numerator": 1, "denominator": 3}
    assert total["resolution_rate"] == {"value": 1.0, "numerator": 2, "denominator": 2}
    assert set(r.json()["by_department"]) == {f"{DISTRICT}.housing"}


def test_stats_are_scoped(api, scenario):
    r = api.get(f"/v1/stats?district={DISTRICT}", as_="supervisor@210902")
    assert r.status_code == 404
    r = api.get("/v1/stats", as_="local-wechat")
    assert r.status_code == 403


def test_the_export_read_by_duckdb_gives_the_same_figures(api, scenario):
    con = connect(Path(scenario["location"]))
    ids = tuple(scenario["ids"])
    received, closed = con.execute(
        "SELECT count(*), sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) "
        f"FROM petitions WHERE id IN {ids}"
    ).fetchone()
    rated, satisfied = con.execute(
        "SELECT count(*), sum(CASE WHEN json_extract_string(data, '$.rating') "
        "IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END) "
        f"FROM events WHERE type = 'feedback' AND petition_id IN {ids}"
    ).fetchone()
    returned = con.execute(
        f"SELECT count(DISTINCT petition_id) FROM events WHERE type = 'returned' AND petition_id IN {ids}"
    ).fetchone()[0]
    stats = api.get(
        f"/v1/stats?district={DISTRICT}&from={scenario['day']}&to={scenario['day']}", as_="chief@210900"
    ).json()["total"]
    assert (received, closed) == (stats["received"], stats["closed"])
    assert (satisfied, rated) == (
        stats["satisfaction_rate"]["numerator"],
        stats["satisfaction_rate"]["denominator"],
    )
    assert returned == stats["return_rate"]["numerator"]
    assert con.execute(
        f"SELECT reason FROM violations WHERE kind = 'returned' AND petition_id IN {ids}"
    ).fetchall() == [("function",)]


def test_verify_names_an_edited_and_a_removed_event(scenario, tmp_path):
    src = Path(scenario["location"])
    assert verify_export(src) == {}
    copy = tmp_path / "exports"
    shutil.copytree(src, copy)
    # Every event of the scenario happened on its day, so it lies in that day's partition
    [events_file] = list(copy.glob(f"events/dt={scenario['day']}/*.parquet"))
    victim, other = scenario["ids"][0], scenario["ids"][2]
    # An auditor-hostile edit: change one reply; and drop one event of another petition
    duckdb.connect().execute(
        f"COPY (SELECT * REPLACE (CASE WHEN petition_id = '{victim}' AND type = 'resolved' "
        f"THEN replace(data, '水质恢复', '已处理') ELSE data END AS data) "
        f"FROM read_parquet('{events_file}') WHERE NOT (petition_id = '{other}' AND seq = 3)) "
        f"TO '{tmp_path / 'edited.parquet'}' (FORMAT parquet)"
    )
    shutil.move(tmp_path / "edited.parquet", events_file)
    breaks = verify_export(copy)
    assert set(breaks) == {victim, other}
    assert any("edited" in b for b in breaks[victim])
    assert any("seq 4: expected seq 3" in b for b in breaks[other])


def test_no_phone_number_in_clear_in_exports_logs_or_operator_payloads(api, scenario, caplog_module):
    con = connect(Path(scenario["location"]))
    for table in ("petitions", "events", "notifications", "violations"):
        text = " ".join(str(v) for row in con.execute(f"SELECT * FROM {table}").fetchall() for v in row)
        assert not PHONE.search(text), f"a phone number in clear in the {table} export"
    assert caplog_module, "the scenario logged nothing: the log check would prove nothing"
    for record in caplog_module:
        assert not PHONE.search(record.getMessage()), record.getMessage()
    for who in ("supervisor@210921", "auditor@210900", f"handler@{DISTRICT}.housing"):
        body = api.get(f"/v1/petitions/{scenario['ids'][0]}", as_=who).text
        assert not PHONE.search(body), who
        assert "159****9000" in body  # 15900159000, masked


def readme_queries() -> list[str]:
    """The three auditor queries of README.md's "Exports for auditors", as auditors read them."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Exports for auditors", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    queries = [q.strip() for q in block.split(";") if "SELECT" in q]
    assert len(queries) == 3
    return queries


def test_the_readme_auditor_queries_run_on_the_local_export(scenario):
    queries = readme_queries()
    con = connect(Path(scenario["location"]))
    results = [con.execute(q).fetchall() for q in queries]
    assert ("210921", 1, 2) in results[1]  # satisfaction by district: 1 satisfied of 2 rated
    # returns by reason: the same count as the returned events say (other suites return too)
    by_events = con.execute(
        "SELECT count(*) FROM events "
        "WHERE type = 'returned' AND json_extract_string(data, '$.reason') = 'function'"
    ).fetchone()[0]
    assert by_events >= 1 and ("function", by_events) in results[2]
