"""Seeing ahead (CONTRACT §13) in the console: 热点 and 报告, in a real browser against a real stack.

Given a stack whose clock starts on Monday 26 October 2026: two lamp complaints in 清河门区's 河西社区
that week, a few petitions of 细河区 in October; four weeks later six more lamp complaints in 河西社区
and five in 阜新蒙古族自治县's 大巴村, and the hourly detection run (POST /_local/hotspots).
清河门区's supervisor sees in 热点 exactly the hotspots GET /v1/hotspots answers them (grid, category,
the 7 days against the 8 weeks' mean, the ratio, the department, the status), without the button;
the dispatcher opens the proactive case (主动立案) from the row, and the API then holds it; the city's
admin filters by district and sees each district's own. 细河区's supervisor makes October's 每月一题
in 报告; the row is what GET /v1/reports lists and the report's 受理诉求 is GET /v1/stats's count for
October. A handler has neither view, a dispatcher no 报告, and the API refuses them (403).
The console has no view for typical cases (典型案例) or publicity (发一封短信).

Screenshots (1366×768) go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.e2e import test_console
from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import DESKTOP, login, screenshot

CLOCK_START = "2026-10-26T10:00:00+08:00"  # a Monday morning after the National Day week
HOT, HOT_GRID, HOT_GRID_NAME = "210905", "210905-001-001", "河西社区"  # 清河门区
QUIET_GRID = "210905-002-001"  # 六台社区
FAR, FAR_GRID, FAR_GRID_NAME = "210921", "210921-101-001", "大巴村"  # 阜新蒙古族自治县
REPORTED = "210911"  # 细河区
CATEGORY = "municipal.lighting"
DAY, WEEK = 86400, 7 * 86400

browser = test_console.browser  # one browser; tabs whose console errors fail the test
open_page = test_console.open_page


stack = stack_at(CLOCK_START)


def file(stack, district: str, grid: str | None, phone: str, category: str = CATEGORY, what: str = "") -> str:
    body = {
        "district": district,
        "content": f"{what or '小区路灯不亮，晚上出行不便'}（{uuid.uuid4().hex[:6]}）",
        "category": category,
        "citizen": {"name": "测试", "phone": phone},
        "location": {"address": "测试地址", **({"grid": grid} if grid else {})},
    }
    r = stack.api.post("/v1/petitions", body, as_="local-wechat")
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def world(stack):
    """October's petitions, then four weeks later the bursts, then the detection run."""
    api = stack.api
    baseline = [file(stack, HOT, HOT_GRID, f"1350000{i:04d}") for i in range(2)]
    file(stack, HOT, QUIET_GRID, "13500010000")
    october = [
        file(stack, REPORTED, None, "13500020000", "municipal.road", "北苑街道路面坑洼，雨天积水"),
        file(stack, REPORTED, None, "13500020001"),
        file(stack, REPORTED, None, "13500020002", "municipal.road", "四合镇公路边沟堵塞"),
    ]
    assert api.post("/_local/clock", {"advance_seconds": 4 * WEEK}).status_code == 200  # Mon 23 Nov
    burst = [file(stack, HOT, HOT_GRID, f"1360000{i:04d}") for i in range(6)]
    far = [file(stack, FAR, FAR_GRID, f"1370000{i:04d}") for i in range(5)]
    assert api.post("/_local/clock", {"advance_seconds": DAY}).status_code == 200
    for district in (HOT, FAR):
        r = api.post("/_local/hotspots", {"district": district})
        assert r.status_code == 200 and len(r.json()["opened"]) == 1, r.text
    return {"baseline": baseline, "burst": burst, "far": far, "october": october}


def hotspots(stack, as_: str, district: str | None = None) -> list[dict]:
    r = stack.api.get("/v1/hotspots", params={"district": district} if district else None, as_=as_)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def row_texts(page) -> dict[str, list[str]]:
    rows = page.locator("table[data-hotspots] tbody tr")
    return {
        r.get_attribute("data-hotspot"): [t.strip() for t in r.locator("td").all_inner_texts()]
        for r in rows.all()
    }


def shanghai(iso: str) -> str:
    """The console's `when`: YYYY-MM-DD HH:MM in Beijing time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return (
        datetime.fromisoformat(iso.replace("Z", "+00:00"))
        .astimezone(ZoneInfo("Asia/Shanghai"))
        .strftime("%Y-%m-%d %H:%M")
    )


def number(x: float) -> str:
    """JavaScript's String(n) for the figures the API sends."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def expected_row(h: dict, district_name: str, grid_name: str, category: str, department: str) -> list[str]:
    ratio = f"{h['count'] / h['baseline_weekly']:.1f}×" if h["baseline_weekly"] > 0 else "新发"
    status = {"open": "待处置", "case_opened": "已主动立案", "cooled": "已降温"}[h["status"]]
    return [
        shanghai(h["opened_at"]),
        district_name,
        grid_name,
        category,
        number(h["count"]),
        number(h["baseline_weekly"]),
        ratio,
        department,
        status,
    ]


