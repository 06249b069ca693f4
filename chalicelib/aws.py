"""Lazily built, cached AWS clients. Nothing is built at import time.

Every client honours ``AWS_ENDPOINT_URL`` (botocore reads it), which is how the
local stack points the whole application at the in-process moto server.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_listeners: list = []

_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10)


def client(service: str) -> Any:
    with _lock:
        if service not in _clients:
            c = boto3.session.Session().client(service, region_name=get_settings().region, config=_CONFIG)
            for event, handler in _listeners:
                c.meta.events.register(event, handler)
            _clients[service] = c
        return _clients[service]


_origins: dict[str, str] = {}


def s3_origin(bucket: str) -> str:
    """The origin (scheme://host[:port]) of the bucket's presigned URLs — the local moto server's,
    or the regional S3 host in AWS — which a browser page must be allowed to reach. Signing makes
    no request; the answer is kept per bucket."""
    from urllib.parse import urlsplit

    if bucket not in _origins:
        url = client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "o"}, ExpiresIn=60
        )
        parts = urlsplit(url)
        _origins[bucket] = f"{parts.scheme}://{parts.netloc}"
    return _origins[bucket]


def on_event(event: str, handler) -> None:
    """Register a botocore event handler on every client built from now on (and already built)."""
    with _lock:
        _listeners.append((event, handler))
        for c in _clients.values():
            c.meta.events.register(event, handler)


def reset_clients() -> None:
    with _lock:
        _clients.clear()
        _listeners.clear()
        _origins.clear()


def download_if_exists(bucket: str, key: str, path: str) -> bool:
    """Fetches an S3 object to a file; False when there is no such object (the export's merge)."""
    from botocore.exceptions import ClientError

    try:
        client("s3").download_file(bucket, key, path)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return False
        raise
    return True
