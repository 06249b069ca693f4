"""The per-petition hash chain over timeline events (tamper evidence for auditors).

hash_n = SHA-256(hash_{n-1} || canonical JSON of event n without its hashes); the
first event links to the empty string. Editing, removing or reordering any event
breaks every later link.
"""

from __future__ import annotations

import hashlib
import json

GENESIS = ""


def canonical(event: dict) -> str:
    body = {k: v for k, v in event.items() if k not in ("hash", "prev_hash")}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link(prev_hash: str, event: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def verify(events: list[dict]) -> list[int]:
    """Sequence numbers whose link is broken (empty when the chain is intact)."""
    broken, prev = [], GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if (
            event.get("seq") != expected_seq
            or event.get("prev_hash") != prev
            or event.get("hash") != link(prev, event)
        ):
            broken.append(event.get("seq", expected_seq))
        prev = event.get("hash", "")
    return broken
