"""Numbers written in text cells (a CSV column), read by the JSON number grammar (spec §0,
RFC 8259 §6), so a number reads the same whichever format it was written in."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.jsonparse import float_problem
from unveil.core.quantities import exact
from unveil.errors import Location, MalformedInputError

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # RFC 8259 §6
INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def inexact(what: str, text: str, value: float) -> str:
    """The message for a number written as ``text`` that no double holds exactly (spec §0
    "Exact sums": what is committed must be what was written)."""
    return f"{what} {text} has no exact JSON number form (it would be committed as {exact(value)})"


def text_number(text: str, where: str | Location, what: str, *, exact_form: bool = False) -> int | float:
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
        value = int(text) if len(text) <= 17 else None  # int() refuses 4300+ digits; 2^53−1 has 16
        if value is None or abs(value) > MAX_SAFE_INTEGER:
            raise MalformedInputError(f"{what} {text[:24]}{'…' if len(text) > 24 else ''} is outside ±(2^53−1)", where=where)
        return value
    number = float(text)
    if not math.isfinite(number):
        raise MalformedInputError(f"{what} {text[:24]} is not finite as a JSON number", where=where)
    problem = float_problem(number)
    if problem is not None:  # spec §0: its JCS form would not read back
        raise MalformedInputError(f"{what} {text[:24]} {problem}", where=where)
    if exact_form and exact(number) != Decimal(text):
        raise MalformedInputError(inexact(what, text, number), where=where)
    return number
