"""A generated city-year (issue 17): Fuxin's seven districts filing and handling petitions through the
real services, so the figures and timelines it leaves are the platform's own.

``plan(days, seed)`` is pure and deterministic: per day and district a number of petitions (海州区
rising linearly from 10 to 100 a day over the period, the others steady), each with a channel drawn
from MIX, a department, and a fate — most go the plain way (dispatch, accept, resolve, close, rate),
some departments accept late (the sweep's reminders and violations follow), return the order (退单,
dispatched again), ask for an extension (延期, approved), or get reopened by a dissatisfied citizen
(重办). ``run(plan, runtime)`` replays it through the runtime's services — intake, the petition
actions, the sweep once a simulated evening — moving the runtime's clock, so every commit goes
through the unit of work. Tests run a month on the in-memory runtime; ``make demo`` runs the last
month against the local stack (``python -m bench.city --days 30 --stack``).

Run: ``python -m bench.city --days 365`` (the in-memory runtime: figures only, fastest), or
``--stack`` to write into a local stack of its own kept in ``var/state`` (``make demo``: the last
month, so the console of the next ``make run`` is alive on first look).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import SHANGHAI

DISTRICTS = ("210902", "210903", "210904", "210905", "210911", "210921", "210922")
STEADY = {"210903": 6, "210904": 8, "210905": 4, "210911": 7, "210921": 9, "210922": 8}  # a day
HAIZHOU = "210902"
HAIZHOU_FROM, HAIZHOU_TO = 10, 100
# The channels' mix (the demo directory's five channels): mini program first, then the hotline.
MIX = (("wechat", 0.45), ("hotline_12345", 0.30), ("phone", 0.10), ("grid", 0.10), ("walkin", 0.05))
DEPARTMENTS = ("urban", "housing", "market", "hrss", "civil")
# Fates and their weights; a department's late acceptance is its habit (see LATE_DEPARTMENTS).
FATES = (("plain", 0.72), ("returned", 0.08), ("extended", 0.08), ("reopened", 0.07), ("open", 0.05))
LATE_DEPARTMENTS = {"housing"}  # 住建 accepts a day and a half late, every time
RATINGS = ("satisfied", "satisfied", "satisfied", "basically_satisfied")
TEXTS = (
    "小区路灯不亮，晚上出行不便",
    "楼道堆放杂物，存在消防隐患",
    "道路井盖破损，车辆行人有危险",
    "供暖温度不达标，室内只有十五度",
    "市场占道经营，早高峰拥堵",
    "拖欠农民工工资三个月",
    "低保申请迟迟没有答复",
    "噪音扰民，夜间施工到十二点",
)


@dataclass(frozen=True)
class Filed:
    """One petition of the plan: when it arrives and what becomes of it."""

    n: int
    at: datetime
    district: str
    channel: str
    department: str
    fate: str
    text: str
    phone: str
    rating: str


def haizhou_rate(day: int, days: int) -> int:
    if days <= 1:
        return HAIZHOU_TO
    return round(HAIZHOU_FROM + (HAIZHOU_TO - HAIZHOU_FROM) * day / (days - 1))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def plan(days: int, seed: int, start: datetime, scale: float = 1.0) -> list[Filed]:
    """The petitions of ``days`` days from ``start`` (a Shanghai midnight), deterministic in ``seed``;
    ``scale`` multiplies every district's daily number (tests run a month at a tenth)."""
    rng = random.Random(seed)
    out: list[Filed] = []
    for day in range(days):
        midnight = start + timedelta(days=day)
        for district in DISTRICTS:
            count = haizhou_rate(day, days) if district == HAIZHOU else STEADY[district]
            count = max(1, round(count * scale))
            for _ in range(count):
                n = len(out)
                minute = rng.randrange(8 * 60, 20 * 60)  # filed between 08:00 and 20:00
                out.append(
                    Filed(
                        n=n,
                        at=midnight + timedelta(minutes=minute, seconds=rng.randrange(60)),
                        district=district,
                        channel=_pick(rng, MIX),
                        department=f"{district}.{rng.choice(DEPARTMENTS)}",
                        fate=_pick(rng, FATES),
                        text=rng.choice(TEXTS),
                        phone=f"13{rng.randrange(10**9):09d}",
                        rating=rng.choice(RATINGS),
                    )
                )
    out.sort(key=lambda f: (f.at, f.n))
    return out


