"""调解 figures over a seeded month (CONTRACT §11): GET /v1/stats/mediation reproduces, exactly,
the numerators and denominators of the cases made, per center, mediator and kind, with the
court's pre-litigation mediation (诉前调解) apart, and the triage routes of the month."""

from __future__ import annotations

import pytest

from tests.integration.petition_factory import petition_body

CENTER = "mediator@210902.center"
COURT = "mediator@210902.court"
DESK = "desk@210902.center"
PARTIES = [{"name": "赵六", "phone": "13700001234", "role": "applicant"}]

# (mediator, kind, outcome or None = still open)
MARCH = [
    (CENTER, "family", "agreement"),
    (CENTER, "family", "failed"),
    (CENTER, "neighbour", "agreement"),
    (CENTER, "neighbour", "withdrawn"),
    (CENTER, "labour", "agreement"),
    (CENTER, "labour", None),
    (COURT, "contract", "agreement"),
    (COURT, "contract", "agreement"),
    (COURT, "contract", "failed"),
]


def make_case(api, mediator: str, kind: str, outcome: str | None) -> str:
    body = {"kind": kind, "parties": PARTIES, "mediator": mediator, "pre_litigation": mediator == COURT}
    r = api.post("/v1/mediations", body, as_=mediator)
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    if outcome:
        extra = {"agreement": "双方达成一致"} if outcome == "agreement" else {}
        r = api.post(f"/v1/mediations/{case}/outcome", {"result": outcome, **extra}, as_=mediator)
        assert r.status_code == 200, r.text
    return case


@pytest.fixture(scope="module")
def seeded(api):
    assert api.post("/_local/clock", {"set": "2027-03-02T10:00:00+08:00"}).status_code == 200
    for mediator, kind, outcome in MARCH:
        make_case(api, mediator, kind, outcome)
    for route in ("mediation", "mediation", "dispatch"):
        r = api.post("/v1/desk/petitions", petition_body(), as_=DESK)
        assert r.status_code == 201, r.text
        assert (
            api.post(f"/v1/petitions/{r.json()['id']}/triage", {"route": route}, as_=DESK).status_code == 200
        )
    # April: outside the window
    assert api.post("/_local/clock", {"set": "2027-04-06T10:00:00+08:00"}).status_code == 200
    make_case(api, CENTER, "family", "agreement")


def month(api, who: str, **params) -> dict:
    r = api.get("/v1/stats/mediation", params={"from": "2027-03-01", "to": "2027-03-31", **params}, as_=who)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_month_reproduces_its_numerators_and_denominators(api, seeded):
    out = month(api, "supervisor@210902", district="210902")
    total = out["mediation"]["total"]
    assert (total["cases"], total["concluded"], total["agreements"]) == (6, 5, 3)
    assert total["success_rate"] == {"value": 0.6, "numerator": 3, "denominator": 5}
    kinds = {
        k: (v["success_rate"]["numerator"], v["success_rate"]["denominator"])
        for k, v in out["mediation"]["by_kind"].items()
    }
    assert kinds == {"family": (1, 2), "neighbour": (1, 2), "labour": (1, 1)}
    assert set(out["mediation"]["by_center"]) == {"210902.center"}
    assert out["mediation"]["by_mediator"][CENTER]["cases"] == 6
    pre = out["pre_litigation"]
    assert pre["total"]["success_rate"] == {"value": 0.6667, "numerator": 2, "denominator": 3}
    assert set(pre["by_center"]) == {"210902.court"}
    assert out["triage"] == {"mediation": 2, "dispatch": 1}


def test_a_mediator_sees_only_their_own_units_figures(api, seeded):
    out = month(api, COURT)
    assert out["mediation"]["total"]["cases"] == 0
    assert out["pre_litigation"]["total"]["cases"] == 3
    assert month(api, CENTER)["pre_litigation"]["total"]["cases"] == 0


def test_the_window_and_the_scope_are_checked(api, seeded):
    april = api.get(
        "/v1/stats/mediation", params={"from": "2027-04-01", "to": "2027-04-30"}, as_=CENTER
    ).json()
    assert april["mediation"]["total"]["cases"] == 1
    r = api.get("/v1/stats/mediation", params={"district": "210903"}, as_="supervisor@210902")
    assert r.status_code == 404
    r = api.get("/v1/stats/mediation", params={"from": "2027-03-31", "to": "2027-03-01"}, as_=CENTER)
    assert r.status_code == 400 and r.json()["error"]["field"] == "to"
    assert api.get("/v1/stats/mediation", as_="handler@210902.urban").status_code == 403
