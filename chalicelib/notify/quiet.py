"""Quiet hours for citizen SMS.

Non-urgent SMS to citizens are not sent between 22:00 and 08:00 local time
(Asia/Shanghai); they are deferred to the end of the quiet period, never
dropped. Urgent ones and anything outside the window go out now.

Pure: the caller passes ``now`` (an aware datetime from the clock).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)
DEFAULT_TZ = "Asia/Shanghai"

# China has kept UTC+8 without daylight saving since 1991: a safe fallback where
# the runtime has no tz database (and the tzdata package is not installed).
_FIXED_FALLBACK: dict[str, tzinfo] = {"Asia/Shanghai": timezone(timedelta(hours=8), "CST")}


@cache
def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name in _FIXED_FALLBACK:
            return _FIXED_FALLBACK[name]
        raise


def zone(tz: str | tzinfo) -> tzinfo:
    """A tzinfo from an IANA name (or a tzinfo passed through)."""
    return _named_zone(tz) if isinstance(tz, str) else tz


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


def is_quiet(
    now: datetime, start: time = QUIET_START, end: time = QUIET_END, tz: str | tzinfo = DEFAULT_TZ
) -> bool:
    """Whether ``now`` falls in the quiet window [start, end) in local time.

    The window may wrap midnight (22:00–08:00); ``start == end`` means no quiet hours.
    """
    _require_aware(now)
    local = now.astimezone(zone(tz)).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def deliver_at(
    now: datetime,
    urgent: bool,
    start: time = QUIET_START,
    end: time = QUIET_END,
    tz: str | tzinfo = DEFAULT_TZ,
) -> datetime:
    """When a citizen SMS composed at ``now`` may be sent.

    ``now`` itself when urgent or outside quiet hours; otherwise the next ``end``
    (08:00) local time, returned in ``now``'s own time zone (same instant).
    """
    _require_aware(now)
    if urgent or not is_quiet(now, start, end, tz):
        return now
    local_zone = zone(tz)
    local = now.astimezone(local_zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= end:  # evening part of a window that wraps midnight
        day += timedelta(days=1)
    release = datetime.combine(day, end, tzinfo=local_zone)
    return release.astimezone(now.tzinfo)
