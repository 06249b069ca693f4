"""Wire models shared by several routes. Request models forbid unknown fields."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import ConfigDict, Field

from chalicelib.validation import Line, Model


class Strict(Model):
    """Request models: unknown fields refused, and strict — true is not 1 and "60" is not 60."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class ErrorDetail(Model):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Model):
    error: ErrorDetail


class Health(Model):
    status: Literal["ok"]


# --- directory ---------------------------------------------------------------


class ChiefOut(Model):
    user: str = Field(description="the operator who is the chief handler (首席办事员)")
    name: str = Field(description="as announced to the public, e.g. 阜新市委书记（首席办事员）")
    district: str
    district_name: str
    level: str | None = None


class DistrictOut(Model):
    code: str
    name: str
    level: str
    parent: str | None = None


class DepartmentOut(Model):
    code: str
    district: str
    name: str
    kind: str


class CategoryOut(Model):
    code: str
    name: str
    parent: str | None = None
    description: str | None = None


class GridWorkerOut(Model):
    id: str
    name: str
    phone: str
    duties: str
    supervision_phone: str


class GridOut(Model):
    code: str
    district: str
    name: str
    level: str
    parent: str | None = None
    kind: str


class GridBoard(GridOut):
    workers: list[GridWorkerOut]


T = TypeVar("T")


class Items(Model, Generic[T]):
    items: list[T]


class DistrictQuery(Strict):
    district: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="GB/T 2260 district code")


# --- local controls ----------------------------------------------------------


class ClockOut(Model):
    now: str


class ClockIn(Strict):
    advance_seconds: int | None = Field(default=None, ge=0, le=10 * 366 * 86400)
    set: str | None = Field(default=None, max_length=40, description="ISO-8601 instant, never backwards")


class TokenIn(Strict):
    user: str = Field(min_length=1, max_length=128)


class TokenOut(Model):
    token: str
    user: str
    role: str


class OutboxQuery(Strict):
    to: str | None = Field(default=None, max_length=32)


class OutboxEntry(Model):
    kind: Literal["sms", "topic"]
    to: str | None = None
    topic: str | None = None
    message: str
    attributes: dict[str, str]
    at: str


class SweepOut(Model):
    now: str
    fired: list[dict]
    summary: dict[str, int]
    published: dict[str, int]


class InboundSmsIn(Strict):
    from_: str = Field(alias="from", min_length=3, max_length=32)
    text: str = Field(max_length=500)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class InboundSmsOut(Model):
    outcome: Literal["recorded", "ignored"]
    reason: str | None = None
    petition: str | None = None
    rating: str | None = None


class CalendarNoticeIn(Strict):
    """A State Council holiday notice: days off and make-up working days of one year."""

    year: int = Field(ge=2000, le=2100)
    source: Annotated[Line, Field(min_length=1, max_length=200)]
    holidays: dict[
        Annotated[str, Field(max_length=10)], Annotated[Line, Field(min_length=1, max_length=40)]
    ] = Field(max_length=60)
    workdays: dict[
        Annotated[str, Field(max_length=10)], Annotated[Line, Field(min_length=1, max_length=40)]
    ] = Field(default_factory=dict, max_length=20)


class CalendarLoaded(Model):
    year: int
    source: str
    holidays: int
    workdays: int
    recomputed: list[str]


class ExportOut(Model):
    """An export's answer: where, its day, the rows written per table, how it read (``full``: every
    table whole; ``incremental``: the changes since the last export) and the items it read."""

    location: str
    dt: str
    tables: dict[str, int]
    mode: str | None = None
    read: dict[str, int] | None = None


class ExportJobOut(Model):
    """An on-demand export: queued → running → done (``result`` as ExportOut) | failed (``error``)."""

    id: str
    state: str
    requested_by: str
    requested_at: str
    started_at: str | None = None
    finished_at: str | None = None
    result: dict | None = None
    error: str | None = None


# --- sign-in -------------------------------------------------------------------


class MeOut(Model):
    """The signed-in operator, as the directory knows them: the console chooses its views by this."""

    user: str
    role: str
    display_name: str
    district: str
    department: str | None = None


class OidcSignIn(Model):
    """Authorisation code with PKCE (S256) for a public client: no secret reaches the browser."""

    authorize_url: str
    token_url: str
    logout_url: str | None = None
    client_id: str
    scopes: str


class SignInOut(Model):
    stage: str
    local_tokens: bool = Field(description="seeded operators get tokens from POST /_local/token")
    oidc: OidcSignIn | None = Field(default=None, description="the identity provider's sign-in, if any")


# --- notifications a person must check -----------------------------------------


class AttentionQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    district: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class AttentionOut(Model):
    id: str
    petition_id: str
    kind: str
    channel: Literal["sms", "topic"]
    topic: str | None = None
    status: Literal["dead", "unconfirmed"]
    attempts: int
    problem: str | None = Field(default=None, description="why it is dead: a reason, or the error's name")
    created_at: str


class AttentionPage(Model):
    items: list[AttentionOut]


# --- citizens (CONTRACT §9) ------------------------------------------------------


class CitizenOtpIn(Strict):
    phone: str = Field(min_length=11, max_length=20, description="a mainland mobile number, +86 optional")


class CitizenOtpOut(Model):
    expires_in: int = Field(description="seconds the code stays valid")


class CitizenSessionIn(Strict):
    phone: str = Field(min_length=11, max_length=20)
    code: str = Field(pattern=r"^[0-9]{6}$", description="the 6-digit code from the SMS")


class CitizenSessionOut(Model):
    token: str = Field(description="Authorization: Bearer <token> on /v1/citizen/*")
    expires_at: str
