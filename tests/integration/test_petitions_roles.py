"""Every caller × every petition action, read route and submission (CONTRACT §4).

The expectations are written down below as a table, from the contract's actions
table ("who") and the roles of `chalicelib.petitions.machine.RULES`; they are NOT
computed from the code under test.

The petition under test is the standard one (petition_factory): submitted by
`local-wechat` in 海州区 210902, dispatched to 210902.urban.

How to read an answer:
- 401: no credentials, an unknown API key, or a token that does not verify.
- 403: the caller's kind or role may not take this action at all (said before
  the petition is even looked at, so it leaks nothing).
- 404: the role fits but the petition is outside the caller's scope (another
  district, another department, another channel): the same answer as for an
  unknown petition — no leak.
- 409: right caller, but the petition is not in a state the action starts from.
- 200: done; the petition moves as the contract's table says, and the timeline
  gains the event, with the caller as actor.
"""

from __future__ import annotations

import pytest

from tests.integration import petition_factory as pf

# --- the callers ------------------------------------------

CALLERS = [
    "anonymous",
    "bad-api-key",
    "bad-token",
    "local-wechat",  # the owning channel
    "local-hotline",
    "local-grid",
    "local-walkin",
    "dispatcher@210902",
    "handler@210902.urban",  # the department the petition is dispatched to
    "handler@210902.housing",  # another department of the same district
    "reviewer@210902",
    "supervisor@210902",
    "chief@210902",
    "auditor@210900",
    "admin@210900",
    "dispatcher@210903",  # another district
    "chief@210900",  # the city's chief handler
    "desk@210900.center",  # the first-inquiry unit of the mini program's petitions (首问)
    "desk@210902.center",  # another desk: not its first inquiry
]

# --- the expectations ------------------------------------------
# One column per caller, in the order of CALLERS:
#  anon  key  tok  wech hotl grid walk disp h.urb h.hou rev  sup  chf  aud  adm  d903 c900 k900 k902
MATRIX = """
dispatch            401 401 401 403 403 403 403 200 403 403 403 403 403 403 403 404 403 403 403
accept              401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
return              401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
transfer            401 401 401 403 403 403 403 200 403 403 403 403 200 403 403 404 200 403 403
extension           401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
extension/decision  401 401 401 403 403 403 403 403 403 403 403 200 403 403 403 403 403 403 403
suspend             401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
resume              401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
resolve             401 401 401 403 403 403 403 403 200 404 403 403 403 403 403 403 403 403 403
answer              401 401 401 403 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
review              401 401 401 403 403 403 403 403 403 403 200 403 403 403 403 403 403 403 403
feedback            401 401 401 200 404 404 404 403 403 403 403 403 403 403 403 403 403 403 403
escalate            401 401 401 403 403 403 403 403 403 403 403 200 403 403 403 403 403 403 403
merge               401 401 401 403 403 403 403 200 403 403 403 403 403 403 403 404 403 403 403
instruction         401 401 401 403 403 403 403 403 403 403 403 403 200 403 403 403 200 403 403
triage              401 401 401 403 403 403 403 200 403 403 403 403 403 403 403 404 403 200 404
whistle             401 401 401 403 403 403 403 200 403 403 403 403 403 403 403 404 403 403 403
claim               401 401 401 403 403 403 403 403 200 200 403 403 403 403 403 403 403 403 403
flag                401 401 401 403 403 403 403 403 403 403 403 403 200 403 403 403 200 403 403
urge                401 401 401 403 403 403 403 403 403 403 403 200 403 403 403 403 403 403 403
"""

# The reads of that petition, and the submission route.
READ_MATRIX = """
get_one             401 401 401 200 404 404 404 200 200 404 200 200 200 200 200 404 200 200 404
list                401 401 401 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200
listed              -   -   -   yes no  no  no  yes yes no  yes yes yes yes yes no  yes yes no
submit              401 401 401 201 201 201 201 403 403 403 403 403 403 403 403 403 403 403 403
"""


