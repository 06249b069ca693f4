"""Wire models of the petition routes: action bodies (validated) and responses (documented)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.petitions.domain import RATINGS, RETURN_REASONS
from chalicelib.petitions.machine import STATUSES
from chalicelib.validation import Line, Model, Strict, Text

DepartmentCode = Annotated[str, Field(pattern=r"^[0-9]{6}\.[a-z_]+$", max_length=64)]
Note = Annotated[Text, Field(min_length=1, max_length=1000)]
Reason = Annotated[Text, Field(min_length=1, max_length=500)]
PetitionId = Annotated[str, Field(min_length=6, max_length=32)]


class AcceptIn(Strict):
    note: Note | None = None


class DispatchIn(Strict):
    department: DepartmentCode
    co_departments: Annotated[list[DepartmentCode], Field(max_length=5)] | None = None
    note: Note | None = None


class ReturnIn(Strict):
    reason: Literal[tuple(RETURN_REASONS)]  # type: ignore[valid-type]
    note: Note | None = None


class TransferIn(Strict):
    department: DepartmentCode
    reason: Reason


class ExtensionIn(Strict):
    working_days: Annotated[int, Field(ge=1, le=30)]
    reason: Reason


class DecisionIn(Strict):
    approve: bool
    note: Note | None = None


class SuspendIn(Strict):
    reason: Reason
    consented_by: Annotated[Line, Field(min_length=1, max_length=128)] | None = None


class ResumeIn(Strict):
    note: Note | None = None


class ResolveIn(Strict):
    reply: Annotated[Text, Field(min_length=2, max_length=2000)]
    evidence: (
        Annotated[list[Annotated[Line, Field(min_length=1, max_length=500)]], Field(max_length=10)] | None
    ) = None


class ReviewIn(Strict):
    approve: bool
    note: Note | None = None


class FeedbackIn(Strict):
    rating: Literal[tuple(RATINGS)]  # type: ignore[valid-type]
    comment: Note | None = None


class EscalateIn(Strict):
    note: Note | None = None


class MergeIn(Strict):
    into: PetitionId
    note: Note | None = None


class InstructionIn(Strict):
    note: Note


class FlagIn(Strict):
    key_case: bool = Field(description="true: 疑难/重点, on the chief's board until closed; false: taken off")
    note: Note | None = None


class UrgeIn(Strict):
    kind: Literal["reminder", "supervision"] = Field(description="reminder 催办单 | supervision 督办单")
    note: Note


class TriageIn(Strict):
    route: Literal["dispatch", "mediation", "legal_aid", "litigation"]
    note: Note | None = None


class WhistleIn(Strict):
    note: Note = Field(description="what the grid cannot settle alone (吹哨)")


class ClaimIn(Strict):
    note: Note | None = None


ACTION_BODIES: dict[str, type[Strict]] = {
    "dispatch": DispatchIn,
    "accept": AcceptIn,
    "return": ReturnIn,
    "transfer": TransferIn,
    "extension": ExtensionIn,
    "extension/decision": DecisionIn,
    "suspend": SuspendIn,
    "resume": ResumeIn,
    "resolve": ResolveIn,
    "answer": ResolveIn,
    "review": ReviewIn,
    "feedback": FeedbackIn,
    "escalate": EscalateIn,
    "merge": MergeIn,
    "instruction": InstructionIn,
    "flag": FlagIn,
    "urge": UrgeIn,
    "triage": TriageIn,
    "whistle": WhistleIn,
    "claim": ClaimIn,
}
ACTION_SUMMARIES = {
    "dispatch": "分拨 Dispatch to a department (with co-departments 协办)",
    "accept": "签收 Accept the order",
    "return": "退单 Return to dispatch with a reason code",
    "transfer": "改派 Transfer to another department",
    "extension": "延期 Request more working days",
    "extension/decision": "Decide an extension request",
    "suspend": "挂起 Suspend (clock paused; handler needs a supervisor's consent)",
    "resume": "Resume a suspended petition (the remaining budget returns)",
    "resolve": "办结 Resolve with a reply",
    "answer": "当场答复 Answered on the spot by the desk that received it (首接首办, 即办)",
    "review": "审核结案 Approve (close) or send back",
    "feedback": "回访评价 The citizen's rating; dissatisfied reopens (重办); a merged one rates its main",
    "escalate": "Escalate to the chief handler (首席办事员)",
    "merge": "并单 Merge a duplicate into a main petition",
    "instruction": "批示 A chief handler's instruction, sent to the holder and the district's supervisor",
    "flag": "疑难/重点 A chief handler flags a key case: on their board until closed",
    "urge": "催办单/督办单 A supervisor's hand-sent reminder or supervision notice to the holder",
    "triage": "分流交办 Route at the window: dispatch, or the center's mediation, legal aid, litigation",
    "whistle": "基层吹哨 Post to the district's claim pool (待认领): the grid worker or the dispatcher",
    "claim": "部门报到 Claim from the pool for the handler's department: the first wins, later ones 409",
}


class ListQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    department: DepartmentCode | None = None
    overdue: bool | None = None
    cursor: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class TrackQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    phone_tail: Annotated[str, Field(pattern=r"^[0-9]{4}$", description="the last four digits of the phone")]


class StageOut(Model):
    name: str
    due_at: str | None
    running: bool
    provisional: bool


class CitizenOut(Model):
    name: str | None = None
    phone: str | None = None


class PetitionOut(Model):
    id: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    status_label: str
    channel: str
    district: str
    department: str | None
    co_departments: list[str]
    first_owner: str | None
    first_inquiry: dict[str, str | None] | None = Field(
        default=None, description="首问负责: the unit and person that received it, kept to the end"
    )
    answered_by: str | None = Field(default=None, description="the desk that answered it on the spot (即办)")
    category: str | None
    priority: Literal["normal", "urgent"]
    title: str | None
    content: str
    anonymous: bool
    citizen: CitizenOut | None
    location: dict[str, Any] | None
    channel_ref: str | None
    reported_by: str | None
    created_at: str
    updated_at: str | None
    stage: StageOut | None
    due_at: str | None
    sla_state: Literal["on_time", "due_soon", "overdue"]
    escalation_level: Literal["none", "district", "city"]
    key_case: dict[str, Any] | None = Field(
        default=None, description="疑难/重点: flagged by a chief {by, note, at}"
    )
    deadlines: dict[str, str]
    returns: int
    reopens: int
    merged_into: str | None
    merged: list[str]
    extension_pending: dict[str, Any] | None
    awaiting_feedback: bool
    rating: str | None
    reply: str | None
    timeline: list[dict[str, Any]] | None = None
    evidence: list[dict[str, Any]] | None = Field(
        default=None,
        description="§10 evidence on its timeline (operators): key, content_type, GET url, expires_at",
    )


class PetitionPage(Model):
    items: list[PetitionOut]
    next_cursor: str | None


class PublicEvent(Model):
    type: str
    at: str


class TrackOut(Model):
    id: str
    status: str
    status_label: str
    created_at: str
    updated_at: str | None
    stage: str | None
    due_at: str | None
    merged_into: str | None
    reply: str | None
    timeline: list[PublicEvent]


class ViolationsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False, "populate_by_name": True}
    unit: Annotated[str, Field(pattern=r"^[0-9]{6}\.[a-z_]+$", max_length=64)] | None = None
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    from_: str | None = Field(default=None, alias="from", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    to: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None = None


class ViolationOut(Model):
    id: str = Field(description="opaque; POST /v1/violations/{id}/actions acts on it")
    unit: str
    district: str
    kind: Literal[
        "slow_dispatch", "refused_order", "slow_handling", "returned", "reopened", "sloppy_handling"
    ]
    petition_id: str
    stage: str
    at: str
    detail: dict[str, Any] | None


class ViolationPage(Model):
    items: list[ViolationOut]


class StatsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False, "populate_by_name": True}
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    department: DepartmentCode | None = None
    from_: str | None = Field(default=None, alias="from", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    to: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Rate(Model):
    value: float | None
    numerator: int
    denominator: int


class Figures(Model):
    received: int
    closed: int
    overdue_open: int
    on_time_dispatch_rate: Rate
    on_time_accept_rate: Rate
    on_time_resolve_rate: Rate
    resolution_rate: Rate
    satisfaction_rate: Rate
    return_rate: Rate
    reopen_rate: Rate
    completion_rate: Rate = Field(description="办结率: closed ÷ received")
    on_spot_rate: Rate = Field(description="即办率: answered on the spot at the desk ÷ received")
    grid_resolution_rate: Rate = Field(
        description="小事不出网格: resolved on the spot by a grid worker ÷ received through the grid channel"
    )
    mean_working_days_to_close: float | None


class StatsOut(Model):
    from_: str = Field(alias="from")
    to: str
    total: Figures
    by_district: dict[str, Figures]
    by_department: dict[str, Figures]
    by_channel: dict[str, Figures] = Field(
        description="per channel: wechat, hotline_12345, phone, grid, walkin"
    )
    by_category: dict[str, Figures] = Field(description="per category code (uncategorised when none)")
