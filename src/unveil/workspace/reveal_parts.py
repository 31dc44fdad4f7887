"""The host cuts a phase too large for one file into numbered parts (spec §5.1): each part a
signed reveal bundle of its own, with its own multiproof, of at most ``limit`` bytes.

How: every opening's size in a part file is measured once (:func:`opening_lines`, the C JSON
encoder) and only the sizes are kept; consecutive openings are grouped greedily under the limit
less the bundle's fixed fields and a proof allowance (:func:`unveil.core.parts.group_by_size`);
then each part's openings are built, signed and handed over (written and recorded) before the
next part is built, so memory holds one part, not the phase. If a part still comes out too
large (a scattered part's multiproof is longer than the allowance), everything handed over is
undone, the budget is lowered by the overflow and the phase is cut again (the numbers
``part``/``parts`` are signed, so a new count means new signatures).

A part file (:func:`part_file`) is JSON with one opening a line: written by the C encoder, as
a pretty-printed file would be by the pure-Python one at a fraction of the speed (a continental
phase is gigabytes). Readers re-canonicalize (spec §6), so the layout is not signed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from unveil.core.build import reveal_statement
from unveil.core.commitments import Salter
from unveil.core.encoding import b64encode
from unveil.core.escrow import Escrow
from unveil.core.keys import SigningKey
from unveil.core.parts import group_by_size
from unveil.core.reveal import PART_MAX_BYTES
from unveil.core.statements import statement_message
from unveil.errors import MalformedInputError

__all__ = ["Builder", "Put", "check_limit", "opening_lines", "part_file", "write_parts"]

Put = Callable[[int, int, bytes, list[dict[str, Any]]], None]
"""``put(k, n, file, openings)``: take part ``k`` of ``n``, its file and the openings it holds."""
Builder = Callable[[Put], None]
"""``build(put)``: build every part in order, handing each to ``put``."""

_HASH_LINE = 64 + 3  # a hex hash in the proof array: quotes and a comma
_ROUNDS = 8  # builds of every part before falling back to halving the one that overflows


def check_limit(limit: int) -> None:
    """``--max-part-bytes``: 1 .. 16 MiB (spec §5.1); MalformedInputError otherwise."""
    if not 1 <= limit <= PART_MAX_BYTES:
        raise MalformedInputError(f"{limit} bytes is outside 1..{PART_MAX_BYTES} (a part is at most 16 MiB, spec §5.1)", where="--max-part-bytes")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def opening_lines(openings: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Each opening's line in a :func:`part_file` (UTF-8, without its line break)."""
    return [_compact(o).encode("utf-8") for o in openings]


def part_file(statement: Mapping[str, Any], keys: Sequence[SigningKey], lines: Sequence[bytes] | None = None) -> bytes:
    """The signed bundle ``statement`` as a file: a signed statement (spec §6), one opening a
    line (``lines``: those lines, already encoded). The statement is not copied (a part holds
    up to 16 MiB of openings)."""
    message = statement_message(dict(statement))
    signatures = [{"vkey": key.vkey, "sig": b64encode(key.sign(message))} for key in keys]
    fields = []
    for name, value in statement.items():
        if name == "openings":
            body = b",\n".join(lines if lines is not None else opening_lines(value)).decode("utf-8")
            fields.append('"openings":[\n' + body + "\n]")
        else:
            fields.append(f"{_compact(name)}:{_compact(value)}")
    return ('{"statement":{' + ",\n".join(fields) + '},\n"signatures":' + _compact(signatures) + "}\n").encode("utf-8")


