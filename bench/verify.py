"""Verify a reveal of 100,000 openings (0.1% non-empty, signature included, no leaves.bin)
in a 1,000,000-cell escrow, from files on disk: read and parse the escrow, bundle and
cells.txt, then every check.

Two layouts: ``contiguous`` (a region reveal: one run of leaves, the usual phase) and
``scattered`` (100,000 cells drawn at random: the worst case for the multiproof, whose bundle
is twice the size). ``cli_seconds`` is the median wall time of `unveil verify --json` in a new
process (what a user runs, the signature checked on the second core); ``library_seconds`` is
the best of three in-process calls on one core. Targets: ≤ 2 s; and the scattered layout in at
most 0.3× the single-core hash floor of a commit of as many cells, measured in the same run
(``bench/commit.py``'s floor: the bare hashlib calls of a commitment), ``ratio_to_floor``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.commitments import Salter
from unveil.core.envelope import parse_signed
from unveil.core.escrow import Grid, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.statements import sign_statement
from unveil.core.verify import check_bundle
from unveil.escrowing import commit_cells, open_cells

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commit import hash_floor, workload  # noqa: E402  # bench scripts share the workload; run from any directory


def prepare(directory: Path, n: int, openings: int, layout: str) -> tuple[Path, Path, Path, str]:
    secret = hashlib.sha256(b"bench master secret").digest()
    key = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"bench host key").digest())
    cells, contents = workload(n)
    commitment = commit_cells(secret, "bench", cells, contents)
    cells_txt = cell_file.render(cells)
    grid = Grid("list", n, hashlib.sha256(cells_txt).hexdigest())
    statement = escrow_statement(escrow_id="bench", host="Host", created="2026-11-29T00:00:00Z", grid=grid,
                                 root=commitment.root, salter=Salter(secret, "bench"))
    if layout == "scattered":
        indices = sorted(random.Random(7).sample(range(n), openings))
    else:
        indices = list(range(openings))
    opened, proof = open_cells(secret, "bench", cells, contents, commitment.leaves, indices)
    bundle = reveal_statement(escrow=parse_escrow(statement), phase="bench", openings=opened, proof=proof)
    paths = directory / "escrow.json", directory / "reveal-bench.json", directory / "cells.txt"
    paths[0].write_text(json.dumps(sign_statement(statement, [key])))
    paths[1].write_text(json.dumps(sign_statement(bundle, [key])))
    paths[2].write_bytes(cells_txt)
    return *paths, key.vkey


def verify_files(escrow: Path, bundle: Path, cells: Path, vkey: str) -> tuple[float, bool]:
    start = time.perf_counter()
    report = check_bundle(
        parse_signed(loads(escrow.read_bytes())), parse_signed(loads(bundle.read_bytes())),
        cell_file.read(cells.read_bytes()), trusted=[vkey],
    )
    return time.perf_counter() - start, report.valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--openings", type=int, default=100_000)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {"bench": "verify", "n": args.n, "openings": args.openings, "target_seconds": 2.0,
                                  "target_ratio_to_floor": 0.3}
    floor = hash_floor(workload(args.n)[0], hashlib.sha256(b"bench master secret").digest(), "bench")
    results["hash_floor_seconds"] = round(floor, 3)
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("scattered", "contiguous"):
            directory = Path(tmp) / layout
            directory.mkdir()
            escrow, bundle, cells, vkey = prepare(directory, args.n, args.openings, layout)
            seconds, valid = min(verify_files(escrow, bundle, cells, vkey) for _ in range(3))
            assert valid, "the benchmark bundle must verify"
            unveil = str(Path(sys.executable).with_name("unveil"))
            runs = []
            for _ in range(args.cli_runs):
                start = time.perf_counter()
                cli = subprocess.run([unveil, "verify", str(bundle), "--escrow", str(escrow),
                                      "--cells", str(cells), "--trust", vkey, "--json"], capture_output=True, text=True)
                runs.append(time.perf_counter() - start)
                assert cli.returncode == 0, cli.stdout + cli.stderr
            results[layout] = {"cli_seconds": round(statistics.median(runs), 3), "cli_runs": [round(r, 2) for r in runs],
                               "library_seconds": round(seconds, 3), "bundle_bytes": bundle.stat().st_size,
                               "ratio_to_floor": round(statistics.median(runs) / floor, 3),
                               "library_ratio_to_floor": round(seconds / floor, 3)}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
