"""The agreed territory and the H3 cells that cover it (spec §1 "Agreed coverage", §2).

Coordinates are (lon, lat), GeoJSON order (RFC 7946), everywhere in this module; only the
calls into h3, which wants (lat, lng), swap them. Polygon edges are straight lines in lon/lat,
as GeoJSON, shapely and h3's polygon functions all treat them.

The cell set of a territory is every H3 cell that overlaps it (spec §1), so every point of the
territory, boundary included, lies in a listed cell: the host commits that set and the
inspecting party recomputes it with :func:`missing_cells` before accepting the escrow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError

#: Radius of the authalic sphere of WGS84 (km): the sphere h3 uses for its cell areas.
AUTHALIC_RADIUS_KM = 6371.007180918475

# h3 reads a polygon wider than 180° of longitude as crossing the antimeridian; parts wider
# than this are cut into strips first (a cell overlaps the whole iff it overlaps a strip).
_STRIP_DEGREES = 90.0
# Longest edge, in degrees, kept before projecting for the area (see Territory.area_km2).
_AREA_SEGMENT_DEGREES = 0.05

_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection"}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits (\d is Unicode)

Geometry = Polygon | MultiPolygon


def _check_resolution(resolution: int) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise MalformedInputError(f"H3 resolution {resolution!r} is not an integer in 0..15", where="resolution")


def _h3_parts(geometry: BaseGeometry) -> Iterator[h3.LatLngPoly]:
    """The polygons of ``geometry`` as h3 shapes, cut into strips where one is too wide."""
    for poly in shapely.get_parts(geometry):
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        min_lon, _, max_lon, _ = poly.bounds
        if max_lon - min_lon < _STRIP_DEGREES:
            pieces = [poly]
        else:
            pieces = []
            for west in np.arange(-180.0, 180.0, _STRIP_DEGREES):
                cut = poly.intersection(box(west, -90.0, west + _STRIP_DEGREES, 90.0))
                pieces.extend(p for p in shapely.get_parts(cut) if isinstance(p, Polygon) and not p.is_empty)
        for piece in pieces:
            rings = [piece.exterior, *piece.interiors]
            yield h3.LatLngPoly(*[[(c[1], c[0]) for c in ring.coords[:-1]] for ring in rings])


def overlapping_cell_ids(geometry: BaseGeometry, resolution: int) -> np.ndarray:
    """Every H3 cell at ``resolution`` that overlaps ``geometry``, as ascending unique ``uint64``
    ids: 8 bytes a cell, where a list of id strings takes about 80 (a continent at resolution 8
    is some 23 million cells). The same h3 call as :func:`overlapping_cells` (its int API)."""
    from h3.api import numpy_int

    _check_resolution(resolution)
    parts = [numpy_int.h3shape_to_cells_experimental(shape, resolution, contain="overlap") for shape in _h3_parts(geometry)]
    if not parts:
        return np.empty(0, dtype=np.uint64)
    found = np.concatenate(parts).astype(np.uint64, copy=False) if len(parts) > 1 else parts[0].astype(np.uint64, copy=False)
    found.sort()
    if len(found) > 1 and bool(np.any(found[1:] == found[:-1])):
        found = np.unique(found)
    return found


def overlapping_cells(geometry: BaseGeometry, resolution: int) -> list[str]:
    """Every H3 cell at ``resolution`` that overlaps ``geometry`` (its polygons), ascending.

    Ascending string order is numeric order for 15-hex-digit ids, the committed order (spec §1).
    """
    return [format(value, "x") for value in overlapping_cell_ids(geometry, resolution).tolist()]


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a lon/lat geometry on the authalic sphere (the one h3's ``cell_area`` uses), km².

    Method: split edges to at most 0.05°, then project with Lambert's cylindrical equal-area
    projection (x = R·λ, y = R·sin φ), where planar area equals area on the sphere.
    """

    def project(xy: np.ndarray) -> np.ndarray:
        radians = np.radians(xy)
        return np.column_stack([radians[:, 0], np.sin(radians[:, 1])]) * AUTHALIC_RADIUS_KM

    dense = shapely.segmentize(geometry, _AREA_SEGMENT_DEGREES)
    return float(shapely.transform(dense, project).area)


