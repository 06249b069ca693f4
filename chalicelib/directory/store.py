"""The directory in DynamoDB: loaded from files by the deployment, read (and cached) by the app.

The whole directory is one JSON document split into chunks under ``pk = "directory"``
with a head item naming the version; a reader caches it for ``TTL_SECONDS``.
"""

from __future__ import annotations

import json
import threading
import time

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import db
from chalicelib.directory.model import Directory

CHUNK_CHARS = 100_000  # well under the 400 KB item limit even for 3-byte UTF-8 characters
TTL_SECONDS = 60.0


@db.table("table_directory")
class DirectoryItem(Model):
    class Meta:
        table_name = "fzt-directory"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(null=True)
    chunks = NumberAttribute(null=True)
    version = UnicodeAttribute(null=True)


class DirectoryStore:
    """The directory document and the calendar notices (both deployment data, one table).

    Readers get the directory from a cache kept ``ttl`` seconds; loading a new one clears it."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: Directory | None = None
        self._at = 0.0

    def save(self, directory: Directory, version: str) -> int:
        """Writes the directory; returns the number of chunks. The head goes last: no reader sees half."""
        db.bound()
        text = json.dumps(directory.to_dict(), ensure_ascii=False, separators=(",", ":"))
        parts = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]
        with DirectoryItem.batch_write() as batch:
            for i, part in enumerate(parts):
                batch.save(DirectoryItem(pk="directory", sk=f"{version}#{i:04d}", body=part))
        DirectoryItem(pk="directory", sk="head", chunks=len(parts), version=version).save()
        self.clear()
        return len(parts)

    def read(self) -> Directory:
        db.bound()
        head = DirectoryItem.get("directory", "head", consistent_read=True)
        parts = DirectoryItem.query(
            "directory", DirectoryItem.sk.startswith(f"{head.version}#"), consistent_read=True
        )
        text = "".join(p.body or "" for p in sorted(parts, key=lambda p: p.sk))
        return Directory.from_dict(json.loads(text))

    def get(self) -> Directory:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self.ttl:
                self._value = self.read()
                self._at = time.monotonic()
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None

    # --- calendar notices (the State Council's, one per year) ----------------------------------------------

    def save_notice(self, year: int, body: dict) -> None:
        db.bound()
        DirectoryItem(pk="calendar", sk=str(year), body=json.dumps(body, ensure_ascii=False)).save()

    def notices(self) -> list[dict]:
        db.bound()
        return [json.loads(i.body) for i in DirectoryItem.query("calendar", consistent_read=True) if i.body]
