"""What every declaration format reads into: sites as read, and where each lies (spec §2).

A format module reads its file into one :class:`Found`: spec §2 site objects as JSON values,
not yet checked; a ``locate`` function giving the :class:`~unveil.errors.Location` of a site,
an item or a field in the format's own terms (CSV line and column, JSON path, GeoJSON feature
and property, YAML line and column); and the written text of every number whose double is not
exactly the decimal written (spec §0 "Exact sums"). :func:`check_fields` then checks the §2
field sets and JSON types, each error placed by ``locate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from unveil.core import shape
from unveil.core.content import ITEM_OPTIONAL, ITEM_REQUIRED, SITE_OPTIONAL, SITE_REQUIRED
from unveil.core.jsonparse import Written
from unveil.errors import Location, MalformedInputError
from unveil.textformats.coordinates import POINT

__all__ = ["COMPUTED", "POINT", "Found", "Locate", "check_fields"]

COMPUTED = "the cell is computed from lat/lon, not given"

_IS = {"a string": lambda v: type(v) is str, "a number": lambda v: type(v) in (int, float),
       "an object": lambda v: type(v) is dict, "an array": lambda v: type(v) is list}
_SITE_TYPES = (("id", "a string"), ("kind", "a string"), ("name", "a string"), ("lat", "a number"),
               ("lon", "a number"), ("ext", "an object"), ("items", "an array"))
_ITEM_TYPES = (("category", "a string"), ("quantity", "a number"), ("unit", "a string"), ("type", "a string"),
               ("serials", "an array"), ("ext", "an object"))
_ELEMENTS = {"serials": "a string"}  # arrays whose elements have one type


class Locate(Protocol):
    """``locate(site, item, *field)``: where site ``site`` (its 0-based place in the file), its
    item ``item`` (or the site itself for ``None``) and the field path ``field`` within lie."""

    def __call__(self, site: int, item: int | None, /, *field: str | int) -> Location: ...


@dataclass
class Found:
    """The sites of one declaration file as read, with the means to place every problem."""

    sites: list[Any]
    locate: Locate
    written: Written = field(default_factory=Written)


def check_fields(found: Found) -> None:
    """Spec §2 field sets and JSON types of every site and item (the rules of
    :func:`unveil.core.content.check_shape`), each error placed by ``found.locate``."""
    for i, site in enumerate(found.sites):
        if type(site) is dict and "cell" in site:
            raise MalformedInputError(COMPUTED, where=found.locate(i, None, "cell"))
    for i, site in enumerate(found.sites):
        _members(site, SITE_REQUIRED, SITE_OPTIONAL, _SITE_TYPES, lambda *f, i=i: found.locate(i, None, *f))
        for j, item in enumerate(site["items"]):
            _members(item, ITEM_REQUIRED, ITEM_OPTIONAL, _ITEM_TYPES, lambda *f, i=i, j=j: found.locate(i, j, *f))


def _members(obj: Any, required: tuple[str, ...], optional: tuple[str, ...], types: tuple[tuple[str, str], ...],
             at: Any) -> None:
    try:
        shape.fields(obj, "", required, optional)
    except MalformedInputError as exc:
        raise MalformedInputError(exc.message, where=at()) from None
    for name, kind in types:
        if name in obj:
            _typed(obj[name], kind, at, name)
            if name in _ELEMENTS:
                for k, element in enumerate(obj[name]):
                    _typed(element, _ELEMENTS[name], at, name, k)


def _typed(value: Any, kind: str, at: Any, *field: str | int) -> None:
    if not _IS[kind](value):
        raise MalformedInputError(f"expected {kind}, found {shape.json_type(value)}", where=at(*field))
