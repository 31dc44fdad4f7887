"""RFC 9162 tree (spec §3, §7) against a naive transcription of RFC 9162 §2.1."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.core.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    hash_leaves,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from unveil.errors import VerificationError

# --- Reference: RFC 9162 §2.1 pseudo-code, recursive, over the leaf inputs D ------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]), RFC 9162 §2.1.1."""
    n = len(d)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + d[0]).digest()
    k = _k(n)
    return sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]), RFC 9162 §2.1.4.1."""
    return ref_subproof(m, d, True)


def entries(n: int, salt: int = 0) -> list[bytes]:
    """n distinct leaf inputs of varying length (the log's entries are not 32 bytes)."""
    return [i.to_bytes(2, "big") + sha256(f"{salt}:{i}".encode()).digest()[: (i * 7 + salt) % 40] for i in range(n)]


def tree_of(n: int, salt: int = 0) -> tuple[list[bytes], MerkleTree]:
    d = entries(n, salt)
    return d, MerkleTree.from_entries(d)


def flip_bit(h: bytes, bit: int = 0) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]


def reason_of(call) -> set[str]:
    with pytest.raises(VerificationError) as caught:
        call()
    return caught.value.reasons


# --- Hashing -----------------------------------------------------------------------------------


def test_hash_domains() -> None:
    assert EMPTY_ROOT == sha256(b"").digest()
    assert leaf_hash(b"abc") == sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


def test_hash_leaves_is_leaf_hash_of_each_32_byte_value() -> None:
    values = [bytes([i]) * 32 for i in range(5)]
    assert hash_leaves(b"".join(values)) == b"".join(leaf_hash(v) for v in values)
    assert hash_leaves(b"") == b""


@pytest.mark.parametrize("length", [1, 31, 33, 65])
def test_blob_lengths_must_be_multiples_of_32(length: int) -> None:
    with pytest.raises(ValueError):
        hash_leaves(b"x" * length)
    with pytest.raises(ValueError):
        root_from_leaf_hashes(b"x" * length)
    with pytest.raises(ValueError):
        MerkleTree.from_leaf_hashes(b"x" * length)


def test_empty_tree() -> None:
    tree = MerkleTree.from_leaf_hashes(b"")
    assert (tree.size, tree.root) == (0, EMPTY_ROOT)
    assert root_from_leaf_hashes(b"") == EMPTY_ROOT
    assert tree.range_hash(0, 0) == EMPTY_ROOT


# --- Fast paths equal the reference -----------------------------------------------------------


@given(st.integers(0, 300), st.integers(0, 3))
def test_root_from_leaf_hashes_equals_reference(n: int, salt: int) -> None:
    d = entries(n, salt)
    blob = b"".join(leaf_hash(e) for e in d)
    assert root_from_leaf_hashes(blob) == ref_mth(d)
    tree = MerkleTree.from_leaf_hashes(blob)
    assert tree.size == n
    assert tree.root == ref_mth(d)
    assert MerkleTree.from_entries(d).root == ref_mth(d)


@given(st.data())
def test_range_hash_equals_reference(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300), label="n")
    lo = data.draw(st.integers(0, n), label="lo")
    hi = data.draw(st.integers(lo, n), label="hi")
    d, tree = tree_of(n)
    assert tree.range_hash(lo, hi) == ref_mth(d[lo:hi])


def test_range_hash_rejects_ranges_outside_the_tree() -> None:
    _, tree = tree_of(5)
    for lo, hi in [(-1, 2), (3, 2), (0, 6)]:
        with pytest.raises(ValueError):
            tree.range_hash(lo, hi)


@given(st.data())
def test_inclusion_proof_equals_reference_path(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300), label="n")
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    d, tree = tree_of(n)
    proof = tree.inclusion_proof(index, size)
    assert proof == ref_path(index, d[:size])
    verify_inclusion(index, size, leaf_hash(d[index]), proof, ref_mth(d[:size]))
    assert root_from_inclusion_proof(index, size, leaf_hash(d[index]), proof) == ref_mth(d[:size])


