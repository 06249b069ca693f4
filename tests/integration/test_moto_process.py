"""The local stack with moto in a child process of its own (``LocalStack(moto_process=True)``, issue 17):
the same stack over HTTP, the child gone when the stack stops or its parent dies, and persistence refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may not reap orphans)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" in state.split(":", 1)[-1][:3]


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def test_a_stack_with_moto_in_its_own_process_takes_a_petition_and_sends_its_receipt_once(tmp_path):
    from chalicelib.local.stack import LocalStack

    # Given a stack whose moto runs in a child process
    stack = LocalStack(port=0, sweep_interval=0, export_dir=tmp_path, moto_process=True).start()
    try:
        pid = stack._moto.pid
        assert pid != os.getpid() and not _gone(pid)
        assert requests.get(f"{stack.url}/health", timeout=30).status_code == 200
        # When a citizen's petition comes in through the hotline
        phone = "13912340017"
        body = {"district": "210902", "content": "小区路灯不亮，夜间出行不便", "citizen": {"phone": phone}}
        r = requests.post(
            f"{stack.url}/v1/petitions", json=body, headers={"X-Api-Key": "local-hotline"}, timeout=30
        )
        assert r.status_code == 201, r.text
        pid_petition = r.json()["id"]
        # Then it is stored in the child's moto, and its receipt leaves exactly once
        sms = requests.get(f"{stack.url}/_local/outbox", params={"to": f"+86{phone}"}, timeout=30).json()
        receipts = [e for e in sms if e["kind"] == "sms" and pid_petition in e["message"]]
        assert len(receipts) == 1, sms
    finally:
        stack.stop()
    # And once stopped, the child is gone
    assert _wait_gone(pid, 5)


def test_the_moto_process_dies_with_its_parent_even_when_the_parent_is_killed():
    # Given a parent process holding a moto child, then killed without a chance to clean up
    script = (
        "import os, signal, sys\n"
        "from chalicelib.local.moto_process import MotoProcess\n"
        "m = MotoProcess()\n"
        "print(m.pid, m.url, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid_text, url = done.stdout.split()
    assert url.startswith("http://127.0.0.1:")
    # Then the child sees its stdin close and exits: no moto server outlives it
    assert _wait_gone(int(pid_text), 10)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/moto-api/", timeout=2)


def test_a_stack_with_moto_in_its_own_process_refuses_a_state_dir_before_touching_it(tmp_path):
    from chalicelib.local.moto_process import PersistenceUnavailable
    from chalicelib.local.stack import LocalStack

    state = tmp_path / "state"
    with pytest.raises(PersistenceUnavailable, match="snapshots are not available"):
        LocalStack(port=0, sweep_interval=0, state_dir=state, moto_process=True).start()
    assert not state.exists()


def test_moto_speedups_answer_what_moto_answers_unpatched():
    """chalicelib/local/moto_speedups.py: a Query reads only its partition (or, on an index, skips the
    table-wide sort), and answers are written without the shape walk; the answers are moto's own."""
    import boto3

    from chalicelib.local.moto_speedups import moto_as_it_was
    from chalicelib.local.stack import MotoServer

    server = MotoServer()
    table = "fzt-speedups-check"
    try:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name="cn-north-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        ddb.create_table(
            TableName=table,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "due", "at")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-due",
                    "KeySchema": [
                        {"AttributeName": "due", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        # Given partitions of several sizes, some items in a sparse index (ties on its range key too),
        # and one item with every kind of value
        for p in range(12):
            for k in range(p * 3 % 11):
                item = {"pk": {"S": f"p{p:02d}"}, "sk": {"S": f"e{(k * 7) % 13:02d}-{k}"}, "n": {"N": str(k)}}
                if k % 2 == 0:
                    item |= {"due": {"S": f"shard{k % 3}"}, "at": {"S": f"t{k % 4}"}}
                ddb.put_item(TableName=table, Item=item)
        rich = {
            "pk": {"S": "rich"},
            "sk": {"S": "1"},
            "m": {"M": {"a": {"L": [{"N": "1.5"}, {"BOOL": True}, {"NULL": True}, {"S": "阜新"}]}}},
            "ss": {"SS": ["x", "y"]},
            "ns": {"NS": ["1", "2"]},
        }
        ddb.put_item(TableName=table, Item=rich)
        key = {"pk": {"S": "rich"}, "sk": {"S": "1"}}
        queries = [
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": f"p{p:02d}"}}}
            for p in range(13)  # p12: a partition that does not exist
        ]
        queries += [
            {
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": "p07"}, ":s": {"S": "e0"}},
                "ScanIndexForward": False,
            },
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p07"}, ":n": {"N": "3"}},
                "FilterExpression": "n > :n",
                "Limit": 4,
            },
        ]
        queries += [
            {
                "IndexName": "by-due",
                "KeyConditionExpression": "#d = :d AND #a <= :a",
                "ExpressionAttributeNames": {"#d": "due", "#a": "at"},
                "ExpressionAttributeValues": {":d": {"S": f"shard{s}"}, ":a": {"S": "t2"}},
                "ScanIndexForward": forward,
            }
            for s in range(3)
            for forward in (True, False)
        ]

        def pages(call, **query) -> list:
            out, start = [], None
            while True:
                page = call(
                    TableName=table,
                    **{"Limit": 3, **query, **({"ExclusiveStartKey": start} if start else {})},
                )
                page.pop("ResponseMetadata")
                out.append(page)
                start = page.get("LastEvaluatedKey")
                if not start:
                    return out

        def answers() -> list:
            out = [pages(ddb.query, **q) for q in queries]
            out.append(pages(ddb.scan))
            out.append(ddb.get_item(TableName=table, Key=key))
            out.append(ddb.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"S": "1"}}))
            out.append(ddb.get_item(TableName=table, Key=key, ProjectionExpression="m.a[3], ss"))
            out.append(
                ddb.batch_get_item(
                    RequestItems={table: {"Keys": [key, {"pk": {"S": "p01"}, "sk": {"S": "e00-0"}}]}}
                )
            )
            out.append(ddb.put_item(TableName=table, Item=rich, ReturnValues="ALL_OLD"))
            out.append(
                ddb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "7"}},
                    ReturnValues="ALL_NEW",
                )
            )
            out.append(ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}]))
            out.append(ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": rich}}]))
            out.append(ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": rich}}]}))
            out.append(ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD"))
            ddb.put_item(TableName=table, Item=rich)  # back as it was for the other run
            for answer in out[len(queries) + 1 :]:
                answer.pop("ResponseMetadata")
            return out

        # When the same operations run patched and unpatched
        patched = answers()
        with moto_as_it_was():
            unpatched = answers()
        # Then the answers are the same, and not empty
        assert patched == unpatched
        assert sum(len(page.get("Items", [])) for result in patched[: len(queries)] for page in result) > 50
        assert patched[len(queries) + 1]["Item"]["m"] == rich["m"]
    finally:
        server.stop()
