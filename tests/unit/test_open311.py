"""Open311 GeoReport v2, without sockets: the mapping (pure), the wire (JSON, XML, errors, forms) and
the Blueprint itself on a runtime of in-memory fakes (tests/unit/support.py), every answer held to
the spec's schemas (tests/schemas/open311/)."""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime, timedelta

import pytest
from chalice.test import Client

from chalicelib.api.http import ThreadLocalChalice
from chalicelib.auth.identity import OPERATOR, Identity
from chalicelib.clock import SHANGHAI, iso
from chalicelib.errors import InvalidInput, NotFound, TooLarge
from chalicelib.open311 import blueprint, georeport, wire
from chalicelib.petitions.machine import STATUS_LABELS
from tests.unit.support import DISPATCHER, HANDLER, demo
from tests.unit.test_open311_schemas import check, validate

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
REVIEWER = Identity(kind=OPERATOR, name="reviewer@210902", role="reviewer", district="210902")
FORM = {
    "api_key": "local-wechat",
    "jurisdiction_id": "210902",
    "service_code": "municipal.lighting",
    "lat": "42.01",
    "long": "121.65",
    "address_string": "海州区解放街道光明社区",
    "description": "小区门口路灯坏了一个月，晚上出行很不方便",
    "first_name": "三",
    "last_name": "张",
    "phone": "13800138000",
    "email": "zhangsan@example.org",
}


def presented(status: str = "received", **over) -> dict:
    """A petition as present.petition hands it to the adapter (the owning channel's view: in clear)."""
    p = {
        "id": "261102ABCDEF",
        "status": status,
        "status_label": STATUS_LABELS[status],
        "channel": "wechat",
        "district": "210902",
        "department": None if status == "received" else "210902.urban",
        "category": "municipal.lighting",
        "priority": "normal",
        "title": None,
        "content": "小区门口路灯坏了一个月",
        "anonymous": False,
        "citizen": {"name": "张三", "phone": "+8613800138000"},
        "location": {"address": "海州区解放街道", "lat": 42.01, "lon": 121.65},
        "channel_ref": "wx-123",
        "reported_by": None,
        "created_at": "2026-11-02T10:00:00+08:00",
        "updated_at": "2026-11-02T11:00:00+08:00",
        "stage": {
            "name": "dispatch",
            "due_at": "2026-11-03T10:00:00+08:00",
            "running": True,
            "provisional": False,
        },
        "due_at": "2026-11-03T10:00:00+08:00",
        "merged_into": None,
        "reply": None,
    }
    p.update(over)
    return p


# --- the mapping ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(STATUS_LABELS))
def test_every_status_is_open_or_closed_with_chinese_notes_and_no_personal_data(status):
    p = presented(status, reply="已更换灯泡" if status == "closed" else None, merged_into="261102ZZZZZZ")
    out = georeport.service_request(p, demo())
    assert out["status"] == ("closed" if status in ("closed", "merged") else "open")
    assert out["status_notes"].startswith(STATUS_LABELS[status] + "：")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out["service_notice"])
    assert out["expected_datetime"] == (None if out["status"] == "closed" else p["due_at"])
    text = json.dumps(out, ensure_ascii=False)
    for personal in ("张三", "13800138000", "wx-123", "wechat"):
        assert personal not in text
    validate("service_requests", "json", json.dumps([out]).encode())
    validate("service_requests", "xml", wire.to_xml("service_requests", [out]).encode())


def test_a_request_names_the_department_the_category_and_the_due_time():
    out = georeport.service_request(
        presented("dispatched", stage={"name": "accept", "due_at": "2026-11-04T10:00:00+08:00"}), demo()
    )
    assert out["agency_responsible"] == "海州区城市管理综合行政执法局"
    assert out["service_name"] == "路灯照明" and out["service_code"] == "municipal.lighting"
    assert out["service_notice"] == "将于2026-11-04 10:00前由海州区城市管理综合行政执法局签收"
    assert out["status_notes"] == "已派单待签收：已派至海州区城市管理综合行政执法局，待签收"
    assert (out["lat"], out["long"], out["address"]) == (42.01, 121.65, "海州区解放街道")
    closed = georeport.service_request(presented("closed", reply="已更换灯泡"), demo())
    assert closed["status_notes"] == "已结案：答复：已更换灯泡"


