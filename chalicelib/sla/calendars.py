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
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from chalicelib.clock import iso
from chalicelib.errors import InvalidInput
from chalicelib.petitions.domain import Env, Outcome, Petition
from chalicelib.petitions.ports import Committer
from chalicelib.sla.timer_store import Timer
from chalicelib.timing import stage as stage_clock
from chalicelib.timing.calendar import CalendarError, WorkingCalendar, YearNotice

log = logging.getLogger("fzt.sla.calendar")
TTL_SECONDS = 60.0


class NoticeStore(Protocol):
    def save_notice(self, year: int, body: dict) -> None: ...
    def notices(self) -> list[dict]: ...


class PendingTimers(Protocol):
    def pending_from(self, cutoff: str) -> Iterable[Timer]: ...


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...


def parse_notice(data: dict) -> YearNotice:
    try:
        return YearNotice.from_dict(data)
    except CalendarError as exc:
        raise InvalidInput(str(exc), field="holidays" if "holiday" in str(exc) else "body") from exc


class Calendars:
    """The calendar in force (cached ``ttl`` seconds), and the loading of a year's notice."""

    def __init__(self, notices: NoticeStore, ttl: float = TTL_SECONDS) -> None:
        self.notices = notices
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, WorkingCalendar] | None = None

    def current(self) -> WorkingCalendar:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
                calendar = WorkingCalendar.bundled()
                for body in self.notices.notices():
                    calendar = calendar.with_notice(YearNotice.from_dict(body))
                self._cached = (time.monotonic(), calendar)
            return self._cached[1]

    def clear(self) -> None:
        with self._lock:
            self._cached = None

    def load(
        self,
        notice: YearNotice,
        env: Callable[[], Env],
        timers: PendingTimers,
        petitions: PetitionReads,
        uow: Committer,
    ) -> dict:
        """Store the notice, then recompute open deadlines that may reach into its year."""
        self.notices.save_notice(notice.year, notice.to_dict())
        self.clear()
        now = env()
        cutoff = f"{notice.year - 1}-12-01T00:00:00Z"  # a stage pending on Dec 1 can reach into January
        recomputed = []
        for timer in timers.pending_from(cutoff):
            p = petitions.get(timer.petition_id)
            if p is None or p.stage is None or not p.stage.running:
                continue
            fresh = stage_clock.recompute(now.calendar, p.stage)
            if (fresh.due_at, fresh.provisional) == (p.stage.due_at, p.stage.provisional):
                continue
            event = {
                "type": "deadline_recomputed",
                "at": iso(now.now),
                "actor": "system:calendar",
                "stage": p.stage.name,
                "old_due_at": p.stage.due_at,
                "due_at": fresh.due_at,
                "provisional": fresh.provisional,
                "year": notice.year,
                "source": notice.source,
            }
            uow.commit(Outcome(replace(p, stage=fresh), [event], []), now)
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
