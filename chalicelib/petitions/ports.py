"""What the services that change petitions need of the unit of work (the runtime passes it in)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from chalicelib.petitions.domain import Env, Outcome, Petition


class Committer(Protocol):
    def commit(
        self, outcome: Outcome, env: Env, *, new: bool = False, extra: Iterable[Any] = ()
    ) -> Petition: ...
