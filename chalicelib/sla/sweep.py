"""The SLA sweep: fires the reminders, supervision notices and escalations that have come due.

Reads only what is due: for each of the timer shards, one Query on the sparse
``due`` index for ``due_at <= now`` (never a read of the whole table). For each due timer it loads
the petition, asks the pure ladder which steps came due (several, in order, if
the sweep runs late), and commits them with the petition's version check in one
transaction. So each (petition, stage, step) fires exactly once: a second or a
concurrent sweep loses the version check and skips; a sweep that crashes half
way leaves the rest due, and the next run fires them.

The Env comes from the runtime, as the API's does: the same calendar, with the notices
loaded since deployment, so nothing fires before the due time that operators see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.clock import iso, utc_key
from chalicelib.errors import Conflict
from chalicelib.petitions.domain import Env, Outcome, Petition
from chalicelib.sla.ladder import fire_due
from chalicelib.sla.timer_store import Timer

log = logging.getLogger("fzt.sla")


class SweepCrash(RuntimeError):
    """Raised by the crash-injection hook in tests (a sweep killed half way)."""


class DueTimers(Protocol):
    def due(self, cutoff: str) -> Iterable[Timer]: ...
    def put(self, timer: Timer) -> None: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...


class Writer(Protocol):
    def write(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Any] = ()
    ) -> Petition: ...


@dataclass
class Sweep:
    timers: DueTimers
    petitions: PetitionReads
    uow: Writer  # written without publishing: the drain below publishes everything due at once
    env: Callable[[datetime], Env]
    drain: Callable[[Env], dict[str, int]]
    plan_timer: Callable[[Petition, Env], Timer]
    metric: Callable[[str, float], None] = field(default=lambda name, value: None)

    def run(self, now: datetime, *, crash_after: int | None = None) -> dict:
        """Runs once at ``now``; returns what fired. ``crash_after`` (tests only) dies after that many."""
        env = self.env(now)
        stats = {
            "due": 0,
            "fired": 0,
            "skipped": 0,
            "lost_race": 0,
            "index_items_read": 0,
            "petitions_read": 0,
            "provisional": 0,
        }
        fired: list[dict] = []
        lag = 0.0
        for timer in self.timers.due(utc_key(iso(now))):
            stats["index_items_read"] += 1
            stats["due"] += 1
            if timer.due_at:
                lag = max(
                    lag, (now - datetime.fromisoformat(timer.due_at.replace("Z", "+00:00"))).total_seconds()
                )
            petition = self.petitions.get(timer.petition_id)
            stats["petitions_read"] += 1
            outcome = fire_due(petition, env) if petition else None
            if outcome is None:
                stats["skipped"] += 1  # already fired (a concurrent sweep), or the deadline moved later
                if petition is not None:
                    # Rewrite the timer at the petition's real next firing, so it is not read again
                    # before then. The petition's ``timer_key`` keeps the old value, so its next
                    # commit writes the timer again (never skips a needed write).
                    self.timers.put(self.plan_timer(petition, env))
                continue
            if petition is not None and petition.stage is not None and petition.stage.provisional:
                stats["provisional"] += 1
                log.warning(
                    "provisional deadline: no State Council notice for its year",
                    extra={"petition": petition.id},
                )
            try:
                self.uow.write(outcome, env)
            except Conflict:
                stats["lost_race"] += 1  # the petition changed meanwhile; what is still due fires next run
                continue
            for e in outcome.events:
                if e["type"] in ("reminder", "supervision_notice", "escalated", "fallback_assigned"):
                    fired.append(
                        {
                            "petition": outcome.petition.id,
                            "stage": e["stage"],
                            "step": e.get("step", e["type"]),
                            "type": e["type"],
                            **({"level": e["level"]} if "level" in e else {}),
                        }
                    )
            stats["fired"] += 1
            if crash_after is not None and stats["fired"] >= crash_after:
                raise SweepCrash(f"injected crash after {crash_after} commits")
        # Then the outbox: firings' messages, stragglers, retries whose backoff has passed, quiet-hour SMS.
        published = self.drain(env)
        for name in ("fired", "lost_race", "provisional"):
            self.metric(f"Sweep{name.title().replace('_', '')}", stats[name])
        self.metric("SweepLagSeconds", lag)
        log.info("sweep done", extra=stats)
        return {
            "now": iso(now),
            "fired": fired,
            "summary": {**stats, "steps": len(fired)},
            "published": published,
        }
