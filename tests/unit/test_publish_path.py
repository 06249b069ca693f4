"""Where a commit's notifications go (Runtime.after_commit): the unit tests' memory runtime publishes
in the caller's thread, an AWS stage leaves them to the outbox stream's function, and a handoff
(the local stack's drain thread) takes them without publishing."""

from __future__ import annotations

from chalicelib.runtime import Runtime
from tests.fakes import FakeSms, memory_stores
from tests.unit.support import WALKIN, body, demo, memory_runtime


def test_the_memory_runtime_publishes_the_receipt_in_the_request():
    rt = memory_runtime()
    rt.intake.create(WALKIN, body(), None)
    assert len(rt.port.sms) == 1


def test_an_aws_stage_answers_without_publishing_and_the_stream_function_sends_once():
    local = memory_runtime()
    rt = Runtime.build(
        local.settings.model_copy(update={"stage": "dev"}),
        stores=memory_stores(demo()),
        port=FakeSms(),
        clock=local.clock,
    )
    status, created = rt.intake.create(WALKIN, body(), None)
    assert status == 201 and rt.port.sms == []  # nothing sent in the request
    ids = [r.id for r in rt.stores.outbox.due("9999")]
    assert len(ids) == 1
    assert rt.publish_stream(ids) == {"sent": 1}
    assert rt.publish_stream(ids) == {}  # a redelivered stream batch: already sent
    assert len(rt.port.sms) == 1


def test_a_handoff_takes_the_ids_and_publishes_nothing_itself():
    class Keep:
        def __init__(self):
            self.ids: list[str] = []
            self.flushed = 0

        def submit(self, ids, env):
            self.ids += ids

        def flush(self):
            self.flushed += 1

    local = memory_runtime()
    keep = Keep()
    rt = Runtime.build(
        local.settings, stores=memory_stores(demo()), port=FakeSms(), clock=local.clock, handoff=keep
    )
    rt.intake.create(WALKIN, body(), None)
    assert rt.port.sms == [] and len(keep.ids) == 1
    rt.settle()
    assert keep.flushed == 1
