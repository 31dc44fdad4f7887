"""Intelligence import (spec §9) and the truth test of declared sites against suspects."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from unveil.core.content import GridRules, check_intel_shape, intel_problems
from unveil.core.vocabulary import V1
from unveil.errors import Location, MalformedInputError
from unveil.inspection import EARTH_RADIUS_M, contents_by_cell, haversine_m, read_intel, to_geojson, truth_test

DEG_M = EARTH_RADIUS_M * math.pi / 180  # metres per degree of longitude on the equator


def east(metres: float) -> float:
    """The longitude of a point ``metres`` east of (0, 0) on the equator."""
    return metres / DEG_M


def site(site_id: str, kind: str = "enrichment", lat: float = 0.0, lon: float = 0.0, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": site_id, "kind": kind, "lat": lat, "lon": lon, "items": items or []}


def suspect(suspect_id: str, kind: str = "enrichment", lat: float = 0.0, lon: float = 0.0, radius_m: float = 1000,
            estimates: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": suspect_id, "kind": kind, "lat": lat, "lon": lon, "radius_m": radius_m, "confidence": 0.5}
    if estimates is not None:
        out["ext"] = {"estimates": estimates}
    return out


def warheads(n: int | float, category: str = "warhead", unit: str = "count") -> dict[str, Any]:
    return {"category": category, "quantity": n, "unit": unit}


# --- truth test ------------------------------------------------------------------------------


def test_all_four_classes() -> None:
    sites = [
        site("S-1", lon=east(0), items=[warheads(3)]),
        site("S-2", kind="reactor", lon=east(10_000)),
        site("S-3", lon=east(20_000), items=[warheads(50)]),
        site("S-4", lon=east(40_000)),  # no suspect near: new
    ]
    suspects = [
        suspect("X-1", lon=east(100), radius_m=500, estimates={"warhead": [1, 5]}),  # confirmed with S-1
        suspect("X-2", lon=east(10_050), radius_m=500),  # kind differs from S-2
        suspect("X-3", lon=east(20_010), radius_m=500, estimates={"warhead": [0, 10]}),  # 50 > 10
        suspect("X-4", lon=east(30_000), radius_m=500),  # no site near: undeclared
    ]
    result = truth_test(sites, suspects)
    assert result.to_json() == {
        "confirmed": [{"site": "S-1", "suspect": "X-1"}],
        "mismatch": [{"site": "S-2", "suspect": "X-2", "reason": "kind"},
                     {"site": "S-3", "suspect": "X-3", "reason": "quantity"}],
        "undeclared": [{"suspect": "X-4"}],
        "new": [{"site": "S-4"}],
    }
    collection = to_geojson(sites, suspects, result)
    status = {(f["properties"]["role"], f["properties"]["id"]): f["properties"]["status"] for f in collection["features"]}
    assert status == {
        ("site", "S-1"): "confirmed", ("site", "S-2"): "mismatch", ("site", "S-3"): "mismatch", ("site", "S-4"): "new",
        ("suspect", "X-1"): "confirmed", ("suspect", "X-2"): "mismatch", ("suspect", "X-3"): "mismatch",
        ("suspect", "X-4"): "undeclared",
    }
    first = collection["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [sites[0]["lon"], 0.0]}
    assert first["properties"]["paired"] == "X-1" and first["properties"]["distance_m"] == pytest.approx(100, abs=1e-6)
    json.dumps(collection, allow_nan=False)  # plain JSON for QGIS


def test_distance_exactly_at_radius_is_inside_and_just_beyond_is_outside() -> None:
    s = site("S-1", lat=45.0, lon=10.0)
    x_lat, x_lon = 45.003, 10.004
    d = haversine_m(45.0, 10.0, x_lat, x_lon)
    assert 400 < d < 600
    inside = truth_test([s], [suspect("X-1", lat=x_lat, lon=x_lon, radius_m=d)])
    assert inside.to_json()["confirmed"] == [{"site": "S-1", "suspect": "X-1"}]
    beyond = truth_test([s], [suspect("X-1", lat=x_lat, lon=x_lon, radius_m=math.nextafter(d, 0))])
    assert beyond.to_json() == {"confirmed": [], "mismatch": [], "undeclared": [{"suspect": "X-1"}], "new": [{"site": "S-1"}]}


def test_haversine_radius() -> None:
    assert haversine_m(0, 0, 0, 1) == pytest.approx(DEG_M, rel=1e-12)
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8, rel=1e-12)


def test_optimal_assignment_beats_greedy() -> None:
    # A at 0 m, B at 200 m; X at 10 m (radius 300: reaches A and B), Y at -100 m (radius 150: reaches A only).
    # Nearest-first greedy takes A–X (10 m) and leaves B–Y inadmissible; the optimum pairs A–Y and B–X.
    sites = [site("A", lon=east(0)), site("B", lon=east(200))]
    suspects = [suspect("X", lon=east(10), radius_m=300), suspect("Y", lon=east(-100), radius_m=150)]
    result = truth_test(sites, suspects)
    assert result.to_json() == {
        "confirmed": [{"site": "A", "suspect": "Y"}, {"site": "B", "suspect": "X"}],
        "mismatch": [], "undeclared": [], "new": [],
    }


def test_least_total_distance_among_full_pairings() -> None:
    # Both pairings are admissible; A–X + B–Y = 10 + 10, A–Y + B–X = 90 + 110.
    sites = [site("A", lon=east(0)), site("B", lon=east(100))]
    suspects = [suspect("X", lon=east(-10), radius_m=1000), suspect("Y", lon=east(90), radius_m=1000)]
    assert truth_test(sites, suspects).confirmed == [("A", "X"), ("B", "Y")]
    swapped = [suspect("X", lon=east(90), radius_m=1000), suspect("Y", lon=east(-10), radius_m=1000)]
    assert truth_test(sites, swapped).confirmed == [("A", "Y"), ("B", "X")]


@pytest.mark.parametrize(
    ("items", "bounds", "expected"),
    [
        ([warheads(5)], [5, 5], "confirmed"),
        ([warheads(5)], [None, 5], "confirmed"),
        ([warheads(5)], [6, None], "quantity"),
        ([warheads(5)], [None, 4], "quantity"),
        ([warheads(5)], [0, None], "confirmed"),
        ([warheads(5)], [None, None], "confirmed"),
        ([], [1, None], "quantity"),  # nothing declared: total 0
        ([], [None, 3], "confirmed"),
        # exact decimal sum over types: 0.1 + 0.2 is exactly 0.3
        ([warheads(0.1, "heu", "kg") | {"type": "a"}, warheads(0.2, "heu", "kg") | {"type": "b"}], [0.3, 0.3], "confirmed"),
        ([warheads(0.1, "heu", "kg") | {"type": "a"}, warheads(0.2, "heu", "kg") | {"type": "b"}], [None, 0.29], "quantity"),
    ],
)
def test_quantity_against_estimates(items: list[dict[str, Any]], bounds: list[Any], expected: str) -> None:
    category = items[0]["category"] if items else "warhead"
    result = truth_test([site("S-1", items=items)], [suspect("X-1", estimates={category: bounds})])
    if expected == "confirmed":
        assert result.confirmed == [("S-1", "X-1")] and result.mismatch == []
    else:
        assert result.mismatch == [("S-1", "X-1", expected)] and result.confirmed == []


def test_kind_mismatch_takes_precedence_over_quantity() -> None:
    result = truth_test([site("S-1", kind="reactor", items=[warheads(50)])],
                        [suspect("X-1", kind="enrichment", estimates={"warhead": [0, 1]})])
    assert result.mismatch == [("S-1", "X-1", "kind")]


def test_empty_sides() -> None:
    assert truth_test([], [suspect("X-1")]).to_json()["undeclared"] == [{"suspect": "X-1"}]
    assert truth_test([site("S-1")], []).to_json()["new"] == [{"site": "S-1"}]


# --- intelligence import ---------------------------------------------------------------------

CSV = (
    "id,kind,lat,lon,radius_m,confidence,min:warhead,max:warhead,max:heu\n"
    "X-2,weapons-storage,45.01,10.02,800,1,10,40,\n"
    "X-1,enrichment,45.0,10.0,500.5,0.25,,,12.5\n"
    "X-3,reactor,45.2,10.3,1000,0.5,3,,\n"
)

EXPECTED = [
    {"id": "X-1", "kind": "enrichment", "lat": 45.0, "lon": 10.0, "radius_m": 500.5, "confidence": 0.25,
     "ext": {"estimates": {"heu": [None, 12.5]}}},
    {"id": "X-2", "kind": "weapons-storage", "lat": 45.01, "lon": 10.02, "radius_m": 800, "confidence": 1,
     "ext": {"estimates": {"warhead": [10, 40]}}},
    {"id": "X-3", "kind": "reactor", "lat": 45.2, "lon": 10.3, "radius_m": 1000, "confidence": 0.5,
     "ext": {"estimates": {"warhead": [3, None]}}},
]


def geojson(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


GEOJSON_FEATURES = [
    feature(10.02, 45.01, **{"id": "X-2", "kind": "weapons-storage", "radius_m": 800, "confidence": 1,
                             "min:warhead": 10, "max:warhead": 40}),
    feature(10.0, 45.0, **{"id": "X-1", "kind": "enrichment", "radius_m": 500.5, "confidence": 0.25, "max:heu": 12.5}),
    feature(10.3, 45.2, **{"id": "X-3", "kind": "reactor", "radius_m": 1000, "confidence": 0.5,
                           "min:warhead": 3, "max:warhead": None}),
]


def test_csv_import() -> None:
    assert read_intel(CSV.encode(), source="intel.csv") == EXPECTED
    assert read_intel(b"\xef\xbb\xbf" + CSV.encode(), source="intel.csv") == EXPECTED


def test_geojson_import_matches_csv() -> None:
    assert read_intel(geojson(*GEOJSON_FEATURES), source="intel.geojson") == EXPECTED


def test_geojson_ext_is_kept() -> None:
    got = read_intel(geojson(feature(10, 45, id="X-1", kind="other", radius_m=1, confidence=1, ext={"note": "imagery"})),
                     source="i.geojson")
    assert got == [{"id": "X-1", "kind": "other", "lat": 45, "lon": 10, "radius_m": 1, "confidence": 1, "ext": {"note": "imagery"}}]


def test_territory() -> None:
    def box(lon: float, lat: float) -> bool:
        return 9 <= lon <= 11 and 44 <= lat <= 46

    assert len(read_intel(CSV.encode(), source="intel.csv", contains=box)) == 3
    with pytest.raises(MalformedInputError) as info:
        read_intel(CSV.replace("10.3,1000", "12.3,1000").encode(), source="intel.csv", contains=box)
    assert "line 4, columns lat/lon" in str(info.value) and "outside the territory" in str(info.value)


def test_suspects_pass_intel_rules_when_grouped_by_cell() -> None:
    suspects = read_intel(CSV.encode(), source="intel.csv")
    contents = contents_by_cell(suspects, 7)
    assert sorted(s["id"] for c in contents.values() for s in c["suspects"]) == ["X-1", "X-2", "X-3"]
    assert list(contents) == sorted(contents)
    for cell, content in contents.items():
        check_intel_shape(content, "$")
        assert intel_problems(content, cell, GridRules("h3", 7), V1) == []
    # coarse cells hold several suspects, still strictly ascending by id
    coarse = contents_by_cell(suspects, 2)
    assert len(coarse) == 1
    (cell, content), = coarse.items()
    assert [s["id"] for s in content["suspects"]] == ["X-1", "X-2", "X-3"]
    assert intel_problems(content, cell, GridRules("h3", 2), V1) == []
    # the check is a real one: the same content under the wrong cell fails
    assert intel_problems(content, next(iter(contents)), GridRules("h3", 7), V1) != []


def test_truth_test_on_imported_suspects() -> None:
    suspects = read_intel(CSV.encode(), source="intel.csv")
    sites = [site("S-1", lat=45.0, lon=10.001), site("S-2", kind="weapons-storage", lat=45.01, lon=10.02, items=[warheads(41)])]
    assert truth_test(sites, suspects).to_json() == {
        "confirmed": [{"site": "S-1", "suspect": "X-1"}],
        "mismatch": [{"site": "S-2", "suspect": "X-2", "reason": "quantity"}],
        "undeclared": [{"suspect": "X-3"}],
        "new": [],
    }


HEAD = "id,kind,lat,lon,radius_m,confidence,min:warhead,max:warhead\n"
GOOD_ROW = "X-1,enrichment,45,10,500,0.5,1,2"


@pytest.mark.parametrize(
    ("row", "where", "words"),
    [
        ("X-1,enrichment,45,10,500,0,1,2", "line 3, column confidence", "outside (0, 1]"),
        ("X-1,enrichment,45,10,500,1.5,1,2", "line 3, column confidence", "outside (0, 1]"),
        ("X-1,enrichment,45,10,0,0.5,1,2", "line 3, column radius_m", "not > 0"),
        ("X-1,bakery,45,10,500,0.5,1,2", "line 3, column kind", "not in unveil/vocabulary/v1"),
        ("X-1,enrichment,45,10,500,0.5,1,2", "line 3, column id", "also given at line 2"),
        ("X-1,enrichment,45,10,500,nan,1,2", "line 3, column confidence", "not a number"),
        ("X-1,enrichment,45,10,500,0.5,inf,2", "line 3, column min:warhead", "not a number"),
        ("X-1,enrichment,45,10,1e999,0.5,1,2", "line 3, column radius_m", "not finite"),
        ("X-1,enrichment,91,10,500,0.5,1,2", "line 3, column lat", "outside [-90, 90]"),
        ("X-1,enrichment,45,181,500,0.5,1,2", "line 3, column lon", "outside [-180, 180]"),
        ("X-1,enrichment,45,10,500,0.5,3,2", "line 3, column min:warhead", "greater than max:warhead"),
        ("X-1,enrichment,45,10,500,0.5,-1,", "line 3, column min:warhead", "negative"),
        ("X 1,enrichment,45,10,500,0.5,1,2", "line 3, column id", "not an id"),
        ("X-1,enrichment,45,10,,0.5,1,2", "line 3, column radius_m", "required"),
        ("X-1,enrichment,45,10,500,0.5,1", "line 3", "fields"),
    ],
)
def test_csv_bad_input(row: str, where: str, words: str) -> None:
    previous = GOOD_ROW if "also given" in words else GOOD_ROW.replace("X-1", "X-0")  # line 2
    data = HEAD + previous + "\n" + row + "\n"
    with pytest.raises(MalformedInputError) as info:
        read_intel(data.encode(), source="intel.csv")
    error = info.value
    assert error.source == "intel.csv"
    assert error.where == where
    assert words in error.message
    assert str(error).startswith(f"intel.csv: {where}: ")


@pytest.mark.parametrize(
    ("header", "column", "words"),
    [
        ("id,kind,lat,lon,radius_m,confidence,colour", "colour", "unknown column"),
        ("id,kind,lat,lon,radius_m,confidence,min:banana", "min:banana", "unknown column"),
        ("id,kind,lat,lon,radius_m,confidence,mid:warhead", "mid:warhead", "unknown column"),
        ("id,kind,lat,lon,radius_m,confidence,kind", "kind", "repeated column"),
    ],
)
def test_csv_bad_header(header: str, column: str, words: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        read_intel((header + "\n").encode(), source="intel.csv")
    assert info.value.source == "intel.csv"
    assert info.value.where == f"line 1 (header), column {column}"
    assert words in info.value.message


def test_csv_missing_column() -> None:
    with pytest.raises(MalformedInputError) as info:
        read_intel(b"id,kind,lat,lon,radius_m\n", source="intel.csv")
    assert info.value.where == "line 1 (header)" and "'confidence'" in info.value.message


def base_props(**changes: Any) -> dict[str, Any]:
    return {"id": "X-1", "kind": "enrichment", "radius_m": 500, "confidence": 0.5} | changes


@pytest.mark.parametrize(
    ("props", "coordinates", "where", "words"),
    [
        (base_props(confidence=0), [10, 45], "feature 1, property confidence", "outside (0, 1]"),
        (base_props(confidence=1.5), [10, 45], "feature 1, property confidence", "outside (0, 1]"),
        (base_props(radius_m=0), [10, 45], "feature 1, property radius_m", "not > 0"),
        (base_props(kind="bakery"), [10, 45], "feature 1, property kind", "not in unveil/vocabulary/v1"),
        (base_props(id="X-0"), [10, 45], "feature 1, property id", "also given at feature 0"),
        (base_props(), [10, 95], "feature 1, geometry.coordinates", "outside [-90, 90]"),
        (base_props(colour="red"), [10, 45], "feature 1, property colour", "unknown property"),
        (base_props(**{"min:banana": 1}), [10, 45], "feature 1, property min:banana", "unknown property"),
        (base_props(**{"min:warhead": 5, "max:warhead": 4}), [10, 45], "feature 1, property min:warhead", "greater than"),
        (base_props(**{"max:warhead": "4"}), [10, 45], "feature 1, property max:warhead", "expected a number"),
        (base_props(confidence=True), [10, 45], "feature 1, property confidence", "expected a number"),
        ({"id": "X-1", "kind": "enrichment", "radius_m": 5}, [10, 45], "feature 1, property confidence", "missing"),
        (base_props(lat=45), [10, 45], "feature 1, property lat", "geometry.coordinates"),
        (base_props(ext={"estimates": {}}), [10, 45], "feature 1, property ext.estimates", "min:<category>"),
    ],
)
def test_geojson_bad_input(props: dict[str, Any], coordinates: list[float], where: str, words: str) -> None:
    data = geojson(feature(10, 45, **base_props(id="X-0")),
                   {"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates}, "properties": props})
    with pytest.raises(MalformedInputError) as info:
        read_intel(data, source="intel.geojson")
    assert info.value.source == "intel.geojson"
    assert info.value.where == where
    assert words in info.value.message


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_geojson_nonfinite_numbers_refused(token: str) -> None:
    text = geojson(feature(10, 45, **base_props())).decode().replace('"confidence": 0.5', f'"confidence": {token}')
    assert token in text
    with pytest.raises(MalformedInputError) as info:
        read_intel(text.encode(), source="intel.geojson")
    assert str(info.value).startswith("intel.geojson")


def test_geojson_point_only() -> None:
    data = geojson({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": base_props()})
    with pytest.raises(MalformedInputError) as info:
        read_intel(data, source="intel.geojson")
    assert info.value.where == "feature 0, geometry" and "Point" in info.value.message


def test_format_from_name() -> None:
    with pytest.raises(MalformedInputError) as info:
        read_intel(CSV.encode(), source="intel.txt")
    assert info.value.source == "intel.txt"
    assert read_intel(CSV.encode(), source="intel.txt", fmt="csv") == EXPECTED


def test_csv_estimate_without_exact_json_form_refused() -> None:
    data = HEAD + "X-1,enrichment,45,10,500,0.5,0.1000000000000000055511151231257827,2\n"
    with pytest.raises(MalformedInputError) as info:
        read_intel(data.encode(), source="intel.csv")
    assert info.value.where == "line 2, column min:warhead" and "exact JSON number" in info.value.message


def test_geojson_estimate_without_exact_json_form_refused() -> None:
    """GeoJSON is parsed once, by the strict JSON reader, which keeps the written decimal."""
    props = base_props(**{"min:warhead": 1, "max:warhead": 2})
    text = geojson(feature(10, 45, **props)).decode().replace('"max:warhead": 2', '"max:warhead": 1e-400')
    with pytest.raises(MalformedInputError) as info:
        read_intel(text.encode(), source="intel.geojson")
    assert info.value.where == "feature 0, property max:warhead" and "exact JSON number" in info.value.message
    assert info.value.location == Location(feature=0, label="property", path=("max:warhead",))
    assert read_intel(text.replace("1e-400", "2.50").encode(), source="intel.geojson")[0]["ext"]["estimates"] == {"warhead": [1, 2.5]}
