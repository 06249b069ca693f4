"""Validated text for every request body: strict types (no coercion of "42" to 42), text free
of control characters, single lines where a line is meant, mainland mobile numbers.

Text is normalised (NFC) and stripped of format characters (Unicode category Cf: zero-width
spaces and joiners, right-to-left overrides that would reverse what the console shows); what
remains must be visible, and length limits count what remains. A lone surrogate (not encodable
as UTF-8) is refused. Not NFKC: it would rewrite the full-width punctuation Chinese is written
with (，。（）：) into ASCII, changing what the citizen wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("not valid Unicode text (a lone surrogate)") from exc
    if CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    cleaned = "".join(
        c for c in unicodedata.normalize("NFC", value) if unicodedata.category(c) != "Cf"
    ).strip()
    if value and not cleaned:
        raise ValueError("must contain visible characters")
    return cleaned


def visible(least: int, most: int) -> Callable[[str], str]:
    """A length rule on the text as normalised (invisible characters do not count)."""

    def check(value: str) -> str:
        if not least <= len(value) <= most:
            raise ValueError(f"must be {least}–{most} visible characters, is {len(value)}")
        return value

    return check


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
    import phonenumbers  # its metadata costs ~20 ms: loaded by the first request that carries a phone

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


class Model(BaseModel):
    """Every request and response model: its validator is built on first use, not at import
    (a cold start pays for the models its request uses; the OpenAPI document builds them all)."""

    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)