def steps(f: Filed) -> list[tuple[timedelta, str, dict]]:
    """What happens to a petition after it is filed: (delay after filing, action, payload)."""
    late = f.department.split(".")[1] in LATE_DEPARTMENTS
    accept_after = timedelta(hours=36) if late else timedelta(hours=3)
    out: list[tuple[timedelta, str, dict]] = [(timedelta(hours=1), "dispatch", {"department": f.department})]
    if f.fate == "returned":
        out += [
            (timedelta(hours=2), "return", {"reason": "function", "note": "不属本单位职能"}),
            (timedelta(hours=3), "dispatch", {"department": f"{f.district}.urban"}),
        ]
    if f.fate == "open":
        return out  # still with the dispatcher or the department at the end of the period
    out.append((accept_after + timedelta(hours=2), "accept", {}))
    resolve_after = accept_after + timedelta(days=2)
    if f.fate == "extended":
        out += [
            (
                accept_after + timedelta(days=1),
                "extension",
                {"working_days": 5, "reason": "需协调多部门现场勘查"},
            ),
            (accept_after + timedelta(days=1, hours=2), "extension/decision", {"approve": True}),
        ]
        resolve_after = accept_after + timedelta(days=6)
    out += [
        (resolve_after, "resolve", {"reply": "已到现场处理完毕，并向群众说明情况。"}),
        (resolve_after + timedelta(hours=4), "review", {"approve": True}),
    ]
    if f.fate == "reopened":
        again = resolve_after + timedelta(days=1)
        out += [
            (again, "feedback", {"rating": "dissatisfied", "comment": "问题没有解决"}),
            (again + timedelta(days=2), "resolve", {"reply": "重新处理，已彻底解决。"}),
            (again + timedelta(days=2, hours=4), "review", {"approve": True}),
            (again + timedelta(days=3), "feedback", {"rating": "satisfied"}),
        ]
    else:
        out.append((resolve_after + timedelta(days=1), "feedback", {"rating": f.rating}))
    return out


@dataclass
class Outcome:
    created: int = 0
    actions: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # (action, error code): a plan the state refused
    sweeps: int = 0
    fired: int = 0
    ids: list[str] = field(default_factory=list)


def _who(action: str, f: Filed) -> Any:
    from chalicelib.auth.identity import CHANNEL, OPERATOR, Identity

    if action == "feedback":
        return Identity(kind=CHANNEL, name=f.channel, role="channel")
    if action == "dispatch":
        return Identity(
            kind=OPERATOR, name=f"dispatcher@{f.district}", role="dispatcher", district=f.district
        )
    if action == "extension/decision":
        return Identity(
            kind=OPERATOR, name=f"supervisor@{f.district}", role="supervisor", district=f.district
        )
    if action == "review":
        return Identity(kind=OPERATOR, name=f"reviewer@{f.district}", role="reviewer", district=f.district)
    return None  # the holder: resolved when it acts (the department may have changed)


def _handler(runtime: Any, pid: str) -> Any:
    from chalicelib.auth.identity import OPERATOR, Identity

    p = runtime.stores.petitions.get(pid)
    dep = p.department
    return Identity(kind=OPERATOR, name=f"handler@{dep}", role="handler", district=p.district, department=dep)


def set_clock(clock: Any, instant: datetime) -> None:
    if hasattr(clock, "set"):
        if instant > clock.now():
            clock.set(instant)
    else:  # a test's held clock
        clock.at = max(clock.at, instant)


