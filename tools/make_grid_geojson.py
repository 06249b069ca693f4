"""Write the demo grids' polygons, ``chalicelib/directory/data/demo/geo/<district>.geojson``.

Run from the repository root::

    python -m tools.make_grid_geojson            # (re)write the files
    python -m tools.make_grid_geojson --check    # exit 1 if the files are stale

The demo directory has no surveyed boundaries, so this draws plausible ones: each district
(by its GB/T 2260 code) gets a box near where it lies around Fuxin (lat ≈ 42.0, lon ≈ 121.65;
彰武县 to the north-east, 清河门区 to the south-west, 阜蒙县 around the city to the north),
and the grids of ``grids.csv`` are drawn inside it as rectangles:

* a district's top-level grids (streets, townships) split its box into strips with gaps;
* a grid's children split the *left 70 %* of it (a 5 % margin inside), in strips the other
  way round; the right 30 % stays the parent's own, so that every grid has ground of its own
  (the test asks ``locate`` about a point there and expects that very grid back).

So siblings never overlap and each child lies inside its parent — what the loader checks.
Coordinates are GeoJSON order, ``[lon, lat]``, rounded to 1e-5 degrees (about a metre).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "chalicelib" / "directory" / "data" / "demo"
GEO = DEMO / "geo"

# (lat_min, lat_max, lon_min, lon_max) per district: disjoint, roughly where each one lies.
DISTRICT_BOXES: dict[str, tuple[float, float, float, float]] = {
    "210904": (41.98, 42.04, 121.54, 121.62),  # 太平区, west of the centre
    "210902": (41.98, 42.04, 121.62, 121.72),  # 海州区, the centre
    "210911": (42.045, 42.10, 121.54, 121.64),  # 细河区, north-west of the centre
    "210903": (42.06, 42.12, 121.76, 121.86),  # 新邱区, north-east of the centre
    "210905": (41.74, 41.82, 121.38, 121.48),  # 清河门区, south-west
    "210921": (42.15, 42.45, 121.40, 121.90),  # 阜新蒙古族自治县, north of the city
    "210922": (42.25, 42.55, 122.30, 122.80),  # 彰武县, north-east
}
OWN_SHARE = 0.30  # the part of a parent its children leave to it
MARGIN = 0.05  # of a box's size, kept free around and between strips


Box = tuple[float, float, float, float]


def strips(box: Box, n: int, along_lat: bool) -> list[Box]:
    """``n`` boxes side by side inside ``box`` (with margins), split along latitude or longitude."""
    lat0, lat1, lon0, lon1 = box
    dlat, dlon = lat1 - lat0, lon1 - lon0
    lat0, lat1 = lat0 + dlat * MARGIN, lat1 - dlat * MARGIN
    lon0, lon1 = lon0 + dlon * MARGIN, lon1 - dlon * MARGIN
    out = []
    for i in range(n):
        if along_lat:
            step = (lat1 - lat0) / n
            a, b = lat0 + i * step, lat0 + (i + 1) * step
            gap = step * MARGIN
            out.append((a + gap, b - gap, lon0, lon1))
        else:
            step = (lon1 - lon0) / n
            a, b = lon0 + i * step, lon0 + (i + 1) * step
            gap = step * MARGIN
            out.append((lat0, lat1, a + gap, b - gap))
    return out


def children_area(box: Box) -> Box:
    """The left part of a grid its children share (the rest is the grid's own)."""
    lat0, lat1, lon0, lon1 = box
    return (lat0, lat1, lon0, lon0 + (lon1 - lon0) * (1 - OWN_SHARE))


def polygon(box: Box) -> dict:
    lat0, lat1, lon0, lon1 = (round(v, 5) for v in box)
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def build() -> dict[str, str]:
    """The file name → text of every district's FeatureCollection."""
    with (DEMO / "grids.csv").open(encoding="utf-8", newline="") as f:
        grids = list(csv.DictReader(f))
    children: dict[str | None, list[dict]] = {}
    for g in grids:
        children.setdefault(g["parent"] or None, []).append(g)
    boxes: dict[str, Box] = {}

    def place(parent_box: Box, kids: list[dict], depth: int, whole: bool) -> None:
        area = parent_box if whole else children_area(parent_box)
        for kid, box in zip(kids, strips(area, len(kids), along_lat=depth % 2 == 1), strict=True):
            boxes[kid["code"]] = box
            place(box, children.get(kid["code"], []), depth + 1, whole=False)

    for district, box in DISTRICT_BOXES.items():
        tops = [g for g in children.get(None, []) if g["district"] == district]
        place(box, tops, 0, whole=True)

    files = {}
    for district in DISTRICT_BOXES:
        features = [
            {
                "type": "Feature",
                "properties": {"code": g["code"], "name": g["name"]},
                "geometry": polygon(boxes[g["code"]]),
            }
            for g in grids
            if g["district"] == district
        ]
        doc = {"type": "FeatureCollection", "features": features}
        files[f"{district}.geojson"] = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ")
    args = parser.parse_args(argv)
    files = build()
    stale = [n for n, text in files.items() if not (GEO / n).exists() or (GEO / n).read_text("utf-8") != text]
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    GEO.mkdir(exist_ok=True)
    for name, text in files.items():
        (GEO / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {GEO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
