"""The operator console in a real browser, against a real `make run` stack.

Given a stack started at a weekday morning (FZT_CLOCK_START), the people of 海州区 work a
petition through the console the way they would: the dispatcher dispatches it, the handler
accepts and resolves it, the reviewer approves it; then the clock moves a week, the sweep
runs, and the supervisor finds the neglected petition overdue and escalated on the board,
where the chief handler writes an instruction (批示). No console errors along the way.
Screenshots (1366×768 and 375×812) go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import RunningStack, stack_at
from tests.e2e.console_browser import (
    DESKTOP,
    PHONE,
    Watched,
    chromium,
    chromium_missing,
    login,
    screenshot,
)

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "chalicelib" / "console" / "static"
SOURCES = ROOT / "console"
CLOCK_START = "2026-11-18T09:00:00+08:00"  # a Wednesday morning, no holiday near
PHONE_NUMBER, PHONE_MASKED = "13800138000", "138****8000"
WEEK = 7 * 86400


def _unavailable(reason: str):
    # On CI the browser is installed by .ci/run: its absence is a failure there, a skip elsewhere.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


console_stack = stack_at(CLOCK_START)


@pytest.fixture(scope="module")
def browser():
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    with chromium() as context:
        yield context


@pytest.fixture
def open_page(browser):
    """A fresh tab (its own session) whose console errors fail the test."""
    pages: list[tuple[object, Watched]] = []

    def make(viewport=DESKTOP, allow: tuple[str, ...] = ()):
        page = browser.new_page()
        page.set_viewport_size(viewport)
        page.set_default_timeout(15_000)
        watched = Watched()
        watched.attach(page)
        pages.append((page, watched, allow))
        return page

    yield make
    problems = []
    for page, watched, allow in pages:
        problems += [e for e in watched.errors if not any(a in e for a in allow)]
        problems += watched.failed
        page.close()
    assert not problems, "the console reported errors:\n" + "\n".join(problems)


def submit(console_stack, **overrides) -> str:
    body = {
        "district": "210902",
        "content": f"小区门口路灯坏了一个月，晚上出行很不方便（{uuid.uuid4().hex[:8]}）",
        "title": "路灯不亮",
        "category": "municipal.lighting",
        "citizen": {"name": "张三", "phone": PHONE_NUMBER},
        "location": {"address": "海州区解放街道光明社区"},
        **overrides,
    }
    r = console_stack.api.post("/v1/petitions", body, as_="local-wechat")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def petition(console_stack, pid: str, as_: str = "admin@210900") -> dict:
    r = console_stack.api.get(f"/v1/petitions/{pid}", as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def answer(page, pattern: str, status: int, body: dict) -> None:
    """Let the page's requests matching ``pattern`` get this JSON answer instead of the stack's."""
    page.route(
        pattern,
        lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(body)),
    )


def card(page, pid: str):
    return page.locator(f'article.card[data-petition="{pid}"]')


def act(page, pid: str, button) -> None:
    """Click an action's button, then wait for its success message and for the view to redraw.

    A success re-renders the view (the old button leaves the document); waiting for that keeps
    the next step from typing into a form that is about to be replaced.
    """
    handle = button.element_handle()
    label = handle.inner_text().strip()
    handle.click()
    page.locator(".toast.ok").filter(has_text=f"{label}：操作成功（{pid}）").wait_for()
    handle.wait_for_element_state("hidden")


# --- served by the API ------------------------------------------------------------------------------


def test_console_is_served_with_types_and_cache_headers(console_stack):
    page = requests.get(f"{console_stack.url}/console/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="(app-[A-Z0-9]+\.(?:js|css))"', page.text)
    assert len(assets) == 2, page.text
    for name in assets:
        r = requests.get(f"{console_stack.url}/console/{name}", timeout=10)
        assert r.status_code == 200
        expected = "text/javascript" if name.endswith(".js") else "text/css"
        assert r.headers["Content-Type"] == f"{expected}; charset=utf-8"
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.content == (STATIC / name).read_bytes()
        again = requests.get(
            f"{console_stack.url}/console/{name}", headers={"If-None-Match": r.headers["ETag"]}, timeout=10
        )
        assert again.status_code == 304 and not again.content
    # Without the trailing slash the page still finds its assets (API Gateway drops the slash).
    bare = requests.get(f"{console_stack.url}/console", timeout=10)
    assert all(f'"console/{name}"' in bare.text for name in assets)
    missing = requests.get(f"{console_stack.url}/console/app-NOPE.js", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    # Only files of the built folder: the page template and traversal attempts are not assets.
    assert requests.get(f"{console_stack.url}/console/..%2Fassets.py", timeout=10).status_code == 404
    assert requests.get(f"{console_stack.url}/console/index.html", timeout=10).status_code == 404


def test_committed_bundle_is_what_the_sources_build(tmp_path):
    """static/ is committed so that `make run` needs no Node.js; it must be exactly the build of console/."""
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is missing: cannot rebuild the console to compare")
    if not (SOURCES / "node_modules" / "esbuild").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SOURCES, check=True, timeout=600)
    subprocess.run(["node", "build.mjs", "--outdir", str(tmp_path)], cwd=SOURCES, check=True, timeout=600)
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.is_file()}
    assert sorted(built) == sorted(committed), "run `make console` and commit chalicelib/console/static/"
    for name, data in built.items():
        assert committed[name] == data, f"{name} differs from its build: run `make console`"


def test_the_consoles_copy_of_the_state_machine_is_machine_py():
    """The console offers an action by console/src/rules.json; it must be machine.py's RULES."""
    from chalicelib.petitions.machine import RULES

    ours = json.loads((SOURCES / "src" / "rules.json").read_text(encoding="utf-8"))
    theirs = {a: {"from": list(r.sources), "roles": list(r.roles)} for a, r in RULES.items()}
    assert ours == theirs, (
        "update console/src/rules.json from chalicelib/petitions/machine.py, then `make console`"
    )


