"""The service centers in the directory (CONTRACT §11): every district's 社会治理综合服务中心 and
court, the units stationed at each (center_units.csv), and its mediators; a wrong row in
center_units.csv is refused naming the file and the line, like every directory file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chalicelib.directory.loader import DirectoryError, load_directory

DEMO = Path(__file__).resolve().parents[2] / "chalicelib" / "directory" / "data" / "demo"
DISTRICTS = ("210900", "210902", "210903", "210904", "210905", "210911", "210921", "210922")


@pytest.fixture(scope="module")
def demo():
    return load_directory(DEMO)


def test_every_district_has_a_center_a_court_its_units_and_its_mediators(demo):
    for district in DISTRICTS:
        center = demo.department(f"{district}.center")
        assert center is not None and center.name.endswith("社会治理综合服务中心"), district
        assert demo.department(f"{district}.court") is not None, district
        kinds = {u.kind for u in demo.units_at(f"{district}.center")}
        assert {"court", "petition_office", "mediation", "labour_arbitration", "legal_aid", "police"} <= kinds
        for unit in ("center", "court"):
            user = demo.user(f"mediator@{district}.{unit}")
            assert user is not None and (user.role, user.department) == ("mediator", f"{district}.{unit}")
            assert user.district == district


def test_the_units_survive_the_stored_form(demo):
    from chalicelib.directory.model import Directory

    again = Directory.from_dict(demo.to_dict())
    assert again.units_at("210902.center") == demo.units_at("210902.center")
    older = {k: v for k, v in demo.to_dict().items() if k != "center_units"}  # stored before §11
    assert Directory.from_dict(older).units_at("210902.center") == ()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("210902.nowhere,court,某法院,court,", "unknown center '210902.nowhere'"),
        ("210902.housing,court,某法院,court,", "'210902.housing' is not a service center"),
        ("210902.center,Court,某法院,court,", "unit 'Court' must be lowercase letters, digits, _"),
        ("210902.center,tax,税务窗口,tax_office,", "kind 'tax_office' is not one of"),
        ("210902.center,notary,公证处,other,210902.notary", "unknown department '210902.notary'"),
        ("210902.center,court,再一个法院,court,", "duplicate unit '210902.center', 'court'"),
    ],
)
def test_a_wrong_row_names_the_file_and_the_line(tmp_path, row, message):
    folder = tmp_path / "directory"
    shutil.copytree(DEMO, folder)
    path = folder / "center_units.csv"
    lines = path.read_text(encoding="utf-8").splitlines() + [row]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(folder)
    assert (caught.value.file, caught.value.line) == ("center_units.csv", len(lines))
    assert message in caught.value.message
