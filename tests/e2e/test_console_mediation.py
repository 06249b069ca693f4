"""调解 (CONTRACT §11) in the console, in a real browser against a real `make run` stack.

A walk-in of 细河区 about a neighbour's noise is triaged to mediation (分流交办) by the window of
细河区社会治理综合服务中心 from the petition's detail; the center's mediator, who opened the case,
finds it under 我的调解案件 with the parties in clear, schedules a session (the parties get the
SMS), records the agreement, and the petition is then 已办结待审核 with the agreement as its
reply and 调解结果 on its timeline; 调解统计 shows the same figures as GET /v1/stats/mediation.
A failed case referred to court says so on its card. What a mediator may not do: another
unit's case is not on their list and the API answers 404; the supervisor reads the cases masked,
with no forms, and the API refuses them 403; a mediator gets no hotspots and no dispatching.

Screenshots (1366×768) go to artifacts/screenshots/.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tests.e2e import test_console
from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import DESKTOP, login, screenshot

CLOCK_START = "2026-11-23T10:00:00+08:00"  # a Monday morning, no holiday near
DISTRICT = "210911"  # 细河区
CENTER = "210911.center"
COURT = "210911.court"
DESK = "desk@210911.center"
MEDIATOR = "mediator@210911.center"
COURT_MEDIATOR = "mediator@210911.court"
OTHER_MEDIATOR = "mediator@210921.center"  # 阜新蒙古族自治县's center
SUPERVISOR = "supervisor@210911"
PARTIES = [
    {"name": "王秀兰", "phone": "13900005555", "role": "applicant"},
    {"name": "李建国", "phone": "13900006666", "role": "respondent"},
]

browser = test_console.browser  # one browser; tabs whose console errors fail the test
open_page = test_console.open_page


stack = stack_at(CLOCK_START)


def walk_in(stack, content: str = "楼上邻居每晚十一点后装修噪音，多次沟通无果") -> str:
    body = {
        "district": DISTRICT,
        "content": f"{content}（{uuid.uuid4().hex[:6]}）",
        "title": "邻里噪音纠纷",
        "category": "family",
        "citizen": {"name": "王秀兰", "phone": "13900005555"},
    }
    r = stack.api.post("/v1/desk/petitions", body, as_=DESK)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def open_case(stack, mediator: str = MEDIATOR, petition: str | None = None, **overrides) -> dict:
    body = {"kind": "neighbour", "parties": PARTIES, "mediator": mediator, "pre_litigation": False}
    if petition:
        body["petition"] = petition
    body.update(overrides)
    r = stack.api.post("/v1/mediations", body, as_=mediator)
    assert r.status_code == 201, r.text
    return r.json()


def mediation(stack, case_id: str, as_: str = MEDIATOR) -> dict:
    r = stack.api.get(f"/v1/mediations/{case_id}", as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def petition(stack, pid: str) -> dict:
    r = stack.api.get(f"/v1/petitions/{pid}", as_="admin@210900")
    assert r.status_code == 200, r.text
    return r.json()


def sms_to(stack, phone: str) -> list[str]:
    sent = stack.api.get("/_local/outbox", params={"to": phone}).json()
    return [e["message"] for e in sent if e["kind"] == "sms"]


def case_card(page, case_id: str):
    return page.locator(f'article.card[data-mediation="{case_id}"]')


def open_mediation_view(page, base: str) -> None:
    page.click('.nav a[data-nav="mediation"]')
    page.locator('.nav a[data-nav="mediation"].active').wait_for()
    page.locator(".toolbar h2", has_text="调解").wait_for()


def test_the_login_list_offers_the_mediators(stack, open_page):
    """CONTRACT §3 seeds `mediator@<district>.center` and `mediator@<district>.court`; README: the
    login page of the local stack lists the seeded operators of a district. 细河区's list must offer
    its center's 人民调解员 and its court's 诉前调解员, or no mediator reaches 调解 there."""
    page = open_page(DESKTOP)
    page.goto(f"{stack.url}/console/#/")
    page.select_option("#login-district", DISTRICT)
    listed = page.locator(f'#operators[data-district="{DISTRICT}"]')
    listed.locator(f'button[data-user="{DESK}"]').wait_for()
    users = listed.locator("button[data-user]").evaluate_all("bs => bs.map(b => b.dataset.user)")
    mediators = [u for u in users if u.startswith("mediator@")]
    assert sorted(mediators) == [MEDIATOR, COURT_MEDIATOR], f"细河区's login list offers no mediator: {users}"
    assert "调解员" in listed.locator(f'button[data-user="{MEDIATOR}"]').inner_text()


def test_a_triaged_walk_in_is_mediated_to_an_agreement_from_the_console(stack, open_page):
    base = stack.url
    # Given a walk-in registered at the window of 细河区's center
    pid = walk_in(stack)

    # When the window triages it to mediation from the petition's detail (分流交办)
    page = open_page(DESKTOP)
    login(page, base, DESK)
    page.goto(f"{base}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    page.locator("details.more summary", has_text="分流交办").click()
    form = page.locator('form[data-action="triage"]')
    form.locator('select[name="route"]').select_option("mediation")
    form.locator('textarea[name="note"]').fill("邻里噪音纠纷，转人民调解")
    form.locator('button[type="submit"]').click()
    page.locator(".toast.ok").filter(has_text=f"分流：操作成功（{pid}）").wait_for()
    # Then the center holds it, the 7-day clock running, with the triage on its timeline
    p = petition(stack, pid)
    assert (p["status"], p["department"]) == ("accepted", CENTER)
    triaged = [e for e in p["timeline"] if e["type"] == "triaged"]
    assert [(e["route"], e["actor"]) for e in triaged] == [("mediation", DESK)], triaged

    # Given the center's mediator opened a case linked to it (the console has no form to open one)
    case = open_case(stack, petition=pid)
    cid = case["id"]

    # When the mediator opens 调解: the case is under 我的调解案件, the parties in clear
    page = open_page(DESKTOP)
    login(page, base, MEDIATOR)
    open_mediation_view(page, base)
    assert page.locator('select[name="tab"] option:checked').inner_text() == "我的调解案件"
    card = case_card(page, cid)
    card.wait_for()
    text = card.inner_text()
    assert "调解中" in text and "邻里纠纷" in text, text
    assert "细河区社会治理综合服务中心" in text and MEDIATOR in text, text
    assert "申请人：王秀兰 +8613900005555" in text and "被申请人：李建国 +8613900006666" in text, text
    assert card.locator("a", has_text=pid).get_attribute("href") == f"#/p/{pid}"

    # When they schedule a session for Wednesday 09:30
    session = card.locator(f'form[data-session-form="{cid}"]')
    session.locator('input[name="at"]').fill("2026-11-25T09:30")
    session.locator('input[name="notes"]').fill("中心二楼调解室")
    session.locator('button[type="submit"]').click()
    page.locator("#toast", has_text="已安排调解，当事人将收到短信通知").wait_for()
    # Then the card and 近期调解安排 show it, in Beijing time
    card.locator("[data-next-session]").wait_for()
    assert "下次调解：2026-11-25 09:30" in card.inner_text()
    assert "已安排 1 次调解" in card.inner_text()
    upcoming = page.locator('[data-upcoming="1"]')
    assert f"2026-11-25 09:30 · {cid} · 邻里纠纷" in upcoming.inner_text()
    # and the API holds the session at that instant, with the event; each party got the SMS
    held = mediation(stack, cid)
    wednesday = datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert [(datetime.fromisoformat(s["at"]), s.get("notes")) for s in held["sessions"]] == [
        (wednesday, "中心二楼调解室")
    ], held["sessions"]
    assert card.locator("[data-next-session]").get_attribute("data-next-session") == held["next_session"]
    assert datetime.fromisoformat(held["next_session"]) == wednesday
    assert [e["type"] for e in held["timeline"]] == ["opened", "session"]
    for phone in ("+8613900005555", "+8613900006666"):
        sent = [m for m in sms_to(stack, phone) if cid in m]
        assert len(sent) == 1 and "细河区社会治理综合服务中心" in sent[0], sent
    screenshot(page, "console-mediation-session-1366x768")

    # When they record the agreement
    outcome = card.locator(f'form[data-outcome-form="{cid}"]')
    outcome.locator('select[name="result"]').select_option("agreement")
    outcome.locator('input[name="agreement"]').fill("楼上住户装修限定在工作日8至18时，并赔偿300元")
    outcome.locator('button[type="submit"]').click()
    page.locator("#toast", has_text="已记录调解结果").wait_for()
    # Then the card says 调解成功 with the agreement, and offers nothing more
    case_card(page, cid).and_(page.locator('[data-status="agreement"]')).wait_for()
    card = case_card(page, cid)
    assert "调解成功" in card.inner_text()
    assert "调解协议：楼上住户装修限定在工作日8至18时，并赔偿300元" in card.inner_text()
    assert card.locator("form").count() == 0
    assert page.locator('[data-upcoming="1"]').count() == 0
    # and the API: the case concluded, the petition resolved with the agreement as its reply
    held = mediation(stack, cid)
    assert (held["status"], held["result"]) == ("agreement", "agreement")
    assert held["agreement"] == "楼上住户装修限定在工作日8至18时，并赔偿300元"
    assert [e["type"] for e in held["timeline"]] == ["opened", "session", "concluded"]
    p = petition(stack, pid)
    assert p["status"] == "resolved" and "装修限定在工作日8至18时" in p["reply"], p.get("reply")
    mediated = [e for e in p["timeline"] if e["type"] == "mediated"]
    assert [(e["mediation"], e["result"]) for e in mediated] == [(cid, "agreement")], mediated
    screenshot(page, "console-mediation-agreement-1366x768")

    # When they follow 关联诉求: the petition's detail shows the triage and the mediation's result
    card.locator("a", has_text=pid).click()
    detail = page.locator(f'article.detail[data-petition="{pid}"]')
    detail.wait_for()
    timeline = page.locator("ol.timeline")
    timeline.locator(".ev-type", has_text="分流交办").first.wait_for()
    timeline.locator(".ev-type", has_text="调解结果").first.wait_for()
    assert "已办结待审核" in detail.inner_text()

    # When they switch to 调解统计: the figures are the API's for the same caller
    page.go_back()
    open_mediation_view(page, base)
    page.select_option('select[name="tab"]', "figures")
    figures = page.locator('[data-figures="1"]')
    figures.wait_for()
    stats = stack.api.get("/v1/stats/mediation", as_=MEDIATOR).json()
    assert f"{stats['from']} 至 {stats['to']}" in figures.inner_text()
    total = stats["mediation"]["total"]
    row = figures.locator("section", has_text="人民调解").locator('tr[data-row="合计"]')
    assert row.locator("td").all_inner_texts() == [
        "合计",
        str(total["cases"]),
        str(total["concluded"]),
        _rate(total["success_rate"]),
    ]
    assert (total["cases"], total["concluded"], total["agreements"]) == (1, 1, 1)
    mine = stats["mediation"]["by_mediator"][MEDIATOR]
    mrow = figures.locator(f'tr[data-row="{MEDIATOR}"]')
    assert mrow.locator("td").all_inner_texts()[1:] == [
        str(mine["cases"]),
        str(mine["concluded"]),
        _rate(mine["success_rate"]),
    ]
    assert (
        figures.locator('[data-triage="mediation"]').inner_text()
        == f"调解：{stats['triage']['mediation']} 件"
    )
    screenshot(page, "console-mediation-figures-1366x768")


def _rate(rate: dict) -> str:
    shown = "暂无" if rate["value"] is None else f"{rate['value'] * 100:.1f}%"
    return f"{shown}（{rate['numerator']}/{rate['denominator']}）"


def test_a_failed_case_referred_to_court_says_so(stack, open_page):
    # Given a triaged walk-in and its case
    pid = walk_in(stack, "物业公司拒不退还装修押金，协商未果")
    r = stack.api.post(f"/v1/petitions/{pid}/triage", {"route": "mediation"}, as_=DESK)
    assert r.status_code == 200, r.text
    cid = open_case(stack, petition=pid, kind="property")["id"]
    page = open_page(DESKTOP)
    login(page, stack.url, MEDIATOR)
    open_mediation_view(page, stack.url)
    # When the mediator records 调解不成 and ticks 引导诉讼
    outcome = case_card(page, cid).locator(f'form[data-outcome-form="{cid}"]')
    outcome.locator('select[name="result"]').select_option("failed")
    outcome.locator('input[name="referred_to_court"]').check()
    outcome.locator('button[type="submit"]').click()
    page.locator("#toast", has_text="已记录调解结果").wait_for()
    # Then the card says where it went
    card = case_card(page, cid).and_(page.locator('[data-status="failed"]'))
    card.wait_for()
    assert "调解不成" in card.inner_text() and "已引导至 阜新市细河区人民法院" in card.inner_text()
    # and the API: referred to 细河区's court, the petition resolved with that answer
    held = mediation(stack, cid)
    assert (held["status"], held["referred_to_court"]) == ("failed", COURT)
    p = petition(stack, pid)
    assert p["status"] == "resolved" and "阜新市细河区人民法院" in p["reply"], p.get("reply")


def test_what_a_mediator_and_a_supervisor_may_not_do(stack, open_page):
    base = stack.url
    # Given an open case of the center, one of 细河区's court and one of another district's center
    ours = open_case(stack, kind="labour")["id"]
    court = open_case(stack, mediator=COURT_MEDIATOR, kind="contract", pre_litigation=True)["id"]
    elsewhere = open_case(stack, mediator=OTHER_MEDIATOR, kind="family")["id"]

    # When the center's mediator opens 调解: only their own unit's cases are there
    page = open_page(DESKTOP)
    login(page, base, MEDIATOR)
    open_mediation_view(page, base)
    case_card(page, ours).locator(f'form[data-session-form="{ours}"]').wait_for()
    listed = page.locator("article.card[data-mediation]").evaluate_all(
        "cs => cs.map(c => c.dataset.mediation)"
    )
    assert court not in listed and elsewhere not in listed, listed
    assert all(
        u == "细河区社会治理综合服务中心"
        for u in page.locator("article.card[data-mediation] p.muted").evaluate_all(
            "ps => ps.filter(p => p.textContent.includes('立案')).map(p => p.textContent.split(' · ')[0])"
        )
    )
    # and the API does not know the others to them: reading or concluding them is a 404, nothing changes
    for other in (court, elsewhere):
        assert stack.api.get(f"/v1/mediations/{other}", as_=MEDIATOR).status_code == 404
        r = stack.api.post(f"/v1/mediations/{other}/outcome", {"result": "withdrawn"}, as_=MEDIATOR)
        assert r.status_code == 404, r.text
        r = stack.api.post(
            f"/v1/mediations/{other}/sessions", {"at": "2026-11-26T09:00:00+08:00"}, as_=MEDIATOR
        )
        assert r.status_code == 404, r.text
    assert mediation(stack, court, as_=COURT_MEDIATOR)["status"] == "open"
    assert mediation(stack, elsewhere, as_=OTHER_MEDIATOR)["sessions"] == []
    # A mediator has no 待分拨 and no 热点; typing the address lands elsewhere; the API says 403
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "mediation" in navs and not {"queue", "hotspots", "reports", "board"} & set(navs), navs
    page.goto(f"{base}/console/#/hotspots")
    page.locator(".nav a.active").wait_for()
    assert page.locator(".nav a.active").get_attribute("data-nav") != "hotspots"
    assert page.locator("table[data-hotspots]").count() == 0
    assert stack.api.get("/v1/hotspots", as_=MEDIATOR).status_code == 403
    pid = walk_in(stack, "小区门口占道经营，影响通行")
    r = stack.api.post(f"/v1/petitions/{pid}/dispatch", {"department": "210911.urban"}, as_=MEDIATOR)
    assert r.status_code == 403, r.text
    assert petition(stack, pid)["status"] == "received"

    # When 细河区's supervisor opens 调解: the center's and the court's cases, masked, no forms
    boss = open_page(DESKTOP)
    login(boss, base, SUPERVISOR)
    open_mediation_view(boss, base)
    assert boss.locator('select[name="tab"] option:checked').inner_text() == "调解案件"
    card = case_card(boss, ours)
    card.wait_for()
    case_card(boss, court).wait_for()
    assert case_card(boss, elsewhere).count() == 0
    text = card.inner_text()
    assert "申请人：王** 139****5555" in text and "被申请人：李** 139****6666" in text, text
    body = boss.locator("main").inner_text()
    for clear in ("王秀兰", "李建国", "13900005555", "13900006666"):
        assert clear not in body, clear
    assert boss.locator("article.card form").count() == 0
    assert "诉前调解" in case_card(boss, court).locator("header").inner_text()
    screenshot(boss, "console-mediation-supervisor-masked-1366x768")
    # and their 调解统计 is the API's for them: the court's 诉前调解 apart from the center's
    boss.select_option('select[name="tab"]', "figures")
    figures = boss.locator('[data-figures="1"]')
    figures.wait_for()
    stats = stack.api.get("/v1/stats/mediation", as_=SUPERVISOR).json()
    sections = figures.locator("section.panel")
    for title, group in (("人民调解", stats["mediation"]), ("诉前调解", stats["pre_litigation"])):
        section = sections.filter(has=boss.locator("h3", has_text=title))
        total = group["total"]
        assert section.locator('tr[data-row="合计"] td').all_inner_texts() == [
            "合计",
            str(total["cases"]),
            str(total["concluded"]),
            _rate(total["success_rate"]),
        ], title
        for unit, f in group["by_center"].items():
            assert section.locator(f'tr[data-row="{unit}"] td').all_inner_texts()[1:] == [
                str(f["cases"]),
                str(f["concluded"]),
                _rate(f["success_rate"]),
            ], (title, unit)
    assert stats["pre_litigation"]["total"]["cases"] == 1
    assert list(stats["pre_litigation"]["by_center"]) == [COURT]
    assert "阜新市细河区人民法院" in sections.filter(has=boss.locator("h3", has_text="诉前调解")).inner_text()
    # and the API refuses them the mediator's actions: 403, the case unchanged
    r = stack.api.post(f"/v1/mediations/{ours}/sessions", {"at": "2026-11-26T09:00:00+08:00"}, as_=SUPERVISOR)
    assert r.status_code == 403, r.text
    r = stack.api.post(f"/v1/mediations/{ours}/outcome", {"result": "withdrawn"}, as_=SUPERVISOR)
    assert r.status_code == 403, r.text
    held = mediation(stack, ours)
    assert (held["status"], held["sessions"], [e["type"] for e in held["timeline"]]) == (
        "open",
        [],
        ["opened"],
    )

    # When the mediator withdraws their case: no more forms; the API refuses a second outcome (409)
    open_mediation_view(page, base)
    withdraw = case_card(page, ours).locator(f'form[data-outcome-form="{ours}"]')
    withdraw.locator('select[name="result"]').select_option("withdrawn")
    withdraw.locator('button[type="submit"]').click()
    page.locator("#toast", has_text="已记录调解结果").wait_for()
    done = case_card(page, ours).and_(page.locator('[data-status="withdrawn"]'))
    done.wait_for()
    assert "撤回调解" in done.inner_text() and done.locator("form").count() == 0
    r = stack.api.post(
        f"/v1/mediations/{ours}/outcome", {"result": "agreement", "agreement": "补记"}, as_=MEDIATOR
    )
    assert r.status_code == 409, r.text
    assert mediation(stack, ours)["status"] == "withdrawn"


def test_every_view_a_mediator_is_offered_opens(stack, open_page):
    """Each view in a mediator's navigation loads without an error (a refused request fails the tab)."""
    page = open_page(DESKTOP)
    login(page, stack.url, MEDIATOR)
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "mediation" in navs, navs
    page.locator('.nav a[data-nav="mediation"].active').wait_for()  # where they land: their own work
    for name in navs:
        page.click(f'.nav a[data-nav="{name}"]')
        page.locator(f'.nav a[data-nav="{name}"].active').wait_for()
        page.locator("#view .toolbar, #view h2").first.wait_for()
        page.wait_for_load_state("networkidle")
        assert page.locator("#view .error[role=alert]").count() == 0, (
            name,
            page.locator("#view").inner_text(),
        )
