"""Shared pieces of the input-file readers (declarations, intelligence): which format a file
is in, and strict numbers in text cells (the JSON number grammar, spec §0)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.quantities import exact
from unveil.errors import MalformedInputError

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # RFC 8259 §6


def format_of(source: str, extensions: Mapping[str, str]) -> str:
    """The format a file name's extension names, or MalformedInputError listing the known ones."""
    lowered = source.lower()
    for extension, fmt in extensions.items():
        if lowered.endswith(extension):
            return fmt
    raise MalformedInputError(
        f"cannot tell the format from the file name; use one of {', '.join(sorted(extensions))}", source=source
    )


def text_number(text: str, where: str, what: str, *, exact_form: bool = False) -> int | float:
    """A number written in a text cell: JSON number grammar only (no spaces, hex, NaN,
    Infinity), integers within ±(2^53−1), finite floats; with ``exact_form``, only values whose
    JCS form is exactly the written decimal (so what is committed is what was written)."""
    if text == "":
        raise MalformedInputError(f"{what} is required", where=where)
    match = NUMBER.fullmatch(text)
    if match is None:
        raise MalformedInputError(
            f"{what} {text!r} is not a number (write a decimal such as 41.5: no spaces, hex, NaN or Infinity)", where=where)
    if match[1] is None and match[2] is None:
        value = int(text)
        if abs(value) > MAX_SAFE_INTEGER:
            raise MalformedInputError(f"{what} {text} is outside ±(2^53−1)", where=where)
        return value
    number = float(text)
    if not math.isfinite(number):
        raise MalformedInputError(f"{what} {text} is not finite as a JSON number", where=where)
    if exact_form and exact(number) != Decimal(text):
        raise MalformedInputError(
            f"{what} {text} has no exact JSON number form (it would be committed as {exact(number)})", where=where)
    return number
