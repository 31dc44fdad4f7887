"""Verifiable random selection (spec §8), checked against hand computations with hashlib."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey
from unveil.core.selection import (
    WordStream,
    coin_commitment,
    draw_seed,
    population_sha256,
    select,
    uniform_from,
)
from unveil.errors import MalformedInputError


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


ALICE = SigningKey.generate("Host", STATEMENT_KEY, h(b"alice")).vkey
BOB = SigningKey.generate("Inspector", STATEMENT_KEY, h(b"bob")).vkey
R_A = bytes(range(32))
R_B = bytes(range(32, 64))
SEED = h(b"a fixed seed")


def words_by_hand(seed: bytes, count: int) -> list[int]:
    out: list[int] = []
    j = 0
    while len(out) < count:
        block = h(seed + j.to_bytes(8, "big"))
        out += [int.from_bytes(block[k : k + 8], "big") for k in (0, 8, 16, 24)]
        j += 1
    return out[:count]


# ---------------------------------------------------------------- commitments and seed


def test_coin_commitment_by_hand() -> None:
    expected = h(
        b"unveil/v1/coin\x00" + b"phase-2:inspect" + b"\x00" + ALICE.encode() + b"\x00" + R_A
    )
    assert coin_commitment("phase-2:inspect", ALICE, R_A) == expected
    assert coin_commitment("phase-2:inspect", ALICE, R_B) != expected
    assert coin_commitment("phase-3:inspect", ALICE, R_A) != expected
    assert coin_commitment("phase-2:inspect", BOB, R_A) != expected


def test_coin_commitment_rejects_bad_inputs() -> None:
    with pytest.raises(MalformedInputError):
        coin_commitment("not an id!", ALICE, R_A)
    with pytest.raises(MalformedInputError):
        coin_commitment("ctx", ALICE, R_A[:31])
    with pytest.raises(MalformedInputError):
        coin_commitment("ctx", "not-a-vkey", R_A)
    witness = SigningKey.generate("Host", WITNESS_KEY, h(b"w")).vkey
    with pytest.raises(MalformedInputError, match="statement key"):
        coin_commitment("ctx", witness, R_A)


def test_draw_seed_by_hand_orders_by_vkey_bytes() -> None:
    first, second = sorted([(ALICE, R_A), (BOB, R_B)], key=lambda p: p[0].encode())
    expected = h(b"unveil/v1/seed\x00" + b"ctx" + b"\x00" + first[1] + second[1])
    assert draw_seed("ctx", {ALICE: R_A, BOB: R_B}) == expected
    assert draw_seed("ctx", {BOB: R_B, ALICE: R_A}) == expected
    # Swapping who revealed what changes the seed.
    assert draw_seed("ctx", {ALICE: R_B, BOB: R_A}) != expected
    # One party only.
    assert draw_seed("ctx", {ALICE: R_A}) == h(b"unveil/v1/seed\x00ctx\x00" + R_A)


def test_draw_seed_sorts_by_utf8_bytes_not_python_order() -> None:
    # 'Z' (0x5a) sorts before 'a' (0x61) by bytes, the reverse of a case-insensitive order.
    upper = SigningKey.generate("Zed", STATEMENT_KEY, h(b"z")).vkey
    lower = SigningKey.generate("abe", STATEMENT_KEY, h(b"a")).vkey
    expected = h(b"unveil/v1/seed\x00ctx\x00" + R_B + R_A)
    assert draw_seed("ctx", {lower: R_A, upper: R_B}) == expected


def test_draw_seed_rejects_bad_inputs() -> None:
    with pytest.raises(MalformedInputError):
        draw_seed("ctx", {})
    with pytest.raises(MalformedInputError):
        draw_seed("ctx", {ALICE: b"short"})
    with pytest.raises(MalformedInputError):
        draw_seed("", {ALICE: R_A})


# ---------------------------------------------------------------- word stream


def test_word_stream_by_hand() -> None:
    stream = WordStream(SEED)
    got = [stream.next_word() for _ in range(9)]
    block0 = h(SEED + bytes(8))
    block1 = h(SEED + (1).to_bytes(8, "big"))
    assert got[0] == int.from_bytes(block0[:8], "big")
    assert got[3] == int.from_bytes(block0[24:], "big")
    assert got[4] == int.from_bytes(block1[:8], "big")
    assert got == words_by_hand(SEED, 9)


def test_word_stream_rejects_bad_seed() -> None:
    with pytest.raises(ValueError):
        WordStream(b"short")


def test_uniform_rejection_boundary() -> None:
    # m = 3: 2^64 mod 3 = 1, so the limit is 2^64 − 1 and the word 2^64 − 1 is rejected.
    assert uniform_from(iter([2**64 - 1, 5]), 3) == 2
    assert uniform_from(iter([2**64 - 2, 5]), 3) == (2**64 - 2) % 3
    # m = 2^63 + 1: the limit is 2^64 − (2^63 − 1) = 2^63 + 1.
    m = 2**63 + 1
    assert uniform_from(iter([2**63 + 1, 2**63 + 7, 2**63]), m) == 2**63
    assert uniform_from(iter([2**63, 9]), m) == 2**63
    # Powers of two never reject.
    assert uniform_from(iter([2**64 - 1]), 4) == 3
    assert uniform_from(iter([2**64 - 1]), 1) == 0


def test_uniform_through_word_stream_consumes_rejected_words() -> None:
    stream = WordStream(SEED, words=[2**64 - 1, 2**64 - 1, 10, 11])
    assert stream.uniform(3) == 1  # two words rejected, 10 mod 3
    assert stream.next_word() == 11


def test_uniform_rejects_bad_m() -> None:
    for m in (0, -1):
        with pytest.raises(ValueError):
            uniform_from(iter([1]), m)


# ---------------------------------------------------------------- selection

POP = ["S-001", "S-002", "S-003", "S-004", "S-005", "S-006", "S-007"]


def test_select_by_hand_small_case() -> None:
    # m = 3, n = 2: limits for 3 and 2 are 2^64 − 1 and 2^64.
    population = ["a", "b", "c"]
    words = words_by_hand(SEED, 8)
    a = list(population)
    k = 0
    while words[k] >= 2**64 - 1:
        k += 1
    j = words[k] % 3
    a[0], a[j] = a[j], a[0]
    j = 1 + words[k + 1] % 2
    a[1], a[j] = a[j], a[1]
    assert select(population, 2, SEED) == a[:2]


def test_select_first_pick_is_first_word_mod_m() -> None:
    # For m = 4 the limit is 2^64: the first pick is L[w0 mod 4], then L'[1 + w1 mod 3]...
    words = words_by_hand(SEED, 1)
    population = ["a", "b", "c", "d"]
    assert select(population, 1, SEED) == [population[words[0] % 4]]


def test_select_is_permutation_prefix_and_deterministic() -> None:
    for i in range(20):
        seed = h(b"seed %d" % i)
        full = select(POP, len(POP), seed)
        assert sorted(full) == POP
        for n in range(len(POP) + 1):
            part = select(POP, n, seed)
            assert part == full[:n]
            assert len(set(part)) == n
        assert select(POP, 3, seed) == select(list(POP), 3, seed)
    assert select(POP, 7, h(b"one")) != select(POP, 7, h(b"two"))


def test_every_element_can_be_first_and_every_order_appears() -> None:
    population = ["a", "b", "c", "d"]
    firsts = {select(population, 1, h(b"%d" % i))[0] for i in range(64)}
    assert firsts == set(population)
    orders = {tuple(select(["x", "y", "z"], 3, h(b"o%d" % i))) for i in range(200)}
    assert orders == set(itertools.permutations(["x", "y", "z"]))


def test_select_pinned_vector() -> None:
    # Pins the stream, rejection rule and swap order; change only if spec §8 changes.
    seed = h(b"unveil")
    assert select(POP, 7, seed) == ["S-005", "S-006", "S-004", "S-002", "S-003", "S-007", "S-001"]
    assert select(POP, 4, seed) == ["S-005", "S-006", "S-004", "S-002"]
    assert _reference_select(POP, 7, seed) == select(POP, 7, seed)


def _reference_select(population: list[str], n: int, seed: bytes) -> list[str]:
    """Independent transcription of spec §8 for cross-checking."""
    words = iter(words_by_hand(seed, 64))
    a = list(population)
    m = len(a)
    for i in range(n):
        k = m - i
        limit = 2**64 - (2**64 % k)
        x = next(words)
        while x >= limit:
            x = next(words)
        j = i + x % k
        a[i], a[j] = a[j], a[i]
    return a[:n]


def test_select_matches_reference_on_many_seeds() -> None:
    for i in range(50):
        seed = h(b"ref %d" % i)
        n = i % (len(POP) + 1)
        assert select(POP, n, seed) == _reference_select(POP, n, seed)


def test_select_edge_cases() -> None:
    assert select(["only"], 1, SEED) == ["only"]
    assert select(POP, 0, SEED) == []
    assert select([], 0, SEED) == []


@pytest.mark.parametrize(
    "population, n, fragment",
    [
        (POP, 8, "n must be"),
        (POP, -1, "n must be"),
        (["b", "a"], 1, "out of order"),
        (["a", "a"], 1, "repeats"),
        (["a", "B"], 1, "out of order"),  # 'B' (0x42) sorts before 'a' (0x61)
        (["a", "bad id"], 1, "not an id"),
        (["a", ""], 1, "not an id"),
    ],
)
def test_select_rejects(population: list[str], n: int, fragment: str) -> None:
    with pytest.raises(MalformedInputError, match=fragment):
        select(population, n, SEED)


def test_select_rejects_non_int_n() -> None:
    with pytest.raises(MalformedInputError):
        select(POP, True, SEED)  # booleans are never numbers
    with pytest.raises(MalformedInputError):
        select(POP, 2.0, SEED)  # type: ignore[arg-type]


def test_population_sha256() -> None:
    assert population_sha256(POP) == h("".join(p + "\n" for p in POP).encode())
    assert population_sha256(["a", "b"]) == h(b"a\nb\n")
    assert population_sha256([]) == h(b"")
    with pytest.raises(MalformedInputError):
        population_sha256(["a\nb"])