def test_a_petition_without_category_still_reads_as_a_request():
    out = georeport.service_request(presented(category=None, location=None), demo())
    assert (out["service_code"], out["service_name"]) == ("", "未分类")
    assert out["lat"] is None and out["address"] is None
    validate("service_requests", "xml", wire.to_xml("service_requests", [out]).encode())


def test_services_are_the_directory_categories():
    services = georeport.services(demo())
    assert [s["service_code"] for s in services] == [c.code for c in demo().categories]
    lighting = next(s for s in services if s["service_code"] == "municipal.lighting")
    assert lighting == {
        "service_code": "municipal.lighting",
        "service_name": "路灯照明",
        "description": "路灯不亮、长明灯、灯杆倾斜",
        "metadata": False,
        "type": "realtime",
        "keywords": "路灯不亮,长明灯,灯杆倾斜",
        "group": "市政设施",
    }
    validate("services", "json", json.dumps(services, ensure_ascii=False).encode())
    validate("services", "xml", wire.to_xml("services", services).encode())
    with pytest.raises(NotFound):
        georeport.service_definition("municipal.nope", demo())


def form(**over) -> dict[str, str]:
    values = {**FORM, **over}
    return {k: v for k, v in values.items() if v is not None}


def test_the_form_becomes_a_petition():
    body = georeport.petition_in(form(media_url="https://example.org/1.jpg"), demo(), "wechat")
    assert body.district == "210902" and body.category == "municipal.lighting"
    assert body.citizen is not None and body.citizen.name == "张三" and body.citizen.phone == "+8613800138000"
    assert body.location is not None and (body.location.lat, body.location.lon) == (42.01, 121.65)
    assert body.content.endswith("\n附件：https://example.org/1.jpg") and not body.anonymous
    assert georeport.split_media(body.content) == (FORM["description"], "https://example.org/1.jpg")
    latin = georeport.petition_in(form(first_name="John", last_name="Smith"), demo(), "wechat")
    assert latin.citizen is not None and latin.citizen.name == "John Smith"
    nobody = georeport.petition_in(form(phone=None, lat=None, long=None), demo(), "wechat")
    assert nobody.anonymous and nobody.citizen is None and nobody.location is not None
    assert nobody.location.address == FORM["address_string"]
    grid = georeport.petition_in(form(account_id="gw-210902-01"), demo(), "grid")
    assert grid.reported_by == "gw-210902-01"
    assert georeport.petition_in(form(account_id="someone"), demo(), "wechat").reported_by is None


@pytest.mark.parametrize(
    ("over", "error", "argument"),
    [
        ({"jurisdiction_id": None}, InvalidInput, "jurisdiction_id"),
        ({"jurisdiction_id": ""}, InvalidInput, "jurisdiction_id"),  # empty is the same as absent
        ({"jurisdiction_id": "999999"}, NotFound, "jurisdiction_id"),
        ({"service_code": None}, InvalidInput, "service_code"),
        ({"service_code": "potholes"}, InvalidInput, "service_code"),
        ({"lat": None}, InvalidInput, "lat"),
        ({"long": "east"}, InvalidInput, "long"),
        ({"lat": "nan"}, InvalidInput, "lat"),
        ({"lat": "91", "long": "121"}, InvalidInput, "lat"),
        ({"lat": None, "long": None, "address_string": None}, InvalidInput, "address_string"),
        ({"description": None}, InvalidInput, "description"),
        ({"description": "灯坏"}, InvalidInput, "description"),
        ({"description": "灯坏", "media_url": "https://example.org/1.jpg"}, InvalidInput, "description"),
        ({"phone": "12345"}, InvalidInput, "phone"),
        ({"media_url": "javascript:alert(1)"}, InvalidInput, "media_url"),
        ({"address_string": "海州区\u0007"}, InvalidInput, "address_string"),
    ],
)
def test_a_bad_form_is_refused_naming_the_spec_argument(over, error, argument):
    with pytest.raises(error) as caught:
        georeport.petition_in(form(**over), demo(), "wechat")
    assert caught.value.field == argument
    assert georeport.describe(caught.value).startswith(argument) or argument in caught.value.message
    if over.get("service_code"):
        assert "'potholes'" in caught.value.message


