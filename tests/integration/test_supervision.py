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


# --- the chief's board, urges, accountability, the assessment ------------------------------------------


def _topic(api, pid: str, kind: str) -> list[dict]:
    return [
        e
        for e in api.get("/_local/outbox").json()
        if e["kind"] == "topic" and e["attributes"].get("kind") == kind and pid in e["message"]
    ]


def test_a_flagged_key_case_stays_on_the_chiefs_board_until_closed(api):
    chief = f"chief@{DISTRICT}"
    pid = pf.create(api, district=DISTRICT)["id"]
    pf.act(api, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT})
    flagged = pf.act(api, pid, "flag", chief, {"key_case": True, "note": "涉及多户居民，列为重点"})
    assert [e["type"] for e in flagged["timeline"]].count("flagged") == 1
    again = api.post(f"/v1/petitions/{pid}/flag", {"key_case": True}, as_=chief)
    assert again.status_code == 409  # already on the board
    assert (
        api.post(f"/v1/petitions/{pid}/flag", {"key_case": True}, as_=f"supervisor@{DISTRICT}").status_code
        == 403
    )
    pf.act(api, pid, "instruction", chief, {"note": "请三日内办结"})
    board = api.get("/v1/board", as_=chief).json()
    assert [k["id"] for k in board["key_cases"]] == [pid] and board["key_cases"][0][
        "note"
    ] == "涉及多户居民，列为重点"
    assert [(i["id"], i["done"]) for i in board["instructions"] if i["id"] == pid] == [(pid, False)]
    assert api.get("/v1/board", as_="chief@210902").json()["key_cases"] == []  # another chief's board
    assert api.get("/v1/board", as_=f"supervisor@{DISTRICT}").status_code == 403
    for action, who, body in [
        ("accept", f"handler@{DEPARTMENT}", {}),
        ("resolve", f"handler@{DEPARTMENT}", {"reply": "已修复"}),
        ("review", f"reviewer@{DISTRICT}", {"approve": True}),
    ]:
        pf.act(api, pid, action, who, body)
    board = api.get("/v1/board", as_=chief).json()
    assert pid not in [k["id"] for k in board["key_cases"]]  # closed: off the board
    assert [(i["id"], i["done"]) for i in board["instructions"] if i["id"] == pid] == [(pid, True)]


