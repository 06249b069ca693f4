"""A petition's stored ``doc``: only what is not at its default and not already an attribute of the
item, written as compact UTF-8 JSON — and read back to the same Petition, from this form and from
the fuller one items were written in before."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.db import CompactJSON
from chalicelib.petitions.domain import Petition
from chalicelib.petitions.models import PetitionItem
from chalicelib.petitions.repository import DEFAULTS, from_item, to_doc, to_item

BARE = Petition(
    id="261203A7FNHA",
    version=3,
    status="received",
    channel="wechat",
    district="210902",
    content="小区门口路灯坏了一个月，晚上出行很不方便",
    created_at="2026-12-03T10:00:00+08:00",
)


def stored(item: PetitionItem) -> PetitionItem:
    """The item as a read gives it back: its doc through the attribute's own serialize/deserialize."""
    attr = PetitionItem.doc
    item.doc = attr.deserialize(attr.serialize(item.doc))
    return item


def test_a_new_petition_stores_only_what_is_set():
    doc = to_doc(BARE)
    assert doc == {"content": BARE.content, "created_at": BARE.created_at}
    assert from_item(stored(to_item(BARE))) == BARE


def test_chinese_is_stored_as_utf8_without_spaces():
    text = PetitionItem.doc.serialize(to_doc(BARE))
    assert (
        text
        == '{"content":"小区门口路灯坏了一个月，晚上出行很不方便","created_at":"2026-12-03T10:00:00+08:00"}'
    )
    # 115 bytes against json.dumps' default 178 (each of the 20 characters 3 bytes, not 6; no spaces)
    assert (len(text.encode()), len(json.dumps(to_doc(BARE)).encode())) == (115, 178)


def test_an_item_written_in_the_old_full_form_reads_the_same():
    full = {**DEFAULTS, **vars(BARE)}
    full.pop("version")
    full["co_departments"], full["merged"] = [], []
    old = json.dumps(full)  # JSONAttribute's old form: default separators, \\u escapes, every field
    item = to_item(BARE)
    item.doc = CompactJSON().deserialize(old)
    assert from_item(item) == BARE


set_fields = st.fixed_dictionaries(
    {},
    optional={
        "priority": st.sampled_from(["normal", "urgent"]),
        "title": st.none() | st.text(max_size=8),
        "department": st.none() | st.just("210902.urban"),
        "co_departments": st.lists(st.sampled_from(["210902.housing", "210902.water"]), unique=True).map(
            tuple
        ),
        "anonymous": st.booleans(),
        "returns": st.integers(0, 3),
        "reopens": st.integers(0, 3),
        "merged": st.lists(st.text(min_size=1, max_size=5), max_size=2).map(tuple),
        "awaiting_feedback": st.booleans(),
        "rating": st.none() | st.sampled_from(["satisfied", "dissatisfied"]),
        "reply": st.none() | st.text(max_size=20),
        "last_seq": st.integers(0, 20),
        "tally": st.dictionaries(st.sampled_from(["rated", "satisfied"]), st.integers(0, 2)),
        "escalation_level": st.sampled_from(["none", "district", "city"]),
        "status": st.sampled_from(["received", "dispatched", "closed"]),
    },
)


@given(set_fields)
def test_any_petition_reads_back_as_it_was_written(changes):
    p = replace(BARE, **changes)
    assert from_item(stored(to_item(p))) == p
