"""What changed on a day, read without a Scan: the daily export's input.

Every change of a petition appends to its timeline in the same transaction (DESIGN invariant 1),
so the events of a day (the events table's sharded ``by_day`` index) name everything else that
changed that day:
- the day's events themselves (append-only: each lies in its own day's partition);
- the petitions they belong to (read by id, in batches: their state as of now);
- the notifications queued by the day's events, and those written or marked that day (a delivery
  is recorded on its outbox record, not the timeline: the outbox's ``by_day`` index names them);
- the day's violations, from the violations' ``by_district`` index over the day's key range.
Items read are counted per table (``read``): the export's cost is the day's changes, flat in the
size of the tables.

Records of no petition (a citizen's sign-in code, a mediation notice) are named by the outbox's
``by_day`` index like the others; their rows carry no message body or recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from chalicelib.clock import SHANGHAI, iso, utc_key

BATCH = 100


@dataclass
class DayChanges:
    rows: dict[str, list[Any]] = field(default_factory=dict)  # table → its changed items
    read: dict[str, int] = field(default_factory=dict)  # table → items read from DynamoDB


@dataclass
class ChangeReader:
    events_on: Callable[[str, str | None], Iterable[Any]]  # Shanghai day, since → events (by_day)
    petitions: Callable[[list[str]], Iterable[Any]]  # ids → petition items
    notifications: Callable[[list[str]], Iterable[Any]]  # ids → outbox items
    notifications_on: Callable[[str], Iterable[str]]  # Shanghai day → ids of records written that day
    violations: Callable[[str, str, str], Iterable[Any]]  # district, lo, hi (UTC keys) → violations
    districts: Callable[[], list[str]]

    def day(self, day: str, since: datetime | None = None) -> DayChanges:
        """What changed on ``day`` (Shanghai), from ``since`` on when it falls on that day."""
        out = DayChanges()
        start = datetime.combine(datetime.fromisoformat(day).date(), time(0), SHANGHAI)
        if since is not None and since <= start:
            since = None
        events = list(self.events_on(day, iso(since) if since is not None else None))
        out.rows["events"], out.read["events"] = events, len(events)
        petition_ids = sorted({e.petition_id for e in events})
        notification_ids: list[str] = sorted(
            {str((e.data or {})["notification"]) for e in events if (e.data or {}).get("notification")}
            | set(self.notifications_on(day))
        )
        out.rows["petitions"] = _batched(self.petitions, petition_ids)
        out.rows["notifications"] = _batched(self.notifications, notification_ids)
        lo = utc_key(iso(since or start))
        hi = utc_key(iso(start + timedelta(days=1)))
        violations = [v for d in self.districts() for v in self.violations(d, lo, hi) if utc_key(v.at) < hi]
        out.rows["violations"] = violations
        for name in ("petitions", "notifications", "violations"):
            out.read[name] = len(out.rows[name])
        return out


def _batched(get: Callable[[list[str]], Iterable[Any]], ids: list[str]) -> list[Any]:
    return [item for i in range(0, len(ids), BATCH) for item in get(ids[i : i + BATCH])]
