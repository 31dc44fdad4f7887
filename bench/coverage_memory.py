"""Memory per cell of covering a territory at an H3 resolution, and how close the cell-count
estimate comes to the true count: printed as JSON.

Each measurement runs in a fresh child process: it imports unveil, reads the demo territory
(Exampleland, about 120,000 km²) and the step's inputs, records its resident memory, runs one
step, and reports how far the peak RSS (``ru_maxrss``) rose above that, divided by the number
of cells. Steps:

- ``cover``: :meth:`Territory.cells`, every overlapping cell, sorted (``commit``'s first step
  and the recomputation inside the coverage check);
- ``check``: :func:`unveil.workspace.inspector.coverage_problems` against a complete
  ``cells.txt`` read from bytes (what ``accept --territory`` and ``verify --territory`` hold at
  once: the committed list and the recomputed cover);
- ``commit``: :func:`unveil.workspace.host.commit_declaration` of the demo's declaration into
  a fresh workspace: the cover, ``cells.txt``, the leaves and the database rows, what
  ``unveil commit`` holds at its peak (its hashing workers, forked, are reported apart: the
  largest one's RSS, mostly pages shared with the parent).

The figure :data:`unveil.geo.budget.BYTES_PER_CELL` is the largest per-cell cost of the steps
at the largest resolution measured, rounded up. ``--resolutions`` picks the grids (default 8 9:
about 160,000 and 1,100,000 cells).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def resident() -> int:
    """This process's resident memory now, in bytes (Linux ``/proc``; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(step: str, resolution: int, folder: Path) -> dict[str, object]:
    from datetime import datetime, timezone

    from unveil import exercise
    from unveil.core import cells as cell_file
    from unveil.core.escrow import Grid
    from unveil.geo.budget import estimate_cells
    from unveil.geo.territory import read_territory
    from unveil.workspace import host
    from unveil.workspace.inspector import AgreedTerritory, coverage_problems
    from unveil.workspace.workspace import create

    data = exercise.territory_bytes()
    land = read_territory(data, source="exampleland")
    estimate = estimate_cells(land.geometry, resolution)
    cells_txt = folder / f"cells-{resolution}.txt"
    if step == "cells":  # not measured: the cell list the other steps read
        cells_txt.write_bytes(cell_file.render(land.cells(resolution)))
        return {}
    committed = cell_file.read(cells_txt.read_bytes()).cells if step == "check" else None  # an input, not a cost
    ws = create(folder / f"ws-{step}-{resolution}", "host", "Bench") if step == "commit" else None
    before = resident()
    if step == "cover":
        count = len(land.cells(resolution))
    elif step == "check":
        assert committed is not None
        problems = coverage_problems(AgreedTerritory(data, "exampleland"), Grid("h3", len(committed), "", resolution), committed, max_cells=None)
        assert not problems, problems
        count = len(committed)
    else:
        assert ws is not None
        done = host.commit_declaration(
            ws, escrow_id="bench", territory=data, territory_source="exampleland", territory_filter=None, resolution=resolution,
            declaration=exercise.declaration_bytes(), declaration_source="declaration.json", out=folder / f"out-{resolution}",
            now=datetime.now(timezone.utc), max_cells=None,
        )
        count = done.cells
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"step": step, "resolution": resolution, "cells": count, "estimate": estimate, "peak_growth_bytes": peak - before,
            "bytes_per_cell": round((peak - before) / count, 1), "largest_worker_rss_bytes": workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", type=int, nargs="+", default=[8, 9])
    parser.add_argument("--child", nargs=3, metavar=("STEP", "RESOLUTION", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), Path(args.child[2]))))
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for resolution in args.resolutions:
            for step in ("cells", "cover", "check", "commit"):
                out = subprocess.run([sys.executable, __file__, "--child", step, str(resolution), tmp], check=True, capture_output=True, text=True)
                if step != "cells":
                    runs.append(json.loads(out.stdout))
    top = max(args.resolutions)
    worst = max(r["bytes_per_cell"] for r in runs if r["resolution"] == top)
    ratios = {r["resolution"]: round(r["estimate"] / r["cells"], 3) for r in runs if r["step"] == "cover"}
    print(json.dumps({"runs": runs, "worst_bytes_per_cell": worst, "estimate_over_true": ratios}))


if __name__ == "__main__":
    main()