def test_first_load_stays_under_500_kb(console_stack):
    page = requests.get(f"{console_stack.url}/console/", timeout=10)
    total = len(page.content)
    for name in re.findall(r'"(app-[A-Z0-9]+\.(?:js|css))"', page.text):
        total += len(requests.get(f"{console_stack.url}/console/{name}", timeout=10).content)
    assert total <= 500 * 1024, f"first load {total} bytes"


# --- the journey --------------------------------------------------------------------------------------


def test_dispatch_accept_resolve_review_then_the_board_after_a_week(console_stack, open_page):
    # Given two petitions from the WeChat mini program, one to be worked, one to be neglected
    worked = submit(console_stack)
    neglected = submit(
        console_stack,
        title="路面塌陷",
        category="municipal.road",
        content="解放大街路面塌陷，车辆绕行（待办）",
    )

    # When the dispatcher opens 待分拨, the suggested department is preselected; they add a co-department
    page = open_page()
    login(page, console_stack.url, "dispatcher@210902")
    page.locator('.nav a[data-nav="queue"].active').wait_for()
    c = card(page, worked)
    c.locator('.hint[data-suggested="210902.urban"]').wait_for()
    assert c.locator('select[name="department"]').input_value() == "210902.urban"
    screenshot(page, "01-dispatch-queue-1366x768")
    c.locator("details.more summary", has_text="协办单位").click()
    c.locator('input[name="co_departments"][value="210902.housing"]').check()
    act(page, worked, c.locator('form[data-action="dispatch"] button[type="submit"]'))
    card(page, worked).wait_for(state="detached")
    p = petition(console_stack, worked)
    assert (p["status"], p["department"], p["co_departments"]) == (
        "dispatched",
        "210902.urban",
        ["210902.housing"],
    )
    # the other one is dispatched too, and then nobody takes it
    n = card(page, neglected)
    n.locator('.hint[data-suggested="210902.urban"]').wait_for()
    act(page, neglected, n.locator('form[data-action="dispatch"] button[type="submit"]'))
    card(page, neglected).wait_for(state="detached")

    # When the handler of 城市管理综合行政执法局 accepts it, then resolves it with a reply
    page = open_page()
    login(page, console_stack.url, "handler@210902.urban")
    page.locator('.tab[data-tab="dispatched"].active').wait_for()
    card(page, worked).locator('form[data-action="accept"] button').wait_for()
    screenshot(page, "02-handler-inbox-1366x768")
    act(page, worked, card(page, worked).locator('form[data-action="accept"] button'))
    page.click('.tab[data-tab="accepted"]')
    c = card(page, worked)
    c.locator('form[data-action="resolve"] textarea[name="reply"]').fill(
        "已更换路灯灯泡并检修线路，现已恢复照明。"
    )
    act(page, worked, c.locator('form[data-action="resolve"] button[type="submit"]'))
    assert petition(console_stack, worked)["status"] == "resolved"

    # When the reviewer approves it in 审核结案
    page = open_page()
    login(page, console_stack.url, "reviewer@210902")
    c = card(page, worked)
    c.locator(".reply").filter(has_text="已更换路灯灯泡").wait_for()
    act(page, worked, c.locator('form[data-action="review"] button', has_text="审核通过并结案"))
    assert petition(console_stack, worked)["status"] == "closed"

    # Then its detail shows the whole timeline in Chinese, the notifications, and a masked phone
    page.goto(f"{console_stack.url}/console/#/p/{worked}")
    detail = page.locator(f'article.detail[data-petition="{worked}"]')
    detail.wait_for()
    timeline = page.locator("ol.timeline")
    for text in ("受理登记", "分拨派单", "签收", "办结", "审核通过，结案", "通知"):
        timeline.locator(".ev-type", has_text=text).first.wait_for()
    assert "协办：海州区住房和城乡建设局" in timeline.inner_text()
    for stage in ("dispatch", "accept", "resolve"):  # each stage's clock, from its completing event
        assert "按时" in page.locator(f'table.stages tr[data-stage="{stage}"]').inner_text()
    notes = page.locator("table.notifications")
    notes.locator("tr", has_text="受理回执短信").filter(has_text="已发送").wait_for()
    notes.locator("tr", has_text="办结答复短信").wait_for()
    text = page.locator("body").inner_text()
    assert PHONE_MASKED in text and PHONE_NUMBER not in text
    screenshot(page, "03-petition-detail-1366x768")

    # When a week passes on the stack's clock and the sweep runs
    assert console_stack.api.post("/_local/clock", {"advance_seconds": WEEK}).status_code == 200
    assert console_stack.api.post("/_local/sweep").status_code == 200
    late = petition(console_stack, neglected)
    assert (late["sla_state"], late["escalation_level"]) == ("overdue", "city")

    # Then the supervisor sees it overdue and escalated on the board, with the violation against the unit
    page = open_page()
    login(page, console_stack.url, "supervisor@210902")
    page.locator('.nav a[data-nav="board"].active').wait_for()
    page.locator(".board[data-loaded]").wait_for()
    page.locator(f'table[data-board="overdue"] tr[data-petition="{neglected}"]').wait_for()
    row = page.locator(f'table[data-board="escalated"] tr[data-petition="{neglected}"]')
    assert "已升级至市首席办事员" in row.inner_text()
    assert "城市管理综合行政执法局" in row.inner_text()
    violation = page.locator(f'table[data-board="violations"] tr[data-petition="{neglected}"]')
    assert "拒不接单" in violation.first.inner_text()
    assert page.locator(f'table[data-board="overdue"] tr[data-petition="{worked}"]').count() == 0
    # (every SMS of this journey went out: the list of notifications needing a person is empty)
    assert page.locator('[data-kpi="undelivered"] b').inner_text() == "0"
    page.get_by_text("暂无需人工核实的通知").wait_for()
    screenshot(page, "04-supervision-board-1366x768")
    page.set_viewport_size(PHONE)
    screenshot(page, "05-supervision-board-375x812")
    page.set_viewport_size(DESKTOP)

    # And the figures dashboard counts both petitions
    page.click('.nav a[data-nav="stats"]')
    page.locator(".stats[data-loaded]").wait_for()
    assert int(page.locator('[data-kpi="received"] b').inner_text()) >= 2
    assert page.locator('[data-rate="satisfaction_rate"]').count() == 1
    # beside 办结率 and 即办率, and the channels side by side (区县诉求专线 apart from 12345热线)
    assert page.locator('[data-rate="completion_rate"]').count() == 1
    assert page.locator('[data-rate="on_spot_rate"]').count() == 1
    wechat = page.locator('table[data-ranking="channel"] tr[data-channel="wechat"]')
    assert int(wechat.locator('[data-col="received"]').inner_text()) >= 2
    assert (
        page.locator('table[data-ranking="channel"] tr[data-channel="phone"]')
        .inner_text()
        .startswith("区县诉求专线")
    )
    page.locator('[data-chart="各阶段按时率"] canvas').wait_for()
    page.locator('[data-chart="每日受理量"] canvas').wait_for()
    screenshot(page, "06-figures-1366x768")

    # When the district's chief handler writes an instruction (批示) on what reached them
    page = open_page()
    login(page, console_stack.url, "chief@210902")
    c = page.locator(f'[data-board="chief"] article.card[data-petition="{neglected}"]')
    c.locator('form[data-action="instruction"] textarea').fill("请城管局今日内签收，三日内办结并报结果。")
    act(page, neglected, c.locator('form[data-action="instruction"] button[type="submit"]'))
    # Then it lands on the timeline
    events = petition(console_stack, neglected)["timeline"]
    assert any(e["type"] == "instruction" and "三日内办结" in e["note"] for e in events)
    page.goto(f"{console_stack.url}/console/#/p/{neglected}")
    page.locator("ol.timeline .ev-type", has_text="首席办事员批示").wait_for()
    page.locator("ol.timeline .ev-type", has_text="升级至首席办事员").first.wait_for()
    page.locator('[data-escalation="city"]').wait_for()
    assert "已超期" in page.locator('table.stages tr.running[data-stage="accept"]').inner_text()


