"""Reading petitions (CONTRACT §4): idempotent submission, one petition with its timeline,
scoped newest-first listings with cursors, public tracking, and merging duplicates (并单).
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration import petition_factory as pf


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


def tick(api, seconds: int = 2) -> None:
    """Moves the stack's clock on, so that petitions created one after another have distinct times."""
    r = api.post("/_local/clock", {"advance_seconds": seconds})
    assert r.status_code == 200, r.text


def ids_of(items: list[dict]) -> list[str]:
    return [p["id"] for p in items]


def count(api, channel_key: str) -> int:
    return len(pf.list_all(api, channel_key))


def without_notifications(timeline: list[dict]) -> list[dict]:
    return [e for e in timeline if e["type"] != "notification"]


# --- idempotent submission ------------------------------------------


def test_the_same_key_and_body_answer_the_same_petition_and_create_nothing_new(api):
    key, body = f"order-{uuid.uuid4()}", pf.petition_body()
    before = count(api, "local-hotline")

    first = api.post("/v1/petitions", body, as_="local-hotline", headers={"Idempotency-Key": key})
    replay = api.post("/v1/petitions", body, as_="local-hotline", headers={"Idempotency-Key": key})

    assert first.status_code == 201, first.text
    assert replay.status_code == 200, replay.text
    assert replay.json()["id"] == first.json()["id"]
    assert count(api, "local-hotline") == before + 1


