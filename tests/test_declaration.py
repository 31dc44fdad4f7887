"""Declarations: reading CSV / GeoJSON / JSON / YAML, writing them back, cells and totals (spec §2, §4, §10)."""

from __future__ import annotations

import json
from typing import Any

import h3
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from unveil.core.jcs import canonicalize
from unveil.core.vocabulary import V1
from unveil.declaration import Declaration, read_declaration, swap_hint, to_csv, to_geojson, to_json
from unveil.errors import Location, MalformedInputError

HEADER = "site_id,kind,name,lat,lon,category,quantity,unit,type,serials\n"


def in_box(lon: float, lat: float) -> bool:
    """The test territory: a small box around lon 10, lat 45."""
    return 9 <= lon <= 11 and 44 <= lat <= 46


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def json_bytes(sites: list[dict[str, Any]]) -> bytes:
    return json.dumps({"sites": sites}).encode()


def site(site_id: str = "S-1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": site_id, "kind": "enrichment", "lat": 45.0, "lon": 10.0, "items": []}
    return base | fields


def fails(data: bytes, source: str, *parts: str, **kwargs: Any) -> str:
    """Reading fails with a message naming the file and every one of ``parts``."""
    with pytest.raises(MalformedInputError) as caught:
        read_declaration(data, source=source, **kwargs)
    text = str(caught.value)
    assert text.startswith(source + ":"), text
    for part in parts:
        assert part in text, (part, text)
    return text


# --- round trips --------------------------------------------------------------------------

IDS = st.text(alphabet="ABCXYZabc0123456789._:-", min_size=1, max_size=12)
NAMES = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(['North, "Valley" plant', "Ünïcödé, 北区", "a\nb", " x "]))
TYPES = st.one_of(st.text(min_size=1, max_size=10), st.sampled_from(["90% U-235", "W88, mod 1"]))
MASSES = st.one_of(st.sampled_from([41.5, 0.1, 1e-7, 2.0, 0, 17, 1e21]), st.floats(0, 1e9), st.integers(0, 2**53 - 1))
COORD = st.one_of(st.floats(-1, 1), st.integers(-1, 1))


