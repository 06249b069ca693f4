"""Racing actions on one petition through HTTP and the moto server (DESIGN invariant 1).

Two (and eight) threads, lined up on a barrier, fire conflicting actions at the same
petition: exactly one gets 200, every other gets 409, the timeline holds exactly one
event of that kind and it carries the winner's data. Each race runs for many rounds,
and afterwards every petition's timeline is checked whole: seq 1..n without a gap,
instants in order, and the status the one the last state-changing event says.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests

from chalicelib.petitions.machine import RULES

pytestmark = pytest.mark.slow

# Each race runs this many rounds (FZT_RACE_ROUNDS to change it). Every round adds a petition and its
# events to the session's moto tables, and moto deep-copies a table on each TransactWriteItems.
ROUNDS = int(os.environ.get("FZT_RACE_ROUNDS", "30"))
CHANNEL_KEY = "local-wechat"
DEPARTMENTS = [
    "210902.urban",
    "210902.housing",
    "210902.market",
    "210902.hrss",
    "210902.civil",
    "210902.police",
    "210902.justice",
    "210902.center",
]
# What each state-changing event leaves the petition in (CONTRACT §4); other events change no status.
STATUS_AFTER = {
    "created": "received",
    "dispatched": "dispatched",
    "accepted": "accepted",
    "returned": "received",
    "transferred": "dispatched",
    "suspended": "suspended",
    "resumed": "accepted",
    "resolved": "resolved",
    "review_approved": "closed",
    "review_rejected": "accepted",
    "reopened": "accepted",
}

ACTION_OF = {
    "dispatched": "dispatch",
    "accepted": "accept",
    "returned": "return",
    "transferred": "transfer",
    "suspended": "suspend",
    "resumed": "resume",
    "resolved": "resolve",
    "review_approved": "review",
    "review_rejected": "review",
    "reopened": "feedback",
}


@dataclass
class Attempt:
    action: str
    body: dict
    as_: str
    tag: str  # what identifies this attempt's data on the timeline (a department or a note)


@dataclass
class Tally:
    """What the rounds saw: how the losers lost (a stale state, or the version check at the write)."""

    loser_codes: Counter = field(default_factory=Counter)
    not_409: list = field(default_factory=list)  # (round, [(status, error code)]) where a loser got no 409
    winners: Counter = field(default_factory=Counter)
    petitions: list[str] = field(default_factory=list)


TIMEOUT = 120  # seconds: generous, the stack may share a busy machine


class Racer:
    """An HTTP client for these tests: one session per racer, so that a batch of requests can
    leave at once (one thread each), and plain calls through the first session in between."""

    def __init__(self, url: str, width: int) -> None:
        self.url = url
        self.sessions = [requests.Session() for _ in range(width)]
        self.tokens: dict[str, str] = {}

    def close(self) -> None:
        for s in self.sessions:
            s.close()

    def token(self, user: str, *, fresh: bool = False) -> str:
        # Other tests move the stack's clock by days, past a cached token's expiry: refresh on a 401.
        if fresh or user not in self.tokens:
            r = self.sessions[0].post(f"{self.url}/_local/token", json={"user": user}, timeout=TIMEOUT)
            r.raise_for_status()
            self.tokens[user] = r.json()["token"]
        return self.tokens[user]

    def headers(self, as_: str, *, fresh: bool = False) -> dict:
        if as_.startswith("local-"):
            return {"X-Api-Key": as_}
        return {"Authorization": f"Bearer {self.token(as_, fresh=fresh)}"}

    def send(self, method: str, path: str, as_: str, body: dict | None = None) -> requests.Response:
        url = self.url + path
        r = self.sessions[0].request(method, url, json=body, headers=self.headers(as_), timeout=TIMEOUT)
        if r.status_code == 401 and not as_.startswith("local-"):
            headers = self.headers(as_, fresh=True)
            r = self.sessions[0].request(method, url, json=body, headers=headers, timeout=TIMEOUT)
        return r

    def fire(self, petition_id: str, attempts: list[Attempt]) -> list[requests.Response]:
        """All attempts at once: each thread waits on a barrier, then posts."""
        assert len(attempts) <= len(self.sessions)
        headers = [self.headers(a.as_, fresh=True) for a in attempts]  # all fetched before the start
        barrier = threading.Barrier(len(attempts), timeout=TIMEOUT)
        results: list[requests.Response | BaseException | None] = [None] * len(attempts)

        def run(i: int) -> None:
            try:
                barrier.wait()
                results[i] = self.sessions[i].post(
                    f"{self.url}/v1/petitions/{petition_id}/{attempts[i].action}",
                    json=attempts[i].body,
                    headers=headers[i],
                    timeout=TIMEOUT,
                )
            except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(attempts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=2 * TIMEOUT)
        for r in results:
            if not isinstance(r, requests.Response):
                raise AssertionError(f"a racer failed: {r!r}")
        return results  # type: ignore[return-value]


@pytest.fixture(scope="module")
def client(stack):
    c = Racer(stack.url, width=8)
    yield c
    c.close()


# --- helpers -----------------------------------------------------------------------------------------------


def submit(client: Racer, label: str, *, phone: bool = False) -> str:
    """A fresh petition; anonymous unless ``phone`` (no citizen SMS: fewer writes per round)."""
    body = {
        "district": "210902",
        "content": f"小区门口路灯坏了一个月 {label} {uuid.uuid4().hex}",  # unique: no double-click replay
        "title": "路灯不亮",
        "category": "municipal.lighting",
    }
    if phone:
        body["citizen"] = {"name": "张三", "phone": "13800138000"}
    else:
        body["anonymous"] = True
    r = client.send("POST", "/v1/petitions", CHANNEL_KEY, body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def step(client: Racer, petition_id: str, action: str, body: dict, as_: str, status: str) -> None:
    r = client.send("POST", f"/v1/petitions/{petition_id}/{action}", as_, body)
    assert r.status_code == 200, (action, r.text)
    assert r.json()["status"] == status


def read(client: Racer, petition_id: str) -> dict:
    r = client.send("GET", f"/v1/petitions/{petition_id}", "auditor@210900")
    assert r.status_code == 200, r.text
    return r.json()


def the_one_winner(
    n: int, responses: list[requests.Response], attempts: list[Attempt], tally: Tally
) -> Attempt:
    """Exactly one 200 (asserted at once); every loser a 409 (collected, asserted after all rounds,
    so that one bad round does not hide what the others and the timelines say)."""
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 1, [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r.status_code == 200:
            continue
        error = r.json()["error"]
        assert error["message"]
        tally.loser_codes[f"{r.status_code} {error['code']}"] += 1
        if r.status_code != 409 or error["code"] not in ("conflict", "invalid_state"):
            tally.not_409.append((n, attempts[responses.index(r)].action, r.status_code, error))
    winner = attempts[codes.index(200)]
    tally.winners[winner.action] += 1
    return winner


def of_types(timeline: list[dict], *types: str) -> list[dict]:
    return [e for e in timeline if e["type"] in types]


def queued(timeline: list[dict], kind: str) -> list[dict]:
    """The outbox records a change wrote (their delivery outcomes follow as further events)."""
    return [e for e in of_types(timeline, "notification") if e["kind"] == kind and e["status"] == "queued"]


def check_whole_timeline(client: Racer, petition_id: str) -> None:
    """No event without its change, no change without its event, seen from the outside."""
    p = read(client, petition_id)
    timeline = p["timeline"]
    chain = [e for e in timeline if "seq" in e]  # delivery outcomes are shown among them, unchained
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1)), petition_id
    assert timeline[0]["type"] == "created"
    instants = [e["at"] for e in timeline]
    assert instants == sorted(instants), (
        petition_id,
        [(e["seq"], e["type"], e["at"], e.get("status")) for e in timeline],
    )
    changes = [e for e in timeline if e["type"] in STATUS_AFTER]
    assert p["status"] == STATUS_AFTER[changes[-1]["type"]], (petition_id, p["status"], changes[-1])
    # Each state change is one step the machine allows from the status the change before left:
    # no second dispatch without a return between, no second review of one resolution.
    for before, after in zip(changes, changes[1:], strict=False):
        rule = RULES[ACTION_OF[after["type"]]]
        assert STATUS_AFTER[before["type"]] in rule.sources, (petition_id, [e["type"] for e in changes])
    holders = of_types(timeline, "dispatched", "transferred", "returned")
    expected_department = (
        None if not holders or holders[-1]["type"] == "returned" else holders[-1]["department"]
    )
    assert p["department"] == expected_department, petition_id
    assert p["returns"] == len(of_types(timeline, "returned"))
    # Every queued notification belongs to the change it follows (written in the same transaction);
    # each delivery outcome (kept on its outbox record, not in the chain) comes after its queued event.
    for n, e in enumerate(timeline):
        if e["type"] != "notification":
            continue
        origin_seq = int(e["notification"].split("#")[1])
        if "seq" in e:
            assert e["status"] == "queued", (petition_id, e)
            assert origin_seq < e["seq"] and chain[origin_seq - 1]["type"] != "notification", (
                petition_id,
                e,
            )
        else:
            queued = [k for k, q in enumerate(timeline) if q.get("notification") == e["notification"]]
            assert queued[0] < n and "seq" in timeline[queued[0]], (petition_id, e)


def conclude(name: str, tally: Tally, width: int) -> None:
    print(f"\n{name}: winners {dict(tally.winners)}, losers {dict(tally.loser_codes)}")
    assert not tally.not_409, (
        f"losers answered other than 409 (CONTRACT §4: a lost race is a 409): {tally.not_409}"
    )
    if width == 8:
        assert tally.loser_codes["409 conflict"] > 0, "no loser ever reached the version check: not a race"


# --- the races ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [2, 8])
def test_dispatchers_racing_to_different_departments(client, width):
    tally = Tally()
    actors = ["dispatcher@210902", "dispatcher@210900"]  # the district's and the city's dispatcher
    for n in range(ROUNDS):
        pid = submit(client, f"dispatch race {width}/{n}")
        tally.petitions.append(pid)
        attempts = [
            Attempt(
                "dispatch", {"department": DEPARTMENTS[i], "note": f"派单{i}"}, actors[i % 2], DEPARTMENTS[i]
            )
            for i in range(width)
        ]
        responses = client.fire(pid, attempts)
        winner = the_one_winner(n, responses, attempts, tally)
        # The 200 reports the winner's own change (the local server once let racing requests
        # read each other's body: one caller's 200 described another's dispatch).
        assert responses[attempts.index(winner)].json()["department"] == winner.tag
        p = read(client, pid)
        dispatched = of_types(p["timeline"], "dispatched")
        assert len(dispatched) == 1, (n, dispatched)
        assert dispatched[0]["department"] == winner.tag and dispatched[0]["actor"] == winner.as_
        assert dispatched[0]["note"] == winner.body["note"]
        assert (p["status"], p["department"], p["first_owner"]) == ("dispatched", winner.tag, winner.tag)
        assert len(queued(p["timeline"], "new_order")) == 1, (n, p["timeline"])
    for pid in tally.petitions:
        check_whole_timeline(client, pid)
    conclude(f"dispatch x{width}", tally, width)


@pytest.mark.parametrize("width", [2, 8])
def test_accept_racing_return(client, width):
    tally = Tally()
    handler = "handler@210902.urban"
    for n in range(ROUNDS):
        pid = submit(client, f"accept/return race {width}/{n}")
        tally.petitions.append(pid)
        step(client, pid, "dispatch", {"department": "210902.urban"}, "dispatcher@210902", "dispatched")
        attempts = [
            Attempt("accept", {"note": f"签收{i}"}, handler, f"accept{i}")
            if i % 2 == 0
            else Attempt("return", {"reason": "function", "note": f"退单{i}"}, handler, f"退单{i}")
            for i in range(width)
        ]
        winner = the_one_winner(n, client.fire(pid, attempts), attempts, tally)
        p = read(client, pid)
        moves = of_types(p["timeline"], "accepted", "returned")
        assert len(moves) == 1, (n, moves)
        assert moves[0]["actor"] == handler and moves[0]["department"] == "210902.urban"
        if winner.action == "accept":
            assert moves[0]["type"] == "accepted"
            assert (p["status"], p["department"], p["returns"]) == ("accepted", "210902.urban", 0)
            assert p["stage"]["name"] == "resolve"
        else:
            assert moves[0]["type"] == "returned" and moves[0]["note"] == winner.tag
            assert (p["status"], p["department"], p["returns"]) == ("received", None, 1)
            assert p["stage"]["name"] == "dispatch"
    for pid in tally.petitions:
        check_whole_timeline(client, pid)
    conclude(f"accept/return x{width}", tally, width)


@pytest.mark.parametrize("width", [2, 8])
def test_two_reviews_racing(client, width):
    tally = Tally()
    reviewers = ["reviewer@210902", "reviewer@210900"]  # approvals and rejections from both
    for n in range(ROUNDS):
        pid = submit(client, f"review race {width}/{n}", phone=True)  # the closure SMS, sent once
        tally.petitions.append(pid)
        step(client, pid, "dispatch", {"department": "210902.urban"}, "dispatcher@210902", "dispatched")
        step(client, pid, "accept", {}, "handler@210902.urban", "accepted")
        step(client, pid, "resolve", {"reply": "已更换灯泡，恢复照明"}, "handler@210902.urban", "resolved")
        attempts = [
            Attempt(
                "review", {"approve": i % 2 == 0, "note": f"审核{i}"}, reviewers[(i + i // 2) % 2], f"审核{i}"
            )
            for i in range(width)
        ]
        winner = the_one_winner(n, client.fire(pid, attempts), attempts, tally)
        p = read(client, pid)
        reviews = of_types(p["timeline"], "review_approved", "review_rejected")
        assert len(reviews) == 1, (n, reviews)
        assert reviews[0]["note"] == winner.tag and reviews[0]["actor"] == winner.as_
        if winner.body["approve"]:
            assert reviews[0]["type"] == "review_approved"
            assert (p["status"], p["stage"], p["awaiting_feedback"]) == ("closed", None, True)
            assert len(queued(p["timeline"], "closure")) == 1, (n, p["timeline"])
        else:
            assert reviews[0]["type"] == "review_rejected"
            assert p["status"] == "accepted" and p["stage"]["running"]
    for pid in tally.petitions:
        check_whole_timeline(client, pid)
    conclude(f"review x{width}", tally, width)


def test_a_loser_that_arrives_after_the_winner_gets_409(client):
    """The slowest loser of a race reads the petition after the winner's write: the same as a late
    second click. It lost the race (CONTRACT §4: 409), whatever the winner did to the petition —
    also when the winner took it out of the loser's department (a return, a transfer)."""
    handler = "handler@210902.urban"
    answers = {}

    pid = submit(client, "late loser after a return")
    step(client, pid, "dispatch", {"department": "210902.urban"}, "dispatcher@210902", "dispatched")
    step(client, pid, "return", {"reason": "function", "note": "非本单位职能"}, handler, "received")
    for action, body in (("accept", {}), ("return", {"reason": "function", "note": "再次退单"})):
        r = client.send("POST", f"/v1/petitions/{pid}/{action}", handler, body)
        answers[f"{action} after a return"] = (r.status_code, r.json().get("error", {}).get("code"))

    pid = submit(client, "late loser after a transfer")
    step(client, pid, "dispatch", {"department": "210902.urban"}, "dispatcher@210902", "dispatched")
    step(
        client,
        pid,
        "transfer",
        {"department": "210902.housing", "reason": "属住建部门职责"},
        "dispatcher@210902",
        "dispatched",
    )
    r = client.send("POST", f"/v1/petitions/{pid}/accept", handler, {})
    answers["accept after a transfer"] = (r.status_code, r.json().get("error", {}).get("code"))

    wrong = {k: v for k, v in answers.items() if v[0] != 409}
    assert not wrong, f"late losers answered other than 409: {wrong}"
