"""Public directory views: districts, departments, categories, grids and their public boards."""

from __future__ import annotations

from dataclasses import asdict

from chalicelib.errors import InvalidInput, NotFound


def _known_district(directory, district: str | None) -> None:
    if district is not None and directory.district(district) is None:
        raise InvalidInput(f"unknown district {district!r}", field="district")


def districts(directory) -> dict:
    return {"items": [asdict(d) for d in directory.districts]}


def departments(directory, district: str | None) -> dict:
    _known_district(directory, district)
    items = directory.departments_in(district) if district else directory.departments
    return {"items": [asdict(d) for d in items]}


def categories(directory) -> dict:
    return {"items": [asdict(c) for c in directory.categories]}


def grids(directory, district: str | None) -> dict:
    _known_district(directory, district)
    items = directory.grids_in(district) if district else directory.grids
    return {"items": [asdict(g) for g in items]}


def grid_board(directory, code: str) -> dict:
    grid = directory.grid(code)
    if grid is None:
        raise NotFound(f"no grid {code!r}", field="code")
    workers = [{k: v for k, v in asdict(w).items() if k != "grid"} for w in directory.workers_of(code)]
    return {**asdict(grid), "workers": workers}


def chiefs(directory) -> dict:
    """首席办事员 as announced to the public: who, for which county, district or the city."""
    items = []
    for user in directory.users:
        if user.role != "chief":
            continue
        place = directory.district(user.district)
        items.append(
            {
                "user": user.username,
                "name": user.display_name,
                "district": user.district,
                "district_name": place.name if place else user.district,
                "level": place.level if place else None,
            }
        )
    return {"items": sorted(items, key=lambda c: (c["level"] != "city", c["district"]))}