@st.composite
def declarations(draw: st.DrawFn, ext: bool = True) -> Declaration:
    site_ids = draw(st.lists(IDS, unique=True, max_size=5))
    sites = []
    for s, site_id in enumerate(site_ids):
        out: dict[str, Any] = {"id": site_id, "kind": draw(st.sampled_from(sorted(V1.kinds))),
                               "lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180)), "items": []}
        if draw(st.booleans()):
            out["name"] = draw(NAMES)
        if ext and draw(st.booleans()):
            out["ext"] = {"note": draw(st.text(max_size=5)), "n": draw(st.integers(-5, 5))}
        keys = draw(st.lists(st.tuples(st.sampled_from(sorted(V1.units)), st.none() | TYPES), max_size=4,
                             unique_by=lambda k: (k[0], k[1] or "")))
        for i, (category, kind) in enumerate(keys):
            unit = V1.units[category]
            item: dict[str, Any] = {"category": category, "unit": unit}
            if unit == "count":
                item["quantity"] = draw(st.integers(0, 4) | st.sampled_from([3.0, 1000]))
                if draw(st.booleans()) and (1 if not ext else 0) <= item["quantity"] <= 4:  # CSV: no empty list
                    item["serials"] = [f"W{s}-{i}-{k}" for k in reversed(range(int(item["quantity"])))]
            else:
                item["quantity"] = draw(MASSES)
            if kind is not None:
                item["type"] = kind
            if ext and draw(st.booleans()):
                item["ext"] = {"lot": [1, 2.5, None, True]}
            out["items"].append(item)
        sites.append(out)
    return Declaration.of(sites)


def same(a: Declaration, b: Declaration) -> None:
    assert a == b
    assert canonicalize(to_json(a)) == canonicalize(to_json(b))  # the committed bytes, types and all


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(declarations(ext=False))
def test_csv_round_trip(decl: Declaration) -> None:
    same(read_declaration(to_csv(decl).encode(), source="d.csv"), decl)


@FAST
@given(declarations())
def test_geojson_round_trip(decl: Declaration) -> None:
    same(read_declaration(json.dumps(to_geojson(decl), ensure_ascii=False).encode(), source="d.geojson"), decl)


@FAST
@given(declarations())
def test_json_round_trip(decl: Declaration) -> None:
    same(read_declaration(json.dumps(to_json(decl)).encode(), source="d.json"), decl)


@FAST
@given(declarations())
def test_yaml_round_trip(decl: Declaration) -> None:
    # escaped: with allow_unicode PyYAML writes U+0085 raw, which YAML then reads as a line break
    data = yaml.safe_dump(to_json(decl)).encode()
    same(read_declaration(data, source="d.yaml"), decl)


def test_yaml_reads_unicode_text() -> None:
    decl = Declaration.of([site(name="Ünïcödé, 北区 \"plant\"")])
    same(read_declaration(yaml.safe_dump(to_json(decl), allow_unicode=True).encode(), source="d.yml"), decl)


def test_csv_form_is_the_documented_one() -> None:
    decl = read_declaration(csv_bytes(
        'S-2,enrichment,"North, ""Valley""",45.1,10.2,warhead,2,count,,W-2;W-1',
        'S-2,enrichment,"North, ""Valley""",45.1,10.2,heu,41.5,kg,90% U-235,',
        "S-1,research,,45,10,,,,,",
    ), source="d.csv", contains=in_box, resolution=6)
    assert to_json(decl)["sites"] == [
        {"id": "S-1", "kind": "research", "lat": 45, "lon": 10, "items": []},
        {"id": "S-2", "kind": "enrichment", "name": 'North, "Valley"', "lat": 45.1, "lon": 10.2, "items": [
            {"category": "heu", "quantity": 41.5, "unit": "kg", "type": "90% U-235"},
            {"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-1", "W-2"]}]}]
    assert to_csv(decl).splitlines()[0] == HEADER.strip()
    # optional columns may be absent, and columns come in any order
    short = b"lon,lat,site_id,kind,unit,quantity,category\n10,45,S-1,research,count,2,missile\n"
    assert read_declaration(short, source="d.csv").sites[0]["items"] == [{"category": "missile", "quantity": 2, "unit": "count"}]
    sites_only = b"site_id,kind,lat,lon\nS-1,research,45,10\n"  # no item columns: sites without items
    assert read_declaration(sites_only, source="d.csv").sites == ({"id": "S-1", "kind": "research", "lat": 45, "lon": 10, "items": []},)


def test_csv_cannot_hold_ext() -> None:
    with pytest.raises(ValueError, match="ext"):
        to_csv(Declaration.of([site(ext={"a": 1})]))
    with pytest.raises(ValueError, match="empty serials"):
        to_csv(Declaration.of([site(items=[{"category": "warhead", "quantity": 0, "unit": "count", "serials": []}])]))


def test_format_from_extension_or_argument() -> None:
    data = json_bytes([site()])
    assert read_declaration(data, source="d.JSON") == read_declaration(data, source="whatever", fmt="json")
    fails(data, "d.txt", "cannot tell the format")


# --- contents and totals -------------------------------------------------------------------


def test_contents_puts_each_site_in_the_cell_of_its_point_sorted() -> None:
    sites = [
        site("S-b", lat=45.0, lon=10.0, items=[{"category": "warhead", "quantity": 1, "unit": "count"},
                                              {"category": "heu", "quantity": 2, "unit": "kg", "type": "b"},
                                              {"category": "heu", "quantity": 1, "unit": "kg"}]),
        site("S-a", lat=45.0, lon=10.0001),
        site("S-c", lat=45.5, lon=10.5),
    ]
    decl = read_declaration(json_bytes(sites), source="d.json", resolution=7)
    contents = decl.contents(7)
    assert list(contents) == sorted(contents)
    for cell, content in contents.items():
        assert content["cell"] == cell
        assert [s["id"] for s in content["sites"]] == sorted(s["id"] for s in content["sites"])
        for s in content["sites"]:
            assert h3.latlng_to_cell(s["lat"], s["lon"], 7) == cell
            assert "cell" not in s
    home = h3.latlng_to_cell(45.0, 10.0, 7)
    assert [s["id"] for s in contents[home]["sites"]] == ["S-a", "S-b"]
    items = contents[home]["sites"][1]["items"]
    assert [(i["category"], i.get("type", "")) for i in items] == [("heu", ""), ("heu", "b"), ("warhead", "")]
    contents[home]["sites"].clear()  # copies: the declaration is unchanged
    assert len(decl.contents(7)[home]["sites"]) == 2


