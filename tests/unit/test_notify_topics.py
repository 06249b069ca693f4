"""Topics, message attributes and SNS filter-policy matching."""

from __future__ import annotations

import json

import pytest

from tests.sns_policies import (
    EXAMPLE_FILTER_POLICIES,
    EXAMPLE_POLICY_TOPICS,
    KIND_TOPIC,
    TOPICS,
    FilterPolicyError,
    matches,
    message_attributes,
    topic_for,
)

POLICIES = EXAMPLE_FILTER_POLICIES


def attrs(kind, district, department=None, level=None):
    return message_attributes(kind, district, department, level)


# ---------------------------------------------------------------- topics and attributes


def test_topics_and_kinds():
    assert TOPICS == ("orders", "supervision")
    for kind in ("new_order", "transferred", "returned"):
        assert topic_for(kind) == "orders"
    for kind in ("reminder", "supervision_notice", "escalation"):
        assert topic_for(kind) == "supervision"
    assert set(KIND_TOPIC.values()) == set(TOPICS)
    with pytest.raises(ValueError, match="unknown"):
        topic_for("sms")


def test_message_attributes_are_in_sns_form_and_omit_none():
    assert message_attributes("new_order", "210902", "210902.housing") == {
        "kind": {"DataType": "String", "StringValue": "new_order"},
        "district": {"DataType": "String", "StringValue": "210902"},
        "department": {"DataType": "String", "StringValue": "210902.housing"},
    }
    escalation = message_attributes("escalation", "210902", level="city")
    assert set(escalation) == {"kind", "district", "level"}
    assert escalation["level"] == {"DataType": "String", "StringValue": "city"}


def test_message_attributes_refuse_bad_values():
    with pytest.raises(ValueError):
        message_attributes("tweet", "210902")
    with pytest.raises(ValueError):
        message_attributes("escalation", "210902", level="province")
    with pytest.raises(ValueError):
        message_attributes("new_order", "")


# ---------------------------------------------------------------- example policies


def test_example_policies_are_named_as_agreed_and_json_serialisable():
    assert set(POLICIES) == {
        "department_duty_phone_210902_housing",
        "chief_210902",
        "city_chief",
        "supervisor_210902",
    }
    assert set(EXAMPLE_POLICY_TOPICS) == set(POLICIES)
    assert set(EXAMPLE_POLICY_TOPICS.values()) <= set(TOPICS)
    for policy in POLICIES.values():
        assert json.loads(json.dumps(policy)) == policy


def test_policies_only_mention_kinds_of_their_own_topic():
    for name, policy in POLICIES.items():
        for kind in policy.get("kind", []):
            assert topic_for(kind) == EXAMPLE_POLICY_TOPICS[name]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (attrs("new_order", "210902", "210902.housing"), True),
        (attrs("transferred", "210902", "210902.housing"), True),
        (attrs("new_order", "210902", "210902.urban"), False),
        (attrs("new_order", "210903", "210903.housing"), False),
        (attrs("new_order", "210902"), False),  # no department
        (attrs("returned", "210902", "210902.housing"), False),  # its own return goes to the dispatcher
    ],
)
def test_housing_duty_phone(message, expected):
    assert matches(POLICIES["department_duty_phone_210902_housing"], message) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (attrs("escalation", "210902", "210902.housing", "district"), True),
        (attrs("escalation", "210902", "210902.housing", "city"), True),
        (attrs("escalation", "210902"), True),
        (attrs("escalation", "210903", "210903.housing", "district"), False),
        (attrs("reminder", "210902", "210902.housing"), False),
        (attrs("supervision_notice", "210902", "210902.housing"), False),
    ],
)
def test_district_chief(message, expected):
    assert matches(POLICIES["chief_210902"], message) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (attrs("escalation", "210902", "210902.housing", "city"), True),
        (attrs("escalation", "210922", "210922.civil", "city"), True),
        (attrs("escalation", "210902", "210902.housing", "district"), False),
        (attrs("escalation", "210902"), False),  # no level
        (attrs("supervision_notice", "210902", "210902.housing"), False),
    ],
)
def test_city_chief(message, expected):
    assert matches(POLICIES["city_chief"], message) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (attrs("reminder", "210902", "210902.housing"), True),
        (attrs("supervision_notice", "210902", "210902.urban"), True),
        (attrs("escalation", "210902", "210902.urban", "district"), True),
        (attrs("reminder", "210903", "210903.housing"), False),
        (attrs("escalation", "210903", "210903.urban", "city"), False),
        (attrs("new_order", "210902", "210902.housing"), False),
    ],
)
def test_district_supervisor(message, expected):
    assert matches(POLICIES["supervisor_210902"], message) is expected


