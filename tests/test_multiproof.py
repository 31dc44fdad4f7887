"""Spec §5 multiproof: producer and verifier against a literal transcription of MPROOF."""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import unveil.core.multiproof as multiproof_module
from unveil.core.merkle import MerkleTree, leaf_hash, node_hash, root_from_inclusion_proof
from unveil.core.multiproof import multiproof_root, packed_multiproof_root, produce, verify_multiproof, verify_packed_multiproof
from unveil.errors import VerificationError

# --- Reference: spec §5 MPROOF as written, recursive ----------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH over leaf hashes."""
    if not hashes:
        return sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return node_hash(ref_mth(hashes[:k]), ref_mth(hashes[k:]))


def ref_mproof(hashes: list[bytes], opened: set[int]) -> list[bytes]:
    out: list[bytes] = []

    def mproof(lo: int, hi: int) -> None:
        if not any(lo <= i < hi for i in opened):
            out.append(ref_mth(hashes[lo:hi]))
            return
        if hi - lo == 1:
            return
        k = _k(hi - lo)
        mproof(lo, lo + k)
        mproof(lo + k, hi)

    mproof(0, len(hashes))
    return out


class RefCountError(Exception):
    pass


def ref_root(tree_size: int, opened: list[tuple[int, bytes]], proof: list[bytes]) -> bytes:
    """The reader's walk of spec §5: take the next proof hash wherever the producer emitted one."""
    indices = [i for i, _ in opened]
    leaves = dict(opened)
    remaining = iter(proof)

    def walk(lo: int, hi: int) -> bytes:
        if bisect_left(indices, lo) == bisect_left(indices, hi):
            taken = next(remaining, None)
            if taken is None:
                raise RefCountError("too few")
            return taken
        if hi - lo == 1:
            return leaves[lo]
        k = _k(hi - lo)
        return node_hash(walk(lo, lo + k), walk(lo + k, hi))

    root = walk(0, tree_size)
    if next(remaining, None) is not None:
        raise RefCountError("unused")
    return root


def ref_count(tree_size: int, indices: list[int]) -> int:
    """How many hashes the walk emits, without hashing (iterative, bisect)."""
    count, stack = 0, [(0, tree_size)]
    while stack:
        lo, hi = stack.pop()
        if bisect_left(indices, lo) == bisect_left(indices, hi):
            count += 1
        elif hi - lo > 1:
            k = _k(hi - lo)
            stack += [(lo, lo + k), (lo + k, hi)]
    return count


def audit_path_sides(index: int, tree_size: int) -> list[str]:
    """For each hash of the RFC 9162 audit path (bottom-most first): is the sibling left or right."""
    sides: list[str] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _k(hi - lo)
        if index < lo + k:
            sides.append("right")
            hi = lo + k
        else:
            sides.append("left")
            lo = lo + k
    return sides[::-1]


def walk_order(path: list[bytes], sides: list[str]) -> list[bytes]:
    """Spec §5: siblings left of the path top-most first, then siblings right of it bottom-most first."""
    left = [h for h, s in zip(path, sides, strict=True) if s == "left"]
    right = [h for h, s in zip(path, sides, strict=True) if s == "right"]
    return left[::-1] + right


def leaves_of(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"{salt}/{i}".encode()) for i in range(n)]


def tree_of(n: int, salt: int = 0) -> tuple[list[bytes], MerkleTree]:
    hashes = leaves_of(n, salt)
    return hashes, MerkleTree.from_leaf_hashes(b"".join(hashes))


def reason_of(call) -> set[str]:
    with pytest.raises(VerificationError) as caught:
        call()
    return caught.value.reasons


@st.composite
def tree_and_indices(draw: st.DrawFn, max_size: int = 300) -> tuple[int, list[int]]:
    n = draw(st.integers(1, max_size), label="n")
    picked = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n), label="indices")
    return n, sorted(picked)


# --- Round trips against the reference ----------------------------------------------------------


@given(tree_and_indices())
def test_round_trip_equals_reference(case: tuple[int, list[int]]) -> None:
    n, indices = case
    hashes, tree = tree_of(n)
    proof = produce(tree, indices)
    assert proof == ref_mproof(hashes, set(indices))
    opened = [(i, hashes[i]) for i in indices]
    assert multiproof_root(n, opened, proof) == tree.root == ref_root(n, opened, proof)
    verify_multiproof(n, opened, proof, tree.root)


