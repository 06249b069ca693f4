"""PynamoDB plumbing: physical table names come from settings (the stack's outputs).

Models declare which setting names their table with :func:`table`; :func:`bind`
points every model at the current settings. Repositories call :func:`bound`
before they touch a table, so a change of settings (tests, the local stack)
re-binds on the next call instead of at import time.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from pynamodb.attributes import JSONAttribute
from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.errors import TransactionConflict
from chalicelib.settings import Settings, get_settings

_TABLES: dict[type[Model], str] = {}
_bound: Settings | None = None
_lock = threading.Lock()
_connection: Connection | None = None


class CompactJSON(JSONAttribute):
    """JSON stored without the spaces of json.dumps' default separators and with Chinese as UTF-8
    rather than six-byte ``\\uXXXX`` escapes: DynamoDB bills a write per started KB of the item,
    and a petition's doc (content, reply, address, names in Chinese) is most of its item. Reads
    are plain json.loads, so items written either way read back the same."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def table(setting: str):
    def register(cls: type[Model]) -> type[Model]:
        global _bound
        with _lock:
            _TABLES[cls] = setting
            _bound = None  # a model imported after binding gets bound on the next call
        return cls

    return register


def bound() -> Settings:
    global _bound, _connection
    settings = get_settings()
    if settings is _bound:
        return settings
    with _lock:
        if settings is not _bound:
            for cls, setting in _TABLES.items():
                cls.Meta.table_name = getattr(settings, setting)
                cls.Meta.region = settings.region
                cls._connection = None
            _connection = Connection(region=settings.region)
            _bound = settings
    return settings


def connection() -> Connection:
    """The connection transactions run on (same region and endpoint as the models)."""
    bound()
    assert _connection is not None
    return _connection


def all_connections() -> list:
    """Every botocore client PynamoDB uses, for request counting in bench/."""
    bound()
    clients = [cls._get_connection().connection.client for cls in _TABLES]
    clients.append(connection().client)
    return clients


# --- one transaction across the features' tables ------------------------------------------------------


CONFLICT_RETRIES = 4  # a transaction cancelled for another's lock on an item is sent again this often


class DynamoTransaction:
    """Collects labelled writes from the features' stores and commits them as one
    TransactWriteItems. Stores add to it through :meth:`save`; nothing above the stores
    sees a PynamoDB item."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, Model, Condition | None, list[Any] | None]] = []

    def save(self, label: str, item: Model, condition: Condition | None = None) -> None:
        self.writes.append((label, item, condition, None))

    def update(self, label: str, item: Model, actions: list[Any]) -> None:
        """An UpdateItem of ``item``'s key with ``actions`` (e.g. ADD to counters)."""
        self.writes.append((label, item, None, actions))

    def __len__(self) -> int:
        return len(self.writes)

    def commit(self) -> None:
        """One TransactWriteItems. Failed conditions raise ``TransactionConflict`` with their labels.
        A transaction cancelled only because another one held an item (``TransactionConflict``
        reasons: two changes ADDing to the same rollup counter at once) applied nothing, so it is
        sent again, a few times with a short jittered backoff, before the error goes up."""
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        if not self.writes:
            return
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with TransactWrite(connection=connection()) as tx:
                    for _, item, condition, actions in self.writes:
                        if actions is None:
                            tx.save(item, condition=condition)
                        else:
                            tx.update(item, actions=actions, condition=condition)
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                # PynamoDB sends the puts first, then the updates: the reasons come in that order.
                sent = [w for w in self.writes if w[3] is None] + [w for w in self.writes if w[3] is not None]
                codes = [r.code if r is not None else None for r in reasons]
                labels = [sent[i][0] for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
                if labels:
                    raise TransactionConflict(labels) from exc
                if "TransactionConflict" in codes and attempt < CONFLICT_RETRIES:
                    time.sleep(random.uniform(0.01, 0.03) * 2**attempt)
                    continue
                raise


class DynamoDatabase:
    """The transaction factory of the DynamoDB stores (the in-memory fakes have their own)."""

    def transaction(self) -> DynamoTransaction:
        bound()
        return DynamoTransaction()


def shard_of(key: str, shards: int) -> int:
    """A stable shard for a sparse index partition (crc32: the same in every process)."""
    import zlib

    return zlib.crc32(key.encode()) % shards
