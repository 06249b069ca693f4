"""The working-day calendar (as data) and working-time arithmetic.

Which days are working days is decided by the State Council's yearly holiday
notice (国务院办公厅关于YYYY年部分节假日安排的通知): weekends and the listed
holidays are off, the listed make-up days (调休上班) are on. Each year's notice is
one JSON file under ``data/holidays/``; the exchange format is
``YearNotice.from_dict`` / ``YearNotice.to_dict``.

A year with no notice falls back to weekends-only, and every deadline whose
computation looked at such a day is marked ``provisional`` so callers can log it,
count it, and recompute once the notice is loaded (DESIGN invariant 5).

Counting (CONTRACT §5): N working days is N×86400 seconds of the time that lies
on working days, in Asia/Shanghai. ``add_working_seconds(start, n)`` is the
earliest instant ``t >= start`` with ``working_seconds_between(start, t) == n``,
hence Friday 10:00 + 1 day is Monday 10:00, Saturday 10:00 + 1 day is Tuesday
00:00, and a budget used up exactly at the end of a working day is due at that
midnight, not on the next working morning.

Asia/Shanghai has kept a fixed UTC+8 offset since 1991, so the arithmetic runs on
local wall-clock time, in which every day is exactly 86400 s long.

Pure code: no clock, no I/O beyond reading the bundled JSON files.

CLI: ``python -m chalicelib.timing.calendar check FILE.json`` validates a new
year's notice and prints what it changes compared with weekends-only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA_DIR = Path(__file__).resolve().parent / "data" / "holidays"

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(ValueError):
    """A holiday notice (or a set of them) is not valid."""


@dataclass(frozen=True)
class Deadline:
    """An instant in Asia/Shanghai; ``provisional`` when a day of a year without notice was consulted."""

    at: datetime
    provisional: bool


@dataclass(frozen=True)
class YearNotice:
    """One year's State Council holiday notice.

    ``holidays``: every day of each holiday period as listed in the notice (weekend
    days included); ``workdays``: the make-up working days, always a Saturday or
    Sunday. Every date belongs to ``year``.
    """

    year: int
    source: str
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> YearNotice:
        """Validate and build; raises ``CalendarError`` naming the offending field.

        Keys starting with ``_`` are comments and are ignored; any other unknown key
        is an error (a misspelt ``workday`` must not silently mean "no make-up days").
        """
        if not isinstance(d, Mapping):
            raise CalendarError(f"a notice must be a JSON object, got {type(d).__name__}")
        unknown = sorted(k for k in d if not (isinstance(k, str) and k.startswith("_")) and k not in _KEYS)
        if unknown:
            raise CalendarError(f"unknown key(s) {unknown}; expected {sorted(_KEYS)}")
        missing = sorted(k for k in _KEYS if k not in d)
        if missing:
            raise CalendarError(f"missing key(s) {missing}")
        year = d["year"]
        if not isinstance(year, int) or isinstance(year, bool) or not 1992 <= year <= 9998:
            raise CalendarError(f"year: expected an integer year from 1992 on, got {year!r}")
        source = d["source"]
        if not isinstance(source, str) or not source.strip():
            raise CalendarError("source: expected the title of the notice, got an empty value")
        holidays = _parse_days(d["holidays"], "holidays", year)
        workdays = _parse_days(d["workdays"], "workdays", year)
        both = sorted(set(holidays) & set(workdays))
        if both:
            raise CalendarError(
                f"{both[0].isoformat()} is listed both as a holiday and as a make-up working day"
            )
        for day in sorted(workdays):
            if day.weekday() < 5:
                raise CalendarError(
                    f"workdays.{day.isoformat()}: {day.isoformat()} is a {_WEEKDAY_NAMES[day.weekday()]}; "
                    "a make-up working day (调休上班) must fall on a Saturday or Sunday"
                )
        return cls(year=year, source=source, holidays=holidays, workdays=workdays)

    def to_dict(self) -> dict[str, Any]:
        """The exchange format (JSON-ready, dates sorted)."""
        return {
            "year": self.year,
            "source": self.source,
            "holidays": {d.isoformat(): self.holidays[d] for d in sorted(self.holidays)},
            "workdays": {d.isoformat(): self.workdays[d] for d in sorted(self.workdays)},
        }


_KEYS = frozenset({"year", "source", "holidays", "workdays"})


def _parse_days(raw: Any, what: str, year: int) -> dict[date, str]:
    if not isinstance(raw, Mapping):
        raise CalendarError(
            f"{what}: expected an object mapping ISO dates to names, got {type(raw).__name__}"
        )
    days: dict[date, str] = {}
    for key, name in raw.items():
        if not isinstance(key, str) or not _ISO_DATE.match(key):
            raise CalendarError(f"{what}: {key!r} is not an ISO date (YYYY-MM-DD)")
        try:
            day = date.fromisoformat(key)
        except ValueError as exc:
            raise CalendarError(f"{what}: {key!r} is not a valid date ({exc})") from None
        if day.year != year:
            raise CalendarError(
                f"{what}.{key}: belongs to {day.year}, not {year}; each file holds one calendar year "
                f"(put late-December days of next year's holiday into the {day.year} file)"
            )
        if not isinstance(name, str) or not name.strip():
            raise CalendarError(f"{what}.{key}: expected the holiday's name, got {name!r}")
        days[day] = name
    return days


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise CalendarError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def load_notice_file(path: str | Path) -> YearNotice:
    """Read and validate one notice file; errors are prefixed with the file name."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicate_keys)
        return YearNotice.from_dict(raw)
    except CalendarError as exc:
        raise CalendarError(f"{path.name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CalendarError(f"{path.name}: not valid JSON ({exc})") from None


def _local(instant: datetime) -> datetime:
    """Naive Asia/Shanghai wall-clock time of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {instant.isoformat()}")
    return instant.astimezone(SHANGHAI).replace(tzinfo=None)


def _check_seconds(seconds: int) -> None:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise TypeError(f"seconds must be an int, got {type(seconds).__name__}")
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds}")


class WorkingCalendar:
    """Working days from a set of ``YearNotice``; weekends-only for years without one. Immutable."""

    def __init__(self, notices: Iterable[YearNotice] = ()) -> None:
        by_year: dict[int, YearNotice] = {}
        for notice in notices:
            if notice.year in by_year:
                raise CalendarError(f"two notices for {notice.year}")
            by_year[notice.year] = notice
        self._notices = by_year
        self._off = frozenset(d for n in by_year.values() for d in n.holidays)
        self._on = frozenset(d for n in by_year.values() for d in n.workdays)

    @classmethod
    def bundled(cls) -> WorkingCalendar:
        """The calendar of the shipped notice files (read once per process)."""
        return _bundled()

    def with_notice(self, notice: YearNotice) -> WorkingCalendar:
        """A new calendar with ``notice``'s year added, or replaced if already known."""
        others = [n for y, n in self._notices.items() if y != notice.year]
        return WorkingCalendar([*others, notice])

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._notices))

    def has_year(self, year: int) -> bool:
        return year in self._notices

    def notice(self, year: int) -> YearNotice | None:
        return self._notices.get(year)

    def is_working_day(self, d: date) -> bool:
        if d in self._on:
            return True
        if d in self._off:
            return False
        return d.weekday() < 5

    def __repr__(self) -> str:
        years = self.years
        span = f"{years[0]}..{years[-1]}" if years else "none"
        return f"WorkingCalendar(years={span}, count={len(years)})"

    # --- arithmetic -------------------------------------------------------------------------------

    def add_working_seconds(self, start: datetime, seconds: int) -> Deadline:
        """The earliest instant at which ``seconds`` of working-day time have elapsed since ``start``.

        Walks day by day (a budget is a few days), never second by second.
        ``seconds == 0`` returns ``start`` itself (converted to Asia/Shanghai).
        """
        _check_seconds(seconds)
        cur = _local(start)
        remaining = timedelta(seconds=seconds)
        provisional = False
        while remaining:
            day = cur.date()
            if day.year not in self._notices:
                provisional = True
            next_midnight = datetime.combine(day + _DAY, datetime.min.time())
            if self.is_working_day(day):
                available = next_midnight - cur
                if remaining <= available:
                    cur += remaining
                    break
                remaining -= available
            cur = next_midnight
        return Deadline(cur.replace(tzinfo=SHANGHAI), provisional)

    def working_seconds_between(self, a: datetime, b: datetime) -> int:
        """Whole seconds of working-day time in ``[a, b)``; 0 if ``b <= a``."""
        cur, end = _local(a), _local(b)
        total = timedelta(0)
        while cur < end:
            day = cur.date()
            next_midnight = datetime.combine(day + _DAY, datetime.min.time())
            stop = min(next_midnight, end)
            if self.is_working_day(day):
                total += stop - cur
            cur = stop
        return total // _SECOND

    def add_calendar_seconds(self, start: datetime, seconds: int) -> Deadline:
        """Plain elapsed time (urgent petitions); never provisional."""
        _check_seconds(seconds)
        return Deadline((_local(start) + timedelta(seconds=seconds)).replace(tzinfo=SHANGHAI), False)

    @staticmethod
    def calendar_seconds_between(a: datetime, b: datetime) -> int:
        """Whole seconds of elapsed time in ``[a, b)``; 0 if ``b <= a``."""
        if b <= a:
            return 0
        return (b - a) // _SECOND


