"""A local stack restored from a snapshot older than the template gets the template's indexes.

moto's stack update leaves an existing table as it is; ``sync_indexes`` then drops the indexes
that differ from the template and creates the missing ones, and a Query on a new index finds the
items written before it existed."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.indexes import _load_template, plan, sync_indexes

REGION = "cn-north-1"


def declared(logical_id: str) -> dict:
    return _load_template()["Resources"][logical_id]["Properties"]


@pytest.fixture
def ddb(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def old_outbox(ddb) -> str:
    """The outbox table as a snapshot of before the `by_day` index held it, with the `pending`
    index projected differently (ALL → KEYS_ONLY) to stand for a changed projection."""
    props = declared("OutboxTable")
    kept = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] != "by_day"]
    kept = [
        {**i, "Projection": {"ProjectionType": "KEYS_ONLY"}} if i["IndexName"] == "pending" else i
        for i in kept
    ]
    used = {k["AttributeName"] for i in kept for k in i["KeySchema"]} | {"id"}
    ddb.create_table(
        TableName="old-outbox",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=props["KeySchema"],
        AttributeDefinitions=[a for a in props["AttributeDefinitions"] if a["AttributeName"] in used],
        GlobalSecondaryIndexes=kept,
    )
    return "old-outbox"


def test_the_plan_drops_what_differs_and_creates_what_is_missing():
    a = {
        "IndexName": "a",
        "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    b = {
        "IndexName": "b",
        "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    narrow_b = {**b, "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]}}
    assert plan([a, b], [a, b]) == ([], [])
    assert plan([a, narrow_b], [a, b]) == (["b"], [narrow_b])
    assert plan([a], [a, b]) == (["b"], [])
    assert plan([a, b], [a]) == ([], [b])


def test_a_restored_table_gets_the_templates_indexes_and_they_cover_old_items(ddb):
    name = old_outbox(ddb)
    ddb.put_item(
        TableName=name,
        Item={
            "id": {"S": "P1#1#0"},
            "day_shard": {"S": "2026-12-01#00"},
        },
    )
    done = sync_indexes({"OutboxTableName": name}, client=ddb)
    assert sorted(done) == [
        "OutboxTable: index by_day created",
        "OutboxTable: index pending created",
        "OutboxTable: index pending dropped",
    ]
    now = {i["IndexName"]: i for i in ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]}
    want = {i["IndexName"]: i for i in declared("OutboxTable")["GlobalSecondaryIndexes"]}
    assert set(now) == set(want)
    for index, spec in want.items():
        assert now[index]["KeySchema"] == spec["KeySchema"]
        assert now[index]["Projection"]["ProjectionType"] == spec["Projection"]["ProjectionType"]
    found = ddb.query(
        TableName=name,
        IndexName="by_day",
        KeyConditionExpression="day_shard = :d",
        ExpressionAttributeValues={":d": {"S": "2026-12-01#00"}},
    )["Items"]
    assert [i["id"]["S"] for i in found] == ["P1#1#0"]
    assert sync_indexes({"OutboxTableName": name}, client=ddb) == []  # in step: nothing more to do
