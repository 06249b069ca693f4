"""The citizen entrance (/m/) in a real browser at phone size, against a stack of its own.

The page and the public directory come from the stack; the citizen routes (`/v1/citizen/…`,
CONTRACT §9) are played by ``CitizenStub`` over the channel API until the real ones land (the same
journey against them is tests/e2e/test_mobile_live.py). A citizen of 海州区 opens the page, reads
the greeting, picks the district, writes the petition, proves the phone by an SMS code, submits,
follows it in 我的诉求 and rates it once it is closed. No JavaScript errors along the way; every
control labelled; nothing wider than the screen at 200% zoom; the first load within 150 KB.
Screenshots (375×812) go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.console_browser import PHONE, Watched, chromium, chromium_missing, screenshot
from tests.e2e.mobile_citizen import CHANNEL, CitizenStub

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "chalicelib" / "mobile" / "static"
SOURCES = ROOT / "mobile"
BUDGET = 150 * 1024
GREETING = "您好！这里是“阜政通”办事平台。您的事就是我的事，有事您尽管讲，我将尽责尽快为您处理好、服务好。"
ENTRANCES = ["阜新蒙古族自治县", "彰武县", "海州区", "细河区", "太平区", "新邱区", "清河门区"]
PHONE_NUMBER = "13800138000"
ZOOMED = {"width": 187, "height": 406}  # 375×812 at 200% zoom
HASHED = re.compile(r'(?:src|href)="(app-[A-Z0-9]+\.(?:js|css))"')


def _unavailable(reason: str):
    # On CI the browser is installed by .ci/run: its absence is a failure there, a skip elsewhere.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    with chromium() as context:
        yield context


@pytest.fixture
def open_page(browser, stack, api):
    """A fresh phone-sized tab on /m/ with the citizen routes stubbed; its errors fail the test.

    ``allow`` names the 4xx answers a test provokes on purpose (Chromium logs each as a console error).
    """
    opened: list[tuple[object, Watched, tuple[str, ...]]] = []

    def make(viewport=PHONE, allow: tuple[str, ...] = (), stub: CitizenStub | None = None, token: str = ""):
        page = browser.new_page()
        page.set_viewport_size(viewport)
        page.set_default_timeout(15_000)
        watched = Watched()
        watched.attach(page)
        opened.append((page, watched, allow))
        citizen = (stub or CitizenStub(api)).install(page)
        if token:  # already signed in on this tab (as after a code earlier in the session)
            page.goto(f"{stack.url}/m/#/nowhere")
            page.evaluate(
                "([t, p]) => sessionStorage.setItem('fzt.m.session', JSON.stringify("
                "{token: t, phone: p, expires_at: new Date(Date.now() + 3600e3).toISOString()}))",
                [token, PHONE_NUMBER],
            )
        page.citizen = citizen
        return page

    yield make
    problems = []
    for page, watched, allow in opened:
        problems += [e for e in watched.errors if not any(a in e for a in allow)]
        problems += watched.failed
        page.close()
    assert not problems, "the citizen entrance reported errors:\n" + "\n".join(problems)


def submit(api, **overrides) -> str:
    body = {
        "district": "210902",
        "content": f"小区门口路灯坏了一个月，晚上出行很不方便（{uuid.uuid4().hex[:8]}）",
        "category": "municipal.lighting",
        "citizen": {"phone": PHONE_NUMBER},
        **overrides,
    }
    r = api.post("/v1/petitions", body, as_=CHANNEL)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def close(api, pid: str) -> None:
    """An operator's week in four calls: dispatch, accept, resolve with a reply, approve."""
    steps = [
        ("dispatch", {"department": "210902.urban"}, "dispatcher@210902"),
        ("accept", {}, "handler@210902.urban"),
        ("resolve", {"reply": "已更换路灯灯泡并检修线路，现已恢复照明。"}, "handler@210902.urban"),
        ("review", {"approve": True}, "reviewer@210902"),
    ]
    for action, body, who in steps:
        r = api.post(f"/v1/petitions/{pid}/{action}", body, as_=who)
        assert r.status_code == 200, (action, r.text)


