"""Request and response bodies of the grid routes (§10): strict, with the offending field named."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.api.schemas import Strict
from chalicelib.intake.models import PetitionIn
from chalicelib.validation import Line, Model, Text

EvidenceKey = Annotated[Line, Field(min_length=1, max_length=500)]
GridCode = Annotated[str, Field(pattern=r"^[0-9]{6}(-[0-9]{2,3})*$", max_length=64)]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (Asia/Shanghai)")]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class OnSpotIn(Strict):
    reply: Annotated[Text, Field(min_length=2, max_length=2000)]
    evidence: Annotated[list[EvidenceKey], Field(max_length=10)] | None = None


class GridPetitionIn(PetitionIn):
    """§4's body; ``location.grid`` (else the grid of ``location``'s point, else the worker's own
    grid) must be the worker's grid or one below it. ``resolved_on_spot`` files it resolved."""

    resolved_on_spot: OnSpotIn | None = None


class VisitIn(Strict):
    grid: GridCode
    households: Annotated[int, Field(ge=1, le=10000, description="households knocked on (敲门入户)")]
    notes: Annotated[Text, Field(min_length=1, max_length=2000)]
    issues: (
        Annotated[list[Annotated[Line, Field(min_length=1, max_length=200)]], Field(max_length=50)] | None
    ) = None


class VisitOut(Model):
    id: str
    grid: str
    worker: str
    households: int
    notes: str
    issues: list[str] = []
    at: str


class VisitsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    grid: GridCode
    month: Month | None = None


class VisitsOut(Model):
    grid: str
    month: str
    items: list[VisitOut]
    per_worker: dict[str, int] = Field(description="visits per grid worker in the month")
    households: int


class LocateQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class LocateOut(Model):
    code: str
    name: str
    district: str
    level: str
    path: list[str] = Field(description="the grid codes from the top-level grid down to this one")


class UploadIn(Strict):
    content_type: Literal["image/jpeg", "image/png", "application/pdf"]
    size: Annotated[int, Field(ge=1, le=10 * 1024 * 1024, description="bytes, at most 10 MB")]


class UploadOut(Model):
    evidence: str = Field(description="the key to attach to resolve, answer, on-spot or mediation outcomes")
    url: str = Field(description="presigned PUT: send exactly this Content-Type and Content-Length")
    method: str = "PUT"
    headers: dict[str, str]
    expires_at: str


class PoolQuery(Strict):
    model_config = {"extra": "forbid", "strict": False}
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None


class PoolItem(Model):
    id: str
    district: str
    grid: str | None = None
    title: str | None = None
    category: str | None = None
    posted_at: str
    posted_by: str
    note: str | None = Field(default=None, description="what the whistle asks of the departments (吹哨说明)")
    claim_due: str
    seconds_left: int = Field(description="seconds until the center takes it (negative: overdue)")


class PoolOut(Model):
    items: list[PoolItem]


class GridStatsQuery(Strict):
    model_config = {"extra": "forbid", "strict": False, "populate_by_name": True}
    district: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None


class GridStatsOut(Model):
    district: str
    from_: str = Field(alias="from")
    to: str
    visits: int
    households: int
    visits_per_worker: dict[str, int]
    posted: int
    claimed: int
    fallbacks: int
    open: int
    claim_seconds_median: float | None
    claim_seconds_p90: float | None


class BoardWorker(Model):
    id: str
    name: str
    phone: str
    duties: str
    supervision_phone: str
    photo_url: str | None = Field(default=None, description="the worker's photo, as on the public board")


class BuildingHeadOut(Model):
    name: str
    building: str
    phone: str = Field(description="masked: 139****0101")


class GridBoardOut(Model):
    code: str
    district: str
    name: str
    level: str
    parent: str | None = None
    kind: str
    workers: list[BoardWorker]
    building_heads: list[BuildingHeadOut] = Field(description="楼栋长 of the grid")