def test_totals_are_exact_decimal_sums() -> None:
    sites = [site("S-1", items=[{"category": "plutonium", "quantity": 0.1, "unit": "kg"},
                                {"category": "warhead", "quantity": 2, "unit": "count"}]),
             site("S-2", items=[{"category": "plutonium", "quantity": 0.2, "unit": "kg", "type": "wg"},
                                {"category": "heu", "quantity": 41.5, "unit": "kg"},
                                {"category": "warhead", "quantity": 3.0, "unit": "count"}])]
    decl = read_declaration(json_bytes(sites), source="d.json")
    assert 0.1 + 0.2 != 0.3
    totals = decl.totals(["plutonium", "warhead", "heu", "tritium"])
    assert totals == {"heu": {"quantity": 41.5, "unit": "kg"}, "plutonium": {"quantity": 0.3, "unit": "kg"},
                      "tritium": {"quantity": 0, "unit": "g"}, "warhead": {"quantity": 5, "unit": "count"}}
    assert type(totals["warhead"]["quantity"]) is int
    assert canonicalize(totals["plutonium"]) == b'{"quantity":0.3,"unit":"kg"}'
    assert decl.totals() == {k: v for k, v in totals.items() if k != "tritium"}


def test_totals_refuse_a_sum_without_an_exact_json_number() -> None:
    decl = Declaration.of([site(items=[{"category": "heu", "quantity": 0.1, "unit": "kg"},
                                       {"category": "heu", "quantity": 1e-30, "unit": "kg", "type": "x"}])])
    with pytest.raises(MalformedInputError, match="no exact JSON number"):
        decl.totals(["heu"])
    with pytest.raises(MalformedInputError, match="no single unit"):
        decl.totals(["gold"])


# --- bad input: one test per class; each message names file, place and field ----------------


def test_not_utf8() -> None:
    fails(HEADER.encode() + b"S-1,reactor,\xff,45,10,,,,,\n", "d.csv", "not UTF-8", "offset")


def test_empty_file() -> None:
    fails(b"", "d.csv", "is empty")
    fails(b"  \n", "d.yaml", "is empty")


def test_file_over_the_size_limit() -> None:
    fails(json_bytes([site()]), "d.json", "over the limit of 20", max_bytes=20)


def test_coordinates_out_of_range() -> None:
    fails(csv_bytes("S-1,reactor,,95,10,,,,,"), "d.csv", "line 2, column lat", "outside [-90, 90]")
    fails(json_bytes([site(lon=-181)]), "d.json", "$.sites[0].lon", "outside")
    fails(csv_bytes("S-1,reactor,,45,,,,,,"), "d.csv", "line 2, column lon", "lon is required")


def test_point_outside_the_territory_and_swapped_lat_lon() -> None:
    data = csv_bytes("S-1,reactor,,45.2,10.1,,,,,", "S-2,reactor,,10.1,45.2,,,,,")
    text = fails(data, "d.csv", "line 3, columns lat/lon", "S-2", "outside the territory", "did you swap lat and lon",
                 contains=in_box, hint=swap_hint(in_box))
    assert "line 2" not in text
    geo = to_geojson(Declaration.of([site(lat=10.0, lon=45.0)]))
    fails(json.dumps(geo).encode(), "d.geojson", "feature 0, geometry.coordinates", "outside the territory", contains=in_box)


def test_duplicate_site_ids_name_both_places() -> None:
    fails(json_bytes([site("S-1"), site("S-2"), site("S-1")]), "d.json", "$.sites[2].id", "$.sites[0].id", "'S-1'")
    geo = {"type": "FeatureCollection", "features": [f for f in to_geojson(Declaration.of([site()]))["features"] * 2]}
    fails(json.dumps(geo).encode(), "d.geojson", "feature 1, property id", "feature 0, property id")


def test_rows_of_one_site_must_agree() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,warhead,1,count,,", "S-1,research,,45,10,missile,1,count,,"),
          "d.csv", "line 3, column kind", "line 2", "'research'")