def test_the_hotspots_a_district_sees_are_the_apis_and_the_dispatcher_opens_the_case(stack, world, open_page):
    base = stack.url
    supervisor = f"supervisor@{HOT}"
    # Given what the API answers 清河门区's supervisor: the one hotspot of 河西社区 × 路灯
    [h] = hotspots(stack, supervisor)
    assert (h["district"], h["grid"], h["category"], h["status"]) == (HOT, HOT_GRID, CATEGORY, "open")
    assert (h["count"], h["baseline_weekly"]) == (6, 0.25), h  # 2 in the 8 weeks before: 0.25 a week

    # When the supervisor opens 热点
    page = open_page(DESKTOP)
    login(page, base, supervisor)
    page.click('.nav a[data-nav="hotspots"]')
    page.locator("table[data-hotspots]").wait_for()
    # Then the table is the API's answer, cell by cell, in Chinese; a supervisor gets no 主动立案
    shown = row_texts(page)
    assert list(shown) == [h["id"]], shown
    assert shown[h["id"]][:9] == expected_row(
        h, "清河门区", HOT_GRID_NAME, "路灯照明", "清河门区城市管理综合行政执法局"
    ), shown
    assert shown[h["id"]][6] == "24.0×"
    assert page.locator("button[data-hotspot-case]").count() == 0
    # and the trend's bar for this week counts it
    bars = page.locator(".hotspot-trend .hotspot-bars div")
    assert bars.count() == 12 and bars.nth(11).get_attribute("title") == "本周：1个"
    screenshot(page, "console-hotspots-supervisor-1366x768")
    # and the API refuses them the dispatcher's action
    assert stack.api.post(f"/v1/hotspots/{h['id']}/case", {}, as_=supervisor).status_code == 403

    # When 清河门区's dispatcher clicks 主动立案 on the row
    page = open_page(DESKTOP)
    login(page, base, f"dispatcher@{HOT}")
    page.click('.nav a[data-nav="hotspots"]')
    page.locator(f'button[data-hotspot-case="{h["id"]}"]').click()
    toast = page.locator("#toast", has_text="已主动立案")
    toast.wait_for()
    # Then the API holds the proactive case with the burst merged into it, as the toast says
    [after] = hotspots(stack, f"dispatcher@{HOT}")
    case = after["case"]
    assert after["status"] == "case_opened" and case, after
    assert set(world["burst"]) <= set(after["merged"]), after["merged"]
    assert toast.inner_text() == f"已主动立案 {case}，并单 {len(after['merged'])} 件"
    proactive = stack.api.get(f"/v1/petitions/{case}", as_=f"dispatcher@{HOT}").json()
    assert (proactive["channel"], proactive["district"]) == ("proactive", HOT), proactive
    for pid in world["burst"]:
        merged = stack.api.get(f"/v1/petitions/{pid}", as_=f"dispatcher@{HOT}").json()
        assert (merged["status"], merged["merged_into"]) == ("merged", case), merged
    # and the row now says so, with a link to the case
    row = page.locator(f'tr[data-hotspot="{h["id"]}"]')
    row.locator("a", has_text=f"{case}（并单{len(after['merged'])}）").wait_for()
    assert "已主动立案" in row.inner_text()
    assert page.locator("button[data-hotspot-case]").count() == 0
    # and the status filter follows the status
    page.select_option('select[name="status"]', "open")
    page.get_by_text("该状态下暂无热点").wait_for()
    page.select_option('select[name="status"]', "case_opened")
    page.locator(f'tr[data-hotspot="{h["id"]}"]').wait_for()
    screenshot(page, "console-hotspots-dispatcher-case-1366x768")
    page.locator(f'tr[data-hotspot="{h["id"]}"] a').click()
    page.locator(f'article.detail[data-petition="{case}"]').wait_for()


