"""A phase too large for one file (spec §5.1): the host reveals every cell of a list-grid
escrow (0.1% non-empty, :func:`commit.workload`) and the reveal is cut into parts of at most
16 MiB; then ``unveil verify DIRECTORY --json`` checks the whole phase in a new process (each
part alone, then across the parts).

Prints one JSON object: the part count, the largest part against the 16 MiB limit, the openings
per part, the peak RSS, the wall time of the reveal (workspace service: openings, proofs, signatures, files, records) and
of the whole-phase verify, and as the same-run reference the verify of the first part alone
(the whole phase should cost about ``parts`` times it: each part is checked once, nothing is
checked twice). Default 400,000 cells (3 parts); ``--cells`` for more.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from unveil.core.reveal import PART_MAX_BYTES
from unveil.workspace import host
from unveil.workspace.workspace import create

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commit import workload  # noqa: E402  # bench scripts share the workload; run from any directory


def verify_seconds(args: list[str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "unveil.cli.main", "verify", *args, "--json"], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["valid"], done.stdout[:2000] + done.stderr[-2000:]
    return seconds, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=400_000)
    n = parser.parse_args().cells
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = create(root / "host", "host", "Host")
        cells, contents = workload(n)
        host.commit(ws, escrow_id="bench-parts", cells=cells, resolution=None, contents=contents, out=root / "out", now=now)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        done = host.reveal(ws, escrow_id="bench-parts", phase="all", indices=list(range(n)), out=root / "parts" / "reveal-all.json", now=now)
        reveal_s = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, this process so far
        sizes = [p.stat().st_size for p in done.parts]
        common = ["--escrow", str(root / "out" / "escrow.json"), "--cells", str(root / "out" / "cells.txt"), "--trust", ws.vkey]
        whole_s, report = verify_seconds([str(root / "parts"), *common])
        one_s, _ = verify_seconds([str(done.parts[0]), *common])
    print(json.dumps({
        "cells_opened": n,
        "parts": len(sizes),
        "one_file_mib": round(sum(sizes) / 2**20, 1),
        "largest_part_bytes": max(sizes),
        "part_limit_bytes": PART_MAX_BYTES,
        "openings_per_part": [f["openings"] for f in report["files"]],  # type: ignore[union-attr]
        "reveal_seconds": round(reveal_s, 2),
        "peak_rss_mib_after_reveal": round(peak / 1024),
        "peak_rss_mib_after_commit": round(before / 1024),
        "verify_phase_seconds": round(whole_s, 2),
        "verify_part_1_seconds": round(one_s, 2),
        "verify_phase_over_part_1": round(whole_s / one_s, 2),
    }))

if __name__ == "__main__":
    main()
