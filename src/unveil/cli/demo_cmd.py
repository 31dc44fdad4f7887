"""``unveil demo``: the built-in fictional exercise end to end.

The host seals Exampleland's declaration; three phases open three regions; the inspector
verifies each (checking the cells cover the agreed territory first); a tampered copy of a
bundle, re-signed by the host, is rejected with its reasons; the last phase opens the rest
and the totals reconcile; then the two sides play an agreement, action for action
(:mod:`unveil.cli.demo_agreement`); last, two verification regimes for Exampleland are compared
by the regime simulator (:mod:`unveil.cli.demo_regimes`), and the inspector's report is written
(:mod:`unveil.cli.demo_report`). Everything runs through the same services as the CLI commands, with
real workspaces under ``OUT/workspaces``. All data is fictional.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from unveil.cli.edge import Done
from unveil.cli.exits import ExitCode

ARTIFACTS = ("escrow.json", "cells.txt", "leaves.bin")


def run(out: Path, as_json: bool) -> int:
    """Run the exercise; exit 0 when every step came out as expected, 1 otherwise."""
    from unveil.cli.edge import run as run_command

    return run_command(as_json, lambda: _exercise(out))


def _exercise(out: Path) -> Done:
    import h3

    from unveil import exercise
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.statements import sign_statement
    from unveil.core.verify import check_bundle
    from unveil.declaration import read_declaration
    from unveil.geo import regions
    from unveil.geo.territory import missing_cells, read_territory
    from unveil.workspace import host
    from unveil.workspace.records import record_verification, status
    from unveil.workspace.workspace import create

    started = time.perf_counter()
    when = datetime.now(timezone.utc).replace(microsecond=0)
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("reveal-*.json"), *(out / name for name in (*ARTIFACTS, "board.db", "board.db-wal", "board.db-shm"))]:
        old.unlink(missing_ok=True)
    shutil.rmtree(out / "workspaces", ignore_errors=True)
    shutil.rmtree(out / "intel", ignore_errors=True)
    host_ws = create(out / "workspaces" / "host", "host", "Exampleland")
    inspector_ws = create(out / "workspaces" / "inspector", "inspector", "Inspectorate")
    (out / "territory.geojson").write_bytes(exercise.territory_bytes())

    resolution = exercise.RESOLUTION
    land = read_territory(exercise.territory_bytes(), source="exercise/territory.geojson")
    declaration = read_declaration(
        exercise.declaration_bytes(), source="exercise/declaration.json", contains=land.contains,
        resolution=resolution,
    )
    cells = land.cells(resolution)
    escrow_id = "exampleland-" + when.strftime("%Y%m%d-%H%M%S")
    committed = host.commit(
        host_ws, escrow_id=escrow_id, cells=cells, resolution=resolution, contents=declaration.contents(resolution),
        out=out, now=when, public_totals=declaration.totals(["warhead"]),
        sealed_totals=declaration.totals(["heu", "plutonium"]), territory_geojson=exercise.territory_bytes(),
    )
    escrow_json, cells_txt = (out / "escrow.json").read_bytes(), (out / "cells.txt").read_bytes()
    escrow_signed, cell_list = parse_signed(loads(escrow_json)), cell_file.read(cells_txt)
    uncovered = missing_cells(land, resolution, cell_list.cells)  # the inspector's own coverage check (spec §1)

    # Three regions: the coarse (resolution 3) cells holding the most declared sites.
    sites_per_region = Counter(h3.cell_to_parent(cell, 3) for cell in declaration.contents(resolution))
    chosen = [region for region, _ in sites_per_region.most_common(3)]
    rows: list[dict[str, Any]] = []

    def check(phase: str, path: Path, leaves: bytes | None = None) -> dict[str, Any]:
        bundle = path.read_bytes()
        report = check_bundle(escrow_signed, parse_signed(loads(bundle)), cell_list, leaves=leaves, trusted=[host_ws.vkey])
        # recorded a second apart, so the workspace orders the phases as they came (confidence by phase)
        record_verification(inspector_ws, report, [], escrow_json=escrow_json, cells_txt=cells_txt, bundle=bundle,
                            leaves=leaves, territory_geojson=exercise.territory_bytes(), now=when + timedelta(seconds=len(rows)))
        st = status(inspector_ws, escrow_id)
        sites = sum(len(o.content["sites"]) for o in report.reveal.openings)
        return {"bundle": path.name, "phase": phase, "openings": len(report.reveal.openings), "sites": sites,
                "verdict": report.status, "reasons": sorted({str(p.reason) for p in report.problems}),
                "opened": f"{st['opened']}/{st['cells']}", "warheads_opened": st["totals"].get("warhead", {}).get("opened", 0)}

    from unveil.cli import demo_agreement
    from unveil.cli.demo_board import board_running
    from unveil.cli.demo_inspector import DemoInspector
    from unveil.cli.demo_inspector import expected as inspector_expected

    # The board runs from the start: the escrow, the inspector's intelligence escrow, each phase
    # with its verification, the draws and discrepancies are logged as they happen.
    with board_running(out, host_ws, inspector_ws) as session:
        session.publish_escrow()
        inspector = DemoInspector(out, session, host_ws, inspector_ws, escrow_id, when)
        try:
            inspector.prepare(escrow_json, cells_txt, exercise.territory_bytes())
            for number, region in enumerate(chosen, start=1):
                phase = f"phase-{number}"
                indices = regions.select_indices(cell_list.cells, resolution, parents=[region])
                path = out / f"reveal-{phase}.json"
                host.reveal(host_ws, escrow_id=escrow_id, phase=phase, indices=indices, out=path, now=when)
                rows.append(check(phase, path))
                session.publish_phase(path)
                inspector.after_phase(phase, path)
                if number == 1:
                    rows.append(_tampered(out, path, host_ws, sign_statement, check, (out / "leaves.bin").read_bytes()))
            opened = {o["index"] for p in out.glob("reveal-phase-*.json") if "tamper" not in p.name
                      for o in loads(p.read_bytes())["statement"]["openings"]}
            rest = [i for i in range(len(cell_list.cells)) if i not in opened]
            final = out / "reveal-final.json"
            host.reveal(host_ws, escrow_id=escrow_id, phase="final", indices=rest, out=final, now=when, open_totals=True)
            rows.append(check("final", final))
            session.publish_phase(final)
            inspector.after_phase("final", final)
        finally:
            inspector.close()
        agreement = demo_agreement.run(session, out, escrow_id)  # action for action, once every cell is open
        board = session.finish()
    from unveil.cli import demo_regimes

    regimes = demo_regimes.run(out, committed.cells, len(declaration.sites), len(exercise.HIDDEN_SITES))
    final_status = status(inspector_ws, escrow_id)
    from unveil.cli import demo_material

    material = demo_material.run(out, final_status["totals"]["plutonium"]["opened"])
    from unveil.cli import demo_report

    report = demo_report.run(out, inspector_ws, escrow_id)
    inspector_summary = inspector.summary()
    seconds = time.perf_counter() - started

    expected = ["valid", "invalid", "valid", "valid", "valid"]
    ok = ([r["verdict"] for r in rows] == expected and final_status["reconciled"] is True and not uncovered
          and sorted(board["cosigned_by"]) == sorted([host_ws.name, inspector_ws.name, "Observer"])
          and inspector_expected(inspector_summary, chosen) and demo_agreement.expected(agreement)
          and demo_regimes.expected(regimes) and demo_material.expected(material) and demo_report.expected(report))
    summary = {
        "exercise": exercise.EXERCISE_NAME, "fictional": True, "escrow_id": escrow_id, "cells": committed.cells,
        "non_empty": committed.non_empty, "root": committed.root, "coverage_missing": len(uncovered),
        "bundles": rows, "totals": final_status["totals"], "reconciled": final_status["reconciled"],
        "out": str(out), "workspaces": [str(host_ws.path), str(inspector_ws.path)], "host_vkey": host_ws.vkey,
        "board": board, "inspector": inspector_summary, "agreement": agreement, "regimes": regimes, "material": material, "report": report, "seconds": round(seconds, 1), "as_expected": ok,
    }
    return Done(summary, lambda: _show(summary, exercise.DESCRIPTION), ExitCode.OK if ok else ExitCode.INVALID)


def _tampered(out: Path, path: Path, host_ws: Any, sign_statement: Any, check: Any, leaves: bytes) -> dict[str, Any]:
    """A cheating host hides material in a reopened cell and re-signs: the proof catches it."""
    from unveil.core.jsonparse import loads

    statement = copy.deepcopy(loads(path.read_bytes())["statement"])
    for opening in statement["openings"]:
        for site in opening["content"]["sites"]:
            for item in site["items"]:
                if item["unit"] == "kg" or (item["category"] in ("missile", "launcher") and item["quantity"] > 1):
                    item["quantity"] = item["quantity"] - 1  # one unit fewer than committed
                    break
            else:
                continue
            break
        else:
            continue
        break
    tampered = out / path.name.replace(".json", "-tampered.json")
    tampered.write_text(json.dumps(sign_statement(statement, [host_ws.statement_key()]), indent=1) + "\n")
    return check("phase-1 (tampered copy)", tampered, leaves)


def _show(summary: dict[str, Any], description: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if Console().is_terminal else 120)
    console.print(f"[bold]unveil demo[/]: {description}", highlight=False)
    console.print(f"escrow {summary['escrow_id']}: {summary['cells']} H3 cells, {summary['non_empty']} with declared sites; "
                  f"root {summary['root'][:16]}…; coverage of the agreed territory: "
                  + ("complete" if not summary["coverage_missing"] else f"{summary['coverage_missing']} cells MISSING"), highlight=False)
    table = Table("bundle", "openings", "sites", "verdict", "reasons", "opened so far", "warheads seen")
    for r in summary["bundles"]:
        colour = "green" if r["verdict"] == "valid" else "red"
        table.add_row(r["bundle"], str(r["openings"]), str(r["sites"]), f"[{colour}]{r['verdict']}[/]",
                      ", ".join(r["reasons"]), r["opened"], str(r["warheads_opened"]))
    console.print(table)
    totals = Table("category", "declared", "opened")
    for category, t in summary["totals"].items():
        if t["declared"] is not None:
            totals.add_row(category, str(t["declared"]), str(t["opened"]))
    console.print(totals)
    console.print(("[bold green]reconciled[/]: every declared total matches what was opened" if summary["reconciled"]
                   else "[bold red]not reconciled[/]"), highlight=False)
    console.print(f"artifacts in {summary['out']}/ (escrow.json, cells.txt, leaves.bin, reveal-*.json); workspaces in "
                  f"{summary['out']}/workspaces; {summary['seconds']} s", highlight=False)
    board = summary["board"]
    console.print(f"public board {board['origin']}: {board['entries']} events published; checkpoint cosigned by "
                  f"{', '.join(board['cosigned_by'])} (final size {board['final_size']}):", highlight=False)
    console.print(board["checkpoint"].rstrip(), highlight=False, markup=False)
    console.print(f"serve it again: {board['serve_sh']} --port 8123   (parties: {board['parties']}, database: {board['board_db']}); "
                  "then open http://127.0.0.1:8123/", highlight=False)
    if summary.get("inspector"):
        _show_inspector(console, summary["inspector"])
    if summary.get("agreement"):
        from unveil.cli import demo_agreement

        demo_agreement.show(console, summary["agreement"])
    if summary.get("regimes"):
        from unveil.cli import demo_regimes

        demo_regimes.show(console, summary["regimes"])
    if summary.get("material"):
        from unveil.cli import demo_material

        demo_material.show(console, summary["material"])
    if summary.get("report"):
        from unveil.cli import demo_report

        demo_report.show(console, summary)
    console.print(f"check one yourself:  unveil verify {summary['out']}/reveal-phase-2.json --escrow {summary['out']}/escrow.json "
                  f"--cells {summary['out']}/cells.txt --trust '{summary['host_vkey']}'", highlight=False)


def _show_inspector(console: Any, inspector: dict[str, Any]) -> None:
    """The inspector's side, one row per phase: the truth test, challenges, the draw, the confidence."""
    from rich.table import Table

    sealed = inspector["sealed"]
    console.print(f"inspector: {sealed['suspects']} suspects sealed as intel escrow {inspector['intel_escrow']} before any reveal "
                  f"(root {str(sealed['root'])[:16]}…); inspections are simulated against the FICTIONAL ground truth", highlight=False)
    table = Table("phase", "confirmed", "undeclared", "found", "cleared", "draw seed", "inspected (drawn)", "P(no undeclared left)")
    for p in inspector["phases"]:
        draw = p["draw"]
        found = ", ".join(f"[red]{f['site']}[/] ({f['suspect']}, entry {f['discrepancy_index']})" for f in p["found"])
        inspected = ", ".join(r["site"] if r["result"] == "consistent" else f"[red]{r['site']}[/]" for r in p["inspected"])
        table.add_row(p["phase"], ", ".join(p["confirmed"]), ", ".join(p["undeclared"]), found,
                      ", ".join(f"[green]{s}[/]" for s in p["cleared"]), (draw["seed"] or "")[:12],
                      f"{inspected} ({draw['n']} of {len(draw['population'])})", f"{p['confidence']['probability']:.3g}")
    console.print(table)
    confidence = "  ".join(f"{c['phase']} {c['probability']:.3g}" for c in inspector["confidence"])
    console.print("confidence that no undeclared site remains, after each phase (background: 1/2 site no intelligence "
                  f"points to; 0 once one is found): {confidence}", highlight=False)
    hidden = ", ".join(f"{h['site']} in {h['phase']}" for h in inspector["hidden_found"]) or "none"
    cleared = ", ".join(f"{c['suspect']} in {c['phase']}" for c in inspector["false_leads_cleared"]) or "none"
    console.print(f"undeclared sites found: {hidden}; false leads cleared: {cleared}", highlight=False)