def test_dispatcher_merges_a_duplicate(console_stack, open_page):
    # Given the same street light reported twice
    main = submit(console_stack)
    duplicate = submit(console_stack, content="小区门口路灯一直不亮，晚上看不清路（重复反映）")
    page = open_page()
    login(page, console_stack.url, "dispatcher@210902")
    # When the dispatcher merges the second into the first (并单)
    c = card(page, duplicate)
    c.locator("details.more summary", has_text="并单").click()
    c.locator('form[data-action="merge"] input[name="into"]').fill(main)
    act(page, duplicate, c.locator('form[data-action="merge"] button[type="submit"]'))
    # Then the duplicate is merged into the main one, which stays in the queue
    assert petition(console_stack, duplicate)["merged_into"] == main
    assert petition(console_stack, main)["merged"] == [duplicate]
    card(page, main).wait_for()
    assert card(page, duplicate).count() == 0


def test_handler_returns_extends_suspends_and_the_supervisor_decides(console_stack, open_page):
    api = console_stack.api
    # Given two orders of 城管: one to return, one to work on
    wrong, long = submit(console_stack), submit(console_stack)
    for pid in (wrong, long):
        assert api.post(
            f"/v1/petitions/{pid}/dispatch", {"department": "210902.urban"}, as_="dispatcher@210902"
        ).ok
    assert api.post(f"/v1/petitions/{long}/accept", {}, as_="handler@210902.urban").ok
    page = open_page()
    login(page, console_stack.url, "handler@210902.urban")
    # When the handler returns the first, 职能不符
    c = card(page, wrong)
    c.locator("details.more summary", has_text="退单").click()
    c.locator('form[data-action="return"] select[name="reason"]').select_option("function")
    c.locator('form[data-action="return"] textarea[name="note"]').fill("属供热问题，应由住建局办理")
    act(page, wrong, c.locator('form[data-action="return"] button[type="submit"]'))
    p = petition(console_stack, wrong)
    assert p["status"] == "received"
    assert any(e["type"] == "returned" and e.get("reason") == "function" for e in p["timeline"])
    # When they ask 3 more working days for the second
    page.click('.tab[data-tab="accepted"]')
    c = card(page, long)
    c.locator("details.more summary", has_text="申请延期").click()
    c.locator('form[data-action="extension"] textarea[name="reason"]').fill("需协调供电公司更换线路")
    act(page, long, c.locator('form[data-action="extension"] button[type="submit"]'))
    assert petition(console_stack, long)["extension_pending"]["working_days"] == 3
    # Then the supervisor approves it from the board
    boss = open_page()
    login(boss, console_stack.url, "supervisor@210902")
    c = boss.locator(f'[data-board="extensions"] article.card[data-petition="{long}"]')
    act(boss, long, c.locator('form[data-action="extension/decision"] button', has_text="批准延期"))
    assert any(
        e["type"] == "extension_decided" and e["approve"] for e in petition(console_stack, long)["timeline"]
    )
    # When the handler suspends it with the supervisor's consent, then resumes it
    page.click("[data-refresh]")
    c = card(page, long)
    c.locator("details.more summary", has_text="挂起").click()
    c.locator('form[data-action="suspend"] textarea[name="reason"]').fill("等待供电公司停电检修窗口")
    c.locator('form[data-action="suspend"] select[name="consented_by"]').select_option("supervisor@210902")
    act(page, long, c.locator('form[data-action="suspend"] button[type="submit"]'))
    assert petition(console_stack, long)["status"] == "suspended"
    page.click('.tab[data-tab="suspended"]')
    act(page, long, card(page, long).locator('form[data-action="resume"] button'))
    assert petition(console_stack, long)["status"] == "accepted"


