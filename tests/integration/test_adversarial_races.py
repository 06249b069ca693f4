"""Adversarial races: requests lined up on a barrier and fired at once, each thread on its own
fresh HTTP connection (127.0.0.1 only), in bounded rounds (CONTRACT §4, README "Petitions").

- 20 creates with one Idempotency-Key and one body: one petition, every answer its id (201 once,
  200 the rest), one `created` event, one receipt SMS;
  the same key with two bodies: one petition, the other body 409 `idempotency_key_reused`;
  the very same body without a key (a double-click): one petition.
- 10 dispatches of one petition: exactly one 200, the rest 409, one `dispatched` event.
- Merges (并单): two dispatchers merging two petitions into each other at once; A→B while B→C;
  A→B, B→C and C→A at once. No petition lost (every merged one is listed by the main petition its
  chain ends at, so its citizen hears the outcome), none duplicated (listed by two, or twice), no
  cycle, and exactly one `merged` event per merged petition.

Each test prints: tried, 5xx, leaks (a 200 that describes another petition than the one acted
on), duplicates, lost. Run with ``-s`` to see them.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.integration import petition_factory as pf

TIMEOUT = 60
CHANNEL = "local-walkin"  # this module's own channel: its listing holds only these petitions
DISPATCHERS = ("dispatcher@210902", "dispatcher@210900")  # the district's and the city's
DEPARTMENTS = ("210902.urban", "210902.housing", "210902.market", "210902.hrss", "210902.civil")
_phones = itertools.count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Tally:
    tried: int = 0
    server_errors: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    wrong: list = field(default_factory=list)  # answers or outcomes other than the contract's
    statuses: Counter = field(default_factory=Counter)

    def report(self, title: str) -> str:
        return (
            f"{title}: tried {self.tried}, statuses {dict(sorted(self.statuses.items(), key=str))}, "
            f"5xx {len(self.server_errors)}, leaks {len(self.leaks)}, duplicates {len(self.duplicates)}, "
            f"lost {len(self.lost)}, other contract breaches {len(self.wrong)}"
        )

    def conclude(self, title: str) -> None:
        print("\n" + self.report(title))
        failures = self.server_errors + self.leaks + self.duplicates + self.lost + self.wrong
        for line in failures:
            print("  FAIL", line)
        shown = "\n  ".join(failures[:25])
        more = f"\n  … and {len(failures) - 25} more" if len(failures) > 25 else ""
        assert not failures, f"{self.report(title)}\n  {shown}{more}"


@dataclass
class Shot:
    method: str
    path: str
    headers: dict
    body: bytes | None = None

    def describe(self) -> str:
        who = self.headers.get("X-Api-Key") or "bearer"
        key = self.headers.get("Idempotency-Key")
        text = (self.body or b"").decode()[:160]
        return f"{self.method} {self.path} as {who}{f' Idempotency-Key={key}' if key else ''} {text}"


def answer(r: requests.Response) -> str:
    return f"{r.status_code} {r.text[:300]}"


class Racer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api = pf.quick_api(url)

    def headers(self, who: str) -> dict:
        return self.api.headers(who)

    def fire(self, shots: list[Shot], tally: Tally) -> list[tuple[Shot, requests.Response]]:
        """All at once: each thread opens its own connection, waits on the barrier, then sends."""
        barrier = threading.Barrier(len(shots), timeout=TIMEOUT)
        results: list = [None] * len(shots)

        def run(i: int) -> None:
            shot = shots[i]
            with requests.Session() as session:
                session.headers["Connection"] = "close"
                request = requests.Request(
                    shot.method,
                    self.url + shot.path,
                    headers={**shot.headers, "Content-Type": "application/json"},
                    data=shot.body,
                )
                prepared = session.prepare_request(request)
                try:
                    barrier.wait()
                    results[i] = session.send(prepared, timeout=TIMEOUT)
                except BaseException as exc:  # noqa: BLE001 - reported in the test's thread below
                    results[i] = exc

        threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(len(shots))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=2 * TIMEOUT)
        answered: list[tuple[Shot, requests.Response]] = []
        for shot, r in zip(shots, results, strict=True):
            tally.tried += 1
            if not isinstance(r, requests.Response):
                # No answer at all (the server reset or dropped the connection): the client cannot
                # know what happened. Counted and reported; the other answers are still judged.
                tally.statuses["no answer"] += 1
                tally.wrong.append(f"{shot.describe()} → no answer, {len(shots)} at once: {r!r}")
                continue
            tally.statuses[r.status_code] += 1
            if r.status_code >= 500:
                tally.server_errors.append(f"{shot.describe()} → {answer(r)}")
            answered.append((shot, r))
        return answered

    def read(self, pid: str) -> dict:
        r = self.api.get(f"/v1/petitions/{pid}", as_="admin@210900")
        assert r.status_code == 200, (pid, r.status_code, r.text)
        return r.json()

    def submit(self, label: str) -> str:
        body = pf.petition_body(content=pf.unique_text(f"小区路灯坏了 {label}"))
        r = self.api.post("/v1/petitions", body, as_=CHANNEL)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["id"]


@pytest.fixture(scope="module")
def racer(stack):
    """The racer, on a working day at 10:00 (outside quiet hours: receipts go out at once)."""
    r = Racer(stack.url)
    now = datetime.fromisoformat(r.api.get("/_local/clock").json()["now"]).astimezone(SHANGHAI)
    day = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert r.api.post("/_local/clock", {"set": day.isoformat()}).status_code == 200
    return r


def body_bytes(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def mine(racer: Racer, content: str) -> list[dict]:
    """The channel's petitions with this content (the whole listing, every page)."""
    return [p for p in pf.list_all(racer.api, CHANNEL) if p["content"] == content]