def test_an_escalation_reaches_the_chiefs_board(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    pf.act(api, pid, "escalate", f"supervisor@{DISTRICT}", {"note": "群众反映强烈"})
    board = api.get("/v1/board", as_=f"chief@{DISTRICT}").json()
    assert pid in [e["id"] for e in board["escalations"]]


def test_a_supervisor_urges_by_hand_naming_the_unit_and_the_stage(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    pf.act(api, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": DEPARTMENT})
    pf.act(api, pid, "accept", f"handler@{DEPARTMENT}")
    urged = pf.act(api, pid, "urge", f"supervisor@{DISTRICT}", {"kind": "supervision", "note": "请今日反馈"})
    event = [e for e in urged["timeline"] if e["type"] == "urged"][0]
    assert (event["kind"], event["to"], event["stage"]) == ("supervision", DEPARTMENT, "resolve")
    [message] = _topic(api, pid, "supervision_notice")
    assert message["attributes"]["source"] == "manual" and message["attributes"]["department"] == DEPARTMENT
    assert "督办单" in message["message"] and "太平区城市管理综合行政执法局" in message["message"]
    assert "办结阶段" in message["message"] and DEPARTMENT not in message["message"]
    bad = api.post(f"/v1/petitions/{pid}/urge", {"kind": "scold", "note": "x"}, as_=f"supervisor@{DISTRICT}")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "kind"
    assert (
        api.post(
            f"/v1/petitions/{pid}/urge", {"kind": "reminder", "note": "x"}, as_=f"chief@{DISTRICT}"
        ).status_code
        == 403
    )
    assessment = api.get(
        "/v1/assessments", params={"year": 2026, "district": DISTRICT}, as_=f"supervisor@{DISTRICT}"
    )
    unit = [u for u in assessment.json()["units"] if u["unit"] == DEPARTMENT][0]
    assert unit["urges"].get("supervision", 0) >= 1


def test_an_interview_on_a_sloppy_handling_violation_is_recorded_sent_and_assessed(api):
    pid = pf.create(api, district=DISTRICT)["id"]
    for action, who, body in [
        ("dispatch", f"dispatcher@{DISTRICT}", {"department": f"{DISTRICT}.market"}),
        ("accept", f"handler@{DISTRICT}.market", {}),
        ("resolve", f"handler@{DISTRICT}.market", {"reply": "已处理"}),
        ("review", f"reviewer@{DISTRICT}", {"approve": False, "note": "答复未说明处理结果"}),
    ]:
        pf.act(api, pid, action, who, body)
    supervisor = f"supervisor@{DISTRICT}"
    before = api.get("/v1/assessments", params={"year": 2026, "district": DISTRICT}, as_=supervisor).json()
    rows = api.get("/v1/violations", params={"unit": f"{DISTRICT}.market"}, as_=supervisor).json()["items"]
    [violation] = [v for v in rows if v["petition_id"] == pid]
    vid = violation["id"]
    # Who may not: a handler (403), another district's supervisor (404), an unknown id (404), bad kind (400).
    assert (
        api.post(
            f"/v1/violations/{vid}/actions", {"kind": "interview"}, as_=f"handler@{DISTRICT}.market"
        ).status_code
        == 403
    )
    assert (
        api.post(f"/v1/violations/{vid}/actions", {"kind": "interview"}, as_="supervisor@210902").status_code
        == 404
    )
    assert (
        api.post("/v1/violations/bm9wZXxub3Bl/actions", {"kind": "interview"}, as_=supervisor).status_code
        == 404
    )
    bad = api.post(f"/v1/violations/{vid}/actions", {"kind": "fine"}, as_=supervisor)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "kind"
    r = api.post(
        f"/v1/violations/{vid}/actions", {"kind": "interview", "note": "约谈分管负责同志"}, as_=supervisor
    )
    assert r.status_code == 201, r.text
    assert [(a["kind"], a["by"], a["note"]) for a in r.json()["actions"]] == [
        ("interview", supervisor, "约谈分管负责同志")
    ]
    again = api.post(f"/v1/violations/{vid}/actions", {"kind": "remind"}, as_=f"chief@{DISTRICT}")
    assert again.status_code == 201, again.text
    detail = api.get(f"/v1/violations/{vid}", as_=f"handler@{DISTRICT}.market").json()
    assert [a["kind"] for a in detail["actions"]] == ["interview", "remind"] and detail[
        "kind"
    ] == "sloppy_handling"
    [message] = _topic(api, pid, "accountability")[:1]
    assert "约谈" in message["message"] and "太平区市场监督管理局" in message["message"]
    assert message["attributes"]["department"] == f"{DISTRICT}.market"
    timeline = pf.read(api, pid)["timeline"]
    assert [e["kind"] for e in timeline if e["type"] == "accountability"] == ["interview", "remind"]
    after = api.get("/v1/assessments", params={"year": 2026, "district": DISTRICT}, as_=supervisor).json()
    unit = {u["unit"]: u for u in after["units"]}[f"{DISTRICT}.market"]
    old = {u["unit"]: u for u in before["units"]}[f"{DISTRICT}.market"]
    assert unit["actions"] == {"interview": 1, "remind": 1} and unit["violations"]["sloppy_handling"] >= 1
    assert old["score"] is None or unit["score"] < old["score"]  # the 约谈 costs points
    terms = {r["term"]: r for r in unit["reasons"]}
    assert terms["actions.interview"]["points"] == -3 and terms["actions.remind"]["points"] == -1


def test_the_assessment_is_scoped_and_checked(api):
    assert (
        api.get(
            "/v1/assessments", params={"year": 2026, "district": "210902"}, as_=f"supervisor@{DISTRICT}"
        ).status_code
        == 404
    )
    assert api.get("/v1/assessments", params={"year": 2026}, as_=f"handler@{DEPARTMENT}").status_code == 403
    assert api.get("/v1/assessments", params={"year": 1999}, as_="auditor@210900").status_code == 400
    city = api.get("/v1/assessments", params={"year": 2026}, as_="auditor@210900")
    assert city.status_code == 200 and city.json()["district"] == "210900"
    assert all(u["unit"].startswith("210900.") for u in city.json()["units"])
