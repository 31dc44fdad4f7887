"""Fuzzing the proof verifiers (RFC 9162 audit paths and consistency proofs, spec §5
multiproofs, spec §7): any sizes, indices and hashes give ``None`` or a VerificationError,
quickly even for trees of 2^53 leaves; real proofs verify and a changed one does not."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import MAX_SAFE, fuzz, outcome
from unveil.core.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from unveil.core.multiproof import verify_multiproof, verify_packed_multiproof
from unveil.errors import VerificationError

SIZES = st.integers(-2, 70) | st.sampled_from([2**31, 2**32 + 1, MAX_SAFE, 2**63 - 1])
HASHES = st.lists(st.binary(min_size=32, max_size=32) | st.binary(max_size=40), max_size=12)
HASH = st.binary(min_size=32, max_size=32) | st.binary(max_size=40)
ONLY = (VerificationError,)


@fuzz(60)
@given(SIZES, SIZES, HASH, HASHES, HASH)
def test_inclusion_proofs(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    outcome(verify_inclusion, index, size, leaf, proof, root, allowed=ONLY)


@fuzz(60)
@given(SIZES, SIZES, HASHES, HASH, HASH)
def test_consistency_proofs(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> None:
    outcome(verify_consistency, size1, size2, proof, root1, root2, allowed=ONLY)


@fuzz(60)
@given(SIZES, st.lists(st.tuples(SIZES, HASH), max_size=6), HASHES, HASH)
def test_multiproofs(size: int, opened: list[tuple[int, bytes]], proof: list[bytes], root: bytes) -> None:
    outcome(verify_multiproof, size, opened, proof, root, allowed=ONLY)
    indices = [i for i, _ in opened]
    outcome(verify_packed_multiproof, size, indices, b"".join(h for _, h in opened), b"".join(proof), root, allowed=ONLY)


@st.composite
def trees(draw: st.DrawFn) -> tuple[MerkleTree, list[bytes]]:
    leaves = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(draw(st.integers(1, 40)))]
    return MerkleTree.from_leaf_hashes(b"".join(map(leaf_hash, leaves))), leaves


@fuzz(30)
@given(trees(), st.data())
def test_real_proofs_verify_and_a_changed_one_does_not(tree_leaves: tuple[MerkleTree, list[bytes]], data: st.DataObject) -> None:
    tree, leaves = tree_leaves
    size = len(leaves)
    indices = sorted(data.draw(st.sets(st.integers(0, size - 1), min_size=1)))
    proof = tree.multiproof(indices)
    opened = [(i, leaf_hash(leaves[i])) for i in indices]
    verify_multiproof(size, opened, proof, tree.root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], bytes([proof[k][0] ^ 1]) + proof[k][1:], *proof[k + 1:]]
        assert isinstance(outcome(verify_multiproof, size, opened, bad, tree.root, allowed=ONLY), VerificationError)
    moved = [(i + 1 if n == 0 else i, h) for n, (i, h) in enumerate(opened)]
    if moved != opened:
        assert isinstance(outcome(verify_multiproof, size, moved, proof, tree.root, allowed=ONLY), VerificationError)
