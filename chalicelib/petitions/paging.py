"""Paging newest-first across index partitions, and the opaque cursor. Pure."""

from __future__ import annotations

import base64
import json
from typing import TypeVar

from chalicelib.errors import InvalidInput

CURSOR_MAX_CHARS = 4096

T = TypeVar("T")


def merge_page(
    partitions: list[tuple[str, str]],
    candidates: list[tuple[str, str, T]],
    done: dict[str, bool],
    limit: int,
    cursor: dict,
) -> tuple[list[T], dict | None]:
    """The page's newest ``limit`` of the candidates (sort key, partition name, whatever the
    caller pages: petitions, or the ids of index entries it fetches afterwards), and the cursor
    that resumes after them (None when every partition is used up)."""
    candidates.sort(key=lambda c: c[0], reverse=True)
    taken, left = candidates[:limit], candidates[limit:]
    state = dict(cursor)
    for sort_key, name, _ in taken:
        state[name] = sort_key
    for name, finished in done.items():
        if finished and not any(c[1] == name for c in left):
            state[name] = ""
    more = any(state.get(f"{i}:{k}") != "" for i, k in partitions)
    return [p for _, _, p in taken], (state if more else None)


def encode_cursor(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> dict:
    if not text:
        return {}
    try:
        if len(text) > CURSOR_MAX_CHARS:
            raise ValueError
        state = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(state, dict) or not all(isinstance(v, str) for v in state.values()):
            raise ValueError
        return state
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("cursor is not one this API issued", field="cursor") from exc
