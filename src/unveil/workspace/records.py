"""What a workspace remembers about escrows it checks, and the status it reports.

Recording only: the checks are :mod:`unveil.workspace.inspector`'s; the SQL is in
:mod:`unveil.store.workspace_queries`.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from unveil.core.content import DeclarationIndex, earlier_phase_problems
from unveil.core.encoding import format_time
from unveil.core.escrow import parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.quantities import exact, exact_sum
from unveil.core.reasons import Reason
from unveil.core.verify import BundleReport
from unveil.errors import MalformedInputError, Problem
from unveil.store import escrow_blobs as blobs
from unveil.store import workspace_queries as q
from unveil.store.workspace_db import transaction
from unveil.workspace.workspace import Workspace


def conflicts(db: sqlite3.Connection, report: BundleReport) -> list[Problem]:
    """Problems only this workspace can see: an escrow id it knows under another statement,
    or a phase it already verified with another statement (the host showing two stories)."""
    found = []
    escrow_id, phase = report.escrow.escrow_id, report.reveal.phase
    known = q.escrow(db, escrow_id)
    if known is not None and canonicalize(loads(known.escrow_json)["statement"]) != canonicalize(report.escrow.statement):
        found.append(Problem(None, Reason.ESCROW_CONFLICT, f"this workspace holds another statement for escrow {escrow_id!r}"))
    part = report.reveal.part
    verified = q.phase_bundle(db, escrow_id, phase, part or 0)
    if verified is not None and canonicalize(loads(verified[0])["statement"]) != canonicalize(report.reveal.statement):
        what = f"part {part} of phase {phase!r}" if part is not None else f"phase {phase!r}"
        found.append(Problem(None, Reason.PHASE_CONFLICT, f"{what} was verified before with other contents (file sha256 {verified[1]})"))
    return found + part_conflicts(db, report)


def part_conflicts(db: sqlite3.Connection, report: BundleReport) -> list[Problem]:
    """Spec §5.1 against the files of the phase recorded here: one form per phase (one file or
    parts, ``phase-conflict``), the same ``parts`` (``parts-mismatch``), and no overlap with
    the recorded parts below and above this one (``part-overlap``)."""
    reveal = report.reveal
    files = q.phase_files(db, report.escrow.escrow_id, reveal.phase)
    if not files:
        return []
    if reveal.part is None:
        if any(f.part for f in files):
            return [Problem(None, Reason.PHASE_CONFLICT, f"phase {reveal.phase!r} was verified before in parts; this bundle is the whole phase in one file")]
        return []
    if any(f.part == 0 for f in files):
        return [Problem(None, Reason.PHASE_CONFLICT, f"phase {reveal.phase!r} was verified before as one file; this bundle is part {reveal.part} of {reveal.parts}")]
    found = []
    counts = sorted({f.parts for f in files} - {reveal.parts or 0})
    if counts:
        found.append(Problem(None, Reason.PARTS_MISMATCH, f"phase {reveal.phase!r} was verified before in {counts[0]} parts; this is part {reveal.part} of {reveal.parts}"))
    first, last = reveal.openings[0].index, reveal.openings[-1].index
    for f in files:
        if f.part == reveal.part or f.first_index is None or f.last_index is None:
            continue
        if (f.part < reveal.part and f.last_index >= first) or (f.part > reveal.part and f.first_index <= last):
            found.append(Problem(None, Reason.PART_OVERLAP, f"part {reveal.part} opens indices {first}..{last}; part {f.part}, verified before,"
                                 f" opens {f.first_index}..{f.last_index}: parts ascend without overlap (spec §5.1)"))
    return found


def earlier_index(db: sqlite3.Connection, escrow_id: str) -> DeclarationIndex:
    """The ids declared by every cell of ``escrow_id`` recorded as opened, each with the phase
    that first opened it (spec §5 "One declaration across phases")."""
    index = DeclarationIndex()
    for _, phase, text in q.declaring_openings(db, escrow_id):
        index.add(loads(text), phase)
    return index


def repeated_ids(db: sqlite3.Connection, report: BundleReport) -> list[Problem]:
    """Every site id, serial and suspect id the bundle of ``report`` repeats from a cell this
    workspace recorded as opened in an earlier phase (``site-id-duplicate``,
    ``serial-duplicate``, ``suspect-id-duplicate``, naming that phase)."""
    earlier = earlier_index(db, report.escrow.escrow_id)
    openings = ((o.index, o.content) for o in report.reveal.openings)
    return [Problem(i, reason, detail) for i, reason, detail in earlier_phase_problems(earlier, openings)]


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
    pin: Sequence[str] = (),
) -> None:
    """Record the result; a valid bundle also records the escrow, the phase and its openings,
    and pins the keys ``pin`` for the escrow's host (when none are pinned yet)."""
    escrow_id, phase = report.escrow.escrow_id, report.reveal.phase
    valid = report.valid and not problems
    sha = hashlib.sha256(bundle).hexdigest()
    body = {**report.to_json(), "valid": valid, "problems": [p.to_json() for p in (*report.problems, *problems)]}
    recorded = format_time(now)
    with ws.connect() as db, transaction(db):
        q.insert_verification(db, escrow_id, phase, sha, "valid" if valid else "invalid", json.dumps(body), recorded)
        if not valid:
            return
        q.insert_escrow(db, escrow_id, own=False, escrow_json=escrow_json, cells_txt=cells_txt, leaves=leaves,
                        territory_geojson=territory_geojson, coverage_checked=territory_geojson is not None, recorded=recorded,
                        if_absent=True)
        if territory_geojson is not None:
            q.mark_coverage_checked(db, escrow_id, territory_geojson)
        if pin and not q.pinned_keys(db, escrow_id):
            q.pin_keys(db, escrow_id, pin, recorded)
        reveal = report.reveal
        q.insert_phase(db, escrow_id, phase, bundle, sha, len(reveal.openings), recorded, if_absent=True, part=reveal.part or 0,
                       parts=reveal.parts or 0, first_index=reveal.openings[0].index, last_index=reveal.openings[-1].index)
        q.insert_opened(db, escrow_id, phase, ((o.index, o.cell, json.dumps(o.content, ensure_ascii=False)) for o in report.reveal.openings))
        if report.reveal.totals is not None:
            q.insert_opened_totals(db, escrow_id, json.dumps(report.reveal.totals.content), phase)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def declaration_problems(db: sqlite3.Connection, escrow_id: str) -> list[dict[str, Any]]:
    """Site ids, serials and suspect ids that the recorded phases of ``escrow_id`` repeat in
    another cell (spec §5), each on the phase that repeats it: found again from what was
    recorded, so data recorded before the check existed is judged too."""
    first_phase: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for i, phase, text in q.declaring_openings(db, escrow_id):
        first_phase[phase].append((i, loads(text)))
    index = DeclarationIndex()
    found: list[dict[str, Any]] = []
    for phase in dict.fromkeys(row.phase for row in q.phases(db, escrow_id)):  # a phase in parts once
        openings = first_phase.get(phase, [])
        for i, reason, detail in earlier_phase_problems(index, openings):
            found.append({"phase": phase, **Problem(i, reason, detail).to_json()})
        for _, content in openings:
            index.add(content, phase)
    return found