def run(filed: list[Filed], runtime: Any, until: datetime | None = None, progress: bool = False) -> Outcome:
    """Replays the plan through the runtime's services, in time order, with a sweep each evening."""
    from chalicelib.auth.identity import CHANNEL, Identity
    from chalicelib.errors import FztError
    from chalicelib.intake.models import PetitionIn

    workers: dict[str, str] = {}
    for w in runtime.directory().grid_workers:
        workers.setdefault(w.id.split("-")[1], w.id)  # gw-<district>-nn
    out = Outcome()
    queue: list[tuple[datetime, int, int, str, dict]] = []  # (at, order, petition n, action, payload)
    order = 0
    ids: dict[int, str] = {}
    by_n = {f.n: f for f in filed}
    end = until or (max(f.at for f in filed) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    next_sweep = filed[0].at.replace(hour=18, minute=0, second=0) if filed else end
    pending = iter(filed)
    nxt = next(pending, None)
    started = time.perf_counter()
    while True:
        candidates = []
        if nxt is not None:
            candidates.append((nxt.at, 0))
        if queue:
            candidates.append((queue[0][0], 1))
        candidates.append((next_sweep, 2))
        at, kind = min(candidates)
        if at >= end:
            break
        set_clock(runtime.clock, at)
        if kind == 2:
            result = runtime.run_sweep(at)
            out.sweeps += 1
            out.fired += len(result.get("fired", [])) if isinstance(result, dict) else 0
            next_sweep += timedelta(days=1)
            if progress and out.sweeps % 30 == 0:
                rate = out.created / (time.perf_counter() - started)
                print(f"  {at.date()}: {out.created:,} petitions, {rate:.0f}/s", file=sys.stderr, flush=True)
            continue
        if kind == 0:
            f = nxt
            nxt = next(pending, None)
            body: dict[str, Any] = {
                "district": f.district,
                "content": f"{f.text}（{f.n}）",
                "citizen": {"phone": f.phone},
            }
            channel = f.channel
            if channel == "grid":  # reported by one of the district's grid workers (网格员代办)
                worker = workers.get(f.district)
                if worker is None:
                    channel = "hotline_12345"
                else:
                    body["reported_by"] = worker
            who = Identity(kind=CHANNEL, name=channel, role="channel")
            _, created = runtime.intake.create(who, PetitionIn.model_validate(body), None)
            ids[f.n] = created["id"]
            out.ids.append(created["id"])
            out.created += 1
            for delay, action, payload in steps(f):
                order += 1
                heapq.heappush(queue, (f.at + delay, order, f.n, action, payload))
            continue
        _, _, n, action, payload = heapq.heappop(queue)
        f = by_n[n]
        who = _who(action, f) or _handler(runtime, ids[n])
        try:
            runtime.petitions.act(who, ids[n], action, dict(payload))
            out.actions[action] += 1
        except FztError as exc:
            out.refused[(action, exc.code)] += 1
    return out


def summary(runtime: Any, ids: list[str]) -> dict:
    """What the stored petitions say (status, district, channel), independent of the ids' letters."""
    by: dict[str, Counter] = {"status": Counter(), "district": Counter(), "channel": Counter()}
    for pid in ids:
        p = runtime.stores.petitions.get(pid)
        by["status"][p.status] += 1
        by["district"][p.district] += 1
        by["channel"][p.channel] += 1
    return {k: dict(sorted(v.items())) for k, v in by.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.city")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every district's daily number")
    parser.add_argument("--end", default=None, help="the last day (YYYY-MM-DD); default: yesterday")
    parser.add_argument(
        "--stack", action="store_true", help="write into a local stack of its own (var/state kept)"
    )
    parser.add_argument("--state", default="var/state", help="with --stack: the state folder (make run's)")
    args = parser.parse_args(argv or [])
    from chalicelib.clock import wall_now

    last = (
        datetime.fromisoformat(args.end).replace(tzinfo=SHANGHAI)
        if args.end
        else wall_now().astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        - timedelta(days=1)
    )
    start = last - timedelta(days=args.days - 1)
    filed = plan(args.days, args.seed, start, args.scale)
    print(f"plan: {len(filed):,} petitions over {args.days} days from {start.date()} (seed {args.seed})")
    t = time.perf_counter()
    if args.stack:
        from pathlib import Path

        from chalicelib.local.stack import LocalStack
        from chalicelib.runtime import get_runtime

        stack = LocalStack(port=0, sweep_interval=0, clock_start=start, state_dir=Path(args.state)).start()
        try:
            out = run(filed, get_runtime(), progress=True)
            get_runtime().settle()
        finally:
            stack.stop()
    else:
        sys.path.insert(0, ".")
        from tests.unit.support import memory_runtime

        runtime = memory_runtime()
        runtime.clock.at = start
        out = run(filed, runtime, progress=True)
        print(summary(runtime, out.ids))
    seconds = time.perf_counter() - t
    print(
        f"created {out.created:,} petitions, {sum(out.actions.values()):,} actions "
        f"({dict(out.actions)}), {out.sweeps} sweeps firing {out.fired:,} steps, in {seconds:.0f} s "
        f"({out.created / seconds:.0f} petitions/s); refused: {dict(out.refused) or 'none'}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