# --- safety --------------------------------------------------------------------------------------------


def test_markup_in_a_petition_shows_as_text(console_stack, open_page):
    # Given a petition whose content and title are markup
    payload = '<script>window.__fzt_xss=1</script><img src=x onerror="window.__fzt_xss=2">'
    pid = submit(console_stack, title="<b>标题</b>", content=f"测试内容{payload}")
    page = open_page()
    login(page, console_stack.url, "dispatcher@210902")
    c = card(page, pid)
    # Then the dispatcher reads the characters; nothing ran and no element was made of them
    c.locator(".content").filter(has_text=payload).wait_for()
    assert c.locator(".title").inner_text() == "<b>标题</b>"
    assert c.locator(".content *").count() == 0 and c.locator(".title *").count() == 0
    assert page.evaluate("window.__fzt_xss") is None
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator(".detail .content").filter(has_text=payload).wait_for()
    assert page.evaluate("window.__fzt_xss") is None


def test_actions_follow_role_and_scope_and_the_api_refuses_the_rest(console_stack, open_page):
    # Given a petition dispatched to 城管 with 住建 as co-department
    pid = submit(console_stack)
    r = console_stack.api.post(
        f"/v1/petitions/{pid}/dispatch",
        {"department": "210902.urban", "co_departments": ["210902.housing"]},
        as_="dispatcher@210902",
    )
    assert r.status_code == 200, r.text
    # When the co-department's handler opens it: no accept, no return — they assist
    page = open_page()
    login(page, console_stack.url, "handler@210902.housing")
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    page.get_by_text("本部门为协办单位").wait_for()
    assert page.locator("form[data-action]").count() == 0
    # and the API refuses it all the same
    assert (
        console_stack.api.post(f"/v1/petitions/{pid}/accept", {}, as_="handler@210902.housing").status_code
        == 403
    )
    # When the dispatcher opens it: only a transfer is offered (accepting is the handler's)
    page = open_page()
    login(page, console_stack.url, "dispatcher@210902")
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    assert page.locator("form[data-action]").evaluate_all("fs => fs.map(f => f.dataset.action)") == [
        "transfer"
    ]
    assert (
        console_stack.api.post(f"/v1/petitions/{pid}/accept", {}, as_="dispatcher@210902").status_code == 403
    )
    # When an auditor opens it: read only
    page = open_page()
    login(page, console_stack.url, "auditor@210900")
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    assert page.locator("form[data-action]").count() == 0
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    # reading views only: 年度考核, the lists and figures, grids, mediation, hotspots, reports
    assert navs == ["assessment", "list", "stats", "grids", "mediation", "hotspots", "reports"]


