"""Strict I-JSON reading (spec §0, RFC 7493).

Rejects what RFC 8259 parsers often let through and what would let two implementations
disagree about bytes: duplicate member names, invalid UTF-8, a byte order mark, lone
surrogates, non-finite numbers (NaN, Infinity, ``1e400``) and integer tokens outside
[−(2^53−1), 2^53−1]. The last rule is this project's most secure reading of §0 and I-JSON:
such integers have no exact JCS form (RFC 8785 §3.2.2.3), so they are refused everywhere.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.errors import MalformedInputError

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Reject(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Reject(f"duplicate member name {key!r}")
            seen.add(key)
    return result


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _Reject(f"number {token} is not finite")
    return value


def _int(token: str) -> int:
    if len(token) > 17:
        raise _Reject(f"integer {token[:24]}… is outside ±(2^53−1)")
    value = int(token)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise _Reject(f"integer {token} is outside ±(2^53−1)")


def _constant(token: str) -> Any:
    raise _Reject(f"{token} is not a JSON number (non-finite numbers are rejected)")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_float=_float, parse_int=_int, parse_constant=_constant
)


def _check_surrogates(value: Any, path: str = "$") -> None:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _Reject(f"lone surrogate in string at {path}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                raise _Reject(f"lone surrogate in member name at {path}")
            _check_surrogates(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_surrogates(item, f"{path}[{i}]")


def decode_utf8(data: bytes, *, source: str | None = None) -> str:
    """Decode strict UTF-8 without a byte order mark, naming the offending byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise MalformedInputError("starts with a UTF-8 byte order mark", source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(
            f"not UTF-8: invalid byte at offset {exc.start}", source=source
        ) from None


def loads(data: bytes | str, *, source: str | None = None) -> Any:
    """Parse one I-JSON text strictly; raise :class:`MalformedInputError` naming the place."""
    text = decode_utf8(data, source=source) if isinstance(data, bytes) else data
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedInputError(
            exc.msg, source=source, where=f"line {exc.lineno} column {exc.colno}"
        ) from None
    except _Reject as exc:
        raise MalformedInputError(str(exc), source=source) from None
    except (ValueError, RecursionError) as exc:
        raise MalformedInputError(f"cannot parse JSON: {exc}", source=source) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            _check_surrogates(value)
        except _Reject as exc:
            raise MalformedInputError(str(exc), source=source) from None
    return value