@given(st.data())
def test_consistency_proof_equals_reference(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300), label="n")
    size2 = data.draw(st.integers(1, n), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    d, tree = tree_of(n)
    proof = tree.consistency_proof(size1, size2)
    assert proof == ref_proof(size1, d[:size2])
    verify_consistency(size1, size2, proof, ref_mth(d[:size1]), ref_mth(d[:size2]))


def test_every_inclusion_and_consistency_proof_of_small_trees_verifies() -> None:
    d, tree = tree_of(33)
    roots = [ref_mth(d[:s]) for s in range(34)]
    for size in range(1, 34):
        for index in range(size):
            verify_inclusion(index, size, leaf_hash(d[index]), tree.inclusion_proof(index, size), roots[size])
        for size1 in range(1, size + 1):
            verify_consistency(size1, size, tree.consistency_proof(size1, size), roots[size1], roots[size])


def test_proofs_default_to_the_whole_tree() -> None:
    d, tree = tree_of(21)
    assert tree.inclusion_proof(6) == ref_path(6, d)
    assert tree.consistency_proof(5) == ref_proof(5, d)


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0), (0, 8)])
def test_inclusion_proof_rejects_bad_requests(index: int, size: int) -> None:
    _, tree = tree_of(7)
    with pytest.raises(ValueError):
        tree.inclusion_proof(index, size)


@pytest.mark.parametrize(("size1", "size2"), [(0, 5), (6, 5), (1, 8), (-1, 3)])
def test_consistency_proof_rejects_bad_requests(size1: int, size2: int) -> None:
    _, tree = tree_of(7)
    with pytest.raises(ValueError):
        tree.consistency_proof(size1, size2)


# --- Chunk combination ---------------------------------------------------------------------------


@given(st.integers(1, 300), st.integers(0, 9))
def test_chunk_roots_combine_into_the_root(n: int, j: int) -> None:
    """Chunks of 2^j consecutive leaves (last one partial): combining their MTHs gives the MTH."""
    d = entries(n)
    c = 1 << j
    chunk_roots = b"".join(ref_mth(d[i : i + c]) for i in range(0, n, c))
    assert root_from_leaf_hashes(chunk_roots) == ref_mth(d)


def test_chunks_that_are_not_a_power_of_two_do_not_combine() -> None:
    """The property needs C = 2^j: with chunks of 3 the shapes differ, and so do the roots."""
    d = entries(9)
    chunk_roots = b"".join(ref_mth(d[i : i + 3]) for i in range(0, 9, 3))
    assert root_from_leaf_hashes(chunk_roots) != ref_mth(d)


# --- Verifier preconditions and tampering ----------------------------------------------------


@pytest.fixture(scope="module")
def log() -> tuple[list[bytes], MerkleTree, list[bytes]]:
    d, tree = tree_of(27)
    return d, tree, [ref_mth(d[:s]) for s in range(28)]


def test_inclusion_flipped_proof_bit(log) -> None:
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    for i in range(len(proof)):
        for bit in (0, 77, 255):
            bad = [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]]
            assert reason_of(lambda: verify_inclusion(9, 27, leaf_hash(d[9]), bad, roots[27])) == {
                "proof-root-mismatch"
            }


def test_inclusion_dropped_hash(log) -> None:
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    for i in range(len(proof)):
        bad = proof[:i] + proof[i + 1 :]
        assert reason_of(lambda: verify_inclusion(9, 27, leaf_hash(d[9]), bad, roots[27])) == {"proof-malformed"}


def test_inclusion_extra_hash(log) -> None:
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    for bad in (proof + [proof[0]], [roots[27], *proof], proof + [EMPTY_ROOT]):
        assert reason_of(lambda: verify_inclusion(9, 27, leaf_hash(d[9]), bad, roots[27])) == {"proof-malformed"}


def test_inclusion_wrong_index(log) -> None:
    """The proof of leaf 9 does not place leaf 9 at any other index."""
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    for index in [i for i in range(27) if i != 9]:
        assert reason_of(lambda: verify_inclusion(index, 27, leaf_hash(d[9]), proof, roots[27])) <= {
            "proof-malformed",
            "proof-root-mismatch",
        }
    assert reason_of(lambda: verify_inclusion(27, 27, leaf_hash(d[9]), proof, roots[27])) == {"proof-malformed"}
    assert reason_of(lambda: verify_inclusion(-1, 27, leaf_hash(d[9]), proof, roots[27])) == {"proof-malformed"}


def test_inclusion_wrong_size(log) -> None:
    """A proof for the tree of 19 does not verify against any other size's checkpoint."""
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 19)
    for size in [s for s in range(10, 28) if s != 19]:
        assert reason_of(lambda: verify_inclusion(9, size, leaf_hash(d[9]), proof, roots[size])) <= {
            "proof-malformed",
            "proof-root-mismatch",
        }
    assert reason_of(lambda: verify_inclusion(9, 0, leaf_hash(d[9]), proof, roots[19])) == {"proof-malformed"}


def test_inclusion_wrong_leaf(log) -> None:
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    assert reason_of(lambda: verify_inclusion(9, 27, leaf_hash(d[8]), proof, roots[27])) == {"proof-root-mismatch"}


