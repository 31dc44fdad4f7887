"""JCS (spec §0): the fast path gives exactly the bytes of the rfc8785 library."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.core.jcs import canonicalize, canonicalize_reference
from unveil.errors import CanonicalizationError

SAFE = 2**53 - 1
ascii_keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-SAFE, SAFE), any_text)
common_shapes = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ascii_keys, inner, max_size=4)),
    max_leaves=25,
)
floats = st.floats(allow_nan=False, allow_infinity=False)
with_floats = st.recursive(
    st.one_of(scalars, floats),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=600)
@given(common_shapes)
def test_fast_path_equals_rfc8785(value: object) -> None:
    assert canonicalize(value) == canonicalize_reference(value)


@settings(max_examples=300)
@given(with_floats)
def test_floats_and_non_ascii_keys_equal_rfc8785(value: object) -> None:
    assert canonicalize(value) == canonicalize_reference(value)


def test_known_bytes() -> None:
    content = {"sites": [], "cell": "86302d037ffffff"}
    assert canonicalize(content) == b'{"cell":"86302d037ffffff","sites":[]}'
    assert canonicalize({"b": "\u00e9\n\x01\x7f", "a": 41.5, "c": 1e21, "d": 1e-7}) == (
        '{"a":41.5,"b":"\u00e9\\n\\u0001\x7f","c":1e+21,"d":1e-7}'.encode()
    )
    # RFC 8785 sorts keys by UTF-16 code units: U+1F600 (surrogates D83D DE00) sorts before
    # U+E000 there, though code-point order would put it after.
    assert canonicalize({"\ue000": 2, "\U0001f600": 1}) == '{"\U0001f600":1,"\ue000":2}'.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\ud800", 2**53, {"k": [2**60]}])
def test_values_without_a_jcs_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)
