"""GET /v1/stats: the figures over petitions received in a window, within the caller's scope.

It reads each petition of the window and its timeline (two requests a petition): right
for a district's day-to-day view; city-wide and long windows belong to the exports
(Athena / DuckDB), which carry the same events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import SHANGHAI, iso, utc_key
from chalicelib.errors import InvalidInput
from chalicelib.petitions import present
from chalicelib.petitions.domain import Env, Petition
from chalicelib.stats.figures import figures

MAX_WINDOW_DAYS = 92


class PetitionReads(Protocol):
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...
    def received_between(self, index: str, key: str, lo: str, hi: str) -> Iterator[Petition]: ...


def _day(text: str | None, default: datetime, field: str) -> datetime:
    if not text:
        return default
    try:
        day = datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a calendar date", field=field) from exc
    if not 2000 <= day.year <= 2999:
        raise InvalidInput(f"{field} must be a date between 2000 and 2999", field=field)
    return day


@dataclass
class Stats:
    petitions: PetitionReads
    env: Callable[[], Env]

    def stats(self, identity: Identity, query: Any) -> dict:
        env = self.env()
        directory = env.directory
        today = env.now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        start = _day(query.from_, today - timedelta(days=30), "from")
        end = _day(query.to, today, "to") + timedelta(days=1)
        if end <= start:
            raise InvalidInput("to is before from", field="to")
        if (end - start).days > MAX_WINDOW_DAYS:
            raise InvalidInput(f"at most {MAX_WINDOW_DAYS} days; longer windows: the exports", field="from")
        scope.known(directory, district_code=query.district, department_code=query.department)
        if identity.role == "handler" or query.department:
            dep = scope.department(identity, directory, query.department or identity.department or "")
            if query.district:
                scope.district(identity, directory, query.district)
            scope.agree(directory, district_code=query.district, department_code=dep)
            partitions = [("department", dep)]
        else:
            partitions = [("district", d) for d in scope.districts(identity, directory, query.district)]
        lo, hi = utc_key(iso(start)), utc_key(iso(end))
        rows = []
        for index, key in partitions:
            for p in self.petitions.received_between(index, key, lo, hi):
                rows.append((present.petition(p, identity, env), self.petitions.timeline(p.id, p.last_seq)))
        result = figures(rows, env.calendar, env.now)
        return {
            "from": start.date().isoformat(),
            "to": (end - timedelta(days=1)).date().isoformat(),
            **result,
        }
