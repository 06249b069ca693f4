"""The ``rt`` fixture: a runtime on in-memory stores, a fake SMS port and a held clock."""

from __future__ import annotations

import pytest

from chalicelib.runtime import Runtime
from tests.unit.support import memory_runtime


@pytest.fixture
def rt() -> Runtime:
    return memory_runtime()
