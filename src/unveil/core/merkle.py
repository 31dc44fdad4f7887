"""RFC 9162 Merkle tree: hashing, a level-cached tree, audit and consistency proofs.

The escrow root (spec §3) and the public log (spec §7) are both the RFC 9162 §2.1.1 Merkle
Tree Hash (MTH), Certificate Transparency's tree:

- ``MTH({}) = SHA256("")``;
- a leaf hashes as ``SHA256(0x00 ‖ leaf)``, an inner node as ``SHA256(0x01 ‖ left ‖ right)``;
- n > 1 entries split at k, the largest power of two below n.

Hashes are handled as *blobs*: one ``bytes`` object holding consecutive 32-byte hashes, which
is compact (no per-node Python object) and fast to walk.

**Level-by-level computation.** Pair adjacent nodes of a level, carry an unpaired last node up
unchanged, repeat until one node is left. After ``t`` rounds the level holds, in order, the MTH
of each consecutive chunk of ``2^t`` leaves, the last chunk possibly partial. By induction: two
full chunks of ``2^t`` pair into a full chunk of ``2^(t+1)`` (the RFC split of a perfect range
is its middle); a last partial chunk of ``r`` leaves is either carried (``r <= 2^t``: it is
already the MTH of those ``r`` leaves) or pairs a full ``2^t`` chunk with the rest
(``2^t < r < 2^(t+1)``: the RFC splits ``r`` leaves at ``2^t``). So the final node is the MTH.

**Chunk combination.** The same statement, read from round ``j`` on: if the n leaves are cut
into consecutive chunks of ``C = 2^j`` (the last one partial) then
``root_from_leaf_hashes(MTH(chunk_0) ‖ MTH(chunk_1) ‖ …) == MTH(all leaves)``. Independent
workers can hash aligned chunks and combine their roots with this module.

This module is pure: no I/O, no clock, no randomness. It is one file, past 400 lines, because
the proof checks at its end retrace the paths :class:`MerkleTree` builds and read best beside them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256
from itertools import pairwise

from unveil.core.reasons import Reason
from unveil.errors import VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "hash_leaves",
    "leaf_hash",
    "multiproof_path",
    "node_hash",
    "pair_level",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Every leaf hash, proof hash and root is 32 bytes (spec §0, §7)."""

EMPTY_ROOT = sha256(b"").digest()
"""``MTH({}) = SHA256("")`` (RFC 9162 §2.1.1, spec §3)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA256(0x00 ‖ leaf)``: the hash of one leaf input (spec §3; for the log, §7)."""
    return sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA256(0x01 ‖ left ‖ right)``: the hash of an inner node (spec §3)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _check_blob(blob: bytes, what: str) -> bytes:
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, not {type(blob).__name__}")
    data = bytes(blob)
    if len(data) % HASH_SIZE:
        raise ValueError(f"{what} is {len(data)} bytes, not a multiple of {HASH_SIZE}")
    return data


def hash_leaves(leaves: bytes) -> bytes:
    """Leaf hashes of a blob of 32-byte leaf values (``leaves.bin``, spec §3).

    ``leaves`` is N consecutive 32-byte values; the result is N consecutive
    ``SHA256(0x00 ‖ leaf)``. ``ValueError`` if the length is not a multiple of 32.
    """
    data = _check_blob(leaves, "leaf blob")
    return b"".join(
        [sha256(_LEAF_PREFIX + data[i : i + HASH_SIZE]).digest() for i in range(0, len(data), HASH_SIZE)]
    )


def _pair_level(level: bytes) -> bytes:
    """Hashes of adjacent node pairs of a level blob; an unpaired last node is dropped."""
    pair = 2 * HASH_SIZE
    ends = range(0, len(level) - pair + 1, pair)
    return b"".join([sha256(_NODE_PREFIX + level[i : i + pair]).digest() for i in ends])


def pair_level(level: bytes) -> bytes:
    """The next level up of a level blob: its full adjacent pairs hashed, an unpaired last
    node dropped (as :class:`MerkleTree` keeps its levels)."""
    return _pair_level(_check_blob(level, "level blob"))