def test_the_login_lists_the_front_desks(console_stack, open_page):
    # The seeded desks (CONTRACT §9): each district's service-center window; the city's also the 12345 agents
    page = open_page()
    page.goto(f"{console_stack.url}/console/#/")
    page.locator('#operators[data-district="210902"] button[data-user="desk@210902.center"]').wait_for()
    page.select_option("#login-district", "210900")
    city = page.locator('#operators[data-district="210900"]')
    city.locator('button[data-user="desk@210900.hotline"]').wait_for()
    assert "受理员" in city.locator('button[data-user="desk@210900.center"]').inner_text()


def test_a_refused_action_shows_the_api_message_in_chinese(console_stack, open_page):
    # Given a dispatched petition on the handler's screen, that a colleague accepts meanwhile
    pid = submit(console_stack)
    assert console_stack.api.post(
        f"/v1/petitions/{pid}/dispatch", {"department": "210902.urban"}, as_="dispatcher@210902"
    ).ok
    page = open_page(allow=("status of 409",))
    login(page, console_stack.url, "handler@210902.urban")
    c = card(page, pid)
    c.wait_for()
    assert (
        console_stack.api.post(f"/v1/petitions/{pid}/accept", {}, as_="handler@210902.urban").status_code
        == 200
    )
    # When the handler accepts it too
    c.locator('form[data-action="accept"] button').click()
    # Then a clear Chinese message with the API's own words, and the petition is accepted once
    error = c.locator('form[data-action="accept"] .form-error')
    error.wait_for()
    assert (
        "诉求状态已变化" in error.inner_text()
        and "cannot accept a petition that is accepted" in error.inner_text()
    )
    events = petition(console_stack, pid)["timeline"]
    assert [e["type"] for e in events].count("accepted") == 1