def field_error(page, name: str):
    return page.locator(f'[data-field="{name}"] .error')


def unlabelled(page) -> list[str]:
    """Every visible control without an accessible name (label, aria-label or aria-labelledby)."""
    return page.evaluate(
        """() => {
          const named = (el) => {
            if ((el.getAttribute('aria-label') || '').trim()) return true;
            const by = el.getAttribute('aria-labelledby');
            const text = (id) => (document.getElementById(id)?.textContent || '').trim();
            if (by && by.split(/\\s+/).some(text)) return true;
            if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
            return ['BUTTON', 'A'].includes(el.tagName) && el.textContent.trim() !== '';
          };
          return Array.from(document.querySelectorAll('input, select, textarea, button, a[href], fieldset'))
            .filter((el) => el.getClientRects().length)
            .filter((el) => (el.tagName === 'FIELDSET' ? !el.querySelector('legend') : !named(el)))
            .map((el) => el.outerHTML.slice(0, 120));
        }"""
    )


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def home(page, url: str) -> None:
    page.goto(f"{url}/m/")
    page.locator("a.entrance").first.wait_for()


def fill_form(page, content: str, address: str = "海州区解放街道光明社区3号楼") -> None:
    page.locator('select[name="category"]').select_option("municipal.lighting")
    page.locator('textarea[name="content"]').fill(content)
    page.locator('input[name="address"]').fill(address)
    page.locator('input[name="phone"]').first.fill(PHONE_NUMBER)


# --- served by the API ------------------------------------------------------------------------------