def test_the_city_filters_hotspots_by_district_as_the_api_does(stack, world, open_page):
    admin = "admin@210900"
    page = open_page(DESKTOP)
    login(page, stack.url, admin)
    page.click('.nav a[data-nav="hotspots"]')
    page.locator("table[data-hotspots]").wait_for()
    # All districts: every hotspot the API answers the city, newest first
    everything = hotspots(stack, admin)
    assert list(row_texts(page)) == [x["id"] for x in everything]
    assert {x["district"] for x in everything} == {HOT, FAR}
    # 阜新蒙古族自治县 alone: its hotspot, new (no baseline), nothing of 清河门区
    page.select_option('select[name="district"]', FAR)
    [far] = hotspots(stack, admin, FAR)
    page.locator(f'tr[data-hotspot="{far["id"]}"]').wait_for()
    shown = row_texts(page)
    assert list(shown) == [far["id"]], shown
    assert shown[far["id"]][1:4] == ["阜新蒙古族自治县", FAR_GRID_NAME, "路灯照明"]
    assert shown[far["id"]][4:7] == [number(far["count"]), "0", "新发"], shown
    assert far["count"] == 5
    # and an admin opens no case (a dispatcher's act)
    assert page.locator("button[data-hotspot-case]").count() == 0
    page.select_option('select[name="district"]', HOT)
    [hot] = hotspots(stack, admin, HOT)
    page.locator(f'tr[data-hotspot="{hot["id"]}"]').wait_for()
    assert list(row_texts(page)) == [hot["id"]]
    screenshot(page, "console-hotspots-city-1366x768")


