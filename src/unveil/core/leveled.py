"""An RFC 9162 tree known by its upper levels and its leaves, for reveals of a large escrow.

:class:`~unveil.core.merkle.MerkleTree` keeps every level (64 bytes a leaf); the host of a
continental escrow keeps only the levels from ``floor`` up (``2^-floor × 64`` bytes a leaf)
beside ``leaves.bin``. A subtree at or above the floor is read; one below it is recomputed from
its at most ``2^floor`` leaves, read through the ``leaves(lo, hi)`` callback (the caller does
the I/O). So a multiproof (spec §5) costs O(|S| log N) reads and O(|S| · 2^floor) hashes, never
a pass over every leaf.

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from unveil.core.merkle import EMPTY_ROOT, HASH_SIZE, hash_leaves, multiproof_path, pair_level, range_from_aligned

__all__ = ["LeveledTree", "upper_levels_size"]


def upper_levels_size(size: int, floor: int) -> int:
    """Bytes of levels ``floor`` and up of a tree of ``size`` leaves, each ``size >> t`` hashes
    (level ``t`` stops when it holds fewer than one hash)."""
    total, t = 0, floor
    while size >> t:
        total += (size >> t) * HASH_SIZE
        t += 1
    return total


class LeveledTree:
    """A tree of ``size`` leaves from ``upper`` (levels ``floor``, ``floor + 1``, … concatenated,
    level ``t`` holding the ``size >> t`` full aligned subtrees of ``2^t`` leaves) and
    ``leaves(lo, hi)``, the 32-byte leaves ``lo .. hi-1`` (``leaves.bin`` bytes, not hashed)."""

    __slots__ = ("_floor", "_leaves", "_offsets", "_size", "_upper")

    def __init__(self, size: int, floor: int, upper: bytes, leaves: Callable[[int, int], bytes]):
        if size < 1 or floor < 0:
            raise ValueError(f"a leveled tree needs size >= 1 and floor >= 0, got {size} and {floor}")
        if len(upper) != upper_levels_size(size, floor):
            raise ValueError(f"upper levels are {len(upper)} bytes, expected {upper_levels_size(size, floor)} for {size} leaves")
        self._size, self._floor, self._upper, self._leaves = size, floor, upper, leaves
        self._offsets: dict[int, int] = {}
        offset, t = 0, floor
        while size >> t:
            self._offsets[t] = offset
            offset += (size >> t) * HASH_SIZE
            t += 1

    @property
    def size(self) -> int:
        return self._size

    def _aligned(self, t: int, position: int, count: int) -> bytes:
        """The hashes of ``count`` full subtrees of ``2^t`` leaves from the one at ``position``."""
        if t >= self._floor:
            start = self._offsets[t] + position * HASH_SIZE
            return self._upper[start : start + count * HASH_SIZE]
        lo = position << t
        level = hash_leaves(self._leaves(lo, lo + (count << t)))
        for _ in range(t):
            level = pair_level(level)
        return level

    def range_hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``lo .. hi-1``, as :meth:`unveil.core.merkle.MerkleTree.range_hash`."""
        if not 0 <= lo <= hi <= self._size:
            raise ValueError(f"range [{lo}, {hi}) not within [0, {self._size}]")
        if lo == hi:
            return EMPTY_ROOT
        return range_from_aligned(lo, hi, self._aligned)

    @property
    def root(self) -> bytes:
        return self.range_hash(0, self._size)

    def multiproof(self, indices: Sequence[int]) -> list[bytes]:
        """Spec §5 multiproof of the leaves at ``indices`` (strictly ascending, at least one)."""
        return multiproof_path(self._size, indices, self.range_hash)
