"""Verifiable random selection (spec §8).

Each party commits to 32 random bytes ``r`` with :func:`coin_commitment`, then reveals it;
:func:`draw_seed` combines the reveals, :class:`WordStream` expands the seed into 64-bit words,
and :func:`select` draws ``n`` of the sorted population by a partial Fisher–Yates shuffle with
rejection sampling, so anyone can recompute the selection from the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from unveil.core.encoding import is_id, tag, uint64be
from unveil.core.keys import STATEMENT_KEY, VerifierKey
from unveil.errors import MalformedInputError

COIN_TAG = tag("unveil/v1/coin")
SEED_TAG = tag("unveil/v1/seed")
COIN_SIZE = 32
SEED_SIZE = 32
WORD_LIMIT = 2**64


def _check_context(context: str) -> bytes:
    if not is_id(context):
        raise MalformedInputError(f"context {str(context)[:80]!r} is not an id (spec §0)")
    return context.encode("ascii")


def _check_vkey(vkey: str) -> bytes:
    key = VerifierKey.parse(vkey)
    if key.key_type != STATEMENT_KEY:
        raise MalformedInputError(f"{vkey[:120]!r} is not a statement key (type 0x01)")
    return vkey.encode("utf-8")


def _check_coin(r: bytes, who: str) -> bytes:
    if not isinstance(r, bytes) or len(r) != COIN_SIZE:
        raise MalformedInputError(f"the random value r of {who[:120]} must be 32 bytes")
    return r


def coin_commitment(context: str, vkey: str, r: bytes) -> bytes:
    """``SHA256(TAG("unveil/v1/coin") ‖ context ‖ 0x00 ‖ vkey ‖ 0x00 ‖ r)`` (spec §8).

    ``vkey`` is the party's statement vkey string; ``r`` its 32 random bytes.
    """
    data = COIN_TAG + _check_context(context) + b"\x00" + _check_vkey(vkey) + b"\x00"
    return hashlib.sha256(data + _check_coin(r, vkey)).digest()


def draw_seed(context: str, reveals: Mapping[str, bytes]) -> bytes:
    """``SHA256(TAG("unveil/v1/seed") ‖ context ‖ 0x00 ‖ r_1 ‖ r_2 ‖ …)`` (spec §8).

    ``reveals`` maps each party's statement vkey to its ``r``; the ``r`` are concatenated in
    ascending order of the vkeys' UTF-8 bytes.
    """
    head = SEED_TAG + _check_context(context) + b"\x00"
    if not reveals:
        raise MalformedInputError("a draw needs at least one party's reveal")
    ordered = sorted(reveals.items(), key=lambda item: _check_vkey(item[0]))
    return hashlib.sha256(head + b"".join(_check_coin(r, v) for v, r in ordered)).digest()


def words_from_seed(seed: bytes) -> Iterator[int]:
    """The word stream: block j is ``SHA256(seed ‖ uint64be(j))``, four uint64be words each."""
    j = 0
    while True:
        block = hashlib.sha256(seed + uint64be(j)).digest()
        for k in range(0, 32, 8):
            yield int.from_bytes(block[k : k + 8], "big")
        j += 1


def uniform_from(words: Iterator[int], m: int) -> int:
    """Uniform integer in [0, m) from ``words`` by rejection sampling (spec §8).

    Takes words until one ``x < 2^64 − (2^64 mod m)`` and returns ``x mod m``.
    """
    if type(m) is not int or m < 1:
        raise ValueError(f"uniform(m) needs an integer m ≥ 1, got {m!r}")
    limit = WORD_LIMIT - WORD_LIMIT % m
    for x in words:
        if x < limit:
            return x % m
    raise ValueError("word stream exhausted")


class WordStream:
    """Deterministic 64-bit words from a seed (spec §8); ``words`` may replace the stream."""

    def __init__(self, seed: bytes, words: Iterable[int] | None = None):
        if not isinstance(seed, bytes) or len(seed) != SEED_SIZE:
            raise ValueError("a selection seed is 32 bytes")
        self.seed = seed
        self._words = iter(words) if words is not None else words_from_seed(seed)

    def next_word(self) -> int:
        """The next uint64 word of the stream."""
        return next(self._words)

    def uniform(self, m: int) -> int:
        """A uniform integer in [0, m), consuming one or more words."""
        return uniform_from(self._words, m)


def check_population(population: Sequence[str]) -> None:
    """Population members are ids, unique, sorted strictly ascending by UTF-8 bytes."""
    previous: bytes | None = None
    for i, member in enumerate(population):
        if not is_id(member):
            raise MalformedInputError(f"population[{i}] {str(member)[:80]!r} is not an id")
        current = member.encode("ascii")
        if previous is not None and current <= previous:
            what = "repeats" if current == previous else "is out of order after"
            raise MalformedInputError(
                f"population[{i}] {member!r} {what} {previous.decode()!r}:"
                " the population must be unique ids sorted ascending"
            )
        previous = current


def select(population: Sequence[str], n: int, seed: bytes) -> list[str]:
    """Draw ``n`` of ``population`` by partial Fisher–Yates over the word stream (spec §8).

    ``a = copy(L); for i in 0..n-1: j = i + uniform(m − i); swap a[i], a[j]``; returns
    ``a[0:n]`` in that order.
    """
    check_population(population)
    m = len(population)
    if type(n) is not int or not 0 <= n <= m:
        raise MalformedInputError(f"n must be an integer in [0, {m}] (population size), got {n!r}")
    stream = WordStream(seed)
    a = list(population)
    for i in range(n):
        j = i + stream.uniform(m - i)
        a[i], a[j] = a[j], a[i]
    return a[:n]


def population_sha256(ids: Iterable[str]) -> bytes:
    """SHA-256 of the ids, one per line, each line ending in ``\\n`` (spec §8)."""
    digest = hashlib.sha256()
    for i, member in enumerate(ids):
        if not is_id(member):
            raise MalformedInputError(f"population[{i}] {str(member)[:80]!r} is not an id")
        digest.update(member.encode("ascii") + b"\n")
    return digest.digest()
