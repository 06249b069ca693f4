"""SMS segment counting (GSM 03.38 / 3GPP TS 23.038).

A text that uses only the GSM-7 default alphabet and its extension table is
sent as GSM-7: each default character costs one septet, each extension
character (``^{}\\[~]|€`` and form feed) two (escape + character). A single
segment carries 160 septets; a multipart message carries 153 per part (the
rest is the concatenation header), and an escape pair is never split across
parts. Any other character switches the whole message to UCS-2 (UTF-16): 70
code units in a single segment, 67 per part in a multipart message; a
character outside the BMP (most emoji) is a surrogate pair, two units, and is
never split across parts either.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet (the escape code 0x1B itself is not a character).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The default extension table: each costs two septets (ESC + code).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[]~|€")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _char_costs(text: str) -> tuple[Encoding, list[int]]:
    if is_gsm7(text):
        return "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(costs: list[int], per_part: int) -> int:
    """Parts needed when characters (of 1 or 2 units) may not be split across parts."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts += 1
            used = 0
        used += cost
    return parts


def count_segments(text: str) -> SegmentInfo:
    """How ``text`` would be encoded and into how many segments it splits.

    An empty text is 0 units and 0 segments (there is nothing to send).
    """
    encoding, costs = _char_costs(text)
    units = sum(costs)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _pack(costs, multi)
    return SegmentInfo(encoding=encoding, units=units, segments=segments)


def fits(text: str, max_segments: int) -> bool:
    """True when ``text`` goes out in at most ``max_segments`` segments."""
    return count_segments(text).segments <= max_segments