def status(ws: Workspace, escrow_id: str | None, quorum: int | None = None) -> dict[str, Any]:
    """Sealed and opened cells, phases, running totals, the reconciliation (once every cell is
    opened: whether the opened sites sum to the declared totals), the problems of the
    declaration as opened so far (a declaration with problems never reconciles), and what of
    it is not final yet on the boards this workspace syncs with (``boards``; each phase's
    ``final``: :func:`unveil.workspace.pending.board_status`, K = ``quorum``)."""
    from unveil.workspace.pending import board_status

    with ws.connect() as db:
        if escrow_id is None:
            ids = q.escrow_ids(db)
            if len(ids) != 1:
                raise MalformedInputError(
                    "no escrow recorded yet" if not ids else f"several escrows ({', '.join(ids)}): choose one", where="--escrow-id")
            escrow_id = ids[0]
        row = q.escrow(db, escrow_id)
        if row is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} in this workspace", where="--escrow-id")
        escrow = parse_escrow(loads(row.escrow_json)["statement"])
        phases = [{"phase": p.phase, "openings": p.openings, "sha256": p.sha256, "recorded": p.recorded,
                   **({"part": p.part, "parts": p.parts} if p.part else {})} for p in q.phases(db, escrow_id)]
        opened_contents = [loads(text) for text in q.opened_contents(db, escrow_id)]
        declared: dict[str, Any] = dict(escrow.totals or {})
        for text in q.opened_totals(db, escrow_id):
            declared.update(loads(text))
        if row.own:
            sealed = q.sealed_totals_json(db, escrow_id)
            if sealed:
                declared.update(loads(sealed))
        problems = declaration_problems(db, escrow_id)
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
        reconciled = not problems and all(exact(declared[c]["quantity"]) == exact_sum(sums.get(c, [])) for c in declared)
    boards = board_status(ws, escrow_id, phases, quorum)
    return {
        "escrow_id": escrow_id, "own": row.own, "cells": escrow.tree_size, "opened": len(opened_contents),
        "coverage_checked": row.coverage_checked, "phases": phases, "totals": totals, "reconciled": reconciled,
        "problems": problems, "boards": boards, "phases_in_parts": phases_in_parts(phases),
    }