def test_nan_and_infinite_numbers() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,heu,nan,kg,,"), "d.csv", "line 2, column quantity", "not a number")
    fails(csv_bytes("S-1,reactor,,45,10,heu,1e400,kg,,"), "d.csv", "line 2, column quantity", "not finite")
    fails(b'{"sites": [{"id": "S-1", "kind": "reactor", "lat": NaN}]}', "d.json", "not a JSON number")
    fails(b"sites:\n- id: S-1\n  kind: reactor\n  lat: .nan\n", "d.yaml", "line 4 column 8", "not a finite JSON number")


def test_quantities_keep_their_exact_written_decimal() -> None:
    assert read_declaration(csv_bytes("S-1,reactor,,45,10,heu,0.1,kg,,"), source="d.csv").sites[0]["items"][0]["quantity"] == 0.1
    long = "0.1000000000000000055511151231257827"
    fails(csv_bytes(f"S-1,reactor,,45,10,heu,{long},kg,,"), "d.csv", "line 2, column quantity", "no exact JSON number form")
    item = '{"category": "heu", "quantity": %s, "unit": "kg"}' % long
    fails(json_bytes([site()]).replace(b'"items": []', f'"items": [{item}]'.encode()), "d.json",
          "$.sites[0].items[0].quantity", "committed as 0.1")
    fails(b"sites:\n- {id: S-1, kind: reactor, lat: 45, lon: 10,\n   items: [{category: heu, unit: kg, quantity: 1.0e-400}]}\n",
          "d.yaml", "line 3 column", "field quantity", "no exact JSON number form")
    fails(csv_bytes("S-1,reactor,,45,10,heu,0x10,kg,,"), "d.csv", "line 2, column quantity", "not a number")
    fails(csv_bytes("S-1,reactor,,45,10,heu,,kg,,"), "d.csv", "line 2, column quantity", "quantity is required")


def test_negative_quantity() -> None:
    decl = Declaration.of([site("S-1"), site("S-2", items=[{"category": "heu", "quantity": -1, "unit": "kg"}])])
    fails(json.dumps(to_geojson(decl)).encode(), "d.geojson", "feature 1, property items[0].quantity", "negative")


def test_non_integral_count() -> None:
    data = b"sites:\n- id: S-1\n  kind: reactor\n  lat: 45\n  lon: 10\n  items:\n  - category: warhead\n    unit: count\n    quantity: 2.5\n"
    fails(data, "d.yaml", "line 9 column 15, field quantity", "not a whole count")


def test_serials_that_disagree_with_quantities() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,warhead,3,count,,W-1;W-2"), "d.csv", "line 2, column serials", "2 serials for quantity 3")
    fails(csv_bytes("S-1,reactor,,45,10,heu,2,kg,,W-1;W-2"), "d.csv", "line 2, column serials", "only for count")


def test_duplicate_serials_name_both_places() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,warhead,1,count,,W-1", "S-2,reactor,,45,10,missile,2,count,,M-1;W-1"),
          "d.csv", "line 3, column serials", "'W-1'", "also declared at line 2")
    fails(csv_bytes("S-1,reactor,,45,10,warhead,2,count,,W-1;W-1"), "d.csv", "line 2, column serials", "listed twice")


def test_duplicate_items_name_both_places() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,heu,1,kg,a,", "S-1,reactor,,45,10,heu,2,kg,a,"),
          "d.csv", "line 3, column category", "twice", "line 2")


def test_unknown_kind_or_category() -> None:
    fails(json_bytes([site(kind="bakery")]), "d.json", "$.sites[0].kind", "'bakery'")
    decl = Declaration.of([site(items=[{"category": "bread", "quantity": 1, "unit": "count"}])])
    fails(json.dumps(to_geojson(decl)).encode(), "d.geojson", "feature 0, property items[0].category", "'bread'")


def test_unit_not_the_vocabularys_unit() -> None:
    fails(csv_bytes("S-1,reactor,,45,10,heu,1,g,,"), "d.csv", "line 2, column unit", "'kg'")


def test_bad_ids() -> None:
    fails(csv_bytes("S 1,reactor,,45,10,,,,,"), "d.csv", "line 2, column site_id", "not an id")
    fails(csv_bytes("S-1,reactor,,45,10,warhead,1,count,,W 1"), "d.csv", "line 2, column serials", "not an id")