def test_the_same_key_with_another_body_is_409_naming_the_key(api):
    key = f"order-{uuid.uuid4()}"
    first = api.post(
        "/v1/petitions", pf.petition_body(), as_="local-hotline", headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201
    before = count(api, "local-hotline")

    r = api.post("/v1/petitions", pf.petition_body(), as_="local-hotline", headers={"Idempotency-Key": key})

    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "Idempotency-Key"
    assert count(api, "local-hotline") == before


def test_a_key_is_the_channels_own_another_channel_using_it_is_independent(api):
    key, body = f"order-{uuid.uuid4()}", pf.petition_body()
    mine = api.post("/v1/petitions", body, as_="local-hotline", headers={"Idempotency-Key": key})
    theirs = api.post("/v1/petitions", body, as_="local-wechat", headers={"Idempotency-Key": key})
    other_body = api.post(
        "/v1/petitions", pf.petition_body(), as_="local-walkin", headers={"Idempotency-Key": key}
    )

    assert (mine.status_code, theirs.status_code, other_body.status_code) == (201, 201, 201)
    assert len({mine.json()["id"], theirs.json()["id"], other_body.json()["id"]}) == 3
    assert theirs.json()["channel"] == "wechat"
    # and the owner of each still replays its own
    again = api.post("/v1/petitions", body, as_="local-wechat", headers={"Idempotency-Key": key})
    assert (again.status_code, again.json()["id"]) == (200, theirs.json()["id"])


def test_a_double_click_without_a_key_answers_the_first_petition(api):
    body = pf.petition_body()
    before = count(api, "local-hotline")

    first = api.post("/v1/petitions", body, as_="local-hotline")
    second = api.post("/v1/petitions", body, as_="local-hotline")

    assert first.status_code == 201, first.text
    assert second.status_code in (200, 201), second.text
    assert second.json()["id"] == first.json()["id"]
    assert count(api, "local-hotline") == before + 1


def test_different_bodies_without_a_key_are_different_petitions(api):
    before = count(api, "local-hotline")
    a = api.post("/v1/petitions", pf.petition_body(), as_="local-hotline")
    b = api.post("/v1/petitions", pf.petition_body(), as_="local-hotline")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert count(api, "local-hotline") == before + 2


# --- one petition ------------------------------------------


@pytest.fixture(scope="module")
def closed(api):
    return pf.petition_in(api, "closed")


def test_the_timeline_lists_every_event_in_order_with_its_actor(api, closed):
    p = pf.read(api, closed)
    events = without_notifications(p["timeline"])
    assert [(e["type"], e["actor"]) for e in events] == [
        ("created", "channel:wechat"),
        ("dispatched", pf.DISPATCHER),
        ("accepted", pf.HANDLER),
        ("resolved", pf.HANDLER),
        ("review_approved", pf.REVIEWER),
    ]
    assert events[1]["department"] == pf.DEPARTMENT
    instants = [e["at"] for e in p["timeline"]]
    assert instants == sorted(instants), "events come in the order they happened"
    assert p["status"] == "closed"


@pytest.mark.parametrize(
    "operator", ["admin@210900", pf.DISPATCHER, pf.HANDLER, "chief@210900", "auditor@210900"]
)
def test_operators_see_the_phone_masked_everywhere(api, closed, operator):
    r = api.get(f"/v1/petitions/{closed}", as_=operator)
    assert r.status_code == 200
    assert r.json()["citizen"]["phone"] == pf.PHONE_MASKED
    assert pf.PHONE not in r.text, "the clear number appears nowhere in an operator's view"


def test_the_owning_channel_sees_the_phone_in_clear(api, closed):
    p = pf.read(api, closed, as_=pf.OWNER)
    assert p["citizen"]["phone"].removeprefix("+86") == pf.PHONE


def test_an_unknown_petition_is_404(api):
    r = api.get("/v1/petitions/261231WWWWWW", as_="admin@210900")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


# --- listings ------------------------------------------


def pages(api, as_: str, limit: int, **query) -> list[list[dict]]:
    out, cursor = [], None
    while True:
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        r = api.get("/v1/petitions", as_=as_, params=params)
        assert r.status_code == 200, r.text
        out.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out
        assert len(out) < 500, "the listing never ends"


def test_a_listing_is_newest_first_and_pages_without_gaps_or_repeats(api):
    # Given seven petitions of the walk-in window in 细河区, one after another
    created = []
    for _ in range(7):
        tick(api)
        created.append(pf.create(api, as_="local-walkin", district="210911")["id"])

    # When the window pages through its 细河区 petitions three at a time
    paged = pages(api, "local-walkin", 3, district="210911")
    flat = [p for page in paged for p in page]

    # Then the newest come first, every page but the last is full, nothing repeats or goes missing
    assert ids_of(flat)[:7] == created[::-1]
    assert len(ids_of(flat)) == len(set(ids_of(flat)))
    assert ids_of(flat) == ids_of(pf.list_all(api, "local-walkin", district="210911"))
    assert all(len(page) == 3 for page in paged[:-1])
    assert 1 <= len(paged[-1]) <= 3
    stamps = [p["created_at"] for p in flat]
    assert stamps == sorted(stamps, reverse=True)
    assert {p["district"] for p in flat} == {"210911"}
    assert {p["channel"] for p in flat} == {"walkin"}


def test_the_city_chief_sees_several_districts_merged_newest_first(api):
    # Given petitions in three districts, created in turn
    created = []
    for district in ("210905", "210911", "210902", "210905", "210911", "210902"):
        tick(api)
        created.append(pf.create(api, as_="local-walkin", district=district)["id"])

    # When the city's chief handler reads the first two pages of three
    first = api.get("/v1/petitions", as_="chief@210900", params={"limit": 3}).json()
    second = api.get(
        "/v1/petitions", as_="chief@210900", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()

    # Then they are these six, newest first, across the districts
    assert ids_of(first["items"]) + ids_of(second["items"]) == created[::-1]
    assert second["next_cursor"], "older petitions follow"


@pytest.fixture(scope="module")
def qinghemen(api):
    """In 清河门区 (210905): one petition at each of two departments, one received, one of another channel."""
    urban = pf.create(api, as_="local-walkin", district="210905")["id"]
    pf.act(api, urban, "dispatch", "dispatcher@210905", {"department": "210905.urban"})
    housing = pf.create(api, as_="local-walkin", district="210905")["id"]
    pf.act(api, housing, "dispatch", "dispatcher@210905", {"department": "210905.housing"})
    received = pf.create(api, as_="local-walkin", district="210905")["id"]
    by_wechat = pf.create(api, as_="local-wechat", district="210905")["id"]
    return {"urban": urban, "housing": housing, "received": received, "wechat": by_wechat}


def test_a_handler_lists_only_their_departments_petitions(api, qinghemen):
    items = pf.list_all(api, "handler@210905.urban")
    assert qinghemen["urban"] in ids_of(items)
    assert qinghemen["housing"] not in ids_of(items)
    assert all(p["department"] == "210905.urban" or "210905.urban" in p["co_departments"] for p in items)


def test_a_handler_asking_for_another_department_gets_404(api, qinghemen):
    r = api.get("/v1/petitions", as_="handler@210905.urban", params={"department": "210905.housing"})
    assert r.status_code == 404, r.text


def test_a_channel_lists_only_its_own_petitions(api, qinghemen):
    items = pf.list_all(api, "local-walkin", district="210905")
    assert {qinghemen["urban"], qinghemen["housing"], qinghemen["received"]} <= set(ids_of(items))
    assert qinghemen["wechat"] not in ids_of(items)
    assert {p["channel"] for p in items} == {"walkin"}
    assert qinghemen["wechat"] in ids_of(pf.list_all(api, "local-wechat", district="210905"))


def test_status_and_district_filters(api, qinghemen):
    dispatched = pf.list_all(api, "chief@210900", status="dispatched", district="210905")
    assert {qinghemen["urban"], qinghemen["housing"]} <= set(ids_of(dispatched))
    assert qinghemen["received"] not in ids_of(dispatched)
    assert {(p["status"], p["district"]) for p in dispatched} == {("dispatched", "210905")}

    received = pf.list_all(api, "dispatcher@210905", status="received")
    assert qinghemen["received"] in ids_of(received)
    assert {(p["status"], p["district"]) for p in received} == {("received", "210905")}


def test_a_dispatcher_lists_only_their_district(api, qinghemen):
    items = pf.list_all(api, "dispatcher@210905")
    assert {p["district"] for p in items} == {"210905"}
    assert {qinghemen["urban"], qinghemen["wechat"]} <= set(ids_of(items))


@pytest.mark.parametrize(
    "operator, district",
    [("dispatcher@210905", "210911"), ("chief@210902", "210905"), ("supervisor@210911", "210900")],
)
def test_an_operator_asking_for_a_district_outside_their_scope_gets_404(api, operator, district):
    r = api.get("/v1/petitions", as_=operator, params={"district": district})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor!!", "WzEsMl0", "eyJhIjoxfQ", "%%%", "x" * 50],
    ids=["punctuation", "base64-of-a-list", "base64-of-a-number-map", "percent-signs", "random-letters"],
)
def test_a_garbage_cursor_is_400_naming_the_cursor(api, cursor):
    r = api.get("/v1/petitions", as_="local-walkin", params={"cursor": cursor})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == "cursor"


# --- public tracking ------------------------------------------


@pytest.fixture(scope="module")
def tracked(api):
    """A dispatched petition of 张三 (13800138000)."""
    return pf.petition_in(api, "dispatched")


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_tracking_with_the_right_tail_shows_status_without_personal_data(api, tracked):
    r = api.get(f"/v1/track/{tracked}", params={"phone_tail": "8000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"]) == (tracked, "dispatched")
    assert [e["type"] for e in body["timeline"]] == ["created", "dispatched"]
    assert not _keys(body) & {"phone", "name", "citizen", "actor", "contact", "channel_ref", "location"}
    for leak in (pf.PHONE, pf.PHONE_MASKED, "张", pf.DISPATCHER, "dispatcher@", "channel:"):
        assert leak not in r.text


def test_tracking_reads_the_number_as_a_citizen_says_it(api, tracked):
    spoken = f"{tracked[:6]}-{tracked[6:].lower()}"
    r = api.get(f"/v1/track/{spoken}", params={"phone_tail": "8000"})
    assert r.status_code == 200 and r.json()["id"] == tracked


def test_a_wrong_tail_and_an_unknown_number_answer_the_same_404(api, tracked):
    wrong_tail = api.get(f"/v1/track/{tracked}", params={"phone_tail": "8001"})
    unknown = api.get("/v1/track/261231WWWWWW", params={"phone_tail": "8000"})
    assert wrong_tail.status_code == unknown.status_code == 404
    assert wrong_tail.content == unknown.content


def test_an_anonymous_petition_without_phone_cannot_be_tracked_by_any_tail(api):
    pid = pf.create(api, citizen=None, anonymous=True)["id"]
    for tail in ("0000", "8000"):
        assert api.get(f"/v1/track/{pid}", params={"phone_tail": tail}).status_code == 404


@pytest.mark.parametrize(
    "tail",
    ["800", "80000", "abcd", "８０００", ""],
    ids=["3-digits", "5-digits", "letters", "fullwidth", "empty"],
)
def test_a_badly_formed_tail_is_400(api, tracked, tail):
    r = api.get(f"/v1/track/{tracked}", params={"phone_tail": tail})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == "phone_tail"


def test_tracking_without_a_tail_is_400(api, tracked):
    r = api.get(f"/v1/track/{tracked}")
    assert r.status_code == 400 and r.json()["error"]["field"] == "phone_tail"


# --- merging duplicates (并单) ------------------------------------------


def test_a_duplicate_merges_into_the_main_petition(api):
    # Given a main petition and a duplicate of it, both received
    main = pf.create(api)["id"]
    child = pf.create(api)["id"]

    # When the dispatcher merges the duplicate into the main one
    r = api.post(f"/v1/petitions/{child}/merge", {"into": main, "note": "同一路灯"}, as_=pf.DISPATCHER)

    # Then the duplicate is merged into the main one, and the main one lists it
    assert r.status_code == 200, r.text
    child_now, main_now = pf.read(api, child), pf.read(api, main)
    assert (child_now["status"], child_now["merged_into"]) == ("merged", main)
    assert main_now["merged"] == [child]
    assert main_now["status"] == "received"
    assert without_notifications(child_now["timeline"])[-1]["type"] == "merged"
    assert without_notifications(main_now["timeline"])[-1]["type"] == "merged"
    # and the citizen of the duplicate can follow it to the main one
    track = api.get(f"/v1/track/{child}", params={"phone_tail": "8000"}).json()
    assert (track["status"], track["merged_into"]) == ("merged", main)


@pytest.mark.parametrize("state", ["dispatched", "accepted", "closed", "merged"])
def test_only_a_received_petition_can_be_merged(api, state):
    main = pf.create(api)["id"]
    child = pf.petition_in(api, state)
    before = pf.snapshot(api, child), pf.snapshot(api, main)

    r = api.post(f"/v1/petitions/{child}/merge", {"into": main}, as_=pf.DISPATCHER)

    assert r.status_code == 409, r.text
    assert (pf.snapshot(api, child), pf.snapshot(api, main)) == before
    assert pf.read(api, main)["merged"] == []


def test_a_petition_cannot_be_merged_into_itself_or_an_unknown_one(api):
    child = pf.create(api)["id"]
    itself = api.post(f"/v1/petitions/{child}/merge", {"into": child}, as_=pf.DISPATCHER)
    unknown = api.post(f"/v1/petitions/{child}/merge", {"into": "261231WWWWWW"}, as_=pf.DISPATCHER)
    assert (itself.status_code, itself.json()["error"]["field"]) == (400, "into")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "into")
    assert pf.read(api, child)["status"] == "received"
