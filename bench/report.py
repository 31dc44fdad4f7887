"""How long `unveil report` takes, and how big the report is, as the escrow grows, printed as JSON.

For each H3 resolution (default 6, 7, 8: about 3,200, 22,700 and 159,000 cells of the built-in
exercise's territory) a host workspace commits the exercise's declaration and reveals the
coarse region holding most sites; then `write_report` (gather, one map per phase, render,
write) is timed. Above 20,000 cells the maps are drawn aggregated to a coarser resolution
(`drawn_resolution`). Baseline: the smallest escrow of the same run; each row gives its ratio
of seconds to it. Target: a report stays under a minute and a few MiB however large the escrow.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path


def one(resolution: int, folder: Path) -> dict[str, object]:
    import h3

    from unveil import exercise
    from unveil.declaration import read_declaration
    from unveil.geo import regions
    from unveil.geo.territory import read_territory
    from unveil.workspace import host
    from unveil.workspace.report import write_report
    from unveil.workspace.workspace import create

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ws = create(folder / f"host-{resolution}", "host", "Exampleland")
    land = read_territory(exercise.territory_bytes(), source="territory.geojson")
    declaration = read_declaration(exercise.declaration_bytes(), source="declaration.json", contains=land.contains, resolution=resolution)
    cells = land.cells(resolution)
    out = folder / f"out-{resolution}"
    committed = host.commit(ws, escrow_id=f"bench-{resolution}", cells=cells, resolution=resolution,
                            contents=declaration.contents(resolution), out=out, now=now, public_totals=declaration.totals(["warhead"]))
    region = Counter(h3.cell_to_parent(c, 3) for c in declaration.contents(resolution)).most_common(1)[0][0]
    cell_list = sorted(cells)
    indices = regions.select_indices(cell_list, resolution, parents=[region])
    host.reveal(ws, escrow_id=f"bench-{resolution}", phase="phase-1", indices=indices, out=out / "reveal-phase-1.json", now=now)
    started = time.perf_counter()
    result = write_report(ws, None, folder / f"report-{resolution}.html")
    seconds = time.perf_counter() - started
    return {"resolution": resolution, "cells": committed.cells, "opened_cells": len(indices), "seconds": round(seconds, 2),
            "html_mib": round(int(str(result["bytes"])) / 2**20, 2), "drawn_resolution": result["drawn_resolution"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", default="6,7,8", help="comma-separated H3 resolutions")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        resolutions = [int(x) for x in args.resolutions.split(",")]
        one(resolutions[0], Path(tmp) / "warm-up")  # imports (matplotlib, jinja2) and font caches out of the timing
        for r in resolutions:
            rows.append(one(r, Path(tmp)))
    base = rows[0]["seconds"] or 1
    for row in rows:
        row["ratio_to_smallest"] = round(float(str(row["seconds"])) / float(str(base)), 2)
    print(json.dumps({"benchmark": "report", "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