def test_the_cell_is_computed_not_given() -> None:
    fails(json_bytes([site(cell="861ea6d67ffffff")]), "d.json", "$.sites[0].cell", "computed")
    fails(HEADER.replace("\n", ",cell\n").encode(), "d.csv", "line 1", "computed")


def test_csv_structure_errors() -> None:
    fails(b"site_id,kind,lat,lon,category,quantity,unit,colour\n", "d.csv", "line 1", "unknown column 'colour'")
    fails(b"site_id,kind,lat,lon,category,quantity\n", "d.csv", "line 1", "missing column 'unit'")
    fails(b"site_id,kind,lat,lon,serials\n", "d.csv", "line 1", "missing columns 'category', 'quantity', 'unit'")
    fails(b"site_id,lat,lon\n", "d.csv", "line 1", "missing column 'kind'")
    fails(csv_bytes("S-1,reactor,,45,10"), "d.csv", "line 2", "5 fields, the header has 10")
    fails(csv_bytes("S-1,reactor,,45,10,heu,1,,,"), "d.csv", "line 2, column unit", "required")
    fails(csv_bytes("S-1,reactor,,45,10,,,,,", "S-1,reactor,,45,10,heu,1,kg,,"), "d.csv", "line 3", "line 2", "without an item")


def test_json_and_geojson_structure_errors() -> None:
    fails(json_bytes([site(colour="red")]), "d.json", "$.sites[0]", "unknown field 'colour'")
    fails(json_bytes([site(lat="45")]), "d.json", "$.sites[0].lat", "expected a number")
    fails(b'{"sites": [], "sites": []}', "d.json", "duplicate member name")
    fails(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
          b' "geometry": {"type": "LineString", "coordinates": []}}]}', "d.geojson", "feature 0, geometry", "Point")
    geo = to_geojson(Declaration.of([site()]))
    geo["features"][0]["properties"]["items"] = [{"category": "heu", "quantity": "1", "unit": "kg"}]
    fails(json.dumps(geo).encode(), "d.geojson", "feature 0, property items[0].quantity", "expected a number")


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (lambda g: g.update(type="Feature"), "$.type", "FeatureCollection"),
        (lambda g: g.update(crs={"type": "name", "properties": {"name": "EPSG:3857"}}), "$.crs", "longitude/latitude"),
        (lambda g: g["features"][0].update(type="Point"), "feature 0, type", "Feature"),
        (lambda g: g["features"][0]["geometry"].update(coordinates=[10, 45, 120]), "feature 0, geometry.coordinates", "no altitude"),
        (lambda g: g["features"][0].update(properties=[]), "feature 0, properties", "expected an object"),
    ],
    ids=["not-a-collection", "projected-crs", "not-a-feature", "altitude", "properties-not-an-object"],
)
def test_geojson_feature_errors_name_the_field(change: Any, where: str, says: str) -> None:
    """The GeoJSON frame shared with intelligence files (unveil.textformats.point_feature)."""
    geo = to_geojson(Declaration.of([site()]))
    change(geo)
    fails(json.dumps(geo).encode(), "d.geojson", where, says)
    geo_crs84 = to_geojson(Declaration.of([site()]))
    geo_crs84["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert read_declaration(json.dumps(geo_crs84).encode(), source="d.geojson").sites  # CRS84 is lon/lat: accepted


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("sites:\n- id: S-1\n  id: S-2\n", ("line 3 column 3", "duplicate key 'id'", "line 2")),
        ("sites:\n- id: S-1\n  kind: reactor\n  lat: 45\n  lon: 10\n  items: []\n  name: 2019-01-18\n", ("line 7 column 9", "date")),
        ("sites:\n- id: S-1\n  name: !!binary aGVsbG8=\n", ("line 3 column 9", "binary")),
        ("sites:\n- &a {id: S-1}\n- *a\n", ("line 2 column 3", "aliases")),
        ("sites:\n- id: S-1\n  name: yes\n", ("line 3 column 9", "boolean")),
        ("sites:\n- id: S-1\n  lat: 0x1f\n", ("line 3 column 8", "not a JSON number")),
        ("sites: [\n", ("line 2",)),
    ],
    ids=["duplicate-key", "timestamp", "binary", "alias", "yes", "hex", "syntax"],
)
def test_yaml_refuses_what_is_not_json(text: str, parts: tuple[str, ...]) -> None:
    fails(text.encode(), "d.yaml", *parts)


