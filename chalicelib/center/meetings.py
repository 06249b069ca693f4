"""逢六说事 (§11): a community grid's meeting on the days with a six, pure. Each issue raised there
becomes a petition (channel ``meeting``) linked both ways: the meeting lists its petitions, the
petition names the meeting in ``channel_ref`` (``meeting:<id>``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Meeting:
    id: str
    version: int
    grid: str
    district: str
    date: str  # YYYY-MM-DD, Asia/Shanghai
    topic: str
    attendees: int
    created_at: str
    created_by: str
    issues: tuple[str, ...] = ()  # the petitions raised, in order


def channel_ref(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"