def test_failure_and_missing_figures_are_said_plainly(console_stack, open_page):
    page = open_page(allow=("status of 404", "status of 503"))
    login(page, console_stack.url, "supervisor@210902")
    # Given GET /v1/stats answers 404 (a stage without figures)
    answer(page, "**/v1/stats*", 404, {"error": {"code": "not_found", "message": "no such route"}})
    page.click('.nav a[data-nav="stats"]')
    page.locator('[data-stats="none"]').filter(has_text="暂无数据").wait_for()
    page.unroute("**/v1/stats*")
    # Given the API is down for the list
    answer(page, "**/v1/petitions?*", 503, {"error": {"code": "unavailable", "message": "maintenance"}})
    page.click('.nav a[data-nav="list"]')
    box = page.locator(".error[role=alert]").first
    box.wait_for()
    assert "服务器出错" in box.inner_text() and "maintenance" in box.inner_text()
    page.unroute("**/v1/petitions?*")
    # When they retry, the list loads
    box.locator("button", has_text="重试").click()
    page.locator(".feed[data-loaded]").wait_for()


def test_a_stage_without_sign_in_configured_says_so(console_stack, open_page):
    # Given a stage without the local controls and without an identity provider
    page = open_page(allow=("status of 404",))
    answer(page, "**/_local/clock", 404, {"error": {"code": "not_found", "message": "no such route"}})
    answer(page, "**/v1/signin", 200, {"stage": "prod", "local_tokens": False, "oidc": None})
    page.goto(f"{console_stack.url}/console/")
    # Then no demo accounts are offered, and the page says whom to ask
    page.get_by_text("本环境尚未配置统一身份认证").wait_for()
    assert page.locator("#operators").count() == 0 and page.locator("#oidc-signin").count() == 0


# --- sign-in through the identity provider (Cognito's hosted UI in AWS) -------------------------


@pytest.fixture(scope="module")
def provider():
    from tests.e2e.hosted_ui import HostedUi

    ui = HostedUi(users=["supervisor@210902", "handler@210902.urban", "nobody@210902"])
    yield ui
    ui.stop()


@pytest.fixture(scope="module")
def signin_stack(provider):
    s = RunningStack(env={"FZT_CLOCK_START": CLOCK_START, **provider.stack_env()})
    yield s
    if s.proc.poll() is None:
        s.stop(timeout=30)


def sign_in_at_provider(page, user: str, password: str) -> None:
    page.click("#oidc-signin")
    page.locator("#signInFormUsername").fill(user)
    page.locator("#signInFormPassword").fill(password)
    page.click('button[name="signInSubmitButton"]')


def test_an_operator_signs_in_at_the_provider_and_works_in_their_scope(signin_stack, provider, open_page):
    from tests.e2e.hosted_ui import PASSWORD

    pid = submit(signin_stack)
    page = open_page()
    page.goto(f"{signin_stack.url}/console/#/")
    # The login offers the provider (and, on the local stage, the seeded operators beside it)
    page.locator("#oidc-signin").wait_for()
    assert page.locator("#operators").count() == 1
    # A wrong password stays at the provider
    sign_in_at_provider(page, "handler@210902.urban", "wrong-password")
    page.get_by_text("Incorrect username or password.").wait_for()
    # The right one comes back signed in: role and scope from the directory, the code gone from the address
    page.locator("#signInFormUsername").fill("handler@210902.urban")
    page.locator("#signInFormPassword").fill(PASSWORD)
    page.click('button[name="signInSubmitButton"]')
    who = page.locator('.who[data-user="handler@210902.urban"][data-role="handler"]')
    who.wait_for()
    assert "海州区城市管理综合行政执法局承办人" in who.inner_text() and "部门：" in who.inner_text()
    assert "code=" not in page.url and "state=" not in page.url
    assert (
        page.locator('nav a[data-nav="inbox"]').count() == 1
        and page.locator('nav a[data-nav="queue"]').count() == 0
    )
    # The code was traded with its PKCE verifier (the provider checked it hashes to the challenge)
    last = provider.token_requests[-1]
    assert last["grant_type"] == "authorization_code" and len(last["code_verifier"]) >= 43
    # The provider's token works against the API: the handler's inbox loads
    page.locator(".feed[data-loaded]").wait_for()
    # A petition dispatched to the handler's department appears and can be accepted in the console
    r = signin_stack.api.post(
        f"/v1/petitions/{pid}/dispatch", {"department": "210902.urban"}, as_="dispatcher@210902"
    )
    assert r.status_code == 200, r.text
    page.reload()
    act(page, pid, card(page, pid).locator("button", has_text="签收"))
    assert petition(signin_stack, pid)["status"] == "accepted"
    assert any(
        e["type"] == "accepted" and e["actor"] == "handler@210902.urban"
        for e in petition(signin_stack, pid)["timeline"]
    )
    screenshot(page, "10-signed-in-through-the-provider-1366x768")
    # Signing out ends the provider's session too, and returns to the login
    page.click("button[data-logout]")
    page.locator("#oidc-signin").wait_for()
    assert page.evaluate("sessionStorage.getItem('fzt.console.session')") is None