def test_the_page_is_served_with_types_cache_headers_csp_and_etags(stack):
    page = requests.get(f"{stack.url}/m/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'self'") and "connect-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe" not in csp
    assert page.headers["Permissions-Policy"].startswith("geolocation=(self)")
    assert page.headers["X-Frame-Options"] == "DENY"
    again = requests.get(f"{stack.url}/m/", headers={"If-None-Match": page.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and not again.content
    assets = HASHED.findall(page.text)
    assert len(assets) == 2, page.text
    for name in assets:
        r = requests.get(f"{stack.url}/m/{name}", timeout=10)
        assert r.status_code == 200
        expected = "text/javascript" if name.endswith(".js") else "text/css"
        assert r.headers["Content-Type"] == f"{expected}; charset=utf-8"
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.content == (STATIC / name).read_bytes()
        cached = requests.get(
            f"{stack.url}/m/{name}", headers={"If-None-Match": r.headers["ETag"]}, timeout=10
        )
        assert cached.status_code == 304 and not cached.content
    # Without the trailing slash the page still finds its assets (API Gateway drops the slash).
    bare = requests.get(f"{stack.url}/m", timeout=10)
    assert all(f'"m/{name}"' in bare.text for name in assets)
    # Only files of the built folder: unknown names, the template and traversal are the contract's 404.
    missing = requests.get(f"{stack.url}/m/app-NOPE.js", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert requests.get(f"{stack.url}/m/index.html", timeout=10).status_code == 404
    assert requests.get(f"{stack.url}/m/..%2Froutes.py", timeout=10).status_code == 404
    # The console is where it was.
    assert requests.get(f"{stack.url}/console/", timeout=10).status_code == 200


def test_committed_bundle_is_what_the_sources_build(tmp_path):
    """static/ is committed so that `make run` needs no Node.js; it must be exactly the build of mobile/."""
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is missing: cannot rebuild the citizen entrance to compare")
    if not (SOURCES / "node_modules" / "esbuild").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SOURCES, check=True, timeout=600)
    subprocess.run(["node", "build.mjs", "--outdir", str(tmp_path)], cwd=SOURCES, check=True, timeout=600)
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.is_file()}
    assert sorted(built) == sorted(committed), "run `make mobile` and commit chalicelib/mobile/static/"
    for name, data in built.items():
        assert committed[name] == data, f"{name} differs from its build: run `make mobile`"


def test_first_load_is_within_150_kb(stack):
    """A size check on the built files: the page, and the script and stylesheet it names."""
    from chalicelib.mobile import assets

    page = (STATIC / "index.html").read_text(encoding="utf-8")
    names = HASHED.findall(page.replace("%ASSET_BASE%", ""))
    assert sorted(names) == sorted(p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css"))
    on_disk = sum((STATIC / n).stat().st_size for n in ["index.html", *names])
    assert on_disk <= BUDGET, f"first load {on_disk} bytes > {BUDGET}"
    # and what the API serves for /m/ adds nothing to it
    served = requests.get(f"{stack.url}/m/", timeout=10)
    total = len(served.content) + sum(
        len(requests.get(f"{stack.url}/m/{n}", timeout=10).content) for n in HASHED.findall(served.text)
    )
    assert total == assets.first_load_bytes() <= on_disk


def test_no_channel_key_in_the_browser():
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8").lower()
        for secret in ("x-api-key", "local-wechat", "api_key", "apikey"):
            assert secret not in text, f"{path.name} mentions {secret}"


# --- the journey --------------------------------------------------------------------------------------


def test_greeting_then_the_seven_county_entrances(stack, open_page):
    page = open_page()
    home(page, stack.url)
    assert page.locator("#greeting").inner_text() == GREETING
    names = page.locator("a.entrance").all_inner_texts()
    assert names == ENTRANCES  # every district but the city itself
    assert "阜新市" not in names
    codes = page.locator("a.entrance").evaluate_all("els => els.map(e => e.dataset.district)")
    assert codes == ["210921", "210922", "210902", "210911", "210904", "210903", "210905"]
    assert page.locator('a.entrance[data-district="210902"]').get_attribute("href") == "#/d/210902"
    assert unlabelled(page) == []
    assert overflow(page) <= 0
    screenshot(page, "m01-greeting-375x812")


def test_write_verify_submit_follow_and_rate(stack, api, browser, open_page):
    page = open_page(allow=("status of 401",))
    citizen: CitizenStub = page.citizen
    browser.grant_permissions(["geolocation"], origin=stack.url)
    browser.set_geolocation({"latitude": 42.011522, "longitude": 121.670831})
    home(page, stack.url)

    # When the citizen picks 海州区, the form opens with the categories of the directory
    page.click('a.entrance[data-district="210902"]')
    page.get_by_role("heading", name="我要反映 · 海州区").wait_for()
    assert (
        page.locator('select[name="category"] optgroup[label="市政设施"] option', has_text="路灯照明").count()
        == 1
    )
    # and the character count follows the typing
    content = f"小区门口路灯坏了一个月，晚上出行很不方便（{uuid.uuid4().hex[:8]}）"
    fill_form(page, content)
    counter = page.locator('[data-field="content"] .counter')
    assert counter.inner_text() == f"已输入 {len(content)} 字（5–4000 字）"
    page.locator('textarea[name="content"]').press_sequentially("！")
    assert counter.inner_text() == f"已输入 {len(content) + 1} 字（5–4000 字）"
    content += "！"
    # "使用我的位置" fills the map point from the phone's position
    page.click("button[data-locate]")
    page.get_by_text("已填入您当前的位置。").wait_for()
    assert page.locator('input[name="lat"]').input_value() == "42.011522"
    assert page.locator('input[name="lon"]').input_value() == "121.670831"
    assert unlabelled(page) == []
    screenshot(page, "m02-form-375x812")

    # When they go on, the SMS code step asks for a code sent to their phone
    page.click("form.card button[type=submit]:has-text('下一步')")
    verify = page.locator("form.verify")
    verify.get_by_text("验证码将发送至 138****8000。").wait_for()
    verify.locator("button[data-send-code]").click()
    verify.get_by_text("验证码已发送至 138****8000，5分钟内有效。").wait_for()
    assert [r.body for r in citizen.sent("POST", "/v1/citizen/otp")] == [{"phone": PHONE_NUMBER}]
    assert verify.locator("button[data-send-code]").is_disabled()  # one code a minute
    assert "重新获取（" in verify.locator("button[data-send-code]").inner_text()
    # a wrong code is said next to the code field, in the API's words
    verify.locator('input[name="code"]').fill("111111")
    verify.locator("button[type=submit]").click()
    field_error(verify, "code").filter(has_text="验证码不正确，还可尝试4次").wait_for()
    assert verify.locator('input[name="code"]').get_attribute("aria-invalid") == "true"
    assert unlabelled(page) == []
    screenshot(page, "m03-sms-code-375x812")
    # the right one signs in and submits
    verify.locator('input[name="code"]').fill(citizen.code)
    verify.locator("button[type=submit]").click()
    done = page.locator("section.done")
    done.wait_for()
    pid = done.get_attribute("data-petition")
    assert done.locator(".pid").inner_text() == pid
    assert "待分拨" in done.inner_text() and "分派承办部门应于" in done.inner_text()
    screenshot(page, "m04-submitted-375x812")

    # Then the petition went in with the §4 body: no phone in it (it comes from the token), no key
    (sent,) = citizen.sent("POST", "/v1/citizen/petitions")
    assert sent.body == {
        "district": "210902",
        "content": content,
        "category": "municipal.lighting",
        "location": {"address": "海州区解放街道光明社区3号楼", "lat": 42.011522, "lon": 121.670831},
    }
    token = page.evaluate("JSON.parse(sessionStorage.getItem('fzt.m.session')).token")
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert all("x-api-key" not in r.headers for r in citizen.requests)
    stored = api.get(f"/v1/petitions/{pid}", as_="admin@210900").json()
    assert (stored["channel"], stored["citizen"]["phone"]) == ("wechat", "138****8000")

    # When they follow it: the detail shows status, deadline and progress in plain words
    done.locator("a", has_text="查看办理进度").click()
    detail = page.locator(f'section.summary[data-petition="{pid}"]')
    detail.wait_for()
    assert "待分拨" in detail.inner_text() and "分派承办部门：应于" in detail.inner_text()
    page.locator("ol.timeline li", has_text="我们已收到您的诉求").wait_for()

    # When operators close it, 我的诉求 lists it as 已结案, waiting for the rating
    close(api, pid)
    older = submit(api, content="解放大街路面塌陷，车辆绕行，请尽快修复")
    citizen.own(PHONE_NUMBER, older)
    page.click("#nav a:has-text('我的诉求')")
    item = page.locator(f'a.item[data-petition="{pid}"]')
    item.wait_for()
    assert "已结案" in item.inner_text() and "待您评价" in item.inner_text()
    other = page.locator(f'a.item[data-petition="{older}"]')
    assert "待分拨" in other.inner_text() and "分派承办部门：应于" in other.inner_text()
    assert unlabelled(page) == []
    screenshot(page, "m05-mine-375x812")

    # and the detail tells the story, then asks for the rating
    item.click()
    page.locator("form.rating").wait_for()
    steps = page.locator("ol.timeline li").all_inner_texts()
    text = "\n".join(steps)
    for sentence in (
        "我们已收到您的诉求",
        "已交由海州区城市管理综合行政执法局办理。",
        "海州区城市管理综合行政执法局已接单，正在办理。",
        "承办部门已办结并答复",
        "办理结果审核通过，诉求已办结。",
    ):
        assert sentence in text, text
    assert "notification" not in text and "通知" not in text  # SMS receipts are internal
    assert "已办结并答复" in steps[1] and "审核通过" in steps[0]  # newest first
    page.get_by_text("已更换路灯灯泡并检修线路，现已恢复照明。").wait_for()
    rating = page.locator("form.rating")
    assert unlabelled(page) == []
    screenshot(page, "m06-rating-375x812")
    rating.locator("button[type=submit]").click()  # nothing chosen
    field_error(rating, "rating").filter(has_text="请选择").wait_for()
    rating.get_by_label("基本满意").check()
    rating.locator('textarea[name="comment"]').fill("修得挺快，就是晚了两天")
    rating.locator("button[type=submit]").click()
    page.get_by_text("感谢您的评价！").wait_for()
    (fb,) = citizen.sent("POST", f"/v1/citizen/petitions/{pid}/feedback")
    assert fb.body == {"rating": "basically_satisfied", "comment": "修得挺快，就是晚了两天"}
    assert page.locator("form.rating").count() == 0
    page.locator("ol.timeline li", has_text="您的评价：基本满意。").wait_for()
    after = api.get(f"/v1/petitions/{pid}", as_="admin@210900").json()
    assert (after["rating"], after["awaiting_feedback"]) == ("basically_satisfied", False)


def test_dissatisfied_reopens_and_says_so(stack, api, open_page):
    citizen = CitizenStub(api)
    pid = submit(api)
    citizen.own(PHONE_NUMBER, pid)
    close(api, pid)
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.locator("form.rating").get_by_label("不满意").check()
    page.locator("form.rating button[type=submit]").click()
    page.get_by_text("已收到您的评价，诉求已重新交办").wait_for()
    detail = page.locator(f'section.summary[data-petition="{pid}"]')
    assert detail.get_attribute("data-status") == "accepted"
    assert "办理中" in detail.inner_text() and "重新办理并答复：应于" in detail.inner_text()
    page.locator("ol.timeline li", has_text="根据您的评价，诉求已重新交办").wait_for()


def test_a_merged_petition_is_rated_once_its_main_one_is_closed(stack, api, open_page):
    """并单: each citizen of a merged petition rates the main petition's outcome (CONTRACT §9)."""
    citizen = CitizenStub(api)
    pid = submit(api)
    citizen.own(PHONE_NUMBER, pid)
    real = api.get(f"/v1/petitions/{pid}", as_=CHANNEL).json()
    merged = {**real, "status": "merged", "merged_into": "FX000001", "stage": None, "due_at": None}
    detail = f"/v1/citizen/petitions/{pid}"
    citizen.fail_next("GET", detail, 200, {**merged, "awaiting_feedback": True})
    citizen.fail_next("POST", f"{detail}/feedback", 200, {**merged, "rating": "satisfied"})
    citizen.fail_next("GET", detail, 200, {**merged, "awaiting_feedback": False, "rating": "satisfied"})
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.get_by_text("您的诉求与编号 FX000001 的诉求反映的是同一问题，已合并办理").wait_for()
    assert "已并单" in page.locator("section.summary").inner_text()
    page.locator("form.rating").get_by_label("满意", exact=True).check()
    page.locator("form.rating button[type=submit]").click()
    page.get_by_text("感谢您的评价！").wait_for()
    assert [r.body for r in citizen.sent("POST", f"{detail}/feedback")] == [{"rating": "satisfied"}]
    page.locator("section.card", has_text="我的评价").get_by_text("满意", exact=True).wait_for()


def test_my_petitions_asks_for_the_phone_first_and_pages(stack, api, open_page):
    citizen = CitizenStub(api, page_size=2)
    ids = [submit(api) for _ in range(3)]
    for pid in ids:
        citizen.own(PHONE_NUMBER, pid)
    page = open_page(stub=citizen, allow=("status of 429",))
    page.goto(f"{stack.url}/m/#/mine")
    form = page.locator("form.verify")
    # a bad number is refused before anything is sent
    form.locator('input[name="phone"]').fill("1234")
    form.locator("button[data-send-code]").click()
    field_error(form, "phone").filter(has_text="请填写正确的11位手机号码").wait_for()
    assert citizen.requests == []
    # a second code within the minute: the API's 429 message, next to the phone
    form.locator('input[name="phone"]').fill("138 0013 8000")
    citizen.fail_next(
        "POST",
        "/v1/citizen/otp",
        429,
        {"error": {"code": "rate_limited", "message": "验证码发送过于频繁，请2秒后再试"}},
        {"Retry-After": "2"},
    )
    form.locator("button[data-send-code]").click()
    field_error(form, "phone").filter(has_text="验证码发送过于频繁，请2秒后再试").wait_for()
    # the button waits as long as the API asked
    assert form.locator("button[data-send-code]").is_disabled()
    form.get_by_role("button", name="重新获取验证码").wait_for()
    form.locator("button[data-send-code]").click()
    form.get_by_text("验证码已发送").wait_for()
    form.locator('input[name="code"]').fill(citizen.code)
    form.get_by_role("button", name="验证并查看").click()
    page.locator("a.item").first.wait_for()
    assert page.locator("a.item").evaluate_all("els => els.map(e => e.dataset.petition)") == ids[::-1][:2]
    page.get_by_role("button", name="加载更多").click()
    page.locator(f'a.item[data-petition="{ids[0]}"]').wait_for()
    assert page.get_by_role("button", name="加载更多").is_hidden()
    assert page.locator("#nav [data-signout]").get_attribute("aria-label") == "退出（138****8000）"
    # signing out forgets the token
    page.click("#nav [data-signout]")
    page.locator("form.verify").wait_for()
    assert page.evaluate("sessionStorage.getItem('fzt.m.session')") is None


def test_api_errors_show_next_to_the_field_they_name(stack, api, open_page):
    citizen = CitizenStub(api)
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER), allow=("status of 400",))
    page.goto(f"{stack.url}/m/#/d/210911")
    page.get_by_role("heading", name="我要反映 · 细河区").wait_for()
    fill_form(page, "楼道声控灯全部不亮，已经两周了")
    # signed in with this phone already: 下一步 submits at once; the API refuses the address
    citizen.fail_next(
        "POST",
        "/v1/citizen/petitions",
        400,
        {"error": {"code": "invalid", "message": "must be a single line", "field": "location.address"}},
    )
    page.click("button:has-text('下一步')")
    message = field_error(page, "location.address")
    message.wait_for()
    assert message.inner_text() == "填写内容有误（must be a single line）"
    assert page.locator('input[name="address"]').get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "address"
    assert page.locator("form.verify").count() == 0
    # a message in Chinese is shown as the API wrote it, by the field it names
    citizen.fail_next(
        "POST",
        "/v1/citizen/petitions",
        400,
        {"error": {"code": "invalid", "message": "内容过短", "field": "content"}},
    )
    page.click("button:has-text('下一步')")
    field_error(page, "content").filter(has_text="内容过短").wait_for()
    assert field_error(page, "location.address").is_hidden()
    # an error naming no field goes above the button
    citizen.fail_next(
        "POST", "/v1/citizen/petitions", 400, {"error": {"code": "invalid", "message": "无法受理"}}
    )
    page.click("button:has-text('下一步')")
    page.locator("form.card .form-error", has_text="无法受理").wait_for()
    # and then it goes through
    page.click("button:has-text('下一步')")
    page.locator("section.done").wait_for()
    assert len(citizen.sent("POST", "/v1/citizen/petitions")) == 4


