"""Pure: the three rates and friends over a set of petitions and their timelines.

Definitions (the README gives them in Chinese too), over petitions received in the window:
- received: petitions created in the window.
- closed: those whose status is closed now.
- overdue_open: open ones whose current stage is running past its due time.
- on_time_dispatch_rate / on_time_accept_rate (响应率) / on_time_resolve_rate: stage completions
  (dispatched / accepted / resolved events) made by their due time ÷ all completions of that stage,
  where a stage still open and already overdue counts as a late completion.
- resolution_rate (解决率): closed and never reopened ÷ closed.
- satisfaction_rate (满意率): satisfied + basically satisfied ÷ rated (every rating counts).
- return_rate: petitions returned at least once ÷ petitions dispatched at least once.
- reopen_rate: petitions reopened at least once ÷ petitions ever closed (review approved).
- mean_working_days_to_close: mean working days from receipt to the first approval, over closed ones.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from chalicelib.clock import parse_instant
from chalicelib.petitions.machine import OPEN

# An on-the-spot answer (即办) completes the dispatch stage, as a dispatch does.
STAGE_OF = {"dispatched": "dispatch", "answered": "dispatch", "accepted": "accept", "resolved": "resolve"}


def rate(numerator: int, denominator: int) -> dict:
    return {
        "value": round(numerator / denominator, 4) if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }


class Tally:
    def __init__(self) -> None:
        self.received = 0
        self.closed = 0
        self.overdue_open = 0
        self.on_time: defaultdict[str, int] = defaultdict(int)
        self.completed: defaultdict[str, int] = defaultdict(int)
        self.closed_not_reopened = 0
        self.rated = 0
        self.satisfied = 0
        self.dispatched = 0
        self.returned = 0
        self.ever_closed = 0
        self.reopened = 0
        self.answered = 0
        self.close_days: list[float] = []

    def add(self, p: dict, events: list[dict], calendar, now: datetime) -> None:
        self.received += 1
        types = [e["type"] for e in events]
        self.answered += 1 if "answered" in types else 0
        for e in events:
            completed = STAGE_OF.get(e["type"])
            if completed and "on_time" in e:
                self.completed[completed] += 1
                self.on_time[completed] += 1 if e["on_time"] else 0
            if e["type"] == "feedback":
                self.rated += 1
                self.satisfied += 1 if e.get("rating") in ("satisfied", "basically_satisfied") else 0
        stage = p.get("stage") or {}
        overdue = (
            p["status"] in OPEN
            and stage.get("running")
            and stage.get("due_at")
            and parse_instant(stage["due_at"]) < now
        )
        if overdue:
            self.overdue_open += 1
            key = {"reopen": "resolve"}.get(stage["name"], stage["name"])
            self.completed[key] += 1  # open and late: a late completion already
        if p["status"] == "closed":
            self.closed += 1
            self.closed_not_reopened += 1 if "reopened" not in types else 0
        if "dispatched" in types:
            self.dispatched += 1
            self.returned += 1 if "returned" in types else 0
        if "review_approved" in types:
            self.ever_closed += 1
            self.reopened += 1 if "reopened" in types else 0
            approved = next(e for e in events if e["type"] == "review_approved")
            seconds = calendar.working_seconds_between(
                parse_instant(p["created_at"]), parse_instant(approved["at"])
            )
            self.close_days.append(seconds / 86400)

    def result(self) -> dict:
        def stage_rate(stage: str) -> dict:
            return rate(self.on_time[stage], self.completed[stage])

        return {
            "received": self.received,
            "closed": self.closed,
            "overdue_open": self.overdue_open,
            "on_time_dispatch_rate": stage_rate("dispatch"),
            "on_time_accept_rate": stage_rate("accept"),
            "on_time_resolve_rate": stage_rate("resolve"),
            "resolution_rate": rate(self.closed_not_reopened, self.closed),
            "satisfaction_rate": rate(self.satisfied, self.rated),
            "return_rate": rate(self.returned, self.dispatched),
            "reopen_rate": rate(self.reopened, self.ever_closed),
            "completion_rate": rate(self.closed, self.received),  # 办结率
            "on_spot_rate": rate(self.answered, self.received),  # 即办率: answered at the desk
            "mean_working_days_to_close": (
                round(sum(self.close_days) / len(self.close_days), 2) if self.close_days else None
            ),
        }


def figures(rows: list[tuple[dict, list[dict]]], calendar, now: datetime) -> dict:
    """``rows`` are (petition as on the wire, its timeline events)."""
    total = Tally()
    by_district: defaultdict[str, Tally] = defaultdict(Tally)
    by_department: defaultdict[str, Tally] = defaultdict(Tally)
    by_channel: defaultdict[str, Tally] = defaultdict(Tally)
    by_category: defaultdict[str, Tally] = defaultdict(Tally)
    for p, events in rows:
        total.add(p, events, calendar, now)
        by_district[p["district"]].add(p, events, calendar, now)
        by_channel[p["channel"]].add(p, events, calendar, now)
        by_category[p.get("category") or "uncategorised"].add(p, events, calendar, now)
        if p.get("department"):
            by_department[p["department"]].add(p, events, calendar, now)
    return {
        "total": total.result(),
        "by_district": {k: v.result() for k, v in sorted(by_district.items())},
        "by_department": {k: v.result() for k, v in sorted(by_department.items())},
        "by_channel": {k: v.result() for k, v in sorted(by_channel.items())},
        "by_category": {k: v.result() for k, v in sorted(by_category.items())},
    }
