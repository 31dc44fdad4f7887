"""Escrow statements (spec §4) and their totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from unveil.core import shape
from unveil.core.encoding import is_hex32, is_id, is_time
from unveil.core.keys import is_key_name
from unveil.core.quantities import is_integral
from unveil.core.reasons import Reason
from unveil.core.vocabulary import Vocabulary
from unveil.errors import MalformedInputError, Problem

ESCROW_TYPE = "unveil/escrow/v1"
PURPOSES = ("declaration", "intel")
GRID_SYSTEMS = ("h3", "list")
_REQUIRED = ("type", "purpose", "escrow_id", "host", "created", "grid", "vocabulary", "tree_size", "root")
_OPTIONAL = ("totals", "sealed_totals", "shadows")


@dataclass(frozen=True)
class Grid:
    system: str
    cell_count: int
    cells_sha256: str
    resolution: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system}
        if self.resolution is not None:
            out["resolution"] = self.resolution
        out["cell_count"] = self.cell_count
        out["cells_sha256"] = self.cells_sha256
        return out


@dataclass(frozen=True)
class Escrow:
    """A parsed escrow statement; ``statement`` keeps the exact JSON that was signed."""

    statement: dict[str, Any]
    purpose: str
    escrow_id: str
    host: str
    created: str
    grid: Grid
    vocabulary: str
    tree_size: int
    root: str
    totals: dict[str, Any] | None
    sealed_totals: str | None
    shadows: str | None


def parse_totals_shape(totals: Any, where: str) -> dict[str, Any]:
    if type(totals) is not dict:
        raise MalformedInputError(f"expected an object, found {shape.json_type(totals)}", where=where)
    for category in totals:  # member names are categories: any string, checked as values
        at = f"{where}.{category}"
        entry = shape.fields(totals[category], at, ("quantity", "unit"))
        shape.number(entry, "quantity", at)
        shape.string(entry, "unit", at)
    return totals


def parse_escrow(statement: Any, where: str = "statement") -> Escrow:
    """Read an escrow statement's shape (spec §4); raise MalformedInputError."""
    shape.fields(statement, where, _REQUIRED, _OPTIONAL)
    kind = shape.string(statement, "type", where)
    if kind != ESCROW_TYPE:
        raise MalformedInputError(f"type is {kind!r}, not {ESCROW_TYPE!r}", where=f"{where}.type")
    grid_where = f"{where}.grid"
    grid_obj = shape.obj(statement, "grid", where)
    system = grid_obj.get("system")
    if system not in GRID_SYSTEMS:
        raise MalformedInputError(f"grid system {system!r} is not one of {GRID_SYSTEMS}", where=f"{grid_where}.system")
    if system == "h3":
        shape.fields(grid_obj, grid_where, ("system", "resolution", "cell_count", "cells_sha256"))
        resolution: int | None = shape.integer(grid_obj, "resolution", grid_where)
    else:
        shape.fields(grid_obj, grid_where, ("system", "cell_count", "cells_sha256"))
        resolution = None
    grid = Grid(
        system=system,
        cell_count=shape.integer(grid_obj, "cell_count", grid_where),
        cells_sha256=shape.string(grid_obj, "cells_sha256", grid_where),
        resolution=resolution,
    )
    totals = parse_totals_shape(statement["totals"], f"{where}.totals") if "totals" in statement else None
    return Escrow(
        statement=statement,
        purpose=shape.string(statement, "purpose", where),
        escrow_id=shape.string(statement, "escrow_id", where),
        host=shape.string(statement, "host", where),
        created=shape.string(statement, "created", where),
        grid=grid,
        vocabulary=shape.string(statement, "vocabulary", where),
        tree_size=shape.integer(statement, "tree_size", where),
        root=shape.string(statement, "root", where),
        totals=totals,
        sealed_totals=shape.string(statement, "sealed_totals", where) if "sealed_totals" in statement else None,
        shadows=shape.string(statement, "shadows", where) if "shadows" in statement else None,
    )


def totals_problems(totals: Mapping[str, Any], vocabulary: Vocabulary | None, label: str) -> list[str]:
    """§4 totals rules: §2's rules for quantity and unit, per category."""
    out: list[str] = []
    for category, entry in totals.items():
        quantity, unit = entry["quantity"], entry["unit"]
        if vocabulary is not None:
            expected = vocabulary.unit_for(category)
            if expected is None:
                out.append(f"{label} category {category!r} is not in {vocabulary.name}")
            elif unit != expected:
                out.append(f"{label} {category!r}: unit {unit!r}, the vocabulary's unit is {expected!r}")
        if quantity < 0:
            out.append(f"{label} {category!r}: quantity {quantity} is negative")
        elif unit == "count" and not is_integral(quantity):
            out.append(f"{label} {category!r}: quantity {quantity} is not a whole count")
    return out


def escrow_problems(escrow: Escrow, vocabulary: Vocabulary | None) -> list[Problem]:
    """Every value rule of spec §4 the escrow breaks (bundle-level problems)."""
    bad: list[str] = []
    if escrow.purpose not in PURPOSES:
        bad.append(f"purpose {escrow.purpose!r} is not one of {PURPOSES}")
    if not is_id(escrow.escrow_id):
        bad.append(f"escrow_id {escrow.escrow_id[:80]!r} is not an id")
    if not is_key_name(escrow.host):
        bad.append(f"host {escrow.host[:80]!r} is not a key name")
    if not is_time(escrow.created):
        bad.append(f"created {escrow.created[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ")
    if escrow.grid.cell_count < 1:
        bad.append(f"grid.cell_count {escrow.grid.cell_count} is below 1")
    if escrow.grid.resolution is not None and not 0 <= escrow.grid.resolution <= 15:
        bad.append(f"grid.resolution {escrow.grid.resolution} is outside 0..15")
    if not is_hex32(escrow.grid.cells_sha256):
        bad.append("grid.cells_sha256 is not 64 lowercase hex digits")
    if escrow.tree_size != escrow.grid.cell_count:
        bad.append(f"tree_size {escrow.tree_size} differs from grid.cell_count {escrow.grid.cell_count}")
    if not is_hex32(escrow.root):
        bad.append("root is not 64 lowercase hex digits")
    if escrow.sealed_totals is not None and not is_hex32(escrow.sealed_totals):
        bad.append("sealed_totals is not 64 lowercase hex digits")
    if escrow.purpose == "intel" and (escrow.shadows is None or not is_id(escrow.shadows)):
        bad.append("an intel escrow needs shadows: the declaration escrow's id")
    if escrow.purpose != "intel" and escrow.shadows is not None:
        bad.append("shadows is only allowed for intel escrows")
    problems = [Problem(None, Reason.ESCROW_INVALID, text) for text in bad]
    if escrow.totals is not None:
        problems += [Problem(None, Reason.TOTALS_INVALID, t) for t in totals_problems(escrow.totals, vocabulary, "escrow totals")]
    return problems
