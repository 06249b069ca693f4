"""SNS topics, message attributes and subscription filter policies.

Department and supervision messages are published to one of two topics with
message attributes ``kind``, ``district``, ``department`` and ``level`` so that
each subscription (a department's duty phone, a chief handler, a supervisor)
receives only its share through an SNS filter policy.

``matches`` evaluates a filter policy the way SNS does with
``FilterPolicyScope = MessageAttributes``, for the subset of the policy
language this platform uses:

* AND across the policy's keys; every key names an attribute;
* OR within a key's list of conditions;
* a condition is an exact string, ``{"prefix": "..."}``,
  ``{"anything-but": "..." | [...] | {"prefix": "..."}}``, or ``{"exists": true|false}``;
* an attribute missing from the message satisfies only ``{"exists": false}``
  (not ``anything-but``, as in SNS);
* ``String`` attributes compare by value; a ``String.Array`` attribute (a JSON
  array) matches a condition when any element does, and ``anything-but`` when
  no element is excluded; ``Number`` and ``Binary`` attributes never match
  string conditions;
* an empty policy matches everything (a subscription without a filter).

Anything else (numeric conditions, ``suffix``, ``equals-ignore-case``, ``$or``,
nested keys) raises ``FilterPolicyError`` rather than guessing. Attributes may
be given as published (``{"DataType", "StringValue"}``) or as delivered
(``{"Type", "Value"}``).

Test support: what SNS does with our filter policies, so tests can check the template's
example subscriptions against the attributes the publisher sends. Pure: no boto3.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TOPICS: tuple[str, ...] = ("orders", "supervision")

KIND_TOPIC: dict[str, str] = {
    "new_order": "orders",
    "transferred": "orders",
    "returned": "orders",
    "reminder": "supervision",
    "supervision_notice": "supervision",
    "escalation": "supervision",
}
KINDS: tuple[str, ...] = tuple(KIND_TOPIC)
LEVELS: tuple[str, ...] = ("district", "city")


class FilterPolicyError(ValueError):
    """A filter policy outside the supported subset, or malformed."""


def topic_for(kind: str) -> str:
    """The topic (``orders`` or ``supervision``) a message of ``kind`` is published to."""
    try:
        return KIND_TOPIC[kind]
    except KeyError:
        raise ValueError(f"unknown message kind {kind!r}") from None


def message_attributes(
    kind: str, district: str, department: str | None = None, level: str | None = None
) -> dict[str, dict[str, str]]:
    """SNS ``MessageAttributes`` for a topic message; ``None`` values are left out."""
    topic_for(kind)
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    values = {"kind": kind, "district": district, "department": department, "level": level}
    out: dict[str, dict[str, str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ValueError(f"message attribute {name} must be a non-empty string")
        out[name] = {"DataType": "String", "StringValue": value}
    return out


def _attribute_values(attribute: Mapping[str, Any]) -> list[str]:
    """The string values an attribute offers to string conditions ([] for Number/Binary)."""
    data_type = attribute.get("DataType", attribute.get("Type"))
    value = attribute.get("StringValue", attribute.get("Value"))
    if data_type == "String" and isinstance(value, str):
        return [value]
    if data_type == "String.Array" and isinstance(value, str):
        try:
            items = json.loads(value)
        except ValueError:
            return []
        if isinstance(items, list):
            return [item for item in items if isinstance(item, str)]
    return []


def _strings(value: Any, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise FilterPolicyError(f"{what} needs a string or a non-empty list of strings")
    return items


def _condition_matches(condition: Any, present: bool, values: list[str]) -> bool:
    if isinstance(condition, str):
        return condition in values
    if not isinstance(condition, dict) or len(condition) != 1:
        raise FilterPolicyError(f"unsupported condition {condition!r}")
    ((operator, operand),) = condition.items()
    if operator == "exists":
        if not isinstance(operand, bool):
            raise FilterPolicyError("exists needs true or false")
        return present is operand
    if operator == "prefix":
        if not isinstance(operand, str):
            raise FilterPolicyError("prefix needs a string")
        return any(v.startswith(operand) for v in values)
    if operator == "anything-but":
        if isinstance(operand, dict):
            if set(operand) != {"prefix"} or not isinstance(operand["prefix"], str):
                raise FilterPolicyError("anything-but supports only a nested prefix")
            return bool(values) and not any(v.startswith(operand["prefix"]) for v in values)
        excluded = _strings(operand, "anything-but")
        return bool(values) and not any(v in excluded for v in values)
    raise FilterPolicyError(f"unsupported operator {operator!r}")


def matches(filter_policy: Mapping[str, Any], attributes: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether SNS would deliver a message with ``attributes`` to a subscription with ``filter_policy``.

    Mirrors SNS ``MessageAttributes``-scope filtering for the subset described in
    this module's docstring; see there.
    """
    if not isinstance(filter_policy, Mapping):
        raise FilterPolicyError("a filter policy is a JSON object")
    result = True
    for key, conditions in filter_policy.items():
        if key.startswith("$"):
            raise FilterPolicyError(f"unsupported policy key {key!r}")
        if not isinstance(conditions, list) or not conditions:
            raise FilterPolicyError(f"policy key {key!r} needs a non-empty list of conditions")
        attribute = attributes.get(key)
        present = attribute is not None
        values = _attribute_values(attribute) if attribute is not None else []
        # Evaluate every condition (no short-circuit) so that a malformed policy always raises.
        hits = [_condition_matches(c, present, values) for c in conditions]
        result = result and any(hits)
    return result


EXAMPLE_FILTER_POLICIES: dict[str, dict[str, list[Any]]] = {
    # The duty phone of 海州区住房和城乡建设局: orders sent to that department (on the orders topic).
    "department_duty_phone_210902_housing": {
        "kind": ["new_order", "transferred"],
        "department": ["210902.housing"],
    },
    # 海州区's chief handler (首席办事员): escalations of petitions in 210902 (either level).
    "chief_210902": {"kind": ["escalation"], "district": ["210902"]},
    # The city's chief handler: escalations raised to city level, any district.
    "city_chief": {"kind": ["escalation"], "level": ["city"]},
    # 海州区's supervisor (督办): reminders, supervision notices and escalations in 210902.
    "supervisor_210902": {
        "kind": ["reminder", "supervision_notice", "escalation"],
        "district": ["210902"],
    },
}

# Which topic each example subscription belongs to.
EXAMPLE_POLICY_TOPICS: dict[str, str] = {
    "department_duty_phone_210902_housing": "orders",
    "chief_210902": "supervision",
    "city_chief": "supervision",
    "supervisor_210902": "supervision",
}
