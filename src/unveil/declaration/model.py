"""The declaration model: every site the host declares, before it is cut into cells (spec §2).

A :class:`Declaration` holds spec §2 site objects exactly (``id``, ``kind``, optional ``name``,
``lat``, ``lon``, ``items``, optional ``ext``), in the order §2 prescribes: sites by id, items by
(category, type or ``""``), serials ascending. Python compares strings by code point, which for
strings without lone surrogates (readers reject those, spec §0) is the order of their UTF-8
bytes, so plain ``sorted`` gives the spec's order.

The model does not validate: :func:`unveil.declaration.readers.read_declaration` does, and is
the way to obtain a declaration from a file. The cell of a site is never stored: it is computed
from the site's point at the escrow's resolution (:meth:`Declaration.contents`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

from unveil.core.content import point_cell
from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.quantities import exact, exact_sum
from unveil.core.vocabulary import V1, Vocabulary
from unveil.errors import MalformedInputError

Site = dict[str, Any]


def item_key(item: Mapping[str, Any]) -> tuple[str, str]:
    """The pair items are ordered and told apart by (spec §2): (category, type or ``""``)."""
    return (item["category"], item.get("type", ""))


def copied(value: Any) -> Any:
    """A deep copy of a JSON value (objects and arrays copied, scalars shared), several times
    faster than ``copy.deepcopy``, whose memo this tree-shaped data does not need."""
    if type(value) is dict:
        return {k: copied(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if type(value) is list:
        return [copied(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = (dict, list)


def normalized(site: Mapping[str, Any], *, copy: bool = True) -> Site:
    """``site`` with items in §2 order and each item's serials ascending: a deep copy, or with
    ``copy=False`` the same objects reordered in place (for a caller that owns them)."""
    out: Site = copied(dict(site)) if copy else dict(site)
    items = list(out["items"])
    for item in items:
        if "serials" in item:
            item["serials"] = sorted(item["serials"])
    out["items"] = sorted(items, key=item_key)
    return out


def json_number(value: Decimal, what: str = "total") -> int | float:
    """The JSON number whose exact decimal (spec §0) is ``value``.

    An integral value becomes an ``int`` (it must lie within ±(2^53−1)); any other value becomes
    the ``float`` whose shortest round-trip form (its JCS form) is exactly ``value``, so
    ``0.1 + 0.2`` gives ``0.3``. A value no double writes exactly (say 17 significant digits
    that do not round-trip) is refused with :class:`MalformedInputError`: committing the nearest
    double would commit a different number than the sum.
    """
    if value == value.to_integral_value():
        whole = int(value)
        if abs(whole) > MAX_SAFE_INTEGER:
            raise MalformedInputError(f"{what} {value} is outside ±(2^53−1)")
        return whole
    near = float(value)
    if not math.isfinite(near) or exact(near) != value:
        raise MalformedInputError(f"{what} {value} has no exact JSON number form")
    return near


@dataclass(frozen=True)
class Declaration:
    """Every declared site, as spec §2 site objects in §2 order (see the module docstring).

    Equality compares the sites; treat the site dicts as read-only (methods return copies).
    """

    sites: tuple[Site, ...]

    @classmethod
    def of(cls, sites: Iterable[Mapping[str, Any]], *, copy: bool = True) -> Declaration:
        """Sites put in §2 order; no validation — readers validate.

        The sites are deep-copied unless ``copy=False``, which takes ownership of them.
        """
        ordered = (normalized(site, copy=copy) for site in sites)
        return cls(tuple(sorted(ordered, key=lambda site: site["id"])))

    def cells(self, resolution: int) -> dict[str, list[Site]]:
        """Cell id → the declaration's own site objects in it (not copies; see :meth:`contents`)."""
        by_cell: dict[str, list[Site]] = {}
        for site in self.sites:
            by_cell.setdefault(point_cell(site["lat"], site["lon"], resolution), []).append(site)
        return {cell: by_cell[cell] for cell in sorted(by_cell)}

    def contents(self, resolution: int) -> dict[str, dict[str, Any]]:
        """Cell id → content object ``{"cell", "sites"}`` (spec §2) for every non-empty cell.

        Each site goes to the H3 cell of its point at ``resolution`` (``latLngToCell``), so the
        §2 rule "the point's cell equals ``cell``" holds by construction. Cells come in
        ascending order; sites keep §2 order. The objects are fresh copies.
        """
        return {cell: {"cell": cell, "sites": copied(sites)} for cell, sites in self.cells(resolution).items()}

    def totals(
        self, categories: Iterable[str] | None = None, *, vocabulary: Vocabulary = V1
    ) -> dict[str, dict[str, Any]]:
        """A spec §4 totals object: category → ``{"quantity", "unit"}``, exact decimal sums.

        ``categories`` defaults to every category declared; a category without items totals 0.
        Quantities are summed as exact decimals (spec §0) over every item of the category,
        whatever its type, and written by :func:`json_number` (an ``int`` when integral).
        Raises :class:`MalformedInputError` for a category whose unit is unknown.
        """
        names = sorted(set(categories) if categories is not None else {i["category"] for s in self.sites for i in s["items"]})
        totals: dict[str, dict[str, Any]] = {}
        for category in names:
            items = [item for site in self.sites for item in site["items"] if item["category"] == category]
            units = {item["unit"] for item in items}
            unit = vocabulary.unit_for(category)
            if unit is None and len(units) == 1:
                unit = units.pop()
            if unit is None or units - {unit}:
                raise MalformedInputError(f"category {category!r} has no single unit in {vocabulary.name}", where="totals")
            quantity = json_number(exact_sum(item["quantity"] for item in items), f"total of {category!r}")
            totals[category] = {"quantity": quantity, "unit": unit}
        return totals
