"""The working-day calendar: bundled data, worked examples, validation, CLI, and properties."""

from __future__ import annotations

import re
import subprocess
import sys
import time as _time
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.timing import calendar as calendar_module
from chalicelib.timing.calendar import (
    CalendarError,
    Deadline,
    WorkingCalendar,
    YearNotice,
    load_notice_file,
)

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400
ROOT = Path(__file__).resolve().parents[2]


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.bundled()


def hypothetical_2027() -> YearNotice:
    """A test fixture, not the real 2027 notice: New Year 2027-01-01..03 off."""
    return YearNotice.from_dict(
        {
            "year": 2027,
            "source": "test fixture (hypothetical 2027 notice)",
            "holidays": {"2027-01-01": "元旦", "2027-01-02": "元旦", "2027-01-03": "元旦"},
            "workdays": {},
        }
    )


# --- the bundled data ---------------------------------------------------------------------------------


def test_bundled_years_are_2004_to_2026(cal: WorkingCalendar) -> None:
    assert cal.years == tuple(range(2004, 2027))
    assert cal.has_year(2026)
    assert not cal.has_year(2027)


def test_bundled_2026_matches_the_state_council_notice(cal: WorkingCalendar) -> None:
    # 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
    notice = cal.notice(2026)
    assert notice is not None
    assert notice.source == "国务院办公厅关于2026年部分节假日安排的通知"

    def span(a: date, b: date) -> set[date]:
        return {a + timedelta(days=i) for i in range((b - a).days + 1)}

    expected_off = (
        span(date(2026, 1, 1), date(2026, 1, 3))
        | span(date(2026, 2, 15), date(2026, 2, 23))
        | span(date(2026, 4, 4), date(2026, 4, 6))
        | span(date(2026, 5, 1), date(2026, 5, 5))
        | span(date(2026, 6, 19), date(2026, 6, 21))
        | span(date(2026, 9, 25), date(2026, 9, 27))
        | span(date(2026, 10, 1), date(2026, 10, 7))
    )
    assert set(notice.holidays) == expected_off
    assert set(notice.workdays) == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert notice.holidays[date(2026, 2, 15)] == "春节"
    assert notice.workdays[date(2026, 2, 14)] == "春节调休"
    # Mid-Autumn 2026 is its own holiday (09-25..27), not merged with National Day.
    assert notice.holidays[date(2026, 9, 25)] == "中秋节"
    assert notice.holidays[date(2026, 10, 1)] == "国庆节"


def test_bundled_files_round_trip_through_the_exchange_format() -> None:
    for path in sorted((ROOT / "chalicelib/timing/data/holidays").glob("*.json")):
        notice = load_notice_file(path)
        assert path.stem == str(notice.year)
        assert YearNotice.from_dict(notice.to_dict()) == notice


def test_cross_year_new_year_days_are_filed_under_their_own_year(cal: WorkingCalendar) -> None:
    # The 2024 New Year holiday began on Saturday 2023-12-30 (from the 2024 notice).
    assert not cal.is_working_day(date(2023, 12, 30))
    assert not cal.is_working_day(date(2023, 12, 31))
    notice = cal.notice(2023)
    assert notice is not None and "2024年" in notice.source


def test_errata_weekend_days_inside_listed_ranges_are_present(cal: WorkingCalendar) -> None:
    # chinesecalendar 1.11.0 leaves these weekend days out of ranges the notices list.
    for day in (date(2011, 6, 5), date(2012, 6, 23), date(2015, 9, 5)):
        notice = cal.notice(day.year)
        assert notice is not None and day in notice.holidays


def test_converter_output_is_up_to_date() -> None:
    pytest.importorskip("chinese_calendar")
    from tools.convert_chinesecalendar import main

    assert main(["--check"]) == 0


