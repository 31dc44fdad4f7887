"""What a workspace remembers about escrows it checks, and the status it reports (issue 3)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from unveil.core.encoding import format_time
from unveil.core.escrow import parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.quantities import exact, exact_sum
from unveil.core.reasons import Reason
from unveil.core.verify import BundleReport
from unveil.errors import MalformedInputError, Problem
from unveil.store.workspace_db import transaction
from unveil.workspace.workspace import Workspace


def conflicts(ws: Workspace, escrow_json: bytes, report: BundleReport, bundle: bytes) -> list[Problem]:
    """Problems only this workspace can see: an escrow id it knows under another statement,
    or a phase it already verified with another statement (the host showing two stories)."""
    found = []
    with ws.connect() as db:
        row = db.execute("SELECT escrow_json FROM escrows WHERE escrow_id = ?", (report.escrow.escrow_id,)).fetchone()
        if row and canonicalize(loads(row[0])["statement"]) != canonicalize(report.escrow.statement):
            found.append(Problem(None, Reason.ESCROW_CONFLICT, f"this workspace holds another statement for escrow {report.escrow.escrow_id!r}"))
        row = db.execute("SELECT bundle_json, sha256 FROM phases WHERE escrow_id = ? AND phase = ?",
                         (report.escrow.escrow_id, report.reveal.phase)).fetchone()
        if row and canonicalize(loads(row[0])["statement"]) != canonicalize(report.reveal.statement):
            found.append(Problem(None, Reason.PHASE_CONFLICT, f"phase {report.reveal.phase!r} was verified before with other contents (file sha256 {row[1]})"))
    return found


def record_verification(
    ws: Workspace,
    report: BundleReport,
    problems: list[Problem],
    *,
    escrow_json: bytes,
    cells_txt: bytes,
    bundle: bytes,
    leaves: bytes | None,
    territory_geojson: bytes | None,
    now: datetime,
) -> None:
    """Record the result; a valid bundle also records the escrow, the phase and its openings."""
    escrow_id, phase = report.escrow.escrow_id, report.reveal.phase
    valid = report.valid and not problems
    sha = hashlib.sha256(bundle).hexdigest()
    body = {**report.to_json(), "valid": valid, "problems": [p.to_json() for p in (*report.problems, *problems)]}
    with ws.connect() as db, transaction(db):
        db.execute(
            "INSERT INTO verifications (escrow_id, phase, bundle_sha256, status, report_json, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            (escrow_id, phase, sha, "valid" if valid else "invalid", json.dumps(body), format_time(now)),
        )
        if not valid:
            return
        db.execute(
            "INSERT OR IGNORE INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
            (escrow_id, escrow_json, cells_txt, leaves, territory_geojson, int(territory_geojson is not None), format_time(now)),
        )
        if territory_geojson is not None:
            db.execute("UPDATE escrows SET coverage_checked = 1, territory_geojson = ? WHERE escrow_id = ?", (territory_geojson, escrow_id))
        db.execute(
            "INSERT OR IGNORE INTO phases (escrow_id, phase, bundle_json, sha256, openings, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            (escrow_id, phase, bundle, sha, len(report.reveal.openings), format_time(now)),
        )
        db.executemany(
            "INSERT OR IGNORE INTO opened (escrow_id, cell_index, cell, phase, content_json) VALUES (?, ?, ?, ?, ?)",
            [(escrow_id, o.index, o.cell, phase, json.dumps(o.content, ensure_ascii=False)) for o in report.reveal.openings],
        )
        if report.reveal.totals is not None:
            db.execute("INSERT OR IGNORE INTO opened_totals (escrow_id, totals_json, phase) VALUES (?, ?, ?)",
                       (escrow_id, json.dumps(report.reveal.totals.content), phase))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def status(ws: Workspace, escrow_id: str | None, quorum: int | None = None) -> dict[str, Any]:
    """Sealed and opened cells, phases, running totals, the reconciliation (issue 3), and what
    of it is not final yet on the boards this workspace syncs with (``boards``; each phase's
    ``final``: :func:`unveil.workspace.pending.board_status`, K = ``quorum``)."""
    from unveil.workspace.pending import board_status

    with ws.connect() as db:
        if escrow_id is None:
            ids = [r[0] for r in db.execute("SELECT escrow_id FROM escrows ORDER BY escrow_id")]
            if len(ids) != 1:
                raise MalformedInputError(
                    "no escrow recorded yet" if not ids else f"several escrows ({', '.join(ids)}): choose one", where="--escrow-id")
            escrow_id = ids[0]
        row = db.execute("SELECT escrow_json, own, coverage_checked FROM escrows WHERE escrow_id = ?", (escrow_id,)).fetchone()
        if row is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} in this workspace", where="--escrow-id")
        escrow = parse_escrow(loads(row[0])["statement"])
        phases = [
            {"phase": p, "openings": n, "sha256": sha, "recorded": t}
            for p, n, sha, t in db.execute(
                "SELECT phase, openings, sha256, recorded FROM phases WHERE escrow_id = ? ORDER BY recorded, phase", (escrow_id,))
        ]
        opened_contents = [loads(text) for (text,) in db.execute("SELECT content_json FROM opened WHERE escrow_id = ?", (escrow_id,))]
        declared: dict[str, Any] = dict(escrow.totals or {})
        for (text,) in db.execute("SELECT totals_json FROM opened_totals WHERE escrow_id = ?", (escrow_id,)):
            declared.update(loads(text))
        if row[1]:
            sealed = db.execute("SELECT sealed_totals_json FROM secrets WHERE escrow_id = ?", (escrow_id,)).fetchone()
            if sealed and sealed[0]:
                declared.update(loads(sealed[0]))
    sums: dict[str, list[Any]] = defaultdict(list)
    for content in opened_contents:
        for site in content.get("sites", ()):
            for item in site["items"]:
                sums[item["category"]].append(item["quantity"])
    totals = {}
    for category in sorted(set(sums) | set(declared)):
        total = exact_sum(sums.get(category, []))
        want = declared.get(category)
        totals[category] = {"declared": None if want is None else _number(exact(want["quantity"])), "opened": _number(total)}
    complete = len(opened_contents) == escrow.tree_size
    reconciled = None
    if complete:
        reconciled = all(exact(declared[c]["quantity"]) == exact_sum(sums.get(c, [])) for c in declared)
    boards = board_status(ws, escrow_id, phases, quorum)
    return {
        "escrow_id": escrow_id, "own": bool(row[1]), "cells": escrow.tree_size, "opened": len(opened_contents),
        "coverage_checked": bool(row[2]), "phases": phases, "totals": totals, "reconciled": reconciled, "boards": boards,
    }


def accept_escrow(
    ws: Workspace, *, escrow_json: bytes, cells_txt: bytes, territory_geojson: bytes | None, now: datetime
) -> str:
    """Record a received escrow before any reveal (spec §1: after its signature, cell list and
    coverage were checked by the caller). Returns the escrow id; refuses a conflicting one."""
    statement = loads(escrow_json)["statement"]
    escrow = parse_escrow(statement)
    with ws.connect() as db, transaction(db):
        row = db.execute("SELECT escrow_json FROM escrows WHERE escrow_id = ?", (escrow.escrow_id,)).fetchone()
        if row is not None:
            if canonicalize(loads(row[0])["statement"]) != canonicalize(statement):
                raise MalformedInputError(f"this workspace holds another statement for escrow {escrow.escrow_id!r}", where="--escrow")
            if territory_geojson is not None:
                db.execute("UPDATE escrows SET coverage_checked = 1, territory_geojson = ? WHERE escrow_id = ?",
                           (territory_geojson, escrow.escrow_id))
            return escrow.escrow_id
        db.execute(
            "INSERT INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
            " VALUES (?, 0, ?, ?, NULL, ?, ?, ?)",
            (escrow.escrow_id, escrow_json, cells_txt, territory_geojson, int(territory_geojson is not None), format_time(now)),
        )
    return escrow.escrow_id
