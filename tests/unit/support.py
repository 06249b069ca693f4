"""What the service tests share: callers, a clock the test holds, a runtime on in-memory fakes."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from chalicelib.auth.identity import CHANNEL, OPERATOR, Identity
from chalicelib.clock import SHANGHAI
from chalicelib.directory import DEMO_DIRECTORY
from chalicelib.directory.loader import load_directory
from chalicelib.intake.models import PetitionIn
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from tests.fakes import FakeSms, memory_stores

WALKIN = Identity(kind=CHANNEL, name="walkin", role="channel")
DISPATCHER = Identity(kind=OPERATOR, name="dispatcher@210902", role="dispatcher", district="210902")
HANDLER = Identity(
    kind=OPERATOR, name="handler@210902.urban", role="handler", district="210902", department="210902.urban"
)


class HeldClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@cache
def demo():
    return load_directory(DEMO_DIRECTORY)


def memory_runtime() -> Runtime:
    # Monday 2026-11-02 10:00 in Shanghai: a working day, outside quiet hours
    clock = HeldClock(datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI))
    return Runtime.build(Settings(), stores=memory_stores(demo()), port=FakeSms(), clock=clock)


def body(text: str = "小区门口路灯坏了一个月，晚上出行很不方便", **kw) -> PetitionIn:
    return PetitionIn.model_validate(
        {
            "district": "210902",
            "content": text,
            "citizen": {"phone": "13800138000"},
            "category": "municipal.lighting",
            **kw,
        }
    )
