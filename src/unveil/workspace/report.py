"""``unveil report``: one self-contained HTML document about one escrow, from a workspace only
(docs/reports.md), and optionally its PDF.

:func:`gather` reads, from the workspace's database and its mirror of the boards it follows
(:mod:`.report_log`): the escrow (grid, cells, root), each recorded phase with its
verification here and on the board, the state of every committed cell after each phase
(``discrepancy`` > ``inspected`` > ``opened`` > ``sealed``, as the board's view has it, spec
§11; a site this inspector recorded inspecting with ``unveil inspect`` counts too), the
opened sites, totals against declared totals (:func:`unveil.workspace.records.status`), for an
inspector the truth test of each phase's opened cells against its intelligence, its
inspections and its confidence per phase (:mod:`unveil.workspace.confidence`), the draws, the
discrepancies, and the agreement's obligations. Nothing sealed leaves the workspace into a
report: a host's sealed contents are not read.

:func:`write_report` renders it (:mod:`.report_render`: jinja2, matplotlib) and writes the
HTML all-or-nothing; with a PDF path, the system Chromium prints it (:mod:`.report_pdf`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from unveil.core.escrow import parse_escrow
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError
from unveil.store import workspace_queries as q
from unveil.workspace.workspace import Workspace

__all__ = ["STATES", "choose_escrow", "gather", "write_report"]

STATES = ("sealed", "opened", "inspected", "discrepancy")
"""A cell's states, weakest first (the board view's order)."""


def choose_escrow(ws: Workspace, escrow_id: str | None) -> str:
    """``escrow_id`` if the workspace holds it, else the workspace's one declaration escrow;
    :class:`MalformedInputError` at ``--escrow-id`` naming the choices otherwise."""
    with ws.connect() as db:
        ids = q.escrow_ids(db)
        purposes = {eid: loads(row.escrow_json)["statement"].get("purpose") for eid in ids
                    if (row := q.escrow(db, eid)) is not None}
    if escrow_id is not None:
        if escrow_id not in purposes:
            known = ", ".join(sorted(purposes)) or "none"
            raise MalformedInputError(f"no escrow {escrow_id[:200]!r} in this workspace (it holds: {known})", where="--escrow-id")
        return escrow_id
    declarations = sorted(eid for eid, purpose in purposes.items() if purpose == "declaration")
    if len(declarations) != 1:
        raise MalformedInputError(
            "no declaration escrow recorded in this workspace yet" if not declarations
            else f"several declaration escrows ({', '.join(declarations)}): choose one", where="--escrow-id")
    return declarations[0]


def _site_rows(opened: list[tuple[str, str, dict[str, Any]]], order: dict[str, int]) -> list[dict[str, Any]]:
    sites = []
    for cell, phase, content in opened:
        for site in content.get("sites", ()):
            sites.append({"site_id": site.get("id"), "name": site.get("name"), "kind": site.get("kind"), "cell": cell,
                          "lat": site.get("lat"), "lon": site.get("lon"), "phase": phase, "step": order.get(phase, -1),
                          "items": [{"category": i.get("category"), "quantity": i.get("quantity"), "unit": i.get("unit")}
                                    for i in site.get("items", ())]})
    return sorted(sites, key=lambda s: (s["step"], str(s["site_id"])))


def _step_of_index(index: int, reveals: list[dict[str, Any]], order: dict[str, int]) -> int:
    """The step a board entry belongs to: that of the last reveal logged before it."""
    steps = [order[r["phase"]] for r in reveals if r["index"] < index and r["phase"] in order]
    return max(steps) if steps else 0


def cell_steps(cells: list[str], opened: list[tuple[str, str, dict[str, Any]]], order: dict[str, int],
               inspected: dict[str, int], discrepancies: dict[str, int]) -> list[list[Any]]:
    """``[cell, opened_step, inspected_step, discrepancy_step]`` per committed cell (-1: never),
    the board view's compact rows."""
    opened_at = {cell: order.get(phase, -1) for cell, phase, _ in opened}
    return [[c, opened_at.get(c, -1), inspected.get(c, -1), discrepancies.get(c, -1)] for c in cells]


