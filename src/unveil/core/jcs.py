"""JCS: RFC 8785 JSON Canonicalization Scheme (spec §0).

:func:`canonicalize` is the one entry point. Every sub-value made only of ASCII-keyed
objects, arrays, strings, booleans, null, integers within ±(2^53−1) and floats whose Python
repr is already their RFC 8785 form (see :func:`_float_ok`) is encoded by the C JSON
encoder, whose output for exactly those shapes is byte-identical to RFC 8785 (sorted ASCII
keys, minimal escapes with lowercase ``\\u00xx``). Objects and arrays around anything else
are assembled here, keys in UTF-16 order; an array of strings with nothing to escape is
joined directly; and every other float (or out-of-range integer) is formatted by the
``rfc8785`` library. Hypothesis tests hold the result equal to ``rfc8785`` alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import chain
from typing import Any

import rfc8785

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.errors import CanonicalizationError


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _c_encoder() -> Callable[[Any], str] | None:
    """CPython's C encoder (private ``_json``, pinned by tests/test_private_apis.py), built once:
    ``JSONEncoder.encode`` would rebuild it on every call. None on other Pythons."""
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover
        return None
    encoder = make_encoder(None, _refuse, encode_basestring, None, ":", ",", True, False, False)

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_C = _c_encoder()
#: Sorted keys, minimal escapes: RFC 8785 for the shapes :func:`_fast_shape` admits.
_FAST: Callable[[Any], str] = _C or json.JSONEncoder(  # other Pythons: the documented encoder, slower
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


_SCALARS = frozenset({str, bool, type(None)})
_STR_ONLY = {str}
_JSON_TYPES = frozenset({str, bool, type(None), int, float, dict, list})


def _float_ok(value: float) -> bool:
    """True if Python's repr of ``value`` is already its RFC 8785 form.

    Both print the shortest round-trip digits; they differ only where Python writes an
    exponent (below 1e-4, from 1e16 on), a trailing ``.0``, or ``-0.0`` — all sent to rfc8785.
    """
    text = float.__repr__(value)
    return "e" not in text and not text.endswith(".0") and text not in ("nan", "inf", "-inf")


def _fast_shape(value: Any) -> bool:
    """True if every part of ``value`` can take the C encoder (see the module docstring).

    Walks the value level by level, so that each level's type checks, range checks and
    flattening run as a few C-level passes over all of its members at once.
    """
    frontier = [value]
    while frontier:
        types = set(map(type, frontier))
        if not types <= _JSON_TYPES:
            return False
        if int in types:
            ints = [x for x in frontier if type(x) is int]
            if min(ints) < -MAX_SAFE_INTEGER or max(ints) > MAX_SAFE_INTEGER:
                return False
        if float in types and not all(map(_float_ok, [x for x in frontier if type(x) is float])):
            return False
        below: list[Any] = []
        if dict in types:
            dicts = frontier if len(types) == 1 else [x for x in frontier if type(x) is dict]
            if not "".join(chain.from_iterable(dicts)).isascii():
                return False
            below.extend(chain.from_iterable(map(dict.values, dicts)))
        if list in types:
            lists = frontier if len(types) == 1 else [x for x in frontier if type(x) is list]
            below.extend(chain.from_iterable(lists))
        frontier = below
    return True


def _utf16_key(key: str) -> bytes:
    """RFC 8785 §3.2.3 sorts member names by their UTF-16 code units."""
    return key.encode("utf-16-be", "surrogatepass")


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _encode(value: Any) -> str:
    """JCS text. Objects are assembled member by member; each array goes to the C encoder
    whole when its shape allows, an array of plain strings (nothing to escape) is joined
    directly, and everything else is taken apart until it fits."""
    kind = type(value)
    if kind is dict:
        keys = sorted(value) if "".join(value).isascii() else sorted(value, key=_utf16_key)
        return "{" + ",".join([_FAST(k) + ":" + _encode(value[k]) for k in keys]) + "}"
    if kind is list:
        if value and set(map(type, value)) == _STR_ONLY:
            joined = '","'.join(value)
            return _FAST(value) if _NEEDS_ESCAPE.search(joined) else '["' + joined + '"]'
        if _fast_shape(value):
            return _FAST(value)
        return "[" + ",".join(map(_encode, value)) + "]"
    if _fast_shape(value):
        return _FAST(value)
    return rfc8785.dumps(value).decode("utf-8")  # floats and integers outside ±(2^53−1)


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``; :class:`CanonicalizationError` if it has none."""
    try:
        return _encode(value).encode("utf-8")
    except UnicodeEncodeError:
        pass  # a lone surrogate: let rfc8785 produce the diagnostic below
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise CanonicalizationError(f"no JCS form: {exc}") from None
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise CanonicalizationError(f"no JCS form: {exc}") from None


def canonicalize_reference(value: Any) -> bytes:
    """The ``rfc8785`` library alone: the reference the fast path is tested against."""
    return rfc8785.dumps(value)