def test_inclusion_truncated_hash(log) -> None:
    d, tree, roots = log
    proof = tree.inclusion_proof(9, 27)
    good_leaf = leaf_hash(d[9])
    cases = [
        (good_leaf[:31], proof, roots[27]),
        (good_leaf, [proof[0][:31], *proof[1:]], roots[27]),
        (good_leaf, proof, roots[27][:31]),
        (good_leaf + b"\x00", proof, roots[27]),
    ]
    for leaf, path, root in cases:
        assert reason_of(lambda: verify_inclusion(9, 27, leaf, path, root)) == {"proof-malformed"}


def test_consistency_flipped_proof_bit(log) -> None:
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    for i in range(len(proof)):
        bad = [*proof[:i], flip_bit(proof[i], 131), *proof[i + 1 :]]
        assert reason_of(lambda: verify_consistency(11, 27, bad, roots[11], roots[27])) == {"proof-root-mismatch"}


def test_consistency_dropped_hash(log) -> None:
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    for i in range(len(proof)):
        bad = proof[:i] + proof[i + 1 :]
        assert reason_of(lambda: verify_consistency(11, 27, bad, roots[11], roots[27])) == {"proof-malformed"}


def test_consistency_extra_hash(log) -> None:
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    for bad in (proof + [proof[-1]], [roots[11], *proof]):
        assert reason_of(lambda: verify_consistency(11, 27, bad, roots[11], roots[27])) == {"proof-malformed"}
    # a power-of-two size1 takes root1 from the caller, never from the proof
    proof8 = tree.consistency_proof(8, 27)
    bad8 = [roots[8], *proof8]
    assert reason_of(lambda: verify_consistency(8, 27, bad8, roots[8], roots[27])) == {"proof-malformed"}


def test_consistency_wrong_size(log) -> None:
    """A proof 11 -> 27 proves nothing between other sizes, whatever their roots."""
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    for size1 in [s for s in range(1, 28) if s != 11]:
        assert reason_of(lambda: verify_consistency(size1, 27, proof, roots[size1], roots[27]))
    for size2 in [s for s in range(12, 28) if s != 27]:
        assert reason_of(lambda: verify_consistency(11, size2, proof, roots[11], roots[size2]))


def test_consistency_wrong_root(log) -> None:
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    assert reason_of(lambda: verify_consistency(11, 27, proof, roots[12], roots[27])) == {"proof-root-mismatch"}
    assert reason_of(lambda: verify_consistency(11, 27, proof, roots[11], roots[26])) == {"proof-root-mismatch"}
    assert reason_of(lambda: verify_consistency(11, 27, proof, roots[27], roots[11])) == {"proof-root-mismatch"}


def test_consistency_truncated_hash(log) -> None:
    _, tree, roots = log
    proof = tree.consistency_proof(11, 27)
    cases = [
        ([*proof[:-1], proof[-1][:31]], roots[11], roots[27]),
        (proof, roots[11][:31], roots[27]),
        (proof, roots[11], roots[27][:31]),
    ]
    for path, root1, root2 in cases:
        assert reason_of(lambda: verify_consistency(11, 27, path, root1, root2)) == {"proof-malformed"}


def test_consistency_rules_of_spec_section_7(log) -> None:
    _, _, roots = log
    # size1 = 0 fails, even with matching "empty" roots
    assert reason_of(lambda: verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)) == {"proof-malformed"}
    assert reason_of(lambda: verify_consistency(0, 5, [], EMPTY_ROOT, roots[5])) == {"proof-malformed"}
    # size1 > size2 fails
    assert reason_of(lambda: verify_consistency(6, 5, [], roots[6], roots[5])) == {"proof-malformed"}
    # equal sizes: empty proof and byte-equal roots
    verify_consistency(5, 5, [], roots[5], roots[5])
    assert reason_of(lambda: verify_consistency(5, 5, [roots[5]], roots[5], roots[5])) == {"proof-malformed"}
    assert reason_of(lambda: verify_consistency(5, 5, [], roots[5], roots[6])) == {"proof-root-mismatch"}
    # different sizes need a proof
    assert reason_of(lambda: verify_consistency(5, 6, [], roots[5], roots[6])) == {"proof-malformed"}


@settings(max_examples=50)
@given(st.data())
def test_every_single_hash_tamper_is_caught(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 80), label="n")
    index = data.draw(st.integers(0, n - 1), label="index")
    d, tree = tree_of(n, 7)
    proof = tree.inclusion_proof(index)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="i")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]]
        assert reason_of(lambda: verify_inclusion(index, n, leaf_hash(d[index]), bad, tree.root)) == {
            "proof-root-mismatch"
        }
