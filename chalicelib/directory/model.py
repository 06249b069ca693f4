"""The directory as plain data: districts, departments, categories, the dispatch catalogue,
grids and grid workers, operators and channel keys.

Pure: no boto3, no chalice. Instances are built by `loader.load_directory` (which validates)
or by `Directory.from_dict` (which trusts a dict that `to_dict` produced).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, fields
from typing import Any

DISTRICT_LEVELS = ("city", "district", "county")
DEPARTMENT_KINDS = ("agency", "utility", "service_center")
ROLES = (
    "dispatcher",
    "handler",
    "reviewer",
    "supervisor",
    "chief",
    "auditor",
    "admin",
    "desk",
    "mediator",
    "grid_worker",
)
# Roles whose scope is one unit (a department code), not a district.
UNIT_ROLES = ("handler", "desk", "mediator")  # a mediator: of a center or a court
# Roles whose scope is one grid (and the grids below it); its district is the grid's.
GRID_ROLES = ("grid_worker",)
CHANNELS = ("wechat", "hotline_12345", "phone", "grid", "walkin", "meeting")  # meeting: 逢六说事 (§11)
GRID_KINDS = ("urban", "rural")
# Each kind's levels, from the top: 街道→社区→小区→楼栋 and 乡镇→村→屯.
GRID_LEVELS: dict[str, tuple[str, ...]] = {
    "urban": ("street", "community", "compound", "building"),
    "rural": ("township", "village", "hamlet"),
}
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class District:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass(frozen=True)
class Department:
    code: str
    district: str
    name: str
    kind: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    parent: str | None
    description: str | None

    @property
    def is_top_level(self) -> bool:
        return self.parent is None


@dataclass(frozen=True)
class CatalogueEntry:
    category: str
    district: str
    department: str
    co_departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grid:
    code: str
    district: str
    name: str
    level: str
    parent: str | None
    kind: str


@dataclass(frozen=True)
class GridWorker:
    id: str
    grid: str
    name: str
    phone: str
    duties: str
    supervision_phone: str
    photo_url: str | None = None  # the photo on the public board (§10); demo data names placeholders


@dataclass(frozen=True)
class CenterUnit:
    """A unit stationed at a 社会治理综合服务中心 (court, 信访, 人民调解, 劳动争议仲裁, 法律援助, 公安 …)."""

    center: str  # the center's department code, <district>.center
    unit: str  # a slug, unique within the center
    name: str
    kind: str  # one of CENTER_UNIT_KINDS
    department: str | None = None  # the department it belongs to, when it is one of the directory's


CENTER_UNIT_KINDS = (
    "court",
    "petition_office",
    "mediation",
    "labour_arbitration",
    "legal_aid",
    "police",
    "other",
)


@dataclass(frozen=True)
class User:
    username: str
    role: str
    scope: str
    display_name: str

    @property
    def department(self) -> str | None:
        """The unit of a handler (its department) or of a desk (its center or the 12345 hotline)."""
        return self.scope if self.role in UNIT_ROLES else None

    @property
    def district(self) -> str:
        # A department code is "<district>.<slug>", a grid code "<district>-…" (the loader checks both).
        return self.scope.split(".", 1)[0].split("-", 1)[0]

    @property
    def grid(self) -> str | None:
        """The grid of a grid worker (网格员): their scope is it and the grids below it."""
        return self.scope if self.role in GRID_ROLES else None


@dataclass(frozen=True)
class Channel:
    key_sha256: str
    channel: str
    name: str
    # The unit that receives this channel's petitions and answers for them to the end (首问负责):
    # a department code, or None for the service center of the petition's district.
    unit: str | None = None


@dataclass(frozen=True)
class GridArea:
    """A grid's boundary: a GeoJSON Polygon or MultiPolygon, [lon, lat] (loaded from geo/*.geojson)."""

    grid: str
    geometry: dict


@dataclass(frozen=True)
class BuildingHead:
    """楼栋长: a resident who answers for a building, named on its grid's public board."""

    grid: str
    name: str
    building: str
    phone: str


