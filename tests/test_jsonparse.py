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
