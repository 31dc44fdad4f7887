"""Commit N cells (default 1,000,000, grid ``list``, 0.1% non-empty): seconds and ratio to
the single-core hash floor measured in the same run.

The floor is the bare hashlib calls a commitment needs, in a tight loop on one core: per
cell two HMAC halves (salt), one leaf hash and one RFC 9162 leaf hash, plus N−1 inner nodes.
Targets (issue 2): ≤ 3 s wall, and never above 1.3× the floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

from unveil.core.commitments import CELL_TAG, SALT_TAG
from unveil.escrowing import commit_cells


def workload(n: int) -> tuple[list[str], dict[str, dict]]:
    cells = [f"cell-{i:08d}" for i in range(n)]
    contents = {}
    for i in range(0, n, 1000):  # 0.1% of cells hold a site
        cell = cells[i]
        contents[cell] = {"cell": cell, "sites": [{"id": f"S-{i}", "kind": "weapons-storage", "items": [
            {"category": "plutonium", "quantity": 4.5, "unit": "kg"}, {"category": "warhead", "quantity": 2, "unit": "count"}]}]}
    return cells, contents


def hash_floor(cells: list[str], secret: bytes, escrow_id: str) -> float:
    """One core, the same hashlib calls, nothing else."""
    sha = hashlib.sha256
    block = secret.ljust(64, b"\0")
    inner0 = sha(bytes(b ^ 0x36 for b in block) + SALT_TAG + escrow_id.encode() + b"\0")
    outer0 = sha(bytes(b ^ 0x5C for b in block))
    cell0 = sha(CELL_TAG)
    encoded = [c.encode() for c in cells]
    body = b'","sites":[]}'
    start = time.perf_counter()
    nodes = []
    append = nodes.append
    for c in encoded:
        h = inner0.copy()
        h.update(c)
        o = outer0.copy()
        o.update(h.digest())
        leaf = cell0.copy()
        leaf.update(o.digest() + b'{"cell":"' + c + body)
        append(sha(b"\x00" + leaf.digest()).digest())
    for _ in range(len(cells) - 1):
        sha(b"\x01" + b"\x00" * 64).digest()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    secret = hashlib.sha256(b"bench master secret").digest()
    cells, contents = workload(args.n)
    floor = hash_floor(cells, secret, "bench")
    start = time.perf_counter()
    commitment = commit_cells(secret, "bench", cells, contents, workers=args.workers)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    single = commit_cells(secret, "bench", cells, contents, workers=1)
    single_seconds = time.perf_counter() - start
    assert single.root == commitment.root and single.leaves == commitment.leaves
    print(json.dumps({
        "bench": "commit", "n": args.n, "non_empty": len(contents), "workers": args.workers,
        "seconds": round(seconds, 3), "single_core_seconds": round(single_seconds, 3),
        "hash_floor_seconds": round(floor, 3), "ratio_to_floor": round(seconds / floor, 3),
        "single_core_ratio_to_floor": round(single_seconds / floor, 3),
        "targets": {"seconds": 3.0, "ratio_to_floor": 1.3},
    }))


if __name__ == "__main__":
    main()
