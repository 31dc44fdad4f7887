"""The inspecting party's services: accept a received escrow (:func:`accept`), verify a reveal
bundle and record it (:func:`verify`), and the one coverage check both use
(:func:`coverage_problems`). The checks are the core verifier's
(:func:`unveil.core.verify.check_escrow`, :func:`~unveil.core.verify.check_bundle`); what only
a workspace can add is here.

Inputs arrive as bytes (:class:`Input`): a command reads each file once, so what a workspace
records is exactly what was checked.

**Trust** (spec §6). A workspace trusts one set of keys for the host of each escrow it knows:

1. keys pinned for the escrow (by ``accept --trust``, or by the first ``verify --trust`` that
   recorded a valid bundle) are its trust from then on; a ``--trust`` naming another key is
   refused (exit 2) rather than silently re-pinned;
2. else the keys given with ``--trust``, pinned once the escrow is recorded;
3. else the keys that signed the escrow when this workspace first recorded it (trust on first
   use, ``host_key_pinned: false``): the same statement re-signed by another key under the
   host's name is ``escrow-signature-untrusted`` and its bundles ``signature-untrusted``;
4. else (an escrow never seen) the keys that signed the escrow presented (``core.verify``).

**What only a workspace sees** (added to the core's problems, exit 1): ``escrow-conflict`` and
``phase-conflict`` against what it recorded, ``phase-conflict`` against the
``reveal.published`` entries of the boards it mirrors (``unveil sync``: a board names each
phase's file by its SHA-256), and ``site-id-duplicate``, ``serial-duplicate``,
``suspect-id-duplicate`` for ids a bundle repeats from a cell recorded in an earlier phase
(spec §5 "One declaration across phases", :func:`unveil.core.content.earlier_phase_problems`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from unveil.core import cells as cell_file
from unveil.core.cells import CellList
from unveil.core.envelope import SignedStatement, parse_signed
from unveil.core.escrow import Grid
from unveil.core.jsonparse import loads
from unveil.core.keys import VerifierKey
from unveil.core.reasons import Reason
from unveil.core.reveal import PART_MAX_BYTES
from unveil.core.statements import trusted_signers
from unveil.core.verify import BundleReport, EscrowReport, check_bundle, check_escrow
from unveil.errors import MalformedInputError, Problem
from unveil.store import workspace_queries as q
from unveil.workspace import records
from unveil.workspace.workspace import Workspace

__all__ = ["Acceptance", "AgreedTerritory", "Checker", "Input", "Verified", "accept", "coverage_problems", "verify"]

T = TypeVar("T")


@dataclass(frozen=True)
class Input:
    """One input file: its bytes, and the name errors give it."""

    data: bytes
    source: str


@dataclass(frozen=True)
class AgreedTerritory:
    """The agreed territory's GeoJSON bytes, the name errors give it, and the feature filter."""

    data: bytes
    source: str
    filter: str | None = None


Checker = Callable[[SignedStatement, CellList, "Collection[str] | None"], BundleReport]
"""``check(escrow, cells, trusted)``: :func:`~unveil.core.verify.check_bundle` of the bundle
being verified, or a path that gives the same report (``unveil verify``'s forked one)."""


def _within(action: Callable[[], T], source: str) -> T:
    """Run ``action``; attribute a MalformedInputError without a source to ``source``."""
    try:
        return action()
    except MalformedInputError as exc:
        raise exc.within(source) from None


def check_trust_option(trust: Sequence[str]) -> None:
    """Every ``--trust`` value is a verifier key (spec §6); MalformedInputError otherwise."""
    for vkey in trust:
        try:
            VerifierKey.parse(vkey)
        except MalformedInputError as exc:
            raise MalformedInputError(exc.message, source="--trust") from None


