"""Rollups: the §6 figures kept as counters while petitions move, so that `/v1/stats` and the
annual assessment read O(days × units) items — never the petitions.

Pure. Each petition carries two small pieces of bookkeeping, written with it in the same
transaction by the unit of work:

- ``tally``: the facts of its timeline the figures need (stage completions and whether on
  time, ratings, whether it was ever dispatched, returned, reopened, answered at the desk,
  and the working seconds to its first approval), folded from each change's events;
- ``rolled``: the contribution it last added to the rollup counters (a key and counters).

On each change the unit of work computes the petition's contribution now, subtracts what it
``rolled`` before and ADDs the difference to the counters — in the same transaction as the
change, so the counters never run ahead of or behind the petitions. A change that moves a
petition to another department (or category) moves its whole contribution from one key to
the other.

A contribution is keyed by ``(day received in Asia/Shanghai, district, department or "-",
channel, category or "-")``, the grain of every split of §6. ``overdue_open`` counts open
petitions whose running stage the sweep has found overdue (its supervision notice fired) —
the sweep, running every minute, is what turns a due time into a fact.

Hotspots read a second family: received per (day, grid, category).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.clock import SHANGHAI, parse_instant

# Counters of one key. Every one is an integer (seconds, not days: sums stay exact).
COUNTERS = (
    "received",
    "closed",
    "overdue_open",
    "dispatch_done",
    "dispatch_on_time",
    "accept_done",
    "accept_on_time",
    "resolve_done",
    "resolve_on_time",
    "closed_not_reopened",
    "rated",
    "satisfied",
    "dispatched",
    "returned",
    "ever_closed",
    "reopened",
    "answered",
    "close_seconds",
    "close_count",
    "grid_received",
    "grid_on_spot",
)
# An on-the-spot answer (即办) completes the dispatch stage, as a dispatch does; so does a grid
# worker's on-the-spot resolution and a claim from the pool.
STAGE_OF = {
    "dispatched": "dispatch",
    "answered": "dispatch",
    "resolved_on_spot": "dispatch",
    "whistled": "dispatch",  # 吹哨: the dispatch stage ends by posting to the claim pool
    "accepted": "accept",
    "claimed": "accept",
    "resolved": "resolve",
}
# An overdue stage counts as a late completion of the stage the figures name: a reopened petition's
# resolve, a posted one's claim (部门报到 is the department's response, 响应率).
LATE_AS = {"reopen": "resolve", "claim": "accept"}
OVERDUE_STEP = 1  # StageClock.fired > 1: the supervision notice (at the due time) has fired
NONE = "-"
UNCATEGORISED = "uncategorised"
# A key's counters may be spread over this many items (by petition id) should one run hot; a read
# sums whatever shards it finds, so raising it later needs no migration. Contention on one item is
# also absorbed by retrying a transaction cancelled for a conflict (db.DynamoTransaction.commit).
SHARDS = 1

Key = tuple[str, str, str, str, str]  # day, district, department, channel, category
GridKey = tuple[str, str, str, str]  # day, district, grid, category


def empty_tally() -> dict[str, Any]:
    return {
        "done": {},
        "on_time": {},
        "rated": 0,
        "satisfied": 0,
        "dispatched": False,
        "returned": False,
        "reopened": False,
        "answered": False,
        "on_spot": False,
        "approved_seconds": None,
    }


def fold(
    tally: Mapping[str, Any] | None, events: Iterable[Mapping[str, Any]], created_at: str, calendar
) -> dict:
    """The tally after a change's events (``calendar`` measures working time to approval)."""
    t = {**empty_tally(), **(tally or {})}
    t["done"] = dict(t["done"])
    t["on_time"] = dict(t["on_time"])
    for e in events:
        kind = e.get("type")
        stage = STAGE_OF.get(kind or "")
        if stage and "on_time" in e:
            t["done"][stage] = t["done"].get(stage, 0) + 1
            t["on_time"][stage] = t["on_time"].get(stage, 0) + (1 if e["on_time"] else 0)
        if kind == "feedback":
            t["rated"] += 1
            t["satisfied"] += 1 if e.get("rating") in ("satisfied", "basically_satisfied") else 0
        elif kind == "dispatched":
            t["dispatched"] = True
        elif kind == "returned":
            t["returned"] = True
        elif kind == "reopened":
            t["reopened"] = True
        elif kind == "answered":
            t["answered"] = True
        elif kind == "resolved_on_spot":
            t["on_spot"] = True
        elif kind == "review_approved" and t["approved_seconds"] is None:
            t["approved_seconds"] = int(
                calendar.working_seconds_between(parse_instant(created_at), parse_instant(e["at"]))
            )
    return t


