"""典型案例: closed petitions a supervisor or admin marks as typical, published anonymised.

The public item is built once, when the case is marked, from the petition as it stands: the
district and category, the reply (what was done), the working days from receipt to closure,
and the title and summary the marker wrote — every text scrubbed (chalicelib.foresight.scrub)
of phones, ID numbers, house numbers and the citizen's name. Nothing personal is stored in the
case, so the public list cannot leak what it never holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.clock import iso, parse_instant
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.foresight.scrub import leaks, scrub
from chalicelib.petitions.domain import Env, Petition, can_see
from chalicelib.privacy import unseal

WORKING_DAY = 86400


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def timeline(self, petition_id: str, upto: int | None = None) -> list[dict]: ...


class CaseStore(Protocol):
    def put_case(self, case: dict) -> None: ...
    def case(self, petition_id: str) -> dict | None: ...
    def cases(self) -> list[dict]: ...


def _names(p: Petition) -> list[str]:
    sealed = (p.contact or {}).get("name_sealed")
    if not sealed:
        return []
    try:
        return [unseal(sealed)]
    except Exception:  # noqa: BLE001 - a name that does not unseal cannot be scrubbed by name; the rest still is
        return []


def _closed_at(timeline: list[dict]) -> str | None:
    closing = [e["at"] for e in timeline if e["type"] == "review_approved"]
    return closing[-1] if closing else None


@dataclass
class Cases:
    petitions: PetitionReads
    store: CaseStore
    env: Callable[[], Env]

    def mark(self, identity: Identity, body: Any) -> dict:
        env = self.env()
        p = self.petitions.get(body.petition)
        if p is None or not can_see(identity, p, env.directory):
            raise NotFound(f"no petition {body.petition}", field="petition")
        if p.status != "closed":
            raise Conflict(
                "only a closed petition can be a typical case", code="invalid_state", field="petition"
            )
        names = _names(p)
        closed_at = _closed_at(self.petitions.timeline(p.id, p.last_seq)) or p.updated_at or p.created_at
        seconds = env.calendar.working_seconds_between(parse_instant(p.created_at), parse_instant(closed_at))
        category = env.directory.category(p.category) if p.category else None
        district = env.directory.district(p.district)
        case = {
            "petition": p.id,
            "status": "typical",
            "title": scrub(body.title, names),
            "summary": scrub(body.summary, names),
            "district": p.district,
            "district_name": district.name if district else p.district,
            "category": p.category,
            "category_name": getattr(category, "name", None) or p.category,
            "what_was_done": scrub(p.reply, names),
            "working_days_to_close": round(seconds / WORKING_DAY, 1),
            "closed_on": closed_at[:10],
            "marked_by": identity.actor,
            "marked_at": iso(env.now),
        }
        left = [t for k in ("title", "summary", "what_was_done") for t in leaks(str(case[k]), names)]
        if left:  # the scrubber missed something: publish nothing rather than personal data
            raise InvalidInput("the text still carries personal data; rewrite it", field="summary")
        self.store.put_case(case)
        return self._operator_view(case)

    def unmark(self, identity: Identity, petition_id: str) -> dict:
        env = self.env()
        case = self.store.case(petition_id)
        p = self.petitions.get(petition_id)
        if case is None or p is None or not can_see(identity, p, env.directory):
            raise NotFound(f"no typical case {petition_id}", field="id")
        case = {**case, "status": "withdrawn", "withdrawn_by": identity.actor, "withdrawn_at": iso(env.now)}
        self.store.put_case(case)
        return self._operator_view(case)

    def listed(self, identity: Identity) -> dict:
        """The typical cases of the caller's districts as operators see them (the petition's number, typical
        or withdrawn), newest first: where a supervisor or admin finds one to withdraw."""
        env = self.env()
        mine = set(scope.districts(identity, env.directory))
        cases = [c for c in self.store.cases() if c.get("district") in mine]
        cases.sort(key=lambda c: c.get("marked_at", ""), reverse=True)
        return {"items": [self._operator_view(c) for c in cases]}

    def public(self) -> dict:
        """No credentials: the typical cases, newest first, each as published (anonymised)."""
        shown = [c for c in self.store.cases() if c.get("status") == "typical"]
        shown.sort(key=lambda c: c.get("marked_at", ""), reverse=True)
        keep = (
            "title",
            "summary",
            "district",
            "district_name",
            "category",
            "category_name",
            "what_was_done",
            "working_days_to_close",
            "closed_on",
        )
        return {"items": [{k: c.get(k) for k in keep} for c in shown]}

    @staticmethod
    def _operator_view(case: dict) -> dict:
        return {
            k: case.get(k)
            for k in (
                "petition",
                "status",
                "title",
                "summary",
                "district",
                "category",
                "what_was_done",
                "working_days_to_close",
                "closed_on",
                "marked_at",
            )
        }