def coverage_problems(
    territory: AgreedTerritory, grid: Grid, cells: Sequence[str] | CellList, *, max_cells: int | None
) -> list[Problem]:
    """Spec §1: every cell overlapping the agreed territory, computed here, must be committed
    (``coverage-missing``). Refuses first (MalformedInputError, exit 2) a cover larger than
    ``max_cells`` (:func:`unveil.geo.budget.check_cell_budget`; ``None``: the default).

    A ``cells.txt`` of 16-byte lines (a :class:`CellList` read lazily) is merged block by block
    against the cover's ``uint64`` ids (:func:`unveil.geo.territory.missing_ids`): 8 bytes a
    covering cell and one block of the file, never a string per cell."""
    from unveil.geo.budget import check_cell_budget
    from unveil.geo.territory import missing_cells, missing_ids, read_territory

    if grid.system != "h3" or grid.resolution is None:
        raise MalformedInputError("coverage of a territory can be checked only for an h3 escrow", where="--territory")
    land = read_territory(territory.data, source=territory.source, filter=territory.filter)
    check_cell_budget(land.geometry, grid.resolution, max_cells)
    ids = None
    if isinstance(cells, CellList) and cells.data is not None:
        from unveil.core.h3cells import h3_blocks

        try:
            ids = missing_ids(land.cell_ids(grid.resolution), h3_blocks(cells.data))
        except ValueError:  # not hex: the cell list check names the line
            ids = None
    if ids is not None:
        missing = [format(value, "x") for value in ids[:3].tolist()]
        count = len(ids)
    else:
        missing = missing_cells(land, grid.resolution, cells.cells if isinstance(cells, CellList) else cells)
        count = len(missing)
    if not missing:
        return []
    return [Problem(None, Reason.COVERAGE_MISSING, f"{count} cells of the agreed territory are not committed, e.g. {', '.join(missing[:3])}")]


def _trust(db: sqlite3.Connection, escrow_signed: SignedStatement, trust: Sequence[str]) -> tuple[list[str] | None, bool]:
    """``(trusted keys or None, whether they are pinned)`` for the escrow presented (see the
    module docstring, "Trust")."""
    escrow_id, host = escrow_signed.statement.get("escrow_id"), escrow_signed.statement.get("host")
    if not isinstance(escrow_id, str) or not isinstance(host, str):  # malformed: the check says so
        return list(trust) or None, bool(trust)
    pinned = q.pinned_keys(db, escrow_id)
    if pinned:
        stray = [k for k in trust if k not in pinned]
        if stray:
            raise MalformedInputError(
                f"{stray[0]} is not the key this workspace pinned for the host of escrow {escrow_id!r} ({', '.join(pinned)}):"
                " a workspace trusts the key it pinned at accept (or at the first verify --trust)", source="--trust")
        return pinned, True
    if trust:
        return list(trust), True
    known = q.escrow(db, escrow_id)
    if known is not None:
        first = loads(known.escrow_json)
        return trusted_signers(first, str(first["statement"]["host"])), False
    return None, False


def _board_conflicts(db: sqlite3.Connection, escrow_id: str, phase: str, sha: str, part: int | None = None) -> list[Problem]:
    """``phase-conflict`` for every mirrored board that logs another file for the phase (for
    part ``part`` of it, spec §5.1), or logs the phase in the other form (parts, or one file)."""
    from unveil.board import events as ev
    from unveil.board.events import parse_event

    found = []
    for origin, index, entry in q.mirrored_entries_naming(db, ev.REVEAL_PUBLISHED.encode()):
        try:
            event = parse_event(loads(entry))
        except MalformedInputError:
            continue  # the board's audit reports it
        if event.kind != ev.REVEAL_PUBLISHED or event.escrow_id != escrow_id or event.body["phase"] != phase:
            continue
        logged = event.body.get("part")
        if (logged is None) != (part is None):
            found.append(Problem(None, Reason.PHASE_CONFLICT,
                                 f"board {origin!r} logs phase {phase!r} {'as one file' if logged is None else 'in parts'} (entry {index});"
                                 f" this bundle is {'one file' if part is None else f'part {part}'}"))
        elif logged == part and event.body["sha256"] != sha:
            what = f"part {part} of phase {phase!r}" if part is not None else f"phase {phase!r}"
            found.append(Problem(None, Reason.PHASE_CONFLICT,
                                 f"board {origin!r} logs {what} as the file with SHA-256 {event.body['sha256']} (entry {index});"
                                 f" this bundle's is {sha}"))
    return found


@dataclass(frozen=True)
class Verified:
    """A bundle's report with every problem, the workspace's included, and whether it was recorded."""

    report: BundleReport
    recorded: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.report.to_json(), **({"recorded": True} if self.recorded else {})}


