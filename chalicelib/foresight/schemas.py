"""Wire models of CONTRACT §13's routes (requests forbid unknown fields)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.api.schemas import Strict
from chalicelib.validation import Line, Model, Text

TRACKING_ID = r"^[0-9]{6}[A-Z0-9]{6}$"
DISTRICT = r"^[0-9]{6}$"


class TypicalCaseIn(Strict):
    petition: Annotated[str, Field(pattern=TRACKING_ID, description="a closed petition's tracking number")]
    title: Annotated[Line, Field(min_length=2, max_length=60)]
    summary: Annotated[Text, Field(min_length=5, max_length=1000)]


class TypicalCaseOut(Model):
    petition: str
    status: str = Field(description="typical | withdrawn")
    title: str
    summary: str
    district: str
    category: str | None = None
    what_was_done: str
    working_days_to_close: float
    closed_on: str
    marked_at: str


class TypicalCases(Model):
    items: list[TypicalCaseOut]


class PublicCase(Model):
    title: str
    summary: str
    district: str
    district_name: str
    category: str | None = None
    category_name: str | None = None
    what_was_done: str = Field(description="the reply, anonymised")
    working_days_to_close: float
    closed_on: str


class PublicCases(Model):
    items: list[PublicCase]


class BroadcastIn(Strict):
    message: Annotated[Text, Field(min_length=2, max_length=300)]
    district: Annotated[str, Field(pattern=DISTRICT)] | None = None


class BroadcastEstimate(Model):
    text: str = Field(description="what leaves: the prefix, the message and the opt-out suffix")
    segments: int
    recipients: int
    segment_price_cny: float
    cost_cny: float
    per_minute: int
    minutes_at_throttle: int | None = None


class BroadcastOut(Model):
    id: str
    status: str = Field(description="queued | running | deferred (quiet hours) | done")
    message: str
    district: str | None = None
    created_at: str
    created_by: str
    segments: int
    recipients: int
    sent: int
    failed: int
    opted_out: int
    unconfirmed: int = Field(
        description="claimed by a run that died before the gateway answered: never resent"
    )
    remaining: int
    cost_cny: float
    estimated_cost_cny: float
    deferred_until: str | None = None
    finished_at: str | None = None


class BroadcastPage(Model):
    items: list[BroadcastOut]


class BroadcastRunIn(Strict):
    limit: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    crash_after: Annotated[int, Field(ge=1)] | None = None


class BroadcastRunOut(Model):
    broadcasts: list[dict]
    crashed: str | None = Field(default=None, description="crash_after: the run died there, unsaved")


class HotspotQuery(Strict):
    district: Annotated[str, Field(pattern=DISTRICT)] | None = None


class HotspotCaseIn(Strict):
    note: Annotated[Text, Field(min_length=5, max_length=1000)] | None = None


class HotspotOut(Model):
    id: str
    district: str
    grid: str
    grid_name: str | None = None
    category: str
    department: str | None = None
    status: str = Field(description="open | case_opened | cooled")
    count: int
    baseline_weekly: float
    opened_at: str
    case: str | None = None
    merged: list[str] = []
    events: list[dict] = []


class HotspotPage(Model):
    items: list[HotspotOut]


class HotspotRunIn(Strict):
    district: Annotated[str, Field(pattern=DISTRICT)] | None = None


class HotspotRunOut(Model):
    opened: list[str]
    cooled: list[str]
    merged: int


class ReportIn(Strict):
    period: Annotated[
        str, Field(pattern=r"^[0-9]{4}(-[0-9]{2})?$", description="YYYY-MM (每月一题) or YYYY (年度)")
    ]
    district: (
        Annotated[str, Field(pattern=DISTRICT, description="a district, or the city (default)")] | None
    ) = None


class ReportQuery(Strict):
    district: Annotated[str, Field(pattern=DISTRICT)] | None = None


class ReportOut(Model):
    period: str
    kind: str = Field(description="month | year")
    district: str
    from_: str = Field(alias="from")
    to: str
    generated_at: str
    generated_by: str
    html_key: str
    pdf_key: str
    html_bytes: int
    pdf_bytes: int
    html_url: str = Field(description="presigned GET, 15 minutes")
    pdf_url: str = Field(description="presigned GET, 15 minutes")


class ReportPage(Model):
    items: list[ReportOut]