def query(**params: str | list[str]):
    values = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    return georeport.request_query(lambda name: values.get(name, []), demo(), NOW)


def test_the_window_defaults_to_the_last_90_days_and_spans_at_most_90():
    q = query()
    assert (q.start, q.end) == (NOW - timedelta(days=90), NOW)
    q = query(start_date="2026-10-01T00:00:00Z")
    assert q.end is not None and q.start is not None and q.end - q.start == timedelta(days=90)
    q = query(end_date="2026-10-01T00:00:00+08:00")
    assert q.end == datetime(2026, 10, 1, tzinfo=SHANGHAI)
    for bad in (
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"start_date": "2026-01-01"},
        {"start_date": "2026-01-01T00:00:00"},  # no time zone
        {"end_date": "yesterday"},
        {"status": "pending"},
        {"service_code": "municipal.lighting,potholes"},
        {"jurisdiction_id": ["210902", "210903"]},
    ):
        with pytest.raises(InvalidInput):
            query(**bad)
    with pytest.raises(NotFound):
        query(jurisdiction_id="999999")


def test_filters_are_read_comma_delimited_or_repeated_and_ids_override_the_rest():
    q = query(status=["open", "closed"], service_code="municipal.lighting,municipal.road")
    assert q.statuses == {"open", "closed"} and q.codes == {"municipal.lighting", "municipal.road"}
    q = query(service_request_id="A1, B2,,A1", status="pending", start_date="junk")
    assert q.ids == ("A1", "B2") and q.start is None
    with pytest.raises(InvalidInput):
        query(service_request_id=",".join(f"X{i}" for i in range(georeport.MAX_IDS + 1)))


def test_select_walks_pages_newest_first_and_stops_at_the_window():
    day = [presented(id=f"P{i:04d}", created_at=iso(NOW - timedelta(hours=i))) for i in range(0, 24 * 100, 6)]
    day[1]["status"], day[2]["category"], day[3]["district"] = "closed", "municipal.road", "210903"
    pages = {None: day[:100], "2": day[100:200], "3": day[200:]}
    reads: list[str | None] = []

    def fetch(cursor):
        reads.append(cursor)
        nxt = {None: "2", "2": "3", "3": None}[cursor]
        return {"items": pages[cursor], "next_cursor": nxt}

    found = georeport.select(fetch, query(), demo().covers)
    assert len(found) == 90 * 4 + 1 and found[0]["id"] == "P0000"
    assert reads == [None, "2", "3"] and all(p["created_at"] >= iso(NOW - timedelta(days=90)) for p in found)
    closed = georeport.select(fetch, query(status="closed"), demo().covers)
    assert [p["id"] for p in closed] == ["P0006"]
    road = georeport.select(fetch, query(service_code="municipal.road"), demo().covers)
    assert [p["id"] for p in road] == ["P0012"]
    xinqiu = georeport.select(fetch, query(jurisdiction_id="210903"), demo().covers)
    assert [p["id"] for p in xinqiu] == ["P0018"]
    city = georeport.select(fetch, query(jurisdiction_id=demo().city), demo().covers)
    assert len(city) == 90 * 4 + 1  # the city covers its districts (both ends of the window count)


def test_select_answers_at_most_1000():
    many = [presented(id=f"P{i}", created_at=iso(NOW - timedelta(minutes=i))) for i in range(1200)]
    found = georeport.select(lambda c: {"items": many, "next_cursor": None}, query(), demo().covers)
    assert len(found) == georeport.MAX_REQUESTS


