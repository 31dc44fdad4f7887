"""Producers of escrow statements and reveal bundles (spec §4, §5): the host's side.

These only assemble statements from values computed elsewhere; signing is
:func:`unveil.core.statements.sign_statement`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from unveil.core.commitments import TOTALS_NAME, Salter, sealed_totals
from unveil.core.escrow import ESCROW_TYPE, Escrow, Grid
from unveil.core.reveal import REVEAL_TYPE
from unveil.core.vocabulary import DEFAULT_VOCABULARY


def escrow_statement(
    *,
    escrow_id: str,
    host: str,
    created: str,
    grid: Grid,
    root: bytes,
    salter: Salter | None = None,
    public_totals: Mapping[str, Any] | None = None,
    sealed: Mapping[str, Any] | None = None,
    purpose: str = "declaration",
    vocabulary: str = DEFAULT_VOCABULARY,
    shadows: str | None = None,
) -> dict[str, Any]:
    """An unsigned escrow statement (spec §4). ``sealed`` needs the escrow's ``salter``."""
    statement: dict[str, Any] = {
        "type": ESCROW_TYPE,
        "purpose": purpose,
        "escrow_id": escrow_id,
        "host": host,
        "created": created,
        "grid": grid.to_json(),
        "vocabulary": vocabulary,
        "tree_size": grid.cell_count,
        "root": root.hex(),
    }
    if shadows is not None:
        statement["shadows"] = shadows
    if public_totals:
        statement["totals"] = dict(public_totals)
    if sealed:
        if salter is None:
            raise ValueError("sealed totals need the escrow's salter")
        statement["sealed_totals"] = sealed_totals(salter.salt(TOTALS_NAME), sealed).hex()
    return statement


def reveal_statement(
    *,
    escrow: Escrow,
    phase: str,
    openings: Sequence[Mapping[str, Any]],
    proof: Sequence[bytes],
    totals: Mapping[str, Any] | None = None,
    salter: Salter | None = None,
) -> dict[str, Any]:
    """An unsigned reveal bundle (spec §5); ``totals`` opens the sealed totals."""
    statement: dict[str, Any] = {
        "type": REVEAL_TYPE,
        "escrow_id": escrow.escrow_id,
        "root": escrow.root,
        "tree_size": escrow.tree_size,
        "phase": phase,
        "openings": [dict(o) for o in openings],
        "proof": [h.hex() for h in proof],
    }
    if totals is not None:
        if salter is None:
            raise ValueError("opening sealed totals needs the escrow's salter")
        statement["totals"] = {"salt": salter.salt(TOTALS_NAME).hex(), "content": dict(totals)}
    return statement


def opening(
    index: int, cell: str, salter: Salter, content: Mapping[str, Any] | None, *, intel: bool = False
) -> dict[str, Any]:
    """One opening: the cell, its salt and its content (empty when ``content`` is None)."""
    body = dict(content) if content is not None else {"cell": cell, "suspects" if intel else "sites": []}
    return {"index": index, "cell": cell, "salt": salter.salt(cell).hex(), "content": body}
