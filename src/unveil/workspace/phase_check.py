"""Verify a whole phase given in numbered parts (spec §5.1): each part alone, as
:func:`unveil.workspace.inspector.verify` does it (and records it in a workspace), then the
checks across the parts (:func:`unveil.core.parts.across_parts`): one phase, one ``parts``,
no part twice, ascending without overlap, none missing, no id repeated across parts.

Only a small summary of each part is kept while the next is checked, so a phase of many
16 MiB parts is never held whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from unveil.core import cells as cell_file
from unveil.core.parts import PartSummary, across_parts, summarize
from unveil.errors import MalformedInputError, Problem
from unveil.workspace.inspector import AgreedTerritory, Input, verify
from unveil.workspace.workspace import Workspace

__all__ = ["PhaseVerified", "part_files", "verify_phase"]

_PART_NAME = re.compile(r"^(?P<stem>.+)\.part-(?P<k>[1-9][0-9]*)-of-(?P<n>[1-9][0-9]*)\.json$")


def part_files(directory: Path) -> list[Path]:
    """The part files of one phase in ``directory`` (spec §6 names, ``*.part-K-of-N.json``),
    by part number; MalformedInputError if it holds none or parts of several phases."""
    found = [(m, p) for p in directory.iterdir() if p.is_file() and (m := _PART_NAME.match(p.name))]
    if not found:
        raise MalformedInputError("holds no part file (NAME.part-K-of-N.json)", source=str(directory))
    stems = sorted({m["stem"] for m, _ in found})
    if len(stems) > 1:
        raise MalformedInputError(f"holds the parts of several phases ({', '.join(stems[:5])}): give one phase's files", source=str(directory))
    return [p for _, p in sorted(found, key=lambda mp: int(mp[0]["k"]))]


@dataclass(frozen=True)
class PhaseVerified:
    """Each part's report (as JSON, with its file) and the problems across the parts."""

    escrow_id: str
    phase: str
    parts: int | None
    openings: int
    files: tuple[dict[str, Any], ...]
    problems: tuple[Problem, ...]
    recorded: bool

    @property
    def valid(self) -> bool:
        return not self.problems and all(f["valid"] for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "status": "valid" if self.valid else "invalid", "escrow_id": self.escrow_id, "phase": self.phase,
                "parts": self.parts, "openings": self.openings, "problems": [p.to_json() for p in self.problems], "files": list(self.files),
                **({"recorded": True} if self.recorded else {})}


def verify_phase(
    escrow: Input, cells: Input, bundles: Sequence[Callable[[], Input]], *, leaves: Input | None = None, trust: Sequence[str] = (),
    workspace: Workspace | None = None, territory: AgreedTerritory | None = None, max_cells: int | None = None,
    now: datetime | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> PhaseVerified:
    """Verify the parts of one phase, each alone (recorded in ``workspace`` when valid; the
    territory's coverage checked once, with the first), then across them. ``bundles`` are
    loaders of the part files, each called when its part is checked, so only one part's bytes
    are held at a time; ``progress(part count)`` returns the callback that advances a progress
    bar by each part checked."""
    if not bundles:
        raise MalformedInputError("no reveal file given", where="bundle")
    cell_list = cell_file.read(cells.data, source=cells.source)  # once for every part
    advance = progress(len(bundles)) if progress is not None else None
    summaries: list[PartSummary] = []
    files: list[dict[str, Any]] = []
    escrow_id = ""
    for n, load in enumerate(bundles):
        bundle = load()
        done = verify(escrow, cells, bundle, leaves=leaves, trust=trust, workspace=workspace, territory=territory if n == 0 else None,
                      max_cells=max_cells, now=now, cell_list=cell_list)
        escrow_id = done.report.escrow.escrow_id
        summaries.append(summarize(done.report.reveal))
        files.append({"file": bundle.source, **done.to_json()})
        del done, bundle  # the next part is checked without this one in memory
        if advance is not None:
            advance(1)
    problems = across_parts(summaries, ids=workspace is None)
    counts = [s.parts for s in summaries if s.parts is not None]
    return PhaseVerified(escrow_id, summaries[0].phase, max(counts) if counts else None, sum(f["openings"] for f in files),
                         tuple(files), tuple(problems), workspace is not None)
