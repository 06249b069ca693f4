"""The walking skeleton through HTTP: health, directory, local controls, auth errors, OpenAPI."""

from __future__ import annotations

from datetime import datetime

import pytest


def test_health_answers_ok(api):
    r = api.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_districts_are_the_eight_of_fuxin(api):
    codes = {d["code"] for d in api.get("/v1/directory/districts").json()["items"]}
    assert codes == {"210900", "210902", "210903", "210904", "210905", "210911", "210921", "210922"}


@pytest.mark.parametrize("district", ["210902", "210921", "210900"])
def test_every_district_has_the_contract_departments(api, district):
    r = api.get(f"/v1/directory/departments?district={district}")
    assert r.status_code == 200
    codes = {d["code"] for d in r.json()["items"]}
    for slug in ("housing", "urban", "market", "hrss", "civil", "police", "justice"):
        assert f"{district}.{slug}" in codes
    assert all(d["district"] == district for d in r.json()["items"])


def test_unknown_district_is_named_as_the_bad_field(api):
    r = api.get("/v1/directory/departments?district=210999")
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "district"
    r = api.get("/v1/grids?district=abc")
    assert r.status_code == 400 and r.json()["error"]["field"] == "district"


def test_categories_carry_the_taxonomy(api):
    items = api.get("/v1/categories").json()["items"]
    codes = {c["code"] for c in items}
    assert {"municipal", "sanitation", "heating", "labor", "family", "other"} <= codes
    assert "municipal.lighting" in codes


def test_grid_board_is_public_and_unknown_grid_is_404(api):
    grids = api.get("/v1/grids?district=210902").json()["items"]
    assert grids, "the demo set has grids in 海州区"
    boards = [api.get(f"/v1/grids/{g['code']}").json() for g in grids]
    with_workers = [b for b in boards if b["workers"]]
    assert with_workers, "some grid in 海州区 shows its workers"
    worker = with_workers[0]["workers"][0]
    assert worker["name"] and worker["duties"] and worker["supervision_phone"]
    r = api.get("/v1/grids/nope-000")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_clock_moves_forward_only(api):
    before = datetime.fromisoformat(api.get("/_local/clock").json()["now"])
    after = datetime.fromisoformat(api.post("/_local/clock", {"advance_seconds": 600}).json()["now"])
    assert (after - before).total_seconds() >= 600
    r = api.post("/_local/clock", {"set": "2001-01-01T00:00:00+08:00"})
    assert r.status_code == 409
    r = api.post("/_local/clock", {"advance_seconds": -5})
    assert r.status_code == 400 and r.json()["error"]["field"] == "advance_seconds"
    r = api.post("/_local/clock", {})
    assert r.status_code == 400


def test_token_for_a_seeded_operator_and_404_for_a_stranger(api):
    r = api.post("/_local/token", {"user": "handler@210902.housing"})
    assert r.status_code == 200 and r.json()["role"] == "handler"
    r = api.post("/_local/token", {"user": "nobody@210902"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "user"


def test_sweep_answers_a_summary(api):
    r = api.post("/_local/sweep")
    assert r.status_code == 200
    assert set(r.json()) >= {"now", "fired", "summary"}


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"\xff\xfe not utf-8", "body"),
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"user": 5}', "user"),
        (b'{"user": "x", "extra": 1}', "extra"),
        (b'{"user": ""}', "user"),
    ],
)
def test_bad_bodies_answer_the_error_shape(api, raw, field):
    r = api.post("/_local/token", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "invalid_input" and body["field"] == field and body["message"]


def test_oversize_body_is_413(api):
    r = api.post(
        "/_local/token",
        data=b'{"user": "' + b"a" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_openapi_is_a_valid_3_1_document(api):
    from openapi_spec_validator import validate

    doc = api.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    assert "/v1/grids/{code}" in doc["paths"]
    assert "/_local/clock" in doc["paths"], "the local stage documents its controls"


def test_an_operator_token_survives_moving_the_clock(api):
    # Given a token taken now (the README's order: token first, then move the clock a day)
    token = api.post("/_local/token", {"user": "dispatcher@210902"}).json()["token"]
    assert api.post("/_local/clock", {"advance_seconds": 3 * 86400}).status_code == 200
    # Then the session still works: expiry runs on real time, not the scenario clock
    r = api.session.get(api.url + "/v1/petitions", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
