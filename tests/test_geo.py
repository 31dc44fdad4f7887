"""Territory, H3 coverage and region selection (spec §1 agreed coverage and cell order, §2)."""

from __future__ import annotations

import json
import time
from typing import Any

import h3
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from unveil.errors import MalformedInputError
from unveil.geo import (
    Territory,
    area_km2,
    bbox,
    missing_cells,
    read_polygon,
    read_territory,
    select_indices,
)
from unveil.geo.regions import child_range
from unveil.textformats import swap_hint

# A 2° × 1.5° quadrilateral around lon 10, lat 45, in GeoJSON (lon, lat) order.
QUAD = [[9.0, 44.25], [11.0, 44.3], [10.95, 45.75], [9.05, 45.7], [9.0, 44.25]]
HOLED = [[[20.0, 50.0], [21.0, 50.0], [21.0, 51.0], [20.0, 51.0], [20.0, 50.0]],
         [[20.4, 50.4], [20.6, 50.4], [20.6, 50.6], [20.4, 50.6], [20.4, 50.4]]]
ISLAND = [[[22.0, 50.0], [22.5, 50.0], [22.2, 50.4], [22.0, 50.0]]]


def doc(value: Any) -> bytes:
    return json.dumps(value).encode()


def polygon(rings: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": rings}


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


QUAD_T = read_territory(doc(polygon([QUAD])), source="quad.geojson")
MULTI_T = read_territory(doc({"type": "MultiPolygon", "coordinates": [HOLED, ISLAND]}), source="multi.geojson")
QUAD_CELLS_7 = QUAD_T.cells(7)


def cell_polygon(cell: str) -> Polygon:
    return Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])


