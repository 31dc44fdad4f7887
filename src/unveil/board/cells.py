"""Which ``cells.txt`` files a board holds (spec §11 ``PUT /cells/{sha256}``): only one a
published escrow commits to, and only if it is a §1 cell list of that escrow's grid.

Pure functions of the bytes and the published escrows. The board stores the file beside its
reveal files (keyed by its SHA-256) and never purges it; its views read it
(:mod:`unveil.board.view`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from unveil.core import cells as cell_list
from unveil.core.escrow import Escrow
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, MalformedInputError

__all__ = ["MAX_LINE", "check_cells", "committing"]

MAX_LINE = 65
"""The most bytes a ``cells.txt`` line takes: a list grid's 64-character id and its newline
(an H3 line is 16)."""


def committing(escrows: Iterable[Escrow], sha256_hex: str) -> list[Escrow]:
    """The published escrows whose ``grid.cells_sha256`` is ``sha256_hex``, in log order."""
    return [e for e in escrows if e.grid.cells_sha256 == sha256_hex]


def check_cells(escrows: list[Escrow], sha256_hex: str, data: bytes) -> None:
    """Refuse ``data`` (uploaded as ``sha256_hex``) unless a board stores it: ``cells-unknown``
    when no published escrow (``escrows``: those :func:`committing` found) commits to it,
    ``sha256-mismatch`` when its SHA-256 is another, ``cells-invalid`` when it is not a §1 list
    of the first such escrow's grid with ``cell_count`` lines."""
    if not escrows:
        raise BoardRefused(Reason.CELLS_UNKNOWN, f"no escrow published on this board has cells_sha256 {sha256_hex}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256_hex:
        raise BoardRefused(Reason.SHA256_MISMATCH, f"the body's SHA-256 is {actual}, not {sha256_hex}")
    grid = escrows[0].grid
    if len(data) > grid.cell_count * MAX_LINE:
        raise BoardRefused(Reason.CELLS_INVALID, f"{len(data)} bytes is more than {grid.cell_count} lines can take")
    try:
        parsed = cell_list.read(data)
    except MalformedInputError as exc:
        raise BoardRefused(Reason.CELLS_INVALID, str(exc)) from None
    if len(parsed) != grid.cell_count:
        raise BoardRefused(Reason.CELLS_INVALID, f"cells.txt has {len(parsed)} lines; the escrow's grid.cell_count is {grid.cell_count}")
    problems = cell_list.problems(parsed, grid.system, grid.resolution)
    if problems:
        raise BoardRefused(Reason.CELLS_INVALID, "; ".join(problems[:5]))
