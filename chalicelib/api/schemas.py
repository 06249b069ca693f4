"""Wire models shared by several routes. Request models forbid unknown fields."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]


# --- directory ---------------------------------------------------------------


class DistrictOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None = None


class DepartmentOut(BaseModel):
    code: str
    district: str
    name: str
    kind: str


class CategoryOut(BaseModel):
    code: str
    name: str
    parent: str | None = None
    description: str | None = None


class GridWorkerOut(BaseModel):
    id: str
    name: str
    phone: str
    duties: str
    supervision_phone: str


class GridOut(BaseModel):
    code: str
    district: str
    name: str
    level: str
    parent: str | None = None
    kind: str


class GridBoard(GridOut):
    workers: list[GridWorkerOut]


T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    items: list[T]


class DistrictQuery(Strict):
    district: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="GB/T 2260 district code")


# --- local controls ----------------------------------------------------------


class ClockOut(BaseModel):
    now: str


class ClockIn(Strict):
    advance_seconds: int | None = Field(default=None, ge=0, le=10 * 366 * 86400)
    set: str | None = Field(default=None, max_length=40, description="ISO-8601 instant, never backwards")


class TokenIn(Strict):
    user: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    token: str
    user: str
    role: str


class OutboxQuery(Strict):
    to: str | None = Field(default=None, max_length=32)


class OutboxEntry(BaseModel):
    kind: Literal["sms", "topic"]
    to: str | None = None
    topic: str | None = None
    message: str
    attributes: dict[str, str]
    at: str


class SweepOut(BaseModel):
    now: str
    fired: list[dict]
    summary: dict[str, int]
    published: dict[str, int]


class InboundSmsIn(Strict):
    from_: str = Field(alias="from", min_length=3, max_length=32)
    text: str = Field(max_length=500)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class InboundSmsOut(BaseModel):
    outcome: Literal["recorded", "ignored"]
    reason: str | None = None
    petition: str | None = None
    rating: str | None = None


class CalendarNoticeIn(BaseModel):
    """A State Council holiday notice: days off and make-up working days of one year."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=1, max_length=200)
    holidays: dict[str, str] = Field(max_length=60)
    workdays: dict[str, str] = Field(default_factory=dict, max_length=20)


class CalendarLoaded(BaseModel):
    year: int
    source: str
    holidays: int
    workdays: int
    recomputed: list[str]


class ExportOut(BaseModel):
    location: str
    dt: str
    tables: dict[str, int]


# --- sign-in -------------------------------------------------------------------


class MeOut(BaseModel):
    """The signed-in operator, as the directory knows them: the console chooses its views by this."""

    user: str
    role: str
    display_name: str
    district: str
    department: str | None = None


class OidcSignIn(BaseModel):
    """Authorisation code with PKCE (S256) for a public client: no secret reaches the browser."""

    authorize_url: str
    token_url: str
    logout_url: str | None = None
    client_id: str
    scopes: str


class SignInOut(BaseModel):
    stage: str
    local_tokens: bool = Field(description="seeded operators get tokens from POST /_local/token")
    oidc: OidcSignIn | None = Field(default=None, description="the identity provider's sign-in, if any")


# --- notifications a person must check -----------------------------------------


class AttentionQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    district: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class AttentionOut(BaseModel):
    id: str
    petition_id: str
    kind: str
    channel: Literal["sms", "topic"]
    topic: str | None = None
    status: Literal["dead", "unconfirmed"]
    attempts: int
    problem: str | None = Field(default=None, description="why it is dead: a reason, or the error's name")
    created_at: str


class AttentionPage(BaseModel):
    items: list[AttentionOut]