# --- the wire -------------------------------------------------------------------------------------------


def test_xml_is_escaped_declared_utf8_and_leaves_nulls_out():
    out = georeport.service_request(presented(content="<script>alert('x')</script> & 路灯\x0b"), demo())
    text = wire.to_xml("service_requests", [out])
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<service_requests><request>')
    assert "&lt;script&gt;" in text and "&amp; 路灯" in text and "<address_id" not in text
    doc = validate("service_requests", "xml", text.encode())
    assert doc["request"][0]["description"].startswith("<script>")


def test_errors_follow_the_spec_and_a_missing_key_is_403():
    r = wire.errors("json", 401, "invalid api_key received")
    assert r.status_code == 403 and json.loads(r.body) == [
        {"code": 403, "description": "invalid api_key received"}
    ]
    x = wire.errors("xml", 400, "service_code 'x' 不是服务")
    assert x.headers["Content-Type"] == "text/xml; charset=utf-8" and "不是服务" in x.body
    validate("errors", "xml", x.body.encode())
    assert wire.split_format("municipal.lighting.json") == ("municipal.lighting", "json")
    assert wire.split_format("261102ABCDEF.XML") == ("261102ABCDEF", "xml")
    assert wire.split_format("261102ABCDEF") == ("261102ABCDEF", None)
    assert wire.split_format(".json") == (".json", None)


def test_forms_are_urlencoded_utf8_with_one_value_per_argument():
    ok = wire.parse_form(
        "application/x-www-form-urlencoded; charset=utf-8",
        "a=1&description=%E8%B7%AF%E7%81%AF&a=2",
        ("description",),
    )
    assert ok == {"a": "1", "description": "路灯"}
    for content_type, raw, error in (
        ("application/json", b'{"a": 1}', InvalidInput),
        (None, b"a=1", InvalidInput),
        ("application/x-www-form-urlencoded", b"description=%FF", InvalidInput),
        ("application/x-www-form-urlencoded", b"description=1&description=2", InvalidInput),
        ("application/x-www-form-urlencoded", "&".join(f"f{i}=1" for i in range(200)).encode(), InvalidInput),
        ("application/x-www-form-urlencoded", b"a=" + b"x" * 70_000, TooLarge),
    ):
        with pytest.raises(error):
            wire.parse_form(content_type, raw, ("description",))


# --- the Blueprint, on a runtime of in-memory fakes ---------------------------------------------------


@pytest.fixture
def client(rt):
    app = ThreadLocalChalice(app_name="open311-unit")
    app.register_blueprint(blueprint(lambda: rt))
    with Client(app, stage_name="local") as c:
        yield c


def post(client, fmt: str = "json", **over):
    body = urllib.parse.urlencode(form(**over))
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return client.http.post(f"/open311/v2/requests.{fmt}", headers=headers, body=body)


def get(client, path: str, key: str | None = "local-wechat"):
    return client.http.get(f"/open311/v2/{path}", headers={"X-Api-Key": key} if key else {})


def test_post_read_and_close_through_the_services(client, rt):
    created = post(client)
    assert created.status_code == 201
    [out] = check(created, "created")
    pid = out["service_request_id"]
    assert out["service_notice"].startswith(f"已受理，编号{pid}，将于") and out["account_id"] is None
    stored = rt.petitions.get(DISPATCHER, pid)
    assert stored["channel"] == "wechat" and stored["citizen"]["phone"] == "138****8000"

    [read] = check(get(client, f"requests/{pid}.json"), "service_requests")
    assert read["status"] == "open" and read["expected_datetime"] == stored["due_at"]
    assert check(get(client, f"requests/{pid}.xml"), "service_requests")["request"][0]["status"] == "open"
    assert check(get(client, f"tokens/{pid}.json"), "tokens") == [{"service_request_id": pid, "token": pid}]

    rt.petitions.act(DISPATCHER, pid, "dispatch", {"department": "210902.urban"})
    rt.petitions.act(HANDLER, pid, "accept", {})
    rt.petitions.act(HANDLER, pid, "resolve", {"reply": "已更换灯泡，路灯恢复正常"})
    [resolved] = check(get(client, f"requests/{pid}.json"), "service_requests")
    assert resolved["status"] == "open" and resolved["status_notes"].startswith("已办结待审核")
    rt.petitions.act(REVIEWER, pid, "review", {"approve": True})
    [closed] = check(get(client, f"requests.json?service_request_id={pid}"), "service_requests")
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["status_notes"] == "已结案：答复：已更换灯泡，路灯恢复正常"
    assert closed["agency_responsible"] == "海州区城市管理综合行政执法局"
    for personal in (b"13800138000", b"8000", "张三".encode(), b"zhangsan"):
        assert personal not in get(client, f"requests.xml?service_request_id={pid}").body


