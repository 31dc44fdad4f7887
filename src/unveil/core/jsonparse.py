"""Strict I-JSON reading (spec §0, RFC 7493).

Rejects what RFC 8259 parsers often let through and what would let two implementations
disagree about bytes: duplicate member names, invalid UTF-8, a byte order mark, lone
surrogates, non-finite numbers (NaN, Infinity, ``1e400``) and integer tokens outside
[−(2^53−1), 2^53−1]. The last rule is this project's most secure reading of §0 and I-JSON:
such integers have no exact JCS form (RFC 8785 §3.2.2.3), so they are refused everywhere, and
so are doubles that JCS would write as one (``1e16`` is written ``10000000000000000``): every
value read has a JCS form that reads back (:func:`float_problem`).

Exact decimals (spec §0 "Exact sums"): a reader that takes quantities as the decimal they are
written as passes a :class:`Written` to :func:`loads`, which notes every number token whose
double is not exactly that decimal (``1e-400``, ``0.1000000000000000055511151231257827``).

Nesting (spec §0): a document whose arrays and objects nest more than :data:`MAX_DEPTH` deep
is refused before it is parsed, by :func:`nesting_depth`, a scan of the bytes that uses no
recursion, so every reader in every process accepts and rejects the same documents whatever
its stack (a parser's recursion limit is not a format rule).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.quantities import exact
from unveil.errors import Location, MalformedInputError

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


MAX_DEPTH = 64
"""Arrays and objects nest at most this deep (spec §0): ``[[]]`` nests 2 deep."""

_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')
_STRING_LEFT = re.compile(rb'"[^"]*"')
_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def nesting_depth(data: bytes) -> int:
    """How deep the arrays and objects of the JSON text ``data`` nest (0 for a scalar).

    Exact for every text a JSON parser accepts (brackets inside strings do not count); on
    other texts it is some number, and the parser refuses them anyway. Linear, no recursion:
    escaped backslashes and quotes are dropped, then everything but quotes and brackets, then
    every string (only brackets can remain inside one), and the depth is the largest prefix
    sum of +1 per opening and -1 per closing bracket.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Quotes alternate open/close; removing '""' drops an empty string or joins two adjacent
    # strings (nothing structural lies between them), so the rest still alternates.
    skeleton = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = _STRING_LEFT.sub(b"", skeleton)
    if not skeleton:
        return 0
    return int(np.cumsum(_STEP[np.frombuffer(skeleton, np.uint8)], dtype=np.int64).max(initial=0))


def check_nesting(data: bytes | str, *, source: str | None = None) -> None:
    """:class:`MalformedInputError` if ``data`` nests deeper than :data:`MAX_DEPTH` (spec §0)."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if len(raw) < 4096 and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return  # cannot nest deeper than it has brackets
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise MalformedInputError(f"arrays and objects nest {depth} deep; at most {MAX_DEPTH} are allowed (spec §0)", source=source)


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


def float_problem(value: float) -> str | None:
    """Why a reader refuses the double ``value`` (spec §0), or ``None``: it is not finite, or
    its magnitude lies in (2^53−1, 10^21), where JCS writes it as an integer token beyond
    ±(2^53−1) (RFC 8785 §3.2.2.3), which readers refuse, so its JCS form could not be read back."""
    if not math.isfinite(value):
        return "is not finite"
    if MAX_SAFE_INTEGER < abs(value) < 1e21:
        return "is an integer beyond ±(2^53−1) once written in JCS form"
    return None


def _float(token: str) -> float:
    value = float(token)
    problem = float_problem(value)
    if problem is not None:
        raise _Reject(f"number {token[:24]} {problem}")
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


class Written:
    """The written text of every fractional or exponent number token whose double is not
    exactly the decimal written (spec §0 "Exact sums"), looked up by the float that was read.

    ``0.1`` reads as a double whose JCS form is ``0.1``: nothing is noted. ``1e-400`` reads as
    ``0.0`` and is noted, so a reader can refuse a quantity whose committed form would be
    another number than the one written. Floats are held, so their identity stays unique.
    """

    def __init__(self) -> None:
        self._texts: dict[int, tuple[float, str]] = {}

    def note(self, text: str, value: float) -> float:
        """Record ``text`` for ``value`` if the double is not that decimal; return ``value``."""
        if repr(value) != text and exact(value) != Decimal(text):
            self._texts[id(value)] = (value, text)
        return value

    def text(self, value: Any) -> str | None:
        """The written text of ``value`` (a float read into this table) if its double is not it."""
        entry = self._texts.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else None

    def __len__(self) -> int:
        return len(self._texts)


def _decoder(written: Written) -> json.JSONDecoder:
    def parse_float(token: str) -> float:
        return written.note(token, _float(token))

    return json.JSONDecoder(object_pairs_hook=_object, parse_float=parse_float, parse_int=_int, parse_constant=_constant)


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


def loads(data: bytes | str, *, source: str | None = None, written: Written | None = None) -> Any:
    """Parse one I-JSON text strictly; raise :class:`MalformedInputError` naming the place.

    With ``written``, every number token whose double is not exactly its written decimal is
    noted there (see :class:`Written`).
    """
    check_nesting(data, source=source)
    text = decode_utf8(data, source=source) if isinstance(data, bytes) else data
    try:
        value = (_DECODER if written is None else _decoder(written)).decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedInputError(exc.msg, source=source, where=Location(line=exc.lineno, column=exc.colno)) from None
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
