"""The front desk (首接首办, CONTRACT §9) in the console, in a real browser against a real stack.

A window clerk of 彰武县社会治理综合服务中心 registers a walk-in and answers it on the spot (即办); it is
in 我首问的诉求 as 已办结待审核, the district's reviewer closes it, and 数据看板 counts it: 即办率
1/1 for the district's walk-ins. A 12345 agent registers for any district and answers from the
detail view; a desk sees what its unit received and nothing else.

Screenshots (1280×800) go to artifacts/screenshots/; with FZT_DOCS_SCREENSHOTS=1 the two of the
README go to docs/ as well (console-desk-register.png, console-desk-mine.png), as small
palette PNGs.
"""

from __future__ import annotations

import base64
import os
import struct
import uuid
import zlib
from pathlib import Path

import pytest

from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import Watched, act, chromium, chromium_missing, login, screenshot

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CLOCK_START = "2026-11-18T09:00:00+08:00"  # a Wednesday morning, no holiday near
SCREEN = {"width": 1280, "height": 800}
DESK = "desk@210922.center"
HOTLINE = "desk@210900.hotline"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


desk_stack = stack_at(CLOCK_START)


@pytest.fixture(scope="module")
def browser():
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    with chromium() as context:
        yield context


@pytest.fixture
def open_page(browser):
    """A fresh tab at 1280×800 whose console errors fail the test."""
    pages = []

    def make(allow: tuple[str, ...] = ()):
        page = browser.new_page()
        page.set_viewport_size(SCREEN)
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


