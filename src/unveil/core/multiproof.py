"""Spec §5 multiproof: one proof for a set S of opened leaves of an RFC 9162 tree.

The producer runs the spec's walk as written::

    MPROOF(lo, hi):                      # leaves lo .. hi-1
      if S has no index in [lo, hi):  emit MTH(leaves lo .. hi-1); return
      if hi - lo == 1:                return          # an opened leaf
      k = largest power of two < hi - lo
      MPROOF(lo, lo + k); MPROOF(lo + k, hi)

The verifier recomputes the same tree bottom-up, one level at a time, instead of depth first:
it touches only the ancestors of opened leaves and their siblings, needs no recursion, and does
its bookkeeping with whole-level list and set operations: O(|S| log(N/|S|)) hashes. It relies on
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
from itertools import chain

from unveil.core.merkle import HASH_SIZE, MerkleTree
from unveil.errors import VerificationError

__all__ = ["multiproof_root", "produce", "verify_multiproof"]

# How an ancestor p of S sits at its level, and whether each node it brings to the level's
# touched list is an ancestor (True) or an emitted sibling (False), in position order.
_PAIRED, _LEFT, _RIGHT = 0, 1, 2  # sibling also an ancestor (or absent) | p is a left | a right child
_TOUCHED: tuple[tuple[bool, ...], ...] = ((True,), (True, False), (False, True))


def produce(tree: MerkleTree, indices: Sequence[int]) -> list[bytes]:
    """The spec §5 proof for the leaves at ``indices`` (strictly ascending) of ``tree``."""
    return tree.multiproof(indices)


def _malformed(detail: str) -> VerificationError:
    return VerificationError.because("proof-malformed", detail)


def _check_inputs(tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes]) -> None:
    """Preconditions, checked with whole-list passes; the slow scan runs only to name a failure."""
    if tree_size < 1:
        raise _malformed(f"tree size {tree_size} is below 1")
    if not opened:
        raise _malformed("no opened leaves")
    indices = [index for index, _ in opened]
    leaves = [leaf for _, leaf in opened]
    if not (0 <= indices[0] and indices[-1] < tree_size and all(map(lt, indices, indices[1:]))):
        previous = -1
        for index in indices:
            if index <= previous:
                raise _malformed(f"opened indices not strictly ascending: {previous} then {index}")
            if not index < tree_size:
                raise _malformed(f"opened index {index} not in [0, {tree_size})")
            previous = index
        raise _malformed(f"opened index {indices[0]} not in [0, {tree_size})")
    for what, values in (("leaf hash of opening", leaves), ("proof hash", proof)):
        if values and (set(map(type, values)) != {bytes} or set(map(len, values)) != {HASH_SIZE}):
            bad = next(i for i, v in enumerate(values) if not isinstance(v, bytes) or len(v) != HASH_SIZE)
            raise _malformed(f"{what} {bad} is not {HASH_SIZE} bytes")


def multiproof_root(tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes]) -> bytes:
    """The root the spec §5 multiproof ``proof`` leads to from the ``opened`` leaves.

    ``opened`` is strictly ascending ``(index, leaf_hash)`` pairs, ``leaf_hash`` being
    ``SHA256(0x00 ‖ leaf)``. Raises ``VerificationError`` with reason ``proof-malformed`` if
    ``tree_size < 1``, nothing is opened, an index is out of range or not strictly ascending, or
    a hash is not 32 bytes; ``proof-hash-count`` if the walk needs more hashes than ``proof``
    holds or leaves some unused.
    """
    _check_inputs(tree_size, opened, proof)

    # Pass 1, positions only. At each level, for every ancestor p of S (sorted): is its sibling
    # an ancestor too, or emitted by the walk (first leaf (p ^ 1) << t), or absent (p is the
    # unpaired last node, carried up). From that, which of the level's touched nodes (ancestors
    # and emitted siblings, in position order) are ancestors.
    ancestors = [index for index, _ in opened]
    levels: list[tuple[list[bool] | None, list[int]]] = []
    starts: list[int] = []
    count, t = tree_size, 0  # nodes at level t
    while count > 1:
        known = set(ancestors)
        kinds = [_PAIRED if p ^ 1 in known else _LEFT + (p & 1) for p in ancestors]
        if kinds[-1] == _LEFT and ancestors[-1] == count - 1:
            kinds[-1] = _PAIRED  # no sibling: touched alone, like one of a pair
        if any(kinds):
            emitted = [(p ^ 1) << t for p, kind in zip(ancestors, kinds) if kind]
            levels.append((list(chain.from_iterable(map(_TOUCHED.__getitem__, kinds))), emitted))
            starts += emitted
        else:
            levels.append((None, []))
        ancestors = list(dict.fromkeys([p >> 1 for p in ancestors]))
        count, t = (count + 1) >> 1, t + 1

    if len(starts) != len(proof):
        few = len(proof) < len(starts)
        raise VerificationError.because(
            "proof-hash-count",
            f"the walk over {len(opened)} opened leaves of {tree_size} takes {len(starts)} proof hashes, "
            + (f"only {len(proof)} given" if few else f"{len(proof) - len(starts)} of {len(proof)} unused"),
        )
    by_start = dict(zip(sorted(starts), proof))

    # Pass 2, hashes: interleave computed and proof hashes in position order, pair, repeat.
    hashes = [leaf for _, leaf in opened]
    for is_ancestor, emitted in levels:
        if is_ancestor is not None:
            sources = (iter([by_start[s] for s in emitted]), iter(hashes))
            hashes = list(map(next, map(sources.__getitem__, is_ancestor)))
        paired = [sha256(b"\x01" + left + right).digest() for left, right in zip(hashes[0::2], hashes[1::2])]
        if len(hashes) & 1:
            paired.append(hashes[-1])  # unpaired last node, carried up
        hashes = paired
    return hashes[0]


def verify_multiproof(
    tree_size: int, opened: Sequence[tuple[int, bytes]], proof: Sequence[bytes], root: bytes
) -> None:
    """Check a spec §5 multiproof: every proof hash used exactly once and the root matches.

    Raises ``VerificationError``: ``proof-malformed`` or ``proof-hash-count`` (see
    :func:`multiproof_root`; also ``proof-malformed`` if ``root`` is not 32 bytes), or
    ``proof-root-mismatch``.
    """
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise _malformed(f"root is not {HASH_SIZE} bytes")
    computed = multiproof_root(tree_size, opened, proof)
    if computed != root:
        raise VerificationError.because(
            "proof-root-mismatch", f"multiproof over {len(opened)} opened leaves leads to another root"
        )