def test_what_the_page_checks_before_sending(stack, api, open_page):
    citizen = CitizenStub(api)
    page = open_page(stub=citizen)
    page.goto(f"{stack.url}/m/#/d/210921")
    page.get_by_role("heading", name="我要反映 · 阜新蒙古族自治县").wait_for()
    counter = page.locator('[data-field="content"] .counter')
    page.locator('textarea[name="content"]').fill("路灯坏")
    assert counter.inner_text() == "已输入 3 字（5–4000 字）" and "over" in counter.get_attribute("class")
    page.locator('input[name="lat"]').fill("北纬42")
    page.locator('input[name="phone"]').fill("1380013800")
    page.click("button:has-text('下一步')")
    field_error(page, "content").filter(has_text="请至少写5个字").wait_for()
    field_error(page, "location.lat").filter(has_text="纬度应为").wait_for()
    field_error(page, "location.lon").filter(has_text="经度应为").wait_for()
    field_error(page, "phone").filter(has_text="11位手机号码").wait_for()
    assert page.evaluate("document.activeElement.name") == "content"
    # invisible characters do not count, as the API counts; 4000 is the most
    page.locator('textarea[name="content"]').fill("\u200b" * 10 + "修" * 4001)
    assert counter.inner_text() == "已输入 4001 字（5–4000 字）"
    page.click("button:has-text('下一步')")
    field_error(page, "content").filter(has_text="内容不能超过4000字，当前4001字").wait_for()
    assert citizen.requests == []
    # the draft survives a reload of the tab
    page.reload()
    page.get_by_role("heading", name="我要反映 · 阜新蒙古族自治县").wait_for()
    assert page.locator('input[name="lat"]').input_value() == "北纬42"


