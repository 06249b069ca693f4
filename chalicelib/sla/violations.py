"""问责记录: violations per unit or per district, the raw material of the annual assessment."""

from __future__ import annotations

from chalicelib import db
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.petitions.models import ViolationItem


def _out(v: ViolationItem) -> dict:
    return {
        "unit": v.unit,
        "district": v.district,
        "kind": v.kind,
        "petition_id": v.petition_id,
        "stage": v.stage,
        "at": v.at,
        "detail": v.detail,
    }


def list_violations(identity, query, directory) -> dict:
    db.bound()
    if identity.role == "handler":
        if query.unit and query.unit != identity.department:
            raise NotFound("outside your department", field="unit")
        unit, district = identity.department, None
    else:
        unit, district = query.unit, query.district
        scope = identity.scope
        target = district or (unit.split(".", 1)[0] if unit else None)
        if target is None:
            raise InvalidInput("give a unit or a district", field="district")
        if directory.district(target) is None:
            raise InvalidInput(f"unknown district {target!r}", field="district" if district else "unit")
        if not directory.covers(scope, target):
            raise NotFound("outside your scope", field="district" if district else "unit")
    lo = query.from_ or "0000"
    hi = (query.to or "9999") + "~"
    if unit:
        rows = ViolationItem.query(
            unit, ViolationItem.sk.between(lo, hi), scan_index_forward=False, limit=500
        )
    else:
        rows = ViolationItem.by_district.query(
            district, ViolationItem.sk.between(lo, hi), scan_index_forward=False, limit=500
        )
    return {"items": [_out(v) for v in rows]}
