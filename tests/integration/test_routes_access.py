"""Every route × every kind of caller: 401 for missing or wrong credentials, 403 for a caller
whose kind or role may not use the route, and neither for those who may (they get 200, or a
400/404 about the empty body or the made-up id, never a refusal of who they are).

The petition actions have their own, finer table (test_petitions_roles.py: scope and state).
Here one row per remaining route, written out by hand; a route added without a row fails
``test_the_table_covers_every_route``.
"""

from __future__ import annotations

import pytest

import app  # noqa: F401 - registers the routes
from chalicelib.api.http import REGISTRY

pytestmark = pytest.mark.slow

CALLERS = {
    "none": None,
    "bad_key": "local-nobody",
    "bad_token": "bearer-garbage",
    "channel": "local-hotline",
    "dispatcher": "dispatcher@210902",
    "handler": "handler@210902.urban",
    "reviewer": "reviewer@210902",
    "supervisor": "supervisor@210902",
    "chief": "chief@210902",
    "auditor": "auditor@210900",
    "admin": "admin@210900",
    "desk": "desk@210902.center",
    "citizen": "citizen:13900139999",
}

# ok: the caller is let through (any answer but 401/403).
# columns: none bad_key bad_token channel dispatcher handler reviewer supervisor chief auditor admin
#          desk citizen
TABLE = """
GET  /v1/me                 401 401 401 403 ok  ok  ok  ok  ok  ok  ok  ok  403
GET  /v1/petitions          401 401 401 ok  ok  ok  ok  ok  ok  ok  ok  ok  403
POST /v1/petitions          401 401 401 ok  403 403 403 403 403 403 403 403 403
GET  /v1/petitions/{id}     401 401 401 ok  ok  ok  ok  ok  ok  ok  ok  ok  403
GET  /v1/violations         401 401 401 403 ok  ok  ok  ok  ok  ok  ok  403 403
GET  /v1/violations/{id}    401 401 401 403 ok  ok  ok  ok  ok  ok  ok  403 403
POST /v1/violations/{id}/actions 401 401 401 403 403 403 403 ok ok 403 403 403 403
GET  /v1/board              401 401 401 403 403 403 403 403 ok  403 403 403 403
GET  /v1/assessments        401 401 401 403 403 403 403 ok  ok  ok  ok  403 403
GET  /v1/stats              401 401 401 403 ok  ok  ok  ok  ok  ok  ok  ok  403
GET  /v1/notifications/attention 401 401 401 403 403 403 403 ok ok ok ok 403 403
POST /v1/exports            401 401 401 403 403 403 403 403 403 ok  ok  403 403
GET  /v1/exports/{id}       401 401 401 403 403 403 403 403 403 ok  ok  403 403
POST /v1/admin/calendar     401 401 401 403 403 403 403 403 403 403 ok  403 403
POST /v1/desk/petitions     401 401 401 403 403 403 403 403 403 403 403 ok  403
POST /v1/citizen/petitions  401 401 401 403 403 403 403 403 403 403 403 403 ok
GET  /v1/citizen/petitions  401 401 401 403 403 403 403 403 403 403 403 403 ok
GET  /v1/citizen/petitions/{id} 401 401 401 403 403 403 403 403 403 403 403 403 ok
POST /v1/citizen/petitions/{id}/feedback 401 401 401 403 403 403 403 403 403 403 403 403 ok
POST /v1/mediations         401 401 401 403 ok  403 403 403 403 403 403 ok  403
GET  /v1/mediations         401 401 401 403 ok  403 ok  ok  ok  ok  ok  ok  403
GET  /v1/mediations/{id}    401 401 401 403 ok  403 ok  ok  ok  ok  ok  ok  403
POST /v1/mediations/{id}/sessions 401 401 401 403 403 403 403 403 403 403 403 403 403
POST /v1/mediations/{id}/outcome 401 401 401 403 403 403 403 403 403 403 403 403 403
GET  /v1/stats/mediation    401 401 401 403 ok  403 ok  ok  ok  ok  ok  ok  403
POST /v1/meetings           401 401 401 403 ok  403 403 403 403 403 403 ok  403
GET  /v1/meetings           401 401 401 403 ok  ok  ok  ok  ok  ok  ok  ok  403
POST /v1/meetings/{id}/issues 401 401 401 403 ok 403 403 403 403 403 403 ok  403
POST /v1/cases/typical      401 401 401 403 403 403 403 ok  403 403 ok  403 403
GET  /v1/cases/typical      401 401 401 403 403 403 403 ok  ok  403 ok  403 403
POST /v1/cases/typical/{id}/unmark 401 401 401 403 403 403 403 ok 403 403 ok 403 403
POST /v1/broadcasts/estimate 401 401 401 403 403 403 403 403 403 403 ok  403 403
POST /v1/broadcasts         401 401 401 403 403 403 403 403 403 403 ok  403 403
GET  /v1/broadcasts         401 401 401 403 403 403 403 403 403 403 ok  403 403
GET  /v1/broadcasts/{id}    401 401 401 403 403 403 403 403 403 403 ok  403 403
GET  /v1/hotspots           401 401 401 403 ok  403 403 ok  ok  ok  ok  403 403
POST /v1/hotspots/{id}/case 401 401 401 403 ok  403 403 403 403 403 403 403 403
POST /v1/reports            401 401 401 403 403 403 403 ok  ok  403 ok  403 403
GET  /v1/reports            401 401 401 403 403 403 403 ok  ok  ok  ok  403 403
POST /v1/grid/petitions     401 401 401 403 403 403 403 403 403 403 403 403 403
POST /v1/grid/visits        401 401 401 403 403 403 403 403 403 403 403 403 403
GET  /v1/grid/visits        401 401 401 403 ok  403 403 ok  ok  ok  ok  403 403
POST /v1/uploads            401 401 401 403 ok  ok  403 403 403 403 403 ok  403
GET  /v1/pool               401 401 401 403 ok  ok  403 ok  403 403 403 403 403
GET  /v1/stats/grid         401 401 401 403 ok  403 403 ok  ok  ok  ok  403 403
"""