def test_an_expired_token_asks_for_the_code_again(stack, api, open_page):
    citizen = CitizenStub(api)
    pid = submit(api)
    citizen.own(PHONE_NUMBER, pid)
    page = open_page(stub=citizen, token="ctz-expired", allow=("status of 401",))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.get_by_text("验证已过期，请重新获取短信验证码。").wait_for()
    assert page.evaluate("sessionStorage.getItem('fzt.m.session')") is None
    form = page.locator("form.verify")
    form.locator('input[name="phone"]').fill(PHONE_NUMBER)
    form.locator("button[data-send-code]").click()
    form.locator('input[name="code"]').fill(citizen.code)
    form.locator("button[type=submit]").click()
    page.locator(f'section.summary[data-petition="{pid}"]').wait_for()


def test_someone_elses_petition_is_not_found(stack, api, open_page):
    citizen = CitizenStub(api)
    pid = submit(api, citizen={"phone": "13900139000"})
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER), allow=("status of 404",))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.get_by_text(f"没有找到编号为 {pid} 的诉求").wait_for()


def test_the_timeline_in_plain_words_without_internal_events(stack, api, open_page):
    citizen = CitizenStub(api)
    pid = submit(api)
    citizen.own(PHONE_NUMBER, pid)
    real = api.get(f"/v1/petitions/{pid}", as_=CHANNEL).json()
    events = [
        ("created", {}),
        ("notification", {"kind": "receipt", "status": "sent"}),
        ("dispatched", {"department": "210902.housing"}),
        ("returned", {"department": "210902.housing", "reason": "function", "note": "内部备注：不归我们管"}),
        ("transferred", {"department": "210900.housing", "reason": "内部原因"}),
        ("accepted", {"department": "210900.housing"}),
        ("extension_requested", {"working_days": 3, "reason": "内部：等配件"}),
        ("extension_decided", {"approve": True, "working_days": 3}),
        ("suspended", {"reason": "内部：等停电窗口"}),
        ("resumed", {}),
        ("reminder", {}),
        ("supervision_notice", {}),
        ("escalated", {"level": "district", "chief": "chief@210902"}),
        ("escalated", {"level": "city", "chief": "chief@210900"}),
        ("instruction", {"note": "内部批示原文"}),
        ("violation", {"kind": "slow_handling"}),
        ("resolved", {"reply": "已处理"}),
        ("review_rejected", {"note": "内部：答复不完整"}),
        ("resolved", {"reply": "已处理完毕"}),
        ("review_approved", {}),
        ("feedback", {"rating": "dissatisfied"}),
        ("reopened", {}),
        ("merged", {"into": "FX123456"}),
        ("some_future_event", {}),
    ]
    timeline = [
        {"type": t, "at": f"2026-11-{10 + i // 4:02d}T0{i % 4}:00:00+08:00", **d}
        for i, (t, d) in enumerate(events)
    ]
    citizen.fail_next("GET", f"/v1/citizen/petitions/{pid}", 200, {**real, "timeline": timeline})
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.locator("ol.timeline").wait_for()
    steps = page.locator("ol.timeline li span").all_inner_texts()[::-1]  # oldest first again
    assert steps == [
        "我们已收到您的诉求，正在为您分派承办部门。",
        "已交由海州区住房和城乡建设局办理。",
        "正在为您重新分派更合适的承办部门。",
        "已转交阜新市住房和城乡建设局办理。",
        "阜新市住房和城乡建设局已接单，正在办理。",
        "经批准，办理时限延长3个工作日。",
        "办理暂停，暂停期间不计入办理时限。",
        "恢复办理。",
        "已向承办部门催办。",
        "已对承办部门发出督办通知。",
        "已提请区县首席办事员督办。",
        "已提请市首席办事员督办。",
        "首席办事员已作出批示，督促办理。",
        "承办部门已办结并答复，正在审核办理结果。",
        "办理结果未通过审核，承办部门继续办理。",
        "承办部门已办结并答复，正在审核办理结果。",
        "办理结果审核通过，诉求已办结。",
        "您的评价：不满意。",
        "根据您的评价，诉求已重新交办，承办部门将重新办理。",
        "与反映同一问题的诉求合并办理（编号 FX123456）。",
    ]
    assert "内部" not in page.locator("main").inner_text()
    times = page.locator("ol.timeline time").all_inner_texts()
    assert times[-1] == "2026-11-10 00:00"  # Asia/Shanghai, the oldest last


