"""A phase too large for one file (spec §5.1): the host reveals every cell of a list-grid
escrow (0.1% non-empty, :func:`commit.workload`) and the reveal is cut into parts of at most
16 MiB; then ``unveil verify DIRECTORY --json`` checks the whole phase in a new process (each
part alone, then across the parts).

Prints the part count, the largest part against the 16 MiB limit, the openings per part, the
wall time of the reveal (workspace service: openings, proofs, signatures, files, records) and
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
    parts = len(sizes)
    print(f"cells opened:            {n:,} in one phase")
    print(f"parts:                   {parts} (one file would be about {sum(sizes) / 2**20:,.1f} MiB)")
    print(f"largest part:            {max(sizes):,} bytes (limit {PART_MAX_BYTES:,} bytes, 16 MiB; {max(sizes) / PART_MAX_BYTES:.3f} of it)")
    print(f"openings per part:       {[f['openings'] for f in report['files']]}")  # type: ignore[union-attr]
    print(f"reveal into parts:       {reveal_s:.2f} s wall")
    print(f"peak RSS:                {peak / 1024:,.0f} MiB after the reveal ({before / 1024:,.0f} MiB after the commit, same process)")
    print(f"verify the whole phase:  {whole_s:.2f} s wall ({whole_s / one_s:.2f}x the same-run verify of part 1 alone, {one_s:.2f} s; "
          f"{parts} parts)")


if __name__ == "__main__":
    main()