def _table(text: str) -> dict[str, dict[str, str]]:
    rows = {}
    for line in text.strip().splitlines():
        name, *cells = line.split()
        assert len(cells) == len(CALLERS), f"row {name} has {len(cells)} cells"
        rows[name] = dict(zip(CALLERS, cells, strict=True))
    return rows


EXPECTED = _table(MATRIX)
EXPECTED_READS = _table(READ_MATRIX)

# Grid workers (网格员, CONTRACT §10), columns of their own: the standard petition's point lies in
# 解放街道 210902-001 (located at intake), so that street's worker sees it; 新邱区's does not.
GRID_CALLERS = ["gridworker@210902-001", "gridworker@210903-001"]
GRID_MATRIX = """
dispatch            403 403
accept              403 403
return              403 403
transfer            403 403
extension           403 403
extension/decision  403 403
suspend             403 403
resume              403 403
resolve             403 403
answer              403 403
review              403 403
feedback            403 403
escalate            403 403
merge               403 403
instruction         403 403
whistle             200 404
claim               403 403
flag                403 403
urge                403 403
triage              403 403
get_one             200 404
list                200 200
listed              yes no
submit              403 403
"""
for _line in GRID_MATRIX.strip().splitlines():
    _name, *_cells = _line.split()
    for _table_rows in (EXPECTED, EXPECTED_READS):
        if _name in _table_rows:
            _table_rows[_name].update(zip(GRID_CALLERS, _cells, strict=True))
CALLERS.extend(GRID_CALLERS)

# Mediators (调解员, CONTRACT §11), columns of their own: 海州区's center's mediator reads the district's
# petitions like its dispatcher does; 新邱区's court's does not see this one. No action is theirs: a
# linked petition moves with its mediation's outcome (POST /v1/mediations/{id}/outcome), not here.
MEDIATOR_CALLERS = ["mediator@210902.center", "mediator@210903.court"]
MEDIATOR_MATRIX = """
dispatch            403 403
accept              403 403
return              403 403
transfer            403 403
extension           403 403
extension/decision  403 403
suspend             403 403
resume              403 403
resolve             403 403
answer              403 403
review              403 403
feedback            403 403
escalate            403 403
merge               403 403
instruction         403 403
whistle             403 403
claim               403 403
flag                403 403
urge                403 403
triage              403 403
get_one             200 404
list                200 200
listed              yes no
submit              403 403
"""
for _line in MEDIATOR_MATRIX.strip().splitlines():
    _name, *_cells = _line.split()
    for _table_rows in (EXPECTED, EXPECTED_READS):
        if _name in _table_rows:
            _table_rows[_name].update(zip(MEDIATOR_CALLERS, _cells, strict=True))
CALLERS.extend(MEDIATOR_CALLERS)

# The state each action starts from (its `sources` in the contract), and what it leads to.
START_STATE = {
    "dispatch": "received",
    "accept": "dispatched",
    "return": "dispatched",
    "transfer": "dispatched",
    "extension": "accepted",
    "extension/decision": "extension_pending",
    "suspend": "accepted",
    "resume": "suspended",
    "resolve": "accepted",
    "answer": "received",
    "review": "resolved",
    "feedback": "closed",
    "escalate": "received",
    "merge": "received",
    "instruction": "received",
    "triage": "received",
    "whistle": "received",
    "claim": "posted",
    "flag": "received",
    "urge": "received",
}
OUTCOME = {  # action -> (status after, timeline event)
    "dispatch": ("dispatched", "dispatched"),
    "accept": ("accepted", "accepted"),
    "return": ("received", "returned"),
    "transfer": ("dispatched", "transferred"),
    "extension": ("accepted", "extension_requested"),
    "extension/decision": ("accepted", "extension_decided"),
    "suspend": ("suspended", "suspended"),
    "resume": ("accepted", "resumed"),
    "resolve": ("resolved", "resolved"),
    "answer": ("resolved", "answered"),
    "review": ("closed", "review_approved"),
    "feedback": ("closed", "feedback"),
    "escalate": ("received", "escalated"),
    "merge": ("merged", "merged"),
    "instruction": ("received", "instruction"),
    "triage": ("accepted", "triaged"),  # route mediation: the district's center takes it
    "whistle": ("posted", "whistled"),
    "claim": ("accepted", "claimed"),
    "flag": ("received", "flagged"),
    "urge": ("received", "urged"),
}
# A state NOT among the action's sources, visible to the allowed caller: the answer is 409.
WRONG_STATE = {
    "dispatch": "dispatched",
    "accept": "accepted",
    "return": "accepted",
    "transfer": "received",
    "extension": "dispatched",
    "extension/decision": "dispatched",
    "suspend": "dispatched",
    "resume": "accepted",
    "resolve": "dispatched",
    "answer": "dispatched",
    "review": "accepted",
    "feedback": "received",
    "escalate": "closed",
    "merge": "dispatched",
    "instruction": "merged",
    "triage": "dispatched",
    "whistle": "dispatched",
    "claim": "accepted",
    "flag": "closed",
    "urge": "closed",
}
ERROR_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "invalid_state"}


