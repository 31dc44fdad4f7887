"""Declarations in JSON: ``{"sites": [site, ...]}``, spec §2 site objects without ``cell``.

Parsed once by the strict JSON reader (spec §0), which also notes every quantity written as a
decimal no double holds exactly; places are JSON paths (``$.sites[2].items[0].quantity``).
"""

from __future__ import annotations

from unveil.core import shape
from unveil.core.jsonparse import Written, loads
from unveil.declaration.sites import Found
from unveil.errors import Location
from unveil.textformats.text import located


def read_json(text: str) -> Found:
    written = Written()
    doc = loads(text, written=written)
    with located(Location()):
        shape.fields(doc, "", ("sites",))
    with located(Location(path=("sites",))):
        sites = shape.array(doc, "sites", "")

    def locate(i: int, j: int | None, /, *field: str | int) -> Location:
        return Location(path=("sites", i, *(("items", j) if j is not None else ()), *field))

    return Found(sites, locate, written)
