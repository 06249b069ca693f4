"""Three known behaviours of moto that the local stack works around (DESIGN.md: "known
behaviours of the pieces"), applied to the in-process emulator only — never to AWS code paths.

1. TransactWriteItems deep-copies every table it touches, for its rollback: O(table size) per
   transaction, so a stack with thousands of petitions slows to seconds per commit and the
   test suite's memory climbs into gigabytes. Here the transaction backs up only the items it
   touches and restores those if it fails: the same all-or-nothing outcome, O(items).
2. That copy is not thread-safe ('dictionary changed size during iteration'); the server in
   stack.py serialises requests for that reason.
3. The server finds each request's backend by listing moto's package folder (a listdir and
   ~150 isdir calls per request, under the lock of 2): the list is read once (``cache_backend_list``).
"""

from __future__ import annotations

import copy as _copy


def lighten_transactions() -> None:
    from moto.dynamodb import models as ddb
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(ddb, "_fzt_light_transactions", False):
        return

    class _NoTableCopy:
        """moto's module-level `copy`, except that a Table is not deep-copied for the backup."""

        @staticmethod
        def deepcopy(x, memo=None):
            return x if isinstance(x, Table) else _copy.deepcopy(x, memo)

        copy = staticmethod(_copy.copy)

    original = ddb.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            try:
                ((_, op),) = entry.items()
                table = self.tables[op["TableName"]]
                source = op.get("Key") or op["Item"]
                h = DynamoType(source[table.hash_key_attr])
                r = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
                saved.append((table, h, r, _copy.deepcopy(table.get_item(h, r))))
            except Exception:  # noqa: BLE001,S112 - malformed input: moto's own validation answers it
                continue
        try:
            return original(self, transact_items)
        except Exception:
            for table, h, r, previous in reversed(saved):
                if r is None:
                    if previous is None:
                        table.items.pop(h, None)
                    else:
                        table.items[h] = previous
                elif previous is None:
                    table.items.get(h, {}).pop(r, None)
                else:
                    table.items.setdefault(h, {})[r] = previous
            raise

    # moto's module and backend, patched in place (the local stack and bench only; never in AWS)
    ddb.copy = _NoTableCopy  # type: ignore[assignment]
    ddb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    ddb._fzt_light_transactions = True  # type: ignore[attr-defined]


def cache_backend_list() -> None:
    """moto's folder of backends does not change while the server runs: list it once."""
    from moto import backends
    from moto.moto_server import werkzeug_app

    if getattr(backends, "_fzt_cached_modules", None) is not None:
        return
    modules = frozenset(backends.list_of_moto_modules())
    backends._fzt_cached_modules = modules  # type: ignore[attr-defined]
    # werkzeug_app calls backends.list_of_moto_modules() per request, through the module attribute
    werkzeug_app.backends.list_of_moto_modules = lambda: modules


def keep_unupdatable_resources() -> None:
    """moto's stack update sets a changed resource it cannot update (a DynamoDB table) to None, so
    its Ref and outputs vanish and the app loses the table's name; keep the resource as it is
    instead (what moto does to the table itself). chalicelib/local/indexes.py then brings the
    table's indexes to the template's."""
    from moto.cloudformation import parsing

    if getattr(parsing.parse_and_update_resource, "_fzt_patched", False):
        return
    original = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        return resources_map[logical_id] if updated is None else updated

    parse_and_update_resource._fzt_patched = True  # type: ignore[attr-defined]
    parsing.parse_and_update_resource = parse_and_update_resource