@given(tree_and_indices(64), st.integers(0, 40), st.integers(0, 2**32))
def test_verifier_agrees_with_reference_on_any_proof(case: tuple[int, list[int]], length: int, seed: int) -> None:
    """Arbitrary proof lists: same root as the reference walk, or both find the count wrong."""
    n, indices = case
    rng = random.Random(seed)
    opened = [(i, rng.randbytes(32)) for i in indices]
    proof = [rng.randbytes(32) for _ in range(length)]
    try:
        want = ref_root(n, opened, proof)
    except RefCountError:
        assert reason_of(lambda: multiproof_root(n, opened, proof)) == {"proof-hash-count"}
    else:
        assert multiproof_root(n, opened, proof) == want


def _packed(opened: list[tuple[int, bytes]], proof: list[bytes]) -> tuple[list[int], bytes, bytes]:
    return [i for i, _ in opened], b"".join(h for _, h in opened), b"".join(proof)


@given(tree_and_indices(64), st.integers(0, 40), st.integers(0, 2**32))
def test_packed_form_agrees_with_the_list_form(case: tuple[int, list[int]], length: int, seed: int) -> None:
    """verify_packed_multiproof (bundles in bulk) gives the list form's root or its error."""
    n, indices = case
    rng = random.Random(seed)
    hashes, tree = tree_of(n)
    proof = produce(tree, indices) if seed % 2 else [rng.randbytes(32) for _ in range(length)]
    opened = [(i, hashes[i]) for i in indices]
    try:
        want: object = multiproof_root(n, opened, proof)
    except VerificationError as exc:
        want = {p.reason for p in exc.problems}
        assert reason_of(lambda: packed_multiproof_root(n, *_packed(opened, proof))) == want
    else:
        assert packed_multiproof_root(n, *_packed(opened, proof)) == want
        if want == tree.root:
            verify_packed_multiproof(n, *_packed(opened, proof), tree.root)


def test_all_leaves_opened_needs_no_proof() -> None:
    for n in (1, 2, 7, 64, 100):
        hashes, tree = tree_of(n)
        assert produce(tree, range(n)) == []
        verify_multiproof(n, list(enumerate(hashes)), [], tree.root)


# --- One leaf is the audit path in walk order ------------------------------------------------


@given(st.data())
def test_one_leaf_multiproof_is_the_audit_path_in_walk_order(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300), label="n")
    index = data.draw(st.integers(0, n - 1), label="index")
    hashes, tree = tree_of(n)
    path = tree.inclusion_proof(index)
    proof = produce(tree, [index])
    assert sorted(proof) == sorted(path)  # the same multiset
    assert proof == walk_order(path, audit_path_sides(index, n))  # in this order


def test_one_leaf_walk_order_example() -> None:
    """Leaf 5 of 8: path (bottom-up) is [4], [6..8), [0..4); walk order is [0..4), [4], [6..8)."""
    hashes, tree = tree_of(8)
    assert produce(tree, [5]) == [ref_mth(hashes[0:4]), hashes[4], ref_mth(hashes[6:8])]
    assert tree.inclusion_proof(5) == [hashes[4], ref_mth(hashes[6:8]), ref_mth(hashes[0:4])]


@given(st.integers(1, 2**53 - 1), st.data())
def test_one_leaf_in_a_huge_tree_matches_the_audit_path_root(tree_size: int, data: st.DataObject) -> None:
    """No tree needed: any audit path, reordered, leads to the same root by either verifier."""
    index = data.draw(st.integers(0, tree_size - 1), label="index")
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    leaf = rng.randbytes(32)
    sides = audit_path_sides(index, tree_size)
    path = [rng.randbytes(32) for _ in sides]
    want = root_from_inclusion_proof(index, tree_size, leaf, path)
    assert multiproof_root(tree_size, [(index, leaf)], walk_order(path, sides)) == want


# --- Contiguous ranges --------------------------------------------------------------------------


def _bound(n: int) -> int:
    return 2 * (n - 1).bit_length()  # 2·⌈log2 N⌉


def test_every_contiguous_range_of_small_trees_is_within_the_bound() -> None:
    for n in range(1, 70):
        _, tree = tree_of(n)
        for lo in range(n):
            for hi in range(lo + 1, n + 1):
                assert len(produce(tree, range(lo, hi))) <= _bound(n), (n, lo, hi)


