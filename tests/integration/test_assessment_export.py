"""The year's assessment (年度考核, CONTRACT §12) is what an auditor recomputes from the exports: the
rates of each unit from the exported petitions and events (by the reference computation,
chalicelib/stats/figures.py), its violations from the exported violations, its urges and
accountability actions from the exported events — while the assessment itself reads rollups."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import duckdb

from chalicelib.audit.verify import load_events
from chalicelib.stats.figures import figures
from chalicelib.timing.calendar import WorkingCalendar
from tests.integration import petition_factory as pf
from tests.integration.export_job import export_now

DISTRICT = "210911"  # 细河区
URBAN, HOUSING = f"{DISTRICT}.urban", f"{DISTRICT}.housing"
RATES = (
    "on_time_dispatch_rate",
    "on_time_accept_rate",
    "on_time_resolve_rate",
    "resolution_rate",
    "satisfaction_rate",
    "completion_rate",
    "return_rate",
    "reopen_rate",
)


def _petition(api, category: str) -> str:
    return pf.create(api, district=DISTRICT, category=category, citizen={"phone": "13900000011"})["id"]


def _walk(api, pid: str, steps: list[tuple[str, str, dict]]) -> None:
    for action, who, body in steps:
        pf.act(api, pid, action, who, body)


def _generate(api) -> None:
    d, rv, sup = f"dispatcher@{DISTRICT}", f"reviewer@{DISTRICT}", f"supervisor@{DISTRICT}"
    hu, hh = f"handler@{URBAN}", f"handler@{HOUSING}"
    done = [("accept", hu, {}), ("resolve", hu, {"reply": "已修复"}), ("review", rv, {"approve": True})]
    a = _petition(api, "municipal.lighting")
    _walk(
        api,
        a,
        [
            ("dispatch", d, {"department": URBAN}),
            *done,
            ("feedback", "local-wechat", {"rating": "satisfied"}),
        ],
    )
    b = _petition(api, "municipal.road")
    _walk(
        api,
        b,
        [
            ("dispatch", d, {"department": URBAN}),
            ("accept", hu, {}),
            ("resolve", hu, {"reply": "已处理"}),
            ("review", rv, {"approve": False, "note": "未说明结果"}),  # 乱办
            ("resolve", hu, {"reply": "已修补路面，附照片"}),
            ("review", rv, {"approve": True}),
            ("feedback", "local-wechat", {"rating": "dissatisfied"}),  # 重办
        ],
    )
    c = _petition(api, "property.repair")
    _walk(api, c, [("dispatch", d, {"department": URBAN}), ("return", hu, {"reason": "function"})])
    e = _petition(api, "property.repair")
    _walk(
        api,
        e,
        [
            ("dispatch", d, {"department": HOUSING}),
            ("accept", hh, {}),
            ("resolve", hh, {"reply": "已协调物业维修"}),
            ("review", rv, {"approve": True}),
            ("feedback", "local-wechat", {"rating": "basically_satisfied"}),
        ],
    )
    _petition(api, "municipal.lighting")  # still waiting for dispatch
    f = _petition(api, "municipal.lighting")
    _walk(api, f, [("dispatch", d, {"department": HOUSING}), ("accept", hh, {})])
    pf.act(api, f, "urge", sup, {"kind": "reminder", "note": "请抓紧"})
    pf.act(api, f, "urge", sup, {"kind": "supervision", "note": "请今日办结"})
    newest = api.get("/v1/violations", params={"unit": URBAN}, as_=sup).json()["items"][0]
    for kind in ("interview", "remind"):
        r = api.post(f"/v1/violations/{newest['id']}/actions", {"kind": kind}, as_=sup)
        assert r.status_code == 201, r.text


def test_the_years_assessment_equals_what_the_exports_recompute(api):
    _generate(api)
    root = export_now(api)["location"]
    con = duckdb.connect()
    petitions = con.execute(
        f"SELECT id, status, channel, category, department, district "
        f"FROM read_parquet('{root}/petitions/dt=*/*.parquet') WHERE district = ?",
        [DISTRICT],
    ).fetchall()
    timelines = load_events(Path(root))
    rows = []
    for pid, status, channel, category, department, district in petitions:
        events = timelines[pid]
        p = SimpleNamespace(
            id=pid,
            status=status,
            stage=None,  # nothing in this district ran overdue: no stage counts as late while open
            created_at=events[0]["at"],
            channel=channel,
            category=category,
            department=department,
            district=district,
        )
        rows.append((p, events))
    reference = figures(rows, WorkingCalendar.bundled())["by_department"]
    violations: defaultdict[str, Counter] = defaultdict(Counter)
    for unit, kind in con.execute(
        f"SELECT unit, kind FROM read_parquet('{root}/violations/dt=*/*.parquet') WHERE district = ?",
        [DISTRICT],
    ).fetchall():
        violations[unit][kind] += 1
    actions: defaultdict[str, Counter] = defaultdict(Counter)
    urges: defaultdict[str, Counter] = defaultdict(Counter)
    for events in timelines.values():
        for e in events:
            if e["type"] == "accountability":
                actions[e["unit"]][e["kind"]] += 1
            elif e["type"] == "urged":
                urges[e["to"]][e["kind"]] += 1

    year = int(timelines[petitions[0][0]][0]["at"][:4])
    out = api.get("/v1/assessments", params={"year": year, "district": DISTRICT}, as_="auditor@210900")
    assert out.status_code == 200, out.text
    units = {u["unit"]: u for u in out.json()["units"]}
    for unit in (URBAN, HOUSING):
        got = units[unit]
        assert {k: got["figures"][k] for k in RATES} == {k: reference[unit][k] for k in RATES}, unit
        assert got["figures"]["received"] == reference[unit]["received"]
        assert got["violations"] == dict(violations[unit]), unit
        assert got["actions"] == dict(actions[unit]), unit
        assert got["urges"] == dict(urges[unit]), unit
    # the scenario exercised what it compares
    assert units[URBAN]["violations"] == {"returned": 1, "reopened": 1, "sloppy_handling": 1}
    assert units[URBAN]["actions"] == {"interview": 1, "remind": 1}
    assert units[HOUSING]["urges"] == {"reminder": 1, "supervision": 1}
    assert reference[URBAN]["satisfaction_rate"]["denominator"] == 2
    assert units[URBAN]["rank"] and units[HOUSING]["rank"] and units[HOUSING]["score"] > units[URBAN]["score"]
    # and the exports carry the assessment itself (年度考核, a snapshot a day) for the auditors
    exported = {
        unit: (score, rank, json.loads(acts))
        for unit, score, rank, acts in con.execute(
            f"SELECT unit, score, rank, actions FROM read_parquet('{root}/assessments/dt=*/*.parquet') "
            "WHERE district = ? AND year = ?",
            [DISTRICT, year],
        ).fetchall()
    }
    assert set(exported) == set(units)
    for unit, u in units.items():
        assert exported[unit] == (u["score"], u.get("rank"), u["actions"]), unit