@cache
def _bundled() -> WorkingCalendar:
    notices = []
    for path in sorted(DATA_DIR.glob("*.json")):
        notice = load_notice_file(path)
        if path.stem != str(notice.year):
            raise CalendarError(
                f"{path.name}: holds year {notice.year}; the file must be named {notice.year}.json"
            )
        notices.append(notice)
    return WorkingCalendar(notices)


# --- CLI --------------------------------------------------------------------------------------------


def _periods(days: Mapping[date, str]) -> list[tuple[str, date, date]]:
    """Runs of consecutive dates with the same name."""
    runs: list[tuple[str, date, date]] = []
    for day in sorted(days):
        name = days[day]
        if runs and runs[-1][0] == name and runs[-1][2] + _DAY == day:
            runs[-1] = (name, runs[-1][1], day)
        else:
            runs.append((name, day, day))
    return runs


def summarize(notice: YearNotice, known: WorkingCalendar | None = None) -> str:
    """A human summary of a notice: what it changes compared with weekends-only (and a known notice)."""
    year = notice.year
    first, last = date(year, 1, 1), date(year, 12, 31)
    all_days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weekdays = sum(1 for d in all_days if d.weekday() < 5)
    with_notice = WorkingCalendar([notice])
    working = sum(1 for d in all_days if with_notice.is_working_day(d))
    off_weekdays = sorted(d for d in notice.holidays if d.weekday() < 5)
    off_weekend = len(notice.holidays) - len(off_weekdays)
    lines = [
        f"{year}: {notice.source}",
        f"  holidays: {len(notice.holidays)} days "
        f"({len(off_weekdays)} on weekdays, {off_weekend} on weekends)",
        f"  make-up working days: {len(notice.workdays)}",
        f"  working days: {working} (weekends-only: {weekdays}; "
        f"-{len(off_weekdays)} holiday weekdays, +{len(notice.workdays)} make-up days)",
    ]
    for name, start, end in _periods(notice.holidays):
        span = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
        lines.append(f"  off {span}  {name}")
    for day in sorted(notice.workdays):
        lines.append(f"  on  {day.isoformat()} ({_WEEKDAY_NAMES[day.weekday()]})  {notice.workdays[day]}")
    if known is not None and known.has_year(year):
        old = known.notice(year)
        assert old is not None
        changed = sorted(d for d in all_days if known.is_working_day(d) != with_notice.is_working_day(d))
        if changed:
            lines.append(
                f"  replaces the bundled {year} notice; working-day status changes on: "
                + ", ".join(d.isoformat() for d in changed)
            )
        else:
            lines.append(f"  same working days as the bundled {year} notice")
    elif known is not None:
        lines.append(
            f"  {year} is not bundled: deadlines in {year} are provisional until this notice is loaded"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.timing.calendar", description="Working-day calendar tools"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a year's notice file and summarise it")
    check.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    try:
        notice = load_notice_file(args.file)
    except (CalendarError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        known: WorkingCalendar | None = WorkingCalendar.bundled()
    except CalendarError as exc:  # a broken bundle must not hide the check of the new file
        print(f"warning: bundled calendar not loaded: {exc}", file=sys.stderr)
        known = None
    print(summarize(notice, known))
    return 0


if __name__ == "__main__":
    sys.exit(main())
