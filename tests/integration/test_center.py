"""The service center (CONTRACT §11) over HTTP against the local stack: the center and its units,
triage at the window, mediation cases with their SMS and the linked petition, scope and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.petition_factory import petition_body

DISTRICT = "210902"
DESK = "desk@210902.center"
MEDIATOR = "mediator@210902.center"
COURT_MEDIATOR = "mediator@210902.court"
DISPATCHER = "dispatcher@210902"
REVIEWER = "reviewer@210902"
PARTIES = [
    {"name": "王大妈", "phone": "13900001111", "role": "applicant"},
    {"name": "李师傅", "phone": "+8613900002222", "role": "respondent"},
]


@pytest.fixture(scope="module", autouse=True)
def daytime(api):
    """Working hours in Shanghai (10:00 the next day): the parties' SMS leave at once, not at 08:00."""
    shanghai = ZoneInfo("Asia/Shanghai")
    current = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(shanghai)
    target = (current + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    assert api.post("/_local/clock", {"set": target.isoformat()}).status_code == 200


def walk_in(api, **overrides) -> str:
    body = petition_body(content=None, category="family", **overrides)
    body["content"] = petition_body()["content"].replace("路灯", "邻居装修噪音")
    r = api.post("/v1/desk/petitions", body, as_=DESK)
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "walkin" and r.json()["first_inquiry"]["unit"] == "210902.center"
    return r.json()["id"]


def open_case(api, petition: str | None = None, as_: str = MEDIATOR, **overrides) -> dict:
    body = {"kind": "neighbour", "parties": PARTIES, "mediator": MEDIATOR, "pre_litigation": False}
    if petition:
        body["petition"] = petition
    body.update(overrides)
    r = api.post("/v1/mediations", body, as_=as_)
    assert r.status_code == 201, r.text
    return r.json()


def now(api) -> datetime:
    return datetime.fromisoformat(api.get("/_local/clock").json()["now"])


def sms_to(api, phone: str) -> list[str]:
    return [
        e["message"] for e in api.get("/_local/outbox", params={"to": phone}).json() if e["kind"] == "sms"
    ]


def test_the_center_lists_its_stationed_units_publicly(api):
    r = api.get(f"/v1/centers/{DISTRICT}")
    assert r.status_code == 200, r.text
    center = r.json()
    assert (center["code"], center["name"]) == ("210902.center", "海州区社会治理综合服务中心")
    kinds = {u["kind"] for u in center["units"]}
    assert {"court", "petition_office", "mediation", "labour_arbitration", "legal_aid", "police"} <= kinds
    court = next(u for u in center["units"] if u["kind"] == "court")
    assert court["department"] == "210902.court"
    assert api.get("/v1/centers/999999").status_code == 404


def test_a_walk_in_triaged_to_mediation_reaches_agreement_and_closes_through_review(api):
    # Given a walk-in registered at the window of 海州区's center
    pid = walk_in(api)
    # When the desk triages it to mediation (分流交办)
    r = api.post(f"/v1/petitions/{pid}/triage", {"route": "mediation", "note": "邻里噪音纠纷"}, as_=DESK)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["department"]) == ("accepted", "210902.center")
    triaged = [e for e in r.json()["timeline"] if e["type"] == "triaged"]
    assert triaged and triaged[0]["route"] == "mediation" and triaged[0]["actor"] == DESK
    # and the center's mediator opens a case linked to it
    case = open_case(api, pid)
    assert case["status"] == "open" and case["petition"] == pid and case["unit"] == "210902.center"
    assert [p["name"] for p in case["parties"]] == ["王大妈", "李师傅"]  # the owning center reads them
    # Then two sessions, each an SMS to every party with the time
    start = now(api)
    for n in (1, 2):
        at = (start + timedelta(days=n)).replace(hour=9, minute=30).isoformat()
        r = api.post(
            f"/v1/mediations/{case['id']}/sessions", {"at": at, "notes": f"第{n}次调解"}, as_=MEDIATOR
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["sessions"]) == n
    for phone in ("+8613900001111", "+8613900002222"):
        sent = [s for s in sms_to(api, phone) if case["id"] in s]
        assert len(sent) == 2 and all("海州区社会治理综合服务中心" in s for s in sent), sent
    # When the mediator records the agreement
    r = api.post(
        f"/v1/mediations/{case['id']}/outcome",
        {"result": "agreement", "agreement": "装修限定在工作日9至17时", "judicial_confirmation": True},
        as_=MEDIATOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "agreement" and r.json()["concluded_at"]
    assert [e["type"] for e in r.json()["timeline"]] == ["opened", "session", "session", "concluded"]
    # Then the linked petition is resolved with the agreement as its reply
    p = api.get(f"/v1/petitions/{pid}", as_=DISPATCHER).json()
    assert p["status"] == "resolved" and "装修限定在工作日9至17时" in p["reply"]
    mediated = [e for e in p["timeline"] if e["type"] == "mediated"]
    assert mediated and mediated[0]["mediation"] == case["id"] and mediated[0]["result"] == "agreement"
    # and it closes through review and the citizen's rating, as usual
    r = api.post(f"/v1/petitions/{pid}/review", {"approve": True}, as_=REVIEWER)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    api.get("/_local/outbox")  # the closure SMS is out (the local drain writes it on the timeline)
    r = api.post(f"/v1/petitions/{pid}/feedback", {"rating": "satisfied"}, as_="local-walkin")
    assert r.status_code == 200 and r.json()["rating"] == "satisfied", r.text
    # and a concluded case takes no other outcome or session
    again = api.post(f"/v1/mediations/{case['id']}/outcome", {"result": "withdrawn"}, as_=MEDIATOR)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    late = api.post(f"/v1/mediations/{case['id']}/sessions", {"at": start.isoformat()}, as_=MEDIATOR)
    assert late.status_code == 409


def test_a_failed_mediation_is_referred_to_court_and_the_petition_resolves_with_that_answer(api):
    pid = walk_in(api)
    assert api.post(f"/v1/petitions/{pid}/triage", {"route": "mediation"}, as_=DISPATCHER).status_code == 200
    case = open_case(api, pid, as_=DESK, kind="property")
    r = api.post(
        f"/v1/mediations/{case['id']}/outcome", {"result": "failed", "referred_to_court": True}, as_=MEDIATOR
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["referred_to_court"]) == ("failed", "210902.court")
    p = api.get(f"/v1/petitions/{pid}", as_=DISPATCHER).json()
    assert p["status"] == "resolved" and "阜新市海州区人民法院" in p["reply"]


def test_a_failed_case_not_referred_leaves_the_petition_with_the_center(api):
    pid = walk_in(api)
    api.post(f"/v1/petitions/{pid}/triage", {"route": "mediation"}, as_=DESK)
    case = open_case(api, pid)
    r = api.post(f"/v1/mediations/{case['id']}/outcome", {"result": "withdrawn"}, as_=MEDIATOR)
    assert r.status_code == 200, r.text
    p = api.get(f"/v1/petitions/{pid}", as_=DISPATCHER).json()
    assert p["status"] == "accepted" and p["department"] == "210902.center"
    assert [e["result"] for e in p["timeline"] if e["type"] == "mediated"] == ["withdrawn"]


def test_triage_to_dispatch_leaves_it_for_the_dispatcher_and_others_may_not_triage(api):
    pid = walk_in(api)
    r = api.post(f"/v1/petitions/{pid}/triage", {"route": "dispatch"}, as_=DESK)
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    bad = api.post(f"/v1/petitions/{pid}/triage", {"route": "somewhere"}, as_=DESK)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "route"
    assert api.post(f"/v1/petitions/{pid}/triage", {"route": "dispatch"}, as_=MEDIATOR).status_code == 403
    other_desk = api.post(f"/v1/petitions/{pid}/triage", {"route": "dispatch"}, as_="desk@210903.center")
    assert other_desk.status_code == 404  # not its first inquiry: outside its scope


def test_parties_are_masked_outside_the_owning_center_and_other_mediators_see_nothing(api):
    case = open_case(api)
    for who in (DISPATCHER, "supervisor@210902", "auditor@210900", COURT_MEDIATOR):
        r = api.get(f"/v1/mediations/{case['id']}", as_=who)
        if who == COURT_MEDIATOR:  # another unit's mediator: not there at all
            assert r.status_code == 404, r.text
            continue
        assert r.status_code == 200, (who, r.text)
        assert [p["name"] for p in r.json()["parties"]] == ["王**", "李**"]
        assert [p["phone"] for p in r.json()["parties"]] == ["139****1111", "139****2222"]
    assert api.get(f"/v1/mediations/{case['id']}", as_="dispatcher@210903").status_code == 404
    assert api.get(f"/v1/mediations/{case['id']}", as_="handler@210902.urban").status_code == 403
    # a court's mediator may not change the center's case (404: not theirs), nor list it
    r = api.post(f"/v1/mediations/{case['id']}/outcome", {"result": "withdrawn"}, as_=COURT_MEDIATOR)
    assert r.status_code == 404
    listed = api.get("/v1/mediations", as_=COURT_MEDIATOR).json()["items"]
    assert case["id"] not in [c["id"] for c in listed]
    mine = api.get("/v1/mediations", params={"mediator": MEDIATOR}, as_=MEDIATOR).json()["items"]
    assert case["id"] in [c["id"] for c in mine]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "divorce_and_more"}, "kind"),
        ({"parties": [{"name": "王", "phone": "12345", "role": "applicant"}]}, "parties.0.phone"),
        ({"parties": []}, "parties"),
        ({"mediator": "handler@210902.urban"}, "mediator"),
        ({"pre_litigation": True}, "pre_litigation"),
        ({"petition": "260101AAAAAA"}, "petition"),
    ],
)
def test_bad_mediation_input_is_a_400_or_404_naming_the_field_and_stores_nothing(api, change, field):
    before = len(api.get("/v1/mediations", as_=MEDIATOR).json()["items"])
    body = {"kind": "neighbour", "parties": PARTIES, "mediator": MEDIATOR, "pre_litigation": False, **change}
    r = api.post("/v1/mediations", body, as_=MEDIATOR)
    assert r.status_code in (400, 404), r.text
    assert r.json()["error"]["field"] == field, r.text
    assert len(api.get("/v1/mediations", as_=MEDIATOR).json()["items"]) == before


