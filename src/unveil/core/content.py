"""Cell content (spec §2): its shape and the rules every reader checks.

``check_shape`` raises on input that cannot be read as cell content; ``content_problems``
returns every rule the content breaks as ``(reason, detail)`` pairs, so a verifier can report
them all. Rules that span cells (unique site ids and serials) are checked by the caller with
:class:`DeclarationIndex`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from unveil.core import shape
from unveil.core.encoding import is_id
from unveil.core.quantities import is_integral
from unveil.core.reasons import Reason
from unveil.core.vocabulary import Vocabulary

SITE_REQUIRED = ("id", "kind", "items")
SITE_OPTIONAL = ("name", "lat", "lon", "ext")
ITEM_REQUIRED = ("category", "quantity", "unit")
ITEM_OPTIONAL = ("type", "serials", "ext")
SUSPECT_REQUIRED = ("id", "kind", "lat", "lon", "radius_m", "confidence")


@dataclass(frozen=True)
class GridRules:
    """What §2 needs to know about the grid: ``system`` is ``h3`` or ``list``."""

    system: str
    resolution: int | None = None


def check_shape(content: Any, where: str) -> None:
    """Fields and JSON types of a content object (spec §2 tables); raises MalformedInputError."""
    shape.fields(content, where, ("cell", "sites"))
    shape.string(content, "cell", where)
    for s, site in enumerate(shape.array(content, "sites", where)):
        at = f"{where}.sites[{s}]"
        shape.fields(site, at, SITE_REQUIRED, SITE_OPTIONAL)
        shape.string(site, "id", at)
        shape.string(site, "kind", at)
        if "name" in site:
            shape.string(site, "name", at)
        for coordinate in ("lat", "lon"):
            if coordinate in site:
                shape.number(site, coordinate, at)
        if "ext" in site:
            shape.obj(site, "ext", at)
        for i, item in enumerate(shape.array(site, "items", at)):
            it = f"{at}.items[{i}]"
            shape.fields(item, it, ITEM_REQUIRED, ITEM_OPTIONAL)
            shape.string(item, "category", it)
            shape.number(item, "quantity", it)
            shape.string(item, "unit", it)
            if "type" in item:
                shape.string(item, "type", it)
            if "serials" in item:
                shape.strings(item, "serials", it)
            if "ext" in item:
                shape.obj(item, "ext", it)


def check_intel_shape(content: Any, where: str) -> None:
    """Fields and JSON types of intelligence content (spec §9)."""
    shape.fields(content, where, ("cell", "suspects"))
    shape.string(content, "cell", where)
    for s, suspect in enumerate(shape.array(content, "suspects", where)):
        at = f"{where}.suspects[{s}]"
        shape.fields(suspect, at, SUSPECT_REQUIRED, ("ext",))
        shape.string(suspect, "id", at)
        shape.string(suspect, "kind", at)
        for name in ("lat", "lon", "radius_m", "confidence"):
            shape.number(suspect, name, at)
        if "ext" in suspect:
            shape.obj(suspect, "ext", at)


def intel_problems(
    content: dict[str, Any], cell: str, grid: GridRules, vocabulary: Vocabulary | None
) -> list[tuple[Reason, str]]:
    """Every §9 rule broken inside one cell of an intelligence escrow."""
    problems: list[tuple[Reason, str]] = []
    if content["cell"] != cell:
        problems.append((Reason.CONTENT_CELL_MISMATCH, f"content.cell {content['cell']!r} is not the opened cell {cell!r}"))
    previous: str | None = None
    for suspect in content["suspects"]:
        label = f"suspect {suspect['id']!r}"
        if not is_id(suspect["id"]):
            problems.append((Reason.SUSPECT_ID_INVALID, f"{label}: not an id"))
        if previous is not None and not previous < suspect["id"]:
            problems.append((Reason.SUSPECT_ORDER, f"{label} follows {previous!r}: suspects must be strictly ascending by id"))
        previous = suspect["id"]
        if vocabulary is not None and suspect["kind"] not in vocabulary.kinds:
            problems.append((Reason.KIND_UNKNOWN, f"{label}: kind {suspect['kind']!r} is not in {vocabulary.name}"))
        if not suspect["radius_m"] > 0:
            problems.append((Reason.RADIUS_INVALID, f"{label}: radius_m {suspect['radius_m']} is not > 0"))
        if not 0 < suspect["confidence"] <= 1:
            problems.append((Reason.CONFIDENCE_INVALID, f"{label}: confidence {suspect['confidence']} is outside (0, 1]"))
        problems.extend(_location_problems(suspect, label, cell, grid))
    return problems


def point_cell(lat: float, lon: float, resolution: int) -> str:
    """The H3 v4 cell (``latLngToCell``) holding a point, as 15 lowercase hex digits."""
    import h3  # imported here: only h3 grids need it, and it slows CLI start-up

    return str(h3.latlng_to_cell(lat, lon, resolution))


def content_problems(
    content: dict[str, Any], cell: str, grid: GridRules, vocabulary: Vocabulary | None
) -> list[tuple[Reason, str]]:
    """Every §2 rule broken inside one cell's content (shape already checked)."""
    problems: list[tuple[Reason, str]] = []
    if content["cell"] != cell:
        problems.append((Reason.CONTENT_CELL_MISMATCH, f"content.cell {content['cell']!r} is not the opened cell {cell!r}"))
    sites = content["sites"]
    previous: str | None = None
    for site in sites:
        site_id = site["id"]
        label = f"site {site_id!r}"
        if not is_id(site_id):
            problems.append((Reason.SITE_ID_INVALID, f"{label}: not an id (1-64 of [A-Za-z0-9._:-])"))
        if previous is not None and not previous < site_id:
            problems.append((Reason.SITE_ORDER, f"{label} follows {previous!r}: sites must be strictly ascending by id"))
        previous = site_id
        if vocabulary is not None and site["kind"] not in vocabulary.kinds:
            problems.append((Reason.KIND_UNKNOWN, f"{label}: kind {site['kind']!r} is not in {vocabulary.name}"))
        if site.get("name") == "":
            problems.append((Reason.FIELD_EMPTY, f"{label}: name must be a non-empty string"))
        problems.extend(_location_problems(site, label, cell, grid))
        problems.extend(_item_problems(site["items"], label, vocabulary))
    return problems


