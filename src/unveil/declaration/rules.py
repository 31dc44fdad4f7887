"""Every spec §2 / §10 rule of a declaration, each problem placed in its file (spec §2, §10).

Shared by every format: a format module reads its file into a :class:`~.sites.Found`, and
:func:`check` checks field sets and types (a first error stops), then collects every rule
problem (site ids, kinds, points, the territory, items, units, quantities and serials,
duplicates across the file) and raises them as one :class:`MalformedInputError` listing up to
:data:`MAX_LISTED`; last, the declaration is cut into cells and each cell content checked as a
verifier checks an opening.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from unveil.core.content import DeclarationIndex, GridRules, content_problems
from unveil.core.reasons import Reason
from unveil.core.vocabulary import V1
from unveil.declaration.model import Declaration, item_key
from unveil.declaration.sites import POINT, Found, check_fields
from unveil.errors import Location, MalformedInputError
from unveil.textformats.coordinates import Contains, Hint
from unveil.textformats.numbers import inexact

MAX_LISTED = 20

_SITE_REASONS: dict[str, str] = {Reason.SITE_ID_INVALID: "id", Reason.KIND_UNKNOWN: "kind", Reason.FIELD_EMPTY: "name"}
_ITEM_REASONS: dict[str, str] = {
    Reason.CATEGORY_UNKNOWN: "category", Reason.UNIT_MISMATCH: "unit", Reason.FIELD_EMPTY: "type", Reason.QUANTITY_INVALID: "quantity",
    Reason.SERIALS_MISMATCH: "serials", Reason.SERIAL_INVALID: "serials", Reason.SERIALS_ORDER: "serials",
}


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[Location | str, str]] = []

    def add(self, where: Location | str, message: str) -> None:
        self.found.append((where, message))

    def raise_any(self, source: str) -> None:
        if len(self.found) == 1:
            where, message = self.found[0]
            raise MalformedInputError(message, source=source, where=where)
        if self.found:
            lines = [f"{len(self.found)} problems:"] + [f"  {w}: {m}" for w, m in self.found[:MAX_LISTED]]
            if len(self.found) > MAX_LISTED:
                lines.append(f"  … and {len(self.found) - MAX_LISTED} more")
            raise MalformedInputError("\n".join(lines), source=source)


def check(found: Found, *, source: str, contains: Contains | None, hint: Hint | None, resolution: int | None) -> Declaration:
    """The declaration ``found`` holds, once every rule holds; else MalformedInputError naming
    ``source`` and the place of each problem."""
    try:
        check_fields(found)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    problems = _Problems()
    locate = found.locate
    first_site: dict[str, int] = {}
    first_serial: dict[str, tuple[int, int]] = {}
    for i, site in enumerate(found.sites):
        _check_site(found, i, site, problems, contains, hint)
        first = first_site.setdefault(site["id"], i)
        if first != i:
            problems.add(locate(i, None, "id"), f"site id {site['id']!r} is also declared at {locate(first, None, 'id')}")
        first_item: dict[tuple[str, str], int] = {}
        for j, item in enumerate(site["items"]):
            _check_item(found, i, j, site, item, problems)
            other = first_item.setdefault(item_key(item), j)
            if other != j:
                key = "category " + repr(item["category"]) + (f" type {item['type']!r}" if "type" in item else "")
                problems.add(locate(i, j, "category"),
                             f"site {site['id']!r} declares {key} twice: also at {locate(i, other, 'category')}")
            for serial in sorted(set(item.get("serials", ()))):
                owner = first_serial.setdefault(serial, (i, j))
                if owner != (i, j):
                    problems.add(locate(i, j, "serials"), f"serial {serial!r} is also declared at {locate(*owner, 'serials')}")
    problems.raise_any(source)
    decl = Declaration.of(found.sites, copy=False)  # the reader's own objects, never shared
    _check_contents(decl, resolution, problems)
    problems.raise_any(source)
    return decl


def _check_site(found: Found, i: int, site: dict[str, Any], problems: _Problems, contains: Contains | None, hint: Hint | None) -> None:
    bare = {k: v for k, v in site.items() if k != "items"} | {"items": []}
    placed = True
    for reason, detail in content_problems({"cell": "", "sites": [bare]}, "", GridRules("h3"), V1):
        if reason.startswith("coordinates-"):
            placed = False
            name = "lat" if "lat" not in site or not -90 <= site["lat"] <= 90 else "lon"
            if reason == Reason.COORDINATES_OUT_OF_RANGE:
                detail += _hint_text(hint, site)
            problems.add(found.locate(i, None, name), detail)
        else:
            field_name = _SITE_REASONS.get(reason)
            problems.add(found.locate(i, None, *((field_name,) if field_name else ())), detail)
    if placed and contains is not None and not contains(site["lon"], site["lat"]):
        problems.add(found.locate(i, None, POINT),
                     f"site {site['id']!r}: point (lat {site['lat']}, lon {site['lon']}) is outside the territory" + _hint_text(hint, site))


def _hint_text(hint: Hint | None, site: dict[str, Any]) -> str:
    text = hint(site["lon"], site["lat"]) if hint is not None else None
    return f"; {text}" if text else ""


def _check_item(found: Found, i: int, j: int, site: dict[str, Any], item: dict[str, Any], problems: _Problems) -> None:
    ordered = dict(item)
    if "serials" in item:
        ordered["serials"] = sorted(item["serials"])
    lone = {"id": site["id"], "kind": "other", "items": [ordered]}  # list grid: item rules only
    for reason, detail in content_problems({"cell": "", "sites": [lone]}, "", GridRules("list"), V1):
        if reason not in _ITEM_REASONS:
            continue
        if reason == Reason.SERIALS_ORDER:  # serials were sorted, so this is a repeat
            serials = ordered["serials"]
            repeated = next(a for a, b in pairwise(serials) if a == b)
            detail = f"site {site['id']!r}: serial {repeated!r} is listed twice in one item"
        problems.add(found.locate(i, j, _ITEM_REASONS[reason]), detail)
    written = found.written.text(item["quantity"])
    if written is not None:
        problems.add(found.locate(i, j, "quantity"), inexact("quantity", written, item["quantity"]))


def _check_contents(decl: Declaration, resolution: int | None, problems: _Problems) -> None:
    """The declaration cut into cells and checked as a verifier checks an opening (spec §2)."""
    if resolution is None:
        contents = {"": {"cell": "", "sites": list(decl.sites)}}
        grid = GridRules("h3")
    else:
        contents = {cell: {"cell": cell, "sites": sites} for cell, sites in decl.cells(resolution).items()}
        grid = GridRules("h3", resolution)
    index = DeclarationIndex()
    for cell, content in contents.items():
        for reason, detail in content_problems(content, cell, grid, V1) + index.add(content):
            problems.add(f"cell {cell}" if cell else "declaration", f"{reason}: {detail}")
