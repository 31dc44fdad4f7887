"""How many H3 cells covering a territory takes, estimated before covering it, and the limit
every command that covers a territory applies (``commit``, ``accept --territory``,
``verify --territory``): :func:`check_cell_budget`.

Covering is linear in the cells, in time and memory: at resolution 15 a 120,000 km² island
needs about 1.3·10¹¹ cells, which no machine holds. The estimate takes a fraction of a second
at any resolution, so a command refuses such work at once (exit 2), naming the resolution, the
estimate and the ``--max-cells`` option, instead of running out of memory.

**Estimate.** For each piece of the territory (its polygons, cut into 10° × 10° tiles): the
area on the authalic sphere (:func:`unveil.geo.territory.area_km2`, an equal-area projection:
shapely's own area is planar in degrees) over the area of the H3 cell at the piece's
representative point (cells vary about twofold in area over the globe), plus the length of the
territory's boundary in the piece over the edge of a regular hexagon of that area (the cells
the boundary cuts), plus one. Against the true count (``tests/test_budget.py``: the demo
territory, a 50 km one, an Arctic box, an equatorial band, a box at the antimeridian and a 1 km
square, resolutions 0–10) it lies within 0.95–3× below 1,000 cells and 0.95–1.2× from 1,000
cells up.

**Memory.** :data:`BYTES_PER_CELL` is the memory per cell of the costliest step that covers
a territory, measured by ``bench/coverage_memory.py``: in a fresh process, how far the peak RSS
rises above the resident memory held before the step, over the demo territory at resolutions
8 and 9 (153,000 and 1,065,000 cells), on this project's 2-core, 23 GiB VM. Covering and
sorting cost 116–134 bytes a cell; the coverage check of ``accept`` and ``verify`` 145–168 on
top of the committed list it is given (about 90 more, read from ``cells.txt``); ``commit``
231–288, its forked hashing workers apart (their pages mostly shared with the parent). The
figure rounds the largest up, with room for those. The default limit is what fits in half the
machine's physical memory at that cost (about 29 million cells on that VM).
"""

from __future__ import annotations

import math
import os

import h3
import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from unveil.errors import MalformedInputError
from unveil.geo.territory import AUTHALIC_RADIUS_KM, area_km2

__all__ = ["BYTES_PER_CELL", "MAX_CELLS_OPTION", "check_cell_budget", "default_max_cells", "estimate_cells"]

BYTES_PER_CELL = 400
"""Peak memory per cell of covering a territory (see the module docstring for the measurement)."""

MAX_CELLS_OPTION = "--max-cells"

_TILE_DEGREES = 10.0
_SEGMENT_DEGREES = 0.05
_HEXAGON_AREA_PER_EDGE2 = 3 * math.sqrt(3) / 2  # a regular hexagon of edge e has area 2.598 e²
_FALLBACK_MEMORY = 4 << 30  # where the platform does not say: assume 4 GiB


def _pieces(geometry: BaseGeometry) -> list[tuple[Polygon, BaseGeometry]]:
    """The polygons of ``geometry``, those wider or taller than a tile cut into tiles, each with
    the part of the territory's boundary that lies in it."""
    pieces: list[tuple[Polygon, BaseGeometry]] = []
    for poly in shapely.get_parts(geometry):
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        west, south, east, north = poly.bounds
        if east - west <= _TILE_DEGREES and north - south <= _TILE_DEGREES:
            pieces.append((poly, poly.boundary))
            continue
        boundary = poly.boundary
        for x in np.arange(math.floor(west / _TILE_DEGREES) * _TILE_DEGREES, east, _TILE_DEGREES):
            for y in np.arange(math.floor(south / _TILE_DEGREES) * _TILE_DEGREES, north, _TILE_DEGREES):
                tile = box(x, y, x + _TILE_DEGREES, y + _TILE_DEGREES)
                parts = [p for p in shapely.get_parts(poly.intersection(tile)) if isinstance(p, Polygon) and not p.is_empty]
                if parts:
                    edge = boundary.intersection(tile)
                    pieces.extend((p, edge if i == 0 else shapely.LineString()) for i, p in enumerate(parts))
    return pieces


def _length_km(lines: BaseGeometry) -> float:
    """Great-circle length of ``lines`` (lon/lat) on the authalic sphere, in km."""
    total = 0.0
    for line in shapely.get_parts(lines):
        if line.is_empty or line.geom_type not in ("LineString", "LinearRing"):
            continue
        lonlat = np.radians(np.asarray(shapely.segmentize(line, _SEGMENT_DEGREES).coords)[:, :2])
        lon, lat = lonlat[:, 0], lonlat[:, 1]
        haversine = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
        total += float(np.sum(2 * np.arcsin(np.sqrt(np.clip(haversine, 0.0, 1.0)))))
    return total * AUTHALIC_RADIUS_KM


def estimate_cells(geometry: BaseGeometry, resolution: int) -> int:
    """About how many H3 cells at ``resolution`` overlap ``geometry`` (see the module docstring
    for the method and how close it comes); fast at any resolution."""
    total = 1.0
    for piece, boundary in _pieces(geometry):
        point = piece.representative_point()
        cell_area = h3.cell_area(h3.latlng_to_cell(point.y, point.x, resolution), unit="km^2")
        edge = math.sqrt(cell_area / _HEXAGON_AREA_PER_EDGE2)
        total += area_km2(piece) / cell_area + _length_km(boundary) / edge
    return math.ceil(total)


def physical_memory() -> int:
    """The machine's physical memory in bytes (4 GiB where the platform does not tell)."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return _FALLBACK_MEMORY
    return pages * size if pages > 0 and size > 0 else _FALLBACK_MEMORY


def default_max_cells() -> int:
    """The default ``--max-cells``: the cells whose cover fits in half the physical memory."""
    return physical_memory() // 2 // BYTES_PER_CELL


def check_cell_budget(geometry: BaseGeometry, resolution: int, max_cells: int | None) -> int:
    """The estimated cell count of covering ``geometry`` at ``resolution``; raises
    :class:`MalformedInputError` (naming the resolution, the estimate and ``--max-cells``) when
    it exceeds ``max_cells`` (``None``: :func:`default_max_cells`)."""
    limit = default_max_cells() if max_cells is None else max_cells
    estimate = estimate_cells(geometry, resolution)
    if estimate > limit:
        which = "the default, half this machine's memory" if max_cells is None else "as given"
        raise MalformedInputError(
            f"covering the territory at resolution {resolution} takes about {estimate:,} cells, more than"
            f" {MAX_CELLS_OPTION} {limit:,} ({which}): choose a coarser resolution, or raise {MAX_CELLS_OPTION}"
            " if the memory is there",
            where=MAX_CELLS_OPTION,
        )
    return estimate