def test_markup_in_a_petition_shows_as_text(stack, api, open_page):
    citizen = CitizenStub(api)
    payload = '<img src=x onerror="window.__fzt_xss=1"><script>window.__fzt_xss=2</script>'
    pid = submit(api, content=f"测试内容{payload}", location={"address": "<b>解放街</b>"})
    citizen.own(PHONE_NUMBER, pid)
    page = open_page(stub=citizen, token=citizen.sign_in(PHONE_NUMBER))
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.locator(".content").filter(has_text=payload).wait_for()
    assert page.get_by_text("<b>解放街</b>").count() == 1
    assert page.locator(".content *").count() == 0
    page.goto(f"{stack.url}/m/#/mine")
    page.locator(f'a.item[data-petition="{pid}"]').wait_for()
    assert page.evaluate("window.__fzt_xss") is None


@pytest.mark.parametrize("viewport", [ZOOMED, {"width": 360, "height": 740}, {"width": 414, "height": 896}])
def test_readable_at_phone_widths_and_200_percent_zoom(stack, api, open_page, viewport):
    """Nothing wider than the window on any view, at 360 and 414 px and at 375 px zoomed to 200%."""
    citizen = CitizenStub(api)
    long = "很长的诉求内容" * 40 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 3 + uuid.uuid4().hex
    pid = submit(api, content=long)
    citizen.own(PHONE_NUMBER, pid)
    close(api, pid)
    page = open_page(viewport=viewport, stub=citizen)
    widths = {}
    home(page, stack.url)
    widths["home"] = overflow(page)
    page.click('a.entrance[data-district="210921"]')
    page.locator('textarea[name="content"]').wait_for()
    fill_form(page, "路灯不亮已经一个月了")
    widths["form"] = overflow(page)
    page.click("button:has-text('下一步')")
    page.locator("form.verify button[data-send-code]").click()
    page.get_by_text("验证码已发送").wait_for()
    widths["verify"] = overflow(page)
    page.locator('input[name="code"]').fill(citizen.code)
    page.locator("form.verify button[type=submit]").click()
    page.locator("section.done").wait_for()
    widths["done"] = overflow(page)
    page.goto(f"{stack.url}/m/#/mine")
    page.locator(f'a.item[data-petition="{pid}"]').wait_for()
    widths["mine"] = overflow(page)
    page.goto(f"{stack.url}/m/#/mine/{pid}")
    page.locator("form.rating").wait_for()
    widths["detail"] = overflow(page)
    assert all(w <= 0 for w in widths.values()), widths
    assert unlabelled(page) == []
    if viewport == ZOOMED:
        screenshot(page, "m07-detail-200pct-zoom")
