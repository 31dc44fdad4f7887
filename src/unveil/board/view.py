"""What a board's web page and a party's reports show (spec §11 "Views"): pure functions of a
log's entries, the reveal files and ``cells.txt`` files held, and the final size.

:class:`BoardView` folds the entries in log order (:meth:`BoardView.add`, so a server keeps one
and feeds it each new entry); its methods answer each ``GET /view/…`` as plain JSON data.
A party's workspace computes the same from its mirror of the log. Nothing here reads a clock,
a file or a database: the reveal files and ``cells.txt`` come through a lookup
(SHA-256 hex → bytes or ``None``), the final size and cosignatures as arguments.

Steps and cell states (spec §11): the steps of an escrow are its phases in the order of their
``reveal.published`` entries; an inspection or discrepancy belongs to the step revealed last
when it is logged. A cell's state at step s is the strongest of ``discrepancy`` >
``inspected`` > ``opened`` > ``sealed`` among the events of steps ≤ s: the ``cells`` view gives,
for each cell, the first step of each (-1 for never), from which the page derives any step.

The protocol state (agreements, custody, draws, discrepancies' ``intel_predates_reveal``) is a
replay of the same entries through :class:`~unveil.board.protocol.BoardState`, by default
without the reveal files (as ``unveil audit`` without them); an entry the replay refuses is
shown in the log (``accepted: false``) and nowhere else. A party's tool over its mirror of a
board it does not trust passes ``bundles`` so the checks that read what a phase opened run too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from unveil.agreements.obligations import obligation_states, rfc3339
from unveil.board import events as ev
from unveil.board.finality import quorum_members
from unveil.board.parties import Parties
from unveil.board.protocol import BoardState
from unveil.board.summaries import entry_summary
from unveil.core.encoding import is_id
from unveil.core.envelope import parse_signed
from unveil.core.escrow import Escrow, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, MalformedInputError

__all__ = ["LOG_PAGE", "BoardView", "Lookup", "StepRecord", "final_size_of"]

Lookup = Callable[[str], "bytes | None"]
"""A file the reader holds, by SHA-256 hex: a reveal file or a ``cells.txt``."""

LOG_PAGE = 1000
"""The most entries one ``/view/log`` answer lists (as ``GET /entries``)."""

NEVER = -1
_PLAIN = re.compile(rb"[A-Za-z0-9._:\n-]*")


@dataclass
class StepRecord:
    """One step of an escrow: its phase's ``reveal.published`` and the verifications of it."""

    phase: str
    index: int
    time: str
    sha256: str
    openings: int
    verifications: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every reveal file logged for the phase, in log order (one, unless a phase is revealed in parts)."""


@dataclass
class EscrowRecord:
    """What the views show of one published escrow."""

    escrow: Escrow
    index: int
    steps: list[StepRecord] = field(default_factory=list)
    inspections: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> row

    def step_of(self, phase: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.phase == phase), None)


@dataclass(frozen=True)
class _Row:
    index: int
    kind: str
    author: str | None
    role: str | None
    escrow_id: str
    time: str
    summary: str
    accepted: bool


def final_size_of(parties: Parties, cosigned: Mapping[str, int]) -> int:
    """The final size (spec §7, whole quorum) from each witness's largest cosigned size, as a
    board that verified each cosignature on receipt holds them."""
    members = [p.name for p in quorum_members(parties)]
    if not members:
        return 0
    return min(cosigned.get(name, 0) for name in members)


class BoardView:
    """Every view of one log, folded entry by entry (see the module docstring). Not
    thread-safe: a server feeds and reads it under a lock of its own."""

    def __init__(self, parties: Parties, origin: str, bundles: Lookup | None = None):
        self.parties = parties
        self.origin = origin
        self._check_files = bundles
        """Given, the replay reads the reveal files for the checks that need what they open
        (``cell-not-opened``, ``site-unknown``, custody): a reader of a board it does not trust
        shows only what a full replay accepts. A board's own view leaves it out (its log was
        checked with the files when each entry was appended)."""
        self.state = BoardState(parties)
        self.rows: list[_Row] = []
        self.escrows: dict[str, EscrowRecord] = {}
        self._opened: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # reveal sha -> (cell, content) of its openings
        self._first_opened: dict[str, tuple[int, dict[str, int], bool]] = {}  # escrow -> (files, cell -> first step, all files read)
        self._lines: tuple[str, list[str], list[str], dict[str, int]] = ("", [], [], {})
        """The cells.txt read last: its SHA-256, its lines, each line's sealed row as JSON text, each cell's line."""

    @property
    def size(self) -> int:
        return len(self.rows)

    def extend(self, entries: Iterable[bytes]) -> None:
        for entry in entries:
            self.add(entry)

    def add(self, entry: bytes) -> None:
        """Fold the next entry of the log (index :attr:`size`)."""
        index = len(self.rows)
        try:
            event = ev.parse_event(loads(entry, source=f"entry {index}"))
        except MalformedInputError:
            self.rows.append(_Row(index, str(Reason.ENTRY_MALFORMED), None, None, "", "", "not an event", False))
            return
        author = None
        accepted = False
        try:
            author = self.parties.author_of(event)
            if author is not None:
                self.state.size = index
                # a reveal file's full verification is the audit's; what it opens is read when needed
                self.state.check(event, author, None if event.kind == ev.REVEAL_PUBLISHED else self._check_files)
                accepted = True
        except BoardRefused:
            accepted = False
        if accepted and author is not None:
            self.state.apply(event, author, index)
            self._record(event, author.name, index)
        self.rows.append(_Row(index, event.kind, author.name if author else None, author.role if author else None,
                              event.escrow_id, event.time, entry_summary(event), accepted))

    def _record(self, event: ev.Event, author: str, index: int) -> None:
        body = event.body
        if event.kind == ev.ESCROW_PUBLISHED:
            escrow = parse_escrow(parse_signed(body["escrow"], "body.escrow").statement)
            self.escrows[event.escrow_id] = EscrowRecord(escrow, index)
            return
        record = self.escrows.get(event.escrow_id)
        if record is None:
            return
        step = len(record.steps) - 1
        if event.kind == ev.REVEAL_PUBLISHED:
            at = record.step_of(body["phase"])
            if at is None:  # the phase's first reveal makes its step; a later part adds to it
                record.steps.append(StepRecord(body["phase"], index, event.time, body["sha256"], 0))
                at = len(record.steps) - 1
            record.steps[at].files.append(body["sha256"])
            record.steps[at].openings += body["openings"]
        elif event.kind == ev.VERIFICATION_RECORDED:
            at = record.step_of(body["phase"])
            if at is not None:
                record.steps[at].verifications.append(
                    {"author": author, "valid": body["valid"], "problems": len(body["problems"]), "index": index, "time": event.time}
                )
        elif event.kind == ev.INSPECTION_REPORTED:
            record.inspections.append({
                "index": index, "time": event.time, "author": author, "cell": body["cell"], "phase": body["phase"], "step": step,
                "site_id": body["site_id"], "outcome": body["outcome"], "detail": body["detail"], "context": body["context"],
            })
        elif event.kind == ev.DISCREPANCY_RAISED:
            found = self.state.discrepancies.get((event.escrow_id, body["id"]))
            record.discrepancies[body["id"]] = {
                "index": index, "time": event.time, "author": author, "id": body["id"], "cell": body["cell"], "phase": body["phase"],
                "step": step, "detail": body["detail"], "intel_predates_reveal": found.intel_predates_reveal if found else None,
                "resolved": False,
            }
        elif event.kind == ev.DISCREPANCY_RESOLVED and body["id"] in record.discrepancies:
            record.discrepancies[body["id"]]["resolved"] = True

    # --- reading the reveal files ----------------------------------------------------------

    def _openings(self, sha: str, bundles: Lookup) -> list[tuple[str, dict[str, Any]]]:
        """The ``(cell, content)`` of each opening of the reveal file ``sha`` (read once; an
        unreadable or absent file opens nothing here)."""
        found = self._opened.get(sha)
        if found is not None:
            return found
        data = bundles(sha)
        if data is None:
            return []  # not kept: it may be uploaded later
        try:
            # The board checked these bytes strictly when a reveal.published named them (and a
            # party's mirror verified them): the fast reader is enough to list what they open.
            statement = json.loads(data)["statement"]
            openings = [(str(o["cell"]), o["content"]) for o in statement["openings"]]
        except (ValueError, KeyError, TypeError):
            openings = []
        self._opened[sha] = openings
        return openings

    def record_of(self, escrow_id: str) -> EscrowRecord:
        """The escrow's record; ``escrow-missing`` (404) for an unknown or unreadable id."""
        record = self.escrows.get(escrow_id) if is_id(escrow_id) else None
        if record is None:
            raise BoardRefused(Reason.ESCROW_MISSING, f"no escrow {escrow_id[:80]!r} is published on this board")
        return record

    # --- the views ---------------------------------------------------------------------------

    def summary(self, final_size: int, cells_held: Callable[[str], bool]) -> dict[str, Any]:
        """``GET /view/summary``."""
        escrows = []
        for escrow_id, record in self.escrows.items():
            e = record.escrow
            escrows.append({
                "escrow_id": escrow_id, "host": e.host, "purpose": e.purpose,
                "grid": {"type": e.grid.system, "resolution": e.grid.resolution, "cell_count": e.grid.cell_count},
                "tree_size": e.tree_size, "root": e.root, "cells_sha256": e.grid.cells_sha256,
                "cells_held": cells_held(e.grid.cells_sha256), "published_index": record.index, "shadows": e.shadows,
                "steps": [
                    {"step": i, "phase": s.phase, "index": s.index, "time": s.time, "sha256": s.sha256, "files": list(s.files), "openings": s.openings,
                     "final": s.index < final_size, "verifications": list(s.verifications)}
                    for i, s in enumerate(record.steps)
                ],
                "inspections": len(record.inspections), "discrepancies": len(record.discrepancies),
            })
        return {"origin": self.origin, "size": self.size, "final_size": final_size,
                "quorum": [p.name for p in quorum_members(self.parties)], "escrows": escrows}

    def _states(self, escrow_id: str, cells_txt: bytes | None, bundles: Lookup) -> tuple[EscrowRecord, list[dict[str, int]]]:
        """The escrow's record and, for each state past sealed, each cell's first step in it."""
        record = self.record_of(escrow_id)
        if cells_txt is None:
            raise BoardRefused(Reason.CELLS_MISSING, f"the board holds no cells.txt of escrow {escrow_id!r} (SHA-256 {record.escrow.grid.cells_sha256})")
        files = sum(len(s.files) for s in record.steps)
        kept = self._first_opened.get(escrow_id)
        if kept is None or kept[0] != files or not kept[2]:
            opened: dict[str, int] = {}
            complete = True
            for step, s in enumerate(record.steps):
                for sha in s.files:
                    for cell, _ in self._openings(sha, bundles):
                        opened.setdefault(cell, step)
                    complete = complete and sha in self._opened
            kept = self._first_opened[escrow_id] = (files, opened, complete)
        inspected: dict[str, int] = {}
        for row in record.inspections:
            inspected.setdefault(row["cell"], row["step"])
        raised: dict[str, int] = {}
        for row in record.discrepancies.values():
            raised[row["cell"]] = min(row["step"], raised.get(row["cell"], row["step"]))
        sha = record.escrow.grid.cells_sha256
        if self._lines[0] != sha:
            lines = cells_txt.decode("ascii", "replace").split("\n")[:-1]
            plain = _PLAIN.fullmatch(cells_txt) is not None  # ids need no JSON escape (a checked cells.txt)
            sealed = [f'["{c}",-1,-1,-1]' for c in lines] if plain else [f"[{json.dumps(c)},-1,-1,-1]" for c in lines]
            self._lines = (sha, lines, sealed, {c: i for i, c in enumerate(lines)})
        return record, [kept[1], inspected, raised]

    def cells(self, escrow_id: str, cells_txt: bytes | None, bundles: Lookup) -> dict[str, Any]:
        """``GET /view/escrows/{id}/cells``: ``cells_txt`` is the escrow's ``cells.txt`` as held
        (``cells-missing`` when ``None``). Rows ``[cell, opened, inspected, discrepancy]``, each
        the first step of that state, -1 for never."""
        record, (opened, inspected, raised) = self._states(escrow_id, cells_txt, bundles)
        get_o, get_i, get_d = opened.get, inspected.get, raised.get
        rows = [[c, get_o(c, NEVER), get_i(c, NEVER), get_d(c, NEVER)] for c in self._lines[1]]
        return {**self._cells_head(escrow_id, record), "cells": rows}

    def cells_json(self, escrow_id: str, cells_txt: bytes | None, bundles: Lookup) -> bytes:
        """:meth:`cells` as compact JSON, byte for byte what ``json.dumps(…, separators=(",",
        ":"), ensure_ascii=False)`` gives, built from each sealed row's text (kept per
        ``cells.txt``) with only the rows of cells past sealed rewritten: fast for 10^5 cells."""
        record, (opened, inspected, raised) = self._states(escrow_id, cells_txt, bundles)
        _, lines, sealed, position = self._lines
        parts = list(sealed)
        for cell in {*opened, *inspected, *raised}:
            i = position.get(cell)
            if i is not None:
                parts[i] = f"[{json.dumps(cell)},{opened.get(cell, NEVER)},{inspected.get(cell, NEVER)},{raised.get(cell, NEVER)}]"
        head = json.dumps(self._cells_head(escrow_id, record), ensure_ascii=False, separators=(",", ":"))
        return (head[:-1] + ',"cells":[' + ",".join(parts) + "]}").encode()

    @staticmethod
    def _cells_head(escrow_id: str, record: EscrowRecord) -> dict[str, Any]:
        return {"escrow_id": escrow_id, "resolution": record.escrow.grid.resolution, "steps": [s.phase for s in record.steps]}

    def sites(self, escrow_id: str, bundles: Lookup) -> dict[str, Any]:
        """``GET /view/escrows/{id}/sites``: the sites of each cell's first opening."""
        record = self.record_of(escrow_id)
        seen: set[str] = set()
        sites: list[dict[str, Any]] = []
        for step, s in enumerate(record.steps):
            for cell, content in (o for sha in s.files for o in self._openings(sha, bundles)):
                if cell in seen:
                    continue
                seen.add(cell)
                for site in content.get("sites", ()) if isinstance(content, dict) else ():
                    sites.append({
                        "site_id": site.get("id"), "cell": cell, "lat": site.get("lat"), "lon": site.get("lon"),
                        "kind": site.get("kind"), "name": site.get("name"), "phase": s.phase, "step": step,
                        "items": [
                            {"category": i.get("category"), "quantity": i.get("quantity"), "unit": i.get("unit"),
                             "type": i.get("type"), "serials": list(i.get("serials", ()))}
                            for i in site.get("items", ())
                        ],
                    })
        return {"escrow_id": escrow_id, "sites": sites}

    def events(self, escrow_id: str, final_size: int) -> dict[str, Any]:
        """``GET /view/escrows/{id}/events``: inspections and discrepancies, in log order."""
        record = self.record_of(escrow_id)
        return {
            "escrow_id": escrow_id,
            "inspections": [{**row, "final": row["index"] < final_size} for row in record.inspections],
            "discrepancies": [{**row, "final": row["index"] < final_size} for row in record.discrepancies.values()],
        }

    def log(self, start: int, end: int | None, final_size: int) -> dict[str, Any]:
        """``GET /view/log``: entries ``start ≤ index < end``, at most :data:`LOG_PAGE`;
        ``range-invalid`` as for ``GET /entries``."""
        size = self.size
        if not 0 <= start <= size:
            raise BoardRefused(Reason.RANGE_INVALID, f"start {start} is not within [0, {size}]")
        if end is not None and end < start:
            raise BoardRefused(Reason.RANGE_INVALID, f"end {end} is before start {start}")
        stop = min(size, start + LOG_PAGE, size if end is None else end)
        entries = [
            {"index": r.index, "kind": r.kind, "author": r.author, "role": r.role, "escrow_id": r.escrow_id, "time": r.time,
             "final": r.index < final_size, "summary": r.summary, "accepted": r.accepted}
            for r in self.rows[start:stop]
        ]
        return {"size": size, "final_size": final_size, "entries": entries}

    def checkpoints(self, latest: tuple[int, str] | None, cosigned: Mapping[str, int], final_size: int) -> dict[str, Any]:
        """``GET /view/checkpoints``: ``latest`` is the board's latest checkpoint ``(size, root
        hex)``; ``cosigned`` each witness's largest cosigned size."""
        members = {p.name for p in quorum_members(self.parties)}
        return {
            "latest": None if latest is None else {
                "size": latest[0], "root": latest[1], "cosigners": sorted(w for w, n in cosigned.items() if n >= latest[0]),
            },
            "final_size": final_size,
            "witnesses": [{"witness": w, "size": n, "final": n <= final_size, "quorum": w in members} for w, n in sorted(cosigned.items())],
        }

    def agreements(self, final_size: int, bundles: Lookup) -> dict[str, Any]:
        """``GET /view/agreements``: obligations at the effective time of the last entry, items
        per custody step, and the draws."""
        state = self.state
        found = []
        for escrow_id, record in state.agreements.items():
            states = obligation_states(record.view(state), state.latest_time) if record.fully_signed else {}
            custody = state.custody_of(escrow_id, bundles) if record.fully_signed else None
            counts = custody.counts() if custody is not None else {}
            by_category = custody.counts_by_category() if custody is not None else {}
            found.append({
                "id": record.agreement.id, "escrow_id": escrow_id, "status": "signed" if record.fully_signed else "awaiting-signatures",
                "signers": sorted(record.signers), "index": record.index, "final": record.index < final_size,
                "obligations": [
                    {"id": o.id, "party": o.party, "state": o.state, "due": None if o.due is None else rfc3339(o.due)}
                    for o in states.values()
                ],
                "items": [{"state": step, "count": n} for step, n in counts.items()],
                "items_by_category": [{"category": c, "state": step, "count": n} for c, steps in by_category.items() for step, n in steps.items()],
            })
        draws = []
        for context, draw in state.draws.items():
            chosen = draw.selection
            draws.append({
                "context": context, "escrow_id": draw.escrow_id, "n": draw.n,
                "selection": list(chosen["selection"]) if chosen is not None else None,
                "recomputed": chosen is not None,  # an accepted selection.drawn is the one spec §8 computes
                "final": draw.selection_index is not None and draw.selection_index < final_size,
            })
        return {"agreements": found, "draws": draws}
