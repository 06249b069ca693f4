"""Open311 GeoReport v2 (CONTRACT §14) on the local stack, driven by Open311 client libraries from
PyPI — civicbot's ``Open311Client`` (the one Python 3 client that posts) and ``georeport`` (reads,
JSON and XML) — not by our own code: a client lists the services, posts a request, reads it back
with its ``expected_datetime``, and sees it ``closed`` once operators dispatch, accept, resolve and
review it through ``/v1``. Every answer, the clients' included, is held to the spec's schemas
(tests/schemas/open311/).
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, timedelta

import pytest
import requests
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport

from chalicelib.clock import SHANGHAI, parse_instant
from chalicelib.timing.calendar import WorkingCalendar
from tests.integration import petition_factory as pf
from tests.unit.test_open311_schemas import check, validate

CODE = "municipal.lighting"
NAME, SURNAME, PHONE, EMAIL = "三", "张", "13800138000", "zhangsan@example.org"


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


@pytest.fixture(scope="module")
def base(stack) -> str:
    return f"{stack.url}/open311/v2"


def kind_of(method: str, url: str) -> str:
    path = urllib.parse.urlparse(url).path.split("/open311/v2/", 1)[1]
    head = path.split("/", 1)[0].rsplit(".", 1)[0]
    if "/" in path:
        return {"services": "service_definition", "requests": "service_requests", "tokens": "tokens"}[head]
    if head == "requests":
        return "created" if method == "POST" else "service_requests"
    return head


class CheckedTransport(HttpTransport):
    """civicbot's transport, swapped in the way the library provides for: no politeness delay on the
    loopback, the channel key on reads (the library sends api_key only on POST), and every answer
    validated against the spec's schemas before the client sees it."""

    def __init__(self, key: str | None) -> None:
        super().__init__(rate_limiter=RateLimiter(min_interval=0))
        self.key = key
        self.checked = 0

    def _open(self, req):
        if self.key and req.get_method() == "GET":
            req.add_header("X-Api-Key", self.key)
        try:
            raw = super()._open(req)
        except HttpError as e:
            [error] = validate("errors", "json", e.body.encode())
            assert error["code"] == e.status
            self.checked += 1
            raise
        validate(kind_of(req.get_method(), req.full_url), "json", raw)
        self.checked += 1
        return raw


def client(base: str, key: str | None = pf.OWNER, jurisdiction: str = pf.DISTRICT) -> Open311Client:
    endpoint = Endpoint(id="fuxin-local", name="阜新市（本地）", base_url=base, write=True)
    return Open311Client(endpoint, transport=CheckedTransport(key), jurisdiction_id=jurisdiction)


def post(c: Open311Client, key: str = pf.OWNER, code: str = CODE, **fields):
    values = {
        "lat": 42.01,
        "lng": 121.65,
        "address_string": "海州区解放街道光明社区",
        "description": pf.unique_text(),
        "first_name": NAME,
        "last_name": SURNAME,
        "phone": PHONE,
        "email": EMAIL,
        **fields,
    }
    prepared = c.create_request(code, dry_run=False, confirm="SEND", api_key=key, **values)
    return prepared.response


def raw(base: str, path: str, key: str | None = pf.OWNER, **params) -> requests.Response:
    headers = {"X-Api-Key": key} if key else {}
    return requests.get(f"{base}/{path}", params=params, headers=headers, timeout=30)


def raw_post(base: str, fmt: str = "json", **form) -> requests.Response:
    return requests.post(f"{base}/requests.{fmt}", data=form, timeout=30)


def form(**over) -> dict:
    values = {
        "api_key": pf.OWNER,
        "jurisdiction_id": pf.DISTRICT,
        "service_code": CODE,
        "address_string": "海州区解放街道",
        "description": pf.unique_text(),
        "phone": PHONE,
        **over,
    }
    return {k: v for k, v in values.items() if v is not None}


# --- discovery and services ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_and_services_validate_and_name_this_endpoint(base, api, fmt):
    found = check(raw(base, f"discovery.{fmt}", key=None), "discovery")
    endpoint = found["endpoints"][0] if fmt == "json" else found["endpoints"]["endpoint"][0]
    assert endpoint["url"] == base and endpoint["type"] == "test"
    categories = [c["code"] for c in api.get("/v1/categories").json()["items"]]
    services = check(raw(base, f"services.{fmt}", key=None, jurisdiction_id=pf.DISTRICT), "services")
    listed = services if fmt == "json" else services["service"]
    assert [s["service_code"] for s in listed] == categories
    check(raw(base, f"services/{CODE}.{fmt}", key=None), "service_definition")


def test_client_libraries_list_the_services(base, api):
    categories = {c["code"]: c["name"] for c in api.get("/v1/categories").json()["items"]}
    c = client(base, key=None)
    services = c.list_services()
    assert {s["service_code"]: s["service_name"] for s in services} == categories
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    assert c.get_service_definition(CODE) == {"service_code": CODE, "attributes": []}
    assert c.http.checked == 2
    for fmt in ("json", "xml"):
        g = GeoReport(base, jurisdiction=pf.DISTRICT, output_format=fmt)
        assert [s["service_code"] for s in g.get_service_list()] == list(categories)
        assert g.get_service_definition(CODE)["service_code"] == CODE


