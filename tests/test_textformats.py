"""The shared pieces of the input readers: the strict YAML loader (spec §0: JSON values only,
nesting at most 64 deep, checked without recursion), exact written decimals, structured error
locations and the one swap hint."""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import unveil.textformats.yaml as strict_yaml
from unveil.core.jsonparse import MAX_DEPTH, Written, float_problem, loads
from unveil.declaration import read_declaration
from unveil.errors import Location, MalformedInputError
from unveil.textformats import swap_hint
from unveil.textformats.yaml import load_yaml

PARSERS = [pytest.param(yaml.SafeLoader, id="python")]
if getattr(yaml, "__with_libyaml__", False):
    PARSERS.insert(0, pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test runs with libyaml's parser (used when PyYAML has it) and PyYAML's own."""
    monkeypatch.setattr(strict_yaml, "_PARSER", request.param)
    return request.param


def refused(text: str, *parts: str, source: str = "f.yaml") -> MalformedInputError:
    with pytest.raises(MalformedInputError) as caught:
        load_yaml(text, source=source)
    for part in parts:
        assert part in str(caught.value), (part, str(caught.value))
    return caught.value


# --- nesting (spec §0) -----------------------------------------------------------------------

def nested(depth: int, style: str) -> str:
    """A document whose sequences and mappings nest exactly ``depth`` deep."""
    if style == "flow-seq":
        return "[" * depth + "]" * depth
    if style == "flow-map":
        return "{a: " * depth + "1" + "}" * depth
    if style == "compact":  # block sequences on one line: "- - - 1"
        return "- " * depth + "1\n"
    if style == "block-map":
        return "".join("  " * i + "a:\n" for i in range(depth - 1)) + "  " * (depth - 1) + "a: 1\n"
    raise AssertionError(style)


STYLES = ["flow-seq", "flow-map", "compact", "block-map"]


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize("style", STYLES)
def test_nesting_up_to_64_is_read(parser: Any, style: str) -> None:
    assert depth_of(load_yaml(nested(MAX_DEPTH, style)).value) == 64


@pytest.mark.parametrize("style", STYLES)
def test_nesting_of_65_is_refused_at_the_65th_level(parser: Any, style: str) -> None:
    error = refused(nested(MAX_DEPTH + 1, style), "f.yaml", "nest more than 64 deep", "spec §0")
    assert error.location is not None
    expected_line = {"block-map": 65}.get(style, 1)
    assert error.location.line == expected_line


def frames() -> int:
    frame, count = sys._getframe(), 0
    while frame is not None:
        frame, count = frame.f_back, count + 1
    return count


@pytest.mark.parametrize("style", STYLES)
def test_the_loader_does_not_recurse_per_level(parser: Any, style: str) -> None:
    """With 40 frames to spare (fewer than 64 levels), 64 levels are read and 65 refused."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames() + 40)
    try:
        value = load_yaml(nested(MAX_DEPTH, style)).value
        refused(nested(MAX_DEPTH + 1, style), "nest more than 64 deep")
    finally:
        sys.setrecursionlimit(limit)
    assert depth_of(value) == 64


@pytest.mark.parametrize("style", ["flow-seq", "flow-map", "compact"])
def test_100000_deep_is_refused_quickly_with_a_clear_message(parser: Any, style: str) -> None:
    text = nested(100_000, style)
    started = time.perf_counter()
    error = refused(text, "f.yaml: line 1 column", "nest more than 64 deep")
    assert time.perf_counter() - started < 5  # generous: PyYAML's own loader recurses, and its scanner alone takes minutes here
    cause: BaseException | None = error
    while cause is not None:
        assert not isinstance(cause, RecursionError)
        cause = cause.__context__


def test_deep_unclosed_block_mappings_are_refused(parser: Any) -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(3000))  # 3000 levels, quadratic in size: 9 MB
    refused(text, "line 65 column 129", "nest more than 64 deep")


