"""The petition state machine as a table you can read: (action) -> from, to, who, event, clock effect.

Statuses: received 待分拨, dispatched 已派单待签收, accepted 办理中, suspended 挂起,
resolved 已办结待审核, closed 已结案, merged 已并单, posted 待认领 (基层吹哨: in the district's claim pool).
"""

from __future__ import annotations

from dataclasses import dataclass

STATUS_LABELS = {
    "received": "待分拨",
    "dispatched": "已派单待签收",
    "accepted": "办理中",
    "suspended": "挂起",
    "resolved": "已办结待审核",
    "closed": "已结案",
    "merged": "已并单",
    "posted": "待认领",  # 基层吹哨: in the district's claim pool until a department claims it (§10)
}
STATUSES = tuple(STATUS_LABELS)
OPEN = ("received", "dispatched", "accepted", "suspended", "resolved", "posted")

# Clock effects (see timing/stage.py):
#   start:<stage>  a fresh stage clock       pause   fold elapsed time, stop the clock
#   resume         restart with what is left  extend  grow the budget (on approval)
#   stop           no stage runs any more     none    the clock is untouched
#   reopen         a fresh reopen stage (7 working days), counted against the department


@dataclass(frozen=True)
class Rule:
    action: str
    sources: tuple[str, ...]
    outcomes: dict[str, tuple[str | None, str, str]]  # outcome -> (to status or None=unchanged, event, clock)
    roles: tuple[str, ...]


def _one(to: str | None, event: str, clock: str) -> dict[str, tuple[str | None, str, str]]:
    return {"ok": (to, event, clock)}


RULES: dict[str, Rule] = {
    r.action: r
    for r in (
        Rule("dispatch", ("received",), _one("dispatched", "dispatched", "start:accept"), ("dispatcher",)),
        Rule("accept", ("dispatched",), _one("accepted", "accepted", "start:resolve"), ("handler",)),
        Rule("return", ("dispatched",), _one("received", "returned", "start:dispatch"), ("handler",)),
        Rule(
            "transfer",
            ("dispatched", "accepted"),
            _one("dispatched", "transferred", "start:accept"),
            ("dispatcher", "chief"),  # §12: a chief handler may forward a hard case (转办)
        ),
        Rule("extension", ("accepted",), _one(None, "extension_requested", "none"), ("handler",)),
        Rule(
            "extension/decision",
            ("accepted", "suspended"),
            {"approve": (None, "extension_decided", "extend"), "reject": (None, "extension_decided", "none")},
            ("supervisor",),
        ),
        # CONTRACT §4: the handler suspends with a supervisor's consent (named, checked) and resumes.
        Rule("suspend", ("accepted",), _one("suspended", "suspended", "pause"), ("handler",)),
        Rule("resume", ("suspended",), _one("accepted", "resumed", "resume"), ("handler",)),
        Rule("resolve", ("accepted",), _one("resolved", "resolved", "pause"), ("handler",)),
        # 首接首办: the desk that received it answers on the spot; review and rating as usual.
        Rule("answer", ("received",), _one("resolved", "answered", "pause"), ("desk",)),
        Rule(
            "review",
            ("resolved",),
            {
                "approve": ("closed", "review_approved", "stop"),
                "reject": ("accepted", "review_rejected", "resume"),
                # an on-the-spot answer sent back has no department yet: back to dispatch
                "reject_answer": ("received", "review_rejected", "start:dispatch"),
            },
            ("reviewer",),
        ),
        Rule(
            "feedback",
            ("closed",),
            {
                "satisfied": (None, "feedback", "none"),
                "dissatisfied": ("accepted", "feedback", "reopen"),
                # an on-the-spot answer rated dissatisfied: no department holds it, dispatch it
                "dissatisfied_answer": ("received", "feedback", "start:dispatch"),
            },
            ("channel",),
        ),
        Rule("escalate", OPEN, _one(None, "escalated", "none"), ("supervisor",)),
        Rule("merge", ("received",), _one("merged", "merged", "stop"), ("dispatcher",)),
        Rule("instruction", (*OPEN, "closed"), _one(None, "instruction", "none"), ("chief",)),
        # §12: a chief handler flags a key case (疑难/重点); it stays on their board until closed.
        Rule("flag", OPEN, _one(None, "flagged", "none"), ("chief",)),
        # §12: a supervisor's hand-sent 催办单 (reminder) or 督办单 (supervision notice).
        Rule("urge", OPEN, _one(None, "urged", "none"), ("supervisor",)),
        # 基层吹哨、部门报到 (§10): the grid worker or the dispatcher posts it to the district's pool; the
        # first handler to claim it takes it for their department (the claim stage: claim_within, then
        # the sweep hands it to the district's center, event fallback_assigned).
        Rule(
            "whistle", ("received",), _one("posted", "whistled", "start:claim"), ("grid_worker", "dispatcher")
        ),
        Rule("claim", ("posted",), _one("accepted", "claimed", "start:resolve"), ("handler",)),
        # 一窗受理、分流交办 (§11): the window or the dispatcher routes it; any route but dispatch hands it
        # to the district's service center (mediation, legal aid, litigation guidance), whose clock starts.
        Rule(
            "triage",
            ("received",),
            {"dispatch": (None, "triaged", "none"), "center": ("accepted", "triaged", "start:resolve")},
            ("desk", "dispatcher"),
        ),
    )
}
ACTIONS = tuple(RULES)
