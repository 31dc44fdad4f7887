"""Shared by the browser tests (tests/test_web_board.py), the speed bench (bench/web_board.py) and
the README screenshot (tools/board_screenshot.py): an ASGI app served on loopback in a thread,
headless Chromium from the operating system, and a synthetic board view of any size.

The synthetic view answers the ``/view/…`` endpoints of spec §11 with the shapes the board's
own view gives (the contract the page reads), for a territory of ``n`` H3 cells around a centre:
it is how the page is measured with 100,000 cells and fed hostile text, without building a real
board that large. The page itself is always served by the board's own routes
(:func:`unveil.api.web.web_router`).

Chromium: ``/usr/bin/chromium`` (Debian's package; the Playwright browser download is not
available on these machines). Missing, a test skips with the reason, except under ``CI=true``,
where it fails.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h3
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from unveil.api.web import web_router

CHROMIUM = os.environ.get("UNVEIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
"""Flags for the system Chromium, headless, as root, with nothing asked of the network."""


def chromium_or_skip() -> str:
    """The Chromium executable; skip (or, under ``CI=true``, fail) when it is missing."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if path is None:
        message = f"{CHROMIUM} is missing: install the operating system's chromium package (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a loopback port in a thread; yields its base URL (with a final ``/``)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


def synthetic_view(n: int, *, centre: tuple[float, float] = (20.0, -60.0), resolution: int = 6, phases: int = 3,
                   sites: int = 40, seed: int = 1, text: str | None = None, log_size: int = 6) -> dict[str, Any]:
    """The ``/view/…`` answers of a board with one declaration escrow of ``n`` committed cells
    (a disk of H3 cells around ``centre``), revealed in ``phases`` phases (phase k opens the
    cells whose longitude falls in its k-th band, so the opened area grows eastward), a few
    inspected cells and discrepancies, ``sites`` revealed sites with items, a log of ``log_size``
    entries (``/view/log`` answers its ``start``/``end`` range). ``text``, when given,
    is put in every free-text field (names, details, authors' summaries): hostile-content tests.
    Keys are the paths (without the leading ``/``); answers are the JSON values."""
    rng = random.Random(seed)
    origin = h3.latlng_to_cell(*centre, resolution)
    k = 0
    while 3 * k * (k + 1) + 1 < n:
        k += 1
    while len(h3.grid_disk(origin, k)) < n:  # fewer near a pentagon (and slow there: the default centre is far from any)
        k += 1
    inner = sorted(h3.grid_disk(origin, k - 1)) if k else []
    ids = (inner + sorted(set(h3.grid_disk(origin, k)) - set(inner)))[:n]
    lons = {cell: h3.cell_to_latlng(cell)[1] for cell in ids}
    west, east = min(lons.values()), max(lons.values())
    band = (east - west) / (phases + 1) or 1.0
    steps = [f"phase-{i + 1}" for i in range(phases)]
    rows: list[list[Any]] = []
    opened_cells: list[tuple[str, int]] = []
    for cell in ids:
        step = int((lons[cell] - west) / band)
        opened = step if step < phases else -1
        inspected = discrepancy = -1
        if opened >= 0:
            opened_cells.append((cell, opened))
            if rng.random() < 0.03:
                inspected = min(phases - 1, opened + rng.randrange(2))
            if rng.random() < 0.005:
                discrepancy = min(phases - 1, opened + rng.randrange(2))
        rows.append([cell, opened, inspected, discrepancy])
    label = text if text is not None else None
    site_rows = []
    for i, (cell, step) in enumerate(rng.sample(opened_cells, min(sites, len(opened_cells)))):
        lat, lon = h3.cell_to_latlng(cell)
        site_rows.append({"site_id": f"S-{i:03d}", "cell": cell, "lat": lat, "lon": lon, "kind": "storage",
                          "name": label or f"Site {i}", "phase": steps[step], "step": step,
                          "items": [{"category": "warhead", "quantity": 1 + i % 4, "unit": "count", "type": label,
                                     "serials": [f"W-{i:03d}-{j}" for j in range(1 + i % 4)]}]})
    time0 = "2026-12-01T10:00:00Z"
    escrow = {
        "escrow_id": "exampleland-2026", "host": "Host", "purpose": "declaration", "grid": {"type": "h3", "resolution": resolution},
        "tree_size": n, "root": "ab" * 32, "cells_sha256": "cd" * 32, "cells_held": True, "published_index": 1,
        "steps": [{"step": s, "phase": steps[s], "index": 3 + s, "time": f"2026-12-0{1 + s}T12:00:00Z", "sha256": f"{s:02d}" * 32,
                   "openings": sum(1 for _, o in opened_cells if o == s), "final": s < phases - 1,
                   "verifications": [{"author": "Inspector", "valid": True, "problems": 0, "index": 4 + s, "time": time0}]}
                  for s in range(phases)],
        "inspections": sum(1 for r in rows if r[2] >= 0), "discrepancies": sum(1 for r in rows if r[3] >= 0),
    }
    inspections = [{"index": 10 + j, "time": time0, "author": "Inspector", "cell": r[0], "phase": steps[r[2]], "step": r[2], "site_id": None,
                    "outcome": "confirmed", "detail": label or "seals intact", "final": True} for j, r in enumerate(rows) if r[2] >= 0]
    discrepancies = [{"index": 20 + j, "time": time0, "author": "Inspector", "id": f"D-{j}", "cell": r[0], "phase": steps[r[3]], "step": r[3],
                      "detail": label or "undeclared activity", "intel_predates_reveal": True, "resolved": False, "final": True}
                     for j, r in enumerate(rows) if r[3] >= 0]
    entries = [{"index": i, "kind": "escrow.published" if i == 1 else "reveal.published", "author": label or "Host", "role": "host",
                "escrow_id": "exampleland-2026", "time": time0, "final": i < 4, "summary": label or f"entry {i}"} for i in range(max(6, log_size))]
    return {
        "view/summary": {"origin": label or "board.example", "size": len(entries), "final_size": 4, "quorum": ["Host", "Inspector", "Observer"], "escrows": [escrow]},
        "view/escrows/exampleland-2026/cells": {"escrow_id": "exampleland-2026", "resolution": resolution, "steps": steps, "cells": rows},
        "view/escrows/exampleland-2026/sites": {"sites": site_rows},
        "view/escrows/exampleland-2026/events": {"inspections": inspections, "discrepancies": discrepancies},
        "view/log": {"size": len(entries), "final_size": 4, "entries": entries},
        "view/checkpoints": {"latest": {"size": 6, "root": "ef" * 32, "cosigners": ["Host", "Inspector"]}, "final_size": 4,
                             "witnesses": [{"witness": "Observer", "size": 4, "final": True}]},
        "view/agreements": {"agreements": [{"id": "A-1", "status": label or "in-force",
                                            "obligations": [{"id": "O-1", "party": "Host", "state": "verified", "due": "2026-12-10T00:00:00Z"}],
                                            "items": [{"state": "declared", "count": 12}, {"state": "disposed", "count": 3}]}],
                            "draws": [{"context": "draw-1", "escrow_id": "exampleland-2026", "n": 2, "selection": ["S-001", "S-002"],
                                       "recomputed": True, "final": True}]},
    }


