"""Verify a reveal of 100,000 openings (0.1% non-empty, signature included, no leaves.bin)
from files on disk: read and parse the escrow, bundle and cells.txt, then every check.

Target (issue 2): ≤ 2 s. Also reports the same through the CLI (`unveil verify`, a new process).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
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
from commit import workload  # noqa: E402  # bench scripts share the workload; run from any directory


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
    args = parser.parse_args()
    results = {"bench": "verify", "n": args.n, "openings": args.openings, "target_seconds": 2.0}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("scattered", "contiguous"):
            directory = Path(tmp) / layout
            directory.mkdir()
            escrow, bundle, cells, vkey = prepare(directory, args.n, args.openings, layout)
            seconds, valid = min(verify_files(escrow, bundle, cells, vkey) for _ in range(3))
            assert valid, "the benchmark bundle must verify"
            start = time.perf_counter()
            cli = subprocess.run([sys.executable, "-m", "unveil.cli.main", "verify", str(bundle), "--escrow", str(escrow),
                                  "--cells", str(cells), "--trust", vkey, "--json"], capture_output=True, text=True)
            cli_seconds = time.perf_counter() - start
            assert cli.returncode == 0, cli.stdout + cli.stderr
            results[layout] = {"seconds": round(seconds, 3), "cli_seconds": round(cli_seconds, 3),
                               "bundle_bytes": bundle.stat().st_size}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
