"""Templates as data, their rendering and SMS segment counting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.notify.segments import SegmentInfo, count_segments, fits
from chalicelib.notify.templates import (
    ELLIPSIS,
    LEVEL_LABELS,
    STAGE_LABELS,
    TemplateError,
    format_due,
    get,
    parse_templates,
    render,
    render_closure,
    render_fitting,
    templates,
)

PID = "261128K7QX9M"
OTHER_PID = "261127A2B3C4"
LONG_DEPARTMENT = "阜新蒙古族自治县城市管理综合行政执法局"
DUE = "11月29日10:00"
LONG_REPLY = (
    "经现场核查，该小区门口路灯因地下线路老化短路导致不亮，我局已协调供电部门于11月27日更换灯具及"
    "电缆共计120米，目前路灯已恢复正常照明。后续我局将加强对辖区路灯设施的日常巡查和维护，"
    "发现问题及时处理，确保群众夜间出行安全。感谢您对城市管理工作的监督和支持！"
)

# Realistic, long-ish values per template.
VALUES: dict[str, dict[str, str]] = {
    "receipt": {"id": PID},
    "closure": {"id": PID, "summary": "已更换路灯"},
    "reopen": {"id": PID},
    "merged": {"id": PID, "into": OTHER_PID},
    "new_order": {"id": PID, "department": LONG_DEPARTMENT, "due": DUE},
    "transferred": {
        "id": PID,
        "from_department": "阜新蒙古族自治县住房和城乡建设局",
        "department": LONG_DEPARTMENT,
        "due": DUE,
    },
    "returned": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "reason": "该事项属于供热企业职责范围，非我局管辖",
        "due": DUE,
    },
    "reminder": {"id": PID, "department": LONG_DEPARTMENT, "stage": STAGE_LABELS["resolve"], "due": DUE},
    "supervision_notice": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "stage": STAGE_LABELS["accept"],
        "due": DUE,
    },
    "escalation": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "stage": STAGE_LABELS["resolve"],
        "level": LEVEL_LABELS["city"],
        "reason": "办结时限超期3个工作日",
        "due": DUE,
    },
    "otp": {"code": "482915"},
    "mediation_session": {
        "id": "TJ261201ABCDEF",
        "at": "12月3日09:30",
        "place": "阜新蒙古族自治县社会治理综合服务中心",
    },
    "first_inquiry": {"id": PID, "department": "阜新蒙古族自治县便民服务中心", "status": "已办结待审核"},
    "instruction": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "note": "请主要负责同志亲自过问，三日内办结并回复群众",
    },
    "urge_reminder": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "stage": STAGE_LABELS["resolve"],
        "note": "请今日反馈",
    },
    "urge_supervision": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "stage": STAGE_LABELS["accept"],
        "note": "群众多次反映，请立即签收办理",
    },
    "accountability": {
        "id": PID,
        "department": LONG_DEPARTMENT,
        "action": "约谈",
        "violation": "审核退回（乱办）",
        "stage": STAGE_LABELS["resolve"],
        "note": "约谈分管负责同志，限期整改",
    },
    "pool_posted": {"id": PID, "due": DUE},
    "pool_reminder": {"id": PID, "due": DUE},
    "pool_claimed": {"id": PID, "department": LONG_DEPARTMENT},
    "pool_fallback": {"id": PID, "department": "阜新蒙古族自治县便民服务中心"},
    # 未诉先办 (§13): a hotspot, to the owning department and the supervisor; the longest names
    "hotspot": {
        "hotspot": "HS2703021A2B3C4D5E",
        "district_name": "阜新蒙古族自治县",
        "grid_name": "阜新镇城区第十二社区阳光家园小区",
        "category_name": "排水井盖",
        "count": 128,
        "baseline": 12.25,
    },
}
# 未诉先办 (§13): hotspot notices (orders and supervision topics, kind hotspot)
FORESIGHT = ("hotspot",)
# 基层吹哨、部门报到 (§10): the claim pool's messages to the district's departments (orders, kind pool)
POOL = ("pool_posted", "pool_reminder", "pool_claimed", "pool_fallback")

# 两首一督 (§12): a supervisor's hand-sent 催办单/督办单 and accountability (提醒/约谈/移送纪委)
BY_HAND = ("urge_reminder", "urge_supervision", "accountability")

CITIZEN = ("receipt", "closure", "reopen", "merged", "otp", "mediation_session")
DEPARTMENT = (
    "new_order",
    "reminder",
    "supervision_notice",
    "escalation",
    "returned",
    "transferred",
    "first_inquiry",
    "instruction",
)


# ---------------------------------------------------------------- templates


def test_the_data_file_has_exactly_the_expected_templates():
    assert set(templates()) == set(CITIZEN) | set(DEPARTMENT) | set(POOL) | set(BY_HAND) | set(FORESIGHT)
    for name in FORESIGHT:
        assert get(name).audience == "supervision"
    for name in BY_HAND:
        assert get(name).audience == "supervision"
    for name in POOL:
        assert get(name).audience == "department"
    for name in CITIZEN:
        assert get(name).audience == "citizen"
    for name in ("new_order", "returned", "transferred"):
        assert get(name).audience == "department"
    for name in ("reminder", "supervision_notice", "escalation"):
        assert get(name).audience == "supervision"


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_cover_exactly_each_templates_placeholders(name):
    assert get(name).placeholders == set(VALUES[name])


@pytest.mark.parametrize("name", CITIZEN)
def test_citizen_sms_carry_the_signature_first(name):
    assert render(name, **VALUES[name]).startswith("【阜政通】")


@pytest.mark.parametrize("name", sorted(VALUES))
def test_each_template_renders_within_its_max_segments(name):
    text = render(name, **VALUES[name])
    info = count_segments(text)
    assert info.encoding == "UCS-2"
    assert info.segments <= get(name).max_segments, (text, info)
    assert "{" not in text and "}" not in text


def test_receipt_is_one_segment_with_a_twelve_character_id():
    text = render("receipt", id=PID)
    assert text == "【阜政通】您的诉求已受理，编号261128K7QX9M，可在阜政通小程序或拨打12345查询进度。"
    assert count_segments(text) == SegmentInfo("UCS-2", len(text), 1)
    assert len(text) <= 70


def test_reopen_and_merged_name_what_happened_in_one_segment():
    reopen = render("reopen", id=PID)
    merged = render("merged", id=PID, into=OTHER_PID)
    assert "重办" in reopen and PID in reopen
    assert "并单" in merged and PID in merged and OTHER_PID in merged
    assert count_segments(reopen).segments == 1
    assert count_segments(merged).segments == 1


def test_department_messages_name_id_department_and_due():
    assert render("new_order", **VALUES["new_order"]).count(PID) == 1
    for name in DEPARTMENT:
        if name == "instruction":  # a chief's 批示: the holder and the words, no deadline
            text = render(name, **VALUES[name])
            assert PID in text and LONG_DEPARTMENT in text and "批示" in text and "三日内办结" in text
            continue
        if name == "first_inquiry":  # a status change, no deadline: the unit and the new status
            text = render(name, **VALUES[name])
            assert PID in text and VALUES[name]["department"] in text and "已办结待审核" in text
            continue
        text = render(name, **VALUES[name])
        assert PID in text and LONG_DEPARTMENT in text and DUE in text
    assert "新工单" in render("new_order", **VALUES["new_order"])
    assert "催办" in render("reminder", **VALUES["reminder"])
    assert "督办" in render("supervision_notice", **VALUES["supervision_notice"])
    escalation = render("escalation", **VALUES["escalation"])
    assert "首席办事员" in escalation and "市级" in escalation
    assert "区县首席办事员" in render(
        "escalation", **{**VALUES["escalation"], "level": LEVEL_LABELS["district"]}
    )
    assert "退单" in render("returned", **VALUES["returned"])
    assert "改派" in render("transferred", **VALUES["transferred"])


def test_missing_placeholder_raises_template_error():
    with pytest.raises(TemplateError, match="due"):
        render("new_order", id=PID, department=LONG_DEPARTMENT)


def test_unknown_template_raises_template_error():
    with pytest.raises(TemplateError, match="unknown template"):
        render("no_such_template", id=PID)


def test_extra_values_are_ignored_and_values_are_not_reinterpreted():
    text = render("receipt", id="{evil}", unused="x")
    assert "{evil}" in text


def test_template_data_is_validated():
    good = {"text": "{id}", "audience": "citizen", "max_segments": 1}
    assert parse_templates({"t": good})["t"].placeholders == {"id"}
    for bad in (
        {**good, "audience": "everyone"},
        {**good, "max_segments": 3},
        {**good, "text": "{id.attr}"},
        {**good, "text": "{id!r}"},
        {**good, "text": "{id:>10}"},
        {**good, "text": "{}"},
        {**good, "text": "{unclosed"},
        {"audience": "citizen", "max_segments": 1},
    ):
        with pytest.raises(TemplateError):
            parse_templates({"t": bad})


# ---------------------------------------------------------------- closure


def test_closure_short_reply_is_kept_whole_with_the_satisfaction_question():
    text = render_closure(PID, "已更换路灯。")
    assert text == f"【阜政通】您的诉求{PID}已办结。答复：已更换路灯。请评价：回复1满意 2基本满意 3不满意"
    assert ELLIPSIS not in text
    assert count_segments(text).segments == 1


def test_closure_long_reply_is_truncated_with_ellipsis_to_two_segments():
    text = render_closure(PID, LONG_REPLY)
    info = count_segments(text)
    assert info.segments == 2
    assert f"{ELLIPSIS}。请评价：回复1满意 2基本满意 3不满意" in text
    assert text.endswith("回复1满意 2基本满意 3不满意")
    # As long as it can be: one more character of the reply would not fit.
    assert info.units > 134 - 2
    kept = text.split("答复：", 1)[1].split(ELLIPSIS, 1)[0]
    assert LONG_REPLY.startswith(kept)
    longer = render("closure", id=PID, summary=LONG_REPLY[: len(kept) + 1] + ELLIPSIS)
    assert count_segments(longer).segments > 2


def test_closure_reply_with_emoji_and_newlines_still_fits():
    reply = "问题已解决😀\n\n" + "请放心😀" * 60
    text = render_closure(PID, reply)
    assert count_segments(text).segments <= 2
    assert "\n" not in text
    assert text.encode("utf-8")  # whole code points only


def test_closure_with_empty_reply_points_to_the_mini_program():
    text = render_closure(PID, "   ")
    assert "答复：详见阜政通小程序。" in text


def test_render_fitting_rejects_unknown_field_and_impossible_fit():
    with pytest.raises(TemplateError):
        render_fitting("closure", "nope", id=PID, summary="x")
    # Another value already overflows: no truncation of ``id`` can help.
    with pytest.raises(TemplateError, match="does not fit"):
        render_fitting("merged", "id", id=PID, into="号" * 100)
    # Any one-segment template can be forced to fit by truncating its field.
    text = render_fitting("receipt", "id", id="1" * 200)
    assert count_segments(text).segments == 1 and text.count(ELLIPSIS) == 1


def test_format_due_uses_shanghai_local_time():
    assert format_due(datetime(2026, 11, 29, 2, 0, tzinfo=UTC)) == "11月29日10:00"
    assert format_due(datetime(2026, 1, 5, 9, 5)) == "1月5日09:05"


# ---------------------------------------------------------------- segments


def test_empty_text_is_zero_segments():
    assert count_segments("") == SegmentInfo("GSM-7", 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, SegmentInfo("GSM-7", 160, 1)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3)),
        ("中" * 70, SegmentInfo("UCS-2", 70, 1)),
        ("中" * 71, SegmentInfo("UCS-2", 71, 2)),
        ("中" * 134, SegmentInfo("UCS-2", 134, 2)),
        ("中" * 135, SegmentInfo("UCS-2", 135, 3)),
    ],
)
def test_segment_boundaries(text, expected):
    assert count_segments(text) == expected


def test_gsm_default_alphabet_including_accents_and_greek():
    assert count_segments("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà").encoding == "GSM-7"


def test_euro_sign_is_an_extension_character_costing_two_septets():
    assert count_segments("€") == SegmentInfo("GSM-7", 2, 1)
    assert count_segments("a" * 158 + "€") == SegmentInfo("GSM-7", 160, 1)
    assert count_segments("a" * 159 + "€") == SegmentInfo("GSM-7", 161, 2)
    for ch in "^{}\\[]~|":
        assert count_segments(ch).units == 2


def test_escape_pair_is_not_split_across_parts():
    # 152 septets + € (2) cannot share the first 153-septet part: the € starts part 2.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_emoji_forces_ucs2_and_counts_two_units():
    assert count_segments("😀") == SegmentInfo("UCS-2", 2, 1)
    assert count_segments("a" * 68 + "😀") == SegmentInfo("UCS-2", 70, 1)
    assert count_segments("a" * 69 + "😀") == SegmentInfo("UCS-2", 71, 2)
    # A surrogate pair is not split across 67-unit parts.
    assert count_segments("中" * 66 + "😀" + "中" * 66).segments == 3


def test_a_single_non_gsm_character_switches_everything_to_ucs2():
    assert count_segments("a" * 69 + "中") == SegmentInfo("UCS-2", 70, 1)
    assert count_segments("Hello ç").encoding == "UCS-2"  # ç (lower case) is not in GSM-7


def test_chinese_punctuation_is_not_gsm():
    assert count_segments("，").encoding == "UCS-2"
    assert count_segments("【】").encoding == "UCS-2"


def test_fits():
    assert fits("中" * 70, 1)
    assert not fits("中" * 71, 1)
    assert fits("中" * 71, 2)


def test_messages_name_a_districts_dispatch_desk_in_chinese_never_by_code():
    from chalicelib.directory import DEMO_DIRECTORY, load_directory
    from chalicelib.notify.compose import text

    directory = load_directory(DEMO_DIRECTORY)
    body = {
        "template": "supervision_notice",
        "values": {
            "id": PID,
            "department": "210903.dispatch",
            "stage": "dispatch",
            "due": "2026-11-23T02:00:00Z",
        },
    }
    message = text(body, directory)
    assert "新邱区分拨中心" in message and "210903" not in message and "分拨" in message
    body["values"]["department"] = "210903.urban"
    assert "新邱区城市管理综合行政执法局" in text(body, directory)


def test_pool_messages_name_the_petition_and_the_deadline_or_the_unit():
    for name in ("pool_posted", "pool_reminder"):
        text = render(name, **VALUES[name])
        assert PID in text and DUE in text
    assert "认领" in render("pool_claimed", **VALUES["pool_claimed"])
    fallback = render("pool_fallback", **VALUES["pool_fallback"])
    assert "兜底" in fallback and "便民服务中心" in fallback


@pytest.mark.parametrize("name", BY_HAND)
def test_supervision_by_hand_names_the_unit_in_chinese_and_the_stage(name):
    text = render(name, **VALUES[name])
    assert PID in text and LONG_DEPARTMENT in text and VALUES[name]["stage"] in text
    assert "210" not in text and "." not in text  # a unit's name, never its code (210903.dispatch)


def test_an_escalation_says_which_stage_is_late():
    assert f"{STAGE_LABELS['resolve']}阶段" in render("escalation", **VALUES["escalation"])
