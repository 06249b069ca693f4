"""The SLA sweep: fires reminders, supervision notices and escalations that have come due."""

from __future__ import annotations

from datetime import datetime

from chalicelib.clock import iso


def run_sweep(now: datetime) -> dict:
    fired: list[dict] = []
    return {"now": iso(now), "fired": fired, "summary": {"fired": len(fired)}}
