"""The SLA sweep: fires the reminders, supervision notices and escalations that have come due.

Reads only what is due: for each of the timer shards, one Query on the sparse
``due`` index for ``due_at <= now`` (never a read of the whole table). For each due timer it loads
the petition, asks the pure ladder which steps came due (several, in order, if
the sweep runs late), and commits them with the petition's version check in one
transaction. So each (petition, stage, step) fires exactly once: a second or a
concurrent sweep loses the version check and skips; a sweep that crashes half
way leaves the rest due, and the next run fires them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import db
from chalicelib.clock import iso
from chalicelib.errors import Conflict
from chalicelib.observability import metric
from chalicelib.observability import setup as setup_observability
from chalicelib.petitions import repository
from chalicelib.petitions.domain import Env
from chalicelib.petitions.models import TimerItem
from chalicelib.settings import get_settings
from chalicelib.sla.ladder import fire_due

log = logging.getLogger("fzt.sla")


class SweepCrash(RuntimeError):
    """Raised by the crash-injection hook in tests (a sweep killed half way)."""


def _env(now: datetime) -> Env:
    from chalicelib.directory.store import get_directory
    from chalicelib.sla.calendar import WorkingCalendar
    from chalicelib.sla.policy import Policy

    return Env(
        now=now, directory=get_directory(), policy=Policy.bundled(), calendar=WorkingCalendar.bundled()
    )


def due_timers(now: datetime, stats: dict):
    cutoff = repository.utc_key(iso(now))
    for shard in range(repository.TIMER_SHARDS):
        for timer in TimerItem.due.query(str(shard), TimerItem.due_at <= cutoff):
            stats["index_items_read"] += 1
            yield timer


def run_sweep(now: datetime, *, crash_after: int | None = None) -> dict:
    """Runs once at ``now``; returns what fired. ``crash_after`` (tests only) dies after that many commits."""
    db.bound()
    setup_observability(get_settings())
    env = _env(now)
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
    for timer in due_timers(now, stats):
        stats["due"] += 1
        petition = repository.get(timer.pk)
        stats["petitions_read"] += 1
        outcome = fire_due(petition, env) if petition else None
        if outcome is None:
            stats["skipped"] += 1  # already fired (a concurrent sweep), or the deadline moved later
            if petition is not None:
                repository.refresh_timer(petition, env)  # so it is not read again before it is due
            continue
        if petition.stage is not None and petition.stage.provisional:
            stats["provisional"] += 1
            log.warning(
                "provisional deadline: no State Council notice for its year", extra={"petition": petition.id}
            )
        try:
            repository.commit(outcome, env)
        except Conflict:
            stats["lost_race"] += 1  # the petition changed meanwhile; what is still due fires next run
            continue
        for e in outcome.events:
            if e["type"] in ("reminder", "supervision_notice", "escalated"):
                fired.append(
                    {
                        "petition": petition.id,
                        "stage": e["stage"],
                        "step": e["step"],
                        "type": e["type"],
                        **({"level": e["level"]} if "level" in e else {}),
                    }
                )
        stats["fired"] += 1
        if crash_after is not None and stats["fired"] >= crash_after:
            raise SweepCrash(f"injected crash after {crash_after} commits")
    # Then the outbox: firings' messages, stragglers, retries whose backoff has passed, quiet-hour SMS.
    from chalicelib.notify.publisher import drain

    published = drain(env)
    settings = get_settings()
    for name in ("fired", "lost_race", "provisional"):
        metric(f"Sweep{name.title().replace('_', '')}", stats[name], settings)
    log.info("sweep done", extra=stats)
    return {
        "now": iso(now),
        "fired": fired,
        "summary": {**stats, "steps": len(fired)},
        "published": published,
    }
