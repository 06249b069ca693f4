"""Malformed submissions and action bodies are refused precisely and store nothing (CONTRACT §4).

Every refused body answers 4xx in the error shape, with `field` naming the first
bad field (`body` when the body as a whole is unusable), and leaves no trace: the
submitting channel's list has as many petitions as before, and no message was
published. Well-formed but unusual text (HTML, emoji, rare CJK) is stored as given.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import pytest

from tests.integration import petition_factory as pf


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


REMOVE = object()


def valid_body() -> dict:
    """A submission every channel but the grid one may send (walk-in window, 海州区)."""
    return pf.petition_body(content="小区门口路灯坏了一个月，晚上出行很不方便（样本）")


def changed(**changes) -> dict:
    """`valid_body()` with dotted paths (`citizen__phone` for citizen.phone) set or removed."""
    body = valid_body()
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = body
        for name in parents:
            target = target.setdefault(name, {})
        if value is REMOVE:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return body


def raw(body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@dataclass
class Bad:
    id: str
    data: bytes
    field: str
    status: int = 400
    code: str = "invalid_input"
    as_: str = "local-walkin"
    headers: dict = field(default_factory=dict)


def bad(id: str, body, field: str, **kw) -> Bad:
    data = body if isinstance(body, bytes) else raw(body)
    return Bad(id, data, field, **kw)


VALID_RAW = raw(valid_body())

CORPUS: list[Bad] = [
    # --- the body as a whole ------------------------------------------
    bad("invalid-utf8-bytes", b'{"district":"210902","content":"\xff\xfe\xfd abcdef"}', "body"),
    bad("utf16-encoded", json.dumps(valid_body(), ensure_ascii=False).encode("utf-16"), "body"),
    bad("not-json", b"{district: 210902, content: 'abcdef'}", "body"),
    bad("truncated-json", VALID_RAW[:-1], "body"),
    bad("trailing-garbage", VALID_RAW + b"}", "body"),
    bad("json-array", [valid_body()], "body"),
    bad("json-string", "路灯坏了一个月", "body"),
    bad("json-null", b"null", "body"),
    bad("json-number", b"210902", "body"),
    bad("json-true", b"true", "body"),
    bad("deeply-nested-arrays", b"[" * 30_000 + b"]" * 30_000, "body"),
    bad(
        "deeply-nested-junk-field",
        VALID_RAW[:-1] + b',"junk":' + b"[" * 25_000 + b"]" * 25_000 + b"}",  # under 64 KB
        "body",
    ),
    bad("larger-than-64KB", changed(content="路" * 30_000), "body", status=413, code="too_large"),
    # --- district ------------------------------------------
    bad("district-missing", changed(district=REMOVE), "district"),
    bad("district-null", changed(district=None), "district"),
    bad("district-number", changed(district=210902), "district"),
    bad("district-five-digits", changed(district="21090"), "district"),
    bad("district-letters", changed(district="haizhou"), "district"),
    bad("district-unknown-210999", changed(district="210999"), "district"),
    # --- content ------------------------------------------
    bad("content-missing", changed(content=REMOVE), "content"),
    bad("content-null", changed(content=None), "content"),
    bad("content-number", changed(content=12345), "content"),
    bad("content-list", changed(content=["路灯", "坏了"]), "content"),
    bad("content-object", changed(content={"text": "路灯坏了一个月"}), "content"),
    bad("content-4-chars", changed(content="路灯坏了"), "content"),
    bad("content-4001-chars", changed(content="灯" * 4001), "content"),
    bad("content-only-spaces", changed(content=" " * 12), "content"),
    bad("content-only-ideographic-spaces", changed(content="\u3000" * 8), "content"),
    bad("content-only-newlines", changed(content="\n\r\n\n\n\n\n"), "content"),
    bad("content-nul", changed(content="路灯坏了\x00一个月"), "content"),
    bad("content-bell", changed(content="路灯坏了\x07一个月"), "content"),
    bad("content-ansi-escape", changed(content="\x1b[31m路灯坏了一个月\x1b[0m"), "content"),
    bad("content-delete-char", changed(content="路灯坏了\x7f一个月"), "content"),
    bad("content-line-separator", changed(content="路灯坏了\u2028一个月"), "content"),
    bad(
        "content-lone-surrogate",
        b'{"district":"210902","anonymous":true,"content":"\\u8def\\u706f\\ud800\\u574f\\u4e86"}',
        "content",
    ),
    # --- title, priority, category, anonymous ------------------------------------------
    bad("title-with-newline", changed(title="路灯\n不亮"), "title"),
    bad("title-with-tab", changed(title="路灯\t不亮"), "title"),
    bad("title-empty", changed(title=""), "title"),
    bad("title-101-chars", changed(title="灯" * 101), "title"),
    bad("title-number", changed(title=42), "title"),
    bad("priority-high", changed(priority="high"), "priority"),
    bad("priority-upper-case", changed(priority="URGENT"), "priority"),
    bad("priority-number", changed(priority=1), "priority"),
    bad("category-unknown", changed(category="municipal.unicorns"), "category"),
    bad("category-bad-shape", changed(category="Municipal/Lighting"), "category"),
    bad("anonymous-as-string", changed(anonymous="false"), "anonymous"),
    bad("anonymous-as-number", changed(anonymous=0), "anonymous"),
    # --- citizen ------------------------------------------
    bad("anonymous-false-without-phone", changed(citizen={"name": "张三"}), "citizen.phone"),
    bad("no-citizen-not-anonymous", changed(citizen=REMOVE, anonymous=REMOVE), "citizen.phone"),
    bad("citizen-as-string", changed(citizen="张三 13800138000"), "citizen"),
    bad("citizen-as-list", changed(citizen=["张三", "13800138000"]), "citizen"),
    bad("citizen-unknown-field", changed(citizen__id_card="210902199001011234"), "citizen.id_card"),
    bad("citizen-name-with-newline", changed(citizen__name="张\n三"), "citizen.name"),
    bad("citizen-name-51-chars", changed(citizen__name="张" * 51), "citizen.name"),
    bad("phone-not-mainland-us", changed(citizen__phone="+14155552671"), "citizen.phone"),
    bad("phone-not-mainland-hk", changed(citizen__phone="+85291234567"), "citizen.phone"),
    bad("phone-landline", changed(citizen__phone="04182812345"), "citizen.phone"),
    bad("phone-landline-with-dash", changed(citizen__phone="0418-2812345"), "citizen.phone"),
    bad("phone-too-short", changed(citizen__phone="1380013800"), "citizen.phone"),
    bad("phone-too-long", changed(citizen__phone="138001380001"), "citizen.phone"),
    bad("phone-with-letters", changed(citizen__phone="138abcd8000"), "citizen.phone"),
    bad("phone-no-such-prefix", changed(citizen__phone="12345678901"), "citizen.phone"),
    bad("phone-as-number", changed(citizen__phone=13800138000), "citizen.phone"),
    # --- location ------------------------------------------
    bad("location-as-string", changed(location="海州区解放街道"), "location"),
    bad("location-unknown-field", changed(location__alt=120), "location.alt"),
    bad("lat-91", changed(location__lat=91), "location.lat"),
    bad("lat-minus-90.5", changed(location__lat=-90.5), "location.lat"),
    bad("lon-minus-181", changed(location__lon=-181), "location.lon"),
    bad("lon-180.01", changed(location__lon=180.01), "location.lon"),
    bad("lat-as-string-42", changed(location__lat="42"), "location.lat"),
    bad("lat-as-boolean", changed(location__lat=True), "location.lat"),
    bad("address-with-newline", changed(location__address="海州区\n解放街道"), "location.address"),
    bad("grid-unknown", changed(location__grid="210902-999"), "location.grid"),
    bad("grid-of-another-district", changed(location__grid="210905-001"), "location.grid"),
    bad("grid-nested-junk", changed(location__grid={"a": {"b": [1, {"c": None}]}}), "location.grid"),
    # --- unknown fields, channel references, grid workers ------------------------------------------
    bad("unknown-field", changed(urgent_please=True), "urgent_please"),
    bad("unknown-field-with-script", changed(comment="<script>alert(1)</script>"), "comment"),
    bad("unknown-field-proto", {**valid_body(), "__proto__": {"admin": True}}, "__proto__"),
    bad("channel-ref-129-chars", changed(channel_ref="x" * 129), "channel_ref"),
    bad("channel-ref-list", changed(channel_ref=["a", "b"]), "channel_ref"),
    bad("grid-channel-without-reported-by", changed(), "reported_by", as_="local-grid"),
    bad("reported-by-unknown", changed(reported_by="gw-999999-01"), "reported_by", as_="local-grid"),
    bad("reported-by-with-newline", changed(reported_by="gw-210902\n-01"), "reported_by", as_="local-grid"),
    # --- the Idempotency-Key header ------------------------------------------
    bad("idempotency-key-129-chars", changed(), "Idempotency-Key", headers={"Idempotency-Key": "k" * 129}),
    bad("idempotency-key-with-tab", changed(), "Idempotency-Key", headers={"Idempotency-Key": "a\tb"}),
]


def test_the_corpus_is_large_and_its_names_unique():
    assert len(CORPUS) >= 50
    assert len({c.id for c in CORPUS}) == len(CORPUS)


def stored_count(api, channel_key: str) -> int:
    return len(pf.list_all(api, channel_key))


def outbox_size(api) -> int:
    r = api.get("/_local/outbox")
    assert r.status_code == 200
    return len(r.json())


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_malformed_submission_is_refused_and_stores_nothing(api, case):
    # Given how many petitions the channel has and how many messages went out
    before = stored_count(api, case.as_), outbox_size(api)

    # When the channel submits the malformed body
    headers = {"Content-Type": "application/json", **case.headers}
    r = api.post("/v1/petitions", data=case.data, as_=case.as_, headers=headers)

    # Then it is refused, naming the offending field, and nothing was stored or sent
    assert r.status_code == case.status, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert error["code"] == case.code
    assert error["field"] == case.field
    assert error["message"]
    assert (stored_count(api, case.as_), outbox_size(api)) == before


def test_a_json_body_is_read_as_json_whatever_content_type_it_declares(api):
    # Given a valid body sent as text/plain, and as a form (what `curl -d` declares)
    for declared in ("text/plain", "application/x-www-form-urlencoded"):
        r = api.post(
            "/v1/petitions",
            data=json.dumps(pf.petition_body()).encode(),
            as_="local-walkin",
            headers={"Content-Type": declared},
        )
        # Then it is a petition like any other
        assert r.status_code == 201, (declared, r.text)


@pytest.mark.parametrize("declared", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_answers_in_the_error_shape(api, declared):
    before = stored_count(api, "local-walkin")
    r = api.post(
        "/v1/petitions",
        data=b"<petition>not json</petition>",
        as_="local-walkin",
        headers={"Content-Type": declared},
    )
    # Then it is refused in the contract's error shape ({"error": {"code", "message"}}) and stores nothing
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == "body"
    assert stored_count(api, "local-walkin") == before


def test_a_refused_body_does_not_use_up_its_idempotency_key(api):
    key = "malformed-" + uuid.uuid4().hex
    # Given a body refused by the directory check (unknown district) under a key
    r = api.post(
        "/v1/petitions", changed(district="210999"), as_="local-walkin", headers={"Idempotency-Key": key}
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "district"
    # When a valid body follows under the same key
    r = api.post("/v1/petitions", pf.petition_body(), as_="local-walkin", headers={"Idempotency-Key": key})
    # Then it is a new petition, not a replay and not a key conflict
    assert r.status_code == 201, r.text


# --- unusual but valid text is stored as given ------------------------------------------


def submit_and_read_back(api, body: dict, as_: str = "local-hotline") -> tuple[dict, dict]:
    r = api.post("/v1/petitions", body, as_=as_)
    assert r.status_code == 201, r.text
    created = r.json()
    return created, pf.read(api, created["id"], as_=as_)


def test_html_and_script_content_is_stored_as_plain_text(api):
    content = "<script>alert(1)</script>"
    created, stored = submit_and_read_back(api, pf.petition_body(content=content))
    assert created["content"] == content
    assert stored["content"] == content
    assert pf.read(api, created["id"])["content"] == content  # operators see the same text


def test_emoji_and_any_chinese_text_are_accepted(api):
    content = "路灯坏了😀🚧，𠮷野家门口（生僻字𪚥）、繁體「燈壞了」、蒙古文ᠮᠣᠩᠭᠣᠯ ✅"
    title = "路灯🚨不亮"
    created, stored = submit_and_read_back(api, pf.petition_body(content=content, title=title))
    assert (stored["content"], stored["title"]) == (content, title)


@pytest.mark.parametrize("length", [5, 4000])
def test_content_at_the_length_bounds_is_accepted(api, length):
    content = "灯" * (length - 4) + uuid.uuid4().hex[:4]  # unique: not a double-click of an earlier run
    assert len(content) == length
    _, stored = submit_and_read_back(api, pf.petition_body(content=content))
    assert stored["content"] == content


def test_a_plus_86_phone_is_accepted_masked_for_operators_and_clear_for_the_owner(api):
    created, stored = submit_and_read_back(
        api, pf.petition_body(citizen={"name": "李四", "phone": "+8613800138000"})
    )
    assert created["status"] == "received"
    assert stored["citizen"]["phone"] in ("+8613800138000", "13800138000")
    assert pf.read(api, created["id"])["citizen"]["phone"] == "138****8000"


def test_anonymous_without_phone_is_accepted(api):
    created, stored = submit_and_read_back(api, pf.petition_body(citizen=None, anonymous=True))
    assert stored["anonymous"] is True
    assert stored["citizen"] is None or stored["citizen"]["phone"] is None


# --- malformed action bodies ------------------------------------------

# action -> (the state it starts from, who takes it, {case: (body, the field the 400 names)})
MALFORMED_ACTIONS = {
    "dispatch": (
        "received",
        pf.DISPATCHER,
        {
            "unknown-department": ({"department": "210902.unicorn"}, "department"),
            "department-of-another-district": ({"department": "210905.urban"}, "department"),
            "department-bad-shape": ({"department": "城管局"}, "department"),
            "without-department": ({}, "department"),
            "unknown-co-department": (
                {"department": pf.DEPARTMENT, "co_departments": ["210902.unicorn"]},
                "co_departments",
            ),
            "body-is-an-array": ([{"department": pf.DEPARTMENT}], "body"),
        },
    ),
    "return": (
        "dispatched",
        pf.HANDLER,
        {
            "reason-not-in-the-list": ({"reason": "too_busy", "note": "忙"}, "reason"),
            "reason-label-not-code": ({"reason": "职能不符", "note": "不归我们管"}, "reason"),
        },
    ),
    "extension": (
        "accepted",
        pf.HANDLER,
        {
            "zero-working-days": ({"working_days": 0, "reason": "协调"}, "working_days"),
            "working-days-as-string": ({"working_days": "3", "reason": "协调"}, "working_days"),
            "working-days-fraction": ({"working_days": 2.5, "reason": "协调"}, "working_days"),
            "working-days-negative": ({"working_days": -1, "reason": "协调"}, "working_days"),
        },
    ),
    "feedback": (
        "closed",
        pf.OWNER,
        {
            "rating-good": ({"rating": "good"}, "rating"),
            "rating-number": ({"rating": 5}, "rating"),
        },
    ),
    "review": ("resolved", pf.REVIEWER, {"approve-as-string": ({"approve": "yes"}, "approve")}),
}
ACTION_CASES = [
    (f"{action}-{name}", state, action, who, body, field)
    for action, (state, who, cases) in MALFORMED_ACTIONS.items()
    for name, (body, field) in cases.items()
]


@pytest.fixture(scope="module")
def petitions_by_state(api):
    """One petition per state, shared: every call below is refused and changes nothing."""
    cache: dict[str, str] = {}

    def get(state: str) -> str:
        if state not in cache:
            cache[state] = pf.petition_in(api, state)
        return cache[state]

    return get


@pytest.mark.parametrize(
    "state, action, who, body, field", [c[1:] for c in ACTION_CASES], ids=[c[0] for c in ACTION_CASES]
)
def test_malformed_action_body_is_refused_and_changes_nothing(
    api, petitions_by_state, state, action, who, body, field
):
    # Given a petition in a state the action starts from
    pid = petitions_by_state(state)
    before = pf.snapshot(api, pid)

    # When the right caller sends a malformed body
    r = api.post(
        f"/v1/petitions/{pid}/{action}", data=raw(body), as_=who, headers={"Content-Type": "application/json"}
    )

    # Then 400 names the field, and the petition is as it was
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_input"
    assert r.json()["error"]["field"] == field
    assert pf.snapshot(api, pid) == before
