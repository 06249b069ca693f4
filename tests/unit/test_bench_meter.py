"""The cost bench's write-unit estimate (bench/sweep.py: Schema, Update) follows DynamoDB's rules for
GSI upkeep: an index entry is written when it appears, moves, leaves, or when an attribute it holds
changes: any attribute for ALL, the keys and NonKeyAttributes for INCLUDE, the keys for KEYS_ONLY."""

from __future__ import annotations

from bench.sweep import Schema, Update


class FakeDynamo:
    """DescribeTable's answer for one table shaped like the petitions table (a stand-in for the wire)."""

    def describe_table(self, TableName: str) -> dict:  # noqa: N803 - boto3's keyword
        def gsi(name: str, key: str, projection: dict) -> dict:
            keys = [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": "created_key", "KeyType": "RANGE"},
            ]
            return {"IndexName": name, "KeySchema": keys, "Projection": projection}

        return {
            "Table": {
                "TableName": TableName,
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [
                    gsi(
                        "by_district",
                        "district",
                        {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
                    ),
                    gsi("by_phone", "phone_hash", {"ProjectionType": "KEYS_ONLY"}),
                    gsi("by_channel", "channel", {"ProjectionType": "ALL"}),
                ],
            }
        }


def item(**changes) -> dict:
    base = {
        "id": "P1",
        "district": "210902",
        "channel": "wechat",
        "phone_hash": "h",
        "created_key": "2026-11-02T02:00:00Z#P1",
        "status": "received",
        "version": "1",
        "doc": "x" * 2500,  # a 3-unit item: an ALL entry costs 3, the others 1
    }
    return {k: {"N" if k == "version" else "S": v} for k, v in {**base, **changes}.items()}


SCHEMA = Schema(FakeDynamo(), ["petitions"])


def test_a_new_item_writes_every_index_entry_by_its_own_size():
    assert SCHEMA.index_units("petitions", None, item()) == 1 + 1 + 3


def test_a_change_of_an_included_attribute_rewrites_the_include_and_all_entries_only():
    assert SCHEMA.index_units("petitions", item(), item(status="dispatched", version="2")) == 1 + 3


def test_a_change_of_what_no_narrow_index_holds_costs_only_the_all_index():
    assert SCHEMA.index_units("petitions", item(), item(doc="y" * 2500, version="2")) == 3


def test_a_moved_key_removes_the_old_entry_and_writes_the_new():
    assert SCHEMA.index_units("petitions", item(), item(district="210903", version="2")) == (1 + 1) + 3


def test_an_update_is_costed_by_the_attributes_its_expression_names():
    names = {"#s": "status", "#d": "doc", "#p": "phone_hash"}
    status = Update.of({"UpdateExpression": "SET #s = :s, #d = :d", "ExpressionAttributeNames": names})
    doc = Update.of({"UpdateExpression": "SET #d = if_not_exists(#d, :d)", "ExpressionAttributeNames": names})
    unphoned = Update.of({"UpdateExpression": "SET #d = :d REMOVE #p", "ExpressionAttributeNames": names})
    assert (status.touched, status.removed) == ({"status", "doc"}, set())
    assert unphoned.removed == {"phone_hash"}
    assert SCHEMA.index_units("petitions", item(), item(), status) == 1 + 3
    assert SCHEMA.index_units("petitions", item(), item(), doc) == 3
    assert SCHEMA.index_units("petitions", item(), item(), unphoned) == 1 + 3  # phone entry leaves
