"""Host-side escrow computation: commit every cell, fast, and open chosen cells.

Committing a million cells is hashing-bound (about five SHA-256 calls a cell), so the cell
list is cut into aligned power-of-two chunks that worker processes commit in parallel; each
returns its leaves and its subtree root, and the chunk roots combine into the RFC 9162 root
(see :func:`unveil.core.merkle.root_from_leaf_hashes`). Pure computation: no files, no clock.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from unveil.core.build import opening
from unveil.core.commitments import Salter, leaves_and_hashes, leaves_for
from unveil.core.merkle import HASH_SIZE, MerkleTree, hash_leaves, pair_level, root_from_leaf_hashes

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
    return open_with(master_secret, escrow_id, cells, contents, MerkleTree.from_leaf_hashes(hash_leaves(leaves)), indices, intel=intel)


class _Tree(Protocol):
    def multiproof(self, indices: Sequence[int]) -> list[bytes]: ...


def open_with(
    master_secret: bytes,
    escrow_id: str,
    cells: Sequence[str],
    contents: Mapping[str, Mapping[str, Any]],
    tree: _Tree,
    indices: Sequence[int],
    *,
    intel: bool = False,
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """:func:`open_cells` with the tree given (a :class:`~unveil.core.merkle.MerkleTree`, or the
    host's :class:`~unveil.core.leveled.LeveledTree`, which needs no pass over every leaf)."""
    salter = Salter(master_secret, escrow_id)
    openings = []
    for i in indices:
        cell = cells[i]
        openings.append(opening(i, cell, salter, contents.get(cell), intel=intel))
    return openings, tree.multiproof(indices)


# --- streaming: chunks of cells in, cells.txt / leaves.bin bytes and tree levels out ----------

LEVEL_FLOOR = 6
"""The host keeps the tree's levels from this one up (0.5 byte a cell); a reveal recomputes a
subtree below it from at most ``2^LEVEL_FLOOR`` leaves (see :class:`unveil.core.leveled.LeveledTree`)."""
CHUNK_LEVEL = CHUNK.bit_length() - 1
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(14, -1, -1, dtype=np.uint64) * np.uint64(4)


def h3_lines(values: np.ndarray) -> bytes:
    """``cells.txt`` lines of H3 cells given as ``uint64`` ids: 15 lowercase hex digits and
    ``\\n`` each (an H3 cell id is below ``2^60``, so always 15 digits, as ``h3`` writes it)."""
    nibbles = (values.astype(np.uint64)[:, None] >> _NIBBLE_SHIFTS) & np.uint64(0xF)
    out = np.empty((len(values), 16), dtype=np.uint8)
    out[:, :15] = _HEX[nibbles]
    out[:, 15] = 10
    return out.tobytes()


class CellSource(Protocol):
    """The committed cells in order, read a slice at a time."""

    def __len__(self) -> int: ...

    def lines(self, lo: int, hi: int) -> bytes:
        """The ``cells.txt`` bytes of cells ``lo .. hi-1``."""
        ...

    def holds(self, cell: str) -> bool:
        """Whether ``cell`` is one of the cells."""
        ...


class H3Cells:
    """H3 cells held as a sorted ``uint64`` array: 8 bytes a cell, the lines made per chunk."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def lines(self, lo: int, hi: int) -> bytes:
        return h3_lines(self.values[lo:hi])

    def holds(self, cell: str) -> bool:
        if len(cell) != 15 or cell.strip("0123456789abcdef"):
            return False
        value = np.uint64(int(cell, 16))
        i = int(np.searchsorted(self.values, value))
        return i < len(self.values) and self.values[i] == value


class ListCells:
    """Cells given as strings (a ``list`` grid, or a few H3 cells)."""

    def __init__(self, cells: Sequence[str]):
        self.cells = cells
        self._set: set[str] | None = None

    def __len__(self) -> int:
        return len(self.cells)

    def lines(self, lo: int, hi: int) -> bytes:
        return ("".join([c + "\n" for c in self.cells[lo:hi]])).encode("ascii")

    def holds(self, cell: str) -> bool:
        if self._set is None:
            self._set = set(self.cells)
        return cell in self._set


@dataclass(frozen=True)
class Chunk:
    """One aligned chunk's share of every output: its ``cells.txt`` and ``leaves.bin`` bytes,
    its levels ``LEVEL_FLOOR ..`` (``levels[k]`` is level ``LEVEL_FLOOR + k``: the hashes of its
    full aligned subtrees of that size) and its root (the MTH of its leaves)."""

    cells_txt: bytes
    leaves: bytes
    levels: list[bytes]
    root: bytes


_STREAM: tuple[bytes, str, CellSource, Mapping[str, Any], bool] | None = None


def _chunk(lo: int, hi: int) -> Chunk:
    assert _STREAM is not None  # set by commit_chunks before the workers fork
    master, escrow_id, source, contents, intel = _STREAM
    text = source.lines(lo, hi)
    cells = text.decode("ascii").split("\n")[:-1]
    leaves, level = leaves_and_hashes(Salter(master, escrow_id), cells, contents, intel=intel)
    root = root_from_leaf_hashes(level)
    kept: list[bytes] = []
    for t in range(CHUNK_LEVEL + 1):
        if t >= LEVEL_FLOOR:
            kept.append(level)
        level = pair_level(level)
    return Chunk(text, leaves, kept, root)


def commit_chunks(
    master_secret: bytes,
    escrow_id: str,
    source: CellSource,
    contents: Mapping[str, Mapping[str, Any]],
    *,
    workers: int | None = None,
    intel: bool = False,
) -> Iterator[Chunk]:
    """Commit every cell of ``source`` chunk by chunk (:data:`CHUNK` cells, aligned), in order.

    Worker processes (forked, so ``source`` is shared, not copied) hash chunks in parallel; at
    most ``2 × workers`` chunks are in flight, so memory is bounded by the chunk size, not by
    the number of cells. Feed the chunks to a :class:`TreeLevels` for the root.
    """
    global _STREAM
    n = len(source)
    if n == 0:
        raise ValueError("an escrow commits at least one cell")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    bounds = [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
    _STREAM = (master_secret, escrow_id, source, contents, intel)
    try:
        if workers <= 1 or n < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
            for lo, hi in bounds:
                yield _chunk(lo, hi)
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: deque[Future[Chunk]] = deque()
            todo = iter(bounds)
            for lo, hi in todo:
                pending.append(pool.submit(_chunk, lo, hi))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(_chunk, *nxt))
                yield done
    finally:
        _STREAM = None


class TreeLevels:
    """The tree's root and its levels ``LEVEL_FLOOR`` and up, from chunks in order."""

    def __init__(self) -> None:
        self._size = 0
        self._roots: list[bytes] = []
        self._levels: list[list[bytes]] = [[] for _ in range(LEVEL_FLOOR, CHUNK_LEVEL + 1)]

    def add(self, chunk: Chunk) -> None:
        self._size += len(chunk.leaves) // HASH_SIZE
        self._roots.append(chunk.root)
        for kept, level in zip(self._levels, chunk.levels, strict=True):
            kept.append(level)

    @property
    def size(self) -> int:
        return self._size

    def root(self) -> bytes:
        """The MTH of every leaf added (chunk roots combine: see :mod:`unveil.core.merkle`)."""
        return root_from_leaf_hashes(b"".join(self._roots))

    def upper(self) -> bytes:
        """Levels ``LEVEL_FLOOR`` to the top concatenated, each ``size >> t`` hashes: the blob
        :class:`unveil.core.leveled.LeveledTree` reads."""
        levels = [b"".join(parts) for parts in self._levels]
        while len(levels[-1]) >= 2 * HASH_SIZE:
            levels.append(pair_level(levels[-1]))
        return b"".join(levels)