def test_the_table_covers_every_action_of_the_state_machine():
    from chalicelib.petitions.machine import RULES

    assert set(EXPECTED) == set(RULES) == set(START_STATE) == set(OUTCOME) == set(WRONG_STATE)
    assert all(set(row) == set(CALLERS) for row in (*EXPECTED.values(), *EXPECTED_READS.values()))


def test_the_table_agrees_with_the_roles_of_the_rules():
    """Whoever the table lets act has a role RULES names; every role RULES names acts somewhere."""
    from chalicelib.petitions.machine import RULES

    for action, row in EXPECTED.items():
        allowed = {_role(c) for c, cell in row.items() if cell == "200"}
        assert allowed == set(RULES[action].roles), action


def _role(caller: str) -> str:
    if caller.startswith("local-"):
        return "channel"
    prefix = caller.split("@")[0]
    return {"gridworker": "grid_worker"}.get(prefix, prefix)  # gridworker@<grid> has role grid_worker


@pytest.fixture(scope="module")
def api(stack):
    return pf.quick_api(stack.url)


# --- calling as someone ------------------------------------------


def credentials(api, caller: str) -> dict:
    if caller == "anonymous":
        return {}
    if caller == "bad-api-key":
        return {"X-Api-Key": "local-nobody"}
    if caller == "bad-token":
        return {"Authorization": "Bearer fzt.eyJzdWIiOiJhZG1pbkAyMTA5MDAifQ.forged-signature"}
    return api.headers(caller)


def call(api, method: str, path: str, caller: str, body=None, **kw):
    headers = credentials(api, caller)
    if method == "GET":
        return api.get(path, headers=headers, **kw)
    return api.post(path, body, headers=headers, **kw)