def day_of(instant: str) -> str:
    return parse_instant(instant).astimezone(SHANGHAI).date().isoformat()


def is_overdue(status: str, stage: Any, open_statuses: Iterable[str]) -> bool:
    return bool(
        status in open_statuses and stage is not None and stage.running and stage.fired > OVERDUE_STEP
    )


def counters(
    *, status: str, stage: Any, channel: str, tally: Mapping[str, Any], open_statuses: Iterable[str]
) -> dict[str, int]:
    """One petition's counters: what it adds to the figures of the key it falls under."""
    t = {**empty_tally(), **tally}
    closed = status == "closed"
    overdue = is_overdue(status, stage, open_statuses)
    late_stage = LATE_AS.get(stage.name, stage.name) if overdue else None
    ever_closed = t["approved_seconds"] is not None
    c = {
        "received": 1,
        "closed": int(closed),
        "overdue_open": int(overdue),
        "closed_not_reopened": int(closed and not t["reopened"]),
        "rated": t["rated"],
        "satisfied": t["satisfied"],
        "dispatched": int(t["dispatched"]),
        "returned": int(t["dispatched"] and t["returned"]),
        "ever_closed": int(ever_closed),
        "reopened": int(ever_closed and t["reopened"]),
        "answered": int(t["answered"]),
        "close_seconds": t["approved_seconds"] or 0,
        "close_count": int(ever_closed),
        "grid_received": int(channel == "grid"),
        "grid_on_spot": int(channel == "grid" and t["on_spot"]),
    }
    for name in ("dispatch", "accept", "resolve"):
        c[f"{name}_done"] = t["done"].get(name, 0) + (1 if late_stage == name else 0)
        c[f"{name}_on_time"] = t["on_time"].get(name, 0)
    return {k: v for k, v in c.items() if v}


def contribution(p: Any, open_statuses: Iterable[str]) -> dict[str, Any]:
    """What a petition adds to the rollups now: ``{"key": [...], "c": {...}, "grid": [...]|None}``."""
    key = [
        day_of(p.created_at),
        p.district,
        p.department or NONE,
        p.channel,
        p.category or UNCATEGORISED,
    ]
    # Hotspots count what citizens raised in a grid under a category; a proactive case is not one.
    grid = (p.location or {}).get("grid") if p.category and p.channel != "proactive" else None
    return {
        "key": key,
        "c": counters(
            status=p.status, stage=p.stage, channel=p.channel, tally=p.tally, open_statuses=open_statuses
        ),
        "grid": [key[0], p.district, grid, key[4]] if grid else None,
    }


