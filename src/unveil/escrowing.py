"""Host-side escrow computation: commit every cell, fast, and open chosen cells.

Committing a million cells is hashing-bound (about five SHA-256 calls a cell), so the cell
list is cut into aligned power-of-two chunks that worker processes commit in parallel; each
returns its leaves and its subtree root, and the chunk roots combine into the RFC 9162 root
(see :func:`unveil.core.merkle.root_from_leaf_hashes`). Pure computation: no files, no clock.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from unveil.core.build import opening
from unveil.core.commitments import Salter, leaves_for
from unveil.core.merkle import MerkleTree, hash_leaves, root_from_leaf_hashes

CHUNK = 1 << 16  # leaves per task: a power of two, so chunk roots are subtree roots
PARALLEL_FROM = 1 << 17  # below this many cells, worker start-up costs more than it saves

Progress = Callable[[int], None]
_JOB: tuple[bytes, str, Sequence[str], Mapping[str, Any], bool] | None = None


@dataclass(frozen=True)
class Commitment:
    """Leaves (``leaves.bin`` bytes) and the Merkle root over them."""

    leaves: bytes
    root: bytes


def _commit_chunk(lo: int, hi: int) -> tuple[bytes, bytes]:
    assert _JOB is not None  # set by commit_cells before the workers fork
    master, escrow_id, cells, contents, intel = _JOB
    leaves = leaves_for(Salter(master, escrow_id), cells[lo:hi], contents, intel=intel)
    return leaves, root_from_leaf_hashes(hash_leaves(leaves))


def commit_cells(
    master_secret: bytes,
    escrow_id: str,
    cells: Sequence[str],
    contents: Mapping[str, Mapping[str, Any]],
    *,
    workers: int | None = None,
    on_progress: Progress | None = None,
    intel: bool = False,
) -> Commitment:
    """Commit every cell (absent from ``contents`` means empty) and compute the root (§3).

    ``intel`` commits an intelligence escrow, whose empty cells hold ``suspects`` (§9).
    """
    global _JOB
    n = len(cells)
    if n == 0:
        raise ValueError("an escrow commits at least one cell")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or n < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        leaves = leaves_for(Salter(master_secret, escrow_id), cells, contents, intel=intel)
        if on_progress:
            on_progress(n)
        return Commitment(leaves, root_from_leaf_hashes(hash_leaves(leaves)))
    _JOB = (master_secret, escrow_id, cells, contents, intel)
    try:
        bounds = [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_commit_chunk, lo, hi) for lo, hi in bounds]
            parts = []
            for (lo, hi), future in zip(bounds, futures, strict=True):
                parts.append(future.result())
                if on_progress:
                    on_progress(hi - lo)
    finally:
        _JOB = None
    leaves = b"".join(part[0] for part in parts)
    return Commitment(leaves, root_from_leaf_hashes(b"".join(part[1] for part in parts)))


_LEAVES: bytes | None = None


def _chunk_root(lo: int, hi: int) -> bytes:
    assert _LEAVES is not None  # set by leaves_root before the workers fork
    return root_from_leaf_hashes(hash_leaves(_LEAVES[32 * lo : 32 * hi]))


def leaves_root(leaves: bytes, *, workers: int | None = None) -> bytes:
    """The Merkle root over ``leaves.bin`` bytes (spec §3), on every core for large trees."""
    global _LEAVES
    n, rest = divmod(len(leaves), 32)
    if rest:
        raise ValueError(f"leaves are {len(leaves)} bytes, not a multiple of 32")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or n < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return root_from_leaf_hashes(hash_leaves(leaves))
    _LEAVES = leaves
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            bounds = [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
            roots = list(pool.map(_chunk_root, *zip(*bounds, strict=True)))
    finally:
        _LEAVES = None
    return root_from_leaf_hashes(b"".join(roots))


def open_cells(
    master_secret: bytes,
    escrow_id: str,
    cells: Sequence[str],
    contents: Mapping[str, Mapping[str, Any]],
    leaves: bytes,
    indices: Sequence[int],
    *,
    intel: bool = False,
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Openings and the §5 multiproof for ``indices`` (strictly ascending)."""
    salter = Salter(master_secret, escrow_id)
    tree = MerkleTree.from_leaf_hashes(hash_leaves(leaves))
    openings = [opening(i, cells[i], salter, contents.get(cells[i]), intel=intel) for i in indices]
    return openings, tree.multiproof(indices)
