"""问责记录: violations per unit or per district, the raw material of the annual assessment."""

from __future__ import annotations

import base64
from typing import Any, Protocol

from chalicelib.auth import scope
from chalicelib.auth.identity import Identity
from chalicelib.directory.model import Directory
from chalicelib.errors import InvalidInput
from chalicelib.sla.violation_store import ViolationRecord

LIMIT = 500


class ViolationReads(Protocol):
    def of_unit(self, unit: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]: ...
    def of_district(self, district: str, lo: str, hi: str, limit: int) -> list[ViolationRecord]: ...


def violation_id(v: ViolationRecord) -> str:
    """An opaque, URL-safe id of a violation (its unit and sort key)."""
    return base64.urlsafe_b64encode(f"{v.unit}|{v.sk}".encode()).decode().rstrip("=")


def parse_violation_id(text: str) -> tuple[str, str] | None:
    try:
        unit, _, sk = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition("|")
    except (ValueError, UnicodeDecodeError):
        return None
    return (unit, sk) if unit and sk else None


def violation_out(v: ViolationRecord) -> dict:
    return {
        "id": violation_id(v),
        "unit": v.unit,
        "district": v.district,
        "kind": v.kind,
        "petition_id": v.petition_id,
        "stage": v.stage,
        "at": v.at,
        "detail": v.detail,
    }


def list_violations(store: ViolationReads, identity: Identity, query: Any, directory: Directory) -> dict:
    """Every filter given is checked against the caller's scope: a unit outside it is refused even
    when the district given is the caller's own, and a unit must belong to the district given."""
    lo = query.from_ or "0000"
    hi = (query.to or "9999") + "~"
    unit = query.unit or (identity.department if identity.role == "handler" else None)
    if unit is not None:
        unit = scope.unit(identity, directory, unit)
        if query.district is not None:
            scope.district(identity, directory, query.district)
            if unit.split(".", 1)[0] != query.district:
                raise InvalidInput(f"{unit} is not a unit of {query.district}", field="unit")
        rows = store.of_unit(unit, lo, hi, LIMIT)
    elif query.district is not None:
        rows = store.of_district(scope.district(identity, directory, query.district), lo, hi, LIMIT)
    else:
        raise InvalidInput("give a unit or a district", field="district")
    return {"items": [violation_out(v) for v in rows]}