def test_every_problem_is_listed_with_its_place() -> None:
    text = fails(csv_bytes("S 1,reactor,,45,10,heu,-1,kg,,", "S-2,bakery,,45,10,warhead,1.5,count,,"), "d.csv",
                 "4 problems", "line 2, column site_id", "line 2, column quantity", "line 3, column kind", "line 3, column quantity")
    assert text.count("\n") == 4


@example(n=25)
@given(st.integers(2, 30))
def test_problem_list_is_capped(n: int) -> None:
    rows = [f"S-{i},bakery,,45,10,,,,," for i in range(n)]
    text = fails(csv_bytes(*rows), "d.csv", "bakery")
    if n > 20:
        assert f"and {n - 20} more" in text


def test_resolution_checks_cell_contents_like_a_verifier() -> None:
    data = csv_bytes("S-1,reactor,,45,10,warhead,1,count,,W-1", "S-2,reactor,,45.3,10.3,warhead,1,count,,W-2")
    decl = read_declaration(data, source="d.csv", resolution=9, contains=in_box)
    assert decl == read_declaration(data, source="d.csv")
    assert sum(len(c["sites"]) for c in decl.contents(9).values()) == 2


# --- structured places: each format names file, line or feature, and field -------------------


@pytest.mark.parametrize(
    ("source", "data", "location"),
    [
        ("d.csv", csv_bytes("S-1,reactor,,45,10,heu,1,kg,,", "S-1,reactor,,45,10,heu,x,kg,,"),
         Location(line=3, label="column", path=("quantity",))),
        ("d.csv", csv_bytes("S-1,reactor,,45,10,,,,,", "S-2,reactor,,10.1,45.1,,,,,"), Location(line=3, label="columns", path=("lat/lon",))),
        ("d.csv", b"site_id,kind,lat,lon,colour\n", Location(line=1, note="header")),
        ("d.json", json_bytes([site(), site("S-2", items=[{"category": "heu", "quantity": 1, "unit": "kg", "serials": ["A", 7]}])]),
         Location(path=("sites", 1, "items", 0, "serials", 1))),
        ("d.json", json_bytes([site(), site("S-2", kind="bakery")]), Location(path=("sites", 1, "kind"))),
        ("d.json", b'{"sites": {}}', Location(path=("sites",))),
        ("d.geojson", json.dumps(to_geojson(Declaration.of([site(), site("S-2", lat=10.1, lon=45.1)]))).encode(),
         Location(feature=1, path=("geometry", "coordinates"))),
        ("d.geojson", json.dumps(to_geojson(Declaration.of([site(items=[{"category": "heu", "quantity": 1, "unit": "g"}])]))).encode(),
         Location(feature=0, label="property", path=("items", 0, "unit"))),
        ("d.yaml", b"sites:\n- id: S-1\n  kind: reactor\n  lat: 45\n  lon: 10\n  items:\n  - {category: heu, quantity: 1, unit: g}\n",
         Location(line=7, column=40, label="field", path=("unit",))),
        ("d.yaml", b"sites:\n- id: S-1\n  kind: reactor\n  lat: 45\n  lon: 10\n  items:\n  - [heu]\n",
         Location(line=7, column=5, label="field", path=("items", 0))),
        ("d.yaml", b"sites:\n- {id: S-1, kind: reactor, lat: 45, lon: 10, items: [], colour: red}\n", Location(line=2, column=3)),
        ("d.yaml", b"sites:\n- {id: S-1, kind: reactor, lat: 10.1, lon: 45.1, items: []}\n",
         Location(line=2, column=33, label="field", path=("lat/lon",))),
    ],
    ids=["csv-cell", "csv-point", "csv-header", "json-serial", "json-kind", "json-sites", "geojson-point", "geojson-unit",
         "yaml-unit", "yaml-item", "yaml-unknown-field", "yaml-point"],
)
def test_each_format_places_its_errors_as_data(source: str, data: bytes, location: Location) -> None:
    with pytest.raises(MalformedInputError) as caught:
        read_declaration(data, source=source, contains=in_box)
    assert caught.value.source == source
    assert caught.value.location == location, str(caught.value)
    assert caught.value.where == str(location) and str(caught.value).startswith(f"{source}: {location}: ")


