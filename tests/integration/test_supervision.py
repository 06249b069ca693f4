"""两首一督, the parts in place (CONTRACT §12): the chief handlers announced to the public, a
chief's instruction (批示) reaching the holder and the supervisor, a chief forwarding a case,
and a review sent back recorded as 乱办 against the unit."""

from __future__ import annotations

from tests.integration import petition_factory as pf

DISTRICT, DEPARTMENT = "210904", "210904.urban"


def test_the_chief_handlers_are_public_and_carry_no_phone(api):
    r = api.get("/v1/directory/chiefs")
    assert r.status_code == 200
    chiefs = r.json()["items"]
    assert len(chiefs) == 8 and chiefs[0]["district"] == "210900" and chiefs[0]["level"] == "city"
    assert {c["district_name"] for c in chiefs} >= {"阜新市", "彰武县", "海州区"}
    assert all("phone" not in c for c in chiefs) and all("首席办事员" in c["name"] for c in chiefs)


def test_an_instruction_reaches_the_holder_and_the_supervisor(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    pf.act(api, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT})
    pf.act(api, pid, "instruction", f"chief@{DISTRICT}", {"note": "请限三日内办结，主要负责同志亲自过问"})
    sent = [
        e
        for e in api.get("/_local/outbox").json()
        if e["kind"] == "topic" and e["attributes"].get("kind") == "instruction" and pid in e["message"]
    ]
    assert len(sent) == 1
    message = sent[0]
    assert message["attributes"]["department"] == DEPARTMENT and message["attributes"]["district"] == DISTRICT
    assert "太平区城市管理综合行政执法局" in message["message"] and "限三日内办结" in message["message"]
    assert "SupervisionTopic" in message["topic"]  # the supervision topic: the supervisor hears it
    event = [e for e in pf.read(api, pid)["timeline"] if e["type"] == "instruction"]
    assert event[0]["to"] == DEPARTMENT and event[0]["actor"] == f"chief@{DISTRICT}"


def test_a_chief_may_forward_a_case_and_a_handler_may_not(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    pf.act(api, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT})
    moved = pf.act(
        api, pid, "transfer", f"chief@{DISTRICT}", {"department": f"{DISTRICT}.housing", "reason": "转办"}
    )
    assert moved["department"] == f"{DISTRICT}.housing"
    r = api.post(
        f"/v1/petitions/{pid}/transfer",
        {"department": DEPARTMENT, "reason": "x"},
        as_=f"handler@{DISTRICT}.housing",
    )
    assert r.status_code == 403


def test_a_review_sent_back_is_a_sloppy_handling_violation_of_the_unit(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    for action, who, body in [
        ("dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT}),
        ("accept", f"handler@{DEPARTMENT}", {}),
        ("resolve", f"handler@{DEPARTMENT}", {"reply": "已处理"}),
        ("review", f"reviewer@{DISTRICT}", {"approve": False, "note": "答复未说明处理结果"}),
    ]:
        pf.act(api, pid, action, who, body)
    rows = api.get("/v1/violations", params={"unit": DEPARTMENT}, as_=f"supervisor@{DISTRICT}").json()[
        "items"
    ]
    assert [(v["kind"], v["petition_id"], v["stage"]) for v in rows if v["petition_id"] == pid] == [
        ("sloppy_handling", pid, "resolve")
    ]