@dataclass(frozen=True)
class Territory:
    """An agreed territory: a shapely Polygon or MultiPolygon in (lon, lat)."""

    geometry: Geometry

    def __post_init__(self) -> None:
        if not isinstance(self.geometry, Polygon | MultiPolygon) or self.geometry.is_empty:
            raise TypeError("a Territory is a non-empty shapely Polygon or MultiPolygon")
        shapely.prepare(self.geometry)

    def area_km2(self) -> float:
        """Area on the authalic sphere, in km² (see :func:`area_km2`)."""
        return area_km2(self.geometry)

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point (lon, lat) is in the territory; the boundary counts as inside."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return False
        return bool(shapely.intersects_xy(self.geometry, lon, lat))

    def cells(self, resolution: int) -> list[str]:
        """Every H3 cell at ``resolution`` that overlaps the territory, ascending (spec §1)."""
        return overlapping_cells(self.geometry, resolution)

    def cell_ids(self, resolution: int) -> np.ndarray:
        """:meth:`cells` as ascending ``uint64`` ids (see :func:`overlapping_cell_ids`)."""
        return overlapping_cell_ids(self.geometry, resolution)


def missing_cells(territory: Territory, resolution: int, cell_list: Sequence[str]) -> list[str]:
    """The cells the territory needs that ``cell_list`` lacks, ascending (spec §1 coverage check)."""
    committed = set(cell_list)
    return [cell for cell in territory.cells(resolution) if cell not in committed]


def missing_ids(needed: np.ndarray, committed: Iterable[np.ndarray]) -> np.ndarray | None:
    """The ids of ``needed`` (ascending ``uint64``, e.g. :meth:`Territory.cell_ids`) that
    ``committed`` lacks, ascending: :func:`missing_cells` for a continent. ``committed`` is the
    committed cells' ids in blocks, in order (the blocks of a ``cells.txt``,
    :func:`unveil.core.h3cells.h3_blocks`); one block is held at a time, merged against
    ``needed``. ``None`` if the committed ids are not strictly ascending (the merge needs it)."""
    found_missing: list[np.ndarray] = []
    rest = needed
    previous: np.uint64 | None = None
    for block in committed:
        if not len(block):
            continue
        if not bool(np.all(block[1:] > block[:-1])) or (previous is not None and not block[0] > previous):
            return None
        previous = block[-1]
        cut = int(np.searchsorted(rest, block[-1], side="right"))
        part, rest = rest[:cut], rest[cut:]
        at = np.minimum(np.searchsorted(block, part), len(block) - 1)
        found_missing.append(part[block[at] != part])
    found_missing.append(rest)
    return np.concatenate(found_missing)


def bbox(text: str) -> Polygon:
    """Parse the ``--bbox`` option ``MIN_LON,MIN_LAT,MAX_LON,MAX_LAT`` into a box polygon."""

    def fail(message: str) -> MalformedInputError:
        return MalformedInputError(f"{text!r}: {message}", source="--bbox")

    parts = text.split(",")
    if len(parts) != 4:
        raise fail(f"expected MIN_LON,MIN_LAT,MAX_LON,MAX_LAT (4 numbers), got {len(parts)} fields")
    values: list[float] = []
    for name, part in zip(("MIN_LON", "MIN_LAT", "MAX_LON", "MAX_LAT"), parts, strict=True):
        token = part.strip()
        if not _NUMBER.fullmatch(token) or not math.isfinite(float(token)):
            raise fail(f"{name} {token!r} is not a finite decimal number")
        values.append(float(token))
    min_lon, min_lat, max_lon, max_lat = values
    for name, value, limit in (("MIN_LON", min_lon, 180), ("MAX_LON", max_lon, 180), ("MIN_LAT", min_lat, 90), ("MAX_LAT", max_lat, 90)):
        if not -limit <= value <= limit:
            raise fail(f"{name} {value} is outside [-{limit}, {limit}] (the order is lon, lat)")
    if not min_lon < max_lon:
        raise fail("MIN_LON must be less than MAX_LON (a box across the antimeridian: use --polygon)")
    if not min_lat < max_lat:
        raise fail("MIN_LAT must be less than MAX_LAT")
    return box(min_lon, min_lat, max_lon, max_lat)


