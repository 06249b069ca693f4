"""GET /v1/stats: the figures over petitions received in a window, within the caller's scope.

It reads each petition of the window and its timeline (two requests a petition): right
for a district's day-to-day view; city-wide and long windows belong to the exports
(Athena / DuckDB), which carry the same events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import db
from chalicelib.clock import SHANGHAI, iso
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.petitions import present, repository
from chalicelib.petitions.env import current_env
from chalicelib.petitions.models import PetitionItem
from chalicelib.stats.figures import figures

MAX_WINDOW_DAYS = 92


def _day(text: str | None, default: datetime, field: str) -> datetime:
    if not text:
        return default
    try:
        return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a calendar date", field=field) from exc


def stats(identity, query) -> dict:
    env = current_env()
    directory = env.directory
    today = env.now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    start = _day(query.from_, today - timedelta(days=30), "from")
    end = _day(query.to, today, "to") + timedelta(days=1)
    if end <= start:
        raise InvalidInput("to is before from", field="to")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise InvalidInput(f"at most {MAX_WINDOW_DAYS} days; longer windows: the exports", field="from")
    scope = identity.scope
    if identity.role == "handler":
        if query.department and query.department != identity.department:
            raise NotFound("outside your department", field="department")
        partitions = [("department", identity.department)]
    elif query.department:
        dep = directory.department(query.department)
        if dep is None:
            raise InvalidInput(f"unknown department {query.department!r}", field="department")
        if not directory.covers(scope, dep.district):
            raise NotFound("outside your scope", field="department")
        partitions = [("department", query.department)]
    else:
        if query.district and directory.district(query.district) is None:
            raise InvalidInput(f"unknown district {query.district!r}", field="district")
        if query.district and not directory.covers(scope, query.district):
            raise NotFound("outside your scope", field="district")
        target = query.district or scope
        partitions = [("district", d.code) for d in directory.districts if directory.covers(target, d.code)]
    db.bound()
    lo, hi = repository.utc_key(iso(start)), repository.utc_key(iso(end))
    indexes = {"district": PetitionItem.by_district, "department": PetitionItem.by_department}
    rows = []
    for index, key in partitions:
        for item in indexes[index].query(key, PetitionItem.created_key.between(lo, hi)):
            p = repository.from_item(item)
            rows.append((present.petition(p, identity, env), repository.timeline(p.id)))
    result = figures(rows, env.calendar, env.now)
    return {"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat(), **result}
