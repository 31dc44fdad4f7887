"""A phase in numbered parts (spec §5.1): the checks across the parts of one phase, and how a
producer cuts a phase into parts that each fit a size.

Each part is an ordinary reveal bundle, checked alone by :func:`unveil.core.verify.check_bundle`;
what only the parts together show is here (:func:`across_parts`): the same ``phase`` and
``parts`` (``parts-mismatch``), no part twice (``part-duplicate``), ascending disjoint indices
(``part-overlap``), every part present (``part-missing``), and spec §5's uniqueness of ids
across bundles, part by part. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from unveil.core.content import DeclarationIndex, earlier_phase_problems
from unveil.core.reasons import Reason
from unveil.core.reveal import Reveal
from unveil.errors import Problem

__all__ = ["PartSummary", "across_parts", "group_by_size", "part_file_name", "summarize"]


@dataclass(frozen=True)
class PartSummary:
    """What the checks across parts need of one bundle (so a phase of many 16 MiB parts is
    never held whole): its phase, part numbers, first and last index, and the openings that
    declare something, as ``(index, content)``."""

    phase: str
    part: int | None
    parts: int | None
    first: int | None
    last: int | None
    declaring: tuple[tuple[int, dict[str, Any]], ...]


def summarize(reveal: Reveal) -> PartSummary:
    openings = reveal.openings
    declaring = tuple((o.index, o.content) for o in openings if o.content.get("sites") or o.content.get("suspects"))
    return PartSummary(reveal.phase, reveal.part, reveal.parts, openings[0].index if openings else None,
                       openings[-1].index if openings else None, declaring)


def part_file_name(stem: str, part: int, parts: int) -> str:
    """Spec §6: ``<stem>.part-<k>-of-<n>.json`` (``stem`` e.g. ``reveal-phase-1``)."""
    return f"{stem}.part-{part}-of-{parts}.json"


def across_parts(reveals: Sequence[PartSummary], *, ids: bool = True) -> list[Problem]:
    """The problems of ``reveals`` taken as one whole phase (spec §5.1), beyond each one's own.

    One bundle without part fields is a whole phase: nothing to add. Otherwise every bundle
    must be a part of the same phase with the same ``parts``; each part number once; part k's
    first index above the last index of the part below it that is present; every part
    present. With ``ids``, ids repeated from another cell of an earlier part (in part order) are
    reported on the opening that repeats them, as spec §5 does across bundles (a workspace
    that records each part checks that itself)."""
    if not reveals:
        return []
    if len(reveals) == 1 and reveals[0].part is None:
        return []
    found: list[Problem] = []
    whole = [r for r in reveals if r.part is None]
    if whole:
        found.append(Problem(None, Reason.PARTS_MISMATCH, f"{len(whole)} of the {len(reveals)} bundles given for one phase are whole phases, not parts"))
    in_parts = sorted((r for r in reveals if r.part is not None), key=lambda r: r.part or 0)
    if not in_parts:
        return found
    first = in_parts[0]
    phases = sorted({r.phase for r in reveals})
    if len(phases) > 1:
        found.append(Problem(None, Reason.PARTS_MISMATCH, f"the bundles reveal different phases: {', '.join(repr(p[:80]) for p in phases[:5])}"))
    counts = sorted({r.parts for r in in_parts if r.parts is not None})
    if len(counts) > 1:
        found.append(Problem(None, Reason.PARTS_MISMATCH, f"the parts disagree on the number of parts: {', '.join(map(str, counts))}"))
    seen: set[int] = set()
    previous: PartSummary | None = None
    index = DeclarationIndex()
    for reveal in in_parts:
        assert reveal.part is not None
        if reveal.part in seen:
            found.append(Problem(None, Reason.PART_DUPLICATE, f"part {reveal.part} of phase {reveal.phase[:80]!r} is given twice"))
            continue
        seen.add(reveal.part)
        if previous is not None and reveal.first is not None and previous.last is not None and reveal.first <= previous.last:
            found.append(Problem(
                reveal.first, Reason.PART_OVERLAP,
                f"part {reveal.part} opens index {reveal.first}, not above index {previous.last}, the last of part {previous.part}"))
        if ids:
            found.extend(Problem(i, reason, detail) for i, reason, detail in earlier_phase_problems(index, reveal.declaring))
            for _, content in reveal.declaring:
                index.add(content, f"{reveal.phase} part {reveal.part}")
        previous = reveal
    parts = max(counts) if counts else 0
    absent = parts - len([k for k in seen if k <= parts])
    if absent > 0:  # named without counting to ``parts``, which a hostile bundle may make huge
        named: list[int] = []
        k = 1
        while len(named) < 20 and k <= parts:
            if k not in seen:
                named.append(k)
            k += 1
        shown = ", ".join(map(str, named)) + (f" and {absent - len(named)} more" if absent > len(named) else "")
        found.append(Problem(None, Reason.PART_MISSING,
                             f"phase {first.phase[:80]!r} has {parts} parts; part{'s' if absent > 1 else ''} {shown} not given: the phase is incomplete"))
    return found


def group_by_size(sizes: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """Cut a sequence of items of ``sizes`` (bytes each) into consecutive runs ``(start, stop)``
    whose sizes sum to at most ``budget``, greedily, each run at least one item (an item larger
    than ``budget`` alone: the caller refuses it)."""
    runs: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > budget:
            runs.append((start, i))
            start, total = i, 0
        total += size
    if sizes:
        runs.append((start, len(sizes)))
    return runs