def state_at(row: list[Any], step: int) -> str:
    """The state of a cell row after ``step`` (the strongest that applies)."""
    _, o, i, d = row
    if 0 <= d <= step:
        return "discrepancy"
    if 0 <= i <= step:
        return "inspected"
    if 0 <= o <= step:
        return "opened"
    return "sealed"


def gather(ws: Workspace, escrow_id: str | None) -> dict[str, Any]:
    """Everything a report shows about one escrow (see the module's docstring), JSON-ready."""
    from unveil.core import cells as cell_file
    from unveil.workspace.records import status
    from unveil.workspace.report_log import log_facts

    escrow_id = choose_escrow(ws, escrow_id)
    with ws.connect() as db:
        row = q.escrow(db, escrow_id)
        assert row is not None
        phases = q.phases(db, escrow_id)
        opened = [(cell, phase, loads(text)) for cell, phase, text in q.opened_rows(db, escrow_id)]
        verifications = _verifications(db, escrow_id)
        inspections = _inspections(db, escrow_id) if ws.role == "inspector" else []
    statement = loads(row.escrow_json)["statement"]
    escrow = parse_escrow(statement)
    cells = list(cell_file.read(bytes(row.cells_txt)).cells)
    order = {p.phase: n for n, p in enumerate(phases)}
    board = log_facts(ws, escrow_id)
    sites = _site_rows(opened, order)
    cell_of_site = {s["site_id"]: s["cell"] for s in sites}
    inspected: dict[str, int] = {}
    for ins in inspections:
        cell = cell_of_site.get(ins["site"])
        if cell is not None and ins["phase"] in order:
            inspected[cell] = min(inspected.get(cell, order[ins["phase"]]), order[ins["phase"]])
    for reported in board["inspections"]:  # spec §11: a cell is inspected once an inspection.reported names it
        step = _step_of_index(reported["index"], [r for r in board["reveals"] if r["origin"] == reported["origin"]], order)
        reported["step"] = step
        if isinstance(reported["cell"], str):
            inspected[reported["cell"]] = min(inspected.get(reported["cell"], step), step)
    discrepancies: dict[str, int] = {}
    for d in board["discrepancies"]:
        step = _step_of_index(d["index"], [r for r in board["reveals"] if r["origin"] == d["origin"]], order)
        d["step"] = step
        if isinstance(d["cell"], str):
            discrepancies[d["cell"]] = min(discrepancies.get(d["cell"], step), step)
    rows = cell_steps(cells, opened, order, inspected, discrepancies)
    st = status(ws, escrow_id)
    phase_rows = []
    for p in phases:
        mine = [v for v in verifications if v["sha256"] == p.sha256]
        phase_rows.append({
            "phase": p.phase, "step": order[p.phase], "openings": p.openings, "sha256": p.sha256, "recorded": p.recorded,
            "verified_here": mine[-1] if mine else None,
            "on_board": [r for r in board["reveals"] if r["sha256"] == p.sha256],
            "board_verifications": [v for v in board["verifications"] if v["sha256"] == p.sha256],
            "counts": {s: sum(1 for r in rows if state_at(r, order[p.phase]) == s) for s in STATES},
        })
    inspector = _inspector_part(ws, escrow_id, phases, opened, escrow.grid.resolution) if (
        ws.role == "inspector" and statement.get("purpose") == "declaration") else None
    return {
        "party": {"name": ws.name, "role": ws.role},
        "escrow": {"escrow_id": escrow_id, "host": statement.get("host"), "purpose": statement.get("purpose"),
                   "created": statement.get("created"), "resolution": escrow.grid.resolution, "cells": escrow.tree_size,
                   "root": escrow.root, "own": bool(row.own)},
        "phases": phase_rows, "cells": rows, "sites": sites,
        "totals": st["totals"], "units": _units(sites), "reconciled": st["reconciled"], "opened": st["opened"], "problems": st["problems"],
        "rejected": [v for v in verifications if v["status"] != "valid"],
        "inspections": inspections, "board": board, "inspector": inspector,
    }


def _units(sites: list[dict[str, Any]]) -> dict[str, str]:
    """Each category's unit as the opened sites declare it (spec §2: one unit per category)."""
    units: dict[str, str] = {}
    for site in sites:
        for item in site["items"]:
            if isinstance(item["category"], str) and isinstance(item["unit"], str):
                units.setdefault(item["category"], item["unit"])
    return units