def write_parts(
    *,
    escrow: Escrow,
    phase: str,
    count: int,
    openings_of: Callable[[int, int], list[dict[str, Any]]],
    sizes: Sequence[int],
    proof_of: Callable[[list[int]], list[bytes]],
    keys: Sequence[SigningKey],
    limit: int,
    totals: Mapping[str, Any] | None,
    salter: Salter,
    attempt: Callable[[Builder], None],
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> int:
    """Build the parts of phase ``phase`` opening ``count`` cells, one at a time, and hand each
    over as it is built; return the number of parts.

    ``openings_of(start, stop)`` builds the openings ``start`` .. ``stop`` − 1 (by ascending
    index; ``sizes`` are their :func:`opening_lines` lengths plus 2); ``proof_of(indices)`` is
    the multiproof of a part's indices; ``keys`` sign each part. ``attempt(build)`` runs one
    try: it calls ``build(put)``, which calls ``put(k, n, file, openings)`` for each part in
    order, and undoes everything ``put`` did if ``build`` raises (a part that comes out larger
    than ``limit`` makes it raise, and the parts are cut again, smaller). ``progress(part
    count)`` returns the callback that advances a progress bar by each part built.
    MalformedInputError (``--max-part-bytes``) if one opening with the bundle's fixed fields
    does not fit in ``limit``."""
    check_limit(limit)
    empty = part_file(_statement(escrow, phase, [], [], totals, salter, 10**6, 10**6), keys)
    allowance = 2 * max(1, math.ceil(math.log2(max(escrow.tree_size, 2)))) * _HASH_LINE
    budget = limit - len(empty) - allowance
    biggest = max(range(count), key=sizes.__getitem__)
    if sizes[biggest] > budget:
        index = openings_of(biggest, biggest + 1)[0]["index"]
        raise MalformedInputError(
            f"{limit} bytes cannot hold a part with the opening of index {index}"
            f" ({sizes[biggest] + len(empty) + allowance} bytes with the bundle's fixed fields and proof)", where="--max-part-bytes")
    runs = _cut(sizes, budget)
    advance = progress(len(runs)) if progress is not None else None
    rounds = 0
    while True:
        chosen = list(runs)
        build = _builder(escrow, phase, chosen, openings_of, proof_of, keys, limit, totals, salter, advance if rounds == 0 else None)
        try:
            attempt(build)
            return len(chosen)
        except _Overflow as over:
            rounds += 1
            if rounds <= _ROUNDS:  # lower the budget by the overflow, and cut again
                budget -= over.size - limit
                if budget >= max(sizes):
                    runs = _cut(sizes, budget)
                    continue
            start, stop = runs[over.k]  # cut the part that came out too large in two
            if stop - start == 1:
                raise MalformedInputError(f"{limit} bytes cannot hold the part with the opening of index {over.first} ({over.size} bytes)",
                                          where="--max-part-bytes") from None
            middle = (start + stop) // 2
            runs[over.k:over.k + 1] = [(start, middle), (middle, stop)]


def _builder(
    escrow: Escrow, phase: str, runs: list[tuple[int, int]], openings_of: Callable[[int, int], list[dict[str, Any]]],
    proof_of: Callable[[list[int]], list[bytes]], keys: Sequence[SigningKey], limit: int, totals: Mapping[str, Any] | None,
    salter: Salter, advance: Callable[[int], None] | None,
) -> Builder:
    """The :data:`Builder` of the parts ``runs`` (raising :class:`_Overflow` at a part over ``limit``)."""

    def build(put: Put) -> None:
        for k, (start, stop) in enumerate(runs, start=1):
            held = openings_of(start, stop)
            proof = proof_of([int(o["index"]) for o in held])
            data = part_file(_statement(escrow, phase, held, proof, totals if k == 1 else None, salter, k, len(runs)), keys, opening_lines(held))
            if len(data) > limit:
                raise _Overflow(k - 1, len(data), int(held[0]["index"]))
            put(k, len(runs), data, held)
            if advance is not None:
                advance(1)

    return build


class _Overflow(Exception):
    """Part ``k`` (from 0) came out ``size`` bytes, over the limit; ``first`` is its first index."""

    def __init__(self, k: int, size: int, first: int):
        super().__init__(k, size, first)
        self.k, self.size, self.first = k, size, first


def _cut(sizes: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """:func:`group_by_size`, in at least two runs (spec §5.1: a phase of one part is one file,
    which the caller found too large)."""
    runs = group_by_size(sizes, budget)
    if len(runs) == 1 and len(sizes) > 1:
        runs = [(0, len(sizes) // 2), (len(sizes) // 2, len(sizes))]
    return runs


def _statement(
    escrow: Escrow, phase: str, openings: Sequence[Mapping[str, Any]], proof: Sequence[bytes], totals: Mapping[str, Any] | None,
    salter: Salter, part: int, parts: int,
) -> dict[str, Any]:
    statement = reveal_statement(escrow=escrow, phase=phase, openings=openings, proof=proof, totals=totals, salter=salter)
    ordered = {k: v for k, v in statement.items() if k not in ("openings", "proof", "totals")}
    ordered.update({"part": part, "parts": parts, "openings": statement["openings"], "proof": statement["proof"]})
    if "totals" in statement:
        ordered["totals"] = statement["totals"]
    return ordered