ROWS = {}
for line in TABLE.strip().splitlines():
    method, path, *cells = line.split()
    ROWS[(method, path)] = dict(zip(CALLERS, cells, strict=True))

# The grid worker (网格员, CONTRACT §10), a column of its own: one cell per route of the table above.
GRID_WORKER = "gridworker@210902-001-001-001-01"
GRID_WORKER_TABLE = """
GET  /v1/me ok
POST /v1/petitions 403
GET  /v1/petitions ok
GET  /v1/petitions/{id} ok
GET  /v1/violations 403
GET  /v1/violations/{id} 403
POST /v1/violations/{id}/actions 403
GET  /v1/board 403
GET  /v1/assessments 403
GET  /v1/stats ok
GET  /v1/notifications/attention 403
POST /v1/exports 403
GET  /v1/exports/{id} 403
POST /v1/admin/calendar 403
POST /v1/desk/petitions 403
POST /v1/citizen/petitions 403
GET  /v1/citizen/petitions 403
GET  /v1/citizen/petitions/{id} 403
POST /v1/citizen/petitions/{id}/feedback 403
POST /v1/cases/typical 403
GET  /v1/cases/typical 403
POST /v1/cases/typical/{id}/unmark 403
POST /v1/broadcasts/estimate 403
POST /v1/broadcasts 403
GET  /v1/broadcasts 403
GET  /v1/broadcasts/{id} 403
GET  /v1/hotspots 403
POST /v1/hotspots/{id}/case 403
POST /v1/reports 403
GET  /v1/reports 403
POST /v1/mediations 403
GET  /v1/mediations 403
GET  /v1/mediations/{id} 403
POST /v1/mediations/{id}/sessions 403
POST /v1/mediations/{id}/outcome 403
GET  /v1/stats/mediation 403
POST /v1/meetings ok
GET  /v1/meetings ok
POST /v1/meetings/{id}/issues ok
POST /v1/grid/petitions ok
POST /v1/grid/visits ok
GET  /v1/grid/visits ok
POST /v1/uploads ok
GET  /v1/pool ok
GET  /v1/stats/grid 403
"""
GRID_WORKER_CELLS = {
    (method, path): cell
    for method, path, cell in (line.split() for line in GRID_WORKER_TABLE.strip().splitlines())
}
CALLERS["grid_worker"] = GRID_WORKER
for _route, _cells in ROWS.items():
    if _route in GRID_WORKER_CELLS:
        _cells["grid_worker"] = GRID_WORKER_CELLS[_route]

