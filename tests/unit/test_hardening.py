"""Defects found by attacking the API (issue 18), each pinned by a test on the services and the
wire models: text that is not text, strictness, merge chains, idempotency keys past their
window, and reads that mixed two versions of a petition."""

from __future__ import annotations

import json
from datetime import timedelta

import pydantic
import pytest

from chalicelib.api.schemas import CalendarNoticeIn, ClockIn
from chalicelib.errors import Conflict
from chalicelib.intake.models import PetitionIn
from chalicelib.petitions import paging
from tests.unit.support import DISPATCHER, HANDLER, WALKIN, body

REVIEWER_AND_FRIENDS = "reviewer@210902"


def refused(model, data) -> str:
    with pytest.raises(pydantic.ValidationError) as err:
        model.model_validate(data)
    return err.value.errors()[0]["msg"]


# --- text that is not text ------------------------------------------------------------------------


def test_content_of_only_invisible_characters_is_refused():
    assert "visible" in refused(
        PetitionIn, {"district": "210902", "content": "\u200b" * 12, "anonymous": True}
    )
    refused(PetitionIn, {"district": "210902", "content": "路\u200b\u200c\u200d\u2060灯", "anonymous": True})


def test_a_right_to_left_override_never_reaches_the_store():
    p = PetitionIn.model_validate(
        {"district": "210902", "content": "路灯\u202e坏了一个月", "anonymous": True}
    )
    assert p.content == "路灯坏了一个月"


def test_chinese_punctuation_is_kept_as_written():
    text = "路灯坏了，晚上（七点后）看不清：请修。"
    assert (
        PetitionIn.model_validate({"district": "210902", "content": text, "anonymous": True}).content == text
    )


def test_a_lone_surrogate_is_refused_not_a_500():
    refused(PetitionIn, {"district": "210902", "content": "路灯坏了一个月\ud800", "anonymous": True})
    refused(CalendarNoticeIn, {"year": 2027, "source": "通知", "holidays": {"2027-01-01": "元\udfff旦"}})


def test_a_notice_with_control_characters_in_its_source_is_refused():
    assert "control" in refused(CalendarNoticeIn, {"year": 2027, "source": "通知\x07", "holidays": {}})


def test_strict_means_strict_for_the_local_controls():
    refused(ClockIn, {"advance_seconds": True})
    refused(ClockIn, {"advance_seconds": "60"})
    assert ClockIn.model_validate({"advance_seconds": 60}).advance_seconds == 60


def test_a_cursor_of_nested_brackets_is_a_400():
    import base64

    from chalicelib.errors import InvalidInput

    for junk in ["[" * 2900, "{" * 100_000, json.dumps({"a": 1})[:-1]]:
        text = base64.urlsafe_b64encode(junk.encode()).decode().rstrip("=")
        with pytest.raises(InvalidInput) as err:
            paging.decode_cursor(text)
        assert err.value.field == "cursor"


# --- merge chains ---------------------------------------------------------------------------------


def close(rt, pid: str) -> None:
    reviewer = DISPATCHER.__class__(
        kind="operator", name=REVIEWER_AND_FRIENDS, role="reviewer", district="210902"
    )
    rt.petitions.act(DISPATCHER, pid, "dispatch", {"department": "210902.urban"})
    rt.petitions.act(HANDLER, pid, "accept", {})
    rt.petitions.act(HANDLER, pid, "resolve", {"reply": "已修复"})
    rt.petitions.act(reviewer, pid, "review", {"approve": True})


def test_a_merge_chain_brings_every_citizen_the_closure(rt):
    phones = {"a": "13800138001", "b": "13800138002", "c": "13800138003"}
    ids = {
        k: rt.intake.create(WALKIN, body(f"{k}：小区路灯坏了一个月", citizen={"phone": v}), None)[1]["id"]
        for k, v in phones.items()
    }
    rt.petitions.act(DISPATCHER, ids["a"], "merge", {"into": ids["b"]})
    rt.petitions.act(DISPATCHER, ids["b"], "merge", {"into": ids["c"]})
    main = rt.stores.petitions.get(ids["c"])
    assert main.merged == (ids["b"], ids["a"])
    rt.port.sms.clear()
    close(rt, ids["c"])
    closures = sorted(phone for phone, text in rt.port.sms if "办结" in text or "满意" in text)
    assert closures == sorted(f"+86{v}" for v in phones.values())


def test_merging_into_a_merged_petition_is_refused(rt):
    a, b, c = (rt.intake.create(WALKIN, body(f"{i}：楼道灯坏了很久"), None)[1]["id"] for i in range(3))
    rt.petitions.act(DISPATCHER, a, "merge", {"into": b})
    with pytest.raises(Conflict):
        rt.petitions.act(DISPATCHER, c, "merge", {"into": a})


# --- idempotency keys keep to their window --------------------------------------------------------


def test_an_idempotency_key_is_free_again_after_its_24_hours(rt):
    first = rt.intake.create(WALKIN, body(), "key-x")
    rt.clock.at += timedelta(hours=23)
    with pytest.raises(Conflict):
        rt.intake.create(WALKIN, body("另一件事：楼道灯坏了很久"), "key-x")
    rt.clock.at += timedelta(hours=2)
    later = rt.intake.create(WALKIN, body("另一件事：楼道灯坏了很久"), "key-x")
    assert later[0] == 201 and later[1]["id"] != first[1]["id"]


# --- one version per read -------------------------------------------------------------------------


def test_a_read_shows_the_timeline_of_the_version_it_read(rt):
    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    original = rt.stores.petitions.get
    raced: list[bool] = []

    def read_then_someone_dispatches(petition_id):
        p = original(petition_id)
        if not raced:
            raced.append(True)
            rt.stores.petitions.get = original
            rt.petitions.act(DISPATCHER, pid, "dispatch", {"department": "210902.urban"})
        return p

    rt.stores.petitions.get = read_then_someone_dispatches
    seen = rt.petitions.get(DISPATCHER, pid)
    assert seen["status"] == "received"
    assert "dispatched" not in [e["type"] for e in seen["timeline"]]
    assert rt.petitions.get(DISPATCHER, pid)["status"] == "dispatched"


# --- ids and dates that used to be 500s ---------------------------------------------------------------


def test_ids_that_normalise_to_nothing_are_unknown_not_errors(rt):
    from chalicelib.errors import NotFound

    pid = rt.intake.create(WALKIN, body(), None)[1]["id"]
    for call in (
        lambda: rt.petitions.get(DISPATCHER, "-"),
        lambda: rt.petitions.act(DISPATCHER, "- -", "dispatch", {"department": "210902.urban"}),
        lambda: rt.petitions.track("-", "8000", "127.0.0.1"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound) as err:
        rt.petitions.act(DISPATCHER, pid, "merge", {"into": "------"})
    assert err.value.field == "into"


def test_stats_dates_far_outside_any_window_are_a_400(rt):
    from types import SimpleNamespace

    from chalicelib.errors import InvalidInput

    for window in ({"from_": None, "to": "9999-12-31"}, {"from_": "0001-01-01", "to": None}):
        query = SimpleNamespace(district=None, department=None, **window)
        with pytest.raises(InvalidInput) as err:
            rt.stats.stats(DISPATCHER, query)
        assert err.value.field == ("to" if window["to"] else "from")