ODD = st.sampled_from([None, 1, 2.5, "x", [], ["A", 1], {}, True])


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly (9 in 10) a value of the right type, else one of another."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda right: good if right else ODD)


OFTEN = st.sampled_from([True] * 9 + [False])


@st.composite
def site_like(draw: st.DrawFn) -> Any:
    """A site object that is often well formed, and otherwise wrong in one or more ways."""
    def members(required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
        out = {k: draw(maybe(v)) for k, v in required.items() if draw(OFTEN)}  # a required one missing: 1 in 10
        out |= {k: draw(maybe(v)) for k, v in optional.items() if draw(st.booleans())}
        return out

    def item() -> Any:
        return members({"category": st.just("heu"), "quantity": st.integers(0, 3), "unit": st.just("kg")},
                       {"type": st.just("a"), "serials": st.lists(maybe(st.just("A")), max_size=2), "ext": st.just({})})

    site = members({"id": st.just("S-1"), "kind": st.just("reactor"), "items": st.just([])},
                   {"name": st.just("n"), "lat": st.floats(-1, 1), "lon": st.integers(-1, 1), "ext": st.just({})})
    if type(site.get("items")) is list:
        site["items"] = [item() for _ in range(draw(st.integers(0, 2)))]
    if not draw(OFTEN):
        site[draw(st.sampled_from(["cell", "colour"]))] = "x"
    return site if draw(OFTEN) else draw(ODD)


@settings(max_examples=300, deadline=None)
@given(st.lists(site_like(), min_size=1, max_size=3))
def test_field_checks_are_the_verifiers_shape_rules(sites: list[Any]) -> None:
    """The readers' own field and type checks accept and refuse what spec §2's shape check does
    (unveil.core.content.check_shape), with the same message."""
    from unveil.core.content import check_shape
    from unveil.declaration.json_format import read_json
    from unveil.declaration.sites import check_fields

    found = read_json(json.dumps({"sites": sites}))
    try:
        check_fields(found)
        ours = None
    except MalformedInputError as exc:
        ours = exc
    try:
        for i, s in enumerate(sites):
            if type(s) is dict and "cell" in s:
                raise MalformedInputError("the cell is computed from lat/lon, not given", where=f"$.sites[{i}].cell")
        check_shape({"cell": "", "sites": sites}, "$")
        theirs = None
    except MalformedInputError as exc:
        theirs = exc
    assert (ours is None) == (theirs is None), (ours, theirs)
    if ours is not None and theirs is not None:
        assert ours.message == theirs.message and ours.where == theirs.where


def test_json_and_geojson_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """One strict parse keeps each quantity's written decimal (no second, lenient parse)."""
    import unveil.core.jsonparse as jsonparse

    calls: list[int] = []
    real = jsonparse.json.JSONDecoder.decode

    def counting(self: Any, text: str, *args: Any) -> Any:
        calls.append(1)
        return real(self, text, *args)

    monkeypatch.setattr(jsonparse.json.JSONDecoder, "decode", counting)
    monkeypatch.setattr(json, "loads", None)  # any other parse would fail
    item = '{"category": "heu", "quantity": 1e-400, "unit": "kg"}'
    data = json_bytes([site()]).replace(b'"items": []', f'"items": [{item}]'.encode())
    fails(data, "d.json", "$.sites[0].items[0].quantity", "quantity 1e-400 has no exact JSON number form (it would be committed as 0)")
    geo = json.dumps(to_geojson(Declaration.of([site(items=[{"category": "heu", "quantity": 2.5, "unit": "kg"}])])))
    fails(geo.replace("2.5", "2.50000000000000000001").encode(), "d.geojson", "feature 0, property items[0].quantity",
          "2.50000000000000000001 has no exact JSON number form")
    assert read_declaration(geo.replace("2.5", "2.50").encode(), source="d.geojson").sites[0]["items"][0]["quantity"] == 2.5
    assert len(calls) == 3


def test_swap_hint_is_given_by_default_with_a_territory() -> None:
    text = fails(csv_bytes("S-1,reactor,,10.1,45.2,,,,,"), "d.csv", "line 2, columns lat/lon", "did you swap lat and lon", contains=in_box)
    assert "at lat 45.2, lon 10.1" in text