def _location_problems(site: dict[str, Any], label: str, cell: str, grid: GridRules) -> list[tuple[Reason, str]]:
    has_lat, has_lon = "lat" in site, "lon" in site
    if not (has_lat and has_lon):
        if grid.system == "h3" or has_lat != has_lon:
            return [(Reason.COORDINATES_MISSING, f"{label}: lat and lon are required together" + (" on h3 grids" if grid.system == "h3" else ""))]
        return []
    lat, lon = site["lat"], site["lon"]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return [(Reason.COORDINATES_OUT_OF_RANGE, f"{label}: lat {lat} / lon {lon} outside [-90, 90] / [-180, 180]")]
    if grid.system == "h3" and grid.resolution is not None and 0 <= grid.resolution <= 15:  # else the escrow is invalid (§4)
        actual = point_cell(lat, lon, grid.resolution)
        if actual != cell:
            return [(Reason.SITE_OUTSIDE_CELL, f"{label}: point (lat {lat}, lon {lon}) lies in {actual}, not in {cell}")]
    return []


def _item_problems(items: list[dict[str, Any]], label: str, vocabulary: Vocabulary | None) -> list[tuple[Reason, str]]:
    problems: list[tuple[Reason, str]] = []
    previous: tuple[str, str] | None = None
    for item in items:
        category, unit, quantity = item["category"], item["unit"], item["quantity"]
        key = (category, item.get("type", ""))
        what = f"{label} item {category!r}" + (f" type {key[1]!r}" if key[1] else "")
        if previous is not None and not previous < key:
            problems.append((Reason.ITEM_ORDER, f"{what}: items must be strictly ascending by (category, type)"))
        previous = key
        if vocabulary is not None:
            expected = vocabulary.unit_for(category)
            if expected is None:
                problems.append((Reason.CATEGORY_UNKNOWN, f"{what}: category not in {vocabulary.name}"))
            elif unit != expected:
                problems.append((Reason.UNIT_MISMATCH, f"{what}: unit {unit!r}, the vocabulary's unit is {expected!r}"))
        if item.get("type") == "":
            problems.append((Reason.FIELD_EMPTY, f"{what}: type must be a non-empty string"))
        if quantity < 0:
            problems.append((Reason.QUANTITY_INVALID, f"{what}: quantity {quantity} is negative"))
        elif unit == "count" and not is_integral(quantity):
            problems.append((Reason.QUANTITY_INVALID, f"{what}: quantity {quantity} is not a whole count"))
        if "serials" in item:
            problems.extend(_serial_problems(item["serials"], quantity, unit, what))
    return problems


