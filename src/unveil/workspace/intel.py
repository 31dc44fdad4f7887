"""The inspector's side (spec §9): hold suspected sites, seal them as an intelligence escrow on
the declaration's grid before reveals begin, open one of its cells to back a discrepancy, and
run the truth test of a verified reveal against the suspects.

Table added on first import (:data:`unveil.store.workspace_queries.SUSPECTS_TABLE`):
``suspects(id, json, imported)``, the current set, replaced whole by each import. The intel
escrow itself reuses ``escrows`` / ``secrets`` / ``contents`` / ``phases`` / ``opened`` as
:mod:`unveil.workspace.host` does (own = 1), so its master secret never leaves the workspace.
The SQL is in :mod:`unveil.store.workspace_queries`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.commitments import Salter
from unveil.core.encoding import format_time, is_id
from unveil.core.escrow import Escrow, Grid, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.statements import sign_statement
from unveil.core.vocabulary import DEFAULT_VOCABULARY
from unveil.errors import MalformedInputError
from unveil.escrowing import commit_cells, open_cells
from unveil.inspection import TruthTest, contents_by_cell, read_intel, truth_test
from unveil.store import workspace_queries as q
from unveil.store.workspace_db import transaction
from unveil.workspace.files import staged
from unveil.workspace.host import dump, record_opening
from unveil.workspace.workspace import Workspace

INTEL_FILES = ("intel-escrow.json", "cells.txt", "leaves.bin")


def _suspects(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = [loads(text) for text in q.suspects_json(db)]
    return sorted(rows, key=lambda s: s["id"].encode())


def import_intel(ws: Workspace, data: bytes, source: str, now: datetime) -> int:
    """Read suspects (CSV or GeoJSON, by ``source``'s extension) and make them the workspace's
    set, replacing any earlier import in one transaction. Returns how many."""
    ws.require_role("inspector")
    suspects = read_intel(data, source=source)
    with ws.connect() as db, transaction(db):
        q.replace_suspects(db, ((s["id"], json.dumps(s, ensure_ascii=False)) for s in suspects), format_time(now))
    return len(suspects)


@dataclass(frozen=True)
class _Declaration:
    escrow: Escrow
    cells: tuple[str, ...]
    cells_txt: bytes


def _declaration(db: sqlite3.Connection, shadows: str, where: str = "--shadows") -> _Declaration:
    """A declaration escrow this workspace recorded from a verified bundle (own = 0)."""
    row = q.escrow(db, shadows)
    if row is None or row.own:
        if row is not None:
            raise MalformedInputError(f"escrow {shadows!r} was sealed in this workspace, not a declaration it verified", where=where)
        raise MalformedInputError(
            f"no declaration escrow {shadows!r} recorded in this workspace: verify one of its reveal bundles with "
            "'unveil verify --workspace' first", where=where)
    escrow = parse_escrow(loads(row.escrow_json)["statement"])
    if escrow.purpose != "declaration":
        raise MalformedInputError(f"escrow {shadows!r} is a {escrow.purpose} escrow, not a declaration", where=where)
    if escrow.grid.system != "h3" or escrow.grid.resolution is None:
        raise MalformedInputError(f"escrow {shadows!r} is not on an h3 grid: suspects are points", where=where)
    return _Declaration(escrow, tuple(cell_file.read(row.cells_txt).cells), row.cells_txt)


@dataclass(frozen=True)
class Sealed:
    escrow_id: str
    shadows: str
    cells: int
    non_empty: int
    suspects: int
    root: str
    cells_sha256: str
    out: Path
    late: bool

    def to_json(self) -> dict[str, Any]:
        return {"escrow_id": self.escrow_id, "shadows": self.shadows, "cells": self.cells, "non_empty": self.non_empty,
                "suspects": self.suspects, "root": self.root, "cells_sha256": self.cells_sha256, "late": self.late,
                "files": [str(self.out / n) for n in INTEL_FILES]}


def seal_intel(
    ws: Workspace,
    *,
    escrow_id: str,
    shadows: str,
    out: Path,
    now: datetime,
    allow_late: bool = False,
    random: Callable[[int], bytes] = os.urandom,
) -> dict[str, Any]:
    """Seal the imported suspects as intel escrow ``escrow_id`` over declaration ``shadows``'
    cells (spec §9): same cells.txt bytes, so the same cells_sha256. Writes intel-escrow.json,
    cells.txt and leaves.bin to ``out``; the master secret stays in the workspace."""
    ws.require_role("inspector")
    if not is_id(escrow_id):
        raise MalformedInputError(f"{escrow_id!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--escrow-id")
    key = ws.statement_key()
    with ws.connect() as db:
        if q.escrow_exists(db, escrow_id):
            raise MalformedInputError(f"escrow {escrow_id!r} already exists in this workspace", where="--escrow-id")
        decl = _declaration(db, shadows)
        if decl.escrow.vocabulary != DEFAULT_VOCABULARY:
            raise MalformedInputError(
                f"declaration {shadows!r} uses vocabulary {decl.escrow.vocabulary!r}; suspects are read under "
                f"{DEFAULT_VOCABULARY}", where="--shadows")
        phases = q.phase_names(db, shadows)
        if phases and not allow_late:
            raise MalformedInputError(
                f"reveals of {shadows!r} have begun (verified phase{'s' if len(phases) > 1 else ''} {', '.join(phases)}): "
                "an intel escrow sealed now cannot show the suspicions predate them; use --allow-late to seal anyway",
                where="--shadows")
        suspects = _suspects(db)
        if not suspects:
            raise MalformedInputError("no suspects imported: run 'unveil intel import' first", where="--workspace")
        assert decl.escrow.grid.resolution is not None
        contents = contents_by_cell(suspects, decl.escrow.grid.resolution)
        committed = set(decl.cells)
        for cell, content in contents.items():
            if cell not in committed:
                first = content["suspects"][0]["id"]
                raise MalformedInputError(
                    f"suspect {first!r} lies in cell {cell}, which is not among declaration {shadows!r}'s cells",
                    where="--shadows")
        secret = random(32)  # fresh for each escrow, never reused (spec §3)
        commitment = commit_cells(secret, escrow_id, list(decl.cells), contents, intel=True)
        grid = Grid("h3", len(decl.cells), hashlib.sha256(decl.cells_txt).hexdigest(), decl.escrow.grid.resolution)
        statement = escrow_statement(
            escrow_id=escrow_id, host=ws.name, created=format_time(now), grid=grid, root=commitment.root,
            purpose="intel", shadows=shadows,
        )
        escrow_json = dump(sign_statement(statement, [key]))
        files = {"intel-escrow.json": escrow_json, "cells.txt": decl.cells_txt, "leaves.bin": commitment.leaves}
        with staged(out, files), transaction(db):
            q.insert_escrow(db, escrow_id, own=True, escrow_json=escrow_json, cells_txt=decl.cells_txt, leaves=commitment.leaves,
                            territory_geojson=None, coverage_checked=False, recorded=format_time(now))
            q.insert_secret(db, escrow_id, secret, None)
            q.insert_contents(db, escrow_id, ((cell, json.dumps(content, ensure_ascii=False)) for cell, content in contents.items()))
    done = Sealed(escrow_id, shadows, len(decl.cells), len(contents), len(suspects), commitment.root.hex(),
                  grid.cells_sha256, out, bool(phases))
    return done.to_json()


def open_intel(
    ws: Workspace, *, escrow_id: str, cell: str, out: Path, now: datetime, phase: str | None = None
) -> Path:
    """A signed reveal bundle opening intel cell ``cell`` (phase ``challenge-<cell>`` by default),
    proving what was suspected there before the reveal. The cell must have been opened by a
    verified reveal of the declaration: every other suspicion stays sealed."""
    ws.require_role("inspector")
    phase = phase if phase is not None else f"challenge-{cell}"
    if not is_id(phase):
        raise MalformedInputError(f"{phase!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--phase")
    key = ws.statement_key()
    with ws.connect() as db:
        row = q.sealed(db, escrow_id)
        if row is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} sealed in this workspace", where="--escrow-id")
        cells_txt, leaves, secret = row.cells_txt, row.leaves, row.master_secret
        escrow = parse_escrow(loads(row.escrow_json)["statement"])
        if escrow.purpose != "intel" or escrow.shadows is None:
            raise MalformedInputError(f"escrow {escrow_id!r} is not an intel escrow", where="--escrow-id")
        cells = tuple(cell_file.read(cells_txt).cells)
        try:
            index = cells.index(cell)
        except ValueError:
            raise MalformedInputError(f"cell {cell!r} is not among the escrow's cells", where="--cell") from None
        if not q.cell_opened(db, escrow.shadows, cell):
            raise MalformedInputError(
                f"cell {cell} has not been opened by a verified reveal of {escrow.shadows!r}: opening it now would "
                "disclose a suspicion before the reveal", where="--cell")
        if q.phase_files(db, escrow_id, phase):  # as one file or in parts (spec §5.1)
            raise MalformedInputError(f"phase {phase!r} of escrow {escrow_id!r} was already published", where="--phase")
        stored = q.contents(db, escrow_id).get(cell)
        contents = {cell: loads(stored)} if stored is not None else {}
        openings, proof = open_cells(secret, escrow_id, cells, contents, leaves, [index], intel=True)
        statement = reveal_statement(escrow=escrow, phase=phase, openings=openings, proof=proof, salter=Salter(secret, escrow_id))
        bundle = dump(sign_statement(statement, [key]))
        record_opening(db, out, escrow_id, phase, bundle, openings, now)
    return out


@dataclass(frozen=True)
class Checked:
    """The truth test of one verified reveal bundle, with the sites and suspects it judged."""

    escrow_id: str
    phase: str
    opened: int
    sites: list[dict[str, Any]]
    suspects: list[dict[str, Any]]
    result: TruthTest


def check_reveal(ws: Workspace, bundle_bytes: bytes) -> Checked:
    """Truth test (:mod:`unveil.inspection.truthtest`) of a reveal bundle verified valid in this
    workspace: the declared sites of its opened cells against the workspace's suspects in those
    cells (suspects in unopened cells are not judged), with the sites and suspects it judged."""
    ws.require_role("inspector")
    sha = hashlib.sha256(bundle_bytes).hexdigest()
    with ws.connect() as db:
        if not q.known_bundle(db, sha):
            raise MalformedInputError(
                "this bundle was not verified valid in this workspace: verify the bundle first "
                "('unveil verify --workspace')", where="--bundle")
        statement = loads(bundle_bytes)["statement"]
        escrow_id, phase = statement["escrow_id"], statement["phase"]
        decl = _declaration(db, escrow_id, where="--bundle")
        suspects = _suspects(db)
    resolution = decl.escrow.grid.resolution
    assert resolution is not None
    opened = {o["cell"] for o in statement["openings"]}
    sites = [site for o in statement["openings"] for site in o["content"]["sites"]]
    judged = [s for cell, content in contents_by_cell(suspects, resolution).items() if cell in opened
              for s in content["suspects"]]
    return Checked(escrow_id, phase, len(opened), sites, judged, truth_test(sites, judged))