def events(p: dict, kind: str) -> list[dict]:
    return [e for e in p["timeline"] if e["type"] == kind]


# --- idempotency ----------------------------------------------------------------------------------


def fresh_body(label: str) -> tuple[dict, str]:
    phone = f"1370014{next(_phones):04d}"
    return pf.petition_body(content=pf.unique_text(f"楼道灯不亮 {label}"), citizen={"phone": phone}), phone


def check_one_petition(racer: Racer, tally: Tally, what: str, content: str, phone: str) -> str | None:
    """Exactly one petition with this content, one `created` event, one receipt SMS."""
    found = mine(racer, content)
    if len(found) > 1:
        tally.duplicates.append(f"{what}: {len(found)} petitions stored: {[p['id'] for p in found]}")
    if not found:
        tally.lost.append(f"{what}: no petition stored")
        return None
    p = racer.read(found[0]["id"])
    if len(events(p, "created")) != 1:
        tally.duplicates.append(f"{what}: {p['id']} has {len(events(p, 'created'))} `created` events")
    receipts = [
        e for e in racer.api.get("/_local/outbox", params={"to": "+86" + phone}).json() if e["kind"] == "sms"
    ]
    if len(receipts) != 1:
        tally.duplicates.append(f"{what}: {len(receipts)} receipt SMS to {phone} (one expected)")
    return found[0]["id"]


