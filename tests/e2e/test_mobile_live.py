"""The citizen entrance (/m/) against the real citizen API (CONTRACT §9) of a `make run` stack.

No stubs: the SMS code is read from the local outbox, the petition lands through
`POST /v1/citizen/petitions`, operators close it through the API, the citizen rates it on the page.
This needs the citizen routes; where they do not answer, the first test fails and says so (it does
not skip). tests/e2e/test_mobile.py covers the page itself against a stand-in for those routes.
"""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import requests

from tests.e2e.conftest import stack_at
from tests.e2e.console_browser import PHONE, Watched, chromium, chromium_missing, screenshot

CLOCK_START = "2026-11-18T09:00:00+08:00"  # a Wednesday morning, no holiday near
PHONE_NUMBER, E164, MASKED = "13800138000", "+8613800138000", "138****8000"
OTHER_PHONE = "13900139000"
CODE = re.compile(r"验证码\D{0,6}(\d{6})")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


live_stack = stack_at(CLOCK_START)


@pytest.fixture(scope="module")
def browser():
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    with chromium() as context:
        yield context


@pytest.fixture
def open_page(browser):
    opened = []

    def make(allow: tuple[str, ...] = ()):
        page = browser.new_page()
        page.set_viewport_size(PHONE)
        page.set_default_timeout(15_000)
        watched = Watched()
        watched.attach(page)
        sent: list[dict[str, str]] = []
        page.on("request", lambda r: sent.append(r.headers))
        opened.append((page, watched, allow, sent))
        return page

    yield make
    problems = []
    for page, watched, allow, sent in opened:
        problems += [e for e in watched.errors if not any(a in e for a in allow)]
        problems += watched.failed
        problems += [f"a request carried a channel key: {h}" for h in sent if "x-api-key" in h]
        page.close()
    assert not problems, "the citizen entrance reported errors:\n" + "\n".join(problems)


