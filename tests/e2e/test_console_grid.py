"""The grid network at work (CONTRACT §10) in the console, in a real browser against a real stack.

The grid worker of 太平区矿工小区 signs in from the login list and works in 我的网格 (phone width):
they file a resident's problem and resolve it on the spot, with a photo (小事不出网格; the API then
holds it: channel grid, 已办结待审核, events 受理登记 and 网格员当场解决), and the district's reviewer
closes it; they log a door-knock visit (敲门行动). A problem the grid cannot solve is whistled to the
claim pool (基层吹哨): the handlers of 太平区 see it in 认领池 with the time left, the first to click
报到认领 takes it for their department (办理中, the 7-day clock), the second is told it is gone (409);
the dispatcher whistles one from the detail view and a handler claims it there; one nobody claims
in 4 working hours goes to the district's center (兜底). A grid worker sees and acts within their
grid only: another grid's petition is not in their lists and its detail says 未找到 (the API: 404 to
read or whistle it, 403 to file or visit there), however busy the district. 网格 shows the
district's grids as a tree and each grid's public board.

Screenshots (1366×768 and 375×812) go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
import requests

from tests.e2e import test_console
from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import PHONE, act, login, screenshot

CLOCK_START = "2026-11-24T09:30:00+08:00"  # a Tuesday morning, no holiday near
DISTRICT = "太平区"
D = "210904"  # this module's own stack, but keep to 太平区 anyway
GRID = "210904-001-001-001"  # 矿工小区 (高德街道 › 高德社区 › 矿工小区)
WORKER = f"gridworker@{GRID}"
OTHER_GRID = "210904-002-001"  # 城南社区 (城南街道)
OTHER_WORKER = f"gridworker@{OTHER_GRID}"
STREET_WORKER = "gridworker@210904-001"  # 高德街道: the grid above 矿工小区
PHONE_NUMBER, PHONE_MASKED = "13800138000", "138****8000"
# The smallest PNG there is (1×1, one grey pixel): the on-the-spot photo.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63680000008200815a4b6d3a0000000049454e44ae426082"
)

browser = test_console.browser  # the fixtures: one browser, tabs whose console errors fail the test
open_page = test_console.open_page


console_stack = stack_at(CLOCK_START)


def petition(stack, pid: str, as_: str = "admin@210900") -> dict:
    r = stack.api.get(f"/v1/petitions/{pid}", as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def file_in_grid(stack, worker: str, grid: str, **overrides) -> str:
    """A petition a grid worker filed for a resident of their grid, through the API."""
    body = {
        "district": D,
        "content": f"小区下水道堵塞，污水漫到楼道口（{uuid.uuid4().hex[:6]}）",
        "title": "下水道堵塞",
        "citizen": {"name": "刘洪", "phone": PHONE_NUMBER},
        "location": {"grid": grid, "address": "太平区高德街道矿工小区5号楼"},
        **overrides,
    }
    r = stack.api.post("/v1/grid/petitions", body, as_=worker)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def listed(stack, who: str) -> list[str]:
    """Every petition GET /v1/petitions gives them, following next_cursor, newest first."""
    ids, cursor = [], None
    while True:
        r = stack.api.get(
            "/v1/petitions", params={"limit": 50, "cursor": cursor} if cursor else {"limit": 50}, as_=who
        )
        assert r.status_code == 200, r.text
        ids += [x["id"] for x in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return ids


def filed_on_the_spot(page, form, what: str) -> str:
    """Submit the filing form; the petition number from the page's message, or fail with the form's error."""
    form.locator('button[type="submit"]').click()
    error = form.locator(".form-error")
    page.wait_for_function(
        "() => !document.querySelector('form[data-grid-file] .form-error').hidden"
        " || document.querySelector('.toast.ok')"
    )
    assert error.is_hidden(), f"{what} failed: {error.inner_text()}"
    return toast_id(page, r"已受理（([^）]+)），当场解决待审核")


def toast_id(page, pattern: str) -> str:
    """The petition number in the success message the page shows (e.g. 已受理（ID）…)."""
    toast = page.locator(".toast.ok", has_text=re.compile(pattern))
    toast.wait_for()
    m = re.search(pattern, toast.inner_text())
    assert m, toast.inner_text()
    return m.group(1)


# --- signing in --------------------------------------------------------------------------------------


def test_the_login_list_offers_the_grid_workers(console_stack, open_page):
    """CONTRACT §3 seeds `gridworker@<grid>` operators; README: the login page lists the seeded
    operators of a district. 太平区's list must offer its grid workers (网格员), e.g. 矿工小区's."""
    page = open_page()
    page.goto(f"{console_stack.url}/console/#/")
    page.select_option("#login-district", D)
    listed = page.locator(f'#operators[data-district="{D}"]')
    listed.locator('button[data-user="dispatcher@210904"]').wait_for()
    users = listed.locator("button[data-user]").evaluate_all("bs => bs.map(b => b.dataset.user)")
    workers = [u for u in users if u.startswith("gridworker@")]
    assert WORKER in workers, f"the login list of {DISTRICT} offers no grid worker: {users}"
    assert "网格员" in listed.locator(f'button[data-user="{WORKER}"]').inner_text()


def test_every_view_a_grid_worker_is_offered_opens(console_stack, open_page):
    """What the nav offers a grid worker opens without an error box or a console error."""
    page = open_page(PHONE)
    login(page, console_stack.url, WORKER)
    nav = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "mygrid" in nav, nav
    page.locator('.nav a[data-nav="mygrid"].active').wait_for()  # where they land: their own work
    broken = {}
    for name in nav:
        page.click(f'.nav a[data-nav="{name}"]')
        page.locator(f'.nav a[data-nav="{name}"].active').wait_for()
        page.wait_for_load_state("networkidle")
        page.locator("#view .loading").first.wait_for(state="detached")
        errors = page.locator("#view .error[role=alert]")
        if errors.count():
            broken[name] = errors.first.inner_text()
    assert not broken, f"views offered to a grid worker that fail: {broken}"


# --- 我的网格: filing, resolving on the spot, visiting -------------------------------------------------


def test_a_grid_worker_resolves_on_the_spot_and_the_reviewer_closes_it(console_stack, open_page):
    base = console_stack.url
    # Given the grid worker of 矿工小区 signs in on a phone: 我的网格 among their views
    page = open_page(PHONE)
    login(page, base, WORKER)
    who = page.locator(".who").inner_text()
    assert "网格员" in who and f"辖区：{DISTRICT}" in who
    nav = page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert "mygrid" in nav and "pool" not in nav and "queue" not in nav, nav
    page.click('.nav a[data-nav="mygrid"]')
    mine = page.locator(f'.mygrid[data-grid="{GRID}"]')
    mine.wait_for()
    mine.locator(".grid-card h3", has_text="本网格在办诉求").wait_for()
    mine.get_by_text("本网格暂无在办诉求").wait_for()
    mine.get_by_text("认领池暂无待认领诉求").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # When they file a resident's problem, tick 已当场解决 and write the reply
    form = page.locator("form[data-grid-file]")
    content = "矿工小区5号楼单元门闭门器损坏，门关不上，冬天楼道很冷。"
    form.locator('textarea[name="content"]').fill(content)
    form.locator('input[name="phone"]').fill(PHONE_NUMBER)
    form.locator('input[name="address"]').fill("太平区高德街道矿工小区5号楼2单元")
    form.locator('input[name="on_spot"]').check()
    reply = "已联系物业当场更换闭门器，单元门可正常关闭。"
    form.locator('textarea[name="reply"]').fill(reply)
    screenshot(page, "grid-01-on-the-spot-375x812")
    pid = filed_on_the_spot(page, form, "filing on the spot")

    # Then the page says it is filed and resolved on the spot, and the form is clear for the next one
    assert form.locator('textarea[name="content"]').input_value() == ""
    assert not form.locator('input[name="on_spot"]').is_checked()
    # and 本网格在办诉求 lists it as 已办结待审核
    row = mine.locator(f'li[data-petition="{pid}"]')
    row.wait_for()
    assert "已办结待审核" in row.inner_text()

    # And the API holds it: channel grid, reported by the worker, in their grid, resolved at grid level
    p = petition(console_stack, pid)
    assert (p["channel"], p["district"], p["status"]) == ("grid", D, "resolved")
    assert (p["reported_by"], p["location"]["grid"]) == (WORKER, GRID)
    assert (p["reply"], p["answered_by"], p["department"]) == (reply, WORKER, None)
    assert p["citizen"]["phone"] == PHONE_MASKED
    types = [e["type"] for e in p["timeline"]]
    assert types[:2] == ["created", "resolved_on_spot"], types
    on_spot = p["timeline"][1]
    assert (on_spot["actor"], on_spot["reply"], on_spot["grid"]) == (WORKER, reply, GRID)

    # And its detail reads as the worker would: 网格员代办, 网格员当场解决, the masked phone, the grid
    row.locator("a.pid").click()
    detail = page.locator(f'article.detail[data-petition="{pid}"]')
    detail.wait_for()
    assert detail.get_attribute("data-status") == "resolved"
    meta = detail.locator("dl.meta").inner_text()
    assert "网格员代办" in meta and PHONE_MASKED in meta and GRID in meta, meta
    assert PHONE_NUMBER not in page.locator("body").inner_text()
    page.locator(
        'ol.timeline li[data-event="resolved_on_spot"] .ev-type', has_text="网格员当场解决"
    ).wait_for()
    assert page.locator(".reply").inner_text() == reply
    assert page.locator("form[data-action]").count() == 0  # resolved: nothing more for the worker
    screenshot(page, "grid-02-on-the-spot-detail-375x812")

    # When the district's reviewer approves it in 审核结案
    boss = open_page()
    login(boss, base, f"reviewer@{D}")
    card = boss.locator(f'article.card[data-petition="{pid}"]')
    card.locator(".reply").filter(has_text=reply).wait_for()
    act(boss, pid, card.locator('form[data-action="review"] button', has_text="审核通过并结案"))

    # Then it is closed, and the resident gets the reply with the satisfaction question by SMS
    assert petition(console_stack, pid)["status"] == "closed"
    sms = console_stack.api.get("/_local/outbox", params={"to": f"+86{PHONE_NUMBER}"}).json()
    assert any(pid in m["message"] and "满意" in m["message"] for m in sms if m["kind"] == "sms"), sms


def test_a_photo_taken_on_the_spot_goes_with_the_resolution(console_stack, open_page):
    """The form offers 照片或凭证: the page asks POST /v1/uploads, PUTs the file to the presigned URL
    (the bucket, another origin than the page's) and sends the key with the resolution."""
    page = open_page(PHONE)
    login(page, console_stack.url, WORKER)
    page.goto(f"{console_stack.url}/console/#/mygrid")
    form = page.locator("form[data-grid-file]")
    form.locator('textarea[name="content"]').fill("矿工小区3号楼前井盖松动，行人踩上去晃动，有安全隐患。")
    form.locator('input[name="on_spot"]').check()
    form.locator('textarea[name="reply"]').fill("已联系物业当场固定井盖，并拍照留存。")
    form.locator('input[name="photo"]').set_input_files(
        {"name": "manhole.png", "mimeType": "image/png", "buffer": PNG}
    )
    pid = filed_on_the_spot(page, form, "filing on the spot with a photo")
    p = petition(console_stack, pid)
    assert p["status"] == "resolved"
    [on_spot] = [e for e in p["timeline"] if e["type"] == "resolved_on_spot"]
    assert len(on_spot.get("evidence") or []) == 1, on_spot
    assert [e["content_type"] for e in p.get("evidence") or []] == ["image/png"]


def test_the_filing_form_says_what_is_wrong_and_stores_nothing(console_stack, open_page):
    page = open_page(PHONE, allow=("status of 400",))
    login(page, console_stack.url, WORKER)
    page.goto(f"{console_stack.url}/console/#/mygrid")
    before = listed(console_stack, WORKER)
    form = page.locator("form[data-grid-file]")
    error = form.locator(".form-error")
    # 已当场解决 ticked without a reply to the resident
    form.locator('textarea[name="content"]').fill("矿工小区6号楼楼道扶手松动，老人上下楼有危险。")
    form.locator('input[name="phone"]').fill(PHONE_NUMBER)
    form.locator('input[name="on_spot"]').check()
    form.locator('button[type="submit"]').click()
    error.filter(has_text="resolved_on_spot.reply").wait_for()
    assert error.inner_text().startswith("填写内容有误"), error.inner_text()
    # a phone that is no mainland mobile number
    form.locator('input[name="on_spot"]').uncheck()
    form.locator('input[name="phone"]').fill("12345678901")
    form.locator('button[type="submit"]').click()
    error.filter(has_text="citizen.phone").wait_for()
    # what was typed stays for the worker to correct, and nothing was stored
    assert form.locator('textarea[name="content"]').input_value().startswith("矿工小区6号楼")
    assert listed(console_stack, WORKER) == before


def test_the_reviewer_sees_the_photo_of_an_on_the_spot_resolution(console_stack, open_page):
    """README §10: GET /v1/petitions/{id} lists a petition's evidence for operators who may see it,
    each with a presigned GET (infra: the console shows it straight from the bucket). The reviewer,
    deciding whether to close it, must be able to open the photo from the detail."""
    api = console_stack.api
    up = api.post("/v1/uploads", {"content_type": "image/png", "size": len(PNG)}, as_=WORKER)
    assert up.status_code == 201, up.text
    put = requests.put(up.json()["url"], data=PNG, headers={"Content-Type": "image/png"}, timeout=10)
    assert put.status_code == 200, put.text
    key = up.json()["evidence"]
    body = {
        "district": D,
        "content": "矿工小区2号楼前路面井盖缺失，已临时围挡并更换。",
        "anonymous": True,
        "location": {"grid": GRID},
        "resolved_on_spot": {"reply": "已当场更换井盖，附照片。", "evidence": [key]},
    }
    r = api.post("/v1/grid/petitions", body, as_=WORKER)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    links = petition(console_stack, pid, as_=f"reviewer@{D}").get("evidence") or []
    assert [e["key"] for e in links] == [key] and links[0]["url"], links
    page = open_page()
    login(page, console_stack.url, f"reviewer@{D}")
    page.goto(f"{console_stack.url}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    page.locator('form[data-action="review"]').first.wait_for()
    shown = page.locator(f'a[href*="{key}"], img[src*="{key}"]')
    assert shown.count() >= 1, "the detail offers no way to see the on-the-spot photo"


def test_a_grid_worker_logs_a_door_knock_visit(console_stack, open_page):
    base = console_stack.url
    page = open_page(PHONE)
    login(page, base, WORKER)
    page.goto(f"{base}/console/#/mygrid")
    visits = page.locator(".grid-card", has=page.locator("h3", has_text="敲门行动"))
    month = visits.locator("p.muted").filter(has_text="2026-11：")
    month.wait_for()
    before = re.match(r"2026-11：(\d+)次，(\d+)户", month.inner_text())
    assert before, month.inner_text()
    form = page.locator("form[data-visit]")
    form.locator('input[name="households"]').fill("12")
    form.locator('textarea[name="notes"]').fill("走访矿工小区7号楼，了解冬季供暖情况")
    form.locator('textarea[name="issues"]').fill("7号楼3单元暖气不热\n楼道灯损坏")
    form.locator('button[type="submit"]').click()
    page.locator(".toast.ok", has_text="已记录敲门行动").wait_for()
    n, households = int(before.group(1)) + 1, int(before.group(2)) + 12
    visits.locator("p.muted", has_text=f"2026-11：{n}次，{households}户").wait_for()
    visits.locator("ul.visits li", has_text="12户 · 走访矿工小区7号楼，了解冬季供暖情况").wait_for()
    # The API holds it: their grid, by them, with the two issues
    r = console_stack.api.get("/v1/grid/visits", params={"grid": GRID}, as_=WORKER)
    assert r.status_code == 200, r.text
    [v] = [v for v in r.json()["items"] if v["notes"] == "走访矿工小区7号楼，了解冬季供暖情况"]
    assert (v["grid"], v["worker"], v["households"], v["issues"]) == (
        GRID,
        WORKER,
        12,
        ["7号楼3单元暖气不热", "楼道灯损坏"],
    )


# --- the claim pool: 基层吹哨、部门报到 ---------------------------------------------------------------------


def test_a_whistled_petition_is_claimed_by_the_first_handler(console_stack, open_page):
    base = console_stack.url
    # Given the grid worker filed a problem their grid cannot solve (not on the spot: 待分拨)
    page = open_page(PHONE)
    login(page, base, WORKER)
    page.goto(f"{base}/console/#/mygrid")
    form = page.locator("form[data-grid-file]")
    form.locator('textarea[name="content"]').fill(
        "矿工小区北侧排水管网老化破裂，雨后积水严重，需多部门处理。"
    )
    form.locator('input[name="phone"]').fill(PHONE_NUMBER)
    form.locator('button[type="submit"]').click()
    pid = toast_id(page, r"已受理（([^）]+)）")
    assert "当场解决" not in page.locator(".toast.ok").inner_text()
    p = petition(console_stack, pid)
    assert (p["channel"], p["status"], p["location"]["grid"]) == ("grid", "received", GRID)

    # When they open it from 本网格在办诉求 (吹哨) and whistle it with a note
    row = page.locator(f'.mygrid li[data-petition="{pid}"]')
    row.wait_for()
    assert "待分拨" in row.inner_text()
    row.locator("a", has_text="吹哨").click()
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    page.locator("details.more summary", has_text="吹哨").click()
    whistle = page.locator('form[data-action="whistle"]')
    whistle.locator('textarea[name="note"]').fill("管网改造需住建、城管两个部门，网格内解决不了")
    act(page, pid, whistle.locator('button[type="submit"]'))

    # Then it is 待认领 in the district's pool, with the claim stage's clock running
    p = petition(console_stack, pid)
    assert p["status"] == "posted"
    whistled = [e for e in p["timeline"] if e["type"] == "whistled"]
    assert [(e["actor"], e["note"]) for e in whistled] == [
        (WORKER, "管网改造需住建、城管两个部门，网格内解决不了")
    ]
    page.locator(f'article.detail[data-petition="{pid}"][data-status="posted"]').wait_for()
    page.locator('ol.timeline li[data-event="whistled"] .ev-type', has_text="基层吹哨").wait_for()
    page.goto(f"{base}/console/#/mygrid")
    page.locator(f'.mygrid ul[data-pool] li[data-pool-item="{pid}"]').wait_for()
    assert page.locator("button[data-claim]").count() == 0  # a grid worker whistles, never claims

    # When two handlers of 太平区 open 认领池, and 城管 claims first
    urban = open_page()
    login(urban, base, f"handler@{D}.urban")
    urban.click('.nav a[data-nav="pool"]')
    item = urban.locator(f'li[data-pool-item="{pid}"]')
    item.wait_for()
    assert "吹哨" in item.inner_text() and "剩余" in item.inner_text(), item.inner_text()
    # with what the whistle asks of the departments, before anyone opens the petition
    note = item.locator("[data-note]").inner_text()
    assert note == "吹哨说明：管网改造需住建、城管两个部门，网格内解决不了", note
    housing = open_page(allow=("status of 409",))
    login(housing, base, f"handler@{D}.housing")
    housing.goto(f"{base}/console/#/pool")
    late = housing.locator(f'button[data-claim="{pid}"]')
    late.wait_for()
    screenshot(urban, "grid-03-pool-1366x768")
    item.locator(f'button[data-claim="{pid}"]').click()
    urban.locator(".toast.ok", has_text=f"报到认领成功（{pid}）").wait_for()
    urban.get_by_text("认领池暂无待认领诉求").wait_for()

    # Then it is accepted for 城管 with the 7-day resolve clock; the later claim is told it is gone
    p = petition(console_stack, pid)
    assert (p["status"], p["department"]) == ("accepted", f"{D}.urban")
    assert p["stage"]["name"] == "resolve" and p["stage"]["due_at"], p["stage"]
    assert [e["actor"] for e in p["timeline"] if e["type"] == "claimed"] == [f"handler@{D}.urban"]
    late.click()
    housing.locator(".toast.error", has_text="诉求状态已变化").wait_for()
    p = petition(console_stack, pid)
    assert (p["status"], p["department"]) == ("accepted", f"{D}.urban")
    r = console_stack.api.post(f"/v1/petitions/{pid}/claim", {}, as_=f"handler@{D}.housing")
    assert r.status_code == 409, r.text

    # And 城管's 本部门工单 holds it 办理中, with 办结 offered
    urban.click('.nav a[data-nav="inbox"]')
    urban.click('.tab[data-tab="accepted"]')
    mine = urban.locator(f'article.card[data-petition="{pid}"]')
    mine.locator('form[data-action="resolve"]').wait_for()
    assert "办理中" in mine.inner_text()


def test_the_dispatcher_whistles_and_a_handler_claims_from_the_detail(console_stack, open_page):
    base = console_stack.url
    pid = file_in_grid(console_stack, WORKER, GRID, title="小区路面坑洼")
    # When the district's dispatcher whistles it from its detail
    page = open_page()
    login(page, base, f"dispatcher@{D}")
    page.goto(f"{base}/console/#/p/{pid}")
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    page.locator("details.more summary", has_text="吹哨").click()
    whistle = page.locator('form[data-action="whistle"]')
    # an empty note is refused before it leaves the page
    whistle.locator('button[type="submit"]').click()
    assert "请填写吹哨说明" in whistle.locator(".form-error").inner_text()
    assert petition(console_stack, pid)["status"] == "received"
    whistle.locator('textarea[name="note"]').fill("涉及道路和管线，请相关部门报到")
    act(page, pid, whistle.locator('button[type="submit"]'))
    assert petition(console_stack, pid)["status"] == "posted"
    # Then the dispatcher's 认领池 shows it with the time left, and no claim button
    page.click('.nav a[data-nav="pool"]')
    item = page.locator(f'li[data-pool-item="{pid}"]')
    item.wait_for()
    assert "小区路面坑洼" in item.inner_text() and "剩余" in item.inner_text()
    assert page.locator("button[data-claim]").count() == 0
    page.locator("[data-grid-stats] ul.figures li", has_text="吹哨").wait_for()

    # When a handler of another department of 太平区 opens it: 报到认领 with the time left
    handler = open_page()
    login(handler, base, f"handler@{D}.market")
    handler.goto(f"{base}/console/#/p/{pid}")
    handler.locator(f'article.detail[data-petition="{pid}"][data-status="posted"]').wait_for()
    claim = handler.locator('form[data-action="claim"]')
    assert "距兜底截止" in claim.inner_text()
    assert handler.locator("form[data-action]").evaluate_all("fs => fs.map(f => f.dataset.action)") == [
        "claim"
    ]
    act(handler, pid, claim.locator('button[type="submit"]', has_text="报到认领"))

    # Then it is theirs, accepted, and the pool has it no more
    p = petition(console_stack, pid)
    assert (p["status"], p["department"]) == ("accepted", f"{D}.market")
    handler.locator(f'article.detail[data-petition="{pid}"][data-status="accepted"]').wait_for()
    handler.locator('ol.timeline li[data-event="claimed"] .ev-type', has_text="部门报到认领").wait_for()
    pool = console_stack.api.get("/v1/pool", params={"district": D}, as_=f"dispatcher@{D}").json()
    assert pid not in [i["id"] for i in pool["items"]]
    # and a handler of another district never saw it in their pool
    other = console_stack.api.get("/v1/pool", as_="handler@210905.urban").json()
    assert pid not in [i["id"] for i in other["items"]]


# --- a grid worker's scope ------------------------------------------------------------------------------


def test_a_grid_worker_sees_and_acts_within_their_grid_only(console_stack, open_page):
    base = console_stack.url
    # Given one petition of 城南社区 and one of 矿工小区
    theirs = file_in_grid(console_stack, OTHER_WORKER, OTHER_GRID, title="城南社区路灯不亮")
    ours = file_in_grid(console_stack, WORKER, GRID, title="矿工小区垃圾清运不及时")

    # When the worker of 矿工小区 looks: their lists hold their grid's, not 城南社区's
    page = open_page(allow=("status of 404",))
    login(page, base, WORKER)
    page.goto(f"{base}/console/#/mygrid")
    page.locator(f'.mygrid li[data-petition="{ours}"]').wait_for()
    assert page.locator(f'.mygrid li[data-petition="{theirs}"]').count() == 0
    page.goto(f"{base}/console/#/list")
    page.locator(f'article.card[data-petition="{ours}"]').wait_for()
    assert page.locator(f'article.card[data-petition="{theirs}"]').count() == 0
    # and 城南社区's detail says 未找到 (not theirs), offering nothing
    page.goto(f"{base}/console/#/p/{theirs}")
    page.locator(".error[role=alert]").filter(has_text="未找到，或不在您的管辖范围内").wait_for()
    assert page.locator("form[data-action]").count() == 0

    # Then the API agrees: 404 to read or whistle it, 403 to file or visit in 城南社区
    api = console_stack.api
    assert api.get(f"/v1/petitions/{theirs}", as_=WORKER).status_code == 404
    r = api.post(f"/v1/petitions/{theirs}/whistle", {"note": "越界吹哨"}, as_=WORKER)
    assert r.status_code == 404, r.text
    assert petition(console_stack, theirs)["status"] == "received"
    body = {
        "district": D,
        "content": "城南社区有人反映路面结冰，请处理",
        "citizen": {"phone": PHONE_NUMBER},
        "location": {"grid": OTHER_GRID},
    }
    r = api.post("/v1/grid/petitions", body, as_=WORKER)
    assert r.status_code == 403 and r.json()["error"]["field"] == "location.grid", r.text
    r = api.post(
        "/v1/grid/petitions",
        {**body, "district": "210905", "location": {"grid": "210905-001-001"}},
        as_=WORKER,
    )
    assert r.status_code == 403, r.text
    r = api.post("/v1/grid/visits", {"grid": OTHER_GRID, "households": 3, "notes": "越界走访"}, as_=WORKER)
    assert r.status_code == 403, r.text
    assert api.get("/v1/grid/visits", params={"grid": OTHER_GRID}, as_=WORKER).status_code == 404
    # and a refused filing stored nothing: 城南社区's worker still sees only their own one
    assert listed(console_stack, OTHER_WORKER) == [theirs]

    # And the worker of 高德街道 (the grid above 矿工小区) sees 矿工小区's petition and may whistle it
    street = open_page()
    login(street, base, STREET_WORKER)
    street.goto(f"{base}/console/#/mygrid")
    street.locator(f'.mygrid li[data-petition="{ours}"]').wait_for()
    assert street.locator(f'.mygrid li[data-petition="{theirs}"]').count() == 0
    street.goto(f"{base}/console/#/p/{ours}")
    street.locator(f'article.detail[data-petition="{ours}"]').wait_for()
    assert "whistle" in street.locator("form[data-action]").evaluate_all(
        "fs => fs.map(f => f.dataset.action)"
    )


# --- 网格: the grid directory and the public boards ------------------------------------------------------


def test_the_grid_directory_shows_the_tree_and_each_public_board(console_stack, open_page):
    page = open_page()
    login(page, console_stack.url, f"dispatcher@{D}")
    page.click('.nav a[data-nav="grids"]')
    tree = page.locator(".grid-tree")
    tree.locator(f'button[data-grid="{GRID}"]').wait_for()
    # 太平区's grids as a tree: 高德街道 › 高德社区 › 矿工小区, 城南街道 › 城南社区, 水泉镇 › 水泉村
    codes = tree.locator("button[data-grid]").evaluate_all("bs => bs.map(b => b.dataset.grid)")
    assert sorted(codes) == sorted(
        ["210904-001", "210904-001-001", GRID, "210904-002", OTHER_GRID, "210904-101", "210904-101-001"]
    )
    nested = tree.locator(
        'li:has(> button[data-grid="210904-001"]) li:has(> button[data-grid="210904-001-001"])'
    )
    assert nested.locator(f'button[data-grid="{GRID}"]').count() == 1
    assert "社区" in tree.locator('button[data-grid="210904-001-001"] small').inner_text()
    page.get_by_text("选择左侧网格查看网格员公示牌").wait_for()

    # 矿工小区's board: the worker's name, phone, duties and the supervision phone
    tree.locator(f'button[data-grid="{GRID}"]').click()
    board = page.locator(f'[data-board="{GRID}"]')
    board.get_by_text("网格员 黄海涛").wait_for()
    text = board.inner_text()
    assert "矿工小区" in text and f"编码 {GRID}" in text and "城市网格" in text
    assert "联系电话：18304180008" in text and "监督电话：0418-3312345" in text
    assert "职责：负责小区巡查、物业问题协调和诉求代办" in text
    assert "picked" in (tree.locator(f'button[data-grid="{GRID}"]').get_attribute("class") or "")
    screenshot(page, "grid-04-directory-1366x768")
    # a grid with no worker of its own says where to look; a village reads as 农村网格
    tree.locator('button[data-grid="210904-001"]').click()
    page.locator('[data-board="210904-001"]').get_by_text("本网格未设专职网格员，请查看上级网格").wait_for()
    tree.locator('button[data-grid="210904-101-001"]').click()
    village = page.locator('[data-board="210904-101-001"]')
    village.get_by_text("网格员 吴德明").wait_for()
    assert "农村网格" in village.inner_text()

    # The city's users pick the district: 清河门区's grids replace 太平区's
    city = open_page()
    login(city, console_stack.url, "supervisor@210900")
    city.click('.nav a[data-nav="grids"]')
    city.locator('.grid-tree button[data-grid="210902-001"]').wait_for()  # 海州区 first
    city.select_option('.toolbar select[name="district"]', "210905")
    city.locator('.grid-tree button[data-grid="210905-001-001"]').wait_for()
    assert city.locator(f'.grid-tree button[data-grid="{GRID}"]').count() == 0
    city.click('.grid-tree button[data-grid="210905-001-001"]')
    city.locator('[data-board="210905-001-001"]').get_by_text("网格员 徐桂香").wait_for()


def test_the_public_board_names_the_building_heads_with_masked_phones(console_stack, open_page):
    """CONTRACT §10: the public board adds the building heads (楼栋长: name, building, masked phone).
    The API's board has 矿工小区's; 网格 shows the public board, so it names them too."""
    board = console_stack.api.get(f"/v1/grids/{GRID}").json()
    assert board["building_heads"] == [
        {"name": "郑桂兰", "building": "矿工小区7号楼", "phone": "139****0105"}
    ]
    page = open_page()
    login(page, console_stack.url, f"dispatcher@{D}")
    page.click('.nav a[data-nav="grids"]')
    page.click(f'.grid-tree button[data-grid="{GRID}"]')
    shown = page.locator(f'[data-board="{GRID}"]')
    shown.get_by_text("网格员 黄海涛").wait_for()
    text = shown.inner_text()
    assert "13941800105" not in text
    assert "楼栋长" in text and "郑桂兰" in text and "矿工小区7号楼" in text and "139****0105" in text, (
        f"the board in 网格 leaves out the building heads: {text!r}"
    )


# --- 兜底: what nobody claims, the center takes ---------------------------------------------------------


def test_what_nobody_claims_in_four_working_hours_the_center_takes(console_stack, open_page):
    base = console_stack.url
    pid = file_in_grid(console_stack, WORKER, GRID, title="矿工小区化粪池外溢")
    r = console_stack.api.post(f"/v1/petitions/{pid}/whistle", {"note": "需环卫、住建处理"}, as_=WORKER)
    assert r.status_code == 200, r.text
    claim_due = next(
        i for i in console_stack.api.get("/v1/pool", as_=f"dispatcher@{D}").json()["items"] if i["id"] == pid
    )["claim_due"]
    [whistled] = [e for e in r.json()["timeline"] if e["type"] == "whistled"]
    # claim_within: 4 working hours, all on this Tuesday
    assert datetime.fromisoformat(claim_due) - datetime.fromisoformat(whistled["at"]) == timedelta(hours=4)
    # Given a handler of 太平区 sees it in 认领池 with under 4 hours left
    page = open_page(allow=("status of 404",))
    login(page, base, f"handler@{D}.civil")
    page.click('.nav a[data-nav="pool"]')
    item = page.locator(f'li[data-pool-item="{pid}"]')
    item.wait_for()
    assert item.locator(".countdown").get_attribute("data-due") == claim_due
    left = item.locator(".countdown").inner_text()
    assert left.startswith("剩余") and "小时" in left, left

    # When nobody claims it for 4 working hours and the sweep runs
    r = console_stack.api.post("/_local/clock", {"advance_seconds": 4 * 3600 + 60})
    assert r.status_code == 200, r.text
    assert console_stack.api.post("/_local/sweep").status_code == 200

    # Then the district's center has it, accepted at once, and the supervisor was told
    p = petition(console_stack, pid)
    assert (p["status"], p["department"]) == ("accepted", f"{D}.center")
    types = [e["type"] for e in p["timeline"]]
    assert "fallback_assigned" in types and "claimed" not in types, types
    notices = [e for e in p["timeline"] if e["type"] == "supervision_notice"]
    assert notices, types
    # the handler's pool has it no more, and it is not theirs to read now
    page.reload()
    page.locator(".mygrid ul[data-pool], .mygrid .empty").first.wait_for()
    page.locator(f'li[data-pool-item="{pid}"]').wait_for(state="detached")
    page.goto(f"{base}/console/#/p/{pid}")
    page.locator(".error[role=alert]").filter(has_text="未找到").wait_for()
    # and the center's handler finds it 办理中 with 办结 offered, 无人认领，中心兜底 on its timeline
    center = open_page()
    login(center, base, f"handler@{D}.center")
    center.click('.tab[data-tab="accepted"]')
    card = center.locator(f'article.card[data-petition="{pid}"]')
    card.locator('form[data-action="resolve"]').wait_for()
    assert "太平区社会治理综合服务中心" in card.locator("dl.meta").inner_text()
    card.locator("a.pid").click()
    center.locator(
        'ol.timeline li[data-event="fallback_assigned"] .ev-type', has_text="无人认领，中心兜底"
    ).wait_for()
    # and the district's figures count one fallback
    f = console_stack.api.get("/v1/stats/grid", as_=f"dispatcher@{D}").json()
    assert f["fallbacks"] >= 1, f
    disp = open_page()
    login(disp, base, f"dispatcher@{D}")
    disp.goto(f"{base}/console/#/pool")
    figures = disp.locator("[data-grid-stats] ul.figures")
    figures.wait_for()
    line = f"吹哨 {f['posted']} 件：报到认领 {f['claimed']}，中心兜底 {f['fallbacks']}，待认领 {f['open']}"
    assert line in figures.inner_text(), figures.inner_text()


# --- a busy district ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_district(console_stack):
    """A petition of 矿工小区 waiting (待分拨), then 50 newer ones of 太平区 from the mini program."""
    ours = file_in_grid(console_stack, WORKER, GRID, title="矿工小区供暖温度不达标")
    r = console_stack.api.post("/_local/clock", {"advance_seconds": 60})  # the others are newer
    assert r.status_code == 200, r.text
    for n in range(50):
        body = {
            "district": D,
            "content": f"太平区某路段路灯不亮，夜间出行不便（第{n + 1}件，{uuid.uuid4().hex[:6]}）",
            "citizen": {"phone": f"139{n:08d}"},
        }
        r = console_stack.api.post("/v1/petitions", body, as_="local-wechat")
        assert r.status_code == 201, r.text
    assert ours in listed(console_stack, WORKER)  # the API gives it to them, a few pages on
    return ours


def test_my_grid_lists_its_open_petitions_however_busy_the_district(console_stack, open_page, busy_district):
    """README: a grid worker's GET /v1/petitions is their district's partition kept to their grids, so
    "a page may hold fewer items than limit (follow next_cursor)". 本网格在办诉求 must still list the
    grid's petition that 50 newer ones of other grids push off the first page."""
    page = open_page(PHONE)
    login(page, console_stack.url, WORKER)
    page.goto(f"{console_stack.url}/console/#/mygrid")
    open_ = page.locator(".grid-card", has=page.locator("h3", has_text="本网格在办诉求"))
    open_.locator("ul[data-open], .empty, .error").first.wait_for()
    assert open_.locator(f'li[data-petition="{busy_district}"]').count() == 1, (
        f"本网格在办诉求 does not list {busy_district}: {open_.inner_text()!r}"
    )


def test_the_grid_workers_search_pages_on_to_their_petitions(console_stack, open_page, busy_district):
    """诉求查询 for a grid worker: pages of their district kept to their grid may come back empty but
    with a next page; the page must not say 没有符合条件的诉求 while 加载更多 would find theirs."""
    page = open_page(PHONE)
    login(page, console_stack.url, WORKER)
    page.goto(f"{console_stack.url}/console/#/list")
    page.locator(".feed[data-loaded]").wait_for()
    card = page.locator(f'article.card[data-petition="{busy_district}"]')
    for _ in range(10):
        page.locator(".feed-foot .loading").wait_for(state="detached")
        if card.count():
            break
        more = page.locator("button[data-more]")
        said_none = page.locator(".feed .empty", has_text="没有符合条件的诉求").count()
        assert not (said_none and more.count()), (
            "诉求查询 says 没有符合条件的诉求 and offers 加载更多 at once"
        )
        more.click()
    card.wait_for()