def _serial_problems(serials: list[str], quantity: int | float, unit: str, what: str) -> list[tuple[Reason, str]]:
    problems: list[tuple[Reason, str]] = []
    if unit != "count":
        problems.append((Reason.SERIALS_MISMATCH, f"{what}: serials are allowed only for count items"))
    elif len(serials) != quantity:
        problems.append((Reason.SERIALS_MISMATCH, f"{what}: {len(serials)} serials for quantity {quantity}"))
    bad = [s for s in serials if not is_id(s)]
    if bad:
        problems.append((Reason.SERIAL_INVALID, f"{what}: serial {bad[0][:80]!r} is not an id"))
    if any(not a < b for a, b in pairwise(serials)):
        problems.append((Reason.SERIALS_ORDER, f"{what}: serials must be strictly ascending"))
    return problems


@dataclass
class DeclarationIndex:
    """Site ids (and suspect ids) and serials seen so far, for uniqueness across a declaration
    (spec §2, §9) and across every phase of an escrow (spec §5 "One declaration across phases").

    Each id keeps the cell, and the phase when one is given, that declared it first. Opening the
    same cell again (a later phase) is not a duplicate: owners are keyed by cell.
    """

    sites: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> (cell, phase)
    serials: dict[str, tuple[tuple[str, str, str, str], str | None]] = field(default_factory=dict)  # -> (owner, phase)

    def add(self, content: dict[str, Any], phase: str | None = None) -> list[tuple[Reason, str]]:
        """Record one opened cell's sites (or suspects); return the duplicates it introduces."""
        return self._scan(content, phase, record=True)

    def conflicts(self, content: dict[str, Any]) -> list[tuple[Reason, str]]:
        """The ids of one opened cell that this index holds from another cell; records nothing."""
        return self._scan(content, None, record=False)

    def _scan(self, content: dict[str, Any], phase: str | None, *, record: bool) -> list[tuple[Reason, str]]:
        problems: list[tuple[Reason, str]] = []
        cell = content["cell"]
        sites, serials = self.sites, self.serials
        for suspect in content.get("suspects", ()):
            first = sites.setdefault(suspect["id"], (cell, phase)) if record else sites.get(suspect["id"], (cell, phase))
            if first[0] != cell:
                problems.append((Reason.SUSPECT_ID_DUPLICATE, f"suspect {suspect['id']!r} is in cell {first[0]}{_in(first[1])} and in cell {cell}"))
        for site in content.get("sites", ()):
            site_id = site["id"]
            first = sites.setdefault(site_id, (cell, phase)) if record else sites.get(site_id, (cell, phase))
            if first[0] != cell:
                problems.append((Reason.SITE_ID_DUPLICATE, f"site {site_id!r} is declared in cell {first[0]}{_in(first[1])} and in cell {cell}"))
            for item in site["items"]:
                owner = (cell, site_id, item["category"], item.get("type", ""))
                for serial in item.get("serials", ()):
                    held = serials.setdefault(serial, (owner, phase)) if record else serials.get(serial, (owner, phase))
                    if held[0] != owner:
                        problems.append((Reason.SERIAL_DUPLICATE, f"serial {serial!r} of site {site_id!r} is also declared at site {held[0][1]!r}"
                                         f" ({held[0][2]}){_in(held[1])}"))
        return problems


def _in(phase: str | None) -> str:
    return "" if phase is None else f" (phase {phase!r})"


def earlier_phase_problems(earlier: DeclarationIndex, openings: Iterable[tuple[int, dict[str, Any]]]) -> list[tuple[int, Reason, str]]:
    """Spec §5 "One declaration across phases": every site id, serial and suspect id of a
    bundle's ``openings`` (``(index, content)`` pairs) that ``earlier`` (the ids of the escrow's
    earlier bundles) holds from another cell, as ``(index, reason, detail)``; the detail names
    the earlier phase. Duplicates within the bundle are the verifier's (spec §2); a cell opened
    again repeats its own ids and is not reported. Pure: ``earlier`` is not changed."""
    found: list[tuple[int, Reason, str]] = []
    if not earlier.sites and not earlier.serials:
        return found
    for index, content in openings:
        if content.get("sites") or content.get("suspects"):
            found.extend((index, reason, detail) for reason, detail in earlier.conflicts(content))
    return found
