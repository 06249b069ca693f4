"""The pure domain's environment, built from the stack: directory, policy, calendar, the instant."""

from __future__ import annotations

from chalicelib.clock import get_clock
from chalicelib.directory.store import get_directory
from chalicelib.petitions.domain import Env
from chalicelib.sla.calendars import current_calendar
from chalicelib.sla.policy import Policy


def current_env() -> Env:
    return Env(
        now=get_clock().now(),
        directory=get_directory(),
        policy=Policy.bundled(),
        calendar=current_calendar(),
    )