# The mediator (调解员, CONTRACT §11), a column of its own: one cell per route of the table above.
MEDIATOR = "mediator@210902.center"
MEDIATOR_TABLE = """
GET  /v1/me ok
POST /v1/petitions 403
GET  /v1/petitions ok
GET  /v1/petitions/{id} ok
GET  /v1/violations 403
GET  /v1/violations/{id} 403
POST /v1/violations/{id}/actions 403
GET  /v1/board 403
GET  /v1/assessments 403
GET  /v1/stats ok
GET  /v1/notifications/attention 403
POST /v1/exports 403
GET  /v1/exports/{id} 403
POST /v1/admin/calendar 403
POST /v1/desk/petitions 403
POST /v1/citizen/petitions 403
GET  /v1/citizen/petitions 403
GET  /v1/citizen/petitions/{id} 403
POST /v1/citizen/petitions/{id}/feedback 403
POST /v1/cases/typical 403
GET  /v1/cases/typical 403
POST /v1/cases/typical/{id}/unmark 403
POST /v1/broadcasts/estimate 403
POST /v1/broadcasts 403
GET  /v1/broadcasts 403
GET  /v1/broadcasts/{id} 403
GET  /v1/hotspots 403
POST /v1/hotspots/{id}/case 403
POST /v1/reports 403
GET  /v1/reports 403
POST /v1/mediations ok
GET  /v1/mediations ok
GET  /v1/mediations/{id} ok
POST /v1/mediations/{id}/sessions ok
POST /v1/mediations/{id}/outcome ok
GET  /v1/stats/mediation ok
POST /v1/meetings 403
GET  /v1/meetings ok
POST /v1/meetings/{id}/issues 403
POST /v1/grid/petitions 403
POST /v1/grid/visits 403
GET  /v1/grid/visits 403
POST /v1/uploads ok
GET  /v1/pool 403
GET  /v1/stats/grid 403
"""
MEDIATOR_CELLS = {
    (method, path): cell
    for method, path, cell in (line.split() for line in MEDIATOR_TABLE.strip().splitlines())
}
CALLERS["mediator"] = MEDIATOR
for _route, _cells in ROWS.items():
    if _route in MEDIATOR_CELLS:
        _cells["mediator"] = MEDIATOR_CELLS[_route]


def _is_action(path: str) -> bool:
    return path.startswith("/v1/petitions/{id}/")  # the citizen's own feedback route has a row here


def test_the_table_covers_every_route():
    guarded = {
        (op.method, op.path)
        for op in REGISTRY
        if not op.audience.public and not _is_action(op.path) and not op.path.startswith("/_local/")
    }
    assert guarded == set(ROWS), "every non-public route needs a row here"
    missing = sorted(set(ROWS) - set(GRID_WORKER_CELLS))
    assert not missing, f"every route needs a grid worker cell in GRID_WORKER_TABLE: {missing}"
    missing = sorted(set(ROWS) - set(MEDIATOR_CELLS))
    assert not missing, f"every route needs a mediator cell in MEDIATOR_TABLE: {missing}"


@pytest.fixture(scope="module")
def send(api):
    def go(method: str, path: str, caller: str):
        as_ = CALLERS[caller]
        url = path.replace("{id}", "260101AAAAAA")
        if as_ == "bearer-garbage":
            return api.session.request(
                method, api.url + url, headers={"Authorization": "Bearer not.a.token"}, timeout=60
            )
        return api.get(url, as_=as_) if method == "GET" else api.post(url, {}, as_=as_)

    return go


@pytest.mark.parametrize("route", list(ROWS), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_caller_is_refused_or_let_through_as_the_table_says(send, route):
    method, path = route
    seen, wrong = {}, {}
    for caller, expected in ROWS[route].items():
        r = send(method, path, caller)
        seen[caller] = r.status_code
        if expected == "ok":
            if r.status_code in (401, 403):
                wrong[caller] = (r.status_code, r.text)
        elif r.status_code != int(expected):
            wrong[caller] = (r.status_code, r.text)
        elif r.json()["error"]["code"] != {"401": "unauthenticated", "403": "forbidden"}[expected]:
            wrong[caller] = (r.status_code, r.text)
    assert not wrong, (seen, wrong)


@pytest.mark.parametrize("route", [op for op in REGISTRY if op.audience.public and not op.local_only])
def test_public_routes_answer_without_credentials(api, route):
    path = route.path.replace("{code}", "210902-001-001-001-01").replace("{id}", "260101AAAAAA")
    r = api.get(path) if route.method == "GET" else api.post(path, {})
    assert r.status_code not in (401, 403), (route.path, r.status_code, r.text)


def test_me_names_the_operator_and_their_scope(api):
    r = api.get("/v1/me", as_="handler@210902.urban")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "user": "handler@210902.urban",
        "role": "handler",
        "display_name": r.json()["display_name"],
        "district": "210902",
        "department": "210902.urban",
    }
    assert r.json()["display_name"]
    chief = api.get("/v1/me", as_="chief@210900").json()
    assert (chief["role"], chief["district"], chief["department"]) == ("chief", "210900", None)


def test_signin_on_the_local_stage_offers_seeded_operators(api):
    r = api.get("/v1/signin")
    assert r.status_code == 200
    assert r.json()["stage"] == "local" and r.json()["local_tokens"] is True
