"""Bodies and answers of the supervision routes (§12): the board, accountability, assessments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.petitions.schemas import Note, Rate, ViolationOut
from chalicelib.validation import Model, Strict


class AccountabilityIn(Strict):
    kind: Literal["remind", "interview", "refer_discipline"] = Field(
        description="remind 提醒 | interview 约谈 | refer_discipline 移送纪委"
    )
    note: Note | None = None


class AccountabilityOut(Model):
    violation: str
    kind: str
    kind_label: str
    note: str | None = None
    by: str
    at: str
    petition: str
    district: str
    unit: str
    violation_kind: str


class ViolationDetail(ViolationOut):
    kind_label: str
    actions: list[AccountabilityOut] = Field(
        description="the violation's accountability history, oldest first"
    )


class BoardItem(Model):
    id: str
    status: str | None
    status_label: str | None = None
    district: str | None = None
    department: str | None = None
    category: str | None = None
    title: str | None = None
    escalation_level: str | None = None
    due_at: str | None = None
    reply: str | None = None
    updated_at: str | None = None
    at: str | None = Field(default=None, description="when it was flagged, escalated or instructed")
    note: str | None = None
    level: str | None = None
    reason: str | None = None
    to: str | None = None
    done: bool | None = Field(default=None, description="instructions: the petition has since been closed")


class BoardOut(Model):
    chief: str
    key_cases: list[BoardItem] = Field(description="疑难/重点 flagged by this chief, until closed")
    escalations: list[BoardItem] = Field(description="open cases escalated to this chief")
    instructions: list[BoardItem] = Field(
        description="this chief's 批示, newest first, with what came of them"
    )


class AssessmentQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    year: Annotated[int, Field(ge=2000, le=2999)]
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None


class UnitAssessment(Model):
    unit: str
    name: str
    score: float | None = Field(description="by the published formula; null when no rate had a denominator")
    rank: int | None = None
    figures: dict[str, Rate | int | float | None]
    violations: dict[str, int]
    urges: dict[str, int]
    actions: dict[str, int]
    reasons: list[dict[str, Any]] = Field(description="every term of the score with its points")


class AssessmentOut(Model):
    year: int
    district: str
    formula: str
    weights: dict[str, Any]
    units: list[UnitAssessment]
