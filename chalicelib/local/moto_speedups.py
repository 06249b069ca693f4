"""Two more known behaviours of moto that the local stack works around (moto_patches.py has the others):
every DynamoDB Query walks and sorts the whole table, and every answer is built by walking the
operation's output shape. Both were most of moto's time under issue 17's load test (a petition's life is
six requests, each reading its timeline and the outbox), and the first grows with the tables.

1. ``index_queries``: moto's ``Table.query`` starts from ``Table.all_items()``, which lists every item of
   the table and sorts them all by key, then keeps those of the queried partition (or, on an index,
   those with the index's key) and sorts what it kept: O(n log n) in the table's size, with Python
   comparisons of moto's DynamoType, for a timeline of six events. Here, while a Query runs,
   ``all_items()`` of that table answers with less, and the same outcome: on the table's own key, only
   the queried partition's items (moto keeps them in a dict per hash key; it filters by that key and
   sorts by the range key right after); on an index, every item unsorted (moto sorts what it keeps by
   the index's keys followed by the table's, a total order, so the order it was given does not matter).
2. ``plain_json_responses``: moto answers DynamoDB's data-plane operations with a result that is already
   plain JSON data (``DynamoResult`` turns its items into ``{"S": ...}`` dicts), then serialises it by
   walking the operation's output shape member by member (about 15 ms for a 5 KB page). Here such a
   result is written as it is (None members dropped, as the walk drops them) through the serializer's
   own body and headers; anything not plain JSON (bytes, a datetime) takes the walk as before.

The same answers come back: tests/integration/test_moto_process.py runs the operations both ways on one
table and compares them.
"""

from __future__ import annotations

import contextlib
import inspect
import threading

_local = threading.local()
_enabled = True
_INDEX = object()  # the marker of a Query on an index: every item, unsorted


def index_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_fzt_indexed_queries", False):
        return
    original_query = Table.query
    original_all_items = Table.all_items
    signature = inspect.signature(original_query)

    def all_items(self):
        only = getattr(_local, "only", None)
        if only is None or only[0] is not self:
            return original_all_items(self)
        key = only[1]
        if key is _INDEX:
            if self.range_key_attr:
                return [item for bucket in self.items.values() for item in bucket.values()]
            return list(self.items.values())
        bucket = self.items.get(key) if key is not None else None
        if bucket is None:
            return []
        return list(bucket.values()) if self.range_key_attr else [bucket]

    def query(self, *args, **kwargs):
        if not _enabled:
            return original_query(self, *args, **kwargs)
        arguments = signature.bind(self, *args, **kwargs).arguments
        key = _INDEX if arguments.get("index_name") else arguments.get("hash_key")
        previous = getattr(_local, "only", None)
        _local.only = (self, key)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _local.only = previous

    # moto's Table, patched in place (the local stack and bench only; never in AWS)
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table._fzt_indexed_queries = True  # type: ignore[attr-defined]


# DynamoDB's operations whose answers are items and counts: plain JSON once DynamoResult has made them so.
DATA_PLANE = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_NOT_PLAIN = object()


def _plain(value):
    """A copy of ``value`` without None members if it is plain JSON data, else _NOT_PLAIN."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None:
                continue
            v = _plain(v)
            if v is _NOT_PLAIN or not isinstance(k, str):
                return _NOT_PLAIN
            out[k] = v
        return out
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if isinstance(value, (str, bool, int, float)):
        return value
    return _NOT_PLAIN


def plain_json_responses() -> None:
    from moto.core.serialize import JSONSerializer

    if getattr(JSONSerializer, "_fzt_plain_json", False):
        return
    original = JSONSerializer._serialize_result

    def _serialize_result(self, resp, result):
        model = self.operation_model
        if (
            _enabled
            and isinstance(result, dict)
            and model.name in DATA_PLANE
            and model.service_model.service_name == "dynamodb"
        ):
            plain = _plain(result)
            if plain is not _NOT_PLAIN:
                return self._serialized_result_to_response(resp, result, model.output_shape, plain)
        return original(self, resp, result)

    # moto's serializer, patched in place (the local stack and bench only; never in AWS)
    JSONSerializer._serialize_result = _serialize_result  # type: ignore[method-assign]
    JSONSerializer._fzt_plain_json = True  # type: ignore[attr-defined]


@contextlib.contextmanager
def moto_as_it_was():
    """moto's Queries and answers as it runs them unpatched, for the test that compares both
    (not thread-safe: tests only)."""
    global _enabled
    _enabled = False
    try:
        yield
    finally:
        _enabled = True
