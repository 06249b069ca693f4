"""The demo directory (CONTRACT §3) and the loader that refuses broken copies of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chalicelib.directory import (
    DEMO_DIRECTORY,
    Directory,
    DirectoryError,
    key_sha256,
    load_directory,
)

CITY = "210900"
DISTRICTS = {
    "210900": "阜新市",
    "210902": "海州区",
    "210903": "新邱区",
    "210904": "太平区",
    "210905": "清河门区",
    "210911": "细河区",
    "210921": "阜新蒙古族自治县",
    "210922": "彰武县",
}
CONTRACT_DEPARTMENTS = ("housing", "urban", "market", "hrss", "civil", "police", "justice")


@pytest.fixture(scope="module")
def demo() -> Directory:
    return load_directory(DEMO_DIRECTORY)


# -- the demo set ------------------------------------------------------------------------------


def test_demo_has_the_eight_districts_of_fuxin(demo: Directory) -> None:
    assert {d.code: d.name for d in demo.districts} == DISTRICTS
    assert [d.code for d in demo.districts if d.level == "city"] == [CITY]
    assert all(d.parent == CITY for d in demo.districts if d.code != CITY)


def test_every_district_has_the_contract_departments_and_a_service_center(demo: Directory) -> None:
    for district in DISTRICTS:
        codes = {d.code for d in demo.departments_in(district)}
        for slug in (*CONTRACT_DEPARTMENTS, "center"):
            assert f"{district}.{slug}" in codes, (district, slug)


def test_city_owns_the_utilities_and_transport(demo: Directory) -> None:
    for slug in ("water", "heating", "gas", "power"):
        department = demo.department(f"{CITY}.{slug}")
        assert department is not None and department.kind == "utility"
    assert demo.department(f"{CITY}.transport") is not None
    assert demo.department("210902.water") is None


def test_users_exist_for_every_role_and_scope_of_the_contract(demo: Directory) -> None:
    expected = {"auditor@210900": ("auditor", CITY), "admin@210900": ("admin", CITY)}
    for district in DISTRICTS:
        for role in ("dispatcher", "reviewer", "supervisor", "chief"):
            expected[f"{role}@{district}"] = (role, district)
    for department in demo.departments:
        expected[f"handler@{department.code}"] = ("handler", department.code)
    for district in DISTRICTS:  # §9: each center's window, and the city's 12345 agents
        expected[f"desk@{district}.center"] = ("desk", f"{district}.center")
    expected["desk@210900.hotline"] = ("desk", "210900.hotline")
    for district in DISTRICTS:  # §11: the mediators of each center and of each court
        for unit in ("center", "court"):
            expected[f"mediator@{district}.{unit}"] = ("mediator", f"{district}.{unit}")
    for grid in demo.grids:  # §10: one grid worker (网格员) per seeded grid
        expected[f"gridworker@{grid.code}"] = ("grid_worker", grid.code)

    for username, (role, scope) in expected.items():
        user = demo.user(username)
        assert user is not None, username
        assert (user.role, user.scope) == (role, scope)
    assert len(demo.users) == len(expected)


def test_user_scope_resolves_to_district_and_department(demo: Directory) -> None:
    handler = demo.user("handler@210902.housing")
    chief = demo.user("chief@210900")
    assert handler is not None and chief is not None
    assert (handler.district, handler.department) == ("210902", "210902.housing")
    assert (chief.district, chief.department) == (CITY, None)
    assert chief.display_name == "阜新市委书记（首席办事员）"


def test_route_uses_the_leaf_row_or_falls_back_to_the_parent(demo: Directory) -> None:
    # A leaf without its own row inherits its parent's row.
    lighting = demo.route("municipal.lighting", "210902")
    assert lighting is not None and lighting.department == "210902.urban"
    # A leaf with its own row overrides the parent (家庭暴力 goes to the police first).
    violence = demo.route("family.domestic_violence", "210922")
    assert violence is not None and violence.department == "210922.police"
    family = demo.route("family", "210922")
    assert family is not None and (family.department, family.co_departments) == (
        "210922.justice",
        ("210922.civil",),
    )
    # Utilities go to the city's companies from every district.
    assert {demo.route("heating.outage", d).department for d in DISTRICTS} == {"210900.heating"}  # type: ignore[union-attr]
    assert demo.route("labor.wage_arrears", "210911").department == "210911.hrss"  # type: ignore[union-attr]
    assert demo.route("no.such", "210902") is None
    assert demo.route("municipal", "999999") is None


def test_every_top_level_category_routes_in_every_district(demo: Directory) -> None:
    tops = [c for c in demo.categories if c.parent is None]
    assert {
        "municipal",
        "sanitation",
        "property",
        "heating",
        "water",
        "power",
        "gas",
        "labor",
        "market",
        "transport",
        "security",
        "family",
        "policy",
        "other",
    } <= {c.code for c in tops}
    for category in tops:
        children = [c for c in demo.categories if c.parent == category.code]
        assert 2 <= len(children) <= 5, category.code
        for district in DISTRICTS:
            assert demo.route(category.code, district) is not None


def test_channel_by_key_accepts_the_demo_keys_and_nothing_else(demo: Directory) -> None:
    keys = {
        "local-wechat": "wechat",
        "local-hotline": "hotline_12345",
        "local-grid": "grid",
        "local-walkin": "walkin",
    }
    for key, channel in keys.items():
        found = demo.channel_by_key(key)
        assert found is not None and found.channel == channel
    assert demo.channel_by_key("local-wechat ") is None
    assert demo.channel_by_key("") is None
    # The stored value is the hash, never the key.
    assert all(c.key_sha256 != key for c in demo.channels for key in keys)
    assert demo.channel_by_key(demo.channels[0].key_sha256) is None


def test_covers_city_covers_all_a_district_only_itself(demo: Directory) -> None:
    assert all(demo.covers(CITY, d) for d in DISTRICTS)
    assert demo.covers("210902", "210902")
    assert not demo.covers("210902", "210903")
    assert not demo.covers("210902", CITY)
    assert not demo.covers(CITY, "999999")
    assert not demo.covers("999999", "999999")
    assert demo.is_city(CITY) and not demo.is_city("210902") and not demo.is_city("999999")


def test_grids_and_workers_form_the_public_board(demo: Directory) -> None:
    for district in DISTRICTS:
        if district == CITY:
            continue
        grids = demo.grids_in(district)
        assert 3 <= len(grids) <= 8, district
        parents = {g.parent for g in grids}
        leaves = [g for g in grids if g.code not in parents]
        for leaf in leaves:
            workers = demo.workers_of(leaf.code)
            assert 1 <= len(workers) <= 2, leaf.code
            assert all(demo.grid_worker(w.id) == w for w in workers)
    assert demo.grid("210902-001").name == "解放街道"  # type: ignore[union-attr]
    assert {g.name for g in demo.grids_in("210922") if g.level == "township"} >= {"哈尔套镇"}


def test_missing_lookups_return_none_or_empty(demo: Directory) -> None:
    assert demo.district("999999") is None
    assert demo.department("210902.nope") is None
    assert demo.category("nope") is None
    assert demo.user("nobody") is None
    assert demo.grid("nope") is None
    assert demo.grid_worker("nope") is None
    assert demo.departments_in("999999") == ()
    assert demo.grids_in(CITY) == ()
    assert demo.workers_of("nope") == ()


def test_to_dict_round_trips_through_json(demo: Directory) -> None:
    # Given the dict form as DynamoDB would store it (JSON types only)
    stored = json.loads(json.dumps(demo.to_dict(), ensure_ascii=False))
    assert stored == demo.to_dict()
    # When it is read back
    again = Directory.from_dict(stored)
    # Then nothing is lost, and the lookups work on the copy
    assert again == demo
    assert again.to_dict() == stored
    assert again.route("municipal.lighting", "210902") == demo.route("municipal.lighting", "210902")
    assert again.channel_by_key("local-grid") == demo.channel_by_key("local-grid")


def test_from_dict_refuses_an_unknown_schema_version(demo: Directory) -> None:
    data = demo.to_dict() | {"schema_version": 99}
    with pytest.raises(ValueError, match="schema_version"):
        Directory.from_dict(data)


# -- broken copies -----------------------------------------------------------------------------


def broken_copy(tmp_path: Path, file: str, starts_with: str, new_line: str | None) -> tuple[Path, int]:
    """Copy the demo set and replace (or, with None, delete) the first line of `file` that starts
    with `starts_with`. Returns the folder and the 1-based number of that line."""
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIRECTORY, folder)
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(starts_with))
    if new_line is None:
        del lines[index]
    else:
        lines[index] = new_line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, index + 1


def appended_copy(tmp_path: Path, file: str, new_line: str) -> tuple[Path, int]:
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIRECTORY, folder)
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines() + [new_line]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, len(lines)


def load_error(folder: Path) -> DirectoryError:
    with pytest.raises(DirectoryError) as caught:
        load_directory(folder)
    return caught.value


def test_unknown_department_in_the_catalogue(tmp_path: Path) -> None:
    # Given a catalogue row that names a department nobody has
    folder, line = broken_copy(tmp_path, "catalogue.csv", "property,210902,", "property,210902,210902.nope,")
    # When the folder is loaded, then the error points at that row
    error = load_error(folder)
    assert (error.file, error.line) == ("catalogue.csv", line)
    assert str(error) == f"catalogue.csv:{line}: unknown department '210902.nope'"
    assert isinstance(error, ValueError)


def test_unknown_co_department_in_the_catalogue(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path, "catalogue.csv", "family,210903,", "family,210903,210903.justice,210903.civil;210903.nope"
    )
    error = load_error(folder)
    assert (error.file, error.line, error.message) == (
        "catalogue.csv",
        line,
        "unknown department '210903.nope'",
    )


def test_catalogue_may_not_route_to_another_districts_department(tmp_path: Path) -> None:
    folder, line = broken_copy(tmp_path, "catalogue.csv", "labor,210902,", "labor,210902,210903.hrss,")
    error = load_error(folder)
    assert (error.file, error.line) == ("catalogue.csv", line)
    assert "210903.hrss" in error.message


def test_a_top_level_category_without_a_row_for_a_district(tmp_path: Path) -> None:
    folder, _ = broken_copy(tmp_path, "catalogue.csv", "gas,210905,", None)
    error = load_error(folder)
    assert (error.file, error.line) == ("catalogue.csv", None)
    assert str(error) == "catalogue.csv: no row for top-level category 'gas' in district '210905'"


def test_unknown_district_of_a_department(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path, "departments.csv", "210902.market,", "210999.market,210999,某区市场监督管理局,agency"
    )
    error = load_error(folder)
    assert str(error) == f"departments.csv:{line}: unknown district '210999'"


def test_duplicate_user(tmp_path: Path) -> None:
    folder, line = appended_copy(tmp_path, "users.csv", "dispatcher@210902,dispatcher,210902,海州区分拨员")
    error = load_error(folder)
    assert (error.file, error.line) == ("users.csv", line)
    assert "duplicate user 'dispatcher@210902'" in error.message


def test_bad_role(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path, "users.csv", "reviewer@210904,", "reviewer@210904,approver,210904,太平区审核员"
    )
    error = load_error(folder)
    assert (error.file, error.line) == ("users.csv", line)
    assert "role 'approver'" in error.message


def test_handler_scope_must_be_a_department(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path,
        "users.csv",
        "handler@210902.civil,",
        "handler@210902.civil,handler,210902,海州区民政局承办人",
    )
    error = load_error(folder)
    assert (error.file, error.line, error.message) == ("users.csv", line, "unknown department '210902'")


def test_other_roles_scope_must_be_a_district(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path, "users.csv", "supervisor@210911,", "supervisor@210911,supervisor,210911.urban,细河区督办员"
    )
    error = load_error(folder)
    assert (error.file, error.line, error.message) == ("users.csv", line, "unknown district '210911.urban'")


def test_unknown_grid_parent(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path, "grids.csv", "210903-001-001,", "210903-001-001,210903,兴隆社区,community,210903-009,urban"
    )
    error = load_error(folder)
    assert (error.file, error.line) == ("grids.csv", line)
    assert error.message == "unknown parent grid '210903-009'"


def test_grid_parent_must_be_the_level_above(tmp_path: Path) -> None:
    # A compound placed directly under a street skips the community.
    folder, line = broken_copy(
        tmp_path,
        "grids.csv",
        "210904-001-001-001,",
        "210904-001-001-001,210904,矿工小区,compound,210904-001,urban",
    )
    error = load_error(folder)
    assert (error.file, error.line) == ("grids.csv", line)
    assert "expected a community" in error.message


def test_bad_grid_worker_phone(tmp_path: Path) -> None:
    folder, line = broken_copy(
        tmp_path,
        "grid_workers.csv",
        "gw-210905-02,",
        "gw-210905-02,210905-002-001,孙立新,0418123456,负责网格内巡查,0418-12345,",
    )
    error = load_error(folder)
    assert (error.file, error.line) == ("grid_workers.csv", line)
    assert "phone '0418123456'" in error.message


def test_missing_column(tmp_path: Path) -> None:
    # Given a grid_workers.csv whose header lost its duties column
    folder, line = broken_copy(tmp_path, "grid_workers.csv", "id,", "id,grid,name,phone,supervision_phone")
    error = load_error(folder)
    assert (error.file, error.line) == ("grid_workers.csv", 1) and line == 1
    assert error.message == "missing column 'duties' in header"


def test_extra_column(tmp_path: Path) -> None:
    folder, _ = broken_copy(tmp_path, "channels.csv", "key_sha256,", "key_sha256,channel,name,unit,api_key")
    error = load_error(folder)
    assert (error.file, error.line, error.message) == (
        "channels.csv",
        1,
        "unexpected column 'api_key' in header",
    )


def test_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIRECTORY, folder)
    (folder / "categories.csv").unlink()
    error = load_error(folder)
    assert (error.file, error.line) == ("categories.csv", None)


def test_empty_required_field(tmp_path: Path) -> None:
    folder, line = broken_copy(tmp_path, "districts.csv", "210903,", "210903,,district,210900")
    error = load_error(folder)
    assert (error.file, error.line, error.message) == ("districts.csv", line, "empty field 'name'")


def test_category_parent_must_be_top_level(tmp_path: Path) -> None:
    folder, line = appended_copy(
        tmp_path, "categories.csv", "municipal.lighting.pole,灯杆,municipal.lighting,灯杆倾斜"
    )
    error = load_error(folder)
    assert (error.file, error.line) == ("categories.csv", line)
    assert error.message == "parent category 'municipal.lighting' is not a top-level category"


def test_channel_must_be_known_and_stored_as_a_hash(tmp_path: Path) -> None:
    folder, line = appended_copy(tmp_path, "channels.csv", f"{key_sha256('local-fax')},fax,传真,")
    error = load_error(folder)
    assert (error.file, error.line) == ("channels.csv", line) and "channel 'fax'" in error.message

    shutil.rmtree(folder)
    folder, line = appended_copy(tmp_path, "channels.csv", "local-wechat2,wechat,明文密钥,")
    error = load_error(folder)
    assert (error.file, error.line) == ("channels.csv", line) and "key_sha256" in error.message


def test_error_line_counts_blank_lines(tmp_path: Path) -> None:
    # Given a blank line before the broken row, the reported line is still the editor's line
    folder = tmp_path / "directory"
    shutil.copytree(DEMO_DIRECTORY, folder)
    path = folder / "users.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3:3] = ["", "admin@210902,admin,210999,某管理员"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = load_error(folder)
    assert (error.file, error.line, error.message) == ("users.csv", 5, "unknown district '210999'")