def test_twenty_creates_with_one_idempotency_key(racer):
    tally = Tally()
    key_headers = racer.headers(CHANNEL)
    for n in range(3):
        body, phone = fresh_body(f"idem {n}")
        key = f"race-{uuid.uuid4().hex}"
        shot = Shot("POST", "/v1/petitions", {**key_headers, "Idempotency-Key": key}, body_bytes(body))
        answers = [r for _, r in racer.fire([shot] * 20, tally)]
        what = f"round {n}: 20 × {shot.describe()}"
        stored_id = check_one_petition(racer, tally, what, body["content"], phone)
        codes = Counter(r.status_code for r in answers)
        ids = Counter(r.json().get("id") for r in answers if r.status_code in (200, 201))
        if set(codes) - {200, 201}:
            others = [answer(r) for r in answers if r.status_code not in (200, 201)][:3]
            tally.wrong.append(f"{what}: answers {dict(codes)}, e.g. {others} (same key, same body: 201/200)")
        if len(ids) > 1 or (stored_id and ids and set(ids) != {stored_id}):
            tally.duplicates.append(f"{what}: answered ids {dict(ids)}, stored {stored_id}")
        if codes.get(201, 0) > 1 or (len(answers) == 20 and codes.get(201, 0) != 1):
            tally.wrong.append(f"{what}: {codes.get(201, 0)} answers were 201 (README: one 201, replays 200)")
        for r in answers:
            if r.status_code in (200, 201) and r.json().get("content") != body["content"]:
                tally.leaks.append(f"{what}: an answer describes another petition: {answer(r)}")
    tally.conclude("20 creates, one Idempotency-Key")


def test_one_idempotency_key_with_two_bodies_at_once(racer):
    tally = Tally()
    headers = racer.headers(CHANNEL)
    for n in range(2):
        (first, _), (second, _) = fresh_body(f"two bodies a{n}"), fresh_body(f"two bodies b{n}")
        key = f"race-{uuid.uuid4().hex}"
        shots = [
            Shot("POST", "/v1/petitions", {**headers, "Idempotency-Key": key}, body_bytes(b))
            for b in (first, second) * 5
        ]
        answered = racer.fire(shots, tally)
        what = f"round {n}: one Idempotency-Key {key}, two bodies × 5"
        stored = mine(racer, first["content"]) + mine(racer, second["content"])
        if len(stored) != 1:
            kind = tally.duplicates if len(stored) > 1 else tally.lost
            kind.append(f"{what}: {len(stored)} petitions stored: {[p['id'] for p in stored]}")
            continue
        winner = stored[0]
        for shot, r in answered:
            won = json.loads(shot.body)["content"] == winner["content"]
            if won and (r.status_code not in (200, 201) or r.json().get("id") != winner["id"]):
                tally.wrong.append(f"{what}: the stored body's request → {answer(r)} (want {winner['id']})")
            if not won and (r.status_code != 409 or r.json()["error"]["code"] != "idempotency_key_reused"):
                tally.wrong.append(
                    f"{what}: the other body's request → {answer(r)} (want 409 idempotency_key_reused)"
                )
    tally.conclude("one Idempotency-Key, two bodies")


def test_the_same_body_without_a_key_ten_times_at_once(racer):
    """README: without a key, the very same body from one channel within 120 s is a double-click."""
    tally = Tally()
    headers = racer.headers(CHANNEL)
    for n in range(2):
        body, phone = fresh_body(f"double click {n}")
        shot = Shot("POST", "/v1/petitions", headers, body_bytes(body))
        answers = [r for _, r in racer.fire([shot] * 10, tally)]
        what = f"round {n}: 10 × {shot.describe()}"
        stored_id = check_one_petition(racer, tally, what, body["content"], phone)
        ids = Counter(r.json().get("id") for r in answers if r.status_code in (200, 201))
        bad = [answer(r) for r in answers if r.status_code not in (200, 201)]
        if bad:
            tally.wrong.append(f"{what}: answers other than 200/201: {bad[:3]}")
        if len(ids) > 1 or (stored_id and ids and set(ids) != {stored_id}):
            tally.duplicates.append(f"{what}: answered ids {dict(ids)}, stored {stored_id}")
    tally.conclude("same body, no key, 10 at once")


# --- dispatch ----------------------------------------------------------------------------------------