@settings(max_examples=60)
@given(st.integers(1, 5000), st.data())
def test_contiguous_range_is_within_the_bound(n: int, data: st.DataObject) -> None:
    lo = data.draw(st.integers(0, n - 1), label="lo")
    hi = data.draw(st.integers(lo + 1, n), label="hi")
    assert ref_count(n, list(range(lo, hi))) <= _bound(n)


def test_worst_range_straddles_the_middle() -> None:
    """In 64 leaves, [31, 33) needs the most: 5 left siblings of 31, 5 right siblings of 32."""
    hashes, tree = tree_of(64)
    worst = max(ref_count(64, list(range(lo, hi))) for lo in range(64) for hi in range(lo + 1, 65))
    assert len(produce(tree, [31, 32])) == worst == 10 <= _bound(64)
    assert len(produce(tree, range(1, 63))) == 2  # a long range can need very few


# --- Tampering -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reveal() -> tuple[list[bytes], MerkleTree, list[int], list[bytes]]:
    hashes, tree = tree_of(200, 3)
    indices = [3, 4, 17, 64, 65, 66, 67, 68, 150, 199]
    return hashes, tree, indices, produce(tree, indices)


def _opened(hashes: list[bytes], indices: list[int]) -> list[tuple[int, bytes]]:
    return [(i, hashes[i]) for i in indices]


def test_reveal_fixture_verifies(reveal) -> None:
    hashes, tree, indices, proof = reveal
    assert len(set(proof)) == len(proof) >= 4
    verify_multiproof(tree.size, _opened(hashes, indices), proof, tree.root)


def test_proof_hash_changed(reveal) -> None:
    hashes, tree, indices, proof = reveal
    for i in range(len(proof)):
        bad = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), bad, tree.root)) == {
            "proof-root-mismatch"
        }


def test_proof_hash_dropped(reveal) -> None:
    hashes, tree, indices, proof = reveal
    for i in range(len(proof)):
        bad = proof[:i] + proof[i + 1 :]
        assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), bad, tree.root)) == {
            "proof-hash-count"
        }
    assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), [], tree.root)) == {
        "proof-hash-count"
    }


def test_proof_hash_added(reveal) -> None:
    hashes, tree, indices, proof = reveal
    for bad in (proof + [proof[0]], [tree.root, *proof], [*proof[:3], hashes[0], *proof[3:]]):
        assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), bad, tree.root)) == {
            "proof-hash-count"
        }


def test_proof_hashes_reordered(reveal) -> None:
    hashes, tree, indices, proof = reveal
    for i, j in [(0, 1), (0, len(proof) - 1), (2, 5)]:
        bad = list(proof)
        bad[i], bad[j] = bad[j], bad[i]
        assert bad != proof
        assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), bad, tree.root)) == {
            "proof-root-mismatch"
        }


def test_wrong_root(reveal) -> None:
    hashes, tree, indices, proof = reveal
    other = tree_of(200, 4)[1].root
    assert reason_of(lambda: verify_multiproof(tree.size, _opened(hashes, indices), proof, other)) == {
        "proof-root-mismatch"
    }


def test_wrong_tree_size(reveal) -> None:
    """Claiming another size fails: by count where that size's walk differs, else by root."""
    hashes, tree, indices, proof = reveal
    bigger_hashes, bigger = tree_of(260, 3)  # the same first 200 leaves
    assert bigger_hashes[:200] == hashes
    for size in range(indices[-1] + 1, 260):
        if size == tree.size:
            continue
        other_root = MerkleTree.from_leaf_hashes(b"".join(bigger_hashes[:size])).root
        same_count = ref_count(size, indices) == len(proof)
        want = {"proof-root-mismatch"} if same_count else {"proof-hash-count"}
        for root in (tree.root, other_root):
            assert reason_of(lambda: verify_multiproof(size, _opened(hashes, indices), proof, root)) == want


def test_leaf_changed(reveal) -> None:
    hashes, tree, indices, proof = reveal
    for k in range(len(indices)):
        opened = _opened(hashes, indices)
        opened[k] = (opened[k][0], leaf_hash(b"not the committed leaf"))
        assert reason_of(lambda: verify_multiproof(tree.size, opened, proof, tree.root)) == {"proof-root-mismatch"}


