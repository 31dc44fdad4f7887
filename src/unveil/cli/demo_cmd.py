"""``unveil demo``: a fictional declaration committed, opened in three phases, and checked.

Everything here is made up (a fictional area and inventory). It exercises the real code
path: commit every cell, sign, reveal regions with multiproofs, verify each bundle from the
files written, and show a tampered bundle rejected with its reasons.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FICTIONAL_CENTRE = (41.5, 23.5)  # a fictional area; nothing here describes a real place


def _declaration(cells: list[str]) -> dict[str, dict[str, Any]]:
    import h3

    def site(cell: str, site_id: str, kind: str, items: list[dict[str, Any]], name: str | None = None) -> dict[str, Any]:
        lat, lon = h3.cell_to_latlng(cell)
        out: dict[str, Any] = {"id": site_id, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6), "items": items}
        if name:
            out["name"] = name
        return out

    plan = [
        (5, "S-01", "enrichment", [{"category": "centrifuge", "quantity": 1800, "unit": "count"},
                                   {"category": "heu", "quantity": 38.5, "unit": "kg", "type": "90% U-235"}], "Fictional enrichment hall"),
        (60, "S-02", "weapons-storage", [{"category": "warhead", "quantity": 4, "unit": "count",
                                          "serials": ["W-01", "W-02", "W-03", "W-04"]}], None),
        (120, "S-03", "missile-base", [{"category": "launcher", "quantity": 6, "unit": "count"},
                                       {"category": "missile", "quantity": 12, "unit": "count"}], None),
        (200, "S-04", "reactor", [{"category": "plutonium", "quantity": 21.75, "unit": "kg"},
                                  {"category": "reactor", "quantity": 1, "unit": "count"}], "Fictional research reactor"),
        (300, "S-05", "weapons-storage", [{"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-05", "W-06"]}], None),
    ]
    return {cells[i]: {"cell": cells[i], "sites": [site(cells[i], sid, kind, items, name)]} for i, sid, kind, items, name in plan}


def run(out: Path, as_json: bool) -> int:
    import h3

    from unveil.core import cells as cell_file
    from unveil.core.build import escrow_statement, reveal_statement
    from unveil.core.commitments import Salter
    from unveil.core.encoding import format_time
    from unveil.core.envelope import parse_signed
    from unveil.core.escrow import Grid, parse_escrow
    from unveil.core.jsonparse import loads
    from unveil.core.keys import STATEMENT_KEY, SigningKey
    from unveil.core.statements import sign_statement
    from unveil.core.verify import check_bundle
    from unveil.escrowing import commit_cells, open_cells

    out.mkdir(parents=True, exist_ok=True)
    root_cell = h3.latlng_to_cell(*FICTIONAL_CENTRE, 4)
    cells = sorted(h3.cell_to_children(root_cell, 7))
    contents = _declaration(cells)
    secret = os.urandom(32)  # the master secret: used here, never written to disk
    key = SigningKey.generate("Host", STATEMENT_KEY, os.urandom(32))
    escrow_id = "demo-" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    salter = Salter(secret, escrow_id)
    commitment = commit_cells(secret, escrow_id, cells, contents)
    cells_txt = cell_file.render(cells)
    sealed = {"heu": {"quantity": 38.5, "unit": "kg"}, "plutonium": {"quantity": 21.75, "unit": "kg"}}
    statement = escrow_statement(
        escrow_id=escrow_id, host="Host", created=format_time(datetime.now(timezone.utc)),
        grid=Grid("h3", len(cells), hashlib.sha256(cells_txt).hexdigest(), 7), root=commitment.root,
        salter=salter, public_totals={"warhead": {"quantity": 6, "unit": "count"}}, sealed=sealed,
    )
    escrow = parse_escrow(statement)
    (out / "escrow.json").write_text(json.dumps(sign_statement(statement, [key]), indent=1) + "\n")
    (out / "cells.txt").write_bytes(cells_txt)
    (out / "leaves.bin").write_bytes(commitment.leaves)

    regions = sorted(h3.cell_to_children(root_cell, 5))  # 7 regions of 49 cells each
    opened: set[int] = set()
    phases = [("phase-1", [regions[0]]), ("phase-2", [regions[2]]), ("phase-3", [regions[4], regions[5]]), ("final", None)]
    rows = []
    cell_list = cell_file.read(cells_txt)
    for phase, chosen in phases:
        if chosen is None:
            indices = [i for i in range(len(cells)) if i not in opened]
        else:
            indices = [i for i, c in enumerate(cells) if h3.cell_to_parent(c, 5) in chosen]
        openings, proof = open_cells(secret, escrow_id, cells, contents, commitment.leaves, indices)
        bundle = reveal_statement(escrow=escrow, phase=phase, openings=openings, proof=proof,
                                  totals=sealed if phase == "final" else None, salter=salter)
        path = out / f"reveal-{phase}.json"
        path.write_text(json.dumps(sign_statement(bundle, [key]), indent=1) + "\n")
        report = check_bundle(parse_signed(loads((out / "escrow.json").read_bytes())), parse_signed(loads(path.read_bytes())),
                              cell_list, trusted=[key.vkey])
        opened.update(indices)
        sites = sum(len(o["content"]["sites"]) for o in openings)
        rows.append({"bundle": path.name, "openings": len(indices), "proof_hashes": len(proof), "sites": sites,
                     "opened_so_far": f"{len(opened)}/{len(cells)}", "verdict": report.status, "problems": [p.reason for p in report.problems]})
        if phase == "phase-1":
            tampered = copy.deepcopy(bundle)
            for o in tampered["openings"]:
                if o["content"]["sites"]:
                    o["content"]["sites"][0]["items"][1]["quantity"] = 30.0  # hide 8.5 kg of HEU
            tpath = out / "reveal-phase-1-tampered.json"
            tpath.write_text(json.dumps(sign_statement(tampered, [key]), indent=1) + "\n")
            treport = check_bundle(parse_signed(loads((out / "escrow.json").read_bytes())), parse_signed(loads(tpath.read_bytes())),
                                   cell_list, leaves=commitment.leaves, trusted=[key.vkey])
            rows.append({"bundle": tpath.name, "openings": len(indices), "proof_hashes": len(proof), "sites": sites,
                         "opened_so_far": "-", "verdict": treport.status,
                         "problems": sorted({p.reason for p in treport.problems})})
    ok = [r["verdict"] for r in rows] == ["valid", "invalid", "valid", "valid", "valid"]
    summary = {"escrow_id": escrow_id, "cells": len(cells), "root": commitment.root.hex(), "out": str(out),
               "host_vkey": key.vkey, "bundles": rows, "as_expected": ok}
    if as_json:
        print(json.dumps(summary))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console(width=None if Console().is_terminal else 120)
        console.print(f"[bold]unveil demo[/] (fictional data): escrow {escrow_id}, {len(cells)} H3 cells at resolution 7")
        console.print(f"root {commitment.root.hex()}  host key {key.vkey}", highlight=False)
        table = Table("bundle", "openings", "proof hashes", "sites", "opened", "verdict", "reasons")
        for r in rows:
            style = "green" if r["verdict"] == "valid" else "red"
            table.add_row(r["bundle"], str(r["openings"]), str(r["proof_hashes"]), str(r["sites"]), r["opened_so_far"],
                          f"[{style}]{r['verdict']}[/]", ", ".join(r["problems"]))
        console.print(table)
        console.print(f"Artifacts in {out}/: escrow.json, cells.txt, leaves.bin, reveal-*.json. "
                      "Check one yourself:\n  unveil verify " + f"{out}/reveal-phase-2.json --escrow {out}/escrow.json --cells {out}/cells.txt",
                      highlight=False)
    return 0 if ok else 1