def test_a_deep_yaml_declaration_names_the_file_and_line(parser: Any) -> None:
    data = ("sites:\n- id: S-1\n  kind: reactor\n  items: []\n  ext: " + nested(100_000, "flow-seq") + "\n").encode()
    with pytest.raises(MalformedInputError) as caught:
        read_declaration(data, source="deep.yaml")
    text = str(caught.value)
    assert text.startswith("deep.yaml: line 5 column ") and "nest more than 64 deep" in text, text


# --- what strict JSON refuses, YAML refuses too ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3 column 1", "duplicate key 'a' (first at line 1 column 1)"),
        ("a: .nan\n", "line 1 column 4", "not a finite JSON number"),
        ("a: .inf\n", "line 1 column 4", "not a finite JSON number"),
        ("a: -.inf\n", "line 1 column 4", "not a finite JSON number"),
        ("a: 1.0e+400\n", "line 1 column 4", "not a finite JSON number"),
        ("a: 9007199254740992\n", "line 1 column 4", "outside ±(2^53−1)"),
        ("a: -9007199254740992\n", "line 1 column 4", "outside ±(2^53−1)"),
        ("a: 0x1f\n", "line 1 column 4", "not a JSON number"),
        ("a: 1_000\n", "line 1 column 4", "not a JSON number"),
        ("a: 017\n", "line 1 column 4", "not a JSON number"),
        ("a: 0b101\n", "line 1 column 4", "not a JSON number"),
        ("a: 1:30\n", "line 1 column 4", "not a JSON number"),
        ("a: +1\n", "line 1 column 4", "not a JSON number"),
        ("a: &x [1]\nb: *x\n", "line 1 column 4", "alias (*x) on line 2 column 4"),
        ("a: *x\n", "line 1 column 4", "names no anchor"),
        ("a: !!binary aGVsbG8=\n", "line 1 column 4", "binary"),
        ("a: 2019-01-18\n", "line 1 column 4", "date"),
        ("a: !!set {x}\n", "line 1 column 4", "tag:yaml.org,2002:set"),
        ("a: !!omap [{x: 1}]\n", "line 1 column 4", "tag:yaml.org,2002:omap"),
        ("a: !custom x\n", "line 1 column 4", "!custom"),
        ("<<: {a: 1}\n", "line 1 column 1", "merge keys"),
        ("1: x\n", "line 1 column 1", "member names are strings; quote '1'"),
        ("null: x\n", "line 1 column 1", "member names are strings"),
        ("[a]: x\n", "line 1 column 1", "not collections"),
        ("a: yes\n", "line 1 column 4", "boolean"),
        ("a: True\n", "line 1 column 4", "boolean"),
        ("a: !!null x\n", "line 1 column 4", "tagged null"),
        ("a: 1\n---\nb: 2\n", "line 2 column 1", "a single document"),
        ("a: [1,\n", "line 2", ""),
    ],
)
def test_refuses_what_is_not_json(parser: Any, text: str, where: str, says: str) -> None:
    error = refused(text, f"f.yaml: {where}", says)
    assert error.source == "f.yaml" and error.location is not None


def test_refuses_a_lone_surrogate(parser: Any) -> None:
    # libyaml refuses the escape itself; PyYAML's parser reads it and the loader refuses the string
    refused('a: "\\ud800"\n', "f.yaml: line 1 column")
    refused('"\\udc00": 1\n', "f.yaml: line 1 column")


def test_refuses_a_control_character(parser: Any) -> None:
    refused("a: 1\nb: \x07\n", "f.yaml: line 2", "not allowed")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # no lone surrogates (spec §0)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: float_problem(f) is None) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_json_values_written_by_pyyaml_read_back_exactly(value: Any) -> None:
    """Whatever strict JSON can say (spec §0), written as YAML, reads back as the same JSON value and types."""
    text = yaml.safe_dump(value)
    got = load_yaml(text).value
    assert json.dumps(got, sort_keys=True) == json.dumps(value, sort_keys=True)
    assert type(got) is type(value)


