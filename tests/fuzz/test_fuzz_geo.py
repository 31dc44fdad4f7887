"""Fuzzing territories and region polygons (GeoJSON, RFC 7946; spec §1): any bytes and any
change of a valid territory give a Territory or a MalformedInputError naming the file;
polygons written as GeoJSON read back as the same shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Polygon

from tests.fuzz.support import fuzz, mutated_numbers, mutated_text, nested, outcome
from unveil.errors import MalformedInputError
from unveil.geo.regions import read_polygon
from unveil.geo.territory import Territory, read_territory

EXERCISE = json.loads((Path(__file__).resolve().parents[2] / "src" / "unveil" / "exercise" / "territory.geojson").read_text())
RING = [[10.0, 45.0], [10.6, 45.05], [10.65, 45.4], [10.05, 45.45], [10.0, 45.0]]
SEEDS: list[Any] = [
    EXERCISE,
    {"type": "Polygon", "coordinates": [RING], "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}},
    {"type": "MultiPolygon", "coordinates": [[RING], [[[20.0, 45.0], [20.2, 45.0], [20.2, 45.2], [20.0, 45.0]]]]},
    {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Testland", "n": 1}, "geometry": {"type": "Polygon", "coordinates": [RING]}},
        {"type": "Feature", "properties": {"name": "Elsewhere"}, "geometry": {"type": "Polygon", "coordinates": [
            [[20.0, 45.0], [20.2, 45.0], [20.2, 45.2], [20.0, 45.0]], [[20.05, 45.02], [20.1, 45.02], [20.1, 45.05], [20.05, 45.02]]]}}]},
]
FILTERS = st.none() | st.sampled_from(["name=Testland", "name=Elsewhere", "n=1", "name=", "=x", "name", "name=Nowhere"]) | st.text(max_size=8)


def read(data: bytes, filter: str | None) -> Territory | MalformedInputError:
    territory = outcome(read_territory, data, source="t.geojson", filter=filter)
    if isinstance(territory, Territory):
        assert territory.geometry.is_valid and territory.geometry.area > 0
        territory.contains(10.3, 45.2)
        assert territory.area_km2() > 0
        assert len(territory.cells(1)) >= 1  # every territory overlaps a cell (spec §1); resolution 1 keeps it quick
    polygon = outcome(read_polygon, data, "region.geojson", filter, names="region.geojson")
    assert isinstance(polygon, MalformedInputError) == isinstance(territory, MalformedInputError)
    return territory


@fuzz(30)
@given(st.sampled_from(SEEDS).flatmap(lambda seed: mutated_text(seed) | mutated_numbers(json.dumps(seed).encode())), FILTERS)
def test_mutated_territories(data: bytes, filter: str | None) -> None:
    read(data, filter)


@fuzz(20)
@given(st.binary(max_size=80) | st.integers(60, 70).map(lambda d: json.dumps({"type": "Polygon", "coordinates": nested(d)}).encode()), FILTERS)
def test_any_bytes_and_deep_coordinates(data: bytes, filter: str | None) -> None:
    read(data, filter)


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    """Convex polygons with an area, anywhere on the globe but the antimeridian."""
    lon = draw(st.floats(-170, 160))
    lat = draw(st.floats(-80, 70))
    points = draw(st.lists(st.tuples(st.floats(lon, lon + 9), st.floats(lat, lat + 9)), min_size=3, max_size=8))
    hull = MultiPoint(points).convex_hull
    if not isinstance(hull, Polygon) or hull.area < 1e-6:
        hull = shapely.box(lon, lat, lon + 1, lat + 1)
    return hull


def _feature(polygon: Polygon, name: str) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name}, "geometry": shapely.geometry.mapping(polygon)}


@fuzz(20)
@given(polygons(), st.sampled_from(["bare", "feature", "collection"]), st.booleans())
def test_a_polygon_written_as_geojson_reads_back_as_itself(polygon: Polygon, form: str, reverse: bool) -> None:
    if reverse:
        polygon = shapely.geometry.polygon.orient(polygon, -1.0)  # clockwise: RFC 7946 readers accept either
    geometry = json.loads(json.dumps(shapely.geometry.mapping(polygon)))
    doc = {"bare": geometry, "feature": _feature(polygon, "A"), "collection": {"type": "FeatureCollection", "features": [_feature(polygon, "A")]}}[form]
    territory = read_territory(json.dumps(doc).encode(), source="t.geojson")
    assert territory.geometry.equals(polygon)
    two = {"type": "FeatureCollection", "features": [_feature(polygon, "A"), _feature(shapely.box(-179, -89, -178, -88), "B")]}
    assert read_territory(json.dumps(two).encode(), source="t.geojson", filter="name=A").geometry.equals(polygon)
