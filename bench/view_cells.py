"""The board's ``GET /view/escrows/{id}/cells`` for 100,000 H3 cells (spec §11 "Views"), printed
as JSON: the first answer after the log grew (the view folds the new entries, reads the reveal
files and cells.txt, builds and encodes every row) and a repeated one (kept per log size).
Target: well under a second.

A real board (in memory, through the HTTP app): one escrow of about 100,000 res-8 cells, two
phases opening 20,000 and 10,000 of them, an inspection and a discrepancy. Baseline, same run:
``GET /healthz`` (the HTTP stack's floor) and ``GET /entries?start=0`` (a read of the log under
its lock); each figure's ratio to the /entries read is printed.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from typing import Any

import h3
from fastapi.testclient import TestClient

from unveil.api.app import create_app
from unveil.board.events import make_event
from unveil.board.log import Log, MemoryStorage
from unveil.board.parties import read_parties
from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.escrow import Grid, parse_escrow
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.statements import sign_statement
from unveil.escrowing import commit_cells, open_cells

ESCROW = "bench-100k"
T = "2026-01-01T00:00:00Z"
NOW = 1767225600 + 60  # a minute after T


def _key(name: str) -> SigningKey:
    return SigningKey.generate(name, STATEMENT_KEY, hashlib.sha256(f"bench view {name}".encode()).digest())


BOARD, HOST, INSPECTOR = _key("bench-board"), _key("Host"), _key("Inspector")
PARTIES = read_parties(json.dumps([
    {"name": "bench-board", "role": "board", "vkey": BOARD.vkey, "witness_vkey": None},
    {"name": "Host", "role": "host", "vkey": HOST.vkey, "witness_vkey": None},
    {"name": "Inspector", "role": "inspector", "vkey": INSPECTOR.vkey, "witness_vkey": None},
]).encode())


def event(kind: str, body: dict[str, Any], key: SigningKey, escrow_id: str) -> dict[str, Any]:
    return make_event(kind, escrow_id, T, body, [key])


def timed(call: Any, repeat: int = 5) -> float:
    """The median wall time of ``call()`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    centre = h3.latlng_to_cell(39.0, 125.7, 8)
    cells = sorted(h3.grid_disk(centre, 183))
    site_cell = cells[5]
    lat, lon = h3.cell_to_latlng(site_cell)
    contents = {site_cell: {"cell": site_cell, "sites": [{"id": "S-1", "kind": "enrichment", "lat": lat, "lon": lon, "items": [
        {"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W-1"]}]}]}}
    secret = hashlib.sha256(b"bench view cells").digest()
    built = time.perf_counter()
    commitment = commit_cells(secret, ESCROW, cells, contents)
    cells_txt = cell_file.render(cells)
    grid = Grid("h3", len(cells), hashlib.sha256(cells_txt).hexdigest(), 8)
    statement = escrow_statement(escrow_id=ESCROW, host="Host", created=T, grid=grid, root=commitment.root, purpose="declaration")
    log = Log.open(MemoryStorage(), "bench-board", BOARD, PARTIES, lambda: NOW)
    log.submit(event("escrow.published", {"escrow": sign_statement(statement, [HOST])}, HOST, ESCROW))
    for phase, indices in (("phase-1", range(0, 20_000)), ("phase-2", range(50_000, 60_000))):
        openings, proof = open_cells(secret, ESCROW, cells, contents, commitment.leaves, list(indices))
        bundle = sign_statement(reveal_statement(escrow=parse_escrow(statement), phase=phase, openings=openings, proof=proof), [HOST])
        sha = log.put_bundle(json.dumps(bundle).encode())
        log.submit(event("reveal.published", {"phase": phase, "sha256": sha, "openings": len(openings)}, HOST, ESCROW))
    log.put_cells(grid.cells_sha256, cells_txt)
    body = {"phase": "phase-1", "cell": site_cell, "site_id": "S-1", "outcome": "confirmed", "detail": "", "context": None}
    log.submit(event("inspection.reported", body, INSPECTOR, ESCROW))
    log.submit(event("discrepancy.raised", {"id": "d-1", "phase": "phase-2", "cell": cells[50_001], "detail": "", "intel": None}, INSPECTOR, ESCROW))
    setup_s = time.perf_counter() - built
    with TestClient(create_app(log)) as http:
        path = f"/view/escrows/{ESCROW}/cells"
        start = time.perf_counter()
        first = http.get(path)
        first_ms = (time.perf_counter() - start) * 1000
        assert first.status_code == 200 and len(first.json()["cells"]) == len(cells)
        cached_ms = timed(lambda: http.get(path))
        health_ms = timed(lambda: http.get("/healthz"))
        entries_ms = timed(lambda: http.get("/entries?start=0"))
        summary_ms = timed(lambda: http.get("/view/summary"))
        # after the log grows: the view folds one entry and rebuilds the rows
        log.submit(event("inspection.reported", {**body, "context": "again"}, INSPECTOR, ESCROW))
        start = time.perf_counter()
        http.get(path)
        grown_ms = (time.perf_counter() - start) * 1000
    print(json.dumps({
        "cells": len(cells), "opened": 30_000, "answer_bytes": len(first.content), "setup_s": round(setup_s, 1),
        "cells_first_ms": round(first_ms, 1), "cells_after_growth_ms": round(grown_ms, 1), "cells_cached_ms": round(cached_ms, 2),
        "summary_ms": round(summary_ms, 2), "baseline_healthz_ms": round(health_ms, 2), "baseline_entries_ms": round(entries_ms, 2),
        "ratio_first_to_entries": round(first_ms / entries_ms, 1), "ratio_growth_to_entries": round(grown_ms / entries_ms, 1),
        "ratio_cached_to_entries": round(cached_ms / entries_ms, 2), "target": "cells_first_ms and cells_after_growth_ms well under 1000 ms",
    }, indent=1))


if __name__ == "__main__":
    main()
