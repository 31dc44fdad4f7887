"""Spec §5 multiproof: one proof for a set S of opened leaves of an RFC 9162 tree.

The producer runs the spec's walk as written::

    MPROOF(lo, hi):                      # leaves lo .. hi-1
      if S has no index in [lo, hi):  emit MTH(leaves lo .. hi-1); return
      if hi - lo == 1:                return          # an opened leaf
      k = largest power of two < hi - lo
      MPROOF(lo, lo + k); MPROOF(lo + k, hi)

The verifier recomputes the same tree bottom-up, one level at a time, instead of depth first:
it touches only the ancestors of opened leaves and their siblings, needs no recursion, and does
its bookkeeping with whole-level numpy array operations: O(|S| log(N/|S|)) hashes. It relies on
two facts:

- Level by level, pairing adjacent nodes and carrying an unpaired last node up unchanged builds
  the RFC 9162 tree (see :mod:`unveil.core.merkle`). At level ``t`` the ancestors of S are the
  positions ``{i >> t}``; a node the walk emits is exactly a sibling ``p ^ 1`` of such an
  ancestor ``p`` that exists at that level and is not itself an ancestor.
- Emitted subtrees are disjoint leaf ranges and the walk visits left before right, so the proof
  lists them by ascending first leaf. A node at level ``t``, position ``q`` starts at leaf
  ``q << t``: sorting the starts of all emitted nodes gives each its place in the proof.

This module is pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from operator import lt
from typing import NoReturn

import numpy as np

from unveil.core.merkle import HASH_SIZE, MerkleTree
from unveil.core.reasons import Reason
from unveil.errors import VerificationError

__all__ = ["multiproof_root", "packed_multiproof_root", "produce", "verify_multiproof", "verify_packed_multiproof"]

def produce(tree: MerkleTree, indices: Sequence[int]) -> list[bytes]:
    """The spec §5 proof for the leaves at ``indices`` (strictly ascending) of ``tree``."""
    return tree.multiproof(indices)


def _malformed(detail: str) -> VerificationError:
    return VerificationError.because(Reason.PROOF_MALFORMED, detail)


def _check_inputs(tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes]) -> None:
    """Preconditions, checked with whole-list passes; the slow scan runs only to name a failure."""
    if tree_size < 1:
        raise _malformed(f"tree size {tree_size} is below 1")
    if not opened:
        raise _malformed("no opened leaves")
    indices = [index for index, _ in opened]
    leaves = [leaf for _, leaf in opened]
    if not (0 <= indices[0] and indices[-1] < tree_size and all(map(lt, indices, indices[1:]))):
        _check_indices(indices, tree_size)
    for what, values in (("leaf hash of opening", leaves), ("proof hash", proof)):
        if values and (set(map(type, values)) != {bytes} or set(map(len, values)) != {HASH_SIZE}):
            bad = next(i for i, v in enumerate(values) if not isinstance(v, bytes) or len(v) != HASH_SIZE)
            raise _malformed(f"{what} {bad} is not {HASH_SIZE} bytes")


def _check_indices(indices: Sequence[object], tree_size: int) -> NoReturn:
    """For indices that failed a whole-list check: raise ``proof-malformed`` naming the first
    one that is not an integer, out of order or out of range."""
    previous = -1
    for index in indices:
        if type(index) is not int or not -(2**63) <= index < 2**63:
            raise _malformed(f"opened index {index!r} is not a 64-bit integer")
        if index <= previous:
            raise _malformed(f"opened indices not strictly ascending: {previous} then {index}")
        if not index < tree_size:
            raise _malformed(f"opened index {index} not in [0, {tree_size})")
        previous = index
    raise _malformed(f"opened index {indices[0]!r} not in [0, {tree_size})")


def multiproof_root(tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes]) -> bytes:
    """The root the spec §5 multiproof ``proof`` leads to from the ``opened`` leaves.

    ``opened`` is strictly ascending ``(index, leaf_hash)`` pairs, ``leaf_hash`` being
    ``SHA256(0x00 ‖ leaf)``. Raises ``VerificationError`` with reason ``proof-malformed`` if
    ``tree_size < 1``, nothing is opened, an index is out of range or not strictly ascending, or
    a hash is not 32 bytes; ``proof-hash-count`` if the walk needs more hashes than ``proof``
    holds or leaves some unused.

    Positions are numpy integer arrays and each level's hashes one ``(n, 32)`` byte array, so
    the bookkeeping is whole-array work and the SHA-256 calls (one per pair) are what is left.
    """
    _check_inputs(tree_size, opened, proof)
    indices = np.fromiter((index for index, _ in opened), dtype=np.int64, count=len(opened))
    return _root(tree_size, indices, b"".join(leaf for _, leaf in opened), b"".join(proof))


def packed_multiproof_root(tree_size: int, indices: Sequence[int], leaf_hashes: bytes, proof: bytes) -> bytes:
    """:func:`multiproof_root` for inputs in bulk, as a large bundle is checked: ``indices``
    strictly ascending, ``leaf_hashes`` their leaf hashes concatenated (32 bytes each, in the
    same order) and ``proof`` the proof hashes concatenated. Same errors."""
    if tree_size < 1:
        raise _malformed(f"tree size {tree_size} is below 1")
    if not len(indices):
        raise _malformed("no opened leaves")
    if not (all(type(v) is int for v in indices) and -(2**63) <= min(indices) and max(indices) < 2**63):
        _check_indices(indices, tree_size)
    positions = np.asarray(indices, dtype=np.int64)
    if positions[0] < 0 or positions[-1] >= tree_size or not bool(np.all(positions[1:] > positions[:-1])):
        _check_indices(indices, tree_size)
    if type(leaf_hashes) is not bytes or type(proof) is not bytes:
        raise _malformed("the leaf hashes and the proof are each one bytes object")
    if len(leaf_hashes) != HASH_SIZE * len(indices):
        raise _malformed(f"the leaf hashes are {len(leaf_hashes)} bytes, not {HASH_SIZE} × {len(indices)}")
    if len(proof) % HASH_SIZE:
        raise _malformed(f"the proof is {len(proof)} bytes, not a multiple of {HASH_SIZE}")
    return _root(tree_size, positions, leaf_hashes, proof)


def _root(tree_size: int, indices: np.ndarray, leaf_hashes: bytes, proof_hashes: bytes) -> bytes:
    """Both passes, on checked inputs: ``indices`` strictly ascending in range, 32 bytes a hash."""
    opened_count, proof_count = len(indices), len(proof_hashes) // HASH_SIZE

    # Pass 1, positions only. At each level t, for every ancestor p of S (sorted, unique): is
    # its sibling p ^ 1 an ancestor too (then it is p's neighbour in the sorted array), emitted
    # by the walk (first leaf (p ^ 1) << t), or absent (p is the unpaired last node, carried
    # up). The level's touched nodes, in position order, are each ancestor preceded (p a right
    # child) or followed (p a left child) by its emitted sibling: their slots come from a
    # running sum of group sizes.
    ancestors = indices
    levels: list[tuple[int, np.ndarray, np.ndarray, int] | None] = []
    starts: list[np.ndarray] = []
    count, t = tree_size, 0  # nodes at level t
    while count > 1:
        odd = (ancestors & 1).astype(bool)
        right_is_next = np.zeros(len(ancestors), dtype=bool)
        right_is_next[:-1] = ancestors[1:] == ancestors[:-1] + 1
        left_is_previous = np.zeros(len(ancestors), dtype=bool)
        left_is_previous[1:] = right_is_next[:-1]
        emits = ~np.where(odd, left_is_previous, right_is_next)
        if not odd[-1] and ancestors[-1] == count - 1:
            emits[-1] = False  # no sibling: touched alone
        if emits.any():
            sizes = 1 + emits
            group = np.cumsum(sizes) - sizes
            ancestor_slots = group + (odd & emits)  # after its left sibling when a right child
            sibling_slots = (group + ~odd)[emits]  # after a left child, else first
            emitted = (ancestors[emits] ^ 1) << t
            levels.append((int(sizes.sum()), ancestor_slots, sibling_slots, len(emitted)))
            starts.append(emitted)
        else:
            levels.append(None)
        parents = ancestors >> 1
        keep = np.ones(len(parents), dtype=bool)
        keep[1:] = parents[1:] != parents[:-1]
        ancestors = parents[keep]
        count, t = (count + 1) >> 1, t + 1

    needed = sum(map(len, starts))
    if needed != proof_count:
        few = proof_count < needed
        raise VerificationError.because(
            Reason.PROOF_HASH_COUNT,
            f"the walk over {opened_count} opened leaves of {tree_size} takes {needed} proof hashes, "
            + (f"only {proof_count} given" if few else f"{proof_count - needed} of {proof_count} unused"),
        )
    # The proof lists emitted nodes by ascending first leaf: node k (in walk-level order)
    # takes proof hash rank[k].
    rank = np.empty(needed, dtype=np.int64)
    if needed:
        rank[np.argsort(np.concatenate(starts), kind="stable")] = np.arange(needed)
    proof_rows = np.frombuffer(proof_hashes, dtype=np.uint8).reshape(-1, HASH_SIZE)

    # Pass 2, hashes: place computed and proof hashes at their slots, hash adjacent pairs.
    hashes = np.frombuffer(leaf_hashes, dtype=np.uint8).reshape(-1, HASH_SIZE)
    taken = 0
    for level in levels:
        if level is not None:
            width, ancestor_slots, sibling_slots, emitted_count = level
            merged = np.empty((width, HASH_SIZE), dtype=np.uint8)
            merged[ancestor_slots] = hashes
            merged[sibling_slots] = proof_rows[rank[taken : taken + emitted_count]]
            taken += emitted_count
            hashes = merged
        hashes = _hash_pairs(hashes)
    root: bytes = hashes[0].tobytes()
    return root


def _hash_pairs(hashes: np.ndarray) -> np.ndarray:
    """The next level up: ``SHA256(0x01 ‖ left ‖ right)`` of each adjacent pair, an unpaired
    last node carried up unchanged (RFC 9162)."""
    pairs = len(hashes) // 2
    if pairs == 0:
        return hashes
    nodes = np.empty((pairs, 1 + 2 * HASH_SIZE), dtype=np.uint8)
    nodes[:, 0] = 1
    nodes[:, 1:] = hashes[: 2 * pairs].reshape(pairs, 2 * HASH_SIZE)
    data = memoryview(nodes.tobytes())
    step = 1 + 2 * HASH_SIZE
    parents = np.frombuffer(b"".join([sha256(data[i : i + step]).digest() for i in range(0, len(data), step)]), dtype=np.uint8)
    parents = parents.reshape(pairs, HASH_SIZE)
    return np.concatenate((parents, hashes[-1:])) if len(hashes) & 1 else parents


def verify_multiproof(
    tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes], root: bytes
) -> None:
    """Check a spec §5 multiproof: every proof hash used exactly once and the root matches.

    Raises ``VerificationError``: ``proof-malformed`` or ``proof-hash-count`` (see
    :func:`multiproof_root`; also ``proof-malformed`` if ``root`` is not 32 bytes), or
    ``proof-root-mismatch``.
    """
    _check_root(root)
    _compare(multiproof_root(tree_size, opened, proof), root, len(opened))


def verify_packed_multiproof(tree_size: int, indices: Sequence[int], leaf_hashes: bytes, proof: bytes, root: bytes) -> None:
    """:func:`verify_multiproof` for inputs in bulk (see :func:`packed_multiproof_root`)."""
    _check_root(root)
    _compare(packed_multiproof_root(tree_size, indices, leaf_hashes, proof), root, len(indices))


def _check_root(root: bytes) -> None:
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise _malformed(f"root is not {HASH_SIZE} bytes")


def _compare(computed: bytes, root: bytes, opened_count: int) -> None:
    if computed != root:
        raise VerificationError.because(
            Reason.PROOF_ROOT_MISMATCH, f"multiproof over {opened_count} opened leaves leads to another root"
        )
