"""Multiproof size (spec §5) for H3 region reveals and for scattered cells.

Cells: every resolution-7 descendant of the resolution-3 cells within ``--ring`` of one point,
sorted as 15-hex-digit ids (spec §1), with random leaves. For a region reveal (all descendants
of one coarser cell at resolution 4, 5 or 6: a contiguous run of leaves, spec §1) and for
``k`` scattered random cells, reports the multiproof hash count, the sum of the single audit
path lengths it replaces, and the bound 2·⌈log2 N⌉ that spec §5 states for a contiguous range.

Prints one JSON object. Exits 1 if a region reveal is not contiguous or exceeds the bound, or
a multiproof does not verify.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import h3

from unveil.core.merkle import MerkleTree, hash_leaves
from unveil.core.multiproof import produce, verify_multiproof


def region_cells(lat: float, lng: float, ring: int, resolution: int) -> list[str]:
    """All cells at ``resolution`` under the resolution-3 cells within ``ring`` of a point, sorted."""
    centre = h3.latlng_to_cell(lat, lng, 3)
    cells = {child for coarse in h3.grid_disk(centre, ring) for child in h3.cell_to_children(coarse, resolution)}
    return sorted(cells)  # 15 lowercase hex digits: string order is numeric order (spec §1)


def measure(tree: MerkleTree, indices: list[int]) -> dict[str, object]:
    proof = produce(tree, indices)
    opened = [(i, tree.leaf_hash_at(i)) for i in indices]
    started = time.perf_counter()
    verify_multiproof(tree.size, opened, proof, tree.root)
    seconds = time.perf_counter() - started
    single = sum(len(tree.inclusion_proof(i)) for i in indices)
    return {
        "opened": len(indices),
        "multiproof_hashes": len(proof),
        "sum_audit_paths": single,
        "verify_seconds": round(seconds, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lat", type=float, default=46.2)
    parser.add_argument("--lng", type=float, default=6.1)
    parser.add_argument("--ring", type=int, default=2, help="grid_disk radius of resolution-3 cells (2: 19 cells)")
    parser.add_argument("--samples", type=int, default=5, help="region reveals per coarse resolution")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    resolution = 7
    cells = region_cells(args.lat, args.lng, args.ring, resolution)
    position = {cell: i for i, cell in enumerate(cells)}
    n = len(cells)
    tree = MerkleTree.from_leaf_hashes(hash_leaves(rng.randbytes(32 * n)))
    bound = 2 * (n - 1).bit_length()

    failures: list[str] = []
    regions = []
    for coarse_res in (4, 5, 6):
        parents = sorted({h3.cell_to_parent(cell, coarse_res) for cell in cells})
        for coarse in rng.sample(parents, min(args.samples, len(parents))):
            indices = sorted(position[c] for c in h3.cell_to_children(coarse, resolution))
            contiguous = indices == list(range(indices[0], indices[0] + len(indices)))
            row = {"resolution": coarse_res, "cell": coarse, "first_index": indices[0], **measure(tree, indices)}
            row["within_bound"] = row["multiproof_hashes"] <= bound
            row["contiguous"] = contiguous
            regions.append(row)
            if not contiguous:
                failures.append(f"descendants of {coarse} are not a contiguous run")
            if not row["within_bound"]:
                failures.append(f"region {coarse}: {row['multiproof_hashes']} hashes > bound {bound}")

    scattered = []
    for k in (10, 100, 1000):
        indices = sorted(rng.sample(range(n), k))
        scattered.append({"k": k, **measure(tree, indices)})

    print(
        json.dumps(
            {
                "cells": n,
                "resolution": resolution,
                "around": [args.lat, args.lng],
                "bound_2_ceil_log2_n": bound,
                "max_region_hashes": max(row["multiproof_hashes"] for row in regions),
                "regions": regions,
                "scattered": scattered,
                "failures": failures,
            },
            indent=1,
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
