"""Load a directory folder of CSV files into a `Directory`, refusing anything inconsistent.

One UTF-8 CSV per entity, header row first. Every failure is a `DirectoryError` naming the file
and, where there is one, the line (as `csv.reader` counts them), so that whoever edits the
files can find the mistake.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from .model import (
    CENTER_UNIT_KINDS,
    CHANNELS,
    DEPARTMENT_KINDS,
    DISTRICT_LEVELS,
    GRID_KINDS,
    GRID_LEVELS,
    GRID_ROLES,
    ROLES,
    UNIT_ROLES,
    BuildingHead,
    CatalogueEntry,
    Category,
    CenterUnit,
    Channel,
    Department,
    Directory,
    District,
    Grid,
    GridArea,
    GridWorker,
    User,
)

DISTRICT_CODE = re.compile(r"\d{6}")
SLUG = re.compile(r"[a-z][a-z0-9_]*")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
MOBILE = re.compile(r"1\d{10}")
LANDLINE = re.compile(r"0\d{2,3}-\d{5,8}")


class DirectoryError(ValueError):
    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class _Row:
    file: str
    line: int
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def optional(self, column: str) -> str | None:
        return self.values[column] or None

    def fail(self, message: str) -> NoReturn:
        raise DirectoryError(self.file, self.line, message)


def _read(folder: Path, file: str, columns: tuple[str, ...], optional: Iterable[str] = ()) -> list[_Row]:
    path = folder / file
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DirectoryError(file, None, f"missing file (looked in {folder})") from None
    except OSError as exc:
        raise DirectoryError(file, None, f"cannot read: {exc.strerror}") from None
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DirectoryError(file, line, "not valid UTF-8") from None

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise DirectoryError(file, None, f"empty file, expected header {','.join(columns)}") from None
    except csv.Error as exc:
        raise DirectoryError(file, reader.line_num, f"malformed CSV: {exc}") from None
    for name in columns:
        if name not in header:
            raise DirectoryError(file, reader.line_num, f"missing column '{name}' in header")
    for name in header:
        if name not in columns:
            raise DirectoryError(file, reader.line_num, f"unexpected column '{name}' in header")
        if header.count(name) > 1:
            raise DirectoryError(file, reader.line_num, f"duplicate column '{name}' in header")

    required = [name for name in columns if name not in set(optional)]
    rows: list[_Row] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DirectoryError(file, reader.line_num, f"malformed CSV: {exc}") from None
        if not any(cell.strip() for cell in cells):
            continue
        row = _Row(file, reader.line_num, {k: v.strip() for k, v in zip(header, cells, strict=False)})
        if len(cells) != len(header):
            row.fail(f"expected {len(header)} fields, got {len(cells)}")
        for name in required:
            if not row[name]:
                row.fail(f"empty field '{name}'")
        rows.append(row)
    return rows


class _Seen:
    """Duplicate detection inside the row loop, so that errors come out in line order."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.lines: dict[object, int] = {}

    def check(self, row: _Row, key: object) -> None:
        if key in self.lines:
            shown = ", ".join(f"'{k}'" for k in key) if isinstance(key, tuple) else f"'{key}'"
            row.fail(f"duplicate {self.what} {shown} (first on line {self.lines[key]})")
        self.lines[key] = row.line


