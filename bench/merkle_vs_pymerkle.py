"""Build the same RFC 6962 tree with pymerkle 7 and with unveil; compare time and root.

pymerkle's ``InmemoryTree`` with its default hasher (sha256, "security" on) prefixes leaves with
0x00 and nodes with 0x01 and splits at the largest power of two: RFC 6962 / RFC 9162 (spec §3).
Both get N random 32-byte leaf values (``leaves.bin``-style) and return the root.

Prints one JSON object with wall seconds for pymerkle (one run: it takes ~20 s), for unveil
on every core (``unveil.escrowing.leaves_root``, as a commit or a reveal builds it) and on one
core (``root_from_leaf_hashes(hash_leaves(...))``), each unveil figure the best of --repeat
runs, and their ratios (pymerkle / unveil; target ≥ 10). Exits 1 if any root differs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from pymerkle import InmemoryTree

from unveil.core.merkle import hash_leaves, root_from_leaf_hashes
from unveil.escrowing import leaves_root


def best(runs: int, build) -> tuple[float, bytes]:  # type: ignore[no-untyped-def]  # bench helper
    times, root = [], b""
    for _ in range(runs):
        started = time.perf_counter()
        root = build()
        times.append(time.perf_counter() - started)
    return min(times), root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of leaves (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    blob = random.Random(args.seed).randbytes(32 * args.n)
    entries = [blob[i : i + 32] for i in range(0, len(blob), 32)]

    parallel_seconds, ours = best(args.repeat, lambda: leaves_root(blob))
    single_seconds, ours_single = best(args.repeat, lambda: root_from_leaf_hashes(hash_leaves(blob)))

    started = time.perf_counter()
    tree = InmemoryTree(algorithm="sha256")
    tree.append_entries(entries)
    theirs = tree.get_root()
    pymerkle_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "bench": "merkle_vs_pymerkle",
                "n": args.n,
                "pymerkle_seconds": round(pymerkle_seconds, 3),
                "unveil_seconds": round(parallel_seconds, 3),
                "unveil_single_core_seconds": round(single_seconds, 3),
                "ratio": round(pymerkle_seconds / parallel_seconds, 1),
                "single_core_ratio": round(pymerkle_seconds / single_seconds, 1),
                "target_ratio": 10,
            }
        )
    )
    if ours_single != ours:
        print("unveil's parallel and single-core roots differ", file=sys.stderr)
        return 1
    if theirs != ours:
        print(f"roots differ: pymerkle {theirs.hex()}, unveil {ours.hex()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