def verify(
    escrow: Input, cells: Input, bundle: Input, *, leaves: Input | None = None, trust: Sequence[str] = (),
    workspace: Workspace | None = None, territory: AgreedTerritory | None = None, max_cells: int | None = None,
    now: datetime | None = None, check: Checker | None = None, cell_list: CellList | None = None,
) -> Verified:
    """Check a reveal bundle against its escrow and cell list (spec §1–§6), the agreed
    territory's coverage when given, and with a ``workspace`` what it alone sees (module
    docstring); then record the outcome there (at ``now``). ``check`` replaces the core
    check with one that gives the same report; ``cell_list`` is ``cells`` already read (the
    parts of one phase read it once)."""
    check_trust_option(trust)
    escrow_signed = _within(lambda: parse_signed(loads(escrow.data, source=escrow.source), "$"), escrow.source)
    if cell_list is None:
        cell_list = cell_file.read(cells.data, source=cells.source)
    trusted, pinned = list(trust) or None, bool(trust)
    if workspace is not None:
        with workspace.connect() as db:
            trusted, pinned = _trust(db, escrow_signed, trust)
    if check is None:
        check = _core_check(bundle, leaves)
    report = check(escrow_signed, cell_list, trusted)
    if report.host_key_pinned != pinned:
        report = replace(report, host_key_pinned=pinned)
    extra: list[Problem] = []
    if report.reveal.part is not None and len(bundle.data) > PART_MAX_BYTES:
        extra.append(Problem(None, Reason.PART_TOO_LARGE, f"{bundle.source} is part {report.reveal.part} of a phase and {len(bundle.data)} bytes;"
                             f" a part is at most {PART_MAX_BYTES} bytes (spec §5.1)"))
    if territory is not None:
        extra += coverage_problems(territory, report.escrow.grid, cell_list, max_cells=max_cells)
    if workspace is not None:
        if now is None:
            raise ValueError("recording in a workspace needs the time")
        sha = hashlib.sha256(bundle.data).hexdigest()
        with workspace.connect() as db:
            extra += records.conflicts(db, report)
            extra += _board_conflicts(db, report.escrow.escrow_id, report.reveal.phase, sha, report.reveal.part)
            extra += records.repeated_ids(db, report)
        records.record_verification(
            workspace, report, extra, escrow_json=escrow.data, cells_txt=cells.data, bundle=bundle.data,
            leaves=leaves.data if leaves is not None else None, territory_geojson=territory.data if territory is not None else None,
            now=now, pin=trusted if pinned and trusted else (),
        )
    if extra:
        report = replace(report, problems=report.problems + tuple(extra))
    return Verified(report, workspace is not None)


def _core_check(bundle: Input, leaves: Input | None) -> Checker:
    def check(escrow_signed: SignedStatement, cells: CellList, trusted: Collection[str] | None) -> BundleReport:
        reveal_signed = _within(lambda: parse_signed(loads(bundle.data, source=bundle.source), "$"), bundle.source)
        return _within(lambda: check_bundle(escrow_signed, reveal_signed, cells, leaves=leaves.data if leaves else None, trusted=trusted),
                       bundle.source)

    return check


@dataclass(frozen=True)
class Acceptance:
    """The outcome of :func:`accept`: the core's report, the coverage problem if any, and
    whether the escrow was recorded (only when nothing failed)."""

    report: EscrowReport
    problems: tuple[Problem, ...]
    cells: int
    coverage_checked: bool
    recorded: bool

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        escrow = self.report.escrow
        doc: dict[str, Any] = {"escrow_id": escrow.escrow_id, "cells": self.cells, "coverage_checked": self.coverage_checked,
                               "host_key_pinned": self.report.host_key_pinned, "root": escrow.root,
                               "cells_sha256": escrow.grid.cells_sha256}
        if self.valid:
            return doc
        return {"valid": False, "status": "invalid", **doc, "problems": [p.to_json() for p in self.problems],
                "warnings": [w.to_json() for w in self.report.warnings]}


def accept(
    workspace: Workspace, escrow: Input, cells: Input, *, trust: Sequence[str] = (), territory: AgreedTerritory | None = None,
    max_cells: int | None = None, now: datetime,
) -> Acceptance:
    """Check a received escrow before any reveal (spec §1, §4, §6: the core's
    :func:`~unveil.core.verify.check_escrow`, and the coverage of the agreed territory when
    given) and record it, pinning ``trust`` for its host. Records nothing if a check fails."""
    workspace.require_role("inspector", "observer")
    check_trust_option(trust)
    cell_list = cell_file.read(cells.data, source=cells.source)
    escrow_signed = _within(lambda: parse_signed(loads(escrow.data, source=escrow.source), "$"), escrow.source)
    with workspace.connect() as db:
        trusted, pinned = _trust(db, escrow_signed, trust)
    report = _within(lambda: check_escrow(escrow_signed, cell_list, trusted=trusted), escrow.source)
    report = replace(report, host_key_pinned=pinned)
    problems = list(report.problems)
    if territory is not None:
        problems += coverage_problems(territory, report.escrow.grid, cell_list, max_cells=max_cells)
    recorded = False
    if not problems:
        records.accept_escrow(workspace, escrow_json=escrow.data, cells_txt=cells.data,
                              territory_geojson=territory.data if territory is not None else None, now=now,
                              pin=trusted if pinned and trusted else ())
        recorded = True
    return Acceptance(report, tuple(problems), len(cell_list), territory is not None, recorded)
