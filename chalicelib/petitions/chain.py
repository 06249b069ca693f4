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


def link_events(prev_hash: str, events: list[dict], first_seq: int) -> tuple[list[dict], str]:
    """Numbers the events from ``first_seq`` and chains each to the one before; returns the
    linked events (with ``seq``, ``prev_hash``, ``hash``) and the last hash."""
    linked, prev = [], prev_hash
    for offset, event in enumerate(events):
        body = {"seq": first_seq + offset, **event}
        digest = link(prev, {**body, "prev_hash": prev})
        linked.append({**body, "prev_hash": prev, "hash": digest})
        prev = digest
    return linked, prev


def verify_chain(events: list[dict]) -> list[str]:
    """The breaks of one petition's chain, read in seq order (empty when intact)."""
    problems, prev = [], GENESIS
    expected = 1
    for e in events:
        seq = e.get("seq")
        if seq != expected:
            problems.append(f"seq {seq}: expected seq {expected} (an event removed or reordered)")
        if e.get("prev_hash") != prev:
            problems.append(f"seq {seq}: does not link to the event before it")
        if e.get("hash") != link(e.get("prev_hash", ""), e):
            problems.append(f"seq {seq}: content does not match its hash (edited)")
        prev = e.get("hash", "")
        expected = (seq or expected) + 1
    return problems
