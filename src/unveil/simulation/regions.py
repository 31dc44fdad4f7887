"""Named regions of a regime's territory: ``region: {parents: [H3 cells]}`` selects
the cells of a ``cells_file`` territory of H3 cells that lie inside those parents, as ``unveil
reveal --parent`` selects committed cells."""

from __future__ import annotations

from typing import Any

from unveil.errors import MalformedInputError

__all__ = ["MAX_PARENTS", "cells_in_region"]

MAX_PARENTS = 10_000
"""The most H3 cells a region may name."""


def cells_in_region(value: Any, where: str, names: list[str] | None, taken: dict[int, int]) -> tuple[int, ...]:
    """The cells of a ``cells_file`` territory in a named region: ``{parents: [H3 cells]}``,
    every territory cell that is one of them or lies inside one (as ``unveil reveal
    --parent``), in cell order, but those another phase opens already."""
    import h3

    if not isinstance(value, dict):
        raise MalformedInputError("must be an object", where=where)
    unknown = sorted(set(value) - {"parents"})
    if unknown:
        raise MalformedInputError(f"unknown field {unknown[0]!r} (known: parents)", where=f"{where}.{unknown[0]}")
    if "parents" not in value:
        raise MalformedInputError("is missing", where=f"{where}.parents")
    parents = value["parents"]
    if names is None:
        raise MalformedInputError("a region needs a territory given as a cells_file of H3 cells", where=where)
    if not isinstance(parents, list) or not parents or len(parents) > MAX_PARENTS:
        raise MalformedInputError(f"must be a list of 1 to {MAX_PARENTS} H3 cells", where=f"{where}.parents")
    wanted: dict[int, set[str]] = {}
    for i, parent in enumerate(parents):
        if not isinstance(parent, str) or len(parent) > 20 or not h3.is_valid_cell(parent):
            raise MalformedInputError(f"{str(parent)[:40]!r} is not an H3 cell", where=f"{where}.parents[{i}]")
        wanted.setdefault(h3.get_resolution(parent), set()).add(parent)
    chosen = []
    for number, cell in enumerate(names):
        if number in taken or len(cell) > 20 or not h3.is_valid_cell(cell):
            continue
        resolution = h3.get_resolution(cell)
        if any(r <= resolution and h3.cell_to_parent(cell, r) in group for r, group in wanted.items()):
            chosen.append(number)
    return tuple(chosen)
