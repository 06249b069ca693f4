"""两首一督 in the console, in a real browser against a real `make run` stack: a supervisor takes
约谈 on a 乱办 violation from the supervision board, the chief handler finds the key case they
flagged on their 首席办事员 board, and the 年度考核 league table shows the unit's action and why
its score is what it is."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e import test_console
from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import DESKTOP, login, screenshot

CLOCK_START = "2026-11-18T09:00:00+08:00"  # a Wednesday morning
DISTRICT, UNIT = "210903", "210903.urban"  # 新邱区: this module's own stack, but keep it apart anyway


browser = test_console.browser  # the fixtures: one browser, tabs whose console errors fail the test
open_page = test_console.open_page


console_stack = stack_at(CLOCK_START)


def _act(stack, pid: str, action: str, who: str, body: dict | None = None) -> dict:
    r = stack.api.post(f"/v1/petitions/{pid}/{action}", body or {}, as_=who)
    assert r.status_code == 200, (action, r.text)
    return r.json()


@pytest.fixture(scope="module")
def sloppy(console_stack):
    """A petition of 新邱区 resolved, sent back by the reviewer (乱办), and flagged by the chief."""
    body = {
        "district": DISTRICT,
        "content": f"小区楼道堆放杂物，存在消防隐患（{uuid.uuid4().hex[:8]}）",
        "title": "楼道堆物",
        "citizen": {"phone": "13800138000"},
    }
    r = console_stack.api.post("/v1/petitions", body, as_="local-wechat")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    _act(console_stack, pid, "dispatch", f"dispatcher@{DISTRICT}", {"department": UNIT})
    _act(console_stack, pid, "accept", f"handler@{UNIT}")
    _act(console_stack, pid, "resolve", f"handler@{UNIT}", {"reply": "已处理"})
    _act(console_stack, pid, "review", f"reviewer@{DISTRICT}", {"approve": False, "note": "未说明清理结果"})
    _act(console_stack, pid, "flag", f"chief@{DISTRICT}", {"key_case": True, "note": "消防隐患，列为重点"})
    return pid


def test_a_supervisor_interviews_from_the_board_and_the_chief_sees_it_all(console_stack, open_page, sloppy):
    base = console_stack.url
    page = open_page(DESKTOP)
    login(page, base, f"supervisor@{DISTRICT}")
    page.goto(f"{base}/console/#/board")
    page.locator(".board[data-loaded]").wait_for()
    row = page.locator(f'table[data-board="violations"] tr[data-petition="{sloppy}"]')
    row.wait_for()
    assert "审核退回（乱办）" in row.inner_text()
    row.locator('select[name="kind"]').select_option("interview")
    row.locator('input[name="note"]').fill("约谈分管负责同志")
    row.locator("button[data-accountability]").click()
    page.locator("#toast", has_text="已记录问责措施").wait_for()
    violations = console_stack.api.get("/v1/violations", params={"unit": UNIT}, as_=f"supervisor@{DISTRICT}")
    [v] = [v for v in violations.json()["items"] if v["petition_id"] == sloppy]
    detail = console_stack.api.get(f"/v1/violations/{v['id']}", as_=f"supervisor@{DISTRICT}").json()
    assert [(a["kind"], a["note"]) for a in detail["actions"]] == [("interview", "约谈分管负责同志")]
    screenshot(page, "console-board-accountability")

    chief = open_page(DESKTOP)
    login(chief, base, f"chief@{DISTRICT}")
    chief.goto(f"{base}/console/#/chief")
    key = chief.locator(f'table[data-chief="key"] tr[data-petition="{sloppy}"]')
    key.wait_for()
    assert "消防隐患，列为重点" in key.inner_text() and "办理中" in key.inner_text()
    screenshot(chief, "console-chief-board")

    chief.goto(f"{base}/console/#/assessment")
    unit_row = chief.locator(f'table[data-assessment="{DISTRICT}"] tr[data-unit="{UNIT}"]')
    unit_row.wait_for()
    text = unit_row.inner_text()
    assert "新邱区城市管理综合行政执法局" in text and "约谈×1 -3" in text and "审核退回（乱办）×1 -2" in text
    assert chief.locator("[data-formula]").inner_text().startswith("年度考核")
    screenshot(chief, "console-assessment")
