"""Fuzzing declarations in each format (CSV, GeoJSON, JSON, YAML; spec §0, §2, §10).

Robustness: any bytes, and structure-aware changes of a valid declaration in each format
(values, rows and cells, YAML tokens, deep nesting), give a Declaration or a
MalformedInputError naming the file. Semantics: write → read gives the same declaration in
every format, and arrays and objects nest at most 64 deep in every format (spec §0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import NUMBER_TEXTS, ODD_STRINGS, fuzz, mutated_bytes, mutated_csv, mutated_numbers, mutated_text, nested, outcome
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import MAX_DEPTH
from unveil.core.vocabulary import V1
from unveil.declaration import Declaration, read_declaration, to_csv, to_geojson, to_json
from unveil.errors import MalformedInputError
from unveil.geo.territory import read_territory

EXERCISE = Path(__file__).resolve().parents[2] / "src" / "unveil" / "exercise"
TERRITORY = read_territory((EXERCISE / "territory.geojson").read_bytes(), source="territory.geojson")
_FULL = read_declaration((EXERCISE / "declaration.json").read_bytes(), source="declaration.json")
SEED = Declaration.of([*_FULL.sites[:4], {
    "id": "S-x", "kind": "weapons-storage", "name": 'North, "Valley"\u00e9', "lat": -35.5, "lon": -139.5, "items": [
        {"category": "warhead", "quantity": 3, "unit": "count", "serials": ["W-1", "W-2", "W-3"]},
        {"category": "plutonium", "quantity": 4.5, "unit": "kg", "type": "metal"}]}])
SEED_JSON = to_json(SEED)
SEED_GEOJSON = to_geojson(SEED)
SEED_CSV = to_csv(SEED).encode()
SEED_YAML = yaml.safe_dump(SEED_JSON, allow_unicode=True).encode()
FILES = {"d.json": json.dumps(SEED_JSON).encode(), "d.geojson": json.dumps(SEED_GEOJSON).encode(), "d.csv": SEED_CSV, "d.yaml": SEED_YAML}


def read(data: bytes, source: str, *, checked: bool = False) -> Declaration | MalformedInputError:
    """Read as a file called ``source``; ``checked`` also cuts it into cells at resolution 6
    and checks every point against the exercise territory, as ``unveil commit`` does."""
    extra: dict[str, Any] = {"resolution": 6, "contains": TERRITORY.contains} if checked else {}
    decl = outcome(read_declaration, data, source=source, **extra)
    if isinstance(decl, Declaration):
        canonicalize(to_json(decl))  # what is committed has a JCS form
        assert read_declaration(json.dumps(to_json(decl)).encode(), source="again.json") == decl
    return decl


@fuzz(30)
@given(st.sampled_from(sorted(FILES)), st.binary(max_size=100))
def test_any_bytes_in_each_format(source: str, data: bytes) -> None:
    read(data, source)


@fuzz(30)
@given(st.sampled_from([("d.json", SEED_JSON), ("d.geojson", SEED_GEOJSON)]).flatmap(
    lambda s: st.tuples(st.just(s[0]), mutated_text(s[1]) | mutated_numbers(json.dumps(s[1]).encode()))), st.booleans())
def test_mutated_json_and_geojson(case: tuple[str, bytes], checked: bool) -> None:
    read(case[1], case[0], checked=checked)


CSV_CELLS = [*ODD_STRINGS, *NUMBER_TEXTS, "45.1", "W-1;W-1", "W-1;;W-2", "other", "warhead", "count", "kg", "site_id", "cell", "=1+1", "\r", "a\nb"]


@fuzz(30)
@given(mutated_csv(SEED_CSV, CSV_CELLS), st.booleans())
def test_mutated_csv(data: bytes, checked: bool) -> None:
    read(data, "d.csv", checked=checked)


YAML_TOKENS = [t.encode() for t in (
    "&a ", "*a", "<<: *a\n", "!!binary aGk=", "!!set {a}", "!!python/object:os.system ls", "yes", "on", "0x1f", "0o17", "1_000",
    ".nan", ".inf", "-.inf", "2001-12-14", "~", "- ", ": ", "? ", "{", "}", "[", "]", "\t", "%YAML 1.1\n", "---\n", "...\n",
    "|\n  ", ">\n  ", "'", '"', "#", "\n  ", "\n- ", "1e16", "9" * 5000, "\x85", "\u2028", "\ufeff", "\x00", "!!int 3",
    "[" * 70 + "]" * 70, "{a: " * 70 + "1" + "}" * 70,
)]


@fuzz(40)
@given(mutated_bytes(SEED_YAML, tokens=YAML_TOKENS) | mutated_numbers(SEED_YAML) | mutated_text(SEED_JSON), st.booleans())
def test_mutated_yaml(data: bytes, checked: bool) -> None:
    read(data, "d.yaml", checked=checked)


def _yaml_block(value: Any, indent: int = 0) -> str:
    """Block-style YAML of nested mappings and sequences (no flow brackets)."""
    pad = "  " * indent

    def block(v: Any) -> bool:
        return type(v) in (dict, list) and bool(v)

    if type(value) is dict:
        return "".join(f"{pad}{k}:\n{_yaml_block(v, indent + 1)}" if block(v) else f"{pad}{k}: {json.dumps(v)}\n" for k, v in value.items())
    return "".join(f"{pad}-\n{_yaml_block(v, indent + 1)}" if block(v) else f"{pad}- {json.dumps(v)}\n" for v in value)


@fuzz(15)
@given(st.integers(1, MAX_DEPTH + 6), st.sampled_from(["json", "geojson", "yaml-flow", "yaml-block"]))
def test_nesting_beyond_64_is_refused_in_every_format(depth: int, form: str) -> None:
    """Spec §0: a document nests at most 64 deep, in any format. ``ext`` holds free JSON."""
    site = {"id": "S-1", "kind": "other", "lat": -35.5, "lon": -139.5, "items": [], "ext": {"a": nested(depth - 1, 1)}}
    decl = Declaration.of([site])
    if form == "json":
        data, source, frame = json.dumps(to_json(decl)).encode(), "d.json", 3  # {"sites": [{… "ext":
    elif form == "geojson":
        data, source, frame = json.dumps(to_geojson(decl)).encode(), "d.geojson", 4  # features, feature, properties
    elif form == "yaml-flow":
        data, source, frame = yaml.safe_dump(to_json(decl), default_flow_style=True, width=10**6).encode(), "d.yaml", 3
    else:
        data, source, frame = _yaml_block(to_json(decl)).encode(), "d.yaml", 3
    result = read(data, source)
    if frame + depth > MAX_DEPTH:
        assert isinstance(result, MalformedInputError) and "64" in str(result), f"depth {frame + depth} read"
    else:
        assert result == decl, str(result)


# --- write → read --------------------------------------------------------------------------

IDS = st.from_regex(r"[A-Za-z0-9._:-]{1,12}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\x85\u2028\u2029"), min_size=1, max_size=12) | st.sampled_from(
    ['North, "Valley"', "a;b", " lead", "trail ", "#x", "- y", "z: 1", "yes", "null", "0x1f", "1e5", "\u00e9\u0301", "\u202e", "\U0001f600"])


@st.composite
def declarations(draw: st.DrawFn, *, csv: bool) -> Declaration:
    """Valid declarations with odd names, types and numbers; ``csv`` leaves out what CSV
    cannot hold (``ext``, an empty serials list)."""
    sites = []
    for site_id in draw(st.lists(IDS, unique=True, min_size=1, max_size=4)):
        site: dict[str, Any] = {"id": site_id, "kind": draw(st.sampled_from(sorted(V1.kinds))),
                                "lat": draw(st.floats(-90, 90) | st.sampled_from([0, -90, 90, 5e-324, -0.0])),
                                "lon": draw(st.floats(-180, 180) | st.sampled_from([180, -180, 1e-7])), "items": []}
        if draw(st.booleans()):
            site["name"] = draw(TEXT.filter(lambda t: t.strip() == t or not csv))
        if not csv and draw(st.booleans()):
            site["ext"] = draw(st.dictionaries(st.text(max_size=4), st.none() | st.integers(-3, 3) | st.text(max_size=4) | st.just(nested(5)), max_size=2))
        types = st.none() | (TEXT.filter(lambda t: t.strip() == t) if csv else TEXT)
        for n, (category, kind) in enumerate(draw(st.lists(st.tuples(st.sampled_from(sorted(V1.units)), types), max_size=3, unique_by=lambda k: (k[0], k[1] or "")))):
            unit = V1.units[category]
            quantity = draw(st.integers(0, 5)) if unit == "count" else draw(st.sampled_from([0, 0.5, 41.5, 1e-7, 2.0, 1e21, 123456.789]))
            item: dict[str, Any] = {"category": category, "quantity": quantity, "unit": unit}
            if kind is not None:
                item["type"] = kind
            if unit == "count" and draw(st.booleans()) and (quantity > 0 or not csv):
                item["serials"] = [f"{site_id}-{n}-{k}" for k in range(quantity)]
            site["items"].append(item)
        sites.append(site)
    return Declaration.of(sites)


def same(decl: Declaration, data: bytes, source: str) -> None:
    again = read_declaration(data, source=source)
    assert again == decl
    assert canonicalize(to_json(again)) == canonicalize(to_json(decl))  # the committed bytes, types and all


@fuzz(20)
@given(declarations(csv=False), st.booleans())
def test_json_geojson_and_yaml_round_trip(decl: Declaration, unicode: bool) -> None:
    same(decl, json.dumps(to_json(decl), ensure_ascii=not unicode).encode(), "d.json")
    same(decl, json.dumps(to_geojson(decl), ensure_ascii=not unicode).encode(), "d.geojson")
    same(decl, yaml.safe_dump(to_json(decl)).encode(), "d.yaml")


@fuzz(20)
@given(declarations(csv=True))
def test_csv_round_trip(decl: Declaration) -> None:
    same(decl, to_csv(decl).encode(), "d.csv")
