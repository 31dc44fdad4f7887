"""Balance and flows files (spec §13): measured begin and end inventories, receipts and
shipments by period and category, each with a random and a systematic σ (kg).

:func:`read_balance` checks the file (periods in time order, no repeated row) and returns the
rows; :func:`category_inputs` groups them into what :mod:`unveil.material.accountancy`
evaluates: per category, the periods in order and each period's measurements by kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from unveil.errors import Location, MalformedInputError
from unveil.material.csvfile import Row, read_rows

COLUMNS = ("period", "category", "kind", "quantity", "sigma_random", "sigma_systematic")
KINDS = ("begin", "receipt", "shipment", "end")
MEASUREMENT_KIND = {"begin": "inventory", "end": "inventory", "receipt": "receipt", "shipment": "shipment"}
"""Systematic errors are fully correlated within a measurement kind: a physical inventory at
the start of a period is taken as the one at the end, by the same system."""
MAX_PERIODS = 1000
"""The most periods a category may have: its MUF covariance is periods × periods."""
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,15})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Measured:
    """One row: ``quantity`` (kg) ± ``sigma_random`` ± ``sigma_systematic``; ``line`` in its
    file (0: not from a file, e.g. a workspace's declared inventory)."""

    period: str
    category: str
    kind: str
    quantity: float
    sigma_random: float
    sigma_systematic: float
    line: int = 0
    source: str = ""


def read_balance(data: bytes, *, source: str, kinds: Iterable[str] = KINDS, blank_sigma: bool = False) -> list[Measured]:
    """The rows of a balance file (or, with ``kinds`` = receipt and shipment and ``blank_sigma``,
    a flows file, whose empty σ cells read as NaN for the caller to fill in)."""
    allowed = tuple(kinds)
    found: list[Measured] = []
    seen: dict[tuple[str, str, str], int] = {}
    order: list[str] = []
    first_line: dict[str, int] = {}
    blank = float("nan") if blank_sigma else None
    for row in read_rows(data, source=source, columns=COLUMNS):
        try:
            found.append(_measured(row, allowed, blank, seen, order, first_line, source))
        except MalformedInputError as exc:
            raise exc.within(source) from None
    _check_order(order, first_line, source)
    return found


def _measured(row: Row, allowed: tuple[str, ...], blank: float | None, seen: dict[tuple[str, str, str], int],
              order: list[str], first_line: dict[str, int], source: str) -> Measured:
    period, category = row.ident("period"), row.ident("category")
    kind = row.cells["kind"]
    if kind not in allowed:
        raise MalformedInputError(f"kind {kind[:40]!r} is not one of {', '.join(allowed)}", where=row.at("kind"))
    if order and order[-1] != period:
        if period in first_line:
            raise MalformedInputError(
                f"period {period} appears again after period {order[-1]} (first on line {first_line[period]}): list each "
                "period's rows together, in time order", where=row.at("period"))
        order.append(period)
        first_line[period] = row.line
    elif not order:
        order.append(period)
        first_line[period] = row.line
    key = (period, category, kind)
    if key in seen:
        raise MalformedInputError(f"period {period}, category {category}: a second {kind} row (first on line {seen[key]})",
                                  where=row.at("kind"))
    seen[key] = row.line
    return Measured(period, category, kind, row.number("quantity"), row.number("sigma_random", blank=blank),
                    row.number("sigma_systematic", blank=blank), row.line, source)


def _check_order(order: list[str], first_line: dict[str, int], source: str) -> None:
    """Integer labels, or date labels, must strictly increase (time order)."""
    from unveil.textformats.text import csv_cell

    if all(_INTEGER.fullmatch(p) for p in order):
        keys: list[int | str] = [int(p) for p in order]
    elif all(_DATE.fullmatch(p) for p in order):
        keys = list(order)
    else:
        return
    for before, after, label in zip(keys, keys[1:], order[1:], strict=False):
        if not before < after:  # type: ignore[operator]  # both ints or both strings
            raise MalformedInputError(f"period {label} comes after period {before}: periods must be in time order",
                                      source=source, where=csv_cell(first_line[label], "period"))


@dataclass(frozen=True, slots=True)
class CategoryInput:
    """A category's periods in time order, and each period's rows by kind."""

    category: str
    periods: tuple[str, ...]
    rows: tuple[dict[str, Measured], ...]


def category_inputs(rows: Iterable[Measured]) -> list[CategoryInput]:
    """The rows grouped by category (sorted), periods in the order the rows give them. A
    category's periods are a run of consecutive periods of the file: one that skips a period
    between two of its own is refused (its balance would span the gap unseen)."""
    listed = list(rows)
    order: dict[str, int] = {}
    for m in listed:
        order.setdefault(m.period, len(order))
    by_category: dict[str, dict[str, dict[str, Measured]]] = {}
    for m in listed:
        by_category.setdefault(m.category, {}).setdefault(m.period, {})[m.kind] = m
    found = []
    for category in sorted(by_category):
        periods = by_category[category]
        if len(periods) > MAX_PERIODS:
            raise MalformedInputError(f"category {category} has {len(periods)} periods, over the limit of {MAX_PERIODS}")
        positions = [order[p] for p in periods]
        for before, after in zip(positions, positions[1:], strict=False):
            if after != before + 1:
                skipped = next(p for p, i in order.items() if i == before + 1)
                first = next(iter(periods[list(periods)[positions.index(after)]].values()))
                raise MalformedInputError(
                    f"category {category} has no rows in period {skipped}, between two of its periods: give that period's "
                    "rows (an empty period is receipt and shipment 0, its begin and end the inventories around it)",
                    source=first.source or None, where=Location(line=first.line, label="column", path=("period",)) if first.line else None)
        found.append(CategoryInput(category, tuple(periods), tuple(periods.values())))
    return found