def test_ten_dispatches_of_one_petition(racer):
    tally = Tally()
    tokens = {who: racer.headers(who) for who in DISPATCHERS}
    for n in range(5):
        pid = racer.submit(f"dispatch race {n}")
        shots = [
            Shot(
                "POST",
                f"/v1/petitions/{pid}/dispatch",
                tokens[DISPATCHERS[i % 2]],
                body_bytes({"department": DEPARTMENTS[i % len(DEPARTMENTS)], "note": f"派单{n}-{i}"}),
            )
            for i in range(10)
        ]
        answered = racer.fire(shots, tally)
        answers = [r for _, r in answered]
        what = f"round {n}: 10 dispatches of {pid}"
        codes = Counter(r.status_code for r in answers)
        if codes.get(200, 0) > 1 or set(codes) - {200, 409} or (len(answers) == 10 and codes[200] != 1):
            detail = [answer(r) for r in answers if r.status_code != 409][:3]
            tally.wrong.append(f"{what}: answers {dict(codes)} (want one 200, nine 409): {detail}")
        p = racer.read(pid)
        dispatched = events(p, "dispatched")
        if len(dispatched) != 1:
            tally.duplicates.append(f"{what}: {len(dispatched)} `dispatched` events: {dispatched}")
        winners = [(s, r) for s, r in answered if r.status_code == 200]
        if len(winners) == 1 and dispatched:
            shot, r = winners[0]
            sent = json.loads(shot.body)
            if r.json().get("id") != pid or r.json().get("department") != sent["department"]:
                tally.leaks.append(f"{what}: the 200 describes another change: sent {sent}, got {answer(r)}")
            if (dispatched[0].get("department"), dispatched[0].get("note")) != (
                sent["department"],
                sent["note"],
            ):
                tally.wrong.append(f"{what}: the 200 was {sent} but the timeline says {dispatched[0]}")
        for r in answers:
            if r.status_code == 409 and r.json()["error"]["code"] not in ("conflict", "invalid_state"):
                tally.wrong.append(f"{what}: a loser's 409 has code {r.json()['error']['code']}")
    tally.conclude("10 dispatches of one petition")


# --- merges ----------------------------------------------------------------------------------------


def merge_shot(racer: Racer, child: str, into: str, who: str) -> Shot:
    return Shot(
        "POST",
        f"/v1/petitions/{child}/merge",
        racer.headers(who),
        body_bytes({"into": into, "note": "同一件事"}),
    )


def check_merges(racer: Racer, tally: Tally, what: str, ids: list[str]) -> dict[str, dict]:
    """No petition lost or duplicated by the merges among ``ids``."""
    ps = {pid: racer.read(pid) for pid in ids}
    roots: dict[str, str] = {}
    for pid in ids:
        seen, current = [pid], pid
        while ps[current]["status"] == "merged":
            current = ps[current]["merged_into"]
            if current in seen:
                tally.lost.append(f"{what}: merge cycle {' → '.join([*seen, current])}: no main petition")
                break
            seen.append(current)
            if current not in ps:
                ps[current] = racer.read(current)
        else:
            roots[pid] = current
    for pid, p in ps.items():
        # A merged petition was merged once (its `merged` event with `into`); before that it may have
        # been the main petition of another's merge (a `merged` event naming the one merged into it).
        into = [e for e in events(p, "merged") if e.get("into")]
        if p["status"] == "merged" and len(into) != 1:
            tally.duplicates.append(f"{what}: {pid} was merged {len(into)} times: {into}")
        if p["status"] != "merged" and p.get("merged_into"):
            tally.wrong.append(f"{what}: {pid} is {p['status']} but merged_into {p['merged_into']}")
    listed: Counter = Counter()
    for root in set(roots.values()):
        listed.update(ps[root]["merged"])
        if len(ps[root]["merged"]) != len(set(ps[root]["merged"])):
            tally.duplicates.append(f"{what}: {root} lists a petition twice: {ps[root]['merged']}")
    for pid, root in roots.items():
        if pid != root and pid not in ps[root]["merged"]:
            tally.lost.append(
                f"{what}: {pid} is merged (chain ends at {root}) but {root} does not list it: "
                f"{root}.merged = {ps[root]['merged']} — its citizen never hears the outcome"
            )
    for pid, n in listed.items():
        if n > 1:
            tally.duplicates.append(f"{what}: {pid} is listed by {n} main petitions")
        if pid in roots and roots[pid] == pid:
            tally.duplicates.append(f"{what}: {pid} is still open but listed as merged by a main petition")
    return ps


