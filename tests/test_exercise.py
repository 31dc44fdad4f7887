"""The built-in FICTIONAL exercise (Exampleland): its data files are sound and fit spec §2.

Checked with shapely and h3 directly; of unveil only the vocabulary and the §2 content rules
are used, so these tests hold whatever the rest of the package looks like.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import h3
import pytest
from shapely.geometry import Point, Polygon, shape

from unveil import exercise
from unveil.core.content import DeclarationIndex, GridRules, check_shape, content_problems
from unveil.core.vocabulary import V1

EARTH_RADIUS_KM = 6371.0088
LON0 = -140.0  # central meridian of the local equal-area (sinusoidal) projection


def _strict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate member names: {keys}"
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise AssertionError(f"non-finite number {name}")


def _load(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"), object_pairs_hook=_strict, parse_constant=_no_constant)


@pytest.fixture(scope="module")
def territory() -> dict[str, Any]:
    return _load(exercise.territory_bytes())


@pytest.fixture(scope="module")
def geometry(territory: dict[str, Any]) -> dict[str, Any]:
    return territory["features"][0]["geometry"]


@pytest.fixture(scope="module")
def polygon(geometry: dict[str, Any]) -> Polygon:
    return shape(geometry)


@pytest.fixture(scope="module")
def sites() -> list[dict[str, Any]]:
    declaration = _load(exercise.declaration_bytes())
    assert list(declaration) == ["sites"]
    return declaration["sites"]


def _xy(lon: float, lat: float) -> tuple[float, float]:
    """Sinusoidal projection in km: equal-area on the sphere."""
    return (
        EARTH_RADIUS_KM * math.cos(math.radians(lat)) * math.radians(lon - LON0),
        EARTH_RADIUS_KM * math.radians(lat),
    )


def _polygon_km(polygon: Polygon) -> Polygon:
    return Polygon([_xy(lon, lat) for lon, lat in polygon.exterior.coords])


def _quantities(sites: list[dict[str, Any]], category: str) -> Decimal:
    return sum(
        (Decimal(str(item["quantity"])) for site in sites for item in site["items"] if item["category"] == category),
        Decimal(0),
    )


def test_constants() -> None:
    assert exercise.EXERCISE_NAME == "Exampleland"
    assert exercise.RESOLUTION == 6
    assert "fictional" in exercise.DESCRIPTION.lower()


def test_territory_is_one_fictional_polygon(territory: dict[str, Any], geometry: dict[str, Any]) -> None:
    assert territory["type"] == "FeatureCollection"
    assert len(territory["features"]) == 1
    feature = territory["features"][0]
    assert feature["type"] == "Feature"
    assert feature["properties"] == {"name": "Exampleland", "fictional": True}
    assert geometry["type"] == "Polygon"
    assert len(geometry["coordinates"]) == 1, "no holes"
    ring = geometry["coordinates"][0]
    assert ring[0] == ring[-1], "ring is closed"
    assert 40 <= len(ring) - 1 <= 80


def test_polygon_valid_irregular_and_in_open_ocean(polygon: Polygon) -> None:
    assert polygon.is_valid
    assert polygon.exterior.is_ccw, "RFC 7946: exterior rings are counterclockwise"
    # Not a rectangle or a disc: the outline has bays (the hull is clearly bigger).
    assert polygon.area / polygon.convex_hull.area < 0.95
    # Lon/lat order, in the empty South Pacific around 35°S 140°W (no land in this box).
    west, south, east, north = polygon.bounds
    assert -144 < west < east < -136
    assert -38 < south < north < -32


def test_area_about_120000_km2(polygon: Polygon) -> None:
    area = _polygon_km(polygon).area
    assert 108_000 <= area <= 132_000
    # Cross-check against H3's own cell areas (res 7 cells whose centre is inside).
    cells = h3.geo_to_cells(polygon.__geo_interface__, 7)
    h3_area = sum(h3.cell_area(c, "km^2") for c in cells)
    assert h3_area == pytest.approx(area, rel=0.01)


def test_cell_count_at_resolution(polygon: Polygon) -> None:
    cells = h3.geo_to_cells(polygon.__geo_interface__, exercise.RESOLUTION)
    assert 2_800 <= len(cells) <= 3_600


def test_sites_inside_territory_and_away_from_coast(polygon: Polygon, sites: list[dict[str, Any]]) -> None:
    coast = _polygon_km(polygon).exterior
    cells = set(h3.geo_to_cells(polygon.__geo_interface__, exercise.RESOLUTION))
    for site in sites:
        assert polygon.contains(Point(site["lon"], site["lat"])), site["id"]
        assert coast.distance(Point(_xy(site["lon"], site["lat"]))) >= 3.0, site["id"]
        # Far enough inside that the site's cell is covered under centre or overlap containment.
        assert h3.latlng_to_cell(site["lat"], site["lon"], exercise.RESOLUTION) in cells, site["id"]


def test_site_fields_ids_and_order(sites: list[dict[str, Any]]) -> None:
    assert 35 <= len(sites) <= 45
    ids = [site["id"] for site in sites]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for site in sites:
        assert set(site) == {"id", "kind", "name", "lat", "lon", "items"}, site["id"]
        assert site["name"]
        keys = [(item["category"], item.get("type", "")) for item in site["items"]]
        assert keys == sorted(keys) and len(set(keys)) == len(keys), site["id"]
        for item in site["items"]:
            assert set(item) <= {"category", "quantity", "unit", "type", "serials"}, site["id"]


def test_vocabulary_kinds_and_units(sites: list[dict[str, Any]]) -> None:
    kinds = Counter(site["kind"] for site in sites)
    assert set(kinds) == set(V1.kinds)
    for site in sites:
        for item in site["items"]:
            assert item["unit"] == V1.unit_for(item["category"]), (site["id"], item)


def test_serials(sites: list[dict[str, Any]]) -> None:
    seen: list[str] = []
    for site in sites:
        for item in site["items"]:
            if "serials" in item:
                assert item["unit"] == "count"
                assert len(item["serials"]) == item["quantity"]
                assert item["serials"] == sorted(item["serials"])
                seen.extend(item["serials"])
    assert len(seen) == len(set(seen))


def test_arsenal_scale(sites: list[dict[str, Any]]) -> None:
    warhead_sites = [
        site for site in sites if any(item["category"] == "warhead" for item in site["items"])
    ]
    assert 3 <= len(warhead_sites) <= 5
    assert {site["kind"] for site in warhead_sites} <= {"weapons-storage", "weapons-production"}
    for site in warhead_sites:
        for item in site["items"]:
            if item["category"] == "warhead":
                assert "serials" in item, site["id"]
    assert 20 <= _quantities(sites, "warhead") <= 60
    assert 15 <= sum(1 for site in sites if site["kind"] == "missile-base") <= 25
    assert 10 <= _quantities(sites, "plutonium") < 100
    assert 10 <= _quantities(sites, "heu") < 200
    assert _quantities(sites, "leu") > 0
    assert _quantities(sites, "tritium") > 0
    assert any(
        item["category"] == "centrifuge" for site in sites if site["kind"] == "enrichment" for item in site["items"]
    )
    for site in sites:
        if site["kind"] == "missile-base":
            assert {item["category"] for item in site["items"]} == {"launcher", "missile"}, site["id"]


def test_cell_contents_pass_spec_section_2(sites: list[dict[str, Any]]) -> None:
    by_cell: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for site in sites:
        by_cell[h3.latlng_to_cell(site["lat"], site["lon"], exercise.RESOLUTION)].append(site)
    grid = GridRules("h3", exercise.RESOLUTION)
    index = DeclarationIndex()
    for cell in sorted(by_cell):
        content = {"cell": cell, "sites": sorted(by_cell[cell], key=lambda s: s["id"])}
        check_shape(content, f"cell {cell}")
        assert content_problems(content, cell, grid, V1) == [], cell
        assert index.add(content) == [], cell