def test_leaf_moved(reveal) -> None:
    hashes, tree, indices, proof = reveal
    opened = _opened(hashes, indices)
    opened[2] = (18, opened[2][1])  # index 17's leaf claimed at 18
    assert reason_of(lambda: verify_multiproof(tree.size, opened, proof, tree.root))


# --- Preconditions ------------------------------------------------------------------------------


def test_malformed_inputs(reveal) -> None:
    hashes, tree, indices, proof = reveal
    good = _opened(hashes, indices)
    n = tree.size
    cases = [
        (0, good, proof, tree.root),  # tree size below 1
        (n, [], proof, tree.root),  # nothing opened
        (n, [(n, hashes[0])], proof, tree.root),  # index out of range
        (n, [(-1, hashes[0])], proof, tree.root),  # negative index
        (n, [good[1], good[0], *good[2:]], proof, tree.root),  # descending
        (n, [good[0], good[0], *good[1:]], proof, tree.root),  # repeated
        (n, [(good[0][0], good[0][1][:31]), *good[1:]], proof, tree.root),  # short leaf hash
        (n, good, [proof[0] + b"\x00", *proof[1:]], tree.root),  # long proof hash
        (n, good, [*proof[:-1], "00" * 32], tree.root),  # a proof hash that is not bytes
        (n, good, proof, tree.root[:16]),  # short root
    ]
    for size, opened, path, root in cases:
        assert reason_of(lambda: verify_multiproof(size, opened, path, root)) == {"proof-malformed"}
        if all(type(h) is bytes for h in path):
            assert reason_of(lambda: verify_packed_multiproof(size, *_packed(opened, path), root)) == {"proof-malformed"}
    indices, leaves, packed_proof = _packed(good, proof)
    packed_cases = [
        (n, indices, leaves + b"\x00", packed_proof),  # leaf hashes not 32 bytes apiece
        (n, indices, leaves, packed_proof[:-1]),  # proof not 32 bytes apiece
        (n, [float(i) for i in indices], leaves, packed_proof),  # indices not integers
        (n, [True, *indices[1:]], leaves, packed_proof),  # a boolean is not an index
        (2**70, [2**64, *indices[1:]], leaves, packed_proof),  # beyond 64 bits
        (n, indices, list(leaves), packed_proof),  # leaf hashes not one bytes object (same length)
        (n, indices, leaves, bytearray(packed_proof)),  # nor the proof
    ]
    for size, at, leaf_hashes, path_bytes in packed_cases:
        assert reason_of(lambda: verify_packed_multiproof(size, at, leaf_hashes, path_bytes, tree.root)) == {"proof-malformed"}


def test_producer_rejects_bad_index_sets() -> None:
    _, tree = tree_of(10)
    for indices in ([], [3, 3], [4, 2], [10], [-1, 2]):
        with pytest.raises(ValueError):
            produce(tree, indices)


# --- Scale ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hundred_thousand_openings_in_a_million_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification hashes only the ancestors of S: about |S|·log2(N/|S|), not N."""
    rng = random.Random(5)
    n = 1_000_000
    tree = MerkleTree.from_leaf_hashes(rng.randbytes(32 * n))
    indices = sorted(rng.sample(range(n), 100_000))
    proof = produce(tree, indices)
    opened = [(i, tree.leaf_hash_at(i)) for i in indices]

    calls = 0
    real = multiproof_module.sha256

    def counting(data: bytes):
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(multiproof_module, "sha256", counting)
    verify_multiproof(n, opened, proof, tree.root)
    assert calls < 100_000 * 5  # log2(1e6 / 1e5) ≈ 3.3 levels per opening, plus the merges above
    monkeypatch.setattr(multiproof_module, "sha256", real)

    started = time.process_time()
    verify_multiproof(n, opened, proof, tree.root)
    assert time.process_time() - started < 5.0  # ~0.3 s on a desktop; the bound only catches O(N·…) regressions


@pytest.mark.slow
def test_huge_tree_without_recursion_limits() -> None:
    """2^24 leaves, 20,000 openings: same root as the reference walk, no tree needed."""
    rng = random.Random(6)
    n = 1 << 24
    indices = sorted(rng.sample(range(n), 20_000))
    opened = [(i, rng.randbytes(32)) for i in indices]
    proof = [rng.randbytes(32) for _ in range(ref_count(n, indices))]
    assert multiproof_root(n, opened, proof) == ref_root(n, opened, proof)