def key_sha256(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


_ENTITIES: dict[str, type] = {
    "districts": District,
    "departments": Department,
    "categories": Category,
    "catalogue": CatalogueEntry,
    "grids": Grid,
    "grid_workers": GridWorker,
    "users": User,
    "channels": Channel,
    "center_units": CenterUnit,
    "areas": GridArea,
    "building_heads": BuildingHead,
}


@dataclass(frozen=True)
class Directory:
    districts: tuple[District, ...]
    departments: tuple[Department, ...]
    categories: tuple[Category, ...]
    catalogue: tuple[CatalogueEntry, ...]
    grids: tuple[Grid, ...]
    grid_workers: tuple[GridWorker, ...]
    users: tuple[User, ...]
    channels: tuple[Channel, ...]
    center_units: tuple[CenterUnit, ...] = ()
    areas: tuple[GridArea, ...] = ()
    building_heads: tuple[BuildingHead, ...] = ()
    _index: dict[str, dict[Any, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[Any, Any]] = {
            "district": {d.code: d for d in self.districts},
            "department": {d.code: d for d in self.departments},
            "category": {c.code: c for c in self.categories},
            "route": {(e.category, e.district): e for e in self.catalogue},
            "grid": {g.code: g for g in self.grids},
            "worker": {w.id: w for w in self.grid_workers},
            "user": {u.username: u for u in self.users},
            "channel": {c.key_sha256: c for c in self.channels},
            "departments_in": {},
            "grids_in": {},
            "workers_of": {},
            "units_at": {},
        }
        for dep in self.departments:
            index["departments_in"].setdefault(dep.district, []).append(dep)
        for grid in self.grids:
            index["grids_in"].setdefault(grid.district, []).append(grid)
        for worker in self.grid_workers:
            index["workers_of"].setdefault(worker.grid, []).append(worker)
        for unit in self.center_units:
            index["units_at"].setdefault(unit.center, []).append(unit)
        for name in ("departments_in", "grids_in", "workers_of", "units_at"):
            index[name] = {k: tuple(v) for k, v in index[name].items()}
        object.__setattr__(self, "_index", index)

    # -- lookups (None when unknown) -------------------------------------------------------
    def district(self, code: str) -> District | None:
        return self._index["district"].get(code)

    def department(self, code: str) -> Department | None:
        return self._index["department"].get(code)

    def category(self, code: str) -> Category | None:
        return self._index["category"].get(code)

    def user(self, username: str) -> User | None:
        return self._index["user"].get(username)

    def grid(self, code: str) -> Grid | None:
        return self._index["grid"].get(code)

    def grid_covers(self, scope_grid: str, target_grid: str | None) -> bool:
        """Whether a grid is ``scope_grid`` or lies below it (a grid worker's scope)."""
        current = self.grid(target_grid) if target_grid else None
        while current is not None:
            if current.code == scope_grid:
                return True
            current = self.grid(current.parent) if current.parent else None
        return False

    def heads_of(self, grid_code: str) -> tuple[BuildingHead, ...]:
        return tuple(h for h in self.building_heads if h.grid == grid_code)

    def grid_worker(self, id: str) -> GridWorker | None:
        return self._index["worker"].get(id)

    def departments_in(self, district: str) -> tuple[Department, ...]:
        return self._index["departments_in"].get(district, ())

    def grids_in(self, district: str) -> tuple[Grid, ...]:
        return self._index["grids_in"].get(district, ())

    def workers_of(self, grid_code: str) -> tuple[GridWorker, ...]:
        return self._index["workers_of"].get(grid_code, ())

    def units_at(self, center: str) -> tuple[CenterUnit, ...]:
        """The units stationed at a center (``<district>.center``), in the data's order."""
        return self._index["units_at"].get(center, ())

    def channel(self, name: str) -> Channel | None:
        """A channel by its name (wechat, hotline_12345, …)."""
        return next((c for c in self.channels if c.channel == name), None)

    def channel_by_key(self, api_key: str) -> Channel | None:
        """The channel an API key belongs to. Only hashes are stored; the dict is keyed by the
        hash, so the lookup's timing says nothing useful about any stored key."""
        digest = key_sha256(api_key)
        found = self._index["channel"].get(digest)
        if found is None or not hmac.compare_digest(found.key_sha256, digest):
            return None
        return found

    def route(self, category_code: str, district: str) -> CatalogueEntry | None:
        """The catalogue row for a category in a district; a leaf without its own row gets its
        parent's row (whose `category` is then the parent's code)."""
        entry = self._index["route"].get((category_code, district))
        if entry is not None:
            return entry
        category = self.category(category_code)
        if category is None or category.parent is None:
            return None
        return self._index["route"].get((category.parent, district))

    @property
    def city(self) -> str:
        """The code of the top district (the city); every scope and chief ladder ends there."""
        tops = [d.code for d in self.districts if d.parent is None]
        if len(tops) != 1:
            raise ValueError(f"the directory needs exactly one top district, found {tops}")
        return tops[0]

    def is_city(self, district_code: str) -> bool:
        district = self.district(district_code)
        return district is not None and district.level == "city"

    def covers(self, scope_district: str, target_district: str) -> bool:
        """Whether an operator scoped to one district may see another: itself, and (for the
        city) every district below it."""
        current = self.district(target_district)
        if self.district(scope_district) is None:
            return False
        while current is not None:
            if current.code == scope_district:
                return True
            current = self.district(current.parent) if current.parent else None
        return False

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (str, list, dict, None only)."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for name in _ENTITIES:
            out[name] = [_record(item) for item in getattr(self, name)]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Directory:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported directory schema_version {version!r}")
        parts: dict[str, tuple[Any, ...]] = {}
        for name, entity in _ENTITIES.items():
            items = []
            for record in data.get(name, []):  # an entity added later: none in older stored copies
                values = dict(record)
                if entity is CatalogueEntry:
                    values["co_departments"] = tuple(values["co_departments"])
                items.append(entity(**values))
            parts[name] = tuple(items)
        return cls(**parts)


def _record(item: Any) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for f in fields(item):
        value = getattr(item, f.name)
        record[f.name] = list(value) if isinstance(value, tuple) else value
    return record
