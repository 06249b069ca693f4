"""Rollups (chalicelib/supervision/rollups.py): the counters kept in each change's transaction give
the same figures as the reference computed from the events — on a generated month of petitions
that are dispatched, accepted late, returned, transferred, extended, answered at the desk, sent
back by review, rated and reopened, and swept past their due times."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.auth.identity import CHANNEL, OPERATOR, Identity
from chalicelib.clock import SHANGHAI, iso, utc_key
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.intake.models import PetitionIn
from chalicelib.stats.figures import figures
from chalicelib.supervision import rollups
from tests.unit.support import memory_runtime

DISTRICTS = ("210902", "210903", "210922")
CHANNELS = ("wechat", "hotline_12345", "walkin", "phone")
CATEGORIES = ("municipal.lighting", "property.repair", None)
CITY_CHIEF = Identity(kind=OPERATOR, name="chief@210900", role="chief", district="210900")


def _op(role: str, district: str, department: str | None = None) -> Identity:
    name = f"{role}@{department or district}"
    return Identity(kind=OPERATOR, name=name, role=role, district=district, department=department)


def _query(first: str, last: str, district: str | None = None, department: str | None = None):
    return SimpleNamespace(from_=first, to=last, district=district, department=department)


def _generate_month(seed: int):
    """A month of 10:00-to-18:00 days: petitions arrive, people act (some late), the sweep runs."""
    rng = random.Random(seed)
    rt = memory_runtime()
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    rt.clock.at = start
    ids: list[tuple[str, str, str]] = []  # (id, district, channel)
    for day in range(30):
        for hour in range(9, 19, 3):
            rt.clock.at = start + timedelta(days=day, hours=hour - 9, minutes=rng.randrange(60))
            for _ in range(rng.randrange(3)):
                district, channel = rng.choice(DISTRICTS), rng.choice(CHANNELS)
                body = {
                    "district": district,
                    "content": f"第{len(ids)}件：小区门口路灯坏了，晚上出行很不方便",
                    "citizen": {"phone": f"138{len(ids):08d}"},
                }
                category = rng.choice(CATEGORIES)
                if category:
                    body["category"] = category
                grids = rt.directory().grids_in(district)
                if grids and rng.random() < 0.6:
                    body["location"] = {"grid": rng.choice(grids[:3]).code}
                ident = Identity(kind=CHANNEL, name=channel, role="channel")
                _, out = rt.intake.create(ident, PetitionIn.model_validate(body), None)
                ids.append((out["id"], district, channel))
            for pid, district, channel in rng.sample(ids, min(len(ids), 6)):
                _act(rt, rng, pid, district, channel)
            rt.run_sweep()
    rt.clock.at = start + timedelta(days=33)
    rt.run_sweep()
    return rt


def _act(rt, rng: random.Random, pid: str, district: str, channel: str) -> None:
    p = rt.stores.petitions.get(pid)
    dep = p.department
    handler = _op("handler", district, dep) if dep else None
    choices = {
        "received": [
            ("dispatch", _op("dispatcher", district), {"department": f"{district}.urban"}),
            ("dispatch", _op("dispatcher", district), {"department": f"{district}.housing"}),
            ("answer", _op("desk", district, f"{district}.center"), {"reply": "已当场答复"}),
        ],
        "dispatched": [
            ("accept", handler, {}),
            ("return", handler, {"reason": "function"}),
            ("transfer", _op("dispatcher", district), {"department": f"{district}.market"}),
        ],
        "accepted": [
            ("resolve", handler, {"reply": "已修复"}),
            ("extension", handler, {"working_days": 3, "reason": "需要采购配件"}),
        ],
        "resolved": [
            ("review", _op("reviewer", district), {"approve": True}),
            ("review", _op("reviewer", district), {"approve": rng.random() < 0.7}),
        ],
        "closed": [
            ("feedback", Identity(kind=CHANNEL, name=channel, role="channel"), {"rating": r})
            for r in ("satisfied", "basically_satisfied", "dissatisfied")
        ],
    }.get(p.status, [])
    if p.status == "accepted" and p.extension_pending:
        choices = [("extension/decision", _op("supervisor", district), {"approve": rng.random() < 0.5})]
    if not choices:
        return
    action, who, payload = rng.choice(choices)
    if who is None:
        return
    try:
        rt.petitions.act(who, pid, action, payload)
    except (Conflict, InvalidInput, NotFound, Forbidden):
        pass  # e.g. a desk answering what another unit received, a rating already given


def _reference(rt, first: str, last: str, districts, department: str | None = None) -> dict:
    lo = utc_key(iso(datetime.fromisoformat(first).replace(tzinfo=SHANGHAI)))
    hi = utc_key(iso(datetime.fromisoformat(last).replace(tzinfo=SHANGHAI) + timedelta(days=1)))
    rows = []
    for d in districts:
        for p in rt.stores.petitions.received_between("district", d, lo, hi):
            if department is None or p.department == department:
                rows.append((p, rt.stores.petitions.timeline(p.id)))
    return figures(rows, rt.env().calendar)


def test_rollups_give_the_figures_the_events_give_on_a_generated_month():
    rt = _generate_month(seed=7)
    city = [d.code for d in rt.directory().districts]
    windows = (
        ("2026-11-02", "2026-12-01"),  # days only (no whole month)
        ("2026-11-01", "2026-11-30"),  # one whole month: the month-grain items
        ("2026-10-15", "2026-12-31"),  # days, a whole month, days
        ("2026-01-01", "2026-12-31"),  # a year
        ("2026-11-09", "2026-11-15"),
        ("2026-11-20", "2026-11-20"),
    )
    for first, last in windows:
        got = rt.stats.stats(CITY_CHIEF, _query(first, last))
        want = _reference(rt, first, last, city)
        assert {k: got[k] for k in want} == want, (first, last)
    total = rt.stats.stats(CITY_CHIEF, _query("2026-11-02", "2026-12-01"))["total"]
    # The month exercised what the figures count (else the comparison above proves little).
    assert total["received"] > 100
    for name in (
        "on_time_dispatch_rate",
        "on_time_accept_rate",
        "on_time_resolve_rate",
        "satisfaction_rate",
        "return_rate",
        "reopen_rate",
        "resolution_rate",
        "on_spot_rate",
    ):
        assert total[name]["numerator"] > 0 and total[name]["denominator"] > total[name]["numerator"], name
    assert total["overdue_open"] > 0
    # One department's figures, as its handler sees them.
    handler = _op("handler", "210902", "210902.urban")
    got = rt.stats.stats(handler, _query("2026-11-02", "2026-12-01"))
    want = _reference(rt, "2026-11-02", "2026-12-01", ["210902"], "210902.urban")
    assert {k: got[k] for k in want} == want
    assert got["total"]["received"] > 0


def test_a_year_is_read_from_rollups_without_touching_a_petition():
    rt = _generate_month(seed=11)
    reads = []
    original = rt.stores.petitions.received_between
    rt.stores.petitions.received_between = lambda *a: reads.append(a) or original(*a)
    out = rt.stats.stats(CITY_CHIEF, _query("2026-01-01", "2026-12-31"))
    assert reads == [] and out["total"]["received"] > 0
    counted = []
    original_counters = rt.stores.supervision.counters
    rt.stores.supervision.counters = lambda *a: counted.append(a) or original_counters(*a)
    rt.stats.stats(CITY_CHIEF, _query("2026-01-01", "2026-12-31"))
    # the year's month-grain items and the legacy marginals: two Queries a district, nothing else
    assert sorted(pk for pk, _, _ in counted) == sorted(
        f"{kind}#{d.code}#2026" for d in rt.directory().districts for kind in ("f", "m")
    )


def test_windows_longer_than_a_year_are_refused_naming_the_field():
    rt = memory_runtime()
    try:
        rt.stats.stats(CITY_CHIEF, _query("2025-01-01", "2026-01-02"))
    except InvalidInput as exc:
        assert exc.field == "from"
    else:
        raise AssertionError("a 367-day window was accepted")


# --- the counters' algebra -----------------------------------------------------------------------------

_contributions = st.fixed_dictionaries(
    {
        "key": st.lists(st.sampled_from(["a", "b"]), min_size=5, max_size=5),
        "c": st.dictionaries(st.sampled_from(rollups.COUNTERS), st.integers(0, 5)),
        "grid": st.one_of(st.none(), st.lists(st.sampled_from(["g", "h"]), min_size=4, max_size=4)),
    }
)


@given(st.lists(_contributions, min_size=1, max_size=8))
def test_a_petitions_deltas_add_up_to_its_last_contribution(history):
    units: dict = {}
    grids: dict = {}
    before = None
    for now in history:
        u, g = rollups.deltas(before, now)
        rollups.merge_into(units, u)
        rollups.merge_into(grids, g)
        before = now
    last = history[-1]
    want = {tuple(last["key"]): {k: v for k, v in last["c"].items() if v}} if any(last["c"].values()) else {}
    assert units == want
    assert grids == ({tuple(last["grid"]): {"received": 1}} if last["grid"] else {})


def test_the_tally_folds_a_timeline_worked_example():
    calendar = memory_runtime().env().calendar
    created = "2026-11-02T02:00:00Z"  # Monday 10:00 in Shanghai
    events = [
        {"type": "dispatched", "on_time": True, "at": "2026-11-02T03:00:00Z"},
        {"type": "returned", "at": "2026-11-02T04:00:00Z"},
        {"type": "dispatched", "on_time": False, "at": "2026-11-04T03:00:00Z"},
        {"type": "accepted", "on_time": True, "at": "2026-11-04T04:00:00Z"},
        {"type": "resolved", "on_time": True, "at": "2026-11-05T02:00:00Z"},
        {"type": "review_approved", "at": "2026-11-05T03:00:00Z"},  # Thursday 11:00: 3 days + 1 h
        {"type": "feedback", "rating": "dissatisfied", "at": "2026-11-05T04:00:00Z"},
        {"type": "reopened", "at": "2026-11-05T04:00:00Z"},
        {"type": "review_approved", "at": "2026-11-09T03:00:00Z"},  # the first approval counts
    ]
    t = rollups.fold(None, events, created, calendar)
    assert t["done"] == {"dispatch": 2, "accept": 1, "resolve": 1}
    assert t["on_time"] == {"dispatch": 1, "accept": 1, "resolve": 1}
    assert (t["rated"], t["satisfied"], t["returned"], t["reopened"]) == (1, 0, True, True)
    assert t["approved_seconds"] == 3 * 86400 + 3600
    p = SimpleNamespace(
        created_at=created,
        district="210902",
        department="210902.urban",
        channel="wechat",
        category=None,
        location=None,
        status="closed",
        stage=None,
        tally=t,
    )
    c = rollups.contribution(p, ("received",))
    assert c["key"] == ["2026-11-02", "210902", "210902.urban", "wechat", "uncategorised"]
    assert c["c"]["closed"] == 1 and "closed_not_reopened" not in c["c"]  # reopened once
    assert c["c"]["returned"] == 1 and c["c"]["reopened"] == 1 and c["c"]["close_seconds"] == 3 * 86400 + 3600


def test_hotspots_read_the_grid_counts_the_petitions_give():
    from chalicelib.foresight.hotspots import PetitionGridCounts

    rt = _generate_month(seed=5)
    rollup, reference = rollups.GridCounts(rt.stores.supervision), PetitionGridCounts(rt.stores.petitions)
    seen = 0
    for district in DISTRICTS:
        for first, last in (("2026-09-01", "2026-12-31"), ("2026-11-10", "2026-11-16")):
            got = rollup.grid_counts(district, first, last)
            assert got == reference.grid_counts(district, first, last), (district, first, last)
            seen += sum(got.values())
    assert seen > 30  # the month filed petitions in grids, with categories


# --- whole months across the change of their storage (2026-12-02) -------------------------------------


class _Counters:
    """The counters a store holds: (pk, sk) → counters, read by partition and sort-key range."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, pk: str, sk: str, deltas: dict[str, int]) -> None:
        row = self.rows.setdefault((pk, sk), {})
        for k, v in deltas.items():
            row[k] = row.get(k, 0) + v

    def counters(self, pk: str, lo: str, hi: str):
        return sorted((sk, dict(c)) for (p, sk), c in self.rows.items() if p == pk and lo <= sk <= hi)


