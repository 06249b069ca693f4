"""Reading petitions and acting on them, each within the caller's scope."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque

from pynamodb.expressions.condition import Condition

from chalicelib.clock import iso
from chalicelib.errors import Conflict, InvalidInput, NotFound, RateLimited
from chalicelib.intake.ids import normalise
from chalicelib.notify import publisher
from chalicelib.petitions import present, repository
from chalicelib.petitions.domain import apply, can_see, merge_into
from chalicelib.petitions.env import current_env
from chalicelib.petitions.models import PetitionItem


def _load_visible(identity, petition_id: str, env, acting: bool = False):
    p = repository.get(normalise(petition_id))
    if p is not None and not can_see(identity, p, env.directory):
        if acting and _held_before(identity, p):
            # It was this department's order until another action moved it: a lost race, not a stranger.
            raise Conflict(f"{p.id} is no longer an order of {identity.department}", code="invalid_state")
        p = None
    if p is None:
        raise NotFound(f"no petition {petition_id}")  # the same answer for unknown and out of scope
    return p


def _held_before(identity, p) -> bool:
    if identity.is_channel or identity.role != "handler" or not identity.department:
        return False
    department = identity.department
    return any(
        department in (e.get("department"), e.get("from"))
        for e in repository.timeline(p.id)
        if e["type"] in ("dispatched", "transferred", "returned", "accepted")
    )


def get(identity, petition_id: str) -> dict:
    env = current_env()
    p = _load_visible(identity, petition_id, env)
    return present.petition(p, identity, env, repository.timeline(p.id))


def act(identity, petition_id: str, action: str, payload: dict) -> dict:
    """Applies the action to the current state and commits it with the version check; a commit
    that loses to another writer is a 409 for the caller to reload and retry (never re-applied
    silently, so of two racing people exactly one succeeds and the other learns it)."""
    env = current_env()
    p = _load_visible(identity, petition_id, env, acting=True)
    if action == "merge":
        main = repository.get(normalise(payload["into"]))
        if main is None:
            raise NotFound(f"no petition {payload['into']}", field="into")
        outcome = merge_into(p, main, identity, payload, env)
    else:
        outcome = apply(p, action, identity, payload, env)
    recipients = {}
    for note in outcome.notifications:
        child_id = note.get("petition")
        if child_id:
            child = repository.get(child_id)
            if child and child.contact.get("phone_sealed"):
                recipients[child_id] = child.contact["phone_sealed"]
    stored = repository.commit(outcome, env, recipients=recipients)
    publisher.after_commit(outcome, env)
    return present.petition(stored, identity, env, repository.timeline(stored.id))


# --- listing ------------------------------------------------------------------------------------------------


def _partitions(identity, query, directory) -> list[tuple[str, str]]:
    if identity.is_channel:
        return [("channel", identity.name)]
    if identity.role == "handler":
        if query.department and query.department != identity.department:
            raise NotFound("outside your department", field="department")
        return [("department", identity.department)]
    if query.department:
        dep = directory.department(query.department)
        if dep is None:
            raise InvalidInput(f"unknown department {query.department!r}", field="department")
        if not directory.covers(identity.scope, dep.district):
            raise NotFound("outside your scope", field="department")
        return [("department", query.department)]
    scope = identity.scope
    if query.district:
        if directory.district(query.district) is None:
            raise InvalidInput(f"unknown district {query.district!r}", field="district")
        if not directory.covers(scope, query.district):
            raise NotFound("outside your scope", field="district")
        return [("district", query.district)]
    return [("district", d.code) for d in directory.districts if directory.covers(scope, d.code)]


def list_petitions(identity, query) -> dict:
    env = current_env()
    partitions = _partitions(identity, query, env.directory)
    filters: Condition | None = None

    def both(cond):
        nonlocal filters
        filters = cond if filters is None else filters & cond

    if query.status:
        both(PetitionItem.status == query.status)
    if query.district and partitions[0][0] != "district":
        both(PetitionItem.district == query.district)
    if query.overdue:
        both(PetitionItem.due_at < repository.utc_key(iso(env.now)))
    items, state = repository.page(partitions, query.limit, repository.decode_cursor(query.cursor), filters)
    return {
        "items": [present.petition(p, identity, env) for p in items],
        "next_cursor": repository.encode_cursor(state) if state else None,
    }


# --- public tracking --------------------------------------------------------------------------------------


class _Limiter:
    """A sliding window per caller address. Per process: in AWS, API Gateway throttling backs it."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, who: str) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(who, deque())
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                raise RateLimited("too many look-ups; try again in a minute")
            q.append(now)


TRACK_LIMITER = _Limiter(per_minute=60)


def track(petition_id: str, phone_tail: str, source: str) -> dict:
    TRACK_LIMITER.hit(source)
    p = repository.get(normalise(petition_id))
    tail = p.contact.get("phone_tail") if p else None
    if p is None or not tail or not hmac.compare_digest(tail, phone_tail):
        raise NotFound("no petition with this number and phone tail")
    return present.public(p, repository.timeline(p.id))