def sms_code(stack, phone: str = E164, after: int = 0, timeout: float = 10.0) -> str:
    """The newest 6-digit code the stack texted to ``phone`` (its ``after``-th SMS or later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = requests.get(f"{stack.url}/_local/outbox", params={"to": phone}, timeout=10).json()
        codes = [
            m for e in box[after:] if e.get("kind") == "sms" and (m := CODE.search(e.get("message", "")))
        ]
        if codes:
            return codes[-1].group(1)
        time.sleep(0.2)
    raise AssertionError(f"no SMS code to {phone} in the outbox")


def outbox_size(stack, phone: str = E164) -> int:
    return len(requests.get(f"{stack.url}/_local/outbox", params={"to": phone}, timeout=10).json())


def close(api, pid: str) -> None:
    steps = [
        ("dispatch", {"department": "210922.urban"}, "dispatcher@210922"),
        ("accept", {}, "handler@210922.urban"),
        ("resolve", {"reply": "已更换路灯灯泡并检修线路，现已恢复照明。"}, "handler@210922.urban"),
        ("review", {"approve": True}, "reviewer@210922"),
    ]
    for action, body, who in steps:
        r = api.post(f"/v1/petitions/{pid}/{action}", body, as_=who)
        assert r.status_code == 200, (action, r.text)


def test_the_citizen_api_is_there(live_stack):
    r = requests.post(f"{live_stack.url}/v1/citizen/otp", json={}, timeout=10)
    assert r.status_code == 400 and "error" in r.json(), (
        f"POST /v1/citizen/otp answered {r.status_code} {r.text[:200]}: "
        "the citizen API (CONTRACT §9) has not landed"
    )


def test_a_citizen_writes_verifies_follows_and_rates(live_stack, open_page):
    api = live_stack.api
    page = open_page(allow=("status of 400", "status of 401", "status of 404"))
    page.goto(f"{live_stack.url}/m/")
    page.locator("a.entrance").first.wait_for()
    assert page.locator("a.entrance").count() == 7
    page.click('a.entrance[data-district="210922"]')  # 彰武县
    content = f"小区门口路灯坏了一个月，晚上出行很不方便（{uuid.uuid4().hex[:8]}）"
    page.locator('select[name="category"]').select_option("municipal.lighting")
    page.locator('textarea[name="content"]').fill(content)
    page.locator('input[name="address"]').fill("彰武县彰武镇东山社区3号楼")
    page.locator('input[name="lat"]').fill("42.0115")
    page.locator('input[name="lon"]').fill("121.6708")
    page.locator('input[name="phone"]').fill(PHONE_NUMBER)
    page.click("button:has-text('下一步')")

    # The SMS code comes by SMS (here: the local outbox)
    before = outbox_size(live_stack)
    verify = page.locator("form.verify")
    verify.locator("button[data-send-code]").click()
    verify.get_by_text("验证码已发送至 138****8000").wait_for()
    code = sms_code(live_stack, after=before)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    verify.locator('input[name="code"]').fill(wrong)
    verify.locator("button[type=submit]").click()
    verify.locator('[data-field="code"] .error').wait_for()
    verify.locator('input[name="code"]').fill(code)
    verify.locator("button[type=submit]").click()
    done = page.locator("section.done")
    done.wait_for()
    pid = done.get_attribute("data-petition")
    screenshot(page, "m-live-01-submitted-375x812")

    # Then the petition is the citizen's, from WeChat, with the phone the code proved
    stored = api.get(f"/v1/petitions/{pid}", as_="admin@210900").json()
    assert stored["channel"] == "wechat"
    assert stored["citizen"]["phone"] == MASKED
    assert stored["content"] == content and stored["district"] == "210922"
    assert stored["location"]["address"] == "彰武县彰武镇东山社区3号楼"
    assert page.evaluate("JSON.parse(sessionStorage.getItem('fzt.m.session')).token")

    # 我的诉求 lists it, 待分拨, with its deadline
    page.click("#nav a:has-text('我的诉求')")
    item = page.locator(f'a.item[data-petition="{pid}"]')
    item.wait_for()
    assert "待分拨" in item.inner_text() and "应于" in item.inner_text()

    # When operators close it, the citizen reads the story and rates it
    close(api, pid)
    item.click()
    page.locator("form.rating").wait_for()
    text = page.locator("ol.timeline").inner_text()
    assert "已交由彰武县城市管理综合行政执法局办理。" in text and "办理结果审核通过，诉求已办结。" in text
    page.locator("form.rating").get_by_label("基本满意").check()
    page.locator("form.rating button[type=submit]").click()
    page.get_by_text("感谢您的评价！").wait_for()
    after = api.get(f"/v1/petitions/{pid}", as_="admin@210900").json()
    assert (after["rating"], after["awaiting_feedback"]) == ("basically_satisfied", False)
    screenshot(page, "m-live-02-rated-375x812")

    # Someone else's petition is not found, even by its number
    other = api.post(
        "/v1/petitions",
        {
            "district": "210902",
            "content": f"楼道灯不亮（{uuid.uuid4().hex[:8]}）",
            "citizen": {"phone": OTHER_PHONE},
        },
        as_="local-wechat",
    )
    assert other.status_code == 201, other.text
    page.goto(f"{live_stack.url}/m/#/mine/{other.json()['id']}")
    page.get_by_text("没有找到编号为").wait_for()


def test_a_second_code_within_the_minute_is_refused_with_the_apis_message(live_stack, open_page):
    page = open_page(allow=("status of 429",))
    page.goto(f"{live_stack.url}/m/#/mine")
    form = page.locator("form.verify")
    form.locator('input[name="phone"]').fill("13700137000")
    form.locator("button[data-send-code]").click()
    form.get_by_text("验证码已发送").wait_for()
    other = open_page(allow=("status of 429",))  # another tab: its button is not cooling down
    other.goto(f"{live_stack.url}/m/#/mine")
    again = other.locator("form.verify")
    again.locator('input[name="phone"]').fill("13700137000")
    again.locator("button[data-send-code]").click()
    message = again.locator('[data-field="phone"] .error, .form-error').filter(has_text=re.compile(r"\S"))
    message.first.wait_for()
    assert "验证码已发送" not in again.inner_text()
