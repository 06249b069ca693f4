"""Produce ``chalicelib/timing/data/holidays/YYYY.json`` from the ``chinesecalendar`` package.

Run from the repository root::

    python -m tools.convert_chinesecalendar            # (re)write the files
    python -m tools.convert_chinesecalendar --check    # exit 1 if the files are stale

``chinesecalendar`` is a development dependency only: the platform reads the JSON
files (see ``chalicelib/timing/calendar.py``), so that a year the package does not know
can be added by loading that year's State Council notice, without a release of the
package.

What the conversion does beyond copying:

* English holiday names become the Chinese names of the notice (元旦, 春节, ...);
  a make-up working day is named after its holiday plus 调休 (春节调休).
* Dates are filed by their own calendar year, because a file holds one year. The
  New Year holiday of year Y+1 sometimes starts (or has its make-up day) in late
  December of year Y; those December dates sit in Y's file and its ``source`` says so.
* ``ERRATA`` adds the weekend days that the package leaves out of a holiday period
  the notice lists as a range (e.g. 2011 端午节 "6月4日至6日"). They are all
  weekend days, so they change no working-day arithmetic; they make the files say
  what the notices say.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

from chalicelib.timing.calendar import YearNotice

OUT_DIR = Path(__file__).resolve().parent.parent / "chalicelib" / "timing" / "data" / "holidays"

CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

# Weekend days inside a holiday range of the notice that chinesecalendar 1.11.0 omits.
# (2015-06-21 is rightly absent: the 2015 notice says "6月20日放假，6月22日（星期一）补休".)
ERRATA: dict[date, tuple[str, str]] = {
    date(2011, 6, 5): ("端午节", "2011年通知：端午节 6月4日至6日放假公休，共3天"),
    date(2012, 6, 23): ("端午节", "2012年通知：端午节 6月22日至24日放假公休，共3天"),
    date(2015, 9, 5): (
        "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
        "国发明电〔2015〕1号：9月3日至5日调休放假，共3天",
    ),
}

# Arrangements that came from a notice other than the year's own.
EXTRA_SOURCES = {
    2015: "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知（9月3日至6日）",
    2020: "国务院办公厅关于延长2020年春节假期的通知（1月31日至2月2日）",
}


def _notice_title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


def build_notices() -> dict[int, YearNotice]:
    """Group the package's dicts by year and validate each year through ``YearNotice``."""
    from chinese_calendar import constants  # dev-only dependency, imported here on purpose

    holidays: dict[int, dict[date, str]] = defaultdict(dict)
    workdays: dict[int, dict[date, str]] = defaultdict(dict)
    for day, name in constants.holidays.items():
        holidays[day.year][day] = CHINESE_NAMES[name]
    for day, name in constants.workdays.items():
        workdays[day.year][day] = CHINESE_NAMES[name] + "调休"
    for day, (name, _why) in ERRATA.items():
        if day in holidays[day.year]:
            raise SystemExit(f"erratum {day} is already in chinesecalendar: drop it from ERRATA")
        holidays[day.year][day] = name

    notices: dict[int, YearNotice] = {}
    for year in sorted(set(holidays) | set(workdays)):
        sources = [_notice_title(year)]
        if year in EXTRA_SOURCES:
            sources.append(EXTRA_SOURCES[year])
        december = sorted(
            d
            for d in (*holidays[year], *workdays[year])
            if d.month == 12 and _is_new_year(d, holidays, workdays)
        )
        if december:
            days = "、".join(f"{d.month}月{d.day}日" for d in december)
            sources.append(f"{days}属{year + 1}年元旦放假安排（见{_notice_title(year + 1)}）")
        notices[year] = YearNotice.from_dict(
            {
                "year": year,
                "source": "；".join(sources),
                "holidays": {d.isoformat(): n for d, n in holidays[year].items()},
                "workdays": {d.isoformat(): n for d, n in workdays[year].items()},
            }
        )
    return notices


def _is_new_year(
    day: date, holidays: dict[int, dict[date, str]], workdays: dict[int, dict[date, str]]
) -> bool:
    name = holidays[day.year].get(day) or workdays[day.year].get(day) or ""
    return name.startswith("元旦")


def render(notice: YearNotice) -> str:
    return json.dumps(notice.to_dict(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    args = parser.parse_args(argv)

    notices = build_notices()
    stale: list[str] = []
    args.out.mkdir(parents=True, exist_ok=True)
    for year, notice in notices.items():
        path = args.out / f"{year}.json"
        text = render(notice)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{path.name}: {len(notice.holidays)} holidays, {len(notice.workdays)} make-up working days")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
