"""JCS: RFC 8785 JSON Canonicalization Scheme (spec §0).

:func:`canonicalize` is the one entry point. Values made only of ASCII-keyed objects,
arrays, strings, booleans, null and integers within ±(2^53−1) take a fast path through
the C JSON encoder, whose output for exactly those shapes is byte-identical to RFC 8785
(sorted ASCII keys, minimal escapes with lowercase ``\\u00xx``, integers in decimal).
Everything else — any float, a non-ASCII key, an out-of-range integer — goes through the
``rfc8785`` library, so number formatting is never hand-written here.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from unveil.core.encoding import MAX_SAFE_INTEGER

_FAST = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


class CanonicalizationError(ValueError):
    """The value has no JCS form (a lone surrogate, a non-finite or out-of-range number)."""


def _fast_shape(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _fast_shape(item):
                return False
        return True
    if kind is list:
        for item in value:
            if not _fast_shape(item):
                return False
        return True
    return False


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``; :class:`CanonicalizationError` if it has none."""
    if _fast_shape(value):
        try:
            return _FAST(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 produce the diagnostic below
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise CanonicalizationError(f"no JCS form: {exc}") from None


def canonicalize_reference(value: Any) -> bytes:
    """The ``rfc8785`` library alone: the reference the fast path is tested against."""
    return rfc8785.dumps(value)