def test_runtime_import_does_not_pull_in_chinesecalendar() -> None:
    code = (
        "import sys; from chalicelib.timing.calendar import WorkingCalendar; "
        "from chalicelib.timing.policy import Policy; WorkingCalendar.bundled(); Policy.bundled(); "
        "assert 'chinese_calendar' not in sys.modules, 'chinese_calendar imported'; "
        "assert not any(m == 'boto3' or m.startswith('chalice') and not m.startswith('chalicelib') "
        "for m in sys.modules), 'adapter imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("module", ["calendar.py", "policy.py", "stage.py"])
def test_domain_code_reads_no_clock_and_no_environment(module: str) -> None:
    source = (ROOT / "chalicelib/timing" / module).read_text(encoding="utf-8")
    for forbidden in (
        r"\.now\(",
        r"\butcnow\(",
        r"time\.time\(",
        r"\bos\.environ",
        r"\bimport boto3",
        r"\bfrom chalice\b",
        r"\bimport chalice\b",
        r"\bdate\.today\(",
    ):
        assert not re.search(forbidden, source), forbidden


# --- is_working_day -------------------------------------------------------------------------------------


def test_is_working_day_follows_the_notice(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 9, 30))  # Wednesday
    assert not cal.is_working_day(date(2026, 10, 1))  # 国庆节, a Thursday
    assert cal.is_working_day(date(2026, 10, 10))  # make-up Saturday
    assert not cal.is_working_day(date(2026, 11, 21))  # ordinary Saturday


def test_year_without_notice_is_weekends_only(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2027, 1, 1))  # really New Year's Day, but not known yet
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.with_notice(hypothetical_2027()).is_working_day(date(2027, 1, 1)) is False


# --- worked examples ------------------------------------------------------------------------------------


def test_friday_10_plus_one_working_day_is_monday_10(cal: WorkingCalendar) -> None:
    assert cal.add_working_seconds(sh(2026, 11, 20, 10), DAY) == Deadline(sh(2026, 11, 23, 10), False)


def test_saturday_10_plus_one_working_day_is_tuesday_midnight(cal: WorkingCalendar) -> None:
    assert cal.add_working_seconds(sh(2026, 11, 21, 10), DAY) == Deadline(sh(2026, 11, 24, 0), False)


def test_budget_ending_at_midnight_is_due_at_that_midnight(cal: WorkingCalendar) -> None:
    # Thursday 00:00 + 2 working days: due Saturday 00:00, not Monday morning.
    assert cal.add_working_seconds(sh(2026, 11, 19, 0), 2 * DAY).at == sh(2026, 11, 21, 0)
    assert cal.add_working_seconds(sh(2026, 11, 20, 0), DAY).at == sh(2026, 11, 21, 0)
    # One second more and it spills over the weekend.
    assert cal.add_working_seconds(sh(2026, 11, 20, 0), DAY + 1).at == sh(2026, 11, 23, 0, 0, 1)


def test_exact_to_the_second(cal: WorkingCalendar) -> None:
    start = sh(2026, 11, 20, 23, 59, 59)
    assert cal.add_working_seconds(start, 1).at == sh(2026, 11, 21, 0)
    assert cal.add_working_seconds(start, 2).at == sh(2026, 11, 23, 0, 0, 1)
    assert cal.working_seconds_between(start, sh(2026, 11, 23, 0, 0, 1)) == 2


