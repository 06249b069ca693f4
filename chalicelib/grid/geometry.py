"""Which grid a point lies in: the grids' polygons behind an STRtree.

Pure (shapely only). ``GridIndex.locate(lat, lon)`` asks the tree for the polygons whose
bounding boxes hold the point (O(log n) for n grids), keeps those that really contain it
(``covers``: a point on a boundary counts as inside) and answers the smallest one — grids
nest (楼栋 in 小区 in 社区 in 街道), so the smallest containing grid is the deepest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


class GridIndex:
    def __init__(self, areas: Iterable[tuple[str, dict]]) -> None:
        """``areas``: (grid code, GeoJSON geometry) pairs."""
        pairs = [(code, shape(geometry)) for code, geometry in areas]
        self.codes: tuple[str, ...] = tuple(code for code, _ in pairs)
        self.shapes: tuple[BaseGeometry, ...] = tuple(polygon for _, polygon in pairs)
        self._tree = STRtree(list(self.shapes)) if self.shapes else None

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lat: float, lon: float) -> str | None:
        """The code of the smallest grid containing the point, or None outside every grid."""
        if self._tree is None:
            return None
        point = Point(lon, lat)  # GeoJSON order: x = longitude, y = latitude
        hits = [int(i) for i in self._tree.query(point, predicate="covered_by")]
        if not hits:
            return None
        best = min(hits, key=lambda i: (self.shapes[i].area, self.codes[i]))
        return self.codes[best]

    def interior_point(self, code: str) -> tuple[float, float]:
        """(lat, lon) of a point of the grid that lies in none of the grids nested inside it."""
        i = self.codes.index(code)
        own = self.shapes[i]
        for j, other in enumerate(self.shapes):
            if j != i and own.contains(other):
                own = own.difference(other)
        p = own.representative_point()
        return p.y, p.x


_lock = threading.Lock()
_cache: dict[int, tuple[object, GridIndex]] = {}


def index_for(directory) -> GridIndex:
    """The index of a directory's areas, built once per directory instance (the runtime's
    directory is cached and replaced when a new one is loaded: a new instance, a new index)."""
    key = id(directory)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is directory:
            return hit[1]
        index = GridIndex((a.grid, a.geometry) for a in directory.areas)
        _cache.clear()  # one directory at a time is current; keep memory flat
        _cache[key] = (directory, index)
        return index
