"""The working-day calendar in force: the shipped notices plus those loaded since.

A new year's State Council notice is loaded with ``POST /v1/admin/calendar`` (or
``python -m chalicelib.sla.calendars load FILE.json``, which calls it). Loading
stores the notice in the directory table and recomputes the deadline of every
open stage that could reach into that year, each with a ``deadline_recomputed``
event on its timeline. Until a year's notice is loaded, deadlines in it count
weekends only and are marked ``provisional`` (see calendar.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from chalicelib import db
from chalicelib.clock import iso
from chalicelib.directory.store import DirectoryItem
from chalicelib.errors import InvalidInput
from chalicelib.petitions import clock as stage_clock
from chalicelib.petitions import repository
from chalicelib.petitions.domain import Outcome
from chalicelib.petitions.models import TimerItem
from chalicelib.sla.calendar import CalendarError, WorkingCalendar, YearNotice

log = logging.getLogger("fzt.sla.calendar")
TTL_SECONDS = 60.0
_lock = threading.Lock()
_cached: tuple[float, WorkingCalendar] | None = None


def stored_notices() -> list[YearNotice]:
    db.bound()
    return [YearNotice.from_dict(json.loads(i.body)) for i in DirectoryItem.query("calendar") if i.body]


def current_calendar() -> WorkingCalendar:
    global _cached
    with _lock:
        if _cached is None or time.monotonic() - _cached[0] > TTL_SECONDS:
            calendar = WorkingCalendar.bundled()
            for notice in stored_notices():
                calendar = calendar.with_notice(notice)
            _cached = (time.monotonic(), calendar)
        return _cached[1]


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None


def parse_notice(data: dict) -> YearNotice:
    try:
        return YearNotice.from_dict(data)
    except CalendarError as exc:
        raise InvalidInput(str(exc), field="holidays" if "holiday" in str(exc) else "body") from exc


def load_notice(notice: YearNotice, env_factory) -> dict:
    """Store the notice, then recompute open deadlines that may reach into its year."""
    db.bound()
    DirectoryItem(
        pk="calendar", sk=str(notice.year), body=json.dumps(notice.to_dict(), ensure_ascii=False)
    ).save()
    clear_cache()
    env = env_factory()
    cutoff = f"{notice.year - 1}-12-01T00:00:00Z"  # a stage pending on Dec 1 can reach into January
    recomputed = []
    for shard in range(repository.TIMER_SHARDS):
        for timer in TimerItem.due.query(str(shard), TimerItem.due_at >= cutoff):
            p = repository.get(timer.pk)
            if p is None or p.stage is None or not p.stage.running:
                continue
            fresh = stage_clock.recompute(env.calendar, p.stage)
            if (fresh.due_at, fresh.provisional) == (p.stage.due_at, p.stage.provisional):
                continue
            event = {
                "type": "deadline_recomputed",
                "at": iso(env.now),
                "actor": "system:calendar",
                "stage": p.stage.name,
                "old_due_at": p.stage.due_at,
                "due_at": fresh.due_at,
                "provisional": fresh.provisional,
                "year": notice.year,
                "source": notice.source,
            }
            repository.commit(Outcome(replace(p, stage=fresh), [event], []), env)
            recomputed.append(p.id)
    log.info("calendar notice loaded", extra={"year": notice.year, "recomputed": len(recomputed)})
    return {
        "year": notice.year,
        "source": notice.source,
        "holidays": len(notice.holidays),
        "workdays": len(notice.workdays),
        "recomputed": recomputed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Load a State Council holiday notice into a running deployment."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="POST the notice to /v1/admin/calendar")
    load.add_argument("file")
    load.add_argument("--api", default="http://127.0.0.1:8000")
    load.add_argument("--token", help="an admin bearer token (default: a local one from /_local/token)")
    args = parser.parse_args(argv)
    import requests

    data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    token = (
        args.token
        or requests.post(f"{args.api}/_local/token", json={"user": "admin@210900"}, timeout=10).json()[
            "token"
        ]
    )
    r = requests.post(
        f"{args.api}/v1/admin/calendar", json=data, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    print(json.dumps(r.json(), ensure_ascii=False, indent=1))
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