def test_a_forged_return_from_the_provider_signs_nobody_in(signin_stack, provider, open_page):
    page = open_page(allow=("status of 400",))
    before = len(provider.token_requests)
    # A code and state the console never asked for (say, a link sent to an operator)
    page.goto(f"{signin_stack.url}/console/?code=stolen&state=forged#/")
    page.get_by_text("登录校验未通过").wait_for()
    assert len(provider.token_requests) == before  # nothing was traded
    assert page.locator(".who").count() == 0 and "code=" not in page.url


def test_a_provider_account_missing_from_the_directory_is_refused(signin_stack, provider, open_page):
    from tests.e2e.hosted_ui import PASSWORD

    page = open_page(allow=("status of 401",))
    page.goto(f"{signin_stack.url}/console/#/")
    sign_in_at_provider(page, "nobody@210902", PASSWORD)
    # The provider knows them, the city's directory does not: no console for them
    page.get_by_text("未登录或登录已过期").wait_for()
    assert page.locator(".who").count() == 0
    page.locator("#oidc-signin").wait_for()


def test_the_queue_preselects_the_catalogues_lead_and_co_departments(console_stack, open_page):
    # Given a domestic-violence petition: the catalogue has the police lead, justice and civil affairs help
    pid = submit(
        console_stack,
        category="family.domestic_violence",
        content=f"邻居家经常传出打骂声（{uuid.uuid4().hex[:6]}）",
    )
    page = open_page()
    login(page, console_stack.url, "dispatcher@210902")
    form = card(page, pid)
    form.locator('.hint[data-suggested="210902.police"]').wait_for()
    # Then the lead is chosen and both co-departments are ticked, nothing else
    assert form.locator('select[name="department"]').input_value() == "210902.police"
    ticked = form.locator('input[name="co_departments"]:checked')
    assert sorted(ticked.evaluate_all("els => els.map(e => e.value)")) == ["210902.civil", "210902.justice"]
    # And dispatching as suggested records them on the petition
    act(page, pid, form.locator('button[type="submit"]', has_text="派单"))
    p = petition(console_stack, pid)
    assert (p["department"], sorted(p["co_departments"])) == (
        "210902.police",
        ["210902.civil", "210902.justice"],
    )


def test_phone_width_and_the_grid_directory(console_stack, open_page):
    pid = submit(console_stack, content=f"楼道灯不亮，老人上下楼不便（{uuid.uuid4().hex[:6]}）")
    page = open_page(viewport=PHONE)
    login(page, console_stack.url, "dispatcher@210902")
    card(page, pid).locator(".hint[data-suggested]").wait_for()
    screenshot(page, "07-dispatch-queue-375x812")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator("ol.timeline").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "08-petition-detail-375x812")
    # The grid directory: grids of 海州区 and a worker's public board
    page.click('.nav a[data-nav="grids"]')
    page.click('button[data-grid="210902-001-001-001-01"]')
    board = page.locator('[data-board="210902-001-001-001-01"]')
    board.get_by_text("网格员 王丽华").wait_for()
    assert "监督电话：0418-2812345" in board.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "09-grid-board-375x812")
