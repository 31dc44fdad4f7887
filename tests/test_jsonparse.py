"""Strict I-JSON parsing (spec §0): one test per kind of input a reader must refuse."""

from __future__ import annotations

import pytest

from unveil.core import shape
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "duplicate member name 'a'"),
        ('{"x": {"b": true, "b": true}}', "duplicate member name 'b'"),
        ("[NaN]", "NaN"),
        ("[Infinity]", "Infinity"),
        ("[-Infinity]", "-Infinity"),
        ("[1e400]", "not finite"),
        ("[-1e400]", "not finite"),
        ('["\\ud800"]', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        ("[9007199254740992]", "outside"),
        ("[-9007199254740992]", "outside"),
        ("[123456789012345678901234567890]", "outside"),
        ('{"a": 1', "line 1"),
        ("[1,]", "line 1"),
        ('["tab\there"]', "line 1"),
    ],
    ids=[
        "duplicate-name", "nested-duplicate-name", "nan", "infinity", "minus-infinity",
        "overflow", "negative-overflow", "lone-high-surrogate", "lone-low-surrogate-in-key",
        "integer-2^53", "integer-minus-2^53", "huge-integer", "truncated", "trailing-comma",
        "raw-control-character",
    ],
)
def test_rejects(text: str, message: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        loads(text, source="input.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("input.json: ")


def test_rejects_invalid_utf8_naming_the_offset() -> None:
    with pytest.raises(MalformedInputError, match="not UTF-8: invalid byte at offset 7"):
        loads(b'{"a": "\xff"}', source="f.json")


def test_rejects_byte_order_mark() -> None:
    with pytest.raises(MalformedInputError, match="byte order mark"):
        loads(b'\xef\xbb\xbf{"a": 1}')


def test_accepts_valid_pairs_and_limits() -> None:
    value = loads('{"a": ["\\ud83d\\ude00", 9007199254740991, -9007199254740991, 0.5, 1e-7, true, null]}')
    assert value == {"a": ["\U0001f600", 2**53 - 1, -(2**53 - 1), 0.5, 1e-7, True, None]}


def test_integer_field_rejects_float_token_and_bool() -> None:
    doc = loads('{"index": 17.0, "n": true, "tree_size": 1e1, "ok": 17}')
    for name in ("index", "n", "tree_size"):
        with pytest.raises(MalformedInputError) as caught:
            shape.integer(doc, name, "$")
        assert f"$.{name}" in str(caught.value)
    assert shape.integer(doc, "ok", "$") == 17


def test_fields_reject_unknown_and_missing() -> None:
    with pytest.raises(MalformedInputError, match="unknown field 'extra'"):
        shape.fields({"a": 1, "extra": 2}, "$.x", ("a",))
    with pytest.raises(MalformedInputError, match="missing required field 'b'"):
        shape.fields({"a": 1}, "$.x", ("a", "b"))


# --- nesting (spec §0: at most 64 deep, checked before parsing, without recursion) ------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from unveil.core.jsonparse import MAX_DEPTH, nesting_depth  # noqa: E402


def _depth(value: object) -> int:
    """The reference: nesting depth of a parsed value, recursively."""
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


_tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ab\u00e9\u2028\n\t/'), max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | _tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_tricky_text, inner, max_size=4),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.booleans(), st.integers(0, 3))
def test_nesting_depth_matches_the_parsed_value(value: object, ascii_only: bool, padding: int) -> None:
    import json

    text = json.dumps(value, ensure_ascii=ascii_only) + " " * padding
    assert nesting_depth(text.encode("utf-8", "surrogatepass")) == _depth(value)


@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH - 1, MAX_DEPTH])
@pytest.mark.parametrize("shape_", ["arrays", "objects", "mixed"])
def test_nesting_up_to_the_limit_is_read(depth: int, shape_: str) -> None:
    loads(_nested(depth, shape_))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 970, 100_000])
@pytest.mark.parametrize("shape_", ["arrays", "objects", "mixed"])
def test_nesting_beyond_the_limit_is_refused_before_parsing(depth: int, shape_: str) -> None:
    with pytest.raises(MalformedInputError, match=f"nest {depth} deep; at most 64"):
        loads(_nested(depth, shape_), source="deep.json")
    with pytest.raises(MalformedInputError, match="deep.json"):
        loads(_nested(depth, shape_).encode(), source="deep.json")


def test_brackets_inside_strings_do_not_count() -> None:
    deep_string = '"' + "[" * 500 + '\\"' + "{" * 500 + '\\\\"'
    assert loads("[" + deep_string + "]") == ["[" * 500 + '"' + "{" * 500 + "\\"]
    padded = '{"pad": "' + "x" * 5000 + '", "v": [' + deep_string + "]}"
    assert nesting_depth(padded.encode()) == 2


def test_nesting_check_reads_large_documents_exactly() -> None:
    # Past the small-document shortcut: depth 65 hidden after 10 kB of flat content.
    flat = "[" + ",".join(["1"] * 5000) + "]"
    with pytest.raises(MalformedInputError, match="nest 65 deep"):
        loads("[" + flat + "," + _nested(64, "arrays") + "]")
    assert loads("[" + flat + "," + _nested(63, "arrays") + "]")[0][0] == 1


def _nested(depth: int, shape_: str) -> str:
    opening = {"arrays": ["["], "objects": ['{"k":'], "mixed": ["[", '{"k":']}[shape_]
    closing = {"[": "]", '{"k":': "}"}
    opens = [opening[i % len(opening)] for i in range(depth)]
    inner = "1" if opens[-1] == '{"k":' else ""
    return "".join(opens) + inner + "".join(closing[o] for o in reversed(opens))