def _legacy_items(units: dict) -> list[tuple[str, str, dict[str, int]]]:
    """What rollups.items wrote before 2026-12-02: the day's fine item and the month's three marginals."""
    out = []
    for (day, district, department, channel, category, n), d in units.items():
        out.append((rollups.unit_pk(district, day), f"{day}#{department}#{channel}#{category}#{n}", d))
        for split, _, value, _ in rollups.marginals((day, district, department, channel, category), d):
            out.append((rollups.legacy_month_pk(district, day), f"{day[:7]}#{split}#{value}#{n}", d))
    return out


def test_a_month_written_partly_before_the_change_counts_each_petition_once():
    """A petition received (and dispatched) in November while marginals were written, then moved to
    another department and closed after: the whole month reads the same as its days do."""
    store = _Counters()
    key = ("2026-11-10", "210902", "210902.urban", "wechat", "municipal.lighting", 0)
    received = {"received": 1, "dispatched": 1, "dispatch_done": 1, "dispatch_on_time": 1}
    for pk, sk, d in _legacy_items({key: received}):
        store.add(pk, sk, d)
    moved = ("2026-11-10", "210902", "210902.housing", "wechat", "municipal.lighting", 0)
    after = {key: {k: -v for k, v in received.items()}, moved: {**received, "closed": 1}}
    for pk, sk, d in rollups.items(after, {}):
        store.add(pk, sk, d)

    def read(first: str, last: str) -> dict:
        lo = datetime.fromisoformat(first).replace(tzinfo=SHANGHAI)
        hi = datetime.fromisoformat(last).replace(tzinfo=SHANGHAI)
        return rollups.figures(rollups.read(store, ["210902"], lo, hi))

    whole, days = read("2026-11-01", "2026-11-30"), read("2026-11-02", "2026-11-30")
    assert rollups.plan(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())[1] == ["2026-11"]
    assert whole == days
    assert whole["total"]["received"] == 1 and whole["total"]["closed"] == 1
    assert list(whole["by_department"]) == ["210902.housing"]
    assert whole["by_channel"]["wechat"]["received"] == 1
    assert whole["by_category"]["municipal.lighting"]["closed"] == 1
