"""Exact decimal arithmetic on quantities (spec §0 "Exact sums").

Each number is taken as the exact decimal it is written as in JCS, so ``0.1 + 0.2`` is
exactly ``0.3`` here, as it is on paper, and two implementations agree on every sum.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Iterable

from unveil.core.jcs import canonicalize

# Enough digits that adding any realistic number of finite doubles never rounds; any
# rounding that did happen would raise (Inexact is trapped), never pass silently.
_EXACT = decimal.Context(prec=5000, Emin=-999999, Emax=999999, traps=[decimal.Inexact, decimal.Overflow])


def exact(value: int | float) -> Decimal:
    """The exact decimal that ``value`` is written as in JCS."""
    if type(value) is int:
        return Decimal(value)
    return Decimal(canonicalize(value).decode("ascii"))


def exact_sum(values: Iterable[int | float | Decimal]) -> Decimal:
    """Exact decimal sum of quantities."""
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value if isinstance(value, Decimal) else exact(value))
    return total


def is_integral(value: int | float) -> bool:
    return type(value) is int or (isinstance(value, float) and value.is_integer())


def render(value: Decimal) -> str:
    """A decimal for people and JSON reports: no exponent for ordinary magnitudes."""
    text = format(value.normalize(), "f")
    return text