def _one_of(row: _Row, column: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if row[column] not in allowed:
        row.fail(f"{column} '{row[column]}' is not one of {', '.join(allowed)}")


def _known(row: _Row, value: str, known: Mapping[str, object], what: str) -> None:
    if value not in known:
        row.fail(f"unknown {what} '{value}'")


# -- one function per file, in dependency order ----------------------------------------------


def _districts(folder: Path) -> tuple[District, ...]:
    rows = _read(folder, "districts.csv", ("code", "name", "level", "parent"), optional=("parent",))
    levels: dict[str, str] = {}
    for row in rows:
        levels.setdefault(row["code"], row["level"])
    seen = _Seen("district")
    for row in rows:
        seen.check(row, row["code"])
        if not DISTRICT_CODE.fullmatch(row["code"]):
            row.fail(f"district code '{row['code']}' is not six digits")
        _one_of(row, "level", DISTRICT_LEVELS)
        parent = row.optional("parent")
        if row["level"] == "city":
            if parent is not None:
                row.fail(f"the city '{row['code']}' cannot have a parent")
        elif parent is None:
            row.fail(f"empty field 'parent' (a {row['level']} belongs to the city)")
        else:
            _known(row, parent, levels, "parent district")
            if levels[parent] != "city":
                row.fail(f"parent district '{parent}' is not the city")
    if sum(level == "city" for level in levels.values()) != 1:
        raise DirectoryError("districts.csv", None, "there must be exactly one district of level 'city'")
    return tuple(District(r["code"], r["name"], r["level"], r.optional("parent")) for r in rows)


def _departments(folder: Path, districts: Mapping[str, District]) -> tuple[Department, ...]:
    rows = _read(folder, "departments.csv", ("code", "district", "name", "kind"))
    seen = _Seen("department")
    for row in rows:
        seen.check(row, row["code"])
        _known(row, row["district"], districts, "district")
        prefix, _, slug = row["code"].partition(".")
        if prefix != row["district"] or not SLUG.fullmatch(slug):
            row.fail(f"department code '{row['code']}' must read '{row['district']}.<lowercase_name>'")
        _one_of(row, "kind", DEPARTMENT_KINDS)
    return tuple(Department(r["code"], r["district"], r["name"], r["kind"]) for r in rows)


def _categories(folder: Path) -> tuple[Category, ...]:
    rows = _read(
        folder,
        "categories.csv",
        ("code", "name", "parent", "description"),
        optional=("parent", "description"),
    )
    parents: dict[str, str | None] = {}
    for row in rows:
        parents.setdefault(row["code"], row.optional("parent"))
    seen = _Seen("category")
    for row in rows:
        seen.check(row, row["code"])
        parent = row.optional("parent")
        if parent is None:
            if not SLUG.fullmatch(row["code"]):
                row.fail(f"top-level category code '{row['code']}' must be lowercase letters, digits, _")
            continue
        _known(row, parent, parents, "parent category")
        if parents[parent] is not None:
            row.fail(f"parent category '{parent}' is not a top-level category")
        prefix, _, slug = row["code"].partition(".")
        if prefix != parent or not SLUG.fullmatch(slug):
            row.fail(f"category code '{row['code']}' must read '{parent}.<lowercase_name>'")
    return tuple(
        Category(r["code"], r["name"], r.optional("parent"), r.optional("description")) for r in rows
    )


def _catalogue(
    folder: Path,
    districts: Mapping[str, District],
    departments: Mapping[str, Department],
    categories: Mapping[str, Category],
) -> tuple[CatalogueEntry, ...]:
    file = "catalogue.csv"
    rows = _read(
        folder, file, ("category", "district", "department", "co_departments"), optional=("co_departments",)
    )
    seen = _Seen("catalogue row for")
    entries = []
    for row in rows:
        seen.check(row, (row["category"], row["district"]))
        _known(row, row["category"], categories, "category")
        _known(row, row["district"], districts, "district")
        co = tuple(code.strip() for code in row["co_departments"].split(";") if code.strip())
        for code in (row["department"], *co):
            _known(row, code, departments, "department")
            owner = departments[code].district
            if owner != row["district"] and districts[owner].level != "city":
                row.fail(f"department '{code}' serves neither district '{row['district']}' nor the city")
        if row["department"] in co or len(set(co)) != len(co):
            row.fail("co_departments repeat a department")
        entries.append(CatalogueEntry(row["category"], row["district"], row["department"], co))

    routed = {(e.category, e.district) for e in entries}
    for category in categories.values():
        if not category.is_top_level:
            continue
        for district in districts:
            if (category.code, district) not in routed:
                raise DirectoryError(
                    file, None, f"no row for top-level category '{category.code}' in district '{district}'"
                )
    return tuple(entries)


def _grids(folder: Path, districts: Mapping[str, District]) -> tuple[Grid, ...]:
    rows = _read(
        folder, "grids.csv", ("code", "district", "name", "level", "parent", "kind"), optional=("parent",)
    )
    by_code: dict[str, _Row] = {}
    for row in rows:
        by_code.setdefault(row["code"], row)
    seen = _Seen("grid")
    for row in rows:
        seen.check(row, row["code"])
        _known(row, row["district"], districts, "district")
        if districts[row["district"]].level == "city":
            row.fail(f"grids belong to a district or county, not the city '{row['district']}'")
        _one_of(row, "kind", GRID_KINDS)
        levels = GRID_LEVELS[row["kind"]]
        _one_of(row, "level", levels)
        depth = levels.index(row["level"])
        parent = row.optional("parent")
        if depth == 0:
            if parent is not None:
                row.fail(f"a {row['level']} is a top-level grid and has no parent")
            if not row["code"].startswith(row["district"] + "-") or row["code"].count("-") != 1:
                row.fail(f"top-level grid code '{row['code']}' must read '{row['district']}-<segment>'")
            continue
        if parent is None:
            row.fail(f"empty field 'parent' (a {row['level']} lies in a {levels[depth - 1]})")
        _known(row, parent, by_code, "parent grid")
        above = by_code[parent]
        if above["district"] != row["district"]:
            row.fail(f"parent grid '{parent}' is in another district ('{above['district']}')")
        if above["kind"] != row["kind"] or above["level"] != levels[depth - 1]:
            row.fail(f"parent grid '{parent}' is a {above['level']}, expected a {levels[depth - 1]}")
        if not row["code"].startswith(parent + "-") or "-" in row["code"][len(parent) + 1 :]:
            row.fail(f"grid code '{row['code']}' must extend its parent's code by one '-segment'")
    return tuple(
        Grid(r["code"], r["district"], r["name"], r["level"], r.optional("parent"), r["kind"]) for r in rows
    )


def _grid_workers(folder: Path, grids: Mapping[str, Grid]) -> tuple[GridWorker, ...]:
    columns = ("id", "grid", "name", "phone", "duties", "supervision_phone", "photo_url")
    rows = _read(folder, "grid_workers.csv", columns, optional=("photo_url",))
    seen = _Seen("grid worker")
    for row in rows:
        seen.check(row, row["id"])
        _known(row, row["grid"], grids, "grid")
        if not MOBILE.fullmatch(row["phone"]):
            row.fail(f"phone '{row['phone']}' is not a mainland mobile number (11 digits starting with 1)")
        supervision = row["supervision_phone"]
        if not (MOBILE.fullmatch(supervision) or LANDLINE.fullmatch(supervision)):
            row.fail(f"supervision_phone '{supervision}' is neither a mobile number nor like 0418-12345")
        photo = row.optional("photo_url")
        if photo is not None and not photo.startswith(("https://", "/")):
            row.fail(f"photo_url '{photo}' must be an https:// URL or a path on this site")
    return tuple(
        GridWorker(
            id=r["id"],
            grid=r["grid"],
            name=r["name"],
            phone=r["phone"],
            duties=r["duties"],
            supervision_phone=r["supervision_phone"],
            photo_url=r.optional("photo_url"),
        )
        for r in rows
    )


def _users(
    folder: Path,
    districts: Mapping[str, District],
    departments: Mapping[str, Department],
    grids: Mapping[str, Grid] | None = None,
) -> tuple[User, ...]:
    rows = _read(folder, "users.csv", ("username", "role", "scope", "display_name"))
    seen = _Seen("user")
    for row in rows:
        seen.check(row, row["username"])
        _one_of(row, "role", ROLES)
        if row["role"] in UNIT_ROLES:
            _known(row, row["scope"], departments, "department")
        elif row["role"] in GRID_ROLES:
            _known(row, row["scope"], grids or {}, "grid")
            if not row["scope"].startswith((grids or {})[row["scope"]].district + "-"):
                row.fail(f"grid code '{row['scope']}' must start with its district's code")
        else:
            _known(row, row["scope"], districts, "district")
    return tuple(User(r["username"], r["role"], r["scope"], r["display_name"]) for r in rows)


def _channels(folder: Path, departments: Mapping[str, Department]) -> tuple[Channel, ...]:
    rows = _read(folder, "channels.csv", ("key_sha256", "channel", "name", "unit"), optional=("unit",))
    seen = _Seen("key_sha256")
    for row in rows:
        if not SHA256_HEX.fullmatch(row["key_sha256"]):
            row.fail(
                "key_sha256 is not 64 lowercase hex digits (store the SHA-256 of the key, never the key)"
            )
        seen.check(row, row["key_sha256"])
        _one_of(row, "channel", CHANNELS)
        if row.optional("unit"):
            _known(row, row["unit"], departments, "department")
    return tuple(Channel(r["key_sha256"], r["channel"], r["name"], r.optional("unit")) for r in rows)


def _center_units(folder: Path, departments: Mapping[str, Department]) -> tuple[CenterUnit, ...]:
    """The units stationed at each 社会治理综合服务中心 (CONTRACT §11)."""
    columns = ("center", "unit", "name", "kind", "department")
    rows = _read(folder, "center_units.csv", columns, optional=("department",))
    seen = _Seen("unit")
    for row in rows:
        seen.check(row, (row["center"], row["unit"]))
        _known(row, row["center"], departments, "center")
        if departments[row["center"]].kind != "service_center":
            row.fail(f"'{row['center']}' is not a service center")
        if not SLUG.fullmatch(row["unit"]):
            row.fail(f"unit '{row['unit']}' must be lowercase letters, digits, _")
        _one_of(row, "kind", CENTER_UNIT_KINDS)
        if row.optional("department"):
            _known(row, row["department"], departments, "department")
    return tuple(
        CenterUnit(r["center"], r["unit"], r["name"], r["kind"], r.optional("department")) for r in rows
    )


def _areas(folder: Path, grids: Mapping[str, Grid]) -> tuple[GridArea, ...]:
    """Every grid's polygon from ``geo/<district>.geojson`` (a FeatureCollection, ``properties.code``
    naming the grid): valid, in its district's file, each child inside its parent, siblings apart.
    Without a ``geo`` folder the directory has no areas (and ``locate`` finds nothing)."""
    from shapely.geometry import shape  # only the loader and the grid index need shapely

    geo = folder / "geo"
    if not geo.is_dir():
        return ()
    shapes: dict[str, object] = {}
    where: dict[str, str] = {}
    areas: list[GridArea] = []
    for path in sorted(geo.glob("*.geojson")):
        file = f"geo/{path.name}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DirectoryError(file, None, f"not valid GeoJSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise DirectoryError(file, None, "expected a GeoJSON FeatureCollection")
        for n, feature in enumerate(doc.get("features") or [], 1):
            code = str(((feature or {}).get("properties") or {}).get("code") or "")
            name = f"feature {n} ({code or 'no properties.code'})"
            if code not in grids:
                raise DirectoryError(file, None, f"{name}: unknown grid")
            if path.stem != grids[code].district:
                raise DirectoryError(file, None, f"{name}: a grid of {grids[code].district}, not {path.stem}")
            if code in shapes:
                raise DirectoryError(file, None, f"{name}: duplicate (first in {where[code]})")
            geometry = feature.get("geometry") or {}
            if geometry.get("type") not in ("Polygon", "MultiPolygon"):
                raise DirectoryError(file, None, f"{name}: geometry must be a Polygon or MultiPolygon")
            try:
                polygon = shape(geometry)
            except (ValueError, TypeError, AttributeError, IndexError) as exc:
                raise DirectoryError(file, None, f"{name}: malformed geometry ({exc})") from None
            if not polygon.is_valid or polygon.is_empty:
                raise DirectoryError(file, None, f"{name}: invalid polygon (self-intersecting or empty)")
            shapes[code], where[code] = polygon, file
            areas.append(GridArea(code, geometry))
    missing = sorted(set(grids) - set(shapes))
    if missing:
        raise DirectoryError("geo", None, f"no polygon for grid(s) {', '.join(missing)}")
    siblings: dict[str | None, list[str]] = {}
    for code, grid in grids.items():
        siblings.setdefault(grid.parent, []).append(code)
        if grid.parent and not shapes[grid.parent].contains(shapes[code]):  # type: ignore[attr-defined]
            raise DirectoryError(where[code], None, f"feature {code}: not inside its parent {grid.parent}")
    for codes in siblings.values():
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                first, second = shapes[a], shapes[b]
                if first.intersection(second).area > 0:  # type: ignore[attr-defined]
                    raise DirectoryError(where[a], None, f"feature {a}: overlaps its sibling {b}")
    return tuple(areas)


def _building_heads(folder: Path, grids: Mapping[str, Grid]) -> tuple[BuildingHead, ...]:
    """楼栋长 per grid (optional file): name, building and a mobile number (masked on the board)."""
    if not (folder / "building_heads.csv").exists():
        return ()
    columns = ("grid", "name", "building", "phone")
    rows = _read(folder, "building_heads.csv", columns)
    for row in rows:
        _known(row, row["grid"], grids, "grid")
        if not MOBILE.fullmatch(row["phone"]):
            row.fail(f"phone '{row['phone']}' is not a mainland mobile number (11 digits starting with 1)")
    return tuple(BuildingHead(*(r[c] for c in columns)) for r in rows)


def load_directory(path: str | Path) -> Directory:
    folder = Path(path)
    if not folder.is_dir():
        raise DirectoryError(str(folder), None, "not a directory")
    districts = _districts(folder)
    district_map = {d.code: d for d in districts}
    departments = _departments(folder, district_map)
    department_map = {d.code: d for d in departments}
    categories = _categories(folder)
    catalogue = _catalogue(folder, district_map, department_map, {c.code: c for c in categories})
    grids = _grids(folder, district_map)
    grid_workers = _grid_workers(folder, {g.code: g for g in grids})
    grid_map = {g.code: g for g in grids}
    users = _users(folder, district_map, department_map, grid_map)
    areas = _areas(folder, grid_map)
    building_heads = _building_heads(folder, grid_map)
    channels = _channels(folder, department_map)
    center_units = _center_units(folder, department_map)
    return Directory(
        districts=districts,
        departments=departments,
        categories=categories,
        catalogue=catalogue,
        grids=grids,
        grid_workers=grid_workers,
        users=users,
        channels=channels,
        center_units=center_units,
        areas=areas,
        building_heads=building_heads,
    )