def test_json_text_is_yaml_the_loader_reads_alike() -> None:
    text = '{"sites": [{"id": "S-1", "lat": 45.5, "n": -3, "ok": true, "none": null, "s": "x"}]}'
    assert load_yaml(text).value == loads(text)


def test_empty_stream_reads_as_none() -> None:
    assert load_yaml("# nothing\n").value is None


# --- exact written decimals and places --------------------------------------------------------


def test_written_keeps_the_text_of_numbers_no_double_holds(parser: Any) -> None:
    doc = load_yaml("a: 0.1\nb: 1.0e-400\nc: 0.1000000000000000055511151231257827\nd: 41.50\ne: 3\n")
    value, written = doc.value, doc.written
    assert [written.text(value[k]) for k in "abcde"] == [None, "1.0e-400", "0.1000000000000000055511151231257827", None, None]
    assert written.text(0.0) is None  # another float, equal but not the one read


def test_json_reader_notes_the_same_numbers() -> None:
    written = Written()
    value = loads('[0.1, 1e-400, 0.1000000000000000055511151231257827, 41.50, 1E2, 1e-7, 7]', written=written)
    assert [written.text(v) for v in value] == [None, "1e-400", "0.1000000000000000055511151231257827", None, None, None, None]
    assert len(written) == 2 and value[1] == 0.0 and math.copysign(1, value[1]) == 1


def test_places_give_line_and_column_of_every_value(parser: Any) -> None:
    doc = load_yaml("sites:\n- id: S-1\n  items:\n  - {category: heu, quantity: 2}\n")
    sites = doc.value["sites"]
    item = sites[0]["items"][0]
    assert doc.places.member(doc.value, "sites") == (2, 1)
    assert doc.places.member(sites, 0) == (2, 3)
    assert doc.places.member(sites[0], "id") == (2, 7)
    assert doc.places.member(item, "quantity") == (4, 31)
    assert doc.places.start(item) == (4, 5)
    assert doc.places.member(dict(item), "quantity") is None  # an equal copy is not the value read


# --- locations and the swap hint ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location(), "$"),
        (Location(path=("sites", 0, "items", 1, "quantity")), "$.sites[0].items[1].quantity"),
        (Location(line=3), "line 3"),
        (Location(line=3, label="column", path=("lat",)), "line 3, column lat"),
        (Location(line=1, note="header", label="column", path=("kind",)), "line 1 (header), column kind"),
        (Location(line=9, column=15, label="field", path=("quantity",)), "line 9 column 15, field quantity"),
        (Location(line=9, column=15, label="field", path=("items", 0)), "line 9 column 15, field items[0]"),
        (Location(feature=2, label="property", path=("items", 0, "unit")), "feature 2, property items[0].unit"),
        (Location(feature=0, path=("geometry", "coordinates")), "feature 0, geometry.coordinates"),
    ],
)
def test_location_reads_as_before(location: Location, text: str) -> None:
    assert str(location) == text
    error = MalformedInputError("bad", where=location)
    assert error.where == text and error.location is location
    moved = error.within("f.json")
    assert str(moved) == f"f.json: {text}: bad" and moved.location is location


def test_a_string_place_still_works() -> None:
    error = MalformedInputError("bad", source="x", where="--bbox")
    assert error.location is None and str(error) == "x: --bbox: bad"


def test_the_swap_hint() -> None:
    def in_box(lon: float, lat: float) -> bool:
        return 9 <= lon <= 11 and 44 <= lat <= 46

    hint = swap_hint(in_box)
    assert hint(10, 45) is None  # inside
    assert hint(120, 80) is None  # outside either way
    text = hint(45, 10)
    assert text is not None and "did you swap lat and lon" in text and "at lat 45, lon 10" in text
    assert hint(100, 10) is None  # (lat 100) is no point