# --- the whole way: post, read back, closed --------------------------------------------------------------


def on_a_working_morning(api) -> None:
    """The stack's clock to 10:00 of a later working day: a deadline counted from then moves with it."""
    calendar = WorkingCalendar.bundled()
    now = parse_instant(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    day = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    while not calendar.is_working_day(day.date()):
        day += timedelta(days=1)
    assert api.post("/_local/clock", {"set": day.isoformat()}).status_code == 200


def test_a_client_posts_reads_back_and_sees_it_closed_after_operators_close_it(base, api):
    on_a_working_morning(api)
    c = client(base)
    assert CODE in {s["service_code"] for s in c.list_services()}
    [created] = post(c, media_url="https://example.org/lamp.jpg")
    pid = created["service_request_id"]
    assert created["service_notice"].startswith(f"已受理，编号{pid}") and created["account_id"] is None

    mine = pf.read(api, pid)  # /v1, as the city's admin
    assert (
        mine["channel"] == "wechat" and mine["category"] == CODE and mine["citizen"]["phone"] == "138****8000"
    )
    assert pf.read(api, pid, as_=pf.OWNER)["citizen"] == {"name": "张三", "phone": "+8613800138000"}

    request = c.get_request(pid)
    assert request["status"] == "open" and request["status_notes"].startswith("待分拨")
    assert request["expected_datetime"] == mine["due_at"] and request["expected_datetime"] is not None
    assert request["requested_datetime"] == mine["created_at"]
    assert (request["service_code"], request["service_name"]) == (CODE, "路灯照明")
    assert (request["lat"], request["long"], request["media_url"]) == (
        42.01,
        121.65,
        "https://example.org/lamp.jpg",
    )
    assert c.get_token(pid) == [{"service_request_id": pid, "token": pid}]

    # an hour later (on working time, so the next deadline, counted from the dispatch, is an hour later)
    assert api.post("/_local/clock", {"advance_seconds": 3600}).status_code == 200
    pf.act(api, pid, "dispatch", pf.DISPATCHER)
    dispatched = c.get_request(pid)
    assert dispatched["agency_responsible"] == "海州区城市管理综合行政执法局"
    assert dispatched["expected_datetime"] == pf.read(api, pid)["due_at"]
    # the stack's clock runs on from where it was set: the hour, plus the seconds between the two calls
    later = parse_instant(dispatched["expected_datetime"]) - parse_instant(request["expected_datetime"])
    assert timedelta(hours=1) <= later < timedelta(hours=1, minutes=5)
    pf.act(api, pid, "accept", pf.HANDLER)
    pf.act(api, pid, "resolve", pf.HANDLER)
    assert c.get_request(pid)["status"] == "open"  # resolved waits for the review
    pf.act(api, pid, "review", pf.REVIEWER)

    closed = c.get_request(pid)
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["status_notes"] == "已结案：答复：已更换灯泡，路灯恢复正常"
    assert parse_instant(closed["updated_datetime"]) == parse_instant(pf.read(api, pid)["updated_at"])
    assert pid in [r["service_request_id"] for r in c.list_requests(status="closed")]
    assert pid not in [r["service_request_id"] for r in c.list_requests(status="open")]
    xml = check(raw(base, f"requests/{pid}.xml"), "service_requests")
    assert xml["request"][0]["status"] == "closed"
    assert c.http.checked == 9  # every answer the client read was validated first


def test_personal_data_never_leaves(base):
    c = client(base)
    [created] = post(c)
    pid = created["service_request_id"]
    for path, kind, params in (
        (f"requests/{pid}.json", "service_requests", {}),
        (f"requests/{pid}.xml", "service_requests", {}),
        ("requests.json", "service_requests", {}),
        ("requests.xml", "service_requests", {"service_request_id": pid}),
        (f"tokens/{pid}.xml", "tokens", {}),
    ):
        r = raw(base, path, **params)
        check(r, kind)
        for personal in (PHONE, "138****8000", "8000", SURNAME + NAME, EMAIL, "wechat"):
            assert personal.encode() not in r.content, (path, personal)


def test_open311_petitions_count_under_the_channel_of_the_key(base, api):
    [created] = post(client(base, key="local-hotline"), key="local-hotline")
    pid = created["service_request_id"]
    assert pf.read(api, pid)["channel"] == "hotline_12345"
    assert pid in {p["id"] for p in pf.list_all(api, "local-hotline")}
    assert pid not in {p["id"] for p in pf.list_all(api, pf.OWNER)}
    assert pid in {p["id"] for p in pf.list_all(api, pf.DISPATCHER, status="received")}  # the console's queue
    assert raw(base, f"requests/{pid}.json").status_code == 404  # another channel's
    wechat = {r["service_request_id"] for r in client(base).list_requests()}
    assert pid not in wechat


def test_the_grid_channel_names_its_worker_as_account_id(base, api):
    c = client(base, key="local-grid")
    [created] = post(c, key="local-grid", account_id=pf.GRID_WORKER)
    assert pf.read(api, created["service_request_id"])["reported_by"] == pf.GRID_WORKER
    with pytest.raises(HttpError) as refused:
        post(c, key="local-grid")
    assert refused.value.status == 400 and "account_id" in refused.value.body


# --- filters -------------------------------------------------------------------------------------------


def test_get_requests_filters(base, api):
    c = client(base)
    [a] = post(c)
    [b] = post(c, code="municipal.road")
    ids = [a["service_request_id"], b["service_request_id"]]
    other = pf.create(api, as_="local-walkin")["id"]
    listed = c.list_requests(service_request_ids=[*ids, "261101XXXXXX", other])
    assert [r["service_request_id"] for r in listed] == ids  # unknown and other channels' left out
    road = [r["service_request_id"] for r in c.list_requests(service_code="municipal.road")]
    assert ids[1] in road and ids[0] not in road
    both = [r["service_request_id"] for r in c.list_requests(service_code=f"{CODE},municipal.road")]
    assert set(ids) <= set(both)

    now = parse_instant(api.get("/_local/clock").json()["now"])
    ahead = (now + timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert c.list_requests(start_date=ahead) == []
    yesterday = (now - timedelta(days=1)).isoformat()  # the +08:00 spelling
    assert set(ids) <= {r["service_request_id"] for r in c.list_requests(start_date=yesterday)}
    assert c.list_requests(end_date=yesterday) == []
    for fmt in ("json", "xml"):
        check(raw(base, f"requests.{fmt}", status="open,closed", service_code=CODE), "service_requests")


# --- errors as the spec says ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refusals_are_the_spec_errors_and_store_nothing(base, api, fmt):
    before = len(pf.list_all(api, pf.OWNER))
    for response, status, says in (
        (raw_post(base, fmt, **form(api_key="local-nobody")), 403, "api_key"),
        (raw_post(base, fmt, **form(api_key=None)), 403, "api_key"),
        (raw_post(base, fmt, **form(service_code="potholes")), 400, "service_code 'potholes'"),
        (raw_post(base, fmt, **form(jurisdiction_id=None)), 400, "jurisdiction_id"),
        (raw_post(base, fmt, **form(jurisdiction_id="999999")), 404, "jurisdiction_id"),
        (raw_post(base, fmt, **form(address_string=None)), 400, "location"),
        (raw_post(base, fmt, **form(phone="123")), 400, "phone"),
        (raw_post(base, fmt, **form(description="短")), 400, "description"),
        (requests.post(f"{base}/requests.{fmt}", json=form(), timeout=30), 400, "x-www-form-urlencoded"),
        (raw(base, f"requests.{fmt}", key=None), 403, "api_key"),
        (raw(base, f"requests.{fmt}", api_key="local-nobody", key=None), 403, "api_key"),
        (raw(base, f"requests/261101XXXXXX.{fmt}"), 404, "261101XXXXXX"),
        (raw(base, f"tokens/261101XXXXXX.{fmt}"), 404, "261101XXXXXX"),
        (raw(base, f"services/potholes.{fmt}", key=None), 404, "potholes"),
        (
            raw(base, f"requests.{fmt}", start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z"),
            400,
            "90",
        ),
        (raw(base, f"requests.{fmt}", status="pending"), 400, "status"),
    ):
        assert response.status_code == status, (status, response.text)
        doc = check(response, "errors")
        description = doc[0]["description"] if fmt == "json" else doc["error"][0]["description"]
        assert says in description, (says, description)
    assert len(pf.list_all(api, pf.OWNER)) == before


def test_client_libraries_see_the_refusals(base):
    with pytest.raises(HttpError) as bad_key:
        post(client(base), key="local-nobody")
    assert bad_key.value.status == 403
    with pytest.raises(HttpError) as unknown:
        post(client(base), code="potholes")
    assert unknown.value.status == 400 and "potholes" in unknown.value.body
    with pytest.raises(requests.HTTPError) as keyless:  # reads of requests need the channel's key
        GeoReport(base, jurisdiction=pf.DISTRICT).get_service_requests()
    assert keyless.value.response.status_code == 403


def test_only_open311_routes_were_added():
    import app

    added = {path for path in app.app.routes if path.startswith("/open311/")}
    assert added == {
        f"/open311/v2/{p}"
        for p in (
            "discovery.json",
            "discovery.xml",
            "services.json",
            "services.xml",
            "services/{name}",
            "requests.json",
            "requests.xml",
            "requests/{name}",
            "tokens/{name}",
        )
    }
    for path, methods in app.app.routes.items():
        owned = {
            m for m, entry in methods.items() if entry.view_function.__module__ == "chalicelib.open311.routes"
        }
        assert not owned or path in added, path
