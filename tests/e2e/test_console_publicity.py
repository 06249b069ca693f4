"""典型案例 and 发一封短信 (CONTRACT §13) in the console, in a real browser against a real stack.

Given a stack whose clock starts on Wednesday 2 December 2026 at 10:00 (outside quiet hours) and
petitions of 彰武县 (210922) filed through the API with citizens' phones, one of them closed:
彰武县's supervisor marks the closed one typical from its detail (列为典型案例); GET /v1/public/cases
lists it anonymised (no phone, no name), the console's 典型案例 shows it, and 撤回 on its card takes it
off the public list. Too short a summary is refused next to the form, naming the field, and nothing is
published. The city's admin estimates a broadcast to 彰武县 (接收人数, 条数/人, 预计费用, 预计用时 as
POST /v1/broadcasts/estimate answers), sends it after confirming, and the list's progress is what
GET /v1/broadcasts/{id} answers, before and after the run. A supervisor has no 发一封短信 and the
API refuses them (403).

Screenshots (1366×768) go to artifacts/screenshots/.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e import test_console
from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import DESKTOP, login, screenshot

CLOCK_START = "2026-12-02T10:00:00+08:00"  # a Wednesday morning: no quiet hours
DISTRICT, UNIT = "210922", "210922.urban"  # 彰武县
SUPERVISOR, ADMIN = f"supervisor@{DISTRICT}", "admin@210900"
CITIZEN_NAME, CLOSED_PHONE = "王秀英", "13912340000"
PHONES = [CLOSED_PHONE, "13912340001", "13912340002"]

browser = test_console.browser  # one browser; tabs whose console errors fail the test
open_page = test_console.open_page


stack = stack_at(CLOCK_START)


def file(stack, phone: str) -> str:
    body = {
        "district": DISTRICT,
        "content": f"小区门口路灯坏了，晚上出行不便，请尽快修复（{uuid.uuid4().hex[:6]}）",
        "title": "路灯不亮",
        "category": "municipal.lighting",
        "citizen": {"name": CITIZEN_NAME, "phone": phone},
        "location": {"address": "彰武县测试小区"},
    }
    r = stack.api.post("/v1/petitions", body, as_="local-wechat")
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def world(stack):
    """Three petitions of 彰武县 (three phones); the first one closed with a reply."""
    ids = [file(stack, phone) for phone in PHONES]
    steps = [
        ("dispatch", {"department": UNIT}, f"dispatcher@{DISTRICT}"),
        ("accept", {}, f"handler@{UNIT}"),
        ("resolve", {"reply": "已更换路灯灯泡并检修线路，现已恢复照明。"}, f"handler@{UNIT}"),
        ("review", {"approve": True}, f"reviewer@{DISTRICT}"),
    ]
    for action, body, who in steps:
        r = stack.api.post(f"/v1/petitions/{ids[0]}/{action}", body, as_=who)
        assert r.status_code == 200, (action, r.text)
    closed = stack.api.get(f"/v1/petitions/{ids[0]}", as_=SUPERVISOR).json()
    assert closed["status"] == "closed", closed["status"]
    return {"closed": ids[0], "open": ids[1:]}


def public_cases(stack) -> list[dict]:
    r = stack.api.get("/v1/public/cases")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_short_summary_is_refused_next_to_the_form_and_nothing_is_published(stack, world, open_page):
    page = open_page(DESKTOP, allow=("status of 400",))
    login(page, stack.url, SUPERVISOR)
    page.goto(f"{stack.url}/console/#/p/{world['closed']}")
    form = page.locator(f'form[data-typical-form="{world["closed"]}"]')
    form.wait_for()
    form.locator('input[name="title"]').fill("路灯三日修复")
    form.locator('textarea[name="summary"]').fill("太短")
    form.locator("button[data-mark-typical]").click()
    error = form.locator("[data-form-error]")
    error.wait_for()
    # Then the error is in Chinese, next to the form, and names the field
    assert error.get_attribute("data-error-field") == "summary"
    text = error.inner_text()
    assert text.startswith("案例摘要：填写内容有误"), text
    assert form.locator('textarea[name="summary"]').get_attribute("aria-invalid") == "true"
    # and nothing was published
    assert public_cases(stack) == []
    # An open petition offers no such form
    page.goto(f"{stack.url}/console/#/p/{world['open'][0]}")
    page.locator(f'article.detail[data-petition="{world["open"][0]}"]').wait_for()
    assert page.locator("form[data-typical-form]").count() == 0


def test_a_supervisor_marks_a_closed_petition_typical_and_withdraws_it(stack, world, open_page):
    pid = world["closed"]
    page = open_page(DESKTOP)
    login(page, stack.url, SUPERVISOR)
    # When the supervisor fills 列为典型案例 on the closed petition's detail (the summary names the
    # citizen and their phone, which the publication must not)
    page.goto(f"{stack.url}/console/#/p/{pid}")
    form = page.locator(f'form[data-typical-form="{pid}"]')
    form.locator('input[name="title"]').fill("老旧小区路灯三日修复")
    form.locator('textarea[name="summary"]').fill(
        f"居民{CITIZEN_NAME}（{CLOSED_PHONE}）反映小区路灯不亮，城管局三日内更换灯泡并检修线路。"
    )
    form.locator("button[data-mark-typical]").click()
    page.locator("#toast", has_text="已列为典型案例").wait_for()
    screenshot(page, "console-typical-mark-1366x768")
    # Then GET /v1/public/cases lists it, anonymised
    [case] = public_cases(stack)
    assert case["title"] == "老旧小区路灯三日修复", case
    assert (case["district"], case["district_name"]) == (DISTRICT, "彰武县"), case
    published = " ".join(str(v) for v in case.values())
    assert CLOSED_PHONE not in published and CITIZEN_NAME not in published, case
    assert "petition" not in case and pid not in published, case
    # and 典型案例 in the console shows it as published, with the petition's number (operators only)
    page.click('.nav a[data-nav="cases"]')
    card = page.locator(f'article.typical-case[data-case="{pid}"]')
    card.wait_for()
    assert card.get_attribute("data-case-status") == "typical"
    assert case["summary"] in card.inner_text() and case["what_was_done"] in card.inner_text()
    assert "公开中" in card.inner_text() and CLOSED_PHONE not in card.inner_text()
    assert page.locator("article.typical-case").count() == 1
    [listed] = stack.api.get("/v1/cases/typical", as_=SUPERVISOR).json()["items"]
    assert (listed["petition"], listed["status"]) == (pid, "typical")
    screenshot(page, "console-typical-cases-1366x768")
    # When they withdraw it (撤回 on its card)
    card.locator(f'button[data-unmark="{pid}"]').click()
    page.locator("#toast", has_text=f"已撤回典型案例 {pid}").wait_for()
    # Then the public list no longer has it; the console keeps it, withdrawn, with nothing more to do
    assert public_cases(stack) == []
    page.locator(f'article.typical-case[data-case="{pid}"][data-case-status="withdrawn"]').wait_for()
    assert "已撤回" in page.locator(f'article.typical-case[data-case="{pid}"]').inner_text()
    assert page.locator("button[data-unmark]").count() == 0
    [listed] = stack.api.get("/v1/cases/typical", as_=SUPERVISOR).json()["items"]
    assert listed["status"] == "withdrawn"


def cells(row) -> dict[str, str]:
    return {
        key: row.locator(f'td[data-count="{key}"]').inner_text().strip()
        for key in ("recipients", "sent", "failed", "opted_out", "remaining")
    }


def expected(b: dict) -> dict[str, str]:
    return {key: str(b[key]) for key in ("recipients", "sent", "failed", "opted_out", "remaining")}


def test_the_admin_estimates_sends_and_follows_a_broadcast(stack, world, open_page):
    message = "彰武县便民服务中心本周六延时服务至18时。"
    page = open_page(DESKTOP)
    login(page, stack.url, ADMIN)
    page.click('.nav a[data-nav="broadcasts"]')
    page.get_by_text("暂无群发短信").wait_for()
    form = page.locator("form[data-broadcast-form]")
    form.locator('textarea[name="message"]').fill(message)
    # The character count follows the message
    assert form.locator("[data-char-count]").inner_text() == f"已输入 {len(message)} 字"
    form.locator('select[name="district"]').select_option(DISTRICT)
    assert form.locator("button[data-send]").is_disabled()  # nothing is sent unestimated
    form.locator("button[data-estimate-button]").click()
    box = form.locator("[data-estimate]")
    box.wait_for()
    # Then the estimate is the API's, in Chinese
    r = stack.api.post("/v1/broadcasts/estimate", {"message": message, "district": DISTRICT}, as_=ADMIN)
    assert r.status_code == 200, r.text
    est = r.json()
    assert est["recipients"] == len(PHONES), est
    shown = {
        k: box.locator(f'[data-estimate-value="{k}"]').inner_text()
        for k in ("recipients", "segments", "cost", "minutes")
    }
    assert shown["recipients"] == f"{est['recipients']} 人"
    assert shown["segments"] == f"{est['segments']} 条"
    assert shown["cost"] == f"{round(est['cost_cny'], 4):g} 元", (shown, est)
    assert shown["minutes"].startswith(f"约 {est['minutes_at_throttle']} 分钟"), shown
    screenshot(page, "console-broadcast-estimate-1366x768")
    # When they click 发送: a confirm step first, then 确认发送
    form.locator("button[data-send]").click()
    confirm = form.locator("[data-confirm]")
    assert f"{est['recipients']} 人" in confirm.inner_text() and "彰武县" in confirm.inner_text()
    assert stack.api.get("/v1/broadcasts", as_=ADMIN).json()["items"] == []  # not before confirming
    confirm.locator("button[data-confirm-send]").click()
    page.locator("#toast", has_text="已提交群发短信").wait_for()
    [b] = stack.api.get("/v1/broadcasts", as_=ADMIN).json()["items"]
    assert (b["district"], b["message"], b["recipients"]) == (DISTRICT, message, len(PHONES)), b
    row = page.locator(f'tr[data-broadcast="{b["id"]}"]')
    row.wait_for()
    # Then the row is its progress as GET /v1/broadcasts/{id} answers, before the run…
    now = stack.api.get(f"/v1/broadcasts/{b['id']}", as_=ADMIN).json()
    assert now["status"] == "queued" and now["remaining"] == len(PHONES), now
    assert cells(row) == expected(now)
    assert "排队中" in row.inner_text() and "彰武县" in row.inner_text()
    # …and after it, once 刷新 is clicked (10:00: no quiet hours, all sent)
    run = stack.api.post("/_local/broadcasts/run", {})
    assert run.status_code == 200, run.text
    page.click("button[data-refresh]")
    after = stack.api.get(f"/v1/broadcasts/{b['id']}", as_=ADMIN).json()
    assert (after["status"], after["sent"], after["remaining"]) == ("done", len(PHONES), 0), after
    row = page.locator(f'tr[data-broadcast="{b["id"]}"][data-status="done"]')
    row.wait_for()
    assert cells(row) == expected(after)
    assert "已完成" in row.inner_text()
    assert row.locator('td[data-count="cost"]').inner_text() == f"{after['cost_cny']:g}"
    screenshot(page, "console-broadcasts-1366x768")


def test_a_supervisor_has_no_broadcasts_and_the_api_refuses_them(stack, world, open_page):
    page = open_page(DESKTOP)
    login(page, stack.url, SUPERVISOR)
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "broadcasts" not in navs and "cases" in navs, navs
    page.goto(f"{stack.url}/console/#/broadcasts")
    page.locator(".nav a.active").wait_for()
    assert page.locator(".nav a.active").get_attribute("data-nav") != "broadcasts"
    assert page.locator("form[data-broadcast-form], table[data-broadcasts]").count() == 0
    body = {"message": "测试短信内容", "district": DISTRICT}
    assert stack.api.post("/v1/broadcasts", body, as_=SUPERVISOR).status_code == 403
    assert stack.api.post("/v1/broadcasts/estimate", body, as_=SUPERVISOR).status_code == 403
    assert stack.api.get("/v1/broadcasts", as_=SUPERVISOR).status_code == 403


def test_a_chief_reads_typical_cases_but_neither_marks_nor_withdraws(stack, world, open_page):
    page = open_page(DESKTOP)
    login(page, stack.url, f"chief@{DISTRICT}")
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "cases" in navs and "broadcasts" not in navs, navs
    page.click('.nav a[data-nav="cases"]')
    page.locator(".toolbar h2", has_text="典型案例").wait_for()
    page.locator("#view .empty, #view .cases").first.wait_for()
    assert page.locator("button[data-unmark]").count() == 0
    page.goto(f"{stack.url}/console/#/p/{world['closed']}")
    page.locator(f'article.detail[data-petition="{world["closed"]}"]').wait_for()
    assert page.locator("form[data-typical-form]").count() == 0
    r = stack.api.post(
        "/v1/cases/typical",
        {"petition": world["closed"], "title": "路灯修复", "summary": "路灯三日内修复完毕。"},
        as_=f"chief@{DISTRICT}",
    )
    assert r.status_code == 403, r.text
