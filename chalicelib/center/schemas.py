"""Wire models of the service center's routes (CONTRACT §11): bodies validated, answers documented."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.center.mediation import KINDS, PARTY_ROLES, RESULTS, STATUSES
from chalicelib.validation import Line, Mobile, Model, Strict, Text

District = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
Note = Annotated[Text, Field(min_length=1, max_length=2000)]
EvidenceKey = Annotated[Line, Field(min_length=1, max_length=500)]


class CenterUnitOut(Model):
    unit: str
    name: str
    kind: str
    department: str | None


class CenterOut(Model):
    code: str
    district: str
    name: str
    units: list[CenterUnitOut]


class PartyIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=50)]
    phone: Mobile
    role: Literal[PARTY_ROLES]  # type: ignore[valid-type]


class MediationIn(Strict):
    petition: Annotated[str, Field(min_length=6, max_length=32)] | None = None
    kind: Literal[tuple(KINDS)]  # type: ignore[valid-type]
    parties: Annotated[list[PartyIn], Field(min_length=1, max_length=20)]
    mediator: Annotated[Line, Field(min_length=1, max_length=128)]
    pre_litigation: bool = False


class SessionIn(Strict):
    at: Annotated[str, Field(min_length=10, max_length=40, description="ISO-8601 instant of the session")]
    notes: Note | None = None


class OutcomeIn(Strict):
    result: Literal[tuple(RESULTS)]  # type: ignore[valid-type]
    agreement: Note | None = None
    judicial_confirmation: bool | None = None
    referred_to_court: bool | None = None
    evidence: Annotated[list[EvidenceKey], Field(max_length=10)] | None = None


class MediationsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    district: District | None = None
    mediator: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class PartyOut(Model):
    role: str
    name: str = Field(description="in clear for the owning center's or court's people, else masked")
    phone: str = Field(description="in clear for the owning center's or court's people, else masked")


class MediationOut(Model):
    id: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    status_label: str
    district: str
    unit: str
    unit_name: str | None
    mediator: str
    kind: str
    kind_label: str
    pre_litigation: bool
    petition: str | None
    parties: list[PartyOut]
    sessions: list[dict[str, Any]]
    next_session: str | None
    result: str | None
    agreement: str | None
    judicial_confirmation: bool | None
    referred_to_court: str | None
    evidence: list[str]
    created_at: str
    created_by: str
    concluded_at: str | None
    timeline: list[dict[str, Any]] | None = None


class MediationPage(Model):
    items: list[MediationOut]


class MediationStatsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False, "populate_by_name": True}
    district: District | None = None
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None


class SuccessRate(Model):
    value: float | None
    numerator: int
    denominator: int


class MediationFigures(Model):
    cases: int
    concluded: int
    agreements: int
    success_rate: SuccessRate = Field(description="调解成功率: agreements ÷ concluded")


class MediationGroups(Model):
    total: MediationFigures
    by_center: dict[str, MediationFigures] = Field(description="per owning center or court")
    by_mediator: dict[str, MediationFigures]
    by_kind: dict[str, MediationFigures]


class MediationStatsOut(Model):
    from_: str = Field(alias="from")
    to: str
    mediation: MediationGroups = Field(description="the centers' people's mediation (人民调解)")
    pre_litigation: MediationGroups = Field(description="诉前调解: courts' mediation before filing, apart")
    triage: dict[str, int] = Field(description="分流交办: petitions received in the window, per triage route")


class MeetingIn(Strict):
    grid: Annotated[Line, Field(min_length=1, max_length=64)]
    date: Day
    topic: Annotated[Line, Field(min_length=1, max_length=200)]
    attendees: Annotated[int, Field(ge=1, le=10000, description="how many residents attended")]


class MeetingsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    grid: Annotated[str, Field(min_length=1, max_length=64)]


class MeetingIssueOut(Model):
    petition: str
    status: str
    solved_that_day: bool


class MeetingOut(Model):
    id: str
    grid: str
    district: str
    date: str
    topic: str
    attendees: int
    created_at: str
    created_by: str
    issues: list[MeetingIssueOut]
    solved_that_day: int = Field(description="issues resolved (or answered) on the meeting's own date")


class MeetingPage(Model):
    items: list[MeetingOut]