# --- GeoJSON reading ------------------------------------------------------------------------


def read_territory(data: bytes, *, source: str, filter: str | None = None) -> Territory:
    """Read a territory from GeoJSON: a Polygon, MultiPolygon, Feature or FeatureCollection.

    A FeatureCollection of several features needs ``filter`` ``KEY=VALUE``, selecting the
    features whose ``properties[KEY]`` is the string VALUE (or an integer written so); the
    selected polygons are united. Every error names ``source`` and the feature or field.
    """
    return Territory(_Reader(source).document(loads(data, source=source), filter))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value).replace("'", '"')
    return text if len(text) <= 40 else text[:37] + "…"


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def error(self, message: str, where: str | None) -> MalformedInputError:
        return MalformedInputError(message, source=self.source, where=where or None)

    def document(self, doc: Any, filter: str | None) -> Geometry:
        if not isinstance(doc, dict):
            raise self.error("is not a GeoJSON object", None)
        self.crs(doc)
        kind = doc.get("type")
        if kind in ("Polygon", "MultiPolygon"):
            if filter is not None:
                raise self.error(f"filter {filter!r} needs features, but the file is a bare {kind}", "type")
            polygons = self.geometry(doc, "")
        elif kind == "Feature":
            polygons = self.features([doc], filter, single=True)
        elif kind == "FeatureCollection":
            features = doc.get("features")
            if not isinstance(features, list):
                raise self.error("is not an array of features", "features")
            polygons = self.features(features, filter, single=False)
        else:
            raise self.geometry_type_error(kind, "type")
        union = shapely.union_all(polygons)
        parts = [p for p in shapely.get_parts(union) if isinstance(p, Polygon) and not p.is_empty]
        if not parts or union.area == 0:
            raise self.error("the selected geometry is empty: no territory", None)
        return parts[0] if len(parts) == 1 else MultiPolygon(parts)

    def crs(self, doc: dict[str, Any]) -> None:
        """Reject a 2008-GeoJSON ``crs`` other than lon/lat WGS84 (RFC 7946 removed the member)."""
        if "crs" not in doc:
            return
        crs = doc["crs"]
        properties = crs.get("properties") if isinstance(crs, dict) else None
        name = properties.get("name") if isinstance(properties, dict) else None
        if not (isinstance(name, str) and ("CRS84" in name or name.endswith(":4326"))):
            raise self.error("names a coordinate system other than WGS84 lon/lat (OGC CRS84)", "crs")

    def geometry_type_error(self, kind: Any, where: str) -> MalformedInputError:
        if isinstance(kind, str) and kind in _GEOMETRY_TYPES:  # a list or object is no type name
            return self.error(f"is a {kind}: a territory is a Polygon or MultiPolygon", where)
        return self.error(f"unknown GeoJSON type {_describe(kind)}", where)

    def features(self, features: list[Any], filter: str | None, *, single: bool) -> list[Polygon]:
        key_value = None if filter is None else self.parse_filter(filter)
        if not features:
            raise self.error("holds no features: no territory", "features")
        if key_value is None and len(features) > 1:
            keys = next((sorted(f["properties"])[:8] for f in features if isinstance(f, dict) and isinstance(f.get("properties"), dict)), [])
            raise self.error(
                f"holds {len(features)} features: choose the territory with a filter KEY=VALUE"
                + (f" (property keys include {', '.join(keys)})" if keys else ""),
                "features",
            )
        chosen: list[tuple[str, dict[str, Any]]] = []
        for i, feature in enumerate(features):
            path = "" if single else f"features[{i}]"
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise self.error("is not a GeoJSON Feature", _join(path, "type") if isinstance(feature, dict) else path)
            properties = feature.get("properties")
            if properties is not None and not isinstance(properties, dict):
                raise self.error("is not an object or null", _join(path, "properties"))
            if key_value is None or _matches(properties, *key_value):
                chosen.append((path, feature))
        if not chosen:
            assert filter is not None and key_value is not None
            raise self.error(f"matches no feature: {self.available(features, key_value[0])}", f"filter {filter!r}")
        return [polygon for path, feature in chosen for polygon in self.geometry(feature.get("geometry"), _join(path, "geometry"))]

    def parse_filter(self, filter: str) -> tuple[str, str]:
        key, sep, value = filter.partition("=")
        if not sep or not key:
            raise self.error("is not KEY=VALUE (for example ADMIN=Exampleland)", f"filter {filter!r}")
        return key, value

    @staticmethod
    def available(features: list[Any], key: str) -> str:
        values = sorted({_describe(f["properties"][key]) for f in features if isinstance(f, dict) and isinstance(f.get("properties"), dict) and key in f["properties"]})
        if not values:
            return f"no feature has the property {key!r}"
        shown = ", ".join(values[:10]) + (f", … ({len(values)} values)" if len(values) > 10 else "")
        return f"values of {key} include {shown}"

    def geometry(self, geometry: Any, path: str) -> list[Polygon]:
        where = path or None
        if geometry is None:
            raise self.error("is null: the feature has no geometry", where)
        if not isinstance(geometry, dict):
            raise self.error("is not a GeoJSON geometry object", where)
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        coords_path = _join(path, "coordinates")
        if kind not in ("Polygon", "MultiPolygon"):
            raise self.geometry_type_error(kind, _join(path, "type"))
        if not isinstance(coordinates, list):
            raise self.error("is missing or not an array", coords_path)
        if kind == "Polygon":
            return [self.polygon(coordinates, coords_path)]
        return [self.polygon(rings, f"{coords_path}[{j}]") for j, rings in enumerate(coordinates)]

    def polygon(self, rings: Any, path: str) -> Polygon:
        if not isinstance(rings, list) or not rings:
            raise self.error("is not a polygon: an array of at least one linear ring", path)
        loops = [self.ring(ring, f"{path}[{r}]") for r, ring in enumerate(rings)]
        polygon = Polygon(loops[0], loops[1:])
        if not polygon.is_valid:
            reason = shapely.is_valid_reason(polygon)
            raise self.error(f"is not a valid polygon: {reason} (position given as lon lat)", path)
        return polygon

    def ring(self, ring: Any, path: str) -> list[tuple[float, float]]:
        if not isinstance(ring, list):
            raise self.error("is not a linear ring (an array of positions)", path)
        if len(ring) < 4:
            raise self.error(f"has {len(ring)} positions: a linear ring has at least 4", path)
        points = [self.position(p, f"{path}[{k}]") for k, p in enumerate(ring)]
        if ring[0] != ring[-1]:
            raise self.error(f"is not closed: the first position {ring[0]} differs from the last {ring[-1]}", path)
        return points

    def position(self, position: Any, path: str) -> tuple[float, float]:
        if not isinstance(position, list) or not 2 <= len(position) <= 3:
            raise self.error(f"{_describe(position)} is not a position [lon, lat] or [lon, lat, height]", path)
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in position):
            raise self.error(f"{_describe(position)} is not a position of finite numbers", path)
        lon, lat = position[0], position[1]
        if not -180 <= lon <= 180:
            raise self.error(f"longitude {lon} is outside [-180, 180] (positions are [lon, lat])", path)
        if not -90 <= lat <= 90:
            hint = "; is it [lat, lon]? GeoJSON positions are [lon, lat]" if -90 <= lon <= 90 else " (positions are [lon, lat])"
            raise self.error(f"latitude {lat} is outside [-90, 90]{hint}", path)
        return float(lon), float(lat)


def _matches(properties: dict[str, Any] | None, key: str, value: str) -> bool:
    if not properties or key not in properties:
        return False
    found = properties[key]
    if isinstance(found, str):
        return found == value
    return isinstance(found, int) and not isinstance(found, bool) and str(found) == value
