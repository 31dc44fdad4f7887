"""Fuzzing strict JSON (spec §0): any bytes give a value or a MalformedInputError, every value
read has a JCS form that reads back equal, and nesting is refused beyond 64 exactly."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import TOKENS, Members, dump, fuzz, json_values, mutated_text, nested, outcome
from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import MAX_DEPTH, loads
from unveil.errors import MalformedInputError

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SEEDS = [loads((VECTORS / name).read_bytes()) for name in ("h3/escrow.json", "h3/bundles/valid-totals-opened.json", "h3-intel/bundles/intel-valid.json", "expected.json")]


def read(data: bytes | str) -> object:
    value = outcome(loads, data, source="in.json")
    if not isinstance(value, MalformedInputError):
        # Whatever is read has a JCS form (spec §0) that reads back to an equal value.
        assert loads(canonicalize(value)) == value
    return value


@fuzz(120)
@given(st.binary(max_size=200))
def test_any_bytes(data: bytes) -> None:
    read(data)


@fuzz(120)
@given(st.text(st.characters(codec=None), max_size=100))
def test_any_text_with_lone_surrogates(text: str) -> None:
    read(text)


JSON_TOKENS = [t.decode("utf-8", "replace") for t in TOKENS] + [
    "0", "-1", "1.5", "2e3", "1E-2", '"a"', '"\\u00e9"', '"\\n"', '"\\"', "false", " ", "\n", "[]", "{}", '"k":', "1_0", "+1", ".5", "01",
]


@fuzz(120)
@given(st.lists(st.sampled_from(JSON_TOKENS), max_size=30))
def test_token_soup(tokens: list[str]) -> None:
    read("".join(tokens))


@fuzz(60)
@given(st.sampled_from(SEEDS).flatmap(mutated_text))
def test_mutated_documents(data: bytes) -> None:
    read(data)


@fuzz(60)
@given(json_values, st.sampled_from([None, 0, 2]), st.booleans())
def test_any_json_value_round_trips_through_jcs_and_any_layout(value: object, indent: int | None, ascii: bool) -> None:
    jcs = canonicalize(value)
    assert loads(jcs) == value
    assert canonicalize(loads(jcs)) == jcs
    assert loads(dump(value, indent=indent, ascii=ascii).encode()) == value


@st.composite
def with_repeated_name(draw: st.DrawFn) -> object:
    """A JSON value in which one object somewhere names a member twice."""
    value = draw(json_values)
    holder = draw(st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=3))
    key = draw(st.sampled_from(sorted(holder)))
    repeated = Members([*holder.items(), (key, draw(json_values))])
    return [value, repeated] if draw(st.booleans()) else {"x": repeated, "y": value}


@fuzz(50)
@given(with_repeated_name())
def test_a_repeated_member_name_is_refused_anywhere(value: object) -> None:
    result = read(dump(value).encode())
    assert isinstance(result, MalformedInputError) and "duplicate member name" in str(result)


@fuzz(50)
@given(st.integers(1, 3 * MAX_DEPTH), st.lists(st.sampled_from(["[", '{"k":', '{"[":', "[1,", '["]",']), min_size=1, max_size=4), st.booleans())
def test_nesting_is_refused_beyond_64_exactly(depth: int, openers: list[str], bracket_strings: bool) -> None:
    """Spec §0: arrays and objects nest at most 64 deep, whatever they hold."""
    closers = {"[": "]", '{"k":': "}", '{"[":': "}", "[1,": "]", '["]",': "]"}
    chosen = [openers[i % len(openers)] for i in range(depth)]
    leaf = '"[[[{{{"' if bracket_strings else "0"
    text = "".join(chosen) + leaf + "".join(closers[o] for o in reversed(chosen))
    result = read(text)
    if depth <= MAX_DEPTH:
        assert not isinstance(result, MalformedInputError), str(result)
    else:
        assert isinstance(result, MalformedInputError) and f"nest {depth} deep" in str(result) and "§0" in str(result)


@fuzz(50)
@given(st.integers(1, 4000), st.sampled_from(["", "-"]), st.sampled_from(["", ".0", ".5", "e0", "e-17", "e400", "e-400", "E+99999"]))
def test_long_numbers(digits: int, sign: str, tail: str) -> None:
    """Integer tokens beyond ±(2^53−1), doubles that overflow and doubles JCS writes as such
    integer tokens are refused (spec §0); other numbers read as the nearest double."""
    token = sign + "9" * digits + tail
    result = read(f'{{"n": {token}}}')
    if tail == "":
        assert isinstance(result, MalformedInputError) == (digits > 15), str(result)
        return
    value = float(token)
    if not math.isfinite(value) or MAX_SAFE_INTEGER < abs(value) < 1e21:
        assert isinstance(result, MalformedInputError), token
    else:
        assert result == {"n": value}


@fuzz(25)
@given(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2))
def test_nested_values_from_the_mutators(depth: int) -> None:
    result = read(dump(nested(depth)))
    assert isinstance(result, MalformedInputError) == (depth > MAX_DEPTH)