def phases_in_parts(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each phase held in parts (spec §5.1), from a status's ``phases`` rows (one a part, with
    ``final`` from :func:`unveil.workspace.pending.board_status`): the parts held and missing,
    ``complete`` when every part is held, and ``final`` when complete and every part is final on
    a board this workspace mirrors (``None`` while some part is on no mirrored board)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in phases:
        if row.get("part"):
            grouped[row["phase"]].append(row)
    found = []
    for phase, rows in grouped.items():
        parts = max(r["parts"] for r in rows)
        held = sorted({r["part"] for r in rows})
        missing = list(islice((k for k in range(1, parts + 1) if k not in held), 100))  # the first 100, however many parts
        finals = [r.get("final") for r in rows]
        final = None if any(f is None for f in finals) else (not missing and all(finals))
        found.append({"phase": phase, "parts": parts, "held": held, "missing": missing, "complete": not missing, "final": final})
    return found


def opened_site(ws: Workspace, escrow_id: str, site_id: str) -> dict[str, Any] | None:
    """The site ``site_id`` as an opened cell of ``escrow_id`` declares it, or ``None`` if no
    opened cell declares it."""
    with ws.connect() as db:
        for text in q.opened_contents(db, escrow_id):
            for site in loads(text).get("sites", ()):
                if site["id"] == site_id:
                    return dict(site)
    return None


def accept_escrow(
    ws: Workspace, *, escrow_json: bytes, cells_txt: bytes, territory_geojson: bytes | None, now: datetime, pin: Sequence[str] = ()
) -> str:
    """Record a received escrow before any reveal (spec §1: after its signature, cell list and
    coverage were checked by the caller), pinning the keys ``pin`` for its host when none are
    pinned yet. Returns the escrow id; refuses a conflicting one."""
    statement = loads(escrow_json)["statement"]
    escrow = parse_escrow(statement)
    recorded = format_time(now)
    with ws.connect() as db, transaction(db):
        row = q.escrow(db, escrow.escrow_id)
        if row is not None:
            if canonicalize(loads(row.escrow_json)["statement"]) != canonicalize(statement):
                raise MalformedInputError(f"this workspace holds another statement for escrow {escrow.escrow_id!r}", where="--escrow")
            if territory_geojson is not None:
                q.mark_coverage_checked(db, escrow.escrow_id, territory_geojson)
        else:  # streamed: a continental cells.txt is not copied whole into SQLite's bind buffer
            blobs.insert_escrow_streamed(db, escrow.escrow_id, own=False, escrow_json=escrow_json, cells_txt=io.BytesIO(cells_txt),
                                         cells_size=len(cells_txt), territory_geojson=territory_geojson,
                                         coverage_checked=territory_geojson is not None, recorded=recorded)
        if pin and not q.pinned_keys(db, escrow.escrow_id):
            q.pin_keys(db, escrow.escrow_id, pin, recorded)
    return escrow.escrow_id