def test_the_same_form_twice_is_one_petition(client):
    first, again = post(client), post(client)
    assert (first.status_code, again.status_code) == (201, 200)
    assert check(first, "created") == check(again, "created")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refusals_are_the_spec_errors_and_store_nothing(client, rt, fmt):
    before = rt.petitions.list_petitions(DISPATCHER, _list())["items"]
    for response, status in (
        (post(client, fmt, api_key="local-nobody"), 403),
        (post(client, fmt, api_key=None), 403),
        (post(client, fmt, api_key=None, service_code="nope"), 403),  # the key is checked first
        (post(client, fmt, service_code="potholes"), 400),
        (post(client, fmt, jurisdiction_id="999999"), 404),
        (post(client, fmt, description="短"), 400),
        (
            client.http.post(
                f"/open311/v2/requests.{fmt}",
                headers={"Content-Type": "application/json"},
                body=json.dumps(FORM),
            ),
            400,
        ),
        (get(client, f"requests.{fmt}", key=None), 403),
        (get(client, f"requests.{fmt}", key="local-nobody"), 403),
        (get(client, f"requests/nope.{fmt}"), 404),
        (get(client, f"tokens/nope.{fmt}"), 404),
        (get(client, f"services/nope.{fmt}", key=None), 404),
        (get(client, f"services.{fmt}?jurisdiction_id=999999", key=None), 404),
        (get(client, f"requests.{fmt}?status=pending"), 400),
        (get(client, f"requests.{fmt}?start_date=2026-01-01"), 400),
    ):
        assert response.status_code == status, (status, response.body)
        [error] = check(response, "errors") if fmt == "json" else check(response, "errors")["error"]
        assert error["code"] == status
    assert rt.petitions.list_petitions(DISPATCHER, _list())["items"] == before
    described = post(client, "json", service_code="potholes")
    assert "service_code 'potholes'" in json.loads(described.body)[0]["description"]


def test_another_channel_does_not_see_the_request(client):
    pid = check(post(client), "created")[0]["service_request_id"]
    assert get(client, f"requests/{pid}.json", key="local-hotline").status_code == 404
    assert check(get(client, "requests.json", key="local-hotline"), "service_requests") == []
    assert (
        check(get(client, f"requests.json?service_request_id={pid}", key="local-hotline"), "service_requests")
        == []
    )


def test_public_documents_validate(client):
    assert check(get(client, "discovery.json", key=None), "discovery")["endpoints"][0]["type"] == "test"
    check(get(client, "discovery.xml", key=None), "discovery")
    assert len(check(get(client, "services.json?jurisdiction_id=210902", key=None), "services")) == len(
        demo().categories
    )
    check(get(client, "services.xml", key=None), "services")
    assert check(get(client, "services/municipal.lighting.json", key=None), "service_definition") == {
        "service_code": "municipal.lighting",
        "attributes": [],
    }
    check(get(client, "services/municipal.lighting.xml", key=None), "service_definition")
    assert get(client, "services/municipal.lighting.csv", key=None).status_code == 404


def _list():
    from chalicelib.petitions.schemas import ListQuery

    return ListQuery(limit=100)