def test_a_mediator_opens_cases_only_for_their_own_unit(api):
    body = {"kind": "labour", "parties": PARTIES, "mediator": COURT_MEDIATOR, "pre_litigation": True}
    assert api.post("/v1/mediations", body, as_=MEDIATOR).status_code == 403
    r = api.post("/v1/mediations", body, as_=COURT_MEDIATOR)
    assert r.status_code == 201 and r.json()["pre_litigation"] is True, r.text
    far = {**body, "mediator": "mediator@210903.court"}
    assert api.post("/v1/mediations", far, as_=DISPATCHER).status_code == 403


def test_an_outcome_carries_uploaded_evidence_and_refuses_an_unknown_key(api):
    import requests

    case = open_case(api)
    bad = api.post(
        f"/v1/mediations/{case['id']}/outcome",
        {"result": "withdrawn", "evidence": ["evidence/210902/20260101/nope.pdf"]},
        as_=MEDIATOR,
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "evidence[0]", bad.text
    assert api.get(f"/v1/mediations/{case['id']}", as_=MEDIATOR).json()["status"] == "open"
    pdf = b"%PDF-1.4 mediation agreement"
    r = api.post("/v1/uploads", {"content_type": "application/pdf", "size": len(pdf)}, as_=MEDIATOR)
    assert r.status_code == 201, r.text
    key = r.json()["evidence"]
    put = requests.put(r.json()["url"], data=pdf, headers={"Content-Type": "application/pdf"}, timeout=10)
    assert put.status_code == 200, put.text
    r = api.post(
        f"/v1/mediations/{case['id']}/outcome",
        {"result": "agreement", "agreement": "双方和解", "evidence": [key]},
        as_=MEDIATOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["evidence"] == [key]
