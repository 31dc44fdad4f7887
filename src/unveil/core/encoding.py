"""Byte-level conventions of spec §0: tags, hex, base64, ids, times, integers."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TypeGuard

MAX_SAFE_INTEGER = 2**53 - 1
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")  # ASCII digits only (\d is Unicode)


def tag(s: str) -> bytes:
    """``TAG(s)``: the ASCII bytes of ``s`` and one 0x00 byte (spec §0)."""
    return s.encode("ascii") + b"\x00"


def is_id(value: object) -> bool:
    """True if ``value`` is an id: 1 to 64 characters of ``[A-Za-z0-9._:-]`` (spec §0)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_hex32(value: object) -> bool:
    """True if ``value`` is 64 lowercase hex digits (a 32-byte hash, salt or root; spec §0)."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def hex32_packed(values: Sequence[str]) -> bytes | None:
    """The 32-byte values of ``values``, each 64 lowercase hex digits, decoded in one pass and
    concatenated; ``None`` if any is not such a string (uppercase included, spec §0)."""
    if not values:
        return b""
    if min(map(len, values)) != 64 or max(map(len, values)) != 64:
        return None
    joined = "".join(values)
    try:
        raw = bytes.fromhex(joined)
    except ValueError:
        return None
    if raw.hex() != joined:  # uppercase hex decodes too
        return None
    return raw


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(value: str) -> bytes:
    """Strict standard base64: padding required, non-canonical encodings rejected (spec §0)."""
    try:
        raw = value.encode("ascii")
        data = base64.b64decode(raw, validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError(f"not standard base64: {value[:80]!r}") from exc
    if base64.b64encode(data) != raw:
        raise ValueError(f"non-canonical base64: {value[:80]!r}")
    return data


def is_time(value: object) -> bool:
    """True for ``YYYY-MM-DDTHH:MM:SSZ`` naming a real UTC instant, seconds 00–59 (spec §0)."""
    return unix_time(value) is not None


def unix_time(value: object) -> int | None:
    """The unix seconds of a spec §0 time (see :func:`is_time`), or ``None`` if it is not one."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    if second > 59:
        return None
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:  # no such day, hour or minute
        return None
    return int(moment.timestamp())


def format_time(moment: datetime) -> str:
    """Render an aware datetime in the spec's time format (UTC, whole seconds)."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_integer_token(value: object) -> TypeGuard[int]:
    """True for a JSON integer within [−(2^53−1), 2^53−1]; booleans are never numbers (§0)."""
    return type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def uint64be(n: int) -> bytes:
    return struct.pack(">Q", n)
