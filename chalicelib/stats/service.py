"""GET /v1/stats: the figures over petitions received in a window, within the caller's scope.

It reads the rollup counters (chalicelib/supervision/rollups.py), kept in each petition
change's transaction: one Query per district and month of the window, whatever the number of
petitions — a year city-wide is 12 × 8 Queries. The reference computation from the events
(chalicelib/stats/figures.py) gives the same figures; a test holds the two together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import SHANGHAI
from chalicelib.errors import InvalidInput
from chalicelib.petitions.domain import Env
from chalicelib.supervision import rollups

MAX_WINDOW_DAYS = 366


class RollupReads(Protocol):
    def counters(self, pk: str, lo: str, hi: str) -> Iterator[tuple[str, dict[str, int]]]: ...


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


def window(query: Any, now: datetime) -> tuple[datetime, datetime]:
    """[first day, last day] of a query's window (Asia/Shanghai), checked: 30 days by default."""
    today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    first = _day(query.from_, today - timedelta(days=30), "from")
    last = _day(query.to, today, "to")
    if last < first:
        raise InvalidInput("to is before from", field="to")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise InvalidInput(f"at most {MAX_WINDOW_DAYS} days", field="from")
    return first, last


@dataclass
class Stats:
    rollups: RollupReads
    env: Callable[[], Env]

    def stats(self, identity: Identity, query: Any) -> dict:
        env = self.env()
        directory = env.directory
        first, last = window(query, env.now)
        scope.known(directory, district_code=query.district, department_code=query.department)
        department = None
        if identity.role == "handler" or query.department:
            department = scope.department(identity, directory, query.department or identity.department or "")
            if query.district:
                scope.district(identity, directory, query.district)
            scope.agree(directory, district_code=query.district, department_code=department)
            dep = directory.department(department)
            # A city department may hold any district's petitions; a district's, its own only.
            home = dep.district if dep else directory.city
            districts = [d.code for d in directory.districts] if directory.is_city(home) else [home]
        else:
            districts = scope.districts(identity, directory, query.district)
        result = rollups.figures(rollups.read(self.rollups, districts, first, last, department))
        return {"from": first.date().isoformat(), "to": last.date().isoformat(), **result}
