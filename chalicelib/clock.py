"""The one clock every part of the stack reads.

AWS stages use the system clock. The local stage uses a movable clock that
ticks with real time from a start instant and can be moved forward (never
backwards) through ``POST /_local/clock`` so that SLA scenarios can be played
in seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ClockMovedBackwards(ValueError):
    pass


class MovableClock:
    """Real time plus an offset that only grows."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if start is not None:
            self._offset = start - self._real()

    @staticmethod
    def _real() -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._real() + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ClockMovedBackwards("the clock never moves backwards")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
            return self._real() + self._offset

    def set(self, instant: datetime) -> datetime:
        with self._lock:
            current = self._real() + self._offset
            if instant < current:
                raise ClockMovedBackwards("the clock never moves backwards")
            self._offset = instant - self._real()
            return instant


class FixedClock:
    """A clock that stands still unless moved: for unit tests."""

    def __init__(self, instant: datetime) -> None:
        self._now = instant

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


_clock: Clock | None = None


def get_clock() -> Clock:
    global _clock
    if _clock is None:
        from chalicelib.settings import get_settings

        settings = get_settings()
        if settings.is_local:
            start = parse_instant(settings.clock_start) if settings.clock_start else None
            _clock = MovableClock(start)
        else:
            _clock = SystemClock()
    return _clock


def wall_now() -> datetime:
    """Real time, for what belongs to people rather than to SLA scenarios: a sign-in session
    must not expire because a demo moved the stack's clock forward by a week."""
    return SystemClock().now()


def set_clock(clock: Clock | None) -> None:
    """Install a clock (tests, the local stack); ``None`` rebuilds it from settings."""
    global _clock
    _clock = clock


def parse_instant(text: str) -> datetime:
    """ISO-8601; a naive instant is read as Asia/Shanghai local time."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value


def iso(instant: datetime) -> str:
    """The wire format: Asia/Shanghai offset, second precision."""
    return instant.astimezone(SHANGHAI).isoformat(timespec="seconds")


def utc_key(instant_iso: str) -> str:
    """A sortable UTC key (``YYYY-MM-DDTHH:MM:SSZ``) for index range keys."""
    return parse_instant(instant_iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
