"""The inspector's confidence, after each verified phase of a declaration escrow, that no
undeclared site remains: the workspace's evidence fed to :mod:`unveil.analytics.confidence`
(model: docs/confidence.md).

For each verified phase (ordered by ``phases.recorded``, then name) a *cumulative* snapshot
is built from everything recorded up to and including that phase:

* every imported suspect (table ``suspects``), prior = its ``confidence``, in state
  ``found`` if a suspect inspection so far says found (this wins over every other state:
  a found undeclared site is never hidden); else ``sealed`` if its cell (at the
  declaration's H3 resolution) is not opened; else ``declared`` if the truth test of the
  opened sites so far against the suspects in opened cells pairs it (confirmed or
  mismatch); else ``cleared`` with d = 1 − Π(1 − dᵢ) over its nothing-found inspections
  so far; else ``opened``;
* ``cells`` = the escrow's cell count, ``opened_cells`` = distinct opened cells so far;
* ``inspected`` = one combined detection per opened cell holding an inspected suspect
  (1 − Π(1 − dᵢ) over every suspect inspection there so far), so ``len(inspected) ≤
  opened_cells`` as the model requires.

Access (spec §12): given the board's origin, a cell whose access request is ``delayed`` or
``refused`` in the workspace's mirror of that board (``unveil sync``) counts as not inspected:
its suspects are never ``cleared`` (a nothing-found inspection there is not counted, so they
keep their prior), and it adds no detection to ``inspected``. A ``found`` still counts.

Suspect inspections (table ``suspect_inspections``, written by
:func:`unveil.workspace.findings.inspect_report`) count from the phase they name; those naming
a phase that is not a verified phase of the escrow, or a suspect not in the current import,
are not used.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError
from unveil.store import workspace_queries as q
from unveil.workspace.workspace import Workspace


def _choose_declaration(db: Any, escrow_id: str | None) -> str:
    if escrow_id is not None:
        return escrow_id
    ids = []
    for eid, text in q.received_escrows(db):
        if loads(text)["statement"].get("purpose") == "declaration":
            ids.append(eid)
    if len(ids) != 1:
        raise MalformedInputError(
            "no declaration escrow recorded yet" if not ids else f"several declaration escrows ({', '.join(ids)}): choose one",
            where="--escrow-id")
    return ids[0]


def _fraction(value: str, where: str) -> Fraction:
    from unveil.analytics.planning import _exact

    try:
        return _exact(value, where)
    except ValueError as exc:
        raise MalformedInputError(str(exc), where=where) from None


def confidence_by_phase(
    ws: Workspace, escrow_id: str | None, *, background: str = "0", open_credit: str = "0", board_origin: str | None = None
) -> list[dict[str, Any]]:
    """``[{"phase", "probability", "exact_part" (p/q), "background_expected", "suspects":
    {id: {"state", "p"}}}]``, one per verified phase of the declaration escrow, in order."""
    return confidence(ws, escrow_id, background=background, open_credit=open_credit, board_origin=board_origin)["phases"]


def _withheld_cells(db: Any, origin: str, escrow_id: str, opened_rows: list[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """The cells of ``escrow_id``'s delayed or refused access requests in the workspace's mirror
    of board ``origin`` (as of its newest entry): a requested cell, or the cell that declares a
    requested site (spec §12)."""
    from unveil.store import witness_db
    from unveil.workspace.custody import withheld_in_log

    witness_db.ensure_tables(db)
    sites, cells = withheld_in_log(witness_db.mirror_entries(db, origin), escrow_id)
    for cell, _, content in opened_rows:
        if any(site["id"] in sites for site in content.get("sites", ())):
            cells.add(cell)
    return cells


def confidence(
    ws: Workspace, escrow_id: str | None, *, background: str = "0", open_credit: str = "0", board_origin: str | None = None
) -> dict[str, Any]:
    """``{"escrow_id", "phases", "withheld_cells"}``: the declaration escrow (``escrow_id``, or
    the only one this workspace received) and :func:`confidence_by_phase` of it. With
    ``board_origin``, the cells of the escrow's delayed or refused access requests in this
    workspace's mirror of that board (``unveil sync``) count as not inspected, in every phase:
    their suspects are never ``cleared`` (they keep their prior) and their inspections add no
    detection (spec §12); ``withheld_cells`` lists them (sorted)."""
    from unveil.analytics.confidence import PhaseEvidence, Suspect, over_phases
    from unveil.inspection import contents_by_cell, truth_test
    from unveil.workspace.intel import _declaration, _suspects

    ws.require_role("inspector")
    lam = _fraction(background, "--background")
    credit = _fraction(open_credit, "--open-credit")
    with ws.connect() as db:
        escrow_id = _choose_declaration(db, escrow_id)
        decl = _declaration(db, escrow_id, where="--escrow-id")
        suspects = _suspects(db)
        phases = list(dict.fromkeys(row.phase for row in q.phases(db, escrow_id)))  # a phase in parts once
        opened_rows = [(cell, phase, loads(text)) for cell, phase, text in q.opened_rows(db, escrow_id)]
        inspections = q.suspect_inspections(db, escrow_id)
        withheld = _withheld_cells(db, board_origin, escrow_id, opened_rows) if board_origin is not None else set()
    resolution = decl.escrow.grid.resolution
    assert resolution is not None
    cell_of = {s["id"]: cell for cell, content in contents_by_cell(suspects, resolution).items()
               for s in content["suspects"]}
    by_id = {s["id"]: s for s in suspects}
    order = {phase: n for n, phase in enumerate(phases)}

    evidence = []
    for n, phase in enumerate(phases):
        so_far = [(cell, content) for cell, p, content in opened_rows if order[p] <= n]
        opened = {cell for cell, _ in so_far}
        sites = [site for _, content in so_far for site in content.get("sites", ())]
        judged = [s for s in suspects if cell_of[s["id"]] in opened]
        test = truth_test(sites, judged)
        paired = {x for _, x in test.confirmed} | {x for _, x, _ in test.mismatch}
        found: set[str] = set()
        misses: dict[str, Fraction] = {}  # suspect -> Π(1 − dᵢ) over nothing-found inspections
        cell_misses: dict[str, Fraction] = {}  # opened cell -> Π(1 − dᵢ) over every inspection there
        for p, suspect, result, detection in inspections:
            if p not in order or order[p] > n or suspect not in by_id:
                continue
            d = Fraction(detection)
            if result == "found":
                found.add(suspect)  # a found undeclared site is never hidden
            if cell_of[suspect] in withheld:
                continue  # spec §12: access delayed or refused, the cell counts as not inspected
            if result != "found":
                misses[suspect] = misses.get(suspect, Fraction(1)) * (1 - d)
            if cell_of[suspect] in opened:
                cell_misses[cell_of[suspect]] = cell_misses.get(cell_of[suspect], Fraction(1)) * (1 - d)
        snapshot = {}
        for s in suspects:
            sid, prior = s["id"], s["confidence"]
            if sid in found:
                snapshot[sid] = Suspect(prior, "found")
            elif cell_of[sid] not in opened:
                snapshot[sid] = Suspect(prior, "sealed")
            elif sid in paired:
                snapshot[sid] = Suspect(prior, "declared")
            elif sid in misses:
                snapshot[sid] = Suspect(prior, "cleared", detection=1 - misses[sid])
            else:
                snapshot[sid] = Suspect(prior, "opened")
        try:
            evidence.append(PhaseEvidence(
                suspects=snapshot, cells=decl.escrow.tree_size, background=lam, opened_cells=len(opened),
                inspected=tuple(1 - m for _, m in sorted(cell_misses.items())), open_credit=credit))
        except ValueError as exc:
            where = "--background" if str(exc).startswith("background") else (
                "--open-credit" if str(exc).startswith("open_credit") else f"phase {phase}")
            raise MalformedInputError(str(exc), where=where) from None
    try:
        results = over_phases(evidence)
    except ValueError as exc:
        raise MalformedInputError(str(exc), where="suspect inspections") from None
    return {"escrow_id": escrow_id, "withheld_cells": sorted(withheld), "phases": [
        {
            "phase": phase,
            "probability": r.probability,
            "exact_part": f"{r.exact_part.numerator}/{r.exact_part.denominator}",
            "background_expected": r.background_expected,
            "suspects": {sid: {"state": e.suspects[sid].state, "p": float(r.per_suspect[sid])} for sid in e.suspects},
        }
        for phase, e, r in zip(phases, evidence, results, strict=True)
    ]}


__all__ = ["confidence", "confidence_by_phase"]
