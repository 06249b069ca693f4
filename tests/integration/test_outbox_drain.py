"""Publishing off the request path (issue 17): a create commits and answers; the outbox drain (the
outbox table's stream consumer in AWS, a thread on the local stack) sends the receipt, exactly once
whoever races for it — two drainers, the stream redelivering a batch, the sweep."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from chalicelib.local.stack import load_app
from chalicelib.notify.sns import SnsPort
from chalicelib.runtime import get_runtime
from chalicelib.settings import get_settings

DISTRICT = "210904"


class Held:
    """A handoff that keeps what commits hand it (nothing is published until the test says so)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def submit(self, ids, env) -> None:
        self.ids += ids

    def flush(self) -> None:
        pass


@pytest.fixture
def held():
    runtime = get_runtime()
    before = runtime.handoff
    runtime.handoff = Held()
    yield runtime.handoff
    runtime.handoff = before


def at_ten(api) -> None:
    """A working morning (outside quiet hours: receipts are due at once)."""
    from datetime import datetime, timedelta

    from chalicelib.clock import SHANGHAI, iso

    now = datetime.fromisoformat(api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    ten = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    assert api.post("/_local/clock", {"set": iso(ten)}).status_code == 200


def create(api, phone: str, n: int = 0) -> str:
    body = {
        "district": DISTRICT,
        "content": f"小区垃圾清运不及时，气味很大（{n}）",
        "citizen": {"phone": phone},
    }
    r = api.post("/v1/petitions", body, as_="local-hotline")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def sms_counts(api, phones: list[str]) -> Counter:
    sent = Counter(e["to"] for e in api.get("/_local/outbox").json() if e["kind"] == "sms")
    return Counter(sent.get(f"+86{p}", 0) for p in phones)


def test_a_create_answers_before_sns_and_its_receipt_follows_once(api):
    # Given SNS that does not answer until the test lets it
    at_ten(api)
    release = threading.Event()

    class Slow(SnsPort):
        def send_sms(self, phone, message):
            release.wait(20)
            return super().send_sms(phone, message)

    runtime = get_runtime()
    runtime.publisher.port = Slow(get_settings())
    try:
        # When a citizen's petition is created, the request answers while SNS still waits
        pid = create(api, "13500135001")
        timeline = api.get(f"/v1/petitions/{pid}", as_="supervisor@210904").json()["timeline"]
        assert [e["status"] for e in timeline if e["type"] == "notification"] == ["queued"]
    finally:
        release.set()
        runtime.settle()
        runtime.publisher.port = SnsPort(get_settings())
    # Then the receipt leaves once, and the timeline records it sent
    assert sms_counts(api, ["13500135001"]) == Counter({1: 1})
    timeline = api.get(f"/v1/petitions/{pid}", as_="supervisor@210904").json()["timeline"]
    assert [e["status"] for e in timeline if e["type"] == "notification"] == ["queued", "sent"]


def test_two_drainers_racing_deliver_each_receipt_exactly_once(api, held):
    # Given twelve receipts committed and not yet published
    at_ten(api)
    phones = [f"135002{n:05d}" for n in range(12)]
    for n, phone in enumerate(phones):
        create(api, phone, n)
    assert len(held.ids) == 12
    runtime = get_runtime()
    env = runtime.env()
    # When two drainers (two stream invocations, or the stream and the sweep) take the same batch
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: runtime.publisher.drain(env, list(held.ids)), range(2)))
    # Then each SMS went out once: one drainer sent it, the other skipped it (or found it done)
    assert sum(r.get("sent", 0) for r in results) == 12
    assert sms_counts(api, phones) == Counter({1: 12})
    # and the sweep afterwards finds nothing left to send
    api.post("/_local/sweep")
    assert sms_counts(api, phones) == Counter({1: 12})


def stream_event(ids: list[str]) -> dict:
    """What DynamoDB Streams hands the function: one INSERT record per new outbox item (NEW_IMAGE)."""
    return {
        "Records": [
            {
                "eventID": str(n),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "cn-north-1",
                "eventSourceARN": "arn:aws-cn:dynamodb:cn-north-1:000000000000:table/fzt-outbox/stream/x",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1796000000,
                    "Keys": {"id": {"S": i}},
                    "NewImage": {"id": {"S": i}, "status": {"S": "queued"}},
                    "StreamViewType": "NEW_IMAGE",
                    "SequenceNumber": str(n),
                    "SizeBytes": 50,
                },
            }
            for n, i in enumerate(ids)
        ]
    }


def test_the_outbox_stream_function_sends_what_a_commit_queued_even_when_redelivered(api, held):
    at_ten(api)
    phones = ["13500135101", "13500135102"]
    for n, phone in enumerate(phones):
        create(api, phone, n)
    with Client(load_app(), stage_name="local") as client:
        first = client.lambda_.invoke("notify_outbox_stream", stream_event(held.ids)).payload
        # Streams deliver at least once: the same batch again sends nothing more
        again = client.lambda_.invoke("notify_outbox_stream", stream_event(held.ids)).payload
    assert first == {"sent": 2}
    assert "sent" not in again
    assert sms_counts(api, phones) == Counter({1: 2})


def test_an_update_on_the_stream_publishes_nothing(api, held):
    at_ten(api)
    create(api, "13500135201")
    event = stream_event(held.ids)
    for record in event["Records"]:
        record["eventName"] = "MODIFY"  # the publisher's own marks come back on the stream
    with Client(load_app(), stage_name="local") as client:
        assert client.lambda_.invoke("notify_outbox_stream", event).payload == {}
    assert sms_counts(api, ["13500135201"]) == Counter({0: 1})
