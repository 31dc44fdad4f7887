"""The board's append-only RFC 9162 tree (spec §7), grown one leaf hash at a time.

Level ``t`` is one ``bytearray`` holding, in order, the hash of every complete subtree of
``2^t`` leaves that starts at a multiple of ``2^t`` (``size >> t`` nodes, 32 bytes each).
Appending a leaf hash adds it to level 0; whenever level ``k`` then holds an even number of
nodes, its last two are hashed into a new node of level ``k + 1``. So :meth:`append` costs
O(1) hashes amortised (O(log n) at worst), and nodes, once written, never change.

Any range an RFC 9162 walk visits over a prefix of ``size`` leaves — ``[lo, hi)`` with ``lo``
a multiple of a power of two at least ``hi - lo`` — is a run of complete subtrees, one per set
bit of ``hi - lo``, largest first; its MTH folds them from the right (the RFC splits at the
largest power of two below the width, which is exactly the first subtree). Hence the root of
any prefix, audit paths (RFC 9162 §2.1.3.1) and consistency proofs (§2.1.4.1) of any sizes up
to the current one, each hash costing O(log n).

Memory: about ``2 × 32 × size`` bytes. Pure: no I/O, no clock.
"""

from __future__ import annotations

from hashlib import sha256

from unveil.core.merkle import EMPTY_ROOT, HASH_SIZE, MerkleTree, consistency_path, inclusion_path, node_hash

__all__ = ["AppendOnlyTree"]

_NODE_PREFIX = b"\x01"


def _split(width: int) -> int:
    """The largest power of two strictly below ``width`` (``width >= 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


class AppendOnlyTree:
    """An RFC 9162 Merkle tree over leaf hashes (``SHA256(0x00 ‖ entry)``), append-only."""

    __slots__ = ("_levels", "_size")

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, blob: bytes) -> AppendOnlyTree:
        """The tree over the concatenated 32-byte leaf hashes ``blob`` (from storage)."""
        built = MerkleTree.from_leaf_hashes(blob)  # ValueError if not a multiple of 32
        tree = cls()
        tree._levels = [bytearray(level) for level in built._levels]  # noqa: SLF001 - same layout
        tree._size = built.size
        return tree

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; return its index."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        index = self._size
        levels = self._levels
        levels[0] += leaf_hash
        self._size = count = index + 1
        level = 0
        while count % 2 == 0:
            below = levels[level]
            if level + 1 == len(levels):
                levels.append(bytearray())
            levels[level + 1] += sha256(_NODE_PREFIX + below[-2 * HASH_SIZE :]).digest()
            level += 1
            count //= 2
        return index

    def leaf_hash_at(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        if not 0 <= index < self._size:
            raise IndexError(f"leaf index {index} not in [0, {self._size})")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> bytes:
        """The blob of leaf hashes ``start .. end-1`` (what storage would rebuild from)."""
        end = self._size if end is None else end
        if not 0 <= start <= end <= self._size:
            raise ValueError(f"range [{start}, {end}) not within [0, {self._size}]")
        return bytes(self._levels[0][start * HASH_SIZE : end * HASH_SIZE])

    def truncate(self, size: int) -> None:
        """Forget every leaf from ``size`` on (to undo appends a failed transaction made)."""
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} not in [0, {self._size}]")
        for t, level in enumerate(self._levels):
            del level[(size >> t) * HASH_SIZE :]
        while len(self._levels) > 1 and not self._levels[-1]:
            self._levels.pop()
        self._size = size

    def _node(self, level: int, offset: int) -> bytes:
        start = (offset >> level) * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def _range(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``lo .. hi-1``, for ``lo`` a multiple of a power of two ≥ ``hi - lo``."""
        width = hi - lo
        parts: list[bytes] = []
        offset = lo
        for level in range(width.bit_length() - 1, -1, -1):
            if width >> level & 1:
                parts.append(self._node(level, offset))
                offset += 1 << level
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result

    def _check_size(self, size: int | None, least: int) -> int:
        if size is None:
            size = self._size
        if type(size) is not int or not least <= size <= self._size:
            raise ValueError(f"tree size {size!r} not in [{least}, {self._size}]")
        return size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all); ``EMPTY_ROOT`` for 0."""
        size = self._check_size(size, 0)
        return self._range(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the first ``size`` leaves.

        The leaf's sibling first, the root's child last; ``ValueError`` unless
        ``0 <= index < size <= self.size``.
        """
        size = self._check_size(size, 1)
        if type(index) is not int or not 0 <= index < size:
            raise ValueError(f"leaf index {index!r} not in [0, {size})")
        return inclusion_path(index, size, self._range)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that the first ``size1`` leaves are a prefix of ``size2``.

        Spec §7: ``ValueError`` unless ``1 <= size1 <= size2 <= self.size``; equal sizes give
        the empty proof.
        """
        size2 = self._check_size(size2, 1)
        if type(size1) is not int or not 1 <= size1 <= size2:
            raise ValueError(f"size1 {size1!r} not in [1, {size2}]")
        return consistency_path(size1, size2, self._range)