def synthetic_app(view: dict[str, Any]) -> FastAPI:
    """The board's page (its own routes) over the answers of :func:`synthetic_view`."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.router.routes.extend(web_router().routes)
    bodies = {path: JSONResponse(answer).body for path, answer in view.items()}

    @app.get("/view/log")
    async def log(start: int = 0, end: int | None = None) -> Response:
        whole = view.get("view/log")
        if whole is None:
            return JSONResponse({"error": "no such view", "reason": "not-found"}, status_code=404)
        entries = whole["entries"][start:end][:1000]
        return JSONResponse({**whole, "entries": entries})

    @app.get("/view/{path:path}")
    async def answer(path: str) -> Response:
        body = bodies.get(f"view/{path}")
        if body is None:
            return JSONResponse({"error": "no such view", "reason": "not-found"}, status_code=404)
        return Response(body, media_type="application/json")

    return app


def real_board(radius: int = 183, resolution: int = 8) -> tuple[Any, dict[str, Any]]:
    """A real board (in memory) with one declaration escrow of the H3 disk of ``radius`` around a
    point (183: 101,017 cells), its ``cells.txt`` held, two phases opening 20,000 and 10,000 of
    them, one site, an inspection and a discrepancy, as bench/view_cells.py builds it: the log,
    and what the page should show (``escrow_id``, ``cells``, ``inspected``, ``discrepancy``)."""
    import hashlib
    import json

    from unveil.board.events import make_event
    from unveil.board.log import Log, MemoryStorage
    from unveil.board.parties import read_parties
    from unveil.core import cells as cell_file
    from unveil.core.build import escrow_statement, reveal_statement
    from unveil.core.escrow import Grid, parse_escrow
    from unveil.core.keys import STATEMENT_KEY, SigningKey
    from unveil.core.statements import sign_statement
    from unveil.escrowing import commit_cells, open_cells

    escrow_id, when, now = "bench-100k", "2026-01-01T00:00:00Z", 1767225600 + 60

    def key(name: str) -> SigningKey:
        return SigningKey.generate(name, STATEMENT_KEY, hashlib.sha256(f"web board {name}".encode()).digest())

    board, host, inspector = key("web-board"), key("Host"), key("Inspector")
    parties = read_parties(json.dumps([{"name": "web-board", "role": "board", "vkey": board.vkey, "witness_vkey": None},
                                       {"name": "Host", "role": "host", "vkey": host.vkey, "witness_vkey": None},
                                       {"name": "Inspector", "role": "inspector", "vkey": inspector.vkey, "witness_vkey": None}]).encode())

    def event(kind: str, body: dict[str, Any], signer: SigningKey) -> dict[str, Any]:
        return make_event(kind, escrow_id, when, body, [signer])

    cells = sorted(h3.grid_disk(h3.latlng_to_cell(-20.0, -120.0, resolution), radius))  # open ocean, far from any pentagon
    site_cell = cells[5]
    lat, lon = h3.cell_to_latlng(site_cell)
    contents = {site_cell: {"cell": site_cell, "sites": [{"id": "S-1", "kind": "enrichment", "lat": lat, "lon": lon, "items": [
        {"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W-1"]}]}]}}
    secret = hashlib.sha256(b"web board cells").digest()
    commitment = commit_cells(secret, escrow_id, cells, contents)
    cells_txt = cell_file.render(cells)
    grid = Grid("h3", len(cells), hashlib.sha256(cells_txt).hexdigest(), resolution)
    statement = escrow_statement(escrow_id=escrow_id, host="Host", created=when, grid=grid, root=commitment.root, purpose="declaration")
    log = Log.open(MemoryStorage(), "web-board", board, parties, lambda: now)
    log.submit(event("escrow.published", {"escrow": sign_statement(statement, [host])}, host))
    for phase, indices in (("phase-1", range(0, 20_000)), ("phase-2", range(50_000, 60_000))):
        openings, proof = open_cells(secret, escrow_id, cells, contents, commitment.leaves, list(indices))
        bundle = sign_statement(reveal_statement(escrow=parse_escrow(statement), phase=phase, openings=openings, proof=proof), [host])
        sha = log.put_bundle(json.dumps(bundle).encode())
        log.submit(event("reveal.published", {"phase": phase, "sha256": sha, "openings": len(openings)}, host))
    log.put_cells(grid.cells_sha256, cells_txt)
    log.submit(event("inspection.reported", {"phase": "phase-1", "cell": site_cell, "site_id": "S-1", "outcome": "confirmed", "detail": "",
                                             "context": None}, inspector))
    log.submit(event("discrepancy.raised", {"id": "d-1", "phase": "phase-2", "cell": cells[50_001], "detail": "", "intel": None}, inspector))
    return log, {"escrow_id": escrow_id, "cells": cells, "inspected": site_cell, "discrepancy": cells[50_001], "site": (lat, lon)}