def test_a_district_makes_its_monthly_report_and_it_says_what_the_api_counts(stack, world, open_page):
    base = stack.url
    supervisor = f"supervisor@{REPORTED}"
    page = open_page(DESKTOP)
    login(page, base, supervisor)
    page.click('.nav a[data-nav="reports"]')
    page.get_by_text("暂无报告").wait_for()
    # The period offered is last month on the stack's clock (24 Nov 2026 → 2026-10)
    assert page.locator('input[name="period"]').input_value() == "2026-10"
    # When they click 立即生成
    page.click("button[data-make-report]")
    page.locator("#toast", has_text="报告已生成").wait_for()
    row = page.locator(f'tr[data-report="2026-10#{REPORTED}"]')
    row.wait_for()
    # Then the row is what the API lists for the district
    r = stack.api.get("/v1/reports", params={"district": REPORTED}, as_=supervisor)
    assert r.status_code == 200, r.text
    [report] = r.json()["items"]
    assert (report["period"], report["kind"], report["district"]) == ("2026-10", "month", REPORTED)
    cells = [t.strip() for t in row.locator("td").all_inner_texts()]
    assert cells[:4] == ["2026-10", "每月一题", "细河区", shanghai(report["generated_at"])], cells
    assert cells[4] == f"PDF（{-(-report['pdf_bytes'] // 1024)} KB） · 网页版", cells
    # and the PDF behind the link is a PDF
    pdf = requests.get(row.locator("a", has_text="PDF").get_attribute("href"), timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.status_code
    # When they open 网页版: October's 受理诉求 is what GET /v1/stats counts for October
    stats = stack.api.get(
        "/v1/stats", params={"district": REPORTED, "from": "2026-10-01", "to": "2026-10-31"}, as_=supervisor
    ).json()
    received = stats["total"]["received"]
    assert received == len(world["october"])
    with page.expect_popup() as popup:
        row.locator("a", has_text="网页版").click()
    html = popup.value
    html.wait_for_load_state()
    text = html.locator("body").inner_text()
    assert "细河区" in text and "2026-10-01" in text and "2026-10-31" in text, text[:300]
    kpi = re.search(r"受理诉求\s*(\d+)件", text)
    assert kpi and int(kpi.group(1)) == received, text[:600]
    html.close()
    screenshot(page, "console-reports-1366x768")


def test_the_citys_report_for_a_district_lists_its_hotspots_as_the_api_does(stack, world, open_page):
    admin = "admin@210900"
    page = open_page(DESKTOP)
    login(page, stack.url, admin)
    page.click('.nav a[data-nav="reports"]')
    # When the admin chooses 清河门区 and makes November's report so far
    page.select_option('select[name="district"]', HOT)
    page.get_by_text("暂无报告").wait_for()
    page.fill('input[name="period"]', "2026-11")
    page.click("button[data-make-report]")
    page.locator("#toast", has_text="报告已生成").wait_for()
    row = page.locator(f'tr[data-report="2026-11#{HOT}"]')
    row.wait_for()
    [report] = stack.api.get("/v1/reports", params={"district": HOT}, as_=admin).json()["items"]
    assert (report["period"], report["from"], report["to"]) == ("2026-11", "2026-11-01", "2026-11-24")
    assert [t.strip() for t in row.locator("td").all_inner_texts()][:3] == ["2026-11", "每月一题", "清河门区"]
    # Then its 网页版 counts what GET /v1/stats counts and lists the hotspot as GET /v1/hotspots has it
    stats = stack.api.get(
        "/v1/stats", params={"district": HOT, "from": report["from"], "to": report["to"]}, as_=admin
    ).json()
    [h] = hotspots(stack, admin, HOT)
    with page.expect_popup() as popup:
        row.locator("a", has_text="网页版").click()
    html = popup.value
    html.wait_for_load_state()
    text = html.locator("body").inner_text()
    kpi = re.search(r"受理诉求\s*(\d+)件", text)
    assert kpi and int(kpi.group(1)) == stats["total"]["received"], text[:600]
    section = html.locator("table", has_text="近7日件数")
    cells = [t.strip() for t in section.locator("tr").nth(1).locator("td").all_inner_texts()]
    assert cells[:5] == [
        shanghai(h["opened_at"])[:10],
        HOT_GRID_NAME,
        "路灯照明",
        number(h["count"]),
        number(h["baseline_weekly"]),
    ], cells
    assert (
        section.locator("tr").count() == 2
    )  # the heading and 清河门区's one hotspot, not 阜新蒙古族自治县's
    html.close()


def test_operators_without_the_role_see_neither_view_and_the_api_refuses_them(stack, world, open_page):
    base = stack.url
    # A handler: neither 热点 nor 报告; typing the address lands in their inbox
    page = open_page(DESKTOP)
    login(page, base, f"handler@{HOT}.urban")
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "hotspots" not in navs and "reports" not in navs, navs
    for view in ("hotspots", "reports"):
        page.goto(f"{base}/console/#/{view}")
        page.locator('.nav a[data-nav="inbox"].active').wait_for()
        assert page.locator("table[data-hotspots], table[data-reports], .hotspot-trend").count() == 0
    assert stack.api.get("/v1/hotspots", as_=f"handler@{HOT}.urban").status_code == 403
    assert stack.api.get("/v1/reports", as_=f"handler@{HOT}.urban").status_code == 403
    # A dispatcher: 热点 but no 报告
    page = open_page(DESKTOP)
    login(page, base, f"dispatcher@{HOT}")
    navs = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "hotspots" in navs and "reports" not in navs, navs
    page.goto(f"{base}/console/#/reports")
    page.locator('.nav a[data-nav="queue"].active').wait_for()
    assert page.locator("button[data-make-report], table[data-reports]").count() == 0
    assert stack.api.get("/v1/reports", as_=f"dispatcher@{HOT}").status_code == 403
    r = stack.api.post("/v1/reports", {"period": "2026-10", "district": HOT}, as_=f"dispatcher@{HOT}")
    assert r.status_code == 403, r.text
    # Another district's supervisor: not 清河门区's hotspots, in the console or the API
    page = open_page(DESKTOP)
    login(page, base, f"supervisor@{REPORTED}")
    page.click('.nav a[data-nav="hotspots"]')
    page.get_by_text("暂无热点").wait_for()
    assert hotspots(stack, f"supervisor@{REPORTED}") == []
    assert (
        stack.api.get("/v1/hotspots", params={"district": HOT}, as_=f"supervisor@{REPORTED}").status_code
        == 404
    )
    # An auditor reads reports but makes none
    page = open_page(DESKTOP)
    login(page, base, "auditor@210900")
    page.click('.nav a[data-nav="reports"]')
    page.locator(".toolbar h2", has_text="报告").wait_for()
    assert page.locator("button[data-make-report]").count() == 0


def test_an_answer_for_an_earlier_choice_never_replaces_the_newer_one(stack, world, open_page):
    """The admin opens 报告 (all districts) and picks 清河门区 before the first answer has come: when
    the first answer comes last, the list stays 清河门区's."""
    admin = "admin@210900"
    other = stack.api.post("/v1/reports", {"period": "2026-10", "district": "210921"}, as_=admin)
    assert other.status_code in (200, 201), other.text  # a report the all-districts list would show
    page = open_page(DESKTOP)
    login(page, stack.url, admin)
    held = []
    page.route(
        "**/v1/reports*",
        lambda route: held.append(route) if "district=" not in route.request.url else route.continue_(),
    )
    page.click('.nav a[data-nav="reports"]')
    page.wait_for_function("() => document.querySelector('select[name=district]')")
    while not held:
        page.wait_for_timeout(20)  # the all-districts request, held
    with page.expect_response(lambda r: "/v1/reports" in r.url and f"district={HOT}" in r.url):
        page.select_option('select[name="district"]', HOT)
    page.wait_for_function("() => !document.querySelector('#view .loading')")
    shown = page.locator("#view tr[data-report]").evaluate_all("rs => rs.map(r => r.dataset.report)")
    with page.expect_response(lambda r: "/v1/reports" in r.url and "district=" not in r.url):
        held[0].continue_()
    page.wait_for_timeout(200)  # the late answer's turn to (not) render
    after = page.locator("#view tr[data-report]").evaluate_all("rs => rs.map(r => r.dataset.report)")
    assert after == shown and all(r.endswith(f"#{HOT}") for r in after), (shown, after)
    api = stack.api.get("/v1/reports", params={"district": HOT}, as_=admin).json()["items"]
    assert len(after) == len(api)