def petition(stack, pid: str, as_: str = "admin@210900") -> dict:
    r = stack.api.get(f"/v1/petitions/{pid}", as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def register(stack, desk: str, **overrides) -> dict:
    body = {
        "district": "210922",
        "content": f"咨询城乡居民医保缴费标准和缴费渠道（{uuid.uuid4().hex[:6]}）",
        "category": "labor.social_insurance",
        "citizen": {"name": "赵六", "phone": "13700137000"},
        **overrides,
    }
    r = stack.api.post("/v1/desk/petitions", body, as_=desk)
    assert r.status_code == 201, r.text
    return r.json()


# --- small PNGs for docs/ -------------------------------------------------------------------------

# The browser decodes the screenshot and maps it to at most 256 colours (the most frequent ones,
# every other colour to its nearest); Python writes the palette PNG. A console screen is flat
# colours and antialiased text: a third of the size of the browser's own PNG, and it reads the same.
_QUANTIZE = """async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  const counts = new Map();
  for (let i = 0; i < px.length; i += 4) {
    const k = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const palette = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 256).map(([k]) => k);
  const index = new Map(palette.map((k, i) => [k, i]));
  const nearest = (k) => {
    let best = 0, bestD = Infinity;
    const r = k >> 16, gg = (k >> 8) & 255, b = k & 255;
    for (let i = 0; i < palette.length; i++) {
      const p = palette[i];
      const dr = r - (p >> 16), dg = gg - ((p >> 8) & 255), db = b - (p & 255);
      const d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
      if (d < bestD) { bestD = d; best = i; }
    }
    index.set(k, best);
    return best;
  };
  const out = new Uint8Array(c.width * c.height);
  for (let i = 0, j = 0; i < px.length; i += 4, j++) {
    const k = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
    const hit = index.get(k);
    out[j] = hit === undefined ? nearest(k) : hit;
  }
  let bin = "";
  for (let i = 0; i < out.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, out.subarray(i, i + 0x8000));
  }
  return { width: c.width, height: c.height, palette, pixels: btoa(bin) };
}"""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def small_png(browser, png: bytes) -> bytes:
    page = browser.new_page()
    try:
        q = page.evaluate(_QUANTIZE, base64.b64encode(png).decode())
    finally:
        page.close()
    w, h = q["width"], q["height"]
    pixels = base64.b64decode(q["pixels"])
    raw = b"".join(b"\x00" + pixels[y * w : (y + 1) * w] for y in range(h))
    plte = b"".join(struct.pack(">BBB", k >> 16, (k >> 8) & 255, k & 255) for k in q["palette"])
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
        + _chunk(b"PLTE", plte)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def shot(browser, page, name: str, docs_name: str | None = None) -> None:
    """artifacts/screenshots/<name>.png; docs/<docs_name> too when FZT_DOCS_SCREENSHOTS=1."""
    path = screenshot(page, name)
    if docs_name and os.environ.get("FZT_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        (DOCS / docs_name).write_bytes(small_png(browser, path.read_bytes()))


# --- the journey ------------------------------------------------------------------------------------


def test_a_walkin_answered_on_the_spot_is_reviewed_and_counted(desk_stack, browser, open_page):
    # Given the window clerk of 彰武县社会治理综合服务中心 signs in: the desk's views, 登记诉求 first
    page = open_page()
    login(page, desk_stack.url, DESK)
    page.locator('.nav a[data-nav="register"].active').wait_for()
    assert page.locator(".nav a").evaluate_all("as => as.map(a => a.dataset.nav)") == [
        "register",
        "mine",
        "stats",
        "grids",
        "mediation",  # §11: the window registers mediation cases
    ]
    assert "单位：彰武县社会治理综合服务中心" in page.locator(".who").inner_text()
    # and the district picker offers the unit's own district only
    assert page.locator("#reg-district option").evaluate_all("os => os.map(o => o.value)") == ["210922"]

    # When they register a walk-in and tick 当场答复
    page.select_option("#reg-category", "municipal.lighting")
    page.fill("#reg-title", "路灯不亮")
    content = "东山社区3号楼前路灯坏了一周，晚上老人出行不便，希望尽快修好。"  # a fresh stack: no twin
    page.fill("#reg-content", content)
    assert page.locator('[data-counter="content"]').inner_text().startswith(f"已输入 {len(content)} 字")
    page.fill("#reg-address", "彰武县彰武镇东山社区3号楼")
    page.fill("#reg-name", "李四")
    page.fill("#reg-phone", "13900139000")
    assert page.locator("#reg-reply").is_hidden()
    page.check("#reg-answer")
    reply = "已联系县城市管理局路灯所，今晚前修复；如仍未修复请拨打12345。"
    page.fill("#reg-reply", reply)
    assert page.locator("button[data-submit]").inner_text() == "登记并当场答复"
    shot(browser, page, "11-desk-register-1280x800", "console-desk-register.png")
    page.click("button[data-submit]")

    # Then the page registers it and answers it right away: 已办结待审核
    done = page.locator("[data-registered]")
    done.wait_for()
    pid = done.get_attribute("data-registered")
    assert done.get_attribute("data-status") == "resolved"
    assert "已登记并当场答复" in done.inner_text() and "已办结待审核" in done.inner_text()
    p = petition(desk_stack, pid)
    assert (p["channel"], p["district"], p["status"]) == ("walkin", "210922", "resolved")
    assert p["first_inquiry"] == {"unit": "210922.center", "user": DESK}
    assert (p["answered_by"], p["reply"], p["title"], p["category"]) == (
        DESK,
        reply,
        "路灯不亮",
        "municipal.lighting",
    )
    assert [e["type"] for e in p["timeline"] if e["type"] in ("created", "answered")] == [
        "created",
        "answered",
    ]
    # and the form is ready for the next citizen
    assert page.locator("#reg-content").input_value() == "" and not page.locator("#reg-answer").is_checked()

    # And 我首问的诉求 lists it as 已办结待审核
    page.click('.nav a[data-nav="mine"]')
    row = page.locator(f'table.mine tr[data-petition="{pid}"]')
    row.wait_for()
    assert row.get_attribute("data-status") == "resolved"
    assert "已办结待审核" in row.inner_text() and "当场答复" in row.inner_text()
    # Its detail names the first-inquiry party and the answer; the timeline says 当场答复
    row.locator("a.pid").click()
    detail = page.locator(f'article.detail[data-petition="{pid}"]')
    detail.wait_for()
    assert detail.locator('[data-first-unit="210922.center"]').inner_text() == "彰武县社会治理综合服务中心"
    assert detail.locator("[data-first-user]").inner_text() == DESK
    assert detail.locator("[data-answered-by]").inner_text() == DESK
    assert page.locator('.reply[data-reply="answered"]').inner_text() == reply
    page.locator('ol.timeline li[data-event="answered"] .ev-type', has_text="当场答复").wait_for()
    assert page.locator("form[data-action]").count() == 0  # answered: nothing more for the desk

    # When the district's reviewer approves it
    boss = open_page()
    login(boss, desk_stack.url, "reviewer@210922")
    card = boss.locator(f'article.card[data-petition="{pid}"]')
    assert "当场答复：" in card.locator(".reply").inner_text()
    act(
        boss, pid, card.locator('form[data-action="review"] button[type="submit"]', has_text="审核通过并结案")
    )
    assert petition(desk_stack, pid)["status"] == "closed"

    # Then 数据看板 counts it: 即办率 1/1 for the district's walk-ins, 办结率 1/1
    boss.click('.nav a[data-nav="stats"]')
    boss.locator(".stats[data-loaded]").wait_for()
    walkin = boss.locator('table[data-ranking="channel"] tr[data-channel="walkin"]')
    assert walkin.locator('[data-col="on_spot_rate"]').inner_text().split() == ["100.0%", "1/1"]
    assert walkin.locator('[data-col="completion_rate"]').inner_text().split() == ["100.0%", "1/1"]
    assert boss.locator('[data-rate="on_spot_rate"] small').first.inner_text() == "1 / 1"
    assert boss.locator('[data-rate="completion_rate"] small').first.inner_text() == "1 / 1"
    # with 区县诉求专线 a row of its own, apart from 12345热线
    channels = boss.locator('table[data-ranking="channel"] tbody tr')
    assert channels.evaluate_all("rs => rs.map(r => r.dataset.channel)") == [
        "wechat",
        "hotline_12345",
        "phone",
        "grid",
        "walkin",
        "meeting",  # §11: 逢六说事
    ]
    assert boss.locator('tr[data-channel="phone"] td').first.inner_text() == "区县诉求专线"
    assert boss.locator('tr[data-channel="hotline_12345"] td').first.inner_text() == "12345热线"
    boss.locator('[data-chart="每日受理量"] canvas').wait_for()
    screenshot(boss, "12-desk-figures-1280x800")

    # And the desk's list shows it closed, beside what else the window received today
    waiting = register(
        desk_stack,
        DESK,
        title="医保缴费咨询",
        content="咨询城乡居民医保缴费标准和缴费渠道，子女在外地上学如何参保。",
    )["id"]
    sent = register(
        desk_stack,
        DESK,
        title="楼道杂物堵塞消防通道",
        content="东苑小区5号楼楼道长期堆放杂物，堵塞消防通道，物业不予清理。",
        category="property.parking",
        citizen={"name": "王五", "phone": "13600136000"},
    )["id"]
    r = desk_stack.api.post(
        f"/v1/petitions/{sent}/dispatch", {"department": "210922.urban"}, as_="dispatcher@210922"
    )
    assert r.status_code == 200, r.text
    page.click('.nav a[data-nav="mine"]')
    page.locator('table.mine[data-count="3"]').wait_for()
    rows = page.locator("table.mine tbody tr").evaluate_all(
        "rs => rs.map(r => [r.dataset.petition, r.dataset.status])"
    )
    assert sorted(rows) == sorted([[sent, "dispatched"], [waiting, "received"], [pid, "closed"]])
    assert rows[-1] == [pid, "closed"]  # newest first
    assert "剩余" in page.locator(f'tr[data-petition="{waiting}"] td.due').inner_text()
    shot(browser, page, "13-desk-mine-1280x800", "console-desk-mine.png")


def test_the_hotline_registers_for_any_district_and_answers_from_the_detail(desk_stack, open_page):
    # Given a 12345 agent: the city's desk registers for every district
    page = open_page()
    login(page, desk_stack.url, HOTLINE)
    districts = page.locator("#reg-district option").evaluate_all("os => os.map(o => o.value)")
    assert districts[0] == "" and {"210902", "210922", "210900"} <= set(districts) and len(districts) == 9
    assert "12345热线" in page.locator("[data-channel]").inner_text()
    # When they register a call for 海州区 without answering it, anonymous
    page.select_option("#reg-district", "210902")
    page.fill("#reg-content", f"反映海州区某小区供暖温度不达标（{uuid.uuid4().hex[:6]}）")
    page.check("#reg-anonymous")
    assert page.locator("#reg-name").is_disabled()
    page.click("button[data-submit]")
    done = page.locator("[data-registered]")
    done.wait_for()
    pid = done.get_attribute("data-registered")
    p = petition(desk_stack, pid)
    assert (p["channel"], p["district"], p["status"], p["anonymous"]) == (
        "hotline_12345",
        "210902",
        "received",
        True,
    )
    assert p["first_inquiry"] == {"unit": "210900.hotline", "user": HOTLINE}
    # Then 我首问的诉求 shows it 待分拨 with the dispatch stage's countdown
    page.click('.nav a[data-nav="mine"]')
    row = page.locator(f'table.mine tr[data-petition="{pid}"]')
    row.wait_for()
    assert "待分拨" in row.inner_text() and "分拨阶段" in row.inner_text() and "剩余" in row.inner_text()
    # and its detail offers 当场答复 and 分流交办 (§11), and nothing else
    row.locator("a.pid").click()
    page.locator(f'article.detail[data-petition="{pid}"]').wait_for()
    actions = page.locator("form[data-action]").evaluate_all("fs => fs.map(f => f.dataset.action)")
    assert actions == ["answer", "triage"]
    form = page.locator('form[data-action="answer"]')
    # A reply of one character is refused before it leaves the page
    form.locator('textarea[name="reply"]').fill("好")
    form.locator('button[type="submit"]').click()
    assert "至少2个字" in form.locator(".form-error").inner_text()
    assert petition(desk_stack, pid)["status"] == "received"
    form.locator('textarea[name="reply"]').fill("供暖问题已转告热力公司，请保持电话畅通。")
    act(page, pid, form.locator('button[type="submit"]', has_text="当场答复"))
    p = petition(desk_stack, pid)
    assert (p["status"], p["answered_by"]) == ("resolved", HOTLINE)
    page.locator('.reply[data-reply="answered"]').wait_for()


def test_the_form_says_what_is_wrong_where_it_is(desk_stack, open_page):
    page = open_page(allow=("status of 400",))
    login(page, desk_stack.url, "desk@210902.center")
    page.fill("#reg-content", "路面塌陷有坑")
    # No phone and not anonymous: said under 联系电话, nothing sent
    page.click("button[data-submit]")
    phone_error = page.locator(".field:has(#reg-phone) .field-error")
    assert "请填写联系电话" in phone_error.inner_text()
    assert page.locator("#reg-phone").get_attribute("aria-invalid") == "true"
    # 当场答复 ticked without a reply: said under 答复内容
    page.fill("#reg-phone", "13800138000")
    page.check("#reg-answer")
    page.click("button[data-submit]")
    assert "请填写当场答复内容" in page.locator(".field:has(#reg-reply) .field-error").inner_text()
    page.uncheck("#reg-answer")
    # A number the API refuses: its message under the field it names
    page.fill("#reg-phone", "12345678901")
    page.click("button[data-submit]")
    phone_error.filter(has_text="not a valid mainland China number").wait_for()
    assert "填写内容有误" in phone_error.inner_text()
    assert page.locator("[data-registered]").count() == 0


def test_a_desk_sees_what_its_unit_received_and_nothing_else(desk_stack, open_page):
    # Given a walk-in at 海州区's window and a call to 12345 about 海州区
    walkin = register(desk_stack, "desk@210902.center", district="210902")["id"]
    call = register(desk_stack, HOTLINE, district="210902")["id"]
    page = open_page(allow=("status of 404",))
    login(page, desk_stack.url, "desk@210902.center")
    # 我首问的诉求 holds the walk-in, not the call
    page.click('.nav a[data-nav="mine"]')
    page.locator(f'table.mine tr[data-petition="{walkin}"]').wait_for()
    assert page.locator(f'table.mine tr[data-petition="{call}"]').count() == 0
    # the call's detail is not theirs
    page.goto(f"{desk_stack.url}/console/#/p/{call}")
    page.locator(".error[role=alert]").filter(has_text="未找到").wait_for()
    # and 诉求查询 is not a desk's view: the address falls back to 登记诉求
    page.goto(f"{desk_stack.url}/console/#/list")
    page.locator('.nav a[data-nav="register"].active').wait_for()
    assert page.locator('.nav a[data-nav="list"]').count() == 0
    # The district's dispatcher sees the walk-in 待分拨 and may dispatch it, not answer it
    page = open_page()
    login(page, desk_stack.url, "dispatcher@210902")
    page.goto(f"{desk_stack.url}/console/#/p/{walkin}")
    page.locator(f'article.detail[data-petition="{walkin}"]').wait_for()
    actions = page.locator("form[data-action]").evaluate_all("fs => fs.map(f => f.dataset.action)")
    assert "answer" not in actions and "dispatch" in actions
    assert "海州区社会治理综合服务中心" in page.locator("[data-first-unit]").inner_text()
