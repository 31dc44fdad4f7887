"""The host's side (issue 3): seal a declaration, open it phase by phase.

The master secret is drawn here, stored only in the host's workspace database, and used only
to derive salts; what leaves the workspace is escrow.json, cells.txt, leaves.bin and reveal
bundles (spec §3–§6).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.commitments import Salter
from unveil.core.encoding import format_time, is_id
from unveil.core.escrow import Grid, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.statements import sign_statement
from unveil.errors import MalformedInputError
from unveil.escrowing import commit_cells, open_cells
from unveil.store.workspace_db import transaction
from unveil.workspace.files import staged
from unveil.workspace.workspace import Workspace


def dump(doc: Any) -> bytes:
    """Artifacts are pretty JSON, UTF-8, newline-terminated (readers re-canonicalize)."""
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Committed:
    escrow_id: str
    cells: int
    non_empty: int
    root: str
    out: Path


def commit(
    ws: Workspace,
    *,
    escrow_id: str,
    cells: Sequence[str],
    resolution: int | None,
    contents: Mapping[str, Mapping[str, Any]],
    out: Path,
    now: datetime,
    public_totals: Mapping[str, Any] | None = None,
    sealed_totals: Mapping[str, Any] | None = None,
    territory_geojson: bytes | None = None,
    random: Callable[[int], bytes] = os.urandom,
    on_progress: Callable[[int], None] | None = None,
) -> Committed:
    """Seal ``contents`` over ``cells`` (sorted; absent cells are empty) as escrow ``escrow_id``."""
    ws.require_role("host")
    if not is_id(escrow_id):
        raise MalformedInputError(f"{escrow_id!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--escrow-id")
    stray = sorted(set(contents) - set(cells))
    if stray:
        raise MalformedInputError(f"declared cell {stray[0]} is not among the territory's cells", where="--declaration")
    key = ws.statement_key()
    with ws.connect() as db:
        if db.execute("SELECT 1 FROM escrows WHERE escrow_id = ?", (escrow_id,)).fetchone():
            raise MalformedInputError(f"escrow {escrow_id!r} already exists in this workspace", where="--escrow-id")
        secret = random(32)  # fresh for each escrow, never reused (spec §3)
        salter = Salter(secret, escrow_id)
        commitment = commit_cells(secret, escrow_id, list(cells), contents, on_progress=on_progress)
        cells_txt = cell_file.render(list(cells))
        grid = Grid("h3" if resolution is not None else "list", len(cells), hashlib.sha256(cells_txt).hexdigest(), resolution)
        statement = escrow_statement(
            escrow_id=escrow_id, host=ws.name, created=format_time(now), grid=grid, root=commitment.root,
            salter=salter, public_totals=public_totals, sealed=sealed_totals,
        )
        escrow_json = dump(sign_statement(statement, [key]))
        files = {"escrow.json": escrow_json, "cells.txt": cells_txt, "leaves.bin": commitment.leaves}
        with staged(out, files), transaction(db):
            db.execute(
                "INSERT INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
                " VALUES (?, 1, ?, ?, ?, ?, 1, ?)",
                (escrow_id, escrow_json, cells_txt, commitment.leaves, territory_geojson, format_time(now)),
            )
            db.execute("INSERT INTO secrets (escrow_id, master_secret, sealed_totals_json) VALUES (?, ?, ?)",
                       (escrow_id, secret, json.dumps(sealed_totals) if sealed_totals else None))
            db.executemany(
                "INSERT INTO contents (escrow_id, cell, content_json) VALUES (?, ?, ?)",
                [(escrow_id, cell, json.dumps(content, ensure_ascii=False)) for cell, content in contents.items()],
            )
    return Committed(escrow_id, len(cells), len(contents), commitment.root.hex(), out)


@dataclass(frozen=True)
class Revealed:
    escrow_id: str
    phase: str
    openings: int
    reopened: list[str]
    path: Path


def reveal(
    ws: Workspace,
    *,
    escrow_id: str,
    phase: str,
    indices: Sequence[int],
    out: Path,
    now: datetime,
    open_totals: bool = False,
) -> Revealed:
    """Open the cells at ``indices`` (sorted) as phase ``phase``: a signed reveal bundle (§5)."""
    ws.require_role("host")
    if not is_id(phase):
        raise MalformedInputError(f"{phase!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--phase")
    if not indices:
        raise MalformedInputError("the region holds no committed cell", where="region")
    key = ws.statement_key()
    with ws.connect() as db:
        row = db.execute(
            "SELECT e.escrow_json, e.cells_txt, e.leaves_bin, s.master_secret, s.sealed_totals_json"
            " FROM escrows e JOIN secrets s USING (escrow_id) WHERE escrow_id = ?", (escrow_id,)
        ).fetchone()
        if row is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} sealed in this workspace", where="--escrow-id")
        if db.execute("SELECT 1 FROM phases WHERE escrow_id = ? AND phase = ?", (escrow_id, phase)).fetchone():
            raise MalformedInputError(f"phase {phase!r} of escrow {escrow_id!r} was already published", where="--phase")
        escrow_json, cells_txt, leaves, secret, sealed_json = row
        escrow = parse_escrow(loads(escrow_json)["statement"])
        cells = cell_file.read(cells_txt).cells
        contents = {cell: loads(text) for cell, text in db.execute(
            "SELECT cell, content_json FROM contents WHERE escrow_id = ?", (escrow_id,))}
        if open_totals and not sealed_json:
            raise MalformedInputError("this escrow has no sealed totals to open", where="--open-totals")
        openings, proof = open_cells(secret, escrow_id, cells, contents, leaves, list(indices))
        statement = reveal_statement(
            escrow=escrow, phase=phase, openings=openings, proof=proof,
            totals=loads(sealed_json) if open_totals else None, salter=Salter(secret, escrow_id),
        )
        bundle = dump(sign_statement(statement, [key]))
        already = {i for (i,) in db.execute("SELECT cell_index FROM opened WHERE escrow_id = ?", (escrow_id,))}
        reopened = [cells[i] for i in indices if i in already]
        record_opening(db, out, escrow_id, phase, bundle, openings, now, sealed_json if open_totals else None)
    return Revealed(escrow_id, phase, len(indices), reopened, out)


def record_opening(
    db: sqlite3.Connection, out: Path, escrow_id: str, phase: str, bundle: bytes,
    openings: Sequence[Mapping[str, Any]], now: datetime, totals_json: str | None = None,
) -> None:
    """Write a signed reveal bundle to ``out`` and record its phase and opened cells, all or
    nothing (shared by the host's reveals and the inspector's intel openings)."""
    with staged(out.resolve().parent, {out.name: bundle}), transaction(db):
        db.execute(
            "INSERT INTO phases (escrow_id, phase, bundle_json, sha256, openings, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            (escrow_id, phase, bundle, hashlib.sha256(bundle).hexdigest(), len(openings), format_time(now)),
        )
        db.executemany(
            "INSERT OR IGNORE INTO opened (escrow_id, cell_index, cell, phase, content_json) VALUES (?, ?, ?, ?, ?)",
            [(escrow_id, o["index"], o["cell"], phase, json.dumps(o["content"], ensure_ascii=False)) for o in openings],
        )
        if totals_json is not None:
            db.execute("INSERT OR IGNORE INTO opened_totals (escrow_id, totals_json, phase) VALUES (?, ?, ?)",
                       (escrow_id, totals_json, phase))