def _verifications(db: Any, escrow_id: str) -> list[dict[str, Any]]:
    found = []
    for phase, sha, result, text, recorded in q.verifications(db, escrow_id):
        report = loads(text)
        found.append({"phase": phase, "sha256": sha, "status": result, "recorded": recorded,
                      "problems": [f"{p.get('reason')}: {p.get('detail', '')}" for p in report.get("problems", [])][:50]})
    return found


def _inspections(db: Any, escrow_id: str) -> list[dict[str, Any]]:
    return [{"phase": phase, "site": site, "result": result, "detail": detail, "recorded": recorded}
            for phase, site, result, detail, recorded in q.site_inspections(db, escrow_id)]


def _inspector_part(ws: Workspace, escrow_id: str, phases: Any, opened: list[tuple[str, str, dict[str, Any]]],
                    resolution: int | None) -> dict[str, Any] | None:
    """The inspector's own analysis: its suspects, the truth test of each phase's opened cells,
    its suspect inspections, and its confidence after each phase (None without suspects)."""
    from unveil.workspace.confidence import confidence
    from unveil.workspace.intel import _suspects

    with ws.connect() as db:
        suspects = _suspects(db)
        suspect_checks = [{"phase": p, "suspect": s, "result": r, "detection": d} for p, s, r, d in q.suspect_inspections(db, escrow_id)]
    if not suspects or resolution is None:
        return None
    from unveil.inspection import contents_by_cell, truth_test

    cell_of = {s["id"]: cell for cell, content in contents_by_cell(suspects, resolution).items() for s in content["suspects"]}
    truth = []
    for p in phases:
        mine = {cell for cell, phase, _ in opened if phase == p.phase}
        sites = [site for cell, phase, content in opened if phase == p.phase for site in content.get("sites", ())]
        judged = [s for s in suspects if cell_of[s["id"]] in mine]
        result = truth_test(sites, judged).to_json()
        truth.append({"phase": p.phase, "sites": len(sites), "suspects": len(judged), **result})
    curve = confidence(ws, escrow_id)["phases"] if phases else []
    return {
        "suspects": [{"id": s["id"], "kind": s.get("kind"), "lat": s["lat"], "lon": s["lon"], "cell": cell_of[s["id"]],
                      "confidence": s.get("confidence")} for s in suspects],
        "truth": truth, "suspect_inspections": suspect_checks,
        "confidence": [{"phase": c["phase"], "probability": c["probability"], "exact_part": c["exact_part"]} for c in curve],
    }


def _check_writable(path: Path, option: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise MalformedInputError("is a directory; give a file path", source=str(path), where=option)
    if not parent.is_dir():
        raise MalformedInputError("its folder does not exist", source=str(path), where=option)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MalformedInputError("its folder is not writable", source=str(path), where=option)


def _write_atomically(path: Path, data: bytes, option: str) -> None:
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)  # a document to hand on: the usual mode, not mkstemp's 0600
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise MalformedInputError(f"cannot be written: {exc.strerror or exc}", source=str(path), where=option) from None


def write_report(ws: Workspace, escrow_id: str | None, out: Path, pdf: Path | None = None) -> dict[str, Any]:
    """Gather, render and write the HTML report to ``out`` (and its PDF to ``pdf``); both
    paths are checked writable before any work, and each file is written whole or not at all.
    Returns ``{"escrow_id", "html", "pdf", "bytes", "phases", "cells", "drawn_resolution"}``."""
    from unveil.workspace.report_render import render_html

    _check_writable(out, "--out")
    if pdf is not None:
        _check_writable(pdf, "--pdf")
        from unveil.workspace.report_pdf import check_renderer

        check_renderer()
    data = gather(ws, escrow_id)
    html, drawn = render_html(data)
    encoded = html.encode("utf-8")
    _write_atomically(out, encoded, "--out")
    if pdf is not None:
        from unveil.workspace.report_pdf import print_pdf

        _write_atomically(pdf, print_pdf(html), "--pdf")
    return {"escrow_id": data["escrow"]["escrow_id"], "html": str(out), "pdf": None if pdf is None else str(pdf), "bytes": len(encoded),
            "phases": [p["phase"] for p in data["phases"]], "cells": data["escrow"]["cells"], "drawn_resolution": drawn}
