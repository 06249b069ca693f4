"""CONTRACT §13 over HTTP against the local stack: typical cases (典型案例) published with no
personal data, and publicity broadcasts (发一封短信) that honour TD, quiet hours and the throttle,
and send each phone once even when a run dies half way."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.petition_factory import ADMIN, DISPATCHER, HANDLER, SUPERVISOR, create

# 10:00 in Shanghai on a working Tuesday: outside quiet hours.
MORNING = "2027-03-02T02:00:00Z"
NAMES = ["王秀英", "刘建国", "赵丽华"]


@pytest.fixture(scope="module", autouse=True)
def morning(api):
    r = api.post("/_local/clock", {"set": MORNING})
    assert r.status_code == 200, r.text


def act(api, pid: str, action: str, as_: str, body: dict | None = None) -> dict:
    """An action as a client does it: a 409 "changed meanwhile" (the stack's publisher wrote a
    notification event in between) is reloaded and tried again."""
    for _ in range(5):
        r = api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=as_)
        if r.status_code != 409 or r.json()["error"]["code"] != "conflict":
            break
    assert r.status_code == 200, (action, r.status_code, r.text)
    return r.json()


def closed_petition(api, name: str, phone: str, reply: str, content: str, district: str = "210902") -> str:
    body = {
        "district": district,
        "content": content,
        "citizen": {"name": name, "phone": phone},
        "category": "municipal.lighting",
        "location": {"address": "海州区光明街16号3单元502室"},
    }
    pid = create(api, **body)["id"]
    act(api, pid, "dispatch", f"dispatcher@{district}", {"department": f"{district}.urban", "note": "请处理"})
    act(api, pid, "accept", f"handler@{district}.urban")
    act(api, pid, "resolve", f"handler@{district}.urban", {"reply": reply})
    act(api, pid, "review", f"reviewer@{district}", {"approve": True, "note": "属实"})
    return pid


# --- typical cases -------------------------------------------------------------------------------------

SCANNERS = {
    "mobile": re.compile(r"1[3-9]\d{9}"),
    "masked mobile": re.compile(r"1[3-9]\d\*{4}\d{4}"),
    "landline": re.compile(r"0\d{2,3}-?\d{7,8}"),
    "id number": re.compile(r"\d{17}[\dXx]"),
    "house number": re.compile(r"\d+\s*(号|室|栋|幢|单元)"),
}


def personal_data(text: str, names: list[str]) -> list[str]:
    found = [f"{kind}: {m.group(0)}" for kind, rx in SCANNERS.items() for m in rx.finditer(text)]
    return found + [
        f"name: {n}" for n in names if n in text or n[0] + "先生" in text or n[0] + "女士" in text
    ]


def test_a_typical_case_is_public_and_carries_no_personal_data(api):
    # Given closed petitions whose replies and the supervisor's words name people, phones and doors
    pid = closed_petition(
        api,
        NAMES[0],
        "13912345678",
        f"经核实，{NAMES[0]}反映的光明街16号3单元502室门前路灯已更换，联系电话13912345678，"
        "身份证210902198001011234，王女士表示满意。",
        "光明街16号楼下路灯坏了，电话13912345678，请尽快修理。",
    )
    other = closed_petition(
        api,
        NAMES[1],
        "13612345678",
        f"已联系{NAMES[1]}（0418-2812345），7栋2单元楼道灯已修复。",
        "7栋楼道灯不亮了很久，刘建国，13612345678",
    )
    # When a supervisor and the admin mark them as typical
    r = api.post(
        "/v1/cases/typical",
        {
            "petition": pid,
            "title": "路灯坏了三天修好",
            "summary": f"{NAMES[0]}（13912345678）家住光明街16号3单元502室，反映路灯不亮，当天派单。",
        },
        as_=SUPERVISOR,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "typical"
    r = api.post(
        "/v1/cases/typical",
        {"petition": other, "title": "楼道灯修复", "summary": "群众反映楼道灯不亮，两天内修复。"},
        as_=ADMIN,
    )
    assert r.status_code == 201, r.text
    # Then the public list (no credentials) has both, with district, category, what was done, days
    r = api.get("/v1/public/cases")
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 2
    first = next(c for c in items if c["title"] == "路灯坏了三天修好")
    assert first["district"] == "210902" and first["district_name"]
    assert first["category"] == "municipal.lighting"
    assert "路灯已更换" in first["what_was_done"]
    assert first["working_days_to_close"] >= 0
    # and nothing personal anywhere in it: the scanner over the whole answer
    assert personal_data(r.text, NAMES) == [], r.text
    assert pid not in r.text  # the tracking number is not published either
    # Operators list them by petition, each in their scope: 海州区's supervisor both (both are 海州区's),
    # 新邱区's neither; the admin, city-wide, both
    mine = api.get("/v1/cases/typical", as_=SUPERVISOR).json()["items"]
    assert {(c["petition"], c["status"]) for c in mine} >= {(pid, "typical"), (other, "typical")}
    assert not {pid, other} & {
        c["petition"] for c in api.get("/v1/cases/typical", as_="supervisor@210903").json()["items"]
    }
    assert {pid, other} <= {c["petition"] for c in api.get("/v1/cases/typical", as_=ADMIN).json()["items"]}


def test_only_closed_petitions_in_scope_become_cases(api):
    open_one = create(api)["id"]
    r = api.post(
        "/v1/cases/typical",
        {"petition": open_one, "title": "未结", "summary": "尚未办结的诉求"},
        as_=SUPERVISOR,
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "petition"
    # a closed petition of another district is outside a 海州区 supervisor's scope: 404
    elsewhere = closed_petition(
        api, NAMES[2], "13712345678", "已修复。", "路灯坏了请修理一下", district="210903"
    )
    r = api.post(
        "/v1/cases/typical", {"petition": elsewhere, "title": "新邱", "summary": "路灯修复了"}, as_=SUPERVISOR
    )
    assert r.status_code == 404
    # bad input names its field and stores nothing
    before = api.get("/v1/public/cases").json()["items"]
    r = api.post("/v1/cases/typical", {"petition": "nope", "title": "x", "summary": "y"}, as_=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["field"] == "petition"
    r = api.post("/v1/cases/typical", {"petition": elsewhere, "title": "好案例"}, as_=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["field"] == "summary"
    assert api.get("/v1/public/cases").json()["items"] == before
    # who: a dispatcher or a channel may not mark; nobody without credentials
    assert api.post("/v1/cases/typical", {}, as_=DISPATCHER).status_code == 403
    assert api.post("/v1/cases/typical", {}, as_="local-wechat").status_code == 403
    assert api.post("/v1/cases/typical", {}).status_code == 401


def test_unmarking_takes_a_case_off_the_public_list(api):
    pid = closed_petition(api, NAMES[2], "13712345670", "已修复路灯。", "路灯不亮请修理一下")
    assert (
        api.post(
            "/v1/cases/typical", {"petition": pid, "title": "撤下的案例", "summary": "路灯修好了"}, as_=ADMIN
        ).status_code
        == 201
    )
    assert any(c["title"] == "撤下的案例" for c in api.get("/v1/public/cases").json()["items"])
    r = api.post(f"/v1/cases/typical/{pid}/unmark", as_=SUPERVISOR)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert not any(c["title"] == "撤下的案例" for c in api.get("/v1/public/cases").json()["items"])
    assert api.post("/v1/cases/typical/260101AAAAAA/unmark", as_=ADMIN).status_code == 404


# --- publicity broadcasts ------------------------------------------------------------------------------


def sms_to(api, phone: str, needle: str) -> list[str]:
    entries = api.get("/_local/outbox", params={"to": f"+86{phone}"}).json()
    return [e["message"] for e in entries if e["kind"] == "sms" and needle in e["message"]]


def run(api, **body) -> dict:
    r = api.post("/_local/broadcasts/run", body)
    assert r.status_code == 200, r.text
    return r.json()


def phones_of_district(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def test_a_broadcast_reaches_each_phone_once_even_when_the_run_dies_half_way(api):
    # Given 12 phones of 彰武县 that used the platform (one of them twice), and one that replied TD
    phones = phones_of_district(12, "1350000")
    for phone in phones:
        create(api, district="210922", citizen={"name": "测试", "phone": phone})
    create(api, district="210922", citizen={"name": "测试", "phone": phones[0]})
    r = api.post("/_local/sms/inbound", {"from": f"+86{phones[5]}", "text": "TD"})
    assert r.status_code == 200 and r.json()["outcome"] == "recorded"
    # When the admin asks the price first
    body = {"message": "彰武县政务服务中心周六照常办公，欢迎办事群众前来。", "district": "210922"}
    r = api.post("/v1/broadcasts/estimate", body, as_=ADMIN)
    assert r.status_code == 200, r.text
    estimate = r.json()
    assert estimate["recipients"] == 12
    assert estimate["segments"] == 1
    assert estimate["cost_cny"] == pytest.approx(12 * estimate["segment_price_cny"])
    # and sends it; the run dies after the 4th SMS, before marking it
    r = api.post("/v1/broadcasts", body, as_=ADMIN)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert r.json()["remaining"] == 12
    crashed = api.post("/_local/broadcasts/run", {"crash_after": 4})
    assert crashed.status_code == 200 and "crashed after 4 sends" in crashed.json()["crashed"]
    # the dead run's lease runs out; a new run goes on from the last saved page
    api.post("/_local/clock", {"advance_seconds": 600})
    run(api)
    # Then every phone but the opted-out one got the message exactly once
    for phone in phones:
        got = sms_to(api, phone, "周六照常办公")
        assert len(got) == (0 if phone == phones[5] else 1), (phone, got)
    assert all(m.endswith("回复TD退订") for p in phones for m in sms_to(api, p, "周六照常办公"))
    status = api.get(f"/v1/broadcasts/{bid}", as_=ADMIN).json()
    assert status["status"] == "done"
    assert status["opted_out"] == 1
    # the 4th phone was sent before the crash: unconfirmed (not resent), or sent
    assert status["sent"] + status["unconfirmed"] == 11 and status["unconfirmed"] == 1
    assert status["failed"] == 0 and status["remaining"] == 0
    assert status["cost_cny"] == pytest.approx(11 * estimate["segment_price_cny"])
    # a phone of another district was not a recipient of a district broadcast
    assert sms_to(api, "13800138000", "周六照常办公") == []


def test_a_broadcast_waits_out_quiet_hours_and_keeps_to_the_throttle(api):
    phones = phones_of_district(5, "1351111")
    for phone in phones:
        create(api, district="210921", citizen={"name": "测试", "phone": phone})
    # 23:00 in Shanghai: quiet
    now = api.get("/_local/clock").json()["now"]
    day = now[:10]
    api.post("/_local/clock", {"set": f"{day}T15:00:00Z"})
    r = api.post(
        "/v1/broadcasts", {"message": "阜新蒙古族自治县便民服务通知。", "district": "210921"}, as_=ADMIN
    )
    bid = r.json()["id"]
    run(api)
    status = api.get(f"/v1/broadcasts/{bid}", as_=ADMIN).json()
    assert status["status"] == "deferred" and status["sent"] == 0 and status["deferred_until"]
    assert all(sms_to(api, p, "便民服务通知") == [] for p in phones)
    # 08:00 next morning: the throttle lets 2 a run
    api.post("/_local/clock", {"set": status["deferred_until"]})
    run(api, limit=2)
    assert api.get(f"/v1/broadcasts/{bid}", as_=ADMIN).json()["sent"] == 2
    run(api, limit=2)
    run(api, limit=2)
    final = api.get(f"/v1/broadcasts/{bid}", as_=ADMIN).json()
    assert final["sent"] == 5 and final["status"] == "done" and final["remaining"] == 0


def test_broadcasts_are_the_admins_and_bad_input_is_refused(api):
    body = {"message": "通知"}
    assert api.post("/v1/broadcasts", body, as_=SUPERVISOR).status_code == 403
    assert api.post("/v1/broadcasts", body).status_code == 401
    assert api.get("/v1/broadcasts/X", as_=HANDLER).status_code == 403
    assert api.get("/v1/broadcasts/NOPE", as_=ADMIN).status_code == 404
    listed = api.get("/v1/broadcasts", as_=ADMIN).json()["items"]
    r = api.post("/v1/broadcasts", {"message": "通知", "district": "999999"}, as_=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["field"] == "district"
    r = api.post("/v1/broadcasts", {"message": "长" * 300}, as_=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["field"] == "message"
    r = api.post("/v1/broadcasts", {"message": "通知", "extra": 1}, as_=ADMIN)
    assert r.status_code == 400
    assert api.get("/v1/broadcasts", as_=ADMIN).json()["items"] == listed
    assert json.dumps(listed, ensure_ascii=False).count("+86") == 0  # no phone in a broadcast's record
