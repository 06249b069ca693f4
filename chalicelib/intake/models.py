"""The intake request body: strict types (no coercion of "42" to 42), text free of control characters."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def _text(value: str) -> str:
    if CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    return _text(value)


PHONE_CHARS = re.compile(r"^\+?[0-9][0-9 \-]*$")


def parse_mobile(value: str) -> str:
    """A mainland China mobile number, ``+86`` optional; returns E.164 (+8613800138000)."""
    if not PHONE_CHARS.match(value):
        # phonenumbers maps letters to keypad digits ("138abcd8000" → 13822238000): refuse them.
        raise ValueError("only digits, spaces, dashes and a leading +")
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid mainland China number")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Text = Annotated[str, AfterValidator(_text)]
Line = Annotated[str, AfterValidator(_line)]
Mobile = Annotated[str, Field(min_length=11, max_length=20), AfterValidator(parse_mobile)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Citizen(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=50)] | None = None
    phone: Mobile | None = None


class Location(Strict):
    address: Annotated[Line, Field(min_length=1, max_length=200)] | None = None
    grid: Annotated[Line, Field(min_length=1, max_length=64)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class PetitionIn(Strict):
    district: Annotated[
        str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 code of a district or the city")
    ]
    content: Annotated[Text, Field(min_length=5, max_length=4000, description="5–4000 characters of text")]
    title: Annotated[Line, Field(min_length=1, max_length=100)] | None = None
    category: Annotated[str, Field(pattern=r"^[a-z_]+(\.[a-z_]+)?$", max_length=64)] | None = None
    priority: Literal["normal", "urgent"] = "normal"
    citizen: Citizen | None = None
    anonymous: bool = False
    location: Location | None = None
    channel_ref: Annotated[Line, Field(min_length=1, max_length=128)] | None = None
    reported_by: Annotated[Line, Field(min_length=1, max_length=64)] | None = None
