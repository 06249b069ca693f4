"""The one transaction (chalicelib/db.py) on DynamoDB: failed conditions named by their labels even
when counter updates ride along (PynamoDB sends puts before updates), and a transaction cancelled
only because another held an item is sent again instead of failing the change."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from chalicelib import db
from chalicelib.errors import TransactionConflict
from chalicelib.supervision.store import RecordItem, RollupItem


@pytest.fixture
def tx(stack):  # noqa: ARG001 - the module's local stack: tables from infra/template.yaml
    db.bound()
    return db.DynamoDatabase().transaction()


def test_a_failed_condition_is_named_even_behind_a_counter_update(tx):
    first = db.DynamoDatabase().transaction()
    first.save("record", RecordItem(pk="t#labels", sk="one", doc={}))
    first.commit()
    tx.update("rollup", RollupItem(pk="t#labels", sk="counter"), [RollupItem.received.add(1)])
    tx.save("record", RecordItem(pk="t#labels", sk="one", doc={}), RecordItem.pk.does_not_exist())
    with pytest.raises(TransactionConflict) as caught:
        tx.commit()
    assert caught.value.labels == ["record"]
    assert RollupItem.count("t#labels", RollupItem.sk == "counter") == 0  # nothing applied


def _cancelled(stubber: Stubber, reasons: list[str]) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": c} for c in reasons]},
    )


def test_a_transaction_cancelled_for_a_conflict_is_sent_again(tx):
    tx.update("rollup", RollupItem(pk="t#retry", sk="counter"), [RollupItem.received.add(1)])
    client = db.connection().client
    with Stubber(client) as stubber:
        _cancelled(stubber, ["TransactionConflict"])
        _cancelled(stubber, ["TransactionConflict"])
        stubber.add_response("transact_write_items", {})
        tx.commit()
        stubber.assert_no_pending_responses()


def test_a_conflict_that_persists_goes_up_after_the_retries(tx):
    from pynamodb.exceptions import TransactWriteError

    tx.update("rollup", RollupItem(pk="t#retry", sk="counter"), [RollupItem.received.add(1)])
    client = db.connection().client
    with Stubber(client) as stubber:
        for _ in range(db.CONFLICT_RETRIES + 1):
            _cancelled(stubber, ["TransactionConflict"])
        with pytest.raises(TransactWriteError):
            tx.commit()
        stubber.assert_no_pending_responses()