def assert_error(r, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    error = r.json()["error"]
    assert error["code"] == ERROR_CODES[status], error
    assert error["message"]


# --- petitions, built as needed ------------------------------------------


@pytest.fixture(scope="module")
def shared(api):
    """Petitions that rejected calls may share (a rejected call changes nothing), built once each."""
    cache: dict[str, str] = {}

    def get(key: str) -> str:
        if key not in cache:
            state = key.split(":", 1)[1]
            cache[key] = pf.petition_in(api, state)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def merge_target(api):
    """A received petition of the same district that duplicates get merged into."""
    return pf.create(api)["id"]


def _body(action: str, merge_target: str) -> dict:
    return pf.action_body(action, into=merge_target)


# --- every caller × every action ------------------------------------------


CASES = [(action, caller) for action in EXPECTED for caller in CALLERS]


@pytest.mark.parametrize("action, caller", CASES, ids=[f"{a}-by-{c}" for a, c in CASES])
def test_action_answers_each_caller_as_the_table_says(api, shared, merge_target, action, caller):
    expected = int(EXPECTED[action][caller])
    state = START_STATE[action]
    # Given a petition in a state the action starts from (a fresh one if this call may change it)
    pid = pf.petition_in(api, state) if expected == 200 else shared(f"{action}:{state}")
    before = pf.read(api, pid)

    # When the caller takes the action with a valid body
    r = call(api, "POST", f"/v1/petitions/{pid}/{action}", caller, _body(action, merge_target))

    # Then the answer is the table's, and only an allowed call changed the petition
    after = pf.read(api, pid)
    # (the chained events: a notification's delivery, shown among them, may land meanwhile)
    chain_before, chain_after = pf.chain(before), pf.chain(after)
    if expected != 200:
        assert_error(r, expected)
        assert (after["status"], len(chain_after)) == (before["status"], len(chain_before))
        return
    assert r.status_code == 200, (r.status_code, r.text)
    status, event = OUTCOME[action]
    assert r.json()["status"] == status
    assert after["status"] == status
    new_events = chain_after[len(chain_before) :]
    assert new_events, "an action appends its event to the timeline"
    assert new_events[0]["type"] == event
    actor = "channel:wechat" if caller == "local-wechat" else caller
    assert new_events[0]["actor"] == actor


@pytest.mark.parametrize("action", list(WRONG_STATE), ids=[f"{a}-from-{s}" for a, s in WRONG_STATE.items()])
def test_the_right_caller_in_the_wrong_state_gets_409(api, shared, merge_target, action):
    caller = next(c for c in CALLERS if EXPECTED[action][c] == "200")
    # Given a petition the caller can see, in a state the action does not start from
    pid = shared(f"wrong:{WRONG_STATE[action]}")
    before = pf.snapshot(api, pid)

    # When the otherwise allowed caller takes the action
    r = call(api, "POST", f"/v1/petitions/{pid}/{action}", caller, _body(action, merge_target))

    # Then 409, and nothing changed
    assert_error(r, 409)
    assert pf.snapshot(api, pid) == before


# --- every caller × the read routes and the submission ------------------------------------------


@pytest.fixture(scope="module")
def dispatched(api):
    """The standard petition, dispatched to 210902.urban (so the handler's scope includes it)."""
    return pf.petition_in(api, "dispatched")


@pytest.mark.parametrize("caller", CALLERS)
def test_reading_one_petition(api, dispatched, caller):
    expected = int(EXPECTED_READS["get_one"][caller])
    r = call(api, "GET", f"/v1/petitions/{dispatched}", caller)
    if expected != 200:
        assert_error(r, expected)
        return
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == dispatched
    assert body["status"] == "dispatched" and body["department"] == pf.DEPARTMENT
    assert [e["type"] for e in body["timeline"] if e["type"] != "notification"] == ["created", "dispatched"]


@pytest.mark.parametrize("caller", CALLERS)
def test_listing_shows_the_petition_only_to_those_who_may_see_it(api, dispatched, caller):
    expected = int(EXPECTED_READS["list"][caller])
    r = call(api, "GET", "/v1/petitions", caller, params={"status": "dispatched"})
    if expected != 200:
        assert_error(r, expected)
        return
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"items", "next_cursor"}
    ids = {p["id"] for p in pf.list_all(api, caller, status="dispatched")}
    assert (dispatched in ids) == (EXPECTED_READS["listed"][caller] == "yes")


CHANNEL_NAMES = {
    "local-wechat": "wechat",
    "local-hotline": "hotline_12345",
    "local-grid": "grid",
    "local-walkin": "walkin",
}


@pytest.mark.parametrize("caller", CALLERS)
def test_only_channels_submit_petitions(api, caller):
    expected = int(EXPECTED_READS["submit"][caller])
    body = pf.body_for_channel(caller)
    r = call(api, "POST", "/v1/petitions", caller, body)
    if expected != 201:
        assert_error(r, expected)
        return
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "received"
    assert created["channel"] == CHANNEL_NAMES[caller]
    assert created["content"] == body["content"]
