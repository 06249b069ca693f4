"""Reading petitions and acting on them, each within the caller's scope.

Its store, the unit of work and the Env come in through the constructor (the runtime
builds it); nothing here touches a table or a client.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import iso, parse_instant, utc_key
from chalicelib.errors import Conflict, NotFound, RateLimited
from chalicelib.petitions import paging, present
from chalicelib.petitions.domain import Env, Petition, apply, can_see, merge_into, rate
from chalicelib.petitions.ids import normalise
from chalicelib.petitions.ports import Committer


class PetitionStore(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...
    def by_phone(self, phone_hash: str, limit: int) -> list[str]: ...
    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterator[Petition]: ...
    def page(
        self,
        partitions: list[tuple[str, str]],
        limit: int,
        cursor: dict,
        *,
        status: str | None = None,
        district: str | None = None,
        due_before: str | None = None,
        department: str | None = None,
    ) -> tuple[list[Petition], dict | None]: ...


def main_of(get: Callable[[str], Petition | None], p: Petition) -> Petition | None:
    """The petition a merged one's chain of merges ends in (A into B, B into C: C), or None."""
    seen = {p.id}
    current = p
    while current.status == "merged" and current.merged_into and len(seen) < 32:
        nxt = get(current.merged_into)
        if nxt is None or nxt.id in seen:
            return None
        seen.add(nxt.id)
        current = nxt
    return current if current.id != p.id else None


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


def with_deliveries(timeline: list[dict], outcomes: list[dict]) -> list[dict]:
    """The timeline with its notifications' delivery outcomes (kept on the outbox records, not in the
    chain) placed in time order: each after every event up to its instant, and after the event that
    queued its record."""
    if not outcomes:
        return timeline
    out: list[dict] = []
    pending = sorted(outcomes, key=lambda o: parse_instant(o["at"]))
    queued: set[str] = set()
    for e in timeline:
        at = parse_instant(e["at"])
        while pending and parse_instant(pending[0]["at"]) < at and pending[0]["notification"] in queued:
            out.append(pending.pop(0))
        out.append(e)
        if e["type"] == "notification":
            queued.add(str(e["notification"]))
    return out + pending


@dataclass
class PetitionService:
    store: PetitionStore
    uow: Committer
    env: Callable[[], Env]
    track_limiter: _Limiter = field(default_factory=lambda: _Limiter(per_minute=60))
    # Evidence (§10, the grid feature's uploads, handed in by the runtime): a check that the keys an
    # action carries were uploaded by someone in scope (4xx otherwise), and short-lived read links.
    check_evidence: Callable[[Identity, list[str], str], None] | None = None
    evidence_links: Callable[[list[str]], list[dict]] | None = None
    # The delivery outcomes of notifications (ids → `notification` events; notify's outbox, handed in
    # by the runtime): shown on the timeline after the event that queued each.
    deliveries: Callable[[list[str]], list[dict]] | None = None

    def timeline(self, p: Petition) -> list[dict]:
        events = self.store.timeline(p.id, p.last_seq)
        if self.deliveries is None:
            return events
        ids = [str(e["notification"]) for e in events if e["type"] == "notification" and "notification" in e]
        return with_deliveries(events, self.deliveries(ids)) if ids else events

    def _load_visible(self, identity: Identity, petition_id: str, env: Env, acting: bool = False) -> Petition:
        key = normalise(petition_id)
        p = self.store.get(key) if key else None
        if p is not None and not can_see(identity, p, env.directory):
            if acting and self._held_before(identity, p):
                # It was this department's order until another action moved it: a lost race, not a stranger.
                raise Conflict(f"{p.id} is no longer an order of {identity.department}", code="invalid_state")
            p = None
        if p is None:
            raise NotFound(f"no petition {petition_id}")  # the same answer for unknown and out of scope
        return p

    def _held_before(self, identity: Identity, p: Petition) -> bool:
        if identity.is_channel or identity.role != "handler" or not identity.department:
            return False
        department = identity.department
        if p.district == identity.district and any(
            e["type"] == "whistled" for e in self.store.timeline(p.id, p.last_seq)
        ):
            return True  # it was in this district's claim pool: another department claimed it first
        return any(
            department in (e.get("department"), e.get("from"))
            for e in self.store.timeline(p.id, p.last_seq)
            if e["type"] in ("dispatched", "transferred", "returned", "accepted")
        )

    def get(self, identity: Identity, petition_id: str) -> dict:
        env = self.env()
        p = self._load_visible(identity, petition_id, env)
        timeline = self.timeline(p)
        out = present.petition(p, identity, env, timeline)
        if self.evidence_links is not None and not identity.is_channel:
            keys = [k for e in timeline for k in (e.get("evidence") or []) if isinstance(k, str)]
            out["evidence"] = self.evidence_links(list(dict.fromkeys(keys)))
        return out

    def act(self, identity: Identity, petition_id: str, action: str, payload: dict) -> dict:
        """Applies the action to the current state and commits it with the version check; a commit
        that loses to another change is a 409 for the caller to reload and retry (never re-applied
        silently, so of two racing people exactly one succeeds and the other learns it). Deliveries
        of notifications do not change the petition, so they never cause one."""
        env = self.env()
        p = self._load_visible(identity, petition_id, env, acting=True)
        if payload.get("evidence") and self.check_evidence is not None:
            self.check_evidence(identity, list(payload["evidence"]), p.district)
        return self._act_once(identity, p, action, payload, env)

    def _act_once(self, identity: Identity, p: Petition, action: str, payload: dict, env: Env) -> dict:
        if action == "merge":
            key = normalise(payload["into"])
            main = self.store.get(key) if key else None
            if main is None:
                raise NotFound(f"no petition {payload['into']}", field="into")
            outcome = merge_into(p, main, identity, payload, env)
        elif action == "feedback":
            main = self.main_of(p)
            outcome = rate(p, main, identity, payload, env)
        else:
            outcome = apply(p, action, identity, payload, env)
        stored = self.uow.commit(outcome, env)
        return present.petition(stored, identity, env, self.timeline(stored))

    def main_of(self, p: Petition) -> Petition | None:
        return main_of(self.store.get, p)

    def list_petitions(self, identity: Identity, query: Any) -> dict:
        env = self.env()
        partitions = scope.petition_partitions(
            identity, env.directory, district_code=query.district, department_code=query.department
        )
        items, state = self.store.page(
            partitions,
            query.limit,
            paging.decode_cursor(query.cursor),
            status=query.status,
            district=query.district if partitions[0][0] != "district" else None,
            department=query.department if partitions[0][0] != "department" else None,
            due_before=utc_key(iso(env.now)) if query.overdue else None,
        )
        if identity.role == "grid_worker":  # a grid worker's district partition, kept to their grid
            items = [p for p in items if can_see(identity, p, env.directory)]
        return {
            "items": [present.petition(p, identity, env) for p in items],
            "next_cursor": paging.encode_cursor(state) if state else None,
        }

    def track(self, petition_id: str, phone_tail: str, source: str) -> dict:
        self.track_limiter.hit(source)
        key = normalise(petition_id)
        p = self.store.get(key) if key else None
        tail = p.contact.get("phone_tail") if p else None
        if p is None or not tail or not hmac.compare_digest(tail, phone_tail):
            raise NotFound("no petition with this number and phone tail")
        return present.public(p, self.store.timeline(p.id, p.last_seq))
