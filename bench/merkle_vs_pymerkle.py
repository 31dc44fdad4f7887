"""Build the same RFC 6962 tree with pymerkle 7 and with unveil; compare time and root.

pymerkle's ``InmemoryTree`` with its default hasher (sha256, "security" on) prefixes leaves with
0x00 and nodes with 0x01 and splits at the largest power of two: RFC 6962 / RFC 9162 (spec §3).
Both get N random 32-byte leaf values (``leaves.bin``-style) and return the root.

Prints one JSON object: {"n", "pymerkle_seconds", "unveil_seconds", "ratio"} (ratio =
pymerkle / unveil; target ≥ 10). Times are CPU seconds of this process (``time.process_time``),
so other work on a shared machine skews them less than wall time. Exits 1 if the roots differ.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from pymerkle import InmemoryTree

from unveil.core.merkle import hash_leaves, root_from_leaf_hashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of leaves (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    blob = random.Random(args.seed).randbytes(32 * args.n)
    entries = [blob[i : i + 32] for i in range(0, len(blob), 32)]

    started = time.process_time()
    ours = root_from_leaf_hashes(hash_leaves(blob))
    unveil_seconds = time.process_time() - started

    started = time.process_time()
    tree = InmemoryTree(algorithm="sha256")
    tree.append_entries(entries)
    theirs = tree.get_root()
    pymerkle_seconds = time.process_time() - started

    print(
        json.dumps(
            {
                "n": args.n,
                "pymerkle_seconds": round(pymerkle_seconds, 3),
                "unveil_seconds": round(unveil_seconds, 3),
                "ratio": round(pymerkle_seconds / unveil_seconds, 1),
            }
        )
    )
    if theirs != ours:
        print(f"roots differ: pymerkle {theirs.hex()}, unveil {ours.hex()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
