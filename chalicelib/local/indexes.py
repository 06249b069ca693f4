"""A restored local stack's tables brought to the template's secondary indexes.

moto's CloudFormation leaves an existing DynamoDB table as it is when a stack update changes it
(and, unpatched, drops it from the stack's outputs: ``moto_patches.keep_unupdatable_resources``).
A snapshot taken before an index was added, or before an index's projection changed, would then
run the new code against the old table: a Query on a missing index fails. After the stack update,
this module compares each table's global secondary indexes with the template's and, through
UpdateTable as on AWS, deletes the ones that differ or are gone and creates the missing ones. moto
answers an index Query by walking the table, so a new index covers the items already there.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("fzt.local")

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


def _load_template() -> dict:
    from cfnlint.decode import decode_str

    template, matches = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    if matches:
        raise RuntimeError(f"{TEMPLATE}: {matches}")
    return json.loads(json.dumps(template))


def _shape(index: dict) -> tuple:
    """What makes two index declarations the same index: keys and projection."""
    projection = index.get("Projection") or {}
    return (
        tuple((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]),
        projection.get("ProjectionType", "ALL"),
        tuple(sorted(projection.get("NonKeyAttributes") or ())),
    )


def plan(declared: list[dict], existing: list[dict]) -> tuple[list[str], list[dict]]:
    """(names to delete, declarations to create) that turn ``existing`` into ``declared``."""
    want = {i["IndexName"]: i for i in declared}
    have = {i["IndexName"]: i for i in existing}
    delete = [n for n, i in have.items() if n not in want or _shape(i) != _shape(want[n])]
    create = [i for n, i in want.items() if n not in have or n in delete]
    return delete, create


def sync_indexes(outputs: dict[str, str], client: Any = None) -> list[str]:
    """Brings every table of the stack (its ``<LogicalId>Name`` output) to the template's indexes;
    returns what it did, one line per index, for the stack's notes."""
    import boto3

    ddb = client or boto3.client("dynamodb")
    done: list[str] = []
    for logical_id, resource in _load_template().get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table" or f"{logical_id}Name" not in outputs:
            continue
        name = outputs[f"{logical_id}Name"]
        props = resource.get("Properties", {})
        table = ddb.describe_table(TableName=name)["Table"]
        delete, create = plan(
            props.get("GlobalSecondaryIndexes") or [], table.get("GlobalSecondaryIndexes") or []
        )
        for gone in delete:
            ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": gone}}])
            done.append(f"{logical_id}: index {gone} dropped")
        for index in create:
            keys = {k["AttributeName"] for k in index["KeySchema"]}
            attributes = [a for a in props.get("AttributeDefinitions", []) if a["AttributeName"] in keys]
            ddb.update_table(
                TableName=name,
                AttributeDefinitions=attributes,
                GlobalSecondaryIndexUpdates=[
                    {
                        "Create": {
                            "IndexName": index["IndexName"],
                            "KeySchema": index["KeySchema"],
                            "Projection": index.get("Projection") or {"ProjectionType": "ALL"},
                        }
                    }
                ],
            )
            done.append(f"{logical_id}: index {index['IndexName']} created")
    for line in done:
        log.info("local stack: %s", line)
    return done
