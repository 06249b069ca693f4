"""`make run` resumed from a snapshot older than infra/template.yaml: the stack is updated, keeps its
tables' names (moto would drop a table it cannot update from the outputs), and each table gets the
template's indexes, so the code that queries a new index works on the old data."""

from __future__ import annotations

from pathlib import Path

import boto3
import requests

from chalicelib.local.stack import TEMPLATE
from tests.conftest import Api

HOTLINE = {"X-Api-Key": "local-hotline"}


def create(url: str, n: int) -> str:
    body = {"district": "210902", "content": f"楼道灯坏了（{n}）", "citizen": {"phone": f"1391234{n:04d}"}}
    r = requests.post(f"{url}/v1/petitions", json=body, headers=HOTLINE, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def older_template(tmp_path) -> Path:
    """infra/template.yaml as it was before the outbox's by_day index."""
    text = TEMPLATE.read_text(encoding="utf-8")
    start, end = text.index("  OutboxTable:"), text.index("  DirectoryTable:")
    outbox = text[start:end]
    index = outbox[
        outbox.index("        # Every record under the Shanghai day") : outbox.index(
            "      StreamSpecification"
        )
    ]
    older = outbox.replace(index, "").replace("        - {AttributeName: day_shard, AttributeType: S}\n", "")
    assert "by_day" in outbox and "by_day" not in older and "day_shard" not in older
    older = text[:start] + older + text[end:]
    path = tmp_path / "template.yaml"
    path.write_text(older, encoding="utf-8")
    return path


def test_a_snapshot_from_before_an_index_resumes_with_the_index(tmp_path, monkeypatch):
    from chalicelib.local import stack as local
    from chalicelib.runtime import get_runtime

    state = tmp_path / "state"
    # Given a stack made from the template of before the outbox's by_day index, with a petition
    with monkeypatch.context() as m:
        m.setattr(local, "TEMPLATE", older_template(tmp_path))
        stack = local.LocalStack(port=0, sweep_interval=0, export_dir=tmp_path / "exports", state_dir=state)
        stack.start()
        try:
            ddb = boto3.client("dynamodb")
            table = next(t for t in ddb.list_tables()["TableNames"] if "OutboxTable" in t)
            indexes = ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
            assert "by_day" not in {i["IndexName"] for i in indexes}
            old = create(stack.url, 1)
            requests.get(f"{stack.url}/_local/outbox", timeout=30)  # its receipt is out
        finally:
            stack.stop()

    # When it is started again with today's template
    stack = local.LocalStack(
        port=0, sweep_interval=0, export_dir=tmp_path / "exports", state_dir=state
    ).start()
    try:
        # Then it says so, the tables kept their names, and the outbox has its by_day index
        assert any("template.yaml changed" in n for n in stack.notes), stack.notes
        ddb = boto3.client("dynamodb")
        indexes = ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
        assert "by_day" in {i["IndexName"] for i in indexes}
        # and the old petition reads back, a new one is taken, and the index names the new receipt
        assert Api(stack.url).get(f"/v1/petitions/{old}", as_="admin@210900").status_code == 200
        new = create(stack.url, 2)
        requests.get(f"{stack.url}/_local/outbox", timeout=30)
        rt = get_runtime()
        (record,) = rt.stores.outbox.get_many([f"{new}#1#0"])
        assert record.id in set(rt.stores.outbox.changed_on(record.created_at[:10]))
    finally:
        stack.stop()
