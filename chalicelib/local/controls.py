"""The local-only controls of CONTRACT §2: clock, sweep, outbox, tokens."""

from __future__ import annotations

from chalicelib.auth import issue_local_token
from chalicelib.clock import Clock, ClockMovedBackwards, MovableClock, iso, parse_instant, wall_now
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.local import journal
from chalicelib.settings import Settings


def clock_now(clock: Clock) -> dict:
    return {"now": iso(clock.now())}


def move_clock(clock: Clock, advance_seconds: int | None, set_to: str | None) -> dict:
    if not isinstance(clock, MovableClock):
        raise NotFound("the clock is not movable on this stage")
    if (advance_seconds is None) == (set_to is None):
        raise InvalidInput("give exactly one of advance_seconds or set", field="advance_seconds")
    try:
        if advance_seconds is not None:
            clock.advance(advance_seconds)
        else:
            try:
                instant = parse_instant(set_to or "")
            except ValueError as exc:
                raise InvalidInput("set must be an ISO-8601 instant", field="set") from exc
            if instant.year > 2099:
                raise InvalidInput("set must be before 2100", field="set")
            clock.set(instant)
    except ClockMovedBackwards as exc:
        raise Conflict(str(exc), field="set") from exc
    return clock_now(clock)


def token_for(user: str, directory, settings: Settings) -> dict:
    found = directory.user(user)
    if found is None:
        raise NotFound(f"no seeded operator named {user!r}", field="user")
    token = issue_local_token(found.username, settings.token_secret, wall_now())
    return {"token": token, "user": found.username, "role": found.role}


def outbox(to: str | None) -> list[dict]:
    return journal.entries(to)