def test_national_day_2026_one_and_seven_working_days(cal: WorkingCalendar) -> None:
    # Received Wed 2026-09-30 15:00; 10-01..10-07 off; Sat 10-10 is a make-up working day.
    start = sh(2026, 9, 30, 15)
    assert [cal.is_working_day(date(2026, 10, d)) for d in range(1, 12)] == [
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    # 9 h on 09-30, then 15 h on Thu 10-08.
    assert cal.add_working_seconds(start, DAY) == Deadline(sh(2026, 10, 8, 15), False)
    # 9 h + 10-08, 10-09, 10-10 (Sat, make-up), 10-12, 10-13, 10-14 + 15 h of Thu 10-15.
    assert cal.add_working_seconds(start, 7 * DAY) == Deadline(sh(2026, 10, 15, 15), False)


def test_spring_festival_2026(cal: WorkingCalendar) -> None:
    # 02-15..02-23 off; Sat 02-14 and Sat 02-28 are make-up working days.
    assert cal.is_working_day(date(2026, 2, 14)) and cal.is_working_day(date(2026, 2, 28))
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    friday = sh(2026, 2, 13, 10)
    # 14 h on Friday, the remaining 10 h on the make-up Saturday.
    assert cal.add_working_seconds(friday, DAY) == Deadline(sh(2026, 2, 14, 10), False)
    # Fri, Sat 14, Tue 24 .. Fri 27, Sat 28, then 10 h of Mon 03-02.
    assert cal.add_working_seconds(friday, 7 * DAY) == Deadline(sh(2026, 3, 2, 10), False)
    # Received on the make-up Saturday: 14 h that day, then nothing until Tue 02-24.
    assert cal.add_working_seconds(sh(2026, 2, 14, 10), DAY) == Deadline(sh(2026, 2, 24, 10), False)
    assert cal.working_seconds_between(friday, sh(2026, 3, 2, 10)) == 7 * DAY


def test_urgent_counts_calendar_time_across_a_weekend(cal: WorkingCalendar) -> None:
    friday = sh(2026, 11, 20, 23, 50)
    assert cal.add_calendar_seconds(friday, 1800) == Deadline(sh(2026, 11, 21, 0, 20), False)
    assert cal.add_calendar_seconds(friday, DAY) == Deadline(sh(2026, 11, 21, 23, 50), False)
    assert cal.calendar_seconds_between(friday, sh(2026, 11, 21, 23, 50)) == DAY


def test_deadline_inside_2026_is_not_provisional(cal: WorkingCalendar) -> None:
    assert cal.add_working_seconds(sh(2026, 12, 1, 9), 7 * DAY).provisional is False
    # Landing exactly on 2027-01-01 00:00 consults no 2027 day.
    assert cal.add_working_seconds(sh(2026, 12, 30, 0), 2 * DAY) == Deadline(sh(2027, 1, 1, 0), False)


def test_year_without_data_falls_back_to_weekends_and_is_provisional(cal: WorkingCalendar) -> None:
    # Thu 2026-12-31 10:00: 14 h left in 2026, then Fri 2027-01-01 counts as a working day (fallback).
    assert cal.add_working_seconds(sh(2026, 12, 31, 10), DAY) == Deadline(sh(2027, 1, 1, 10), True)
    assert cal.add_working_seconds(sh(2027, 3, 5, 10), DAY) == Deadline(sh(2027, 3, 8, 10), True)


def test_loading_the_2027_notice_makes_deadlines_final(cal: WorkingCalendar) -> None:
    updated = cal.with_notice(hypothetical_2027())
    assert updated.has_year(2027) and not cal.has_year(2027)  # the original is unchanged
    assert updated.add_working_seconds(sh(2026, 12, 31, 10), DAY) == Deadline(sh(2027, 1, 4, 10), False)
    assert updated.add_working_seconds(sh(2027, 3, 5, 10), DAY) == Deadline(sh(2027, 3, 8, 10), False)


def test_with_notice_replaces_a_known_year(cal: WorkingCalendar) -> None:
    bare = YearNotice.from_dict({"year": 2026, "source": "test: no holidays", "holidays": {}, "workdays": {}})
    replaced = cal.with_notice(bare)
    assert replaced.is_working_day(date(2026, 10, 1))
    assert not replaced.is_working_day(date(2026, 10, 10))
    assert replaced.years == cal.years
    assert not cal.is_working_day(date(2026, 10, 1))


def test_accepts_any_timezone_and_returns_shanghai(cal: WorkingCalendar) -> None:
    utc_start = datetime(2026, 11, 20, 2, tzinfo=UTC)  # = Fri 10:00 in Shanghai
    deadline = cal.add_working_seconds(utc_start, DAY)
    assert deadline.at == sh(2026, 11, 23, 10)
    assert deadline.at.tzinfo == SH
    assert cal.add_calendar_seconds(utc_start, 60).at.tzinfo == SH


def test_zero_seconds_is_the_start_itself_even_on_a_weekend(cal: WorkingCalendar) -> None:
    saturday = sh(2026, 11, 21, 10)
    assert cal.add_working_seconds(saturday, 0) == Deadline(saturday, False)


def test_working_seconds_between_examples(cal: WorkingCalendar) -> None:
    assert cal.working_seconds_between(sh(2026, 11, 20, 10), sh(2026, 11, 23, 10)) == DAY
    assert cal.working_seconds_between(sh(2026, 11, 21, 10), sh(2026, 11, 22, 23)) == 0
    assert cal.working_seconds_between(sh(2026, 11, 23, 10), sh(2026, 11, 20, 10)) == 0
    assert cal.working_seconds_between(sh(2026, 9, 30, 15), sh(2026, 10, 8, 15)) == DAY


def test_rejects_naive_datetimes_and_negative_seconds(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        cal.add_working_seconds(datetime(2026, 11, 20, 10), DAY)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_seconds(sh(2026, 11, 20, 10), -1)
    with pytest.raises(TypeError):
        cal.add_working_seconds(sh(2026, 11, 20, 10), 1.5)  # type: ignore[arg-type]


def test_ten_thousand_seven_day_deadlines_are_cheap(cal: WorkingCalendar) -> None:
    # Sanity bound only (a per-second loop would take hours); the real figure is ~0.1 s.
    start = sh(2026, 9, 28, 9)
    t0 = _time.perf_counter()
    for i in range(10_000):
        cal.add_working_seconds(start + timedelta(minutes=i), 7 * DAY)
    assert _time.perf_counter() - t0 < 5


# --- validation -----------------------------------------------------------------------------------------


def notice_dict(**changes: object) -> dict[str, object]:
    d: dict[str, object] = {
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": {"2027-01-01": "元旦"},
        "workdays": {"2027-02-06": "春节调休"},
    }
    d.update(changes)
    return d


def test_valid_notice_round_trips() -> None:
    notice = YearNotice.from_dict(notice_dict(_comment="ignored"))
    assert notice.holidays == {date(2027, 1, 1): "元旦"}
    assert notice.workdays == {date(2027, 2, 6): "春节调休"}
    assert notice.to_dict() == notice_dict()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"holidays": {"2026-12-31": "元旦"}}, r"holidays\.2026-12-31: belongs to 2026, not 2027"),
        ({"holidays": {"2027-02-06": "春节"}}, r"2027-02-06 is listed both as a holiday and as a make-up"),
        ({"workdays": {"2027-02-08": "春节调休"}}, r"workdays\.2027-02-08: 2027-02-08 is a Monday"),
        ({"holidays": {"2027-1-1": "元旦"}}, r"'2027-1-1' is not an ISO date"),
        ({"holidays": {"20270101": "元旦"}}, r"'20270101' is not an ISO date"),
        ({"holidays": {"2027-02-30": "春节"}}, r"'2027-02-30' is not a valid date"),
        ({"holidays": {"2027-01-01": ""}}, r"holidays\.2027-01-01: expected the holiday's name"),
        ({"holidays": ["2027-01-01"]}, r"holidays: expected an object"),
        ({"year": "2027"}, r"year: expected an integer year"),
        ({"year": True}, r"year: expected an integer year"),
        ({"source": " "}, r"source: expected the title"),
        ({"workday": {}}, r"unknown key\(s\) \['workday'\]"),
    ],
)
def test_invalid_notices_are_rejected_with_a_clear_message(changes: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        YearNotice.from_dict(notice_dict(**changes))


def test_missing_keys_are_named() -> None:
    d = notice_dict()
    del d["workdays"]
    with pytest.raises(CalendarError, match=r"missing key\(s\) \['workdays'\]"):
        YearNotice.from_dict(d)


def test_two_notices_for_one_year_are_rejected() -> None:
    with pytest.raises(CalendarError, match="two notices for 2027"):
        WorkingCalendar([hypothetical_2027(), hypothetical_2027()])


def test_load_notice_file_rejects_duplicate_dates(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text(
        '{"year": 2027, "source": "s", "holidays": {"2027-01-01": "元旦", "2027-01-01": "x"},'
        ' "workdays": {}}',
        encoding="utf-8",
    )
    with pytest.raises(CalendarError, match=r"2027\.json: duplicate key '2027-01-01'"):
        load_notice_file(path)


# --- CLI --------------------------------------------------------------------------------------------------


def test_cli_check_summarises_a_valid_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = tmp_path / "2027.json"
    path.write_text(json.dumps(hypothetical_2027().to_dict(), ensure_ascii=False), encoding="utf-8")
    assert calendar_module.main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "holidays: 3 days (1 on weekdays, 2 on weekends)" in out
    assert "make-up working days: 0" in out
    assert "working days: 260 (weekends-only: 261; -1 holiday weekdays, +0 make-up days)" in out
    assert "2027 is not bundled" in out


def test_cli_check_fails_with_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '{"year": 2027, "source": "s", "holidays": {}, "workdays": {"2027-02-08": "x"}}', encoding="utf-8"
    )
    assert calendar_module.main(["check", str(path)]) == 1
    assert "bad.json: workdays.2027-02-08: 2027-02-08 is a Monday" in capsys.readouterr().err


def test_cli_runs_as_a_module() -> None:
    path = ROOT / "chalicelib/timing/data/holidays/2026.json"
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.timing.calendar", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "working days: 248 (weekends-only: 261; -19 holiday weekdays, +6 make-up days)" in result.stdout
    assert "same working days as the bundled 2026 notice" in result.stdout


# --- properties -----------------------------------------------------------------------------------------
# Instants span 2025-12 .. 2027-02: holidays, make-up days, and the known/unknown year boundary.
# Whole-second instants keep every floor exact; midnights are drawn on purpose (the boundary cases).

_MIN, _MAX = datetime(2025, 12, 1), datetime(2027, 2, 28)
instants = st.one_of(
    st.datetimes(min_value=_MIN, max_value=_MAX, timezones=st.just(SH)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(min_value=_MIN.date(), max_value=_MAX.date()).map(lambda d: datetime.combine(d, time(), SH)),
)
amounts = st.one_of(st.integers(0, 15 * DAY), st.integers(0, 15).map(lambda n: n * DAY))
PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(a=instants, b=instants, n=amounts)
def test_add_is_monotonic_in_start(cal: WorkingCalendar, a: datetime, b: datetime, n: int) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_working_seconds(a, n).at <= cal.add_working_seconds(b, n).at


@PROPERTY
@given(s=instants, m=amounts, n=amounts)
def test_add_is_monotonic_in_seconds(cal: WorkingCalendar, s: datetime, m: int, n: int) -> None:
    m, n = min(m, n), max(m, n)
    assert cal.add_working_seconds(s, m).at <= cal.add_working_seconds(s, n).at


@PROPERTY
@given(s=instants, a=amounts, b=amounts)
def test_add_is_additive(cal: WorkingCalendar, s: datetime, a: int, b: int) -> None:
    """add(add(s, a), b) == add(s, a + b) holds exactly, for any start (working time or not).

    add(s, n) is the first instant with n working seconds elapsed since s; for a > 0 it
    never lies inside a non-working gap except at the midnight closing a working day,
    from which continuing is the same as not having stopped. Provisional-ness composes
    too: the two calls consult exactly the days the single call consults.
    """
    first = cal.add_working_seconds(s, a)
    second = cal.add_working_seconds(first.at, b)
    whole = cal.add_working_seconds(s, a + b)
    assert second.at == whole.at
    assert (first.provisional or second.provisional) == whole.provisional


@PROPERTY
@given(
    s=st.one_of(instants, st.datetimes(min_value=_MIN, max_value=_MAX, timezones=st.just(SH))),
    n=amounts,
)
def test_between_inverts_add(cal: WorkingCalendar, s: datetime, n: int) -> None:
    # Also with microseconds: the difference is exact.
    assert cal.working_seconds_between(s, cal.add_working_seconds(s, n).at) == n


@PROPERTY
@given(a=instants, b=instants)
def test_add_of_between_is_the_first_instant_with_that_much_work(
    cal: WorkingCalendar, a: datetime, b: datetime
) -> None:
    """add(a, between(a, b)) is b itself when b is in working time, else the end of the last working day
    before b: never later than b, and with no working time left between it and b."""
    a, b = min(a, b), max(a, b)
    t = cal.add_working_seconds(a, cal.working_seconds_between(a, b)).at
    assert a <= t <= b
    assert cal.working_seconds_between(t, b) == 0
    if cal.is_working_day(b.date()) and b.time() != time():
        assert t == b


@PROPERTY
@given(a=instants, b=instants, c=instants)
def test_between_is_additive_over_adjacent_intervals(
    cal: WorkingCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.working_seconds_between(a, b) + cal.working_seconds_between(
        b, c
    ) == cal.working_seconds_between(a, c)


@PROPERTY
@given(s=instants, n=amounts)
def test_provisional_iff_a_day_of_an_unknown_year_was_consulted(
    cal: WorkingCalendar, s: datetime, n: int
) -> None:
    deadline = cal.add_working_seconds(s, n)
    last_consulted = (deadline.at - timedelta(microseconds=1)).date() if n else None
    consulted_2027 = n > 0 and last_consulted is not None and last_consulted.year >= 2027
    assert deadline.provisional == consulted_2027
    assert cal.with_notice(hypothetical_2027()).add_working_seconds(s, n).provisional is False
