"""PynamoDB plumbing: physical table names come from settings (the stack's outputs).

Models declare which setting names their table with :func:`table`; :func:`bind`
points every model at the current settings. Repositories call :func:`bound`
before they touch a table, so a change of settings (tests, the local stack)
re-binds on the next call instead of at import time.
"""

from __future__ import annotations

import threading

from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.settings import Settings, get_settings

_TABLES: dict[type[Model], str] = {}
_bound: Settings | None = None
_lock = threading.Lock()
_connection: Connection | None = None


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
