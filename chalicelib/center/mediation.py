"""A mediation case (调解) and its small state machine, pure: no I/O, the instant comes in.

    open ──session──▶ open ──outcome──▶ agreement | failed | withdrawn

A case is opened by the center's or the court's mediator (or by the desk or the dispatcher,
naming a mediator), gathers sessions (each an SMS to every party with the time), and ends
with one outcome; a failed case may be referred to the district's court (诉前调解 that failed
goes on to trial). A concluded case takes nothing more: another session or outcome is a 409.

Parties' names and phones are kept sealed (AES-GCM) with their masked forms beside them
(chalicelib/privacy.py); only the owning unit's people read them in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.errors import Conflict, InvalidInput

KINDS = {
    "family": "婚姻家庭",
    "neighbour": "邻里纠纷",
    "labour": "劳动争议",
    "property": "物业纠纷",
    "contract": "合同纠纷",
    "other": "其他纠纷",
}
RESULTS = {"agreement": "调解成功", "failed": "调解不成", "withdrawn": "撤回调解"}
PARTY_ROLES = ("applicant", "respondent", "third_party")
STATUSES = ("open", *RESULTS)
CONCLUDED = tuple(RESULTS)

# The table: action -> (statuses it starts from, status it leads to or None = by the payload, event).
RULES: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "open": ((), "open", "opened"),
    "session": (("open",), "open", "session"),
    "outcome": (("open",), None, "concluded"),
}


@dataclass(frozen=True)
class Party:
    role: str
    name_sealed: str
    name_masked: str
    phone_sealed: str
    phone_masked: str


@dataclass(frozen=True)
class Mediation:
    id: str
    version: int
    status: str
    district: str
    unit: str  # the owning center or court (a department code): the mediator's unit
    mediator: str  # the mediator's user name
    kind: str
    pre_litigation: bool  # 诉前调解: a court's mediation before a case is filed
    parties: tuple[Party, ...]
    created_at: str
    created_by: str
    petition: str | None = None
    sessions: tuple[dict, ...] = ()  # {"at", "notes", "by"}
    result: str | None = None
    agreement: str | None = None
    judicial_confirmation: bool | None = None  # 司法确认 of the agreement
    referred_to_court: str | None = None  # the court a failed case went to
    evidence: tuple[str, ...] = ()
    concluded_at: str | None = None
    last_seq: int = 0
    updated_at: str | None = None

    @property
    def concluded(self) -> bool:
        return self.status in CONCLUDED


@dataclass
class Change:
    """What one action does: the next case, its events (each with its seq) and the SMS to send
    (``{"phone_sealed", "template", "values"}``), committed together by the service."""

    case: Mediation
    events: list[dict[str, Any]]
    sms: list[dict[str, Any]] = field(default_factory=list)


def _event(case: Mediation, seq: int, type_: str, actor: str, now: datetime, **data: Any) -> dict:
    return {
        "seq": seq,
        "type": type_,
        "at": iso(now),
        "actor": actor,
        **{k: v for k, v in data.items() if v is not None},
    }


def _check(case: Mediation, action: str) -> None:
    sources, _, _ = RULES[action]
    if case.status not in sources:
        raise Conflict(f"the mediation is {case.status}: no {action}", code="invalid_state")


def open_case(
    *,
    id: str,
    district: str,
    unit: str,
    mediator: str,
    kind: str,
    pre_litigation: bool,
    parties: tuple[Party, ...],
    petition: str | None,
    actor: str,
    now: datetime,
) -> Change:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if not parties:
        raise InvalidInput("a mediation has at least one party", field="parties")
    for n, party in enumerate(parties):
        if party.role not in PARTY_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(PARTY_ROLES)}", field=f"parties.{n}.role")
    case = Mediation(
        id=id,
        version=0,
        status="open",
        district=district,
        unit=unit,
        mediator=mediator,
        kind=kind,
        pre_litigation=pre_litigation,
        parties=parties,
        created_at=iso(now),
        created_by=actor,
        petition=petition,
        last_seq=1,
        updated_at=iso(now),
    )
    opened = _event(
        case,
        1,
        "opened",
        actor,
        now,
        kind=kind,
        mediator=mediator,
        unit=unit,
        petition=petition,
        pre_litigation=pre_litigation,
        parties=len(parties),
    )
    return Change(case, [opened])


def add_session(case: Mediation, at: datetime, notes: str | None, actor: str, now: datetime) -> Change:
    """A session (调解会) at ``at``; every party gets an SMS with the time and the place."""
    _check(case, "session")
    session = {"at": iso(at), "notes": notes, "by": actor}
    seq = case.last_seq + 1
    nxt = replace(case, sessions=(*case.sessions, session), last_seq=seq, updated_at=iso(now))
    event = _event(
        case, seq, "session", actor, now, session_at=iso(at), notes=notes, number=len(nxt.sessions)
    )
    sms = [
        {
            "phone_sealed": p.phone_sealed,
            "template": "mediation_session",
            "values": {"id": case.id, "at": iso(at)},
        }
        for p in case.parties
    ]
    return Change(nxt, [event], sms)


def conclude(
    case: Mediation,
    *,
    result: str,
    agreement: str | None,
    judicial_confirmation: bool | None,
    referred_to_court: str | None,
    evidence: tuple[str, ...],
    actor: str,
    now: datetime,
) -> Change:
    """The outcome: agreement (its text required), failed (optionally referred to court) or withdrawn."""
    _check(case, "outcome")
    if result not in RESULTS:
        raise InvalidInput(f"result must be one of {', '.join(RESULTS)}", field="result")
    if result == "agreement" and not agreement:
        raise InvalidInput("an agreement needs its text (调解协议)", field="agreement")
    if result != "agreement" and (agreement or judicial_confirmation):
        raise InvalidInput("only an agreement carries an agreement text or 司法确认", field="agreement")
    if referred_to_court and result != "failed":
        raise InvalidInput("only a failed mediation is referred to court", field="referred_to_court")
    seq = case.last_seq + 1
    nxt = replace(
        case,
        status=result,
        result=result,
        agreement=agreement,
        judicial_confirmation=judicial_confirmation,
        referred_to_court=referred_to_court,
        evidence=evidence,
        concluded_at=iso(now),
        last_seq=seq,
        updated_at=iso(now),
    )
    event = _event(
        case,
        seq,
        "concluded",
        actor,
        now,
        result=result,
        result_label=RESULTS[result],
        judicial_confirmation=judicial_confirmation,
        referred_to_court=referred_to_court,
        evidence=list(evidence) or None,
    )
    return Change(nxt, [event])


def petition_reply(case: Mediation, court_name: str | None) -> str:
    """What the linked petition's citizen is told when the outcome resolves it."""
    if case.result == "agreement":
        return f"经调解，双方已达成调解协议：{case.agreement}"
    return f"经调解未能达成协议，已引导至{court_name or '人民法院'}依法诉讼解决。"
