"""The host cuts a phase too large for one file into numbered parts (spec §5.1): each part a
signed reveal bundle of its own, with its own multiproof, of at most ``limit`` bytes.

How: every opening's size in a part file is measured once (:func:`opening_sizes`, the C JSON
encoder); consecutive openings are grouped greedily under the limit less the bundle's fixed
fields and a proof allowance (:func:`unveil.core.parts.group_by_size`); then each part is
built and signed, and if one still comes out too large (a scattered part's multiproof is
longer than the allowance) the budget is lowered by what it overflowed and every part is built
again (the numbers ``part``/``parts`` are signed, so a new count means new signatures).

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

__all__ = ["check_limit", "cut_into_parts", "opening_lines", "part_file"]

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


def cut_into_parts(
    *,
    escrow: Escrow,
    phase: str,
    openings: Sequence[Mapping[str, Any]],
    proof_of: Callable[[list[int]], list[bytes]],
    keys: Sequence[SigningKey],
    limit: int,
    totals: Mapping[str, Any] | None,
    salter: Salter,
    lines: Sequence[bytes] | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> list[tuple[bytes, Sequence[Mapping[str, Any]]]]:
    """The signed part files (part 1 first) of phase ``phase`` opening ``openings`` (by
    ascending index), each with the openings it holds; ``proof_of(indices)`` is the multiproof
    of a part's indices, ``keys`` sign each part, ``lines`` are the openings'
    :func:`opening_lines` when known; ``progress(part count)`` returns the callback that
    advances a progress bar by each part built. MalformedInputError (``--max-part-bytes``) if one opening
    with the bundle's fixed fields does not fit in ``limit``."""
    check_limit(limit)
    empty = part_file(_statement(escrow, phase, [], [], totals, salter, 10**6, 10**6), keys)
    allowance = 2 * max(1, math.ceil(math.log2(max(escrow.tree_size, 2)))) * _HASH_LINE
    lines = list(lines) if lines is not None else opening_lines(openings)
    sizes = [len(line) + 2 for line in lines]
    budget = limit - len(empty) - allowance
    biggest = max(range(len(sizes)), key=sizes.__getitem__)
    if sizes[biggest] > budget:
        raise MalformedInputError(
            f"{limit} bytes cannot hold a part with the opening of index {openings[biggest]['index']}"
            f" ({sizes[biggest] + len(empty) + allowance} bytes with the bundle's fixed fields and proof)", where="--max-part-bytes")
    runs = _cut(sizes, budget)
    advance = progress(len(runs)) if progress is not None else None
    rounds = 0
    while True:
        files = []
        for k, (start, stop) in enumerate(runs, start=1):
            proof = proof_of([int(o["index"]) for o in openings[start:stop]])
            files.append(part_file(_statement(escrow, phase, openings[start:stop], proof, totals if k == 1 else None, salter, k, len(runs)),
                                   keys, lines[start:stop]))
            if advance is not None and rounds == 0:
                advance(1)
        over = [k for k, data in enumerate(files) if len(data) > limit]
        if not over:
            return [(data, openings[start:stop]) for data, (start, stop) in zip(files, runs, strict=True)]
        rounds += 1
        if rounds <= _ROUNDS:  # lower the budget by the largest overflow, and cut again
            budget -= max(len(files[k]) for k in over) - limit
            if budget >= max(sizes):
                runs = _cut(sizes, budget)
                continue
        for k in reversed(over):  # cut each part that came out too large in two
            start, stop = runs[k]
            if stop - start == 1:
                raise MalformedInputError(
                    f"{limit} bytes cannot hold the part with the opening of index {openings[start]['index']} ({len(files[k])} bytes)",
                    where="--max-part-bytes")
            middle = (start + stop) // 2
            runs[k:k + 1] = [(start, middle), (middle, stop)]


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
