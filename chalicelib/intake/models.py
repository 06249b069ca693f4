"""The intake request body: strict types (no coercion of "42" to 42), text free of control characters."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.validation import Line, Mobile, Strict, Text, parse_mobile, visible

__all__ = ["Citizen", "CitizenPetitionIn", "Location", "PetitionIn", "parse_mobile"]


class Citizen(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    phone: Mobile | None = None


class Location(Strict):
    address: Annotated[Line, Field(min_length=1, max_length=200)] | None = None
    grid: Annotated[Line, Field(min_length=1, max_length=64)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class PetitionText(Strict):
    """What every submission says (§4), whoever sends it."""

    district: Annotated[
        str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 code of a district or the city")
    ]
    content: Annotated[
        Text,
        Field(min_length=5, max_length=4000, description="5–4000 characters of text"),
        AfterValidator(visible(5, 4000)),
    ]
    title: Annotated[Line, Field(min_length=1, max_length=100)] | None = None
    category: Annotated[str, Field(pattern=r"^[a-z_]+(\.[a-z_]+)?$", max_length=64)] | None = None
    priority: Literal["normal", "urgent"] = "normal"
    location: Location | None = None


class PetitionIn(PetitionText):
    """A channel's or a desk's submission: the citizen, anonymity, the channel's own references."""

    citizen: Citizen | None = None
    anonymous: bool = False
    channel_ref: Annotated[Line, Field(min_length=1, max_length=128)] | None = None
    reported_by: Annotated[Line, Field(min_length=1, max_length=64)] | None = None


class CitizenName(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    phone: Mobile | None = Field(default=None, description="if given, it must be the signed-in phone")


class CitizenPetitionIn(PetitionText):
    """What the citizen entrance sends: §4's body, the phone taken from the session."""

    citizen: CitizenName | None = None
