"""Which committed cells a reveal phase opens (spec §1 order, §5 openings).

A region is chosen with exactly one selector: coarser H3 parent cells, a polygon, a bounding
box, or an explicit list of cells. The result is indices into the committed cell list, which is
ascending (spec §1): a parent's descendants form one contiguous run of it, so a region reveal
opens a contiguous range of leaves and its multiproof stays short (spec §5).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import h3
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from unveil.core.cells import H3_LINE, FixedWidthCells
from unveil.core.h3cells import locate
from unveil.errors import MalformedInputError
from unveil.geo.territory import Geometry, area_km2, overlapping_cell_ids, read_territory

#: Command-line option each selector's errors name.
PARENT_OPTION = "--region"
POLYGON_OPTION = "--polygon"
BBOX_OPTION = "--bbox"
CELL_OPTION = "--cells"

_H3_ID = re.compile(r"[0-9a-f]{15}")
_RES_SHIFT = 52
_DIGIT_BITS = 3


def read_polygon(data: bytes, source: str, filter: str | None = None) -> Geometry:
    """The region polygon of ``--polygon FILE``: GeoJSON read as a territory is (lon, lat)."""
    return read_territory(data, source=source, filter=filter).geometry


def child_range(parent: str, resolution: int) -> tuple[str, str]:
    """The smallest and largest possible descendant ids of ``parent`` at ``resolution``.

    Below the parent's resolution every digit ranges over 0..6 (7 marks unused digits), so
    the smallest child has all new digits 0 and the largest all 6; the parent's bits are the
    most significant ones, so every id between the two descends from ``parent``.
    """
    value = int(parent, 16)
    parent_res = (value >> _RES_SHIFT) & 0xF
    low = (value & ~(0xF << _RES_SHIFT)) | (resolution << _RES_SHIFT)
    high = low
    for digit in range(parent_res + 1, resolution + 1):
        shift = (15 - digit) * _DIGIT_BITS
        low &= ~(0b111 << shift)
        high = (high & ~(0b111 << shift)) | (0b110 << shift)
    return format(low, "015x"), format(high, "015x")


def select_indices(
    cells: Sequence[str],
    resolution: int,
    *,
    parents: Sequence[str] | None = None,
    polygon: BaseGeometry | None = None,
    bbox: BaseGeometry | None = None,
    cell_list: Sequence[str] | None = None,
) -> list[int]:
    """Sorted unique indices into the committed ``cells`` (ascending) that a region selects.

    Exactly one selector: ``parents`` (every committed descendant of each), ``polygon`` or
    ``bbox`` (every committed cell that overlaps it), ``cell_list`` (those cells, each of which
    must be committed). Errors are :class:`MalformedInputError` naming the option.
    """
    given = [name for name, value in ((PARENT_OPTION, parents), (POLYGON_OPTION, polygon), (BBOX_OPTION, bbox), (CELL_OPTION, cell_list)) if value is not None]
    if len(given) != 1:
        raise MalformedInputError(
            f"choose a region with exactly one of {PARENT_OPTION}, {POLYGON_OPTION}, {BBOX_OPTION}, {CELL_OPTION}"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if parents is not None:
        return _by_parents(cells, resolution, parents)
    if cell_list is not None:
        return _by_cells(cells, cell_list)
    if polygon is not None:
        return _by_geometry(cells, resolution, polygon, POLYGON_OPTION)
    assert bbox is not None  # exactly one of the four was given
    return _by_geometry(cells, resolution, bbox, BBOX_OPTION)


def _by_parents(cells: Sequence[str], resolution: int, parents: Sequence[str]) -> list[int]:
    if not parents:
        raise MalformedInputError("no parent cell given", source=PARENT_OPTION)
    indices: set[int] = set()
    for parent in parents:
        # h3.is_valid_cell alone accepts uppercase, a 0x prefix and spaces: check the form first.
        if not _H3_ID.fullmatch(parent) or not h3.is_valid_cell(parent):
            raise MalformedInputError(f"{parent!r} is not an H3 cell (15 lowercase hex digits)", source=PARENT_OPTION)
        parent_res = h3.get_resolution(parent)
        if parent_res > resolution:
            raise MalformedInputError(
                f"{parent} is at resolution {parent_res}, finer than the grid's {resolution}", source=PARENT_OPTION
            )
        low, high = child_range(parent, resolution)
        start, stop = bisect_left(cells, low), bisect_right(cells, high)
        if start == stop:
            raise MalformedInputError(f"{parent} contains no committed cell", source=PARENT_OPTION)
        indices.update(range(start, stop))
    return sorted(indices)


def _by_cells(cells: Sequence[str], cell_list: Sequence[str]) -> list[int]:
    if not cell_list:
        raise MalformedInputError("no cell given", source=CELL_OPTION)
    indices: set[int] = set()
    for cell in cell_list:
        i = bisect_left(cells, cell)
        if i == len(cells) or cells[i] != cell:
            raise MalformedInputError(f"{cell!r} is not a committed cell", source=CELL_OPTION)
        indices.add(i)
    return sorted(indices)


def _by_geometry(cells: Sequence[str], resolution: int, geometry: BaseGeometry, option: str) -> list[int]:
    if geometry.is_empty or geometry.area == 0:
        raise MalformedInputError("the region is empty: give a polygon with an area", source=option)
    if len(cells) and _too_many(geometry, resolution, len(cells)):
        geometry = geometry.intersection(_committed_extent(cells, resolution))
    indices = _locate(cells, overlapping_cell_ids(geometry, resolution))
    if not indices:
        raise MalformedInputError("the region overlaps no committed cell", source=option)
    return indices  # overlapping_cells is ascending, so the indices are too


def _locate(cells: Sequence[str], ids: np.ndarray) -> list[int]:
    """Ascending indices of the committed cells among ``ids`` (ascending ``uint64``).

    A ``cells.txt`` of 16-byte lines read lazily (:class:`~unveil.core.cells.FixedWidthCells`,
    a continent's) is searched by blocks over the span the ids can occupy
    (:func:`unveil.core.h3cells.locate`); other lists one binary search an id."""
    if not len(ids):
        return []
    if isinstance(cells, FixedWidthCells) and cells.width == H3_LINE:
        first, last = bisect_left(cells, format(int(ids[0]), "x")), bisect_right(cells, format(int(ids[-1]), "x"))
        found = locate(ids, len(cells), cells.read_bytes, first, last)
        return [int(i) for i in found[found >= 0].tolist()]
    indices: list[int] = []
    for cell in (format(value, "x") for value in ids.tolist()):
        i = bisect_left(cells, cell)
        if i < len(cells) and cells[i] == cell:
            indices.append(i)
    return indices


def _too_many(geometry: BaseGeometry, resolution: int, committed: int) -> bool:
    """Whether the region's cells clearly outnumber the committed ones (a region much larger
    than the territory): then it is clipped to the committed extent first."""
    return area_km2(geometry) / h3.average_hexagon_area(resolution, unit="km^2") > 4 * committed + 10_000


def _committed_extent(cells: Sequence[str], resolution: int) -> BaseGeometry:
    """A lon/lat box holding every committed cell, from their centres plus a wide margin."""
    lats, lons = zip(*map(h3.cell_to_latlng, cells), strict=True)
    margin_deg = 4 * h3.average_hexagon_edge_length(resolution, unit="km") / 111.0
    south, north = max(min(lats) - margin_deg, -90.0), min(max(lats) + margin_deg, 90.0)
    polar = max(abs(south), abs(north))
    if max(lons) - min(lons) > 180 or polar >= 89:  # across the antimeridian or near a pole
        return shapely.box(-180, south, 180, north)
    lon_margin = margin_deg / math.cos(math.radians(polar))
    return shapely.box(max(min(lons) - lon_margin, -180.0), south, min(max(lons) + lon_margin, 180.0), north)
