"""Builds petitions in a given state by driving them through the HTTP API, as people would.

The standard petition: submitted by the WeChat mini program (`local-wechat`) in 海州区
(210902), dispatched to 210902.urban, accepted, resolved, reviewed, … Every step is
an API call whose answer is checked, so a broken step fails loudly where it breaks.

Every body carries a unique marker in its content: two identical bodies from one
channel within two minutes are a double-click and would answer the same petition.
"""

from __future__ import annotations

import itertools
import uuid

OWNER = "local-wechat"
DISTRICT = "210902"
DEPARTMENT = "210902.urban"
OTHER_DEPARTMENT = "210902.housing"
PHONE = "13800138000"
PHONE_MASKED = "138****8000"
GRID_WORKER = "gw-210902-01"  # a grid worker of 海州区 (grid channel submissions name one)

DISPATCHER = "dispatcher@210902"
HANDLER = "handler@210902.urban"
REVIEWER = "reviewer@210902"
SUPERVISOR = "supervisor@210902"
ADMIN = "admin@210900"

_serial = itertools.count(1)


def quick_api(url: str):
    """The conftest client, but with one connection per request.

    On a kept-alive connection the local dev server's two writes (headers, body)
    meet Nagle's algorithm and the client's delayed ACK: ~40 ms per request. A
    fresh connection answers in ~2 ms. The server does not say `Connection: close`
    in its answer, so the pool would reuse a socket the server is closing: the
    adapter below reads each answer and then drops its connections.
    """
    from requests.adapters import HTTPAdapter

    from tests.conftest import Api

    class OneShotAdapter(HTTPAdapter):
        def send(self, request, **kw):
            response = super().send(request, **kw)
            _ = response.content  # read it all before the connection goes
            self.close()
            return response

    client = Api(url)
    client.session.headers["Connection"] = "close"
    client.session.mount("http://", OneShotAdapter())
    return client


def unique_text(prefix: str = "小区门口路灯坏了一个月，晚上出行很不方便") -> str:
    return f"{prefix}（编号{next(_serial)}-{uuid.uuid4().hex[:8]}）"