# ---------------------------------------------------------------- matching semantics


MSG = attrs("escalation", "210902", "210902.housing", "district")


def test_empty_policy_matches_everything():
    assert matches({}, MSG)
    assert matches({}, {})


def test_and_across_keys_or_within_a_list():
    assert matches({"kind": ["reminder", "escalation"]}, MSG)
    assert matches({"kind": ["escalation"], "district": ["210902"]}, MSG)
    assert not matches({"kind": ["escalation"], "district": ["210903"]}, MSG)
    assert matches({"district": ["210903", {"prefix": "2109"}]}, MSG)


def test_missing_attribute_matches_only_exists_false():
    msg = attrs("reminder", "210902")
    assert not matches({"level": ["district"]}, msg)
    assert not matches({"level": [{"anything-but": ["city"]}]}, msg)
    assert not matches({"level": [{"prefix": ""}]}, msg)
    assert not matches({"level": [{"exists": True}]}, msg)
    assert matches({"level": [{"exists": False}]}, msg)
    assert matches({"level": ["city", {"exists": False}]}, msg)
    assert not matches({"level": [{"exists": False}]}, MSG)
    assert matches({"level": [{"exists": True}]}, MSG)


def test_anything_but():
    assert matches({"district": [{"anything-but": ["210903", "210904"]}]}, MSG)
    assert not matches({"district": [{"anything-but": ["210902", "210904"]}]}, MSG)
    assert not matches({"district": [{"anything-but": "210902"}]}, MSG)
    assert matches({"department": [{"anything-but": {"prefix": "210903."}}]}, MSG)
    assert not matches({"department": [{"anything-but": {"prefix": "210902."}}]}, MSG)


def test_prefix():
    assert matches({"department": [{"prefix": "210902."}]}, MSG)
    assert not matches({"department": [{"prefix": "210903."}]}, MSG)


def test_exact_match_is_case_and_whole_value_sensitive():
    assert not matches({"kind": ["Escalation"]}, MSG)
    assert not matches({"district": ["21090"]}, MSG)


def test_delivered_form_and_string_arrays():
    delivered = {"kind": {"Type": "String", "Value": "escalation"}}
    assert matches({"kind": ["escalation"]}, delivered)
    arr = {"department": {"DataType": "String.Array", "StringValue": '["210902.housing", "210902.civil"]'}}
    assert matches({"department": ["210902.civil"]}, arr)
    assert matches({"department": [{"prefix": "210902."}]}, arr)
    assert not matches({"department": [{"anything-but": ["210902.civil"]}]}, arr)
    assert matches({"department": [{"anything-but": ["210903.civil"]}]}, arr)


def test_number_attributes_do_not_match_string_conditions():
    num = {"level": {"DataType": "Number", "StringValue": "2"}}
    assert not matches({"level": ["2"]}, num)
    assert matches({"level": [{"exists": True}]}, num)


@pytest.mark.parametrize(
    "policy",
    [
        {"kind": "escalation"},  # values must be a list
        {"kind": []},
        {"kind": [{"numeric": ["=", 1]}]},
        {"kind": [{"suffix": "tion"}]},
        {"kind": [{"exists": "yes"}]},
        {"kind": [{"prefix": 1}]},
        {"kind": [{"anything-but": []}]},
        {"kind": [{"anything-but": {"suffix": "x"}}]},
        {"kind": [{"prefix": "a", "exists": True}]},
        {"kind": [7]},
        {"$or": [{"kind": ["escalation"]}, {"level": ["city"]}]},
    ],
)
def test_unsupported_or_malformed_policies_raise(policy):
    with pytest.raises(FilterPolicyError):
        matches(policy, MSG)


def _grid():
    for kind in KIND_TOPIC:
        for district in ("210902", "210903"):
            for department in (None, f"{district}.housing", f"{district}.urban"):
                for level in (None, "district", "city"):
                    yield attrs(kind, district, department, level)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_example_policies_agree_with_motos_sns_filter(name):
    """The local stack delivers through moto's SNS: it must filter the example policies the same way."""
    sns_utils = pytest.importorskip("moto.sns.utils")
    matcher = sns_utils.FilterPolicyMatcher(POLICIES[name], "MessageAttributes")
    for message in _grid():
        delivered = {k: {"Type": v["DataType"], "Value": v["StringValue"]} for k, v in message.items()}
        assert matches(POLICIES[name], message) is matcher.matches(delivered, "{}"), message