def sample_points(territory: Territory, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(inside, edge): random interior points and points just inside the boundary; random
    points on the boundary (within rounding of it) and the vertices."""
    rng = np.random.default_rng(seed)
    geometry = territory.geometry
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    xy = np.column_stack([rng.uniform(min_lon, max_lon, n), rng.uniform(min_lat, max_lat, n)])
    interior = xy[shapely.intersects_xy(geometry, xy[:, 0], xy[:, 1])]
    near = shapely.get_coordinates(shapely.line_interpolate_point(geometry.buffer(-1e-7).boundary, rng.random(n), normalized=True))
    on_boundary = shapely.get_coordinates(shapely.line_interpolate_point(geometry.boundary, rng.random(n), normalized=True))
    return np.concatenate([interior, near]), np.concatenate([on_boundary, shapely.get_coordinates(geometry)])


# --- coverage (spec §1: every point of the territory lies in a committed cell) ----------------


@pytest.mark.parametrize("resolution", [3, 5, 7])
@pytest.mark.parametrize("territory", [QUAD_T, MULTI_T], ids=["quad", "multipolygon-with-hole"])
def test_every_point_of_the_territory_lies_in_a_listed_cell(territory: Territory, resolution: int) -> None:
    listed = set(territory.cells(resolution))
    inside, edge = sample_points(territory, 20_000, seed=resolution)
    assert len(inside) > 25_000 and all(territory.contains(lon, lat) for lon, lat in inside[::97])
    points = np.concatenate([inside, edge])
    missing = {(lon, lat) for lon, lat in points if h3.latlng_to_cell(lat, lon, resolution) not in listed}
    assert not missing


@settings(max_examples=300, deadline=None)
@given(st.floats(8.9, 11.1), st.floats(44.2, 45.8))
def test_coverage_for_arbitrary_points(lon: float, lat: float) -> None:
    if QUAD_T.contains(lon, lat):
        assert h3.latlng_to_cell(lat, lon, 7) in set(QUAD_CELLS_7)


def test_cells_are_sorted_unique_at_the_resolution_and_each_overlaps() -> None:
    cells = MULTI_T.cells(6)
    assert cells == sorted(set(cells)) and all(h3.get_resolution(c) == 6 for c in cells)
    assert all(cell_polygon(c).intersects(MULTI_T.geometry) for c in cells)
    # the hole's interior is not covered: some cell near its centre is absent
    assert h3.latlng_to_cell(50.5, 20.5, 6) not in cells
    assert h3.latlng_to_cell(50.5, 20.5, 3) in MULTI_T.cells(3)  # a coarse cell spans the hole


def test_overlap_is_more_than_cell_centres() -> None:
    centres = set(h3.h3shape_to_cells(h3.LatLngPoly([(lat, lon) for lon, lat in QUAD[:-1]]), 7))
    listed = set(QUAD_CELLS_7)
    assert centres < listed
    boundary = shapely.get_coordinates(shapely.line_interpolate_point(QUAD_T.geometry.boundary, np.linspace(0, 1, 5000), normalized=True))
    assert any(h3.latlng_to_cell(lat, lon, 7) not in centres for lon, lat in boundary)


def test_a_polygon_wider_than_180_degrees_is_not_read_as_crossing_the_antimeridian() -> None:
    wide = Territory(box(-100.0, 10.0, 100.0, 20.0))
    cells = set(wide.cells(2))
    points = np.concatenate(sample_points(wide, 5000, seed=1))
    assert all(h3.latlng_to_cell(lat, lon, 2) in cells for lon, lat in points)
    assert h3.latlng_to_cell(15.0, 179.0, 2) not in cells  # the other side of the globe


def test_boundary_counts_as_inside() -> None:
    assert QUAD_T.contains(9.0, 44.25)  # a vertex
    assert QUAD_T.contains(10.0, 44.275)  # the middle of the southern edge
    assert QUAD_T.contains(10.0, 45.0)
    assert not QUAD_T.contains(10.0, 44.2)
    assert not QUAD_T.contains(float("nan"), 45.0)
    assert not MULTI_T.contains(20.5, 50.5)  # inside the hole
    assert MULTI_T.contains(20.4, 50.5)  # on the hole's edge


def test_area_matches_h3_cell_area_and_a_large_territory_is_fast() -> None:
    cell = h3.latlng_to_cell(45.0, 10.0, 4)
    assert area_km2(cell_polygon(cell)) == pytest.approx(h3.cell_area(cell, unit="km^2"), rel=1e-4)
    large = Territory(box(6.0, 43.0, 10.5, 46.0))  # ~120,000 km²
    assert 110_000 < large.area_km2() < 130_000
    start = time.perf_counter()
    cells = large.cells(7)
    assert time.perf_counter() - start < 1.0
    assert 20_000 < len(cells) < 26_000


# --- swapped coordinates ----------------------------------------------------------------------


def test_swapped_lon_lat_is_caught() -> None:
    swapped_hint = swap_hint(QUAD_T.contains)  # the one hint, as declaration readers give it
    lon, lat = 10.3, 45.1  # a declared site inside the territory
    assert QUAD_T.contains(lon, lat) and swapped_hint(lon, lat) is None
    assert h3.latlng_to_cell(lat, lon, 7) in QUAD_CELLS_7
    # the same site written as (lat, lon): a point in the Arabian Sea, in no committed cell
    assert not QUAD_T.contains(lat, lon)
    assert h3.latlng_to_cell(lon, lat, 7) not in QUAD_CELLS_7
    hint = swapped_hint(lat, lon)
    assert hint is not None and "swapped would be inside" in hint and "lon, lat" in hint
    assert swapped_hint(30.0, 30.0) is None  # outside either way


# --- reading GeoJSON --------------------------------------------------------------------------


def read_error(data: bytes, filter: str | None = None) -> MalformedInputError:
    with pytest.raises(MalformedInputError) as caught:
        read_territory(data, source="land.geojson", filter=filter)
    assert caught.value.source == "land.geojson" and str(caught.value).startswith("land.geojson: ")
    return caught.value


def test_error_not_utf8() -> None:
    assert "not UTF-8" in str(read_error(b'{"type": "Polygon\xff"}'))


def test_error_not_json() -> None:
    error = read_error(b'{"type": "Polygon",')
    assert error.where is not None and error.where.startswith("line 1 column")


def test_error_duplicate_member_strict_json() -> None:
    assert "duplicate member name 'type'" in str(read_error(b'{"type": "Polygon", "type": "Point"}'))


def test_error_unknown_type() -> None:
    error = read_error(doc({"type": "Polygonn", "coordinates": [QUAD]}))
    assert error.where == "type" and "unknown GeoJSON type 'Polygonn'" in str(error)


def test_error_non_polygon_geometry() -> None:
    data = doc(collection(feature({"type": "Point", "coordinates": [10, 45]}, ADMIN="A")))
    error = read_error(data)
    assert error.where == "features[0].geometry.type" and "is a Point" in str(error)


def test_error_null_geometry() -> None:
    error = read_error(doc(collection(feature(None, ADMIN="A"))))
    assert error.where == "features[0].geometry" and "no geometry" in str(error)


def test_error_ring_not_closed() -> None:
    open_ring = [[QUAD[:-1] + [[9.0, 44.3]]]]
    data = doc(collection(feature(polygon([QUAD]), ADMIN="A"), feature({"type": "MultiPolygon", "coordinates": open_ring}, ADMIN="B")))
    error = read_error(data, filter="ADMIN=B")
    assert error.where == "features[1].geometry.coordinates[0][0]" and "is not closed" in str(error)


def test_error_fewer_than_four_positions() -> None:
    error = read_error(doc(feature(polygon([[[9, 44], [11, 44], [9, 44]]]))))
    assert error.where == "geometry.coordinates[0]" and "has 3 positions" in str(error)


@pytest.mark.parametrize("position", [[10], [10, 45, 0, 1], ["10", 45], [True, 45], 10], ids=["one", "four", "string", "bool", "scalar"])
def test_error_position_not_two_or_three_numbers(position: Any) -> None:
    ring = [QUAD[0], QUAD[1], position, QUAD[3], QUAD[0]]
    error = read_error(doc(polygon([ring])))
    assert error.where == "coordinates[0][2]" and "position" in str(error)


def test_error_longitude_out_of_range() -> None:
    ring = [QUAD[0], [181.0, 44.3], *QUAD[2:]]
    error = read_error(doc(polygon([ring])))
    assert error.where == "coordinates[0][1]" and "longitude 181.0 is outside [-180, 180]" in str(error)


def test_error_latitude_out_of_range_suggests_swapped_order() -> None:
    ring = [[9.0, 44.25], [11.0, 44.3], [45.75, 100.95], [9.05, 45.7], [9.0, 44.25]]
    error = read_error(doc(polygon([ring])))
    assert error.where == "coordinates[0][2]" and "latitude 100.95 is outside [-90, 90]; is it [lat, lon]?" in str(error)
    ring[2] = [120.0, 95.0]  # cannot be (lat, lon) either
    error = read_error(doc(polygon([ring])))
    assert "latitude 95.0 is outside [-90, 90] (positions are [lon, lat])" in str(error)


def test_error_self_intersecting_polygon() -> None:
    bowtie = [[9.0, 44.0], [11.0, 46.0], [11.0, 44.0], [9.0, 46.0], [9.0, 44.0]]
    data = doc(collection(feature(polygon([QUAD]), ADMIN="A"), feature(polygon([bowtie]), ADMIN="B")))
    error = read_error(data, filter="ADMIN=B")
    assert error.where == "features[1].geometry.coordinates" and "Self-intersection[10 45]" in str(error)


def test_error_hole_outside_shell() -> None:
    outside = [[30, 30], [31, 30], [31, 31], [30, 30]]
    error = read_error(doc(polygon([QUAD, outside])))
    assert error.where == "coordinates" and "Hole lies outside shell" in str(error)


def test_error_empty_result() -> None:
    error = read_error(doc({"type": "MultiPolygon", "coordinates": []}))
    assert "empty" in str(error)


def test_error_filter_syntax() -> None:
    data = doc(collection(feature(polygon([QUAD]), ADMIN="A"), feature(polygon(ISLAND), ADMIN="B")))
    error = read_error(data, filter="ADMIN")
    assert error.where == "filter 'ADMIN'" and "is not KEY=VALUE" in str(error)
    assert read_error(data, filter="=A").where == "filter '=A'"


def test_error_filter_matches_nothing_lists_values() -> None:
    data = doc(collection(feature(polygon([QUAD]), ADMIN="Exampleland"), feature(polygon(ISLAND), ADMIN="Otherland")))
    message = str(read_error(data, filter="ADMIN=Nowhere"))
    assert "matches no feature" in message and "'Exampleland', 'Otherland'" in message
    assert "no feature has the property 'NAME'" in str(read_error(data, filter="NAME=Exampleland"))


def test_error_several_features_without_filter() -> None:
    data = doc(collection(feature(polygon([QUAD]), ADMIN="A", ISO="AA"), feature(polygon(ISLAND), ADMIN="B", ISO="BB")))
    error = read_error(data)
    assert error.where == "features" and "holds 2 features" in str(error) and "ADMIN, ISO" in str(error)


def test_error_not_a_feature_and_bare_geometry_with_filter() -> None:
    error = read_error(doc(collection(feature(polygon([QUAD]), ADMIN="A"), polygon([QUAD]))), filter="ADMIN=A")
    assert error.where == "features[1].type"
    assert read_error(doc(polygon([QUAD])), filter="ADMIN=A").where == "type"


def test_error_projected_crs() -> None:
    data = doc({**polygon([QUAD]), "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}})
    assert read_error(data).where == "crs"
    wgs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert read_territory(doc({**polygon([QUAD]), "crs": wgs84}), source="x").geometry.equals(QUAD_T.geometry)


def test_filter_selects_and_unites_features() -> None:
    west = [[[9.0, 44.0], [10.0, 44.0], [10.0, 45.0], [9.0, 45.0], [9.0, 44.0]]]
    east = [[[10.0, 44.0], [11.0, 44.0], [11.0, 45.0], [10.0, 45.0], [10.0, 44.0]]]
    data = doc(collection(
        feature(polygon(west), ADMIN="Exampleland", ISO_N3=250),
        feature({"type": "MultiPolygon", "coordinates": [east, ISLAND]}, ADMIN="Exampleland", ISO_N3=250),
        feature(polygon([QUAD]), ADMIN="Otherland", ISO_N3=4),
    ))
    territory = read_territory(data, source="ne.geojson", filter="ADMIN=Exampleland")
    assert isinstance(territory.geometry, MultiPolygon) and len(territory.geometry.geoms) == 2  # west ∪ east merged
    assert territory.geometry.equals(MultiPolygon([box(9.0, 44.0, 11.0, 45.0), Polygon(ISLAND[0])]))
    assert territory.contains(22.1, 50.1) and not territory.contains(10.0, 45.5)
    assert read_territory(data, source="ne.geojson", filter="ISO_N3=250").geometry.equals(territory.geometry)
    assert read_territory(data, source="ne.geojson", filter="ADMIN=Otherland").geometry.equals(QUAD_T.geometry)


def test_single_feature_and_3d_positions_are_read() -> None:
    ring3d = [[*p, 120.0] for p in QUAD]
    territory = read_territory(doc(feature(polygon([ring3d]), ADMIN="A")), source="x")
    assert not territory.geometry.has_z and territory.geometry.equals(QUAD_T.geometry)


# --- --bbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9,44,11", "4 numbers"),
        ("9,44,11,46,0", "4 numbers"),
        ("a,44,11,46", "MIN_LON 'a' is not"),
        ("9,nan,11,46", "MIN_LAT 'nan' is not"),
        ("9,44,inf,46", "MAX_LON 'inf' is not"),
        ("9,44,1e400,46", "MAX_LON '1e400' is not"),
        ("9,44,1_1,46", "MAX_LON '1_1' is not"),
        ("9,44,11,", "MAX_LAT '' is not"),
        ("181,44,182,46", "MIN_LON 181.0 is outside"),
        ("44,9,46,91", "MAX_LAT 91.0 is outside"),
        ("11,44,9,46", "MIN_LON must be less than MAX_LON"),
        ("9,46,11,46", "MIN_LAT must be less than MAX_LAT"),
    ],
)
def test_bbox_errors(text: str, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message) as caught:
        bbox(text)
    assert caught.value.source == "--bbox" and str(caught.value).startswith("--bbox: ")


def test_bbox_parses() -> None:
    assert bbox("9, 44.5,11,4.6e1").bounds == (9.0, 44.5, 11.0, 46.0)


# --- region selection -------------------------------------------------------------------------


def test_parents_select_every_committed_descendant_as_one_run() -> None:
    cells = QUAD_CELLS_7
    for res in (3, 4, 5, 6):
        expected: dict[str, list[int]] = {}
        for i, cell in enumerate(cells):
            expected.setdefault(h3.cell_to_parent(cell, res), []).append(i)
        for parent, members in expected.items():
            indices = select_indices(cells, 7, parents=[parent])
            assert indices == members
            assert indices == list(range(indices[0], indices[-1] + 1))  # contiguous (spec §1)
    two = sorted({h3.cell_to_parent(c, 5) for c in cells})[:2]
    assert select_indices(cells, 7, parents=two) == sorted(
        select_indices(cells, 7, parents=[two[0]]) + select_indices(cells, 7, parents=[two[1]]))


def test_child_range_bounds_the_children_including_pentagons() -> None:
    for parent in ("8009fffffffffff", h3.latlng_to_cell(45.0, 10.0, 2)):  # a pentagon, a hexagon
        children = sorted(h3.cell_to_children(parent, 5))
        assert child_range(parent, 5) == (children[0], children[-1])
    pentagon_children = sorted(h3.cell_to_children("8009fffffffffff", 3))
    assert select_indices(pentagon_children, 3, parents=["8009fffffffffff"]) == list(range(len(pentagon_children)))


def test_parent_at_the_grid_resolution_selects_itself() -> None:
    assert select_indices(QUAD_CELLS_7, 7, parents=[QUAD_CELLS_7[42]]) == [42]


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        (QUAD_CELLS_7[0].upper(), "is not an H3 cell"),
        ("0x" + QUAD_CELLS_7[0][2:], "is not an H3 cell"),
        ("8f1234567ffffff", "is not an H3 cell"),
        (h3.cell_to_center_child(QUAD_CELLS_7[0], 8), "finer than the grid's 7"),
        (h3.latlng_to_cell(0.0, 0.0, 5), "contains no committed cell"),
    ],
    ids=["uppercase", "0x", "invalid", "finer", "outside"],
)
def test_parent_errors_name_the_option(parent: str, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message) as caught:
        select_indices(QUAD_CELLS_7, 7, parents=[parent])
    assert caught.value.source == "--region"


def assert_overlap_selection(cells: list[str], indices: list[int], region: shapely.Geometry) -> None:
    chosen = {cells[i] for i in indices}
    assert indices == sorted(set(indices))
    assert all(cell_polygon(c).intersects(region) for c in chosen)
    assert not any(cell_polygon(c).intersects(region) for c in set(cells) - chosen)
    rng = np.random.default_rng(7)
    lo_lon, lo_lat, hi_lon, hi_lat = region.bounds
    for lon, lat in zip(rng.uniform(lo_lon, hi_lon, 3000), rng.uniform(lo_lat, hi_lat, 3000), strict=True):
        if region.intersects(shapely.Point(lon, lat)) and QUAD_T.contains(lon, lat):
            assert h3.latlng_to_cell(lat, lon, 7) in chosen


def test_bbox_selects_overlapping_committed_cells() -> None:
    region = bbox("10.5,45.5,11.5,46.5")  # straddles the territory's north-east corner
    indices = select_indices(QUAD_CELLS_7, 7, bbox=region)
    assert 0 < len(indices) < len(QUAD_CELLS_7)
    assert_overlap_selection(QUAD_CELLS_7, indices, region)


def test_polygon_selects_overlapping_committed_cells() -> None:
    triangle = [[9.5, 44.5], [10.0, 44.6], [9.7, 45.0], [9.5, 44.5]]
    region = read_polygon(doc(feature(polygon([triangle]))), "region.geojson")
    indices = select_indices(QUAD_CELLS_7, 7, polygon=region)
    assert_overlap_selection(QUAD_CELLS_7, indices, region)
    assert len(indices) > 50


def test_a_huge_box_selects_everything_quickly() -> None:
    start = time.perf_counter()
    assert select_indices(QUAD_CELLS_7, 7, bbox=bbox("-180,-90,180,90")) == list(range(len(QUAD_CELLS_7)))
    assert time.perf_counter() - start < 5.0


def test_region_outside_the_territory_is_an_error() -> None:
    with pytest.raises(MalformedInputError, match="overlaps no committed cell") as caught:
        select_indices(QUAD_CELLS_7, 7, bbox=bbox("30,30,31,31"))
    assert caught.value.source == "--bbox"


def test_cell_list_selects_those_cells_and_names_an_unknown_one() -> None:
    chosen = [QUAD_CELLS_7[9], QUAD_CELLS_7[3], QUAD_CELLS_7[9]]
    assert select_indices(QUAD_CELLS_7, 7, cell_list=chosen) == [3, 9]
    stranger = h3.latlng_to_cell(0.0, 0.0, 7)
    with pytest.raises(MalformedInputError, match=f"'{stranger}' is not a committed cell") as caught:
        select_indices(QUAD_CELLS_7, 7, cell_list=[QUAD_CELLS_7[0], stranger])
    assert caught.value.source == "--cells"


@pytest.mark.parametrize("selectors", [{}, {"parents": ["x"], "cell_list": ["y"]}], ids=["none", "two"])
def test_exactly_one_selector(selectors: dict[str, Any]) -> None:
    with pytest.raises(MalformedInputError, match="exactly one of --region, --polygon, --bbox, --cells"):
        select_indices(QUAD_CELLS_7, 7, **selectors)


# --- agreed coverage check --------------------------------------------------------------------


def test_missing_cells_finds_a_removed_cell() -> None:
    assert missing_cells(QUAD_T, 7, QUAD_CELLS_7) == []
    removed = QUAD_CELLS_7[1234]
    assert missing_cells(QUAD_T, 7, [c for c in QUAD_CELLS_7 if c != removed]) == [removed]
    boundary_cell = h3.latlng_to_cell(44.25, 9.0, 7)  # the cell holding a vertex
    assert missing_cells(QUAD_T, 7, [c for c in QUAD_CELLS_7 if c != boundary_cell]) == [boundary_cell]