def petition_body(**overrides) -> dict:
    """A valid submission body; `overrides` replace top-level fields (None removes one)."""
    body = {
        "district": DISTRICT,
        "content": unique_text(),
        "title": "路灯不亮",
        "category": "municipal.lighting",
        "priority": "normal",
        "citizen": {"name": "张三", "phone": PHONE},
        "anonymous": False,
        "location": {"address": "海州区解放街道光明社区", "lat": 42.01, "lon": 121.65},
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def body_for_channel(channel_key: str, **overrides) -> dict:
    """A valid body for that channel (the grid channel names its grid worker)."""
    if channel_key == "local-grid":
        overrides.setdefault("reported_by", GRID_WORKER)
    return petition_body(**overrides)


def create(api, as_: str = OWNER, **overrides) -> dict:
    body = body_for_channel(as_, **overrides)
    r = api.post("/v1/petitions", body, as_=as_)
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


# Valid bodies of every action, for the standard petition.
def action_body(action: str, *, into: str | None = None) -> dict:
    bodies = {
        "dispatch": {"department": DEPARTMENT, "note": "请尽快处理"},
        "accept": {},
        "return": {"reason": "function", "note": "不属于本单位职能"},
        "transfer": {"department": OTHER_DEPARTMENT, "reason": "涉及小区物业，改派住建"},
        "extension": {"working_days": 3, "reason": "需要协调供电公司"},
        "extension/decision": {"approve": True, "note": "同意延期"},
        "suspend": {"reason": "等待上级批复", "consented_by": SUPERVISOR},
        "resume": {"note": "批复已到"},
        "resolve": {"reply": "已更换灯泡，路灯恢复正常"},
        "answer": {"reply": "已当场答复：供电所今晚抢修该路灯"},
        "review": {"approve": True, "note": "办理属实"},
        "feedback": {"rating": "satisfied", "comment": "很满意"},
        "escalate": {"note": "群众反映强烈"},
        "merge": {"into": into or "", "note": "同一路灯"},
        "instruction": {"note": "请相关部门高度重视，限期解决"},
        "triage": {"route": "mediation", "note": "邻里纠纷，转调解"},
        "whistle": {"note": "网格内解决不了，请部门报到"},
        "claim": {"note": "我部门报到认领"},
        "flag": {"key_case": True, "note": "涉及多户居民，列为重点"},
        "urge": {"kind": "reminder", "note": "请抓紧办理"},
    }
    return dict(bodies[action])


def act(api, pid: str, action: str, as_: str, body: dict | None = None) -> dict:
    r = api.post(f"/v1/petitions/{pid}/{action}", action_body(action) if body is None else body, as_=as_)
    assert r.status_code == 200, (action, as_, r.status_code, r.text)
    return r.json()


# The way from `received` to each state: (action, who).
PATHS: dict[str, list[tuple[str, str]]] = {
    "received": [],
    "dispatched": [("dispatch", DISPATCHER)],
    "accepted": [("dispatch", DISPATCHER), ("accept", HANDLER)],
    "extension_pending": [("dispatch", DISPATCHER), ("accept", HANDLER), ("extension", HANDLER)],
    "suspended": [("dispatch", DISPATCHER), ("accept", HANDLER), ("suspend", HANDLER)],
    "resolved": [("dispatch", DISPATCHER), ("accept", HANDLER), ("resolve", HANDLER)],
    "closed": [("dispatch", DISPATCHER), ("accept", HANDLER), ("resolve", HANDLER), ("review", REVIEWER)],
    "posted": [("whistle", DISPATCHER)],  # 基层吹哨: in the district's claim pool (§10)
}
EXPECTED_STATUS = {
    "received": "received",
    "dispatched": "dispatched",
    "accepted": "accepted",
    "extension_pending": "accepted",
    "suspended": "suspended",
    "resolved": "resolved",
    "closed": "closed",
    "merged": "merged",
    "posted": "posted",
}


def settle(api) -> None:
    """Wait until the local drain has published what was committed so far and recorded each
    delivery on its petition's timeline (``GET /_local/outbox`` waits for the drain first): a
    snapshot taken after this does not change under a test's feet."""
    r = api.get("/_local/outbox", params={"to": "settle"})
    assert r.status_code == 200, r.text


def petition_in(api, state: str, as_: str = OWNER, **overrides) -> str:
    """A fresh petition of `as_` in `state` (see PATHS; `merged` merges it into a fresh one)."""
    if state == "merged":
        main = create(api, as_=as_, **overrides)["id"]
        child = create(api, as_=as_, **overrides)["id"]
        act(api, child, "merge", DISPATCHER, {"into": main})
        settle(api)
        return child
    pid = create(api, as_=as_, **overrides)["id"]
    last = None
    for action, who in PATHS[state]:
        last = act(api, pid, action, who)
    if last is not None:
        assert last["status"] == EXPECTED_STATUS[state], (state, last["status"])
    settle(api)
    return pid


def read(api, pid: str, as_: str = ADMIN) -> dict:
    r = api.get(f"/v1/petitions/{pid}", as_=as_)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def chain(petition: dict) -> list[dict]:
    """A petition's chained timeline events (with seq): its changes and the notifications they queued,
    without the delivery outcomes shown among them (those land whenever the drain delivers)."""
    return [e for e in petition["timeline"] if "seq" in e]


def snapshot(api, pid: str) -> tuple[str, int]:
    """What a rejected request must not change: the status and the number of timeline events."""
    settle(api)
    p = read(api, pid)
    return p["status"], len(p["timeline"])


def list_all(api, as_: str, limit: int = 100, max_pages: int = 200, **query) -> list[dict]:
    """Every item of a listing, following next_cursor to the end.

    Fails early (with a short message) if a cursor comes back twice or the pages
    never end, rather than piling up items without bound.
    """
    items: list[dict] = []
    seen: set[str] = set()
    cursor = None
    for number in range(1, max_pages + 1):
        params = {"limit": limit, **query}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/v1/petitions", as_=as_, params=params)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        page = r.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
        if cursor in seen:
            raise AssertionError(
                f"listing as {as_} {query}: page {number} hands out a cursor it handed out before "
                f"({len(items)} items so far, {len({p['id'] for p in items})} distinct): {cursor[:200]}"
            )
        seen.add(cursor)
    raise AssertionError(f"listing as {as_} {query}: more than {max_pages} pages of {limit}")
