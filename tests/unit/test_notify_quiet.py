"""Quiet hours: non-urgent citizen SMS wait from 22:00 until 08:00 Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.notify.quiet import deliver_at, is_quiet, zone

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SH)


def test_just_before_quiet_hours_goes_now():
    now = at(27, 21, 59, 59)
    assert deliver_at(now, urgent=False) == now


def test_start_of_quiet_hours_waits_until_next_morning():
    assert deliver_at(at(27, 22), urgent=False) == at(28, 8)


def test_late_evening_waits_until_next_morning():
    assert deliver_at(at(27, 23, 30), urgent=False) == at(28, 8)


def test_small_hours_wait_until_the_same_mornings_eight():
    assert deliver_at(at(28, 3), urgent=False) == at(28, 8)
    assert deliver_at(at(28, 0), urgent=False) == at(28, 8)
    assert deliver_at(at(28, 7, 59, 59), urgent=False) == at(28, 8)


def test_eight_oclock_goes_now():
    now = at(28, 8)
    assert deliver_at(now, urgent=False) == now


def test_urgent_goes_now_even_in_quiet_hours():
    now = at(27, 23)
    assert deliver_at(now, urgent=True) is now


def test_month_and_year_boundaries():
    assert deliver_at(datetime(2026, 12, 31, 22, 30, tzinfo=SH), urgent=False) == datetime(
        2027, 1, 1, 8, tzinfo=SH
    )
    assert deliver_at(datetime(2026, 11, 30, 23, tzinfo=SH), urgent=False) == datetime(
        2026, 12, 1, 8, tzinfo=SH
    )


def test_utc_input_converts_and_comes_back_in_utc():
    # 14:30 UTC is 22:30 in Shanghai: wait until 08:00 Shanghai = 00:00 UTC the next day.
    now = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    result = deliver_at(now, urgent=False)
    assert result == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)
    assert result.astimezone(SH) == at(28, 8)
    # 13:59 UTC is 21:59 in Shanghai: now. 00:00 UTC is 08:00 in Shanghai: now.
    assert deliver_at(datetime(2026, 11, 27, 13, 59, tzinfo=UTC), urgent=False).hour == 13
    midnight_utc = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert deliver_at(midnight_utc, urgent=False) == midnight_utc
    # 19:00 UTC is 03:00 in Shanghai the next day: 08:00 Shanghai is 00:00 UTC.
    assert deliver_at(datetime(2026, 11, 27, 19, 0, tzinfo=UTC), urgent=False) == midnight_utc


def test_other_fixed_offsets_are_converted_too():
    now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone(timedelta(hours=2)))  # 22:00 in Shanghai
    assert deliver_at(now, urgent=False) == at(28, 8)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        deliver_at(datetime(2026, 11, 27, 23, 0), urgent=False)


def test_custom_window_and_time_zone():
    # A window that does not wrap midnight.
    assert deliver_at(at(27, 12, 30), urgent=False, start=time(12), end=time(14)) == at(27, 14)
    assert deliver_at(at(27, 14), urgent=False, start=time(12), end=time(14)) == at(27, 14)
    # Equal start and end: no quiet hours at all.
    assert deliver_at(at(27, 23), urgent=False, start=time(8), end=time(8)) == at(27, 23)
    # Another zone, given as a name or as a tzinfo.
    utc_late = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    expected = datetime(2026, 11, 28, 8, tzinfo=UTC)
    assert deliver_at(utc_late, urgent=False, tz="UTC") == expected
    assert deliver_at(utc_late, urgent=False, tz=UTC) == expected


def test_is_quiet():
    assert not is_quiet(at(27, 21, 59))
    assert is_quiet(at(27, 22))
    assert is_quiet(at(28, 7, 59))
    assert not is_quiet(at(28, 8))


def test_zone_passes_tzinfo_through_and_resolves_names():
    assert zone(UTC) is UTC
    assert datetime(2026, 7, 1, tzinfo=zone("Asia/Shanghai")).utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("minute", range(0, 24 * 60, 7))
def test_result_is_never_earlier_than_now_and_never_in_quiet_hours(minute):
    now = at(27, 0) + timedelta(minutes=minute)
    result = deliver_at(now, urgent=False)
    assert result >= now
    assert not is_quiet(result)
    assert result - now <= timedelta(hours=10)