def root_from_leaf_hashes(hashes: bytes) -> bytes:
    """MTH of the leaves whose hashes ``hashes`` holds (RFC 9162 §2.1.1, spec §3).

    ``hashes`` is one blob of n consecutive 32-byte leaf hashes (already ``SHA256(0x00 ‖ …)``);
    n = 0 gives ``EMPTY_ROOT``. Computed level by level (see the module docstring for why this
    equals the RFC's split at the largest power of two).

    Also combines chunk roots: if ``hashes`` is the concatenation of the MTHs of consecutive
    chunks of ``2^j`` leaves (the last one possibly partial), the result is the MTH of all the
    leaves. ``ValueError`` if the length is not a multiple of 32.
    """
    level = _check_blob(hashes, "hash blob")
    if not level:
        return EMPTY_ROOT
    while len(level) > HASH_SIZE:
        paired = _pair_level(level)
        if (len(level) // HASH_SIZE) % 2:
            paired += level[-HASH_SIZE:]
        level = paired
    return level


def _split(width: int) -> int:
    """The largest power of two strictly below ``width`` (``width >= 2``; RFC 9162 §2.1.1)."""
    return 1 << ((width - 1).bit_length() - 1)


def inclusion_path(index: int, size: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, with ``subtree(lo, hi)`` the MTH of
    leaves lo..hi-1: the leaf's sibling first, the root's child last. Shared by every tree."""
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(subtree(mid, hi))
            hi = mid
        else:
            path.append(subtree(lo, mid))
            lo = mid
    path.reverse()
    return path


def consistency_path(size1: int, size2: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(size1, D[0:size2])`` (sizes already checked, 0 < size1 ≤ size2),
    with ``subtree(lo, hi)`` the MTH of leaves lo..hi-1. Equal sizes give ``[]`` (spec §7)."""
    proof: list[bytes] = []
    if size1 == size2:
        return proof
    # SUBPROOF(m, D[lo:hi], b), unrolled; hashes are collected top-down, then reversed.
    m, lo, hi, whole = size1, 0, size2, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(subtree(lo, hi))
    proof.reverse()
    return proof


def range_from_aligned(lo: int, hi: int, aligned: Callable[[int, int, int], bytes]) -> bytes:
    """MTH of leaves ``lo .. hi-1`` (``lo < hi``) from aligned runs of node hashes:
    ``aligned(t, position, count)`` is the ``count`` consecutive hashes of level ``t`` (nodes of
    2^t leaves) from node ``position``. [lo, hi) is cut into chunks of 2^t, t the largest with lo
    aligned and 2^t ≤ the width; the full chunks of a level are one run and the partial rest is
    cut again (its width < 2^t), so MTH(lo, hi) = root(full chunks ‖ MTH(rest))."""
    parts: list[bytes] = []
    while lo < hi:
        t = (hi - lo).bit_length() - 1
        if lo:
            t = min(t, (lo & -lo).bit_length() - 1)
        count = (hi - lo) >> t
        parts.append(aligned(t, lo >> t, count))
        lo += count << t
    result = parts.pop()
    if len(result) > HASH_SIZE:
        result = root_from_leaf_hashes(result)
    while parts:
        result = root_from_leaf_hashes(parts.pop() + result)
    return result


def multiproof_path(size: int, indices: Sequence[int], subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """Spec §5 multiproof of the leaves at ``indices`` (strictly ascending, at least one) of a
    tree of ``size`` leaves, with ``subtree(lo, hi)`` the MTH of leaves lo..hi-1.

    Runs ``MPROOF(0, size)`` as written in spec §5, depth first with an explicit stack,
    finding which indices fall in a range by bisection: O(|S| log N) subtree hashes.
    """
    idx = list(indices)
    if not idx:
        raise ValueError("a multiproof needs at least one index")
    for a, b in pairwise(idx):
        if not a < b:
            raise ValueError(f"indices not strictly ascending: {a} then {b}")
    if idx[0] < 0 or idx[-1] >= size:
        raise ValueError(f"indices not within [0, {size})")
    proof: list[bytes] = []
    stack = [(0, size, 0, len(idx))]  # (lo, hi, first, end): idx[first:end] in [lo, hi)
    while stack:
        lo, hi, first, end = stack.pop()
        if first == end:
            proof.append(subtree(lo, hi))
        elif hi - lo > 1:
            mid = lo + _split(hi - lo)
            cut = bisect_left(idx, mid, first, end)
            stack.append((mid, hi, cut, end))
            stack.append((lo, mid, first, cut))
    return proof


class MerkleTree:
    """An RFC 9162 tree kept as one blob per level of aligned perfect subtrees.

    Level ``t`` holds, in order, the hash of every perfect subtree of ``2^t`` leaves starting at
    a multiple of ``2^t`` (``size >> t`` hashes). Memory is about ``2 × 32 × size`` bytes. Any
    range's MTH combines cached hashes (:meth:`range_hash`), so the root, audit paths,
    consistency proofs and multiproofs cost O(log N) hashes per emitted hash.

    Build with :meth:`from_leaf_hashes` or :meth:`from_entries`.
    """

    __slots__ = ("_levels", "_root", "_size")

    def __init__(self, levels: list[bytes]):
        """Internal: use :meth:`from_leaf_hashes` or :meth:`from_entries`."""
        self._levels = levels
        self._size = len(levels[0]) // HASH_SIZE
        self._root = self._range(0, self._size) if self._size else EMPTY_ROOT

    @classmethod
    def from_leaf_hashes(cls, hashes: bytes) -> MerkleTree:
        """The tree over leaves whose 32-byte hashes ``hashes`` concatenates (may be empty)."""
        levels = [_check_blob(hashes, "hash blob")]
        while len(levels[-1]) >= 2 * HASH_SIZE:
            levels.append(_pair_level(levels[-1]))
        return cls(levels)

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> MerkleTree:
        """The tree over leaf inputs of any length (the log's entries, spec §7)."""
        return cls.from_leaf_hashes(b"".join([leaf_hash(e) for e in entries]))

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    @property
    def root(self) -> bytes:
        """MTH of all leaves (``EMPTY_ROOT`` for an empty tree)."""
        return self._root

    @property
    def leaf_hashes(self) -> bytes:
        """The blob of all leaf hashes, in order."""
        return self._levels[0]

    def leaf_hash_at(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        if not 0 <= index < self._size:
            raise IndexError(f"leaf index {index} not in [0, {self._size})")
        return self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def range_hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``lo .. hi-1`` (``EMPTY_ROOT`` if ``lo == hi``).

        O(log N) for every range an RFC 9162 or spec §5 walk visits (``lo`` a multiple of a
        power of two at least ``hi - lo``); an arbitrary unaligned range costs up to
        O(hi - lo) hashes, since its tree shares no nodes with this one.
        """
        if not 0 <= lo <= hi <= self._size:
            raise ValueError(f"range [{lo}, {hi}) not within [0, {self._size}]")
        if lo == hi:
            return EMPTY_ROOT
        return self._range(lo, hi)

    def _range(self, lo: int, hi: int) -> bytes:
        levels = self._levels  # every level cached: a run is a slice of one
        return range_from_aligned(lo, hi, lambda t, position, count: levels[t][position * HASH_SIZE : (position + count) * HASH_SIZE])

    def _check_size(self, size: int | None) -> int:
        if size is None:
            size = self._size
        if not 0 < size <= self._size:
            raise ValueError(f"tree size {size} not in [1, {self._size}]")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the first ``size`` leaves.

        Ordered as the RFC's ``PATH``: the leaf's sibling first, the root's child last.
        ``size`` defaults to the whole tree; ``ValueError`` unless ``0 <= index < size``.
        """
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} not in [0, {size})")
        return inclusion_path(index, size, self._range)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 consistency proof from the first ``size1`` to ``size2`` leaves.

        ``size2`` defaults to the whole tree. Equal sizes give ``[]`` (spec §7). ``ValueError``
        unless ``0 < size1 <= size2 <= size``: a proof from the empty tree proves nothing.
        """
        size2 = self._check_size(size2)
        if not 0 < size1 <= size2:
            raise ValueError(f"size1 {size1} not in [1, {size2}]")
        return consistency_path(size1, size2, self._range)

    def multiproof(self, indices: Sequence[int]) -> list[bytes]:
        """Spec §5 multiproof of the leaves at ``indices`` (strictly ascending, at least one).

        Runs ``MPROOF(0, size)`` as written in spec §5, depth first with an explicit stack,
        finding which indices fall in a range by bisection: O(|S| log N) range hashes.
        """
        return multiproof_path(self._size, indices, self._range)


# ---------------------------------------------------------------------------------------------
# Verifiers: preconditions first, then compute, then compare (as transparency-dev/merkle).


def _malformed(detail: str) -> VerificationError:
    return VerificationError.because(Reason.PROOF_MALFORMED, detail)


def _require_hash(value: object, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise _malformed(f"{what} must be {HASH_SIZE} bytes, got {got}")


def _require_proof(proof: Sequence[bytes]) -> None:
    for i, value in enumerate(proof):
        _require_hash(value, f"proof hash {i}")


def root_from_inclusion_proof(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an RFC 9162 §2.1.3.2 audit path leads to from leaf ``index`` of ``size``.

    ``VerificationError`` with reason ``proof-malformed`` if ``size < 1``, ``index`` is not in
    ``[0, size)``, a hash is not 32 bytes (spec §7) or the path has the wrong length for
    ``(index, size)``.
    """
    if size < 1:
        raise _malformed(f"tree size {size} is below 1")
    if not 0 <= index < size:
        raise _malformed(f"leaf index {index} not in [0, {size})")
    _require_hash(leaf_hash, "leaf hash")
    _require_proof(proof)
    inner = (index ^ (size - 1)).bit_length()  # levels where the path has a sibling below the border
    want = inner + (index >> inner).bit_count()
    if len(proof) != want:
        raise _malformed(f"audit path of leaf {index} in a tree of {size} has {want} hashes, got {len(proof)}")
    result = leaf_hash
    for level, sibling in enumerate(proof):
        if level >= inner or (index >> level) & 1:
            result = node_hash(sibling, result)
        else:
            result = node_hash(result, sibling)
    return result


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check an RFC 9162 §2.1.3.2 audit path against ``root``.

    Raises ``VerificationError``: ``proof-malformed`` (see :func:`root_from_inclusion_proof`,
    or ``root`` not 32 bytes) or ``proof-root-mismatch``.
    """
    _require_hash(root, "root")
    computed = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if computed != root:
        raise VerificationError.because(
            Reason.PROOF_ROOT_MISMATCH, f"audit path of leaf {index} in a tree of {size} leads to another root"
        )


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check an RFC 9162 §2.1.4.2 consistency proof, with the rules of spec §7.

    ``proof-malformed`` if ``size1 = 0`` or ``size1 > size2``, a proof hash (or, for different
    sizes, a root) is not 32 bytes, the proof is not empty when ``size1 = size2``, or it has the
    wrong length;
    ``proof-root-mismatch`` if ``size1 = size2`` and the roots differ, or a recomputed root
    differs from ``root1`` or ``root2``.
    """
    if size1 < 1:
        raise _malformed(f"size1 is {size1}: a consistency proof from an empty tree proves nothing")
    if size1 > size2:
        raise _malformed(f"size1 {size1} exceeds size2 {size2}")
    _require_proof(proof)
    if size1 == size2:
        # Spec §7 as written: an empty proof and the roots equal byte for byte. Root lengths
        # are checked where roots are read (checkpoints); as in transparency-dev/merkle and
        # its probe "sizes are equal (one) and proof is empty", they are not re-checked here.
        if proof:
            raise _malformed(f"equal sizes need an empty proof, got {len(proof)} hashes")
        if root1 != root2:
            raise VerificationError.because(Reason.PROOF_ROOT_MISMATCH, f"roots of the same size {size1} differ")
        return
    _require_hash(root1, "root1")
    _require_hash(root2, "root2")
    # The proof is (maybe) the hash of the subtree of 2^shift leaves that ends at leaf size1-1,
    # then the audit path of that subtree in the tree of size2.
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    if size1 == 1 << shift:
        seed, path = root1, list(proof)
    else:
        if not proof:
            raise _malformed("empty consistency proof for different sizes")
        seed, path = proof[0], list(proof[1:])
    mask = (size1 - 1) >> shift
    want = inner + (mask >> inner).bit_count()
    if len(path) != want:
        start = len(proof) - len(path)
        raise _malformed(f"consistency proof {size1} -> {size2} has {start + want} hashes, got {len(proof)}")
    hash1 = hash2 = seed
    for level, sibling in enumerate(path):
        if level >= inner or (mask >> level) & 1:
            hash1 = node_hash(sibling, hash1)
            hash2 = node_hash(sibling, hash2)
        else:
            hash2 = node_hash(hash2, sibling)
    for computed, root, name, size in ((hash1, root1, "root1", size1), (hash2, root2, "root2", size2)):
        if computed != root:
            raise VerificationError.because(
                Reason.PROOF_ROOT_MISMATCH, f"consistency proof does not lead to {name} of size {size}"
            )