def deltas(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[dict, dict]:
    """The counter changes from ``before`` (what the petition rolled last) to ``after``:
    ({unit key: {counter: delta}}, {grid key: {"received": delta}}); zero deltas left out."""
    units: defaultdict[tuple, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    grids: defaultdict[tuple, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sign, side in ((-1, before), (1, after)):
        if not side:
            continue
        for name, value in side["c"].items():
            units[tuple(side["key"])][name] += sign * value
        if side.get("grid"):
            grids[tuple(side["grid"])]["received"] += sign
    return _nonzero(units), _nonzero(grids)


def _nonzero(table: Mapping[tuple, Mapping[str, int]]) -> dict:
    out = {}
    for key, values in table.items():
        kept = {k: v for k, v in values.items() if v}
        if kept:
            out[key] = kept
    return out


def merge_into(total: dict, more: Mapping[tuple, Mapping[str, int]]) -> None:
    """Adds one change's deltas to a transaction's (one write per item: DynamoDB refuses two)."""
    for key, values in more.items():
        row = total.setdefault(key, {})
        for name, value in values.items():
            row[name] = row.get(name, 0) + value
            if row[name] == 0:
                del row[name]
        if not row:
            del total[key]


# --- reading: counters → the figures of §6 ------------------------------------------------------------


def rate(numerator: int, denominator: int) -> dict:
    return {
        "value": round(numerator / denominator, 4) if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }


def result(c: Mapping[str, int]) -> dict:
    """The §6 figures of one group of counters."""

    def get(name: str) -> int:
        return int(c.get(name, 0))

    return {
        "received": get("received"),
        "closed": get("closed"),
        "overdue_open": get("overdue_open"),
        "on_time_dispatch_rate": rate(get("dispatch_on_time"), get("dispatch_done")),
        "on_time_accept_rate": rate(get("accept_on_time"), get("accept_done")),
        "on_time_resolve_rate": rate(get("resolve_on_time"), get("resolve_done")),
        "resolution_rate": rate(get("closed_not_reopened"), get("closed")),
        "satisfaction_rate": rate(get("satisfied"), get("rated")),
        "return_rate": rate(get("returned"), get("dispatched")),
        "reopen_rate": rate(get("reopened"), get("ever_closed")),
        "completion_rate": rate(get("closed"), get("received")),  # 办结率
        "on_spot_rate": rate(get("answered"), get("received")),  # 即办率: answered at the desk
        "grid_resolution_rate": rate(get("grid_on_spot"), get("grid_received")),  # 小事不出网格
        "mean_working_days_to_close": (
            round(get("close_seconds") / get("close_count") / 86400, 2) if get("close_count") else None
        ),
    }


Marginal = tuple[str, str, str, Mapping[str, int]]  # (split "dep" | "ch" | "cat", district, value, counters)
SPLITS = ("dep", "ch", "cat")


def marginals(key: Key, c: Mapping[str, int]) -> list[Marginal]:
    """A fine key's counters as the three marginals the figures are made of."""
    _day, district, department, channel, category = key
    return [("dep", district, department, c), ("ch", district, channel, c), ("cat", district, category, c)]


def figures(rows: Iterable[Marginal]) -> dict:
    """The §6 figures from marginal rows (see :func:`read`); the same shape as stats.figures.

    "dep" rows (every petition under exactly one department, "-" for none) make the total, the
    districts and the departments; "ch" rows the channels; "cat" rows the categories."""
    total: defaultdict[str, int] = defaultdict(int)
    splits: dict[str, defaultdict[str, defaultdict[str, int]]] = {
        name: defaultdict(lambda: defaultdict(int))
        for name in ("by_district", "by_department", "by_channel", "by_category")
    }
    for split, district, value, c in rows:
        if split == "dep":
            groups = [total, splits["by_district"][district]]
            if value != NONE:
                groups.append(splits["by_department"][value])
        elif split == "ch":
            groups = [splits["by_channel"][value]]
        else:
            groups = [splits["by_category"][value]]
        for group in groups:
            for name, n in c.items():
                group[name] += int(n)
    out: dict[str, Any] = {"total": result(total)}
    for name, table in splits.items():
        out[name] = {k: result(v) for k, v in sorted(table.items()) if v.get("received", 0)}
    return out


# --- where the counters live, and reading them back ------------------------------------------------


def unit_pk(district: str, day: str) -> str:
    """The partition of a district's fine counters for the month of ``day`` (YYYY-MM-DD or YYYY-MM)."""
    return f"u#{district}#{day[:7]}"


def month_pk(district: str, year: str) -> str:
    """The partition of a district's fine counters at month grain for a year: sk
    ``YYYY-MM#department#channel#category#shard`` — what whole months of a window are read from."""
    return f"f#{district}#{year[:4]}"


def legacy_month_pk(district: str, year: str) -> str:
    """Monthly marginals as written before 2026-12-02 (sk ``YYYY-MM#split#value#shard``): three items
    a change, where the month-grain fine item is one. Never written now; read and added to the
    month-grain items, so months written before, after or across the change all count once."""
    return f"m#{district}#{year[:4]}"


def grid_pk(district: str, day: str) -> str:
    return f"g#{district}#{day[:7]}"


def items(units: Mapping[tuple, Mapping[str, int]], grids: Mapping[tuple, Mapping[str, int]]) -> list:
    """Every counter item a transaction's deltas touch, once each: (pk, sk, deltas). ``units`` are
    keyed (day, district, department, channel, category, shard), ``grids`` (day, district, grid,
    category, shard). A fine change moves a day's fine item and the same key's month-grain item
    (two writes; the three monthly marginals it replaced were four with the day's)."""
    out: dict[tuple[str, str], dict[str, int]] = {}

    def add(pk: str, sk: str, d: Mapping[str, int]) -> None:
        row = out.setdefault((pk, sk), {})
        for name, n in d.items():
            row[name] = row.get(name, 0) + n

    for (day, district, department, channel, category, n), d in units.items():
        add(unit_pk(district, day), f"{day}#{department}#{channel}#{category}#{n}", d)
        add(month_pk(district, day), f"{day[:7]}#{department}#{channel}#{category}#{n}", d)
    for (day, district, grid, category, n), d in grids.items():
        add(grid_pk(district, day), f"{day}#{grid}#{category}#{n}", d)
    return [
        (pk, sk, {k: v for k, v in d.items() if v}) for (pk, sk), d in sorted(out.items()) if any(d.values())
    ]


def months(first: date, last: date) -> list[str]:
    """The YYYY-MM partitions a window of days spans."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def plan(first: date, last: date) -> tuple[list[tuple[date, date]], list[str]]:
    """A window as day stretches read from the daily fine items and whole months from the month-grain ones."""
    stretches: list[tuple[date, date]] = []
    whole: list[str] = []
    day = first
    while day <= last:
        end = _month_end(day)
        if day.day == 1 and end <= last:
            whole.append(f"{day.year:04d}-{day.month:02d}")
        else:
            stretches.append((day, min(end, last)))
        day = end + timedelta(days=1)
    return stretches, whole


class CounterReads(Protocol):
    def counters(self, pk: str, lo: str, hi: str) -> Iterable[tuple[str, dict[str, int]]]: ...


def _fine(store: CounterReads, district: str, lo: date, hi: date) -> Iterator[tuple[Key, dict[str, int]]]:
    for sk, values in store.counters(unit_pk(district, lo.isoformat()), lo.isoformat(), hi.isoformat() + "~"):
        day, dep, channel, rest = sk.split("#", 3)
        yield (day, district, dep, channel, rest.rsplit("#", 1)[0]), values


def read(
    store: CounterReads,
    districts: Iterable[str],
    first: datetime,
    last: datetime,
    department: str | None = None,
) -> Iterator[Marginal]:
    """The marginal counters of the districts' petitions received in [first, last] (days).

    Whole months come from the month-grain fine items (one Query per district and year, plus one
    of the legacy marginals), the days around them from the fine daily items (one Query per
    district and month): a year city-wide reads at most 12 × the (department, channel, category)
    combinations that occurred, per district, however many petitions there are. One department's
    figures read its fine daily items only."""
    stretches, whole = plan(first.date(), last.date())
    if department is not None:
        stretches, whole = [(first.date(), last.date())], []
    for district in districts:
        for lo, hi in stretches:
            for month in months(lo, hi):
                a = max(lo, date.fromisoformat(month + "-01"))
                b = min(hi, _month_end(a))
                for key, values in _fine(store, district, a, b):
                    if department is None or key[2] == department:
                        yield from marginals(key, values)
        for year in sorted({m[:4] for m in whole}):
            in_year = [m for m in whole if m.startswith(year)]
            first_month, past_last = in_year[0], in_year[-1] + "~"
            for sk, values in store.counters(month_pk(district, year), first_month, past_last):
                month, dep, channel, rest = sk.split("#", 3)
                if month in in_year:
                    yield from marginals((month, district, dep, channel, rest.rsplit("#", 1)[0]), values)
            for sk, values in store.counters(legacy_month_pk(district, year), first_month, past_last):
                month, split, rest = sk.split("#", 2)
                if month in in_year:
                    yield (split, district, rest.rsplit("#", 1)[0], values)


def read_grids(
    store: CounterReads, district: str, first: date, last: date
) -> dict[tuple[str, str, str], int]:
    """Received per (day, grid, category) of a district's grids in [first, last] (hotspots)."""
    out: dict[tuple[str, str, str], int] = {}
    lo, hi = first.isoformat(), last.isoformat() + "~"
    for month in months(first, last):
        for sk, values in store.counters(grid_pk(district, month), lo, hi):
            day, grid, rest = sk.split("#", 2)
            category = rest.rsplit("#", 1)[0]
            key = (day, grid, category)
            out[key] = out.get(key, 0) + int(values.get("received", 0))
    return {k: v for k, v in out.items() if v}


class GridCounts:
    """Received per (day, grid, category) of a district from the rollups: what hotspot detection
    reads (foresight's ``GridCounts`` port), two Queries for its nine weeks, never the petitions."""

    def __init__(self, store: CounterReads) -> None:
        self.store = store

    def grid_counts(self, district: str, first_day: str, last_day: str) -> dict[tuple[str, str, str], int]:
        return read_grids(self.store, district, date.fromisoformat(first_day), date.fromisoformat(last_day))
