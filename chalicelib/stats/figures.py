"""Pure: the three rates and friends over a set of petitions and their timelines — the
reference the rollups (chalicelib/supervision/rollups.py) are tested against: both must give
the same figures for the same petitions. `/v1/stats` reads the rollups; this reads events.

Definitions (the README gives them in Chinese too), over petitions received in the window:
- received: petitions created in the window.
- closed: those whose status is closed now.
- overdue_open: open ones whose running stage the sweep has found overdue (its supervision
  notice, at the due time, has fired).
- on_time_dispatch_rate / on_time_accept_rate (响应率) / on_time_resolve_rate: stage completions
  (dispatched / accepted / resolved events) made by their due time ÷ all completions of that stage,
  where a stage still open and already overdue counts as a late completion.
- resolution_rate (解决率): closed and never reopened ÷ closed.
- satisfaction_rate (满意率): satisfied + basically satisfied ÷ rated (every rating counts).
- return_rate: petitions returned at least once ÷ petitions dispatched at least once.
- reopen_rate: petitions reopened at least once ÷ petitions ever closed (review approved).
- completion_rate (办结率): closed ÷ received; on_spot_rate (即办率): answered at the desk ÷ received.
- grid_resolution_rate (小事不出网格): received through the grid channel and resolved on the spot
  by the grid worker ÷ received through the grid channel.
- mean_working_days_to_close: working seconds from receipt to the first approval, summed over
  the closed ones, ÷ their number ÷ 86,400.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.clock import parse_instant
from chalicelib.petitions.domain import Petition
from chalicelib.petitions.machine import OPEN
from chalicelib.supervision.rollups import LATE_AS, STAGE_OF, is_overdue, result


class Tally:
    def __init__(self) -> None:
        self.c: defaultdict[str, int] = defaultdict(int)

    def add(self, p: Petition, events: list[dict], calendar) -> None:
        c = self.c
        c["received"] += 1
        types = [e["type"] for e in events]
        c["answered"] += 1 if "answered" in types else 0
        if p.channel == "grid":
            c["grid_received"] += 1
            c["grid_on_spot"] += 1 if "resolved_on_spot" in types else 0
        for e in events:
            completed = STAGE_OF.get(e["type"])
            if completed and "on_time" in e:
                c[f"{completed}_done"] += 1
                c[f"{completed}_on_time"] += 1 if e["on_time"] else 0
            if e["type"] == "feedback":
                c["rated"] += 1
                c["satisfied"] += 1 if e.get("rating") in ("satisfied", "basically_satisfied") else 0
        if is_overdue(p.status, p.stage, OPEN):
            assert p.stage is not None
            c["overdue_open"] += 1
            key = LATE_AS.get(p.stage.name, p.stage.name)
            c[f"{key}_done"] += 1  # open and late: a late completion already
        if p.status == "closed":
            c["closed"] += 1
            c["closed_not_reopened"] += 1 if "reopened" not in types else 0
        if "dispatched" in types:
            c["dispatched"] += 1
            c["returned"] += 1 if "returned" in types else 0
        if "review_approved" in types:
            c["ever_closed"] += 1
            c["reopened"] += 1 if "reopened" in types else 0
            approved = next(e for e in events if e["type"] == "review_approved")
            c["close_seconds"] += int(
                calendar.working_seconds_between(parse_instant(p.created_at), parse_instant(approved["at"]))
            )
            c["close_count"] += 1

    def result(self) -> dict:
        return result(self.c)


def figures(rows: list[tuple[Petition, list[dict]]], calendar) -> dict[str, Any]:
    """``rows`` are (petition, its timeline events)."""
    total = Tally()
    by_district: defaultdict[str, Tally] = defaultdict(Tally)
    by_department: defaultdict[str, Tally] = defaultdict(Tally)
    by_channel: defaultdict[str, Tally] = defaultdict(Tally)
    by_category: defaultdict[str, Tally] = defaultdict(Tally)
    for p, events in rows:
        total.add(p, events, calendar)
        by_district[p.district].add(p, events, calendar)
        by_channel[p.channel].add(p, events, calendar)
        by_category[p.category or "uncategorised"].add(p, events, calendar)
        if p.department:
            by_department[p.department].add(p, events, calendar)
    return {
        "total": total.result(),
        "by_district": {k: v.result() for k, v in sorted(by_district.items())},
        "by_department": {k: v.result() for k, v in sorted(by_department.items())},
        "by_channel": {k: v.result() for k, v in sorted(by_channel.items())},
        "by_category": {k: v.result() for k, v in sorted(by_category.items())},
    }