def record(
    tally: Tally, what: str, answered: list[tuple[Shot, requests.Response]]
) -> list[requests.Response]:
    """Judges each answer of a merge race; returns the answers."""
    for shot, r in answered:
        if r.status_code not in (200, 409):
            tally.wrong.append(f"{what}: {shot.describe()} → {answer(r)} (a merge race answers 200 or 409)")
        if r.status_code == 200:
            child = shot.path.split("/")[3]
            into = json.loads(shot.body)["into"]
            if r.json().get("id") != child or r.json().get("merged_into") != into:
                tally.leaks.append(f"{what}: the 200 to {shot.describe()} describes {answer(r)}")
    return [r for _, r in answered]


def test_two_dispatchers_merging_two_petitions_into_each_other(racer):
    tally = Tally()
    for n in range(5):
        p, q = racer.submit(f"swap {n} p"), racer.submit(f"swap {n} q")
        shots = [merge_shot(racer, p, q, DISPATCHERS[0]), merge_shot(racer, q, p, DISPATCHERS[1])]
        what = f"round {n}: {p}→{q} and {q}→{p} at once"
        answers = record(tally, what, racer.fire(shots, tally))
        codes = sorted(r.status_code for r in answers)
        if len(answers) == 2 and codes != [200, 409]:
            tally.wrong.append(
                f"{what}: answers {codes} (want one 200, one 409): {[answer(r) for r in answers]}"
            )
        check_merges(racer, tally, what, [p, q])
    tally.conclude("merges into each other")


def test_merging_a_into_b_while_b_into_c(racer):
    tally = Tally()
    for n in range(5):
        a, b, c = (racer.submit(f"chain {n} {x}") for x in "abc")
        shots = [
            merge_shot(racer, a, b, DISPATCHERS[n % 2]),
            merge_shot(racer, b, c, DISPATCHERS[(n + 1) % 2]),
        ]
        what = f"round {n}: {a}→{b} while {b}→{c}"
        answers = record(tally, what, racer.fire(shots, tally))
        if len(answers) == 2 and all(r.status_code != 200 for r in answers):
            tally.wrong.append(f"{what}: neither merge succeeded: {[answer(r) for r in answers]}")
        ps = check_merges(racer, tally, what, [a, b, c])
        if ps[c]["status"] == "merged":
            tally.wrong.append(f"{what}: {c} was merged, though nobody merged it")
    tally.conclude("A→B while B→C")


def test_three_merges_in_a_ring(racer):
    tally = Tally()
    for n in range(3):
        a, b, c = (racer.submit(f"ring {n} {x}") for x in "abc")
        shots = [
            merge_shot(racer, a, b, DISPATCHERS[0]),
            merge_shot(racer, b, c, DISPATCHERS[1]),
            merge_shot(racer, c, a, DISPATCHERS[0]),
        ]
        what = f"round {n}: {a}→{b}, {b}→{c}, {c}→{a} at once"
        answers = record(tally, what, racer.fire(shots, tally))
        if sum(r.status_code == 200 for r in answers) == 3:
            tally.lost.append(f"{what}: all three merges succeeded: a ring, no main petition")
        ps = check_merges(racer, tally, what, [a, b, c])
        if all(p["status"] == "merged" for p in ps.values()):
            tally.lost.append(f"{what}: all three are merged")
    tally.conclude("three merges in a ring")
