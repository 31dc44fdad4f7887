"""A continent-sized escrow on one machine: the real CLI on a territory of ~17 million km² at
H3 resolution 8 (~23 million cells), each command's wall time and peak RSS against its target.

Steps (each a new ``python -m unveil.cli.main`` process, its peak RSS from ``wait4``):
``init`` a host and an inspector, ``commit`` the territory (a box at mid latitudes, a handful of
declared sites), ``reveal`` a bbox of about 10,000 cells, ``accept --territory`` as the inspector
(recomputing the coverage), ``verify`` the reveal (``--cells``, no ``--leaves``, no
``--territory``; files in the page cache after a first run).

The hash floor is ``bench/commit.py``'s (the bare hashlib calls a commitment needs, one core),
timed in this run on the first 1,000,000 of the territory's cells just before and just after
the commit (the mean of the two, scaled to the escrow's size: on a shared machine the load
changes within minutes).

``--km2`` and ``--resolution`` run smaller (``make bench`` runs the full size; a quick look:
``python bench/continental.py --km2 740000`` is about a million cells).

Targets: commit ≤ 90 s, ≤ 2 GiB, ≤ 1.5× the floor; reveal ≤ 5 s; accept ≤ 60 s, ≤ 2 GiB;
verify ≤ 2 s.

Profile (measured on the 2-core machine shared with other jobs, load average 6-8: every wall
time below is inflated two- to threefold and varies run to run; CPU seconds vary less)
------------------------------------------------------------------------------------------------
Before (the issue's figures): `commit` of 1,064,886 cells took 6.8 s and 290 MB, a list of cell
strings, ``leaves.bin`` and the whole tree in memory, so 25 million cells would need ~7 GB.

1 M cells (``--km2 740000``, 971,808 cells at resolution 8), cProfile of each command:

- commit: the cover with h3's int API is 0.2-0.3 s (the string API took 2.2 s); 95 % of the
  rest is waiting for the workers. One 65,536-cell chunk on one core: 0.29 s against 0.245 s
  for the hash floor of the same cells (1.19x): salts and leaves 0.16-0.19 s, leaf hashes
  0.04-0.08 s, levels 6-16 0.05-0.07 s, lines from ``uint64`` ids 0.01 s. The parent's share
  (writing both files, SHA-256 of ``cells.txt``, copying them into SQLite) is 0.5-0.7 s CPU;
  the workers 4.3-4.7 s CPU. Peak RSS 170-255 MiB.
- reveal of ~10,000 cells: locating them in the stored ``cells.txt`` 0.35 s (a binary search a
  cell through the blob took 1.6 s), the multiproof from the kept levels 0.1 s, then what a
  reveal of that size always costs: the pretty JSON bundle 0.9 s and signing it 0.7 s.
- accept --territory: 1.3-3.4 s; verify: 1.2-2.5 s.

22.4 M cells (the default, 17 million km²), first full run: commit 273 s wall, 951 MiB peak
RSS (the transient of h3's polygon fill; the pipeline itself holds ~200 MB of cell ids and a
few chunks), against a hash floor of 104.5 s measured after it (2.6x; the machine was busier
during the commit than during the floor); reveal 4.8 s; accept --territory 24.3 s, 1,104 MiB;
verify 2.9 s (the parent reads and hashes 358 MB in 0.85 s; the forked child checks the
signatures and 22.4 M lines in whole-array passes, 0.05-0.1 s a million lines).

Quiet machine (load average under 1, the last runs): 1 M cells: commit 3.1 s (1.19x the
floor's 2.6 s), reveal 1.1 s, accept --territory 0.9 s, verify 0.56 s. 22.4 M cells: commit
51.7 s wall, 949 MiB, 0.94x the wall floor (55.1 s; both cores hash), 93.7 s CPU against the
floor's 57.2 s (1.64x); reveal 1.5 s, 370 MiB; accept --territory 7.6 s, 1,104 MiB; verify
2.1 s, 410 MiB (target 2 s: the forked child's whole-array check of 22.4 M lines takes 1.1 s
of it, the parent's read and SHA-256 of 358 MB most of the rest).

A run under load (load average ~6): commit 185.5 s wall, 949 MiB, 114.4 s CPU (process and
workers) against a floor of 186.2 s before and 66.8 s after it (wall; 1.47x their mean) and
60.5 s CPU (1.89x): the floor's CPU figure leaves out the parent's share (receiving 1 GB from
the workers, writing it twice: the files and the workspace copy) and the cover. Reveal 2.3 s,
370 MiB; accept --territory 10.8 s, 1,104 MiB; verify 2.8 s, 410 MiB (target 2 s: not met
on this machine; the cells.txt check in the forked child is most of it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commit import hash_floor  # noqa: E402  # bench scripts share the floor; run from any directory

GIB = 1 << 30
TARGETS = {"commit_seconds": 90.0, "commit_rss_bytes": 2 * GIB, "commit_ratio_to_floor": 1.5, "reveal_seconds": 5.0,
           "accept_seconds": 60.0, "accept_rss_bytes": 2 * GIB, "verify_seconds": 2.0}


def run(*args: str) -> tuple[float, int, str, float]:
    """Wall seconds, peak RSS (bytes, from ``wait4``), stdout and CPU seconds (the process and
    its worker processes) of one CLI process; stops the benchmark on an exit code other than 0."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "unveil.cli.main", *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if process.returncode:
            raise SystemExit(f"unveil {args[0]} exited {process.returncode}: {text[-2000:]} {err.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss * 1024, text, usage.ru_utime + usage.ru_stime


def territory(km2: float) -> dict:
    """A lon/lat box centred at 45°N of about ``km2`` (an equal-area estimate, refined once)."""
    from shapely.geometry import box

    from unveil.geo.territory import area_km2

    side = math.sqrt(km2) / 111.2
    lat0, lat1 = 45 - side / 2, 45 + side / 2
    width = side / math.cos(math.radians(45))
    for _ in range(3):
        area = area_km2(box(10, lat0, 10 + width, lat1))
        width *= km2 / area
    ring = [[10, lat0], [10 + width, lat0], [10 + width, lat1], [10, lat1], [10, lat0]]
    return {"type": "Feature", "properties": {"name": "Continent"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def declaration(feature: dict) -> dict:
    (west, south), (east, _), (_, north) = feature["geometry"]["coordinates"][0][:3]
    sites = []
    for i in range(20):
        lon, lat = west + (east - west) * (i + 0.5) / 20, south + (north - south) * ((7 * i) % 20 + 0.5) / 20
        sites.append({"id": f"S-{i:02d}", "kind": "weapons-storage", "name": f"Depot {i}", "lat": round(lat, 4), "lon": round(lon, 4),
                      "items": [{"category": "warhead", "quantity": 1 + i % 3, "unit": "count"}]})
    return {"sites": sites}


def region_bbox(feature: dict, resolution: int, cells: int) -> str:
    """A bbox at the territory's centre holding about ``cells`` cells."""
    (west, south), (east, _), (_, north) = feature["geometry"]["coordinates"][0][:3]
    lon, lat = (west + east) / 2, (south + north) / 2
    side_km = math.sqrt(cells * h3.average_hexagon_area(resolution, unit="km^2"))
    half_lat = side_km / 111.2 / 2
    half_lon = half_lat / math.cos(math.radians(lat))
    return f"{lon - half_lon:.5f},{lat - half_lat:.5f},{lon + half_lon:.5f},{lat + half_lat:.5f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--km2", type=float, default=17_000_000, help="territory area (default 17 million km²)")
    parser.add_argument("--resolution", type=int, default=8)
    parser.add_argument("--region-cells", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="unveil-continental-") as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        results = bench(base, args)
    print(json.dumps(results))


def bench(base: Path, args: argparse.Namespace) -> dict:
    feature = territory(args.km2)
    (base / "territory.geojson").write_text(json.dumps(feature))
    (base / "declaration.json").write_text(json.dumps(declaration(feature)))
    host, inspector, out = base / "host", base / "inspector", base / "out"
    run("init", "--workspace", str(host), "--role", "host", "--name", "Host", "--json")
    run("init", "--workspace", str(inspector), "--role", "inspector", "--name", "Inspector", "--json")
    vkey = _vkey(host)
    from unveil.escrowing import H3Cells
    from unveil.geo.territory import read_territory

    ids = read_territory((base / "territory.geojson").read_bytes(), source="territory").cell_ids(args.resolution)
    sample = H3Cells(ids[: min(len(ids), 1_000_000)]).lines(0, min(len(ids), 1_000_000)).decode().split("\n")[:-1]
    total = len(ids)
    del ids
    secret = hashlib.sha256(b"floor").digest()
    floor_before, floor_cpu = timed_floor(sample, secret, total)

    commit_s, commit_rss, text, commit_cpu = run("commit", "--workspace", str(host), "--escrow-id", "continent", "--territory",
                                     str(base / "territory.geojson"), "--resolution", str(args.resolution), "--declaration",
                                     str(base / "declaration.json"), "--out", str(out), "--max-cells", "100000000", "--json")
    cells = json.loads(text)["cells"]
    assert cells == total
    floor_after, floor_cpu_after = timed_floor(sample, secret, total)
    floor, floor_cpu = (floor_before + floor_after) / 2, (floor_cpu + floor_cpu_after) / 2

    bundle = base / "reveal-region.json"
    reveal_s, reveal_rss, text, _ = run("reveal", "--workspace", str(host), "--escrow-id", "continent", "--phase", "region",
                                     "--bbox", region_bbox(feature, args.resolution, args.region_cells), "--out", str(bundle), "--json")
    opened = json.loads(text)["openings"]

    accept_s, accept_rss, _, _ = run("accept", "--workspace", str(inspector), "--escrow", str(out / "escrow.json"), "--cells",
                                  str(out / "cells.txt"), "--trust", vkey, "--territory", str(base / "territory.geojson"),
                                  "--max-cells", "100000000", "--json")
    verify_args = ("verify", str(bundle), "--escrow", str(out / "escrow.json"), "--cells", str(out / "cells.txt"), "--trust", vkey, "--json")
    run(*verify_args)  # the files into the page cache
    verify_s, verify_rss, _, _ = min(run(*verify_args) for _ in range(3))
    return {
        "bench": "continental", "km2": args.km2, "resolution": args.resolution, "cells": cells, "region_cells": opened,
        "cells_txt_bytes": (out / "cells.txt").stat().st_size, "leaves_bin_bytes": (out / "leaves.bin").stat().st_size,
        "commit": {"seconds": round(commit_s, 1), "peak_rss_mib": commit_rss >> 20, "hash_floor_seconds": round(floor, 1),
                   "hash_floor_before_after_seconds": [round(floor_before, 1), round(floor_after, 1)],
                   "ratio_to_floor": round(commit_s / floor, 2), "cpu_seconds": round(commit_cpu, 1),
                   "hash_floor_cpu_seconds": round(floor_cpu, 1), "cpu_ratio_to_floor": round(commit_cpu / floor_cpu, 2)},
        "reveal": {"seconds": round(reveal_s, 2), "peak_rss_mib": reveal_rss >> 20, "bundle_bytes": bundle.stat().st_size},
        "accept_territory": {"seconds": round(accept_s, 1), "peak_rss_mib": accept_rss >> 20},
        "verify": {"seconds": round(verify_s, 2), "peak_rss_mib": verify_rss >> 20},
        "targets": {"commit_seconds": 90, "commit_peak_rss_mib": 2048, "commit_ratio_to_floor": 1.5, "reveal_seconds": 5,
                    "accept_seconds": 60, "accept_peak_rss_mib": 2048, "verify_seconds": 2},
        "met": {
            "commit": commit_s <= TARGETS["commit_seconds"] and commit_rss <= TARGETS["commit_rss_bytes"]
            and commit_s / floor <= TARGETS["commit_ratio_to_floor"],
            "reveal": reveal_s <= TARGETS["reveal_seconds"],
            "accept": accept_s <= TARGETS["accept_seconds"] and accept_rss <= TARGETS["accept_rss_bytes"],
            "verify": verify_s <= TARGETS["verify_seconds"],
        },
    }


def timed_floor(sample: list[str], secret: bytes, total: int) -> tuple[float, float]:
    """The hash floor of ``total`` cells from a sample: wall and CPU seconds (the CPU figure is
    what a loaded machine does not inflate)."""
    cpu = time.process_time()
    wall = hash_floor(sample, secret, "continent")
    cpu = time.process_time() - cpu
    return wall * total / len(sample), cpu * total / len(sample)


def _vkey(workspace: Path) -> str:
    from unveil.workspace.workspace import open_workspace

    return open_workspace(workspace).vkey


if __name__ == "__main__":
    main()
