"""Declarations in CSV: one row per item, the site columns repeated on each (spec §2).

A header row names columns in any order: :data:`CSV_REQUIRED`, the item columns
:data:`CSV_ITEM` (all or none; a file without them declares sites without items) and
:data:`CSV_OPTIONAL`. A site without items is one row with the item columns empty;
``serials`` are separated by ``;``; an empty ``name``, ``type`` or ``serials`` cell means the
field is absent. Unknown columns are refused. Numbers follow the JSON number grammar, and a
quantity must be a decimal some double holds exactly (spec §0). Places are ``line n`` and the
column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from unveil.declaration.sites import COMPUTED, Found
from unveil.declaration.writers import CSV_COLUMNS, SERIAL_SEPARATOR
from unveil.errors import Location, MalformedInputError
from unveil.textformats.numbers import text_number
from unveil.textformats.text import csv_cell

CSV_REQUIRED = ("site_id", "kind", "lat", "lon")
CSV_ITEM = ("category", "quantity", "unit")  # all or none: without them every site has no items
CSV_OPTIONAL = ("name", "type", "serials")  # type and serials need the item columns
_COLUMN_OF = {"id": "site_id"}


@dataclass
class _Rows:
    """One CSV site: its site columns, the line they were first given on, its item lines."""

    site: dict[str, Any]
    line: int
    item_lines: list[int] = field(default_factory=list)
    bare_line: int | None = None  # the line of an item-less row


def read_csv(text: str) -> Found:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = _rows(reader)
    except csv.Error as exc:
        raise MalformedInputError(f"not CSV: {exc}", where=Location(line=reader.line_num)) from None
    entries = list(rows.values())

    def locate(i: int, j: int | None, /, *field: str | int) -> Location:
        line = entries[i].line if j is None else entries[i].item_lines[j]
        if not field:
            return Location(line=line)
        name = str(field[0])
        return csv_cell(line, _COLUMN_OF.get(name, name))

    return Found([entry.site for entry in entries], locate)


def _header(header: list[str], line: int) -> None:
    where = Location(line=line, note="header")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise MalformedInputError(f"repeated column {repeated[0]!r}", where=where)
    if "cell" in header:
        raise MalformedInputError(f"column 'cell': {COMPUTED}", where=where)
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise MalformedInputError(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                                  f"(columns: {', '.join(CSV_COLUMNS)})", where=where)
    missing = [c for c in CSV_REQUIRED if c not in header]
    if any(c in header for c in (*CSV_ITEM, "type", "serials")):
        missing += [c for c in CSV_ITEM if c not in header]
    if missing:
        raise MalformedInputError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}", where=where)


def _rows(reader: Any) -> dict[str, _Rows]:
    header: list[str] | None = None
    sites: dict[str, _Rows] = {}
    last = 0
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(row):
            continue  # blank lines, and rows of empty cells that spreadsheets append
        if header is None:
            header = row
            _header(header, line)
            continue
        if len(row) != len(header):
            raise MalformedInputError(f"{len(row)} fields, the header has {len(header)}", where=Location(line=line))
        _row(dict(zip(header, row, strict=True)), line, sites)
    if header is None:
        raise MalformedInputError("no header row")
    return sites


def _row(values: dict[str, str], line: int, sites: dict[str, _Rows]) -> None:
    def at(column: str) -> Location:
        return csv_cell(line, column)

    site: dict[str, Any] = {"id": values["site_id"], "kind": values["kind"],
                            "lat": text_number(values["lat"], at("lat"), "lat"),
                            "lon": text_number(values["lon"], at("lon"), "lon"), "items": []}
    if values.get("name"):
        site["name"] = values["name"]
    entry = sites.setdefault(site["id"], _Rows(site, line))
    if entry.site is not site:
        for column in ("kind", "name", "lat", "lon"):
            if entry.site.get(column) != site.get(column):
                raise MalformedInputError(
                    f"site {site['id']!r}: {column} {site.get(column, '')!r} differs from {entry.site.get(column, '')!r} "
                    f"on line {entry.line} (rows of one site repeat the same site columns)", where=at(column))
    if not any(values.get(c) for c in (*CSV_ITEM, "type", "serials")):
        if entry.item_lines or entry.bare_line is not None:
            other = entry.item_lines[0] if entry.item_lines else entry.bare_line
            raise MalformedInputError(f"site {site['id']!r} has another row on line {other}: "
                                      "a row without an item is only for a site without items", where=at("category"))
        entry.bare_line = line
        return
    if entry.bare_line is not None:
        raise MalformedInputError(f"site {site['id']!r} has a row without an item on line {entry.bare_line}: "
                                  "a row without an item is only for a site without items", where=at("category"))
    for column in ("category", "unit"):
        if not values.get(column):
            raise MalformedInputError(f"{column} is required when the row declares an item", where=at(column))
    quantity = text_number(values.get("quantity", ""), at("quantity"), "quantity", exact_form=True)
    item: dict[str, Any] = {"category": values["category"], "quantity": quantity, "unit": values["unit"]}
    if values.get("type"):
        item["type"] = values["type"]
    if values.get("serials"):
        item["serials"] = [s.strip() for s in values["serials"].split(SERIAL_SEPARATOR)]
    entry.site["items"].append(item)
    entry.item_lines.append(line)
