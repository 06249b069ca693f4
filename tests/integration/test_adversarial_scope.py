"""Adversarial scope table: role × route × scope × filter, generated from data.

Every list route that takes filters (petitions, violations, notifications needing attention, stats)
and the read of one petition, for every kind of operator of the seeded directory and the channels,
with every filter pointing inside and outside the caller's scope. The data: petitions in 海州区
(210902) and 新邱区 (210903) in every early state (and one in 太平区 210904), violations from the
SLA sweep and from a return, and dead notifications from an SMS gateway that refuses some phones.

What each answer must be is worked out here from the directory and the caller's role (CONTRACT §4:
"every operator sees and acts only within their scope"), NOT from the code under test:

- 403: the caller's role may not use the route at all;
- 400: a filter names nothing (unknown district or department), or the filters contradict each
  other (a department or unit that is not of the district given);
- 404: a filter points outside the caller's scope (where a filter is both unknown and outside,
  either 400 or 404 is accepted: neither says anything about data the caller may not see);
- 200: every item lies within the caller's scope (no leak), matches every filter given, and, where
  this module knows the whole truth (petitions, violations, attention), the items are exactly the
  ones the caller may see under those filters (nothing missing either).

Run with ``-s`` to see the counts of each table.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from tests.integration import petition_factory as pf

CITY = "210900"
HOME = ("210902", "210903")  # the two districts with the full set of petitions
THIRD = "210904"  # one received petition and one dead SMS: a district of its own to look after
UNKNOWN_DISTRICT = "210999"  # well-formed, but no such district in the directory
UNKNOWN_DEPARTMENT = "210902.nosuch"  # well-formed, but no such department

OPERATORS = [
    "dispatcher@210902",
    "dispatcher@210903",
    "dispatcher@210900",
    "handler@210902.urban",
    "handler@210902.housing",
    "handler@210903.urban",
    "reviewer@210902",
    "reviewer@210911",
    "supervisor@210902",
    "supervisor@210903",
    "supervisor@210904",
    "supervisor@210900",
    "chief@210902",
    "chief@210900",
    "auditor@210900",
    "admin@210900",
]
CHANNELS = {"local-wechat": "wechat", "local-hotline": "hotline_12345"}
CALLERS = OPERATORS + list(CHANNELS)

# Who may use each route at all (CONTRACT §4, README "The API"; test_routes_access.py's table).
AUDIENCE = {
    "petitions": {"channel", "dispatcher", "handler", "reviewer", "supervisor", "chief", "auditor", "admin"},
    "violations": {"dispatcher", "handler", "reviewer", "supervisor", "chief", "auditor", "admin"},
    "attention": {"supervisor", "chief", "auditor", "admin"},
    "stats": {"dispatcher", "handler", "reviewer", "supervisor", "chief", "auditor", "admin"},
}
PATHS = {
    "petitions": "/v1/petitions",
    "violations": "/v1/violations",
    "attention": "/v1/notifications/attention",
    "stats": "/v1/stats",
}

ERROR_CODES = {400: "invalid_input", 403: "forbidden", 404: "not_found"}
DEAD_PHONE = {"210902": "13900139021", "210903": "13900139022", "210904": "13900139023"}
FAILING_PHONES = set(DEAD_PHONE.values())  # their receipt SMS never goes out


# --- the callers' scope, from the directory ------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    district: str | None  # None for a channel
    department: str | None  # a handler's
    channel: str | None  # a channel's name (wechat, hotline_12345)


def caller(name: str) -> Caller:
    if name in CHANNELS:
        return Caller(name, "channel", None, None, CHANNELS[name])
    role, scope = name.split("@")
    if role == "handler":
        return Caller(name, role, scope.split(".")[0], scope, None)
    return Caller(name, role, scope, None, None)


@dataclass
class Directory:
    districts: set[str]
    departments: dict[str, str]  # code -> district

    def sees_district(self, c: Caller, district: str) -> bool:
        """Whether the operator's scope reaches this district (city-wide roles and the city's own
        operators see every district of the city; everyone else their own district)."""
        if c.role in ("auditor", "admin") or c.district == CITY:
            return district in self.districts
        return district == c.district

    def unit_district(self, unit: str) -> str:
        return unit.split(".")[0]

    def unit_known(self, unit: str) -> bool:
        owner, _, rest = unit.partition(".")
        if rest == "dispatch":
            return owner in self.districts
        return unit in self.departments

    def sees_unit(self, c: Caller, unit: str) -> bool:
        if c.role == "handler":
            return unit == c.department
        return self.sees_district(c, self.unit_district(unit))


@dataclass
class Expectation:
    statuses: set[int]
    why: str


def expect(d: Directory, route: str, c: Caller, filters: dict) -> Expectation:
    """The answer the contract asks for, worked out from the directory alone."""
    if c.role not in AUDIENCE[route]:
        return Expectation({403}, f"{c.role} may not use {route}")
    district = filters.get("district")
    unit = filters.get("department") or filters.get("unit")
    # The whole city's callers have no "outside": a code they cannot see is one that names nothing.
    # For everyone else an unknown code is also not theirs: 400 or 404, both reveal nothing.
    citywide = c.role in ("auditor", "admin") or c.district == CITY
    unknown, outside, inconsistent = [], [], []
    if district is not None:
        if district not in d.districts:
            unknown.append(f"district {district}")
        if c.role != "channel" and not d.sees_district(c, district) and not (citywide and unknown):
            outside.append(f"district {district}")
    if unit is not None:
        if not d.unit_known(unit):
            unknown.append(f"unit {unit}")
        if c.role != "channel" and not d.sees_unit(c, unit) and not (citywide and not d.unit_known(unit)):
            outside.append(f"unit {unit}")
    city_wide_filter = district == CITY and unit is not None and d.unit_district(unit) in d.districts
    if (
        district is not None
        and unit is not None
        and d.unit_district(unit) != district
        and not city_wide_filter
    ):
        inconsistent.append(f"{unit} is not of {district}")
    if unknown and outside:
        return Expectation({400, 404}, f"unknown {unknown} and outside {outside}")
    if unknown:
        return Expectation({400}, f"names nothing: {unknown}")
    if outside:
        return Expectation({404}, f"outside the caller's scope: {outside}")
    if inconsistent:
        return Expectation({400}, f"inconsistent: {inconsistent}")
    if city_wide_filter:
        return Expectation({200, 400}, "the city and one of its departments: all below it, or 400")
    if route == "violations" and district is None and unit is None and c.role != "handler":
        # README: "?unit=… or ?district=…"; a listing of the whole scope is fine too.
        return Expectation({200, 400}, "no filter: the whole scope, or 400 asking for one")
    return Expectation({200}, "within scope")


# --- the data -----------------------------------------------------------------------------------------


@dataclass
class World:
    directory: Directory
    petitions: dict[str, dict]  # id -> the petition as the admin reads it (no timeline)
    violations: list[dict]  # every violation, as the admin lists them district by district
    attention: list[dict]  # every notification needing a person, as the admin lists them
    roles: dict[str, list[str]] = field(default_factory=dict)  # "A@210902" -> [ids]
    violation_day: str = ""


def now_of(api) -> datetime:
    return datetime.fromisoformat(api.get("/_local/clock").json()["now"])


def move_to(api, instant: datetime) -> None:
    r = api.post("/_local/clock", {"set": instant.isoformat()})
    assert r.status_code == 200, (r.status_code, r.text)


def sweep(api) -> dict:
    r = api.post("/_local/sweep")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def next_monday_ten(after: datetime) -> datetime:
    day = (after + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


def submit(api, channel: str, district: str, phone: str = pf.PHONE) -> str:
    body = pf.petition_body(district=district, citizen={"name": "张三", "phone": phone})
    r = api.post("/v1/petitions", body, as_=channel)
    assert r.status_code == 201, (channel, district, r.status_code, r.text)
    return r.json()["id"]


def step(api, pid: str, action: str, who: str, body: dict) -> None:
    r = api.post(f"/v1/petitions/{pid}/{action}", body, as_=who)
    assert r.status_code == 200, (pid, action, who, r.status_code, r.text)


def build_petitions(api, district: str) -> dict[str, str]:
    """One petition per role in the table below, of ``district``; returns role -> id."""
    urban, housing = f"{district}.urban", f"{district}.housing"
    made = {}
    made["A"] = submit(api, "local-wechat", district)  # received: dispatch runs late → slow_dispatch
    made["B"] = submit(api, "local-hotline", district)  # dispatched, never accepted → refused_order
    step(api, made["B"], "dispatch", f"dispatcher@{district}", {"department": urban})
    made["C"] = submit(api, "local-wechat", district)  # accepted by housing, within its time
    step(api, made["C"], "dispatch", f"dispatcher@{district}", {"department": housing})
    step(api, made["C"], "accept", f"handler@{housing}", {})
    made["E"] = submit(api, "local-hotline", district)  # returned by urban → returned violation
    step(api, made["E"], "dispatch", f"dispatcher@{district}", {"department": urban})
    step(api, made["E"], "return", f"handler@{urban}", {"reason": "function", "note": "非本单位职能"})
    made["F"] = submit(api, "local-wechat", district)  # closed
    step(api, made["F"], "dispatch", f"dispatcher@{district}", {"department": urban})
    step(api, made["F"], "accept", f"handler@{urban}", {})
    step(api, made["F"], "resolve", f"handler@{urban}", {"reply": "已修复路灯"})
    step(api, made["F"], "review", f"reviewer@{district}", {"approve": True, "note": "属实"})
    return made


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


@pytest.fixture(scope="module")
def world(api) -> World:
    from chalicelib.notify.sns import SnsPort
    from chalicelib.runtime import get_runtime
    from chalicelib.settings import get_settings

    class RefusingSms(SnsPort):
        """SNS that refuses the SMS to FAILING_PHONES: their receipts end up dead, for the board."""

        def send_sms(self, phone, message):
            if phone.removeprefix("+86") in FAILING_PHONES:
                raise ConnectionError("SNS refuses this phone (test)")
            return super().send_sms(phone, message)

    districts = {d["code"] for d in api.get("/v1/directory/districts").json()["items"]}
    departments = {}
    for code in districts:
        r = api.get("/v1/directory/departments", params={"district": code})
        assert r.status_code == 200, r.text
        departments.update({dep["code"]: code for dep in r.json()["items"]})
    assert {CITY, *HOME, THIRD} <= districts and UNKNOWN_DISTRICT not in districts
    assert UNKNOWN_DEPARTMENT not in departments and "210902.urban" in departments

    start = next_monday_ten(now_of(api))
    move_to(api, start)
    runtime = get_runtime()
    normal_port = runtime.publisher.port
    runtime.publisher.port = RefusingSms(get_settings())
    roles: dict[str, list[str]] = {}
    began = time.monotonic()
    try:

        def build(district: str) -> dict[str, str]:
            client = pf.quick_api(api.url)
            made = build_petitions(client, district) if district in HOME else {}
            if district == THIRD:
                made["A"] = submit(client, "local-wechat", THIRD)
            made["X"] = submit(client, "local-hotline", district, phone=DEAD_PHONE[district])
            return made

        with ThreadPoolExecutor(max_workers=3) as pool:  # one district per thread
            for district, made in zip((*HOME, THIRD), pool.map(build, (*HOME, THIRD)), strict=True):
                for role, pid in made.items():
                    roles[f"{role}@{district}"] = [pid]
        built = time.monotonic()
        # The receipts to FAILING_PHONES are retried after 30 s, 60 s, … and dead after 5 attempts.
        for _ in range(6):
            move_to(api, now_of(api) + timedelta(hours=1))
            sweep(api)
    finally:
        runtime.publisher.port = normal_port
    # Thursday noon: every dispatch and accept stage of Monday is more than a working day late.
    move_to(api, start + timedelta(days=3, hours=2))
    sweep(api)

    admin = "admin@210900"
    petitions = {}
    for ids in roles.values():
        for pid in ids:
            r = api.get(f"/v1/petitions/{pid}", as_=admin)
            assert r.status_code == 200, r.text
            petitions[pid] = {k: v for k, v in r.json().items() if k != "timeline"}
    violations = []
    for code in sorted(districts):
        r = api.get("/v1/violations", as_=admin, params={"district": code})
        assert r.status_code == 200, (code, r.status_code, r.text)
        violations += r.json()["items"]
    r = api.get("/v1/notifications/attention", as_=admin)
    assert r.status_code == 200, r.text
    attention = r.json()["items"]

    # The data this module needs really exists (else the table below proves nothing).
    have = {(v["unit"], v["kind"], v["petition_id"]) for v in violations}
    for district in HOME:
        wanted = {
            (f"{district}.dispatch", "slow_dispatch", roles[f"A@{district}"][0]),
            (f"{district}.urban", "refused_order", roles[f"B@{district}"][0]),
            (f"{district}.urban", "returned", roles[f"E@{district}"][0]),
        }
        assert wanted <= have, f"violations the setup should have made are missing: {wanted - have}"
    dead = {n["petition_id"] for n in attention}
    wanted_dead = {roles[f"X@{d}"][0] for d in (*HOME, THIRD)}
    assert wanted_dead <= dead, f"dead receipts missing from the admin's attention list: {wanted_dead - dead}"
    days = sorted({v["at"][:10] for v in violations})
    print(
        f"\nworld: {len(petitions)} petitions, {len(violations)} violations on {days}, "
        f"{len(attention)} notifications needing a person; built in {built - began:.1f} s, "
        f"in all {time.monotonic() - began:.1f} s"
    )
    return World(Directory(districts, departments), petitions, violations, attention, roles, days[-1])


# --- running a table --------------------------------------------------------------------------------


@dataclass
class Row:
    route: str
    caller: Caller
    filters: dict
    expected: Expectation


@dataclass
class Outcome:
    tried: int = 0
    statuses: Counter = field(default_factory=Counter)
    wrong_status: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    off_filter: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    bad_shape: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, what) -> None:
        with self.lock:
            getattr(self, kind).append(what)

    def failures(self) -> list:
        return self.wrong_status + self.leaks + self.off_filter + self.missing + self.bad_shape

    def report(self, title: str) -> str:
        return (
            f"{title}: tried {self.tried}, statuses {dict(sorted(self.statuses.items()))}, "
            f"wrong status {len(self.wrong_status)}, leaks {len(self.leaks)}, "
            f"items off the filter {len(self.off_filter)}, missing {len(self.missing)}, "
            f"bad error shape {len(self.bad_shape)}"
        )


def request_line(row: Row) -> str:
    query = "&".join(f"{k}={'true' if v is True else v}" for k, v in row.filters.items())
    return f"GET {PATHS[row.route]}{'?' + query if query else ''} as {row.caller.name}"


def describe(row: Row, r) -> str:
    return f"{request_line(row)} → {r.status_code} {r.text[:300]}"


def fetch(client, row: Row):
    """The answer (the first page), and every item over all pages for petitions."""
    params = {k: ("true" if v is True else v) for k, v in row.filters.items()}
    if row.route == "petitions":
        params["limit"] = 100
    r = client.get(PATHS[row.route], as_=row.caller.name, params=params)
    items = None
    if r.status_code == 200 and row.route == "petitions":
        items = list(r.json()["items"])
        cursor, pages = r.json()["next_cursor"], 1
        while cursor and pages < 20:
            page = client.get(PATHS[row.route], as_=row.caller.name, params={**params, "cursor": cursor})
            assert page.status_code == 200, (describe(row, page), cursor)
            items += page.json()["items"]
            cursor, pages = page.json()["next_cursor"], pages + 1
    elif r.status_code == 200 and row.route in ("violations", "attention"):
        items = r.json()["items"]
    return r, items


def check_error(row: Row, r, outcome: Outcome) -> None:
    try:
        body = r.json()
        error = body["error"]
        ok = (
            set(body) == {"error"}
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
            and error["message"]
            and set(error) <= {"code", "message", "field"}
            and error["code"] == ERROR_CODES.get(r.status_code, error["code"])
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        outcome.add("bad_shape", f"{describe(row, r)} (not the contract's error shape or code)")
    if r.status_code == 400 and ok and not r.json()["error"].get("field"):
        outcome.add("bad_shape", f"{describe(row, r)} (a 400 names no field)")


def in_parallel(api, fn, cases, workers: int = 1) -> None:
    """fn(client, case) for every case, on a few threads, each with its own one-shot client
    (a fresh connection per request) and the tokens fetched beforehand."""
    local = threading.local()
    for name in CALLERS:
        if name not in CHANNELS:
            api.token(name)  # fetched after the clock moved; the threads copy them

    def one(case) -> None:
        if not hasattr(local, "api"):
            local.api = pf.quick_api(api.url)
            local.api._tokens = dict(api._tokens)
        fn(local.api, case)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, cases))


def run_table(api, rows: list[Row], judge, title: str) -> Outcome:
    outcome = Outcome()

    def one(client, row: Row) -> None:
        r, items = fetch(client, row)
        with outcome.lock:
            outcome.tried += 1
            outcome.statuses[r.status_code] += 1
        if r.status_code not in row.expected.statuses:
            outcome.add(
                "wrong_status",
                f"{describe(row, r)} — expected {sorted(row.expected.statuses)} ({row.expected.why})",
            )
        if r.status_code >= 400:
            check_error(row, r, outcome)
        elif r.status_code == 200 and 200 in row.expected.statuses:
            judge(row, r.json(), items, outcome, f"{request_line(row)} → 200")
        elif r.status_code == 200:  # already wrong: report only what it leaks, not each symptom again
            seen = Outcome()
            judge(row, r.json(), items, seen, f"{request_line(row)} → 200")
            for line in seen.leaks:
                outcome.add("leaks", line)

    in_parallel(api, one, rows)
    print("\n" + outcome.report(title))
    return outcome


def assert_clean(outcome: Outcome, title: str) -> None:
    failures = outcome.failures()
    for line in failures:  # all of them, for whoever fixes the code (the assertion shows the first 40)
        print("  FAIL", line)
    shown = "\n  ".join(failures[:40])
    more = f"\n  … and {len(failures) - 40} more" if len(failures) > 40 else ""
    assert not failures, f"{outcome.report(title)}\n  {shown}{more}"


# --- the predicates: within scope, matching the filters -----------------------------------------------


def petition_in_scope(w: World, c: Caller, p: dict) -> bool:
    if c.role == "channel":
        return p["channel"] == c.channel
    if c.role == "handler":
        return p["department"] == c.department or c.department in (p.get("co_departments") or [])
    return w.directory.sees_district(c, p["district"])


def petition_matches(filters: dict, p: dict) -> bool:
    if "district" in filters and filters["district"] != CITY and p["district"] != filters["district"]:
        return False
    if "department" in filters and p["department"] != filters["department"]:
        return False
    if "status" in filters and p["status"] != filters["status"]:
        return False
    if filters.get("overdue") and p["sla_state"] != "overdue":
        return False
    return True


def violation_in_scope(w: World, c: Caller, v: dict) -> bool:
    if v["unit"].split(".")[0] != v["district"]:
        return False  # a record that contradicts itself is never right to show
    if c.role == "handler":
        return v["unit"] == c.department
    return w.directory.sees_district(c, v["district"])


def violation_matches(filters: dict, v: dict) -> bool:
    if "district" in filters and filters["district"] != CITY and v["district"] != filters["district"]:
        return False
    if "unit" in filters and v["unit"] != filters["unit"]:
        return False
    if "from" in filters and v["at"][:10] < filters["from"]:
        return False
    if "to" in filters and v["at"][:10] > filters["to"]:
        return False
    return True


def violation_key(v: dict) -> str:
    return f"{v['unit']}/{v['kind']}/{v['petition_id']}/{v['stage']}"


def exact(row: Row, got: list[str], want: list[str], outcome: Outcome, text: str) -> None:
    """Exactly the expected items: each absent one is missing, each surplus one (not already
    reported as a leak or off the filter) is reported as unexpected. Skipped for a city-level
    district filter (it may mean the city's own or all below it: both are within scope)."""
    if row.filters.get("district") == CITY:
        return
    absent = sorted(Counter(want) - Counter(got))
    if absent:
        outcome.add("missing", f"{text} — missing {len(absent)} item(s) in scope and filter: {absent[:8]}")


def report_items(outcome: Outcome, text: str, leaks: list[str], off: list[str]) -> None:
    if leaks:
        outcome.add("leaks", f"{text} — LEAK, {len(leaks)} item(s) outside the caller's scope: {leaks[:8]}")
    if off:
        outcome.add("off_filter", f"{text} — {len(off)} item(s) not matching the filter: {off[:8]}")


# --- the tables ------------------------------------------------------------------------------------------


def rows_for(route: str, w: World, combos: list[dict], callers=CALLERS) -> list[Row]:
    rows = []
    for name in callers:
        c = caller(name)
        for filters in combos:
            rows.append(Row(route, c, filters, expect(w.directory, route, c, filters)))
    return rows


def product(**axes) -> list[dict]:
    combos = [{}]
    for key, values in axes.items():
        combos = [{**c, **({key: v} if v is not None else {})} for c in combos for v in values]
    return combos


DISTRICT_VALUES = [None, "210902", "210903", THIRD, CITY, UNKNOWN_DISTRICT]


def test_petition_listing_by_every_caller_and_filter(api, world):
    w = world
    combos = product(
        district=DISTRICT_VALUES, department=[None, "210902.urban", "210903.urban", UNKNOWN_DEPARTMENT]
    )
    combos += [
        {"status": "received"},
        {"status": "dispatched", "district": "210903"},
        {"status": "closed", "department": "210902.urban"},
        {"overdue": True},
        {"overdue": True, "district": "210902"},
        {"overdue": True, "department": "210903.urban"},
    ]
    rows = rows_for("petitions", w, combos)

    def judge(row: Row, body: dict, items: list[dict], outcome: Outcome, text: str) -> None:
        c = row.caller
        leaks, off = [], []
        for p in items:
            label = (
                f"{p['id']} {p['district']}/{p['department']}/{p['channel']}/{p['status']}/{p['sla_state']}"
            )
            if p["id"] not in w.petitions or not petition_in_scope(w, c, w.petitions[p["id"]]):
                leaks.append(label)
            elif not petition_matches(row.filters, p):
                off.append(label)
        report_items(outcome, text, leaks, off)
        want = [
            pid
            for pid, p in w.petitions.items()
            if petition_in_scope(w, c, p) and petition_matches(row.filters, p)
        ]
        exact(row, [p["id"] for p in items], want, outcome, text)

    outcome = run_table(api, rows, judge, "GET /v1/petitions")
    assert_clean(outcome, "GET /v1/petitions")


def test_reading_each_petition_by_every_caller(api, world):
    """The read of one petition: 200 within scope, else 404 — the same as an unknown id."""
    w = world
    outcome = Outcome()
    cases = [(name, pid) for name in CALLERS for pid in w.petitions]

    def one(client, case) -> None:
        name, pid = case
        p = w.petitions[pid]
        r = client.get(f"/v1/petitions/{pid}", as_=name)
        with outcome.lock:
            outcome.tried += 1
            outcome.statuses[r.status_code] += 1
        want = 200 if petition_in_scope(w, caller(name), p) else 404
        text = f"GET /v1/petitions/{pid} ({p['district']}/{p['department']}/{p['channel']}) as {name}"
        if r.status_code != want:
            kind = "leaks" if r.status_code == 200 else "wrong_status"
            outcome.add(kind, f"{text} → {r.status_code} {r.text[:200]} — expected {want}")

    in_parallel(api, one, cases)
    print("\n" + outcome.report("GET /v1/petitions/{id}"))
    assert_clean(outcome, "GET /v1/petitions/{id}")


def test_violation_listing_by_every_caller_and_filter(api, world):
    w = world
    units = [None, "210902.urban", "210903.urban", "210902.dispatch", "210903.dispatch", UNKNOWN_DEPARTMENT]
    combos = product(district=DISTRICT_VALUES, unit=units)
    combos += [
        {"district": "210902", "from": w.violation_day, "to": w.violation_day},
        {"district": "210903", "from": "2026-01-01", "to": "2026-01-31"},
        {"unit": "210903.urban", "from": w.violation_day},
        {"unit": "210902.urban", "to": "2026-01-31"},
    ]
    rows = rows_for("violations", w, combos)

    def judge(row: Row, body: dict, items: list[dict], outcome: Outcome, text: str) -> None:
        c = row.caller
        leaks = [f"{violation_key(v)} ({v['district']})" for v in items if not violation_in_scope(w, c, v)]
        off = [
            f"{violation_key(v)} at {v['at']}"
            for v in items
            if violation_in_scope(w, c, v) and not violation_matches(row.filters, v)
        ]
        report_items(outcome, text, leaks, off)
        want = [
            violation_key(v)
            for v in w.violations
            if violation_in_scope(w, c, v) and violation_matches(row.filters, v)
        ]
        exact(row, [violation_key(v) for v in items], want, outcome, text)

    outcome = run_table(api, rows, judge, "GET /v1/violations")
    assert_clean(outcome, "GET /v1/violations")


def test_the_reported_violation_leak(api, world):
    """Reported: `?district=210903&unit=210902.urban` answered 210902's records to callers of other
    districts. A unit outside the caller's scope is a 404, whatever district is given with it."""
    assert any(v["unit"] == "210902.urban" for v in world.violations), "no 210902.urban violation to leak"
    answers = {}
    for name in ("dispatcher@210903", "supervisor@210904", "reviewer@210911", "handler@210903.urban"):
        r = api.get("/v1/violations", as_=name, params={"district": "210903", "unit": "210902.urban"})
        answers[name] = (r.status_code, r.text[:300])
    wrong = {name: a for name, a in answers.items() if a[0] != 404}
    assert not wrong, f"GET /v1/violations?district=210903&unit=210902.urban must be 404: {wrong}"
    leaked = {name: a for name, a in answers.items() if "210902.urban" in a[1] and '"items"' in a[1]}
    assert not leaked, f"210902's violations shown outside 210902: {leaked}"


def test_attention_listing_by_every_caller_and_filter(api, world):
    w = world
    rows = rows_for("attention", w, product(district=DISTRICT_VALUES))

    def district_of(n: dict) -> str | None:
        p = w.petitions.get(n["petition_id"])
        return p["district"] if p else None

    def judge(row: Row, body: dict, items: list[dict], outcome: Outcome, text: str) -> None:
        c = row.caller
        leaks, off = [], []
        for n in items:
            district = district_of(n)
            label = f"{n['id']} of {n['petition_id']} ({district})"
            if district is None or not w.directory.sees_district(c, district):
                leaks.append(label)
            elif row.filters.get("district", CITY) not in (CITY, district):
                off.append(label)
        report_items(outcome, text, leaks, off)
        want = [
            n["id"]
            for n in w.attention
            if w.directory.sees_district(c, district_of(n) or "")
            and row.filters.get("district", CITY) in (CITY, district_of(n))
        ]
        exact(row, [n["id"] for n in items], want, outcome, text)

    outcome = run_table(api, rows, judge, "GET /v1/notifications/attention")
    assert_clean(outcome, "GET /v1/notifications/attention")


def test_stats_by_every_caller_and_filter(api, world):
    w = world
    combos = product(
        district=[None, "210902", "210903", UNKNOWN_DISTRICT],
        department=[None, "210902.urban", "210903.urban"],
    )
    combos += [{"district": CITY}, {"department": UNKNOWN_DEPARTMENT}, {"district": THIRD}]
    rows = rows_for("stats", w, combos)

    def in_scope(c: Caller, p: dict) -> bool:
        if c.role == "handler":
            return p["department"] == c.department
        return w.directory.sees_district(c, p["district"])

    def judge(row: Row, body: dict, items, outcome: Outcome, text: str) -> None:
        c = row.caller
        leaks, off = [], []
        for code, figures in body.get("by_district", {}).items():
            label = f"by_district[{code}] received {figures.get('received')}"
            if not w.directory.sees_district(c, code):
                leaks.append(label)
            elif row.filters.get("district", CITY) not in (CITY, code):
                off.append(label)
        for code, figures in body.get("by_department", {}).items():
            label = f"by_department[{code}] received {figures.get('received')}"
            if not (
                w.directory.sees_unit(c, code)
                if c.role == "handler"
                else w.directory.sees_district(c, code.split(".")[0])
            ):
                leaks.append(label)
            elif row.filters.get("department", code) != code or row.filters.get("district", CITY) not in (
                CITY,
                code.split(".")[0],
            ):
                off.append(label)
        received = body["total"]["received"]
        scoped = [p for p in w.petitions.values() if in_scope(c, p)]
        if received > len(scoped):
            leaks.append(f"total.received {received}, but only {len(scoped)} petitions are in scope at all")
        report_items(outcome, text, leaks, off)
        if row.filters.get("district") == CITY or received > len(scoped):
            return
        filters = {k: v for k, v in row.filters.items() if k in ("district", "department")}
        want = [p for p in scoped if petition_matches(filters, p)]
        if received != len(want):
            kind = "off_filter" if received > len(want) else "missing"
            outcome.add(
                kind, f"{text} — total.received {received}, expected {len(want)} (in scope and filter)"
            )

    outcome = run_table(api, rows, judge, "GET /v1/stats")
    assert_clean(outcome, "GET /v1/stats")


def test_the_table_covers_every_operator_role(world):
    """Every operator role of the directory's seeded users appears in the table."""
    roles = {caller(name).role for name in OPERATORS}
    assert roles == {"dispatcher", "handler", "reviewer", "supervisor", "chief", "auditor", "admin"}
