"""What the board remembers of each escrow's reveals and discrepancies (spec §5, §7, §9), and
the checks and effects that need it, which :class:`unveil.board.protocol.BoardState`
dispatches to (its ``_CHECKS`` and ``_APPLY``):

- ``reveal.published`` repeats no site id, serial or suspect id of an earlier phase in another
  cell (:func:`repeated`, :func:`refuse_repeats`; the rest of its check is the protocol's);
- ``verification.recorded`` names the logged file of its phase (``verification-mismatch``);
- ``discrepancy.raised`` names a revealed phase (``phase-unknown``) and a cell it opened
  (``cell-not-opened``); its intel is a valid opening of the raiser's intel escrow shadowing
  this one, opening the cell (``intel-invalid``) and repeating no suspect id; the state derives
  whether that intel escrow was logged before the phase (``intel_predates_reveal``).

A phase may be logged in numbered parts (spec §5.1, :class:`Parted`): one ``reveal.published``
per part, in ascending part order, all naming the same ``parts``, each opening indices above
the previous part's (:func:`check_part`); the phase is complete when every part is logged.

Replayed with the log, so an audit applies the same rules. A replay without the reveal files
(an offline audit without them, or a board opened with ``check_bundles=False``) knows each
phase's SHA-256 and entry but not what its file opens; a later check that needs it reads the
files then (:meth:`Opened.load`), in log order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unveil.core.content import DeclarationIndex, earlier_phase_problems
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.reasons import Reason
from unveil.core.reveal import Reveal, parse_reveal
from unveil.core.verify import check_bundle
from unveil.errors import BoardRefused, MalformedInputError, Problem

if TYPE_CHECKING:
    from unveil.board.events import Event
    from unveil.board.parties import Party
    from unveil.board.protocol import BoardState, BundleLookup, PublishedEscrow

__all__ = [
    "Discrepancy", "Opened", "Parted", "Phase", "Scanned", "apply_discrepancy_raised", "check_discrepancy_raised", "check_part",
    "check_verification_recorded", "intel_predates", "logged_files", "predates_in_log", "refuse_repeats", "repeated", "scan",
]


@dataclass(frozen=True)
class Scanned:
    """What one bundle opens: its cells, and the openings that declare something (as
    ``(index, content)``), the only ones that can repeat an id."""

    phase: str
    cells: frozenset[str]
    declaring: tuple[tuple[int, dict[str, Any]], ...]
    first: int = -1  # the first and last opened index (spec §5.1: parts ascend without overlap)
    last: int = -1


def scan(reveal: Reveal) -> Scanned:
    declaring = tuple((o.index, o.content) for o in reveal.openings if o.content.get("sites") or o.content.get("suspects"))
    first, last = (reveal.openings[0].index, reveal.openings[-1].index) if reveal.openings else (-1, -1)
    return Scanned(reveal.phase, frozenset(o.cell for o in reveal.openings), declaring, first, last)


@dataclass
class Phase:
    """A logged phase: the SHA-256 of its file (of its first part, spec §5.1), the entry of
    that ``reveal.published``, and the cells its logged files open (``None`` until every one of
    them is read; ``pending`` counts those not read yet)."""

    sha256: str
    index: int
    cells: frozenset[str] | None = None
    pending: int = 0


@dataclass
class Parted:
    """A phase logged in parts (spec §5.1): how many it has, the SHA-256 of each logged part
    (parts 1..len, logged in order), and the last index the highest logged part opens
    (``None`` while its file is not read)."""

    parts: int
    files: dict[int, str] = field(default_factory=dict)
    last: int | None = None
    entries: dict[int, int] = field(default_factory=dict)  # part -> its reveal.published entry

    @property
    def complete(self) -> bool:
        return len(self.files) == self.parts

    def view(self, escrow_id: str, phase: str, final_size: int | None) -> dict[str, object]:
        """How every view (an audit's report) shows the phase (spec §5.1, §7): parts logged,
        complete, and final (every part final; ``None`` when finality is not known)."""
        final = None if final_size is None else self.complete and max(self.entries.values(), default=final_size) < final_size
        return {"escrow_id": escrow_id, "phase": phase, "parts": self.parts, "logged": sorted(self.files), "complete": self.complete, "final": final}


@dataclass
class Opened:
    """One escrow's logged phases and the ids their bundles (and, for an intel escrow, the
    discrepancies' intel bundles) declared, each with the phase that declared it first."""

    intel: bool
    phases: dict[str, Phase] = field(default_factory=dict)
    ids: DeclarationIndex = field(default_factory=DeclarationIndex)
    unread: list[tuple[str, str]] = field(default_factory=list)  # (phase, file SHA-256) not in ``ids`` yet, in log order

    def record(self, phase: str, sha256: str, index: int, scanned: Scanned | None) -> None:
        """A phase (or a part of it, spec §5.1) logged as entry ``index``; ``scanned``: its file
        as the check read it, or ``None`` (replayed without the files: read when a check needs it)."""
        logged = self.phases.get(phase)
        if logged is None:
            logged = self.phases[phase] = Phase(sha256, index)
        if scanned is not None and not self.unread:
            logged.cells = scanned.cells if logged.cells is None else logged.cells | scanned.cells
            self.add(scanned)
        else:
            self.unread.append((phase, sha256))
            logged.pending += 1

    def add(self, scanned: Scanned) -> None:
        """Record the ids of a bundle accepted after every earlier one was read."""
        for _, content in scanned.declaring:
            self.ids.add(content, scanned.phase)

    def load(self, bundles: Callable[[str], bytes | None]) -> None:
        """Read the files of the phases not read yet (accepted earlier, checked then), in log
        order; :class:`BoardRefused` if the board no longer holds one or it cannot be read."""
        while self.unread:
            name, sha = self.unread[0]
            phase = self.phases[name]
            scanned = read_scan(bundles, sha, name, self.intel)
            phase.cells = scanned.cells if phase.cells is None else phase.cells | scanned.cells
            phase.pending -= 1
            self.add(scanned)
            self.unread.pop(0)


def read_scan(bundles: Callable[[str], bytes | None], sha: str, phase: str, intel: bool) -> Scanned:
    """What the logged file ``sha`` of ``phase`` opens; :class:`BoardRefused` if the board no
    longer holds it or it cannot be read."""
    data = bundles(sha)
    if data is None:
        raise BoardRefused(Reason.BUNDLE_MISSING, f"the board no longer holds the reveal file of phase {phase!r} ({sha})")
    try:
        return scan(parse_reveal(parse_signed(loads(data), "bundle").statement, "bundle.statement", intel=intel))
    except MalformedInputError as exc:
        raise BoardRefused(Reason.BUNDLE_INVALID, f"the stored reveal file of phase {phase!r} cannot be read: {exc}") from None


def repeated(opened: Opened | None, scanned: Scanned, bundles: Callable[[str], bytes | None] | None) -> list[Problem]:
    """Spec §5: the ids ``scanned`` repeats from another cell of an earlier bundle of the
    escrow (every earlier file read first, when ``bundles`` can); as problems on its openings."""
    if opened is None:
        return []
    if bundles is not None:
        opened.load(bundles)
    return [Problem(i, reason, detail) for i, reason, detail in earlier_phase_problems(opened.ids, scanned.declaring)]


def _summary(problems: Sequence[Problem]) -> str:
    return "; ".join(str(p) for p in problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")


def _check_opened(opened: Opened | None, escrow_id: str, phase: str, cell: str, bundles: Callable[[str], bytes | None] | None) -> None:
    """``discrepancy.raised`` (spec §7): ``phase`` is a revealed phase of the escrow
    (``phase-unknown``) and ``cell`` a cell its bundle opened (``cell-not-opened``; unknowable,
    so not checked, when the phase's file was not read and ``bundles`` is ``None``)."""
    logged = opened.phases.get(phase) if opened is not None else None
    if opened is None or logged is None:
        raise BoardRefused(Reason.PHASE_UNKNOWN, f"escrow {escrow_id!r} has no revealed phase {phase!r}")
    if logged.pending and bundles is not None:
        opened.load(bundles)
    if not logged.pending and logged.cells is not None and cell not in logged.cells:
        raise BoardRefused(Reason.CELL_NOT_OPENED, f"phase {phase!r} of escrow {escrow_id!r} did not open cell {cell[:80]!r}")


def refuse_repeats(problems: list[Problem], what: str) -> None:
    """Refuse an event whose bundle repeats ids: the first problem's reason, every problem."""
    if problems:
        raise BoardRefused(problems[0].reason, f"{what} repeats ids of an earlier phase (spec §5): {_summary(problems)}", problems=tuple(problems))


def intel_predates(intel_published: int, reveal_published: int) -> bool:
    """Spec §7: a suspicion predates a reveal only if the intel escrow's ``escrow.published``
    entry comes before the phase's ``reveal.published`` entry in the log."""
    return intel_published < reveal_published


@dataclass
class Discrepancy:
    """A raised discrepancy as the log holds it; ``intel_predates_reveal`` is derived (spec §7)."""

    raised_by: str
    resolved: bool = False
    index: int = -1
    phase: str = ""
    cell: str = ""
    intel_escrow: str | None = None
    intel_predates_reveal: bool | None = None

    def to_json(self, escrow_id: str, id: str) -> dict[str, object]:
        return {"escrow_id": escrow_id, "id": id, "index": self.index, "phase": self.phase, "cell": self.cell,
                "raised_by": self.raised_by, "resolved": self.resolved, "intel_escrow": self.intel_escrow,
                "intel_predates_reveal": self.intel_predates_reveal}


def predates_in_log(entries: Iterable[bytes], escrow_id: str, phase: str, intel_escrow: str) -> bool | None:
    """:func:`intel_predates` read from a log's entries (as a board serves them, in order): the
    entry of ``intel_escrow``'s ``escrow.published`` against that of ``escrow_id``'s
    ``reveal.published`` of ``phase``; ``None`` if the log holds either not (yet)."""
    from unveil.board import events as ev
    from unveil.board.events import parse_event

    published = revealed = None
    for index, entry in enumerate(entries):
        try:
            event = parse_event(loads(entry))
        except MalformedInputError:
            continue  # the board's audit reports it
        if event.kind == ev.ESCROW_PUBLISHED and event.escrow_id == intel_escrow and published is None:
            published = index
        elif event.kind == ev.REVEAL_PUBLISHED and event.escrow_id == escrow_id and event.body["phase"] == phase and revealed is None:
            revealed = index
    return None if published is None or revealed is None else intel_predates(published, revealed)


# --- the checks and effects the protocol dispatches to -----------------------------------------


def logged_files(state: BoardState, escrow_id: str, phase: str) -> list[str]:
    """The SHA-256 of every logged file of a phase: its one file, or its logged parts in order."""
    key = (escrow_id, phase)
    if key in state.reveals:
        return [state.reveals[key]]
    parted = state.parted.get(key)
    return list(parted.files.values()) if parted is not None else []


def check_verification_recorded(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    """Spec §7: a verification names the logged ``reveal.published`` file of its phase (any
    logged part of it, spec §5.1); one of a file the board never logged (such as one shown
    privately) is ``verification-mismatch``."""
    phase, sha = event.body["phase"], event.body["sha256"]
    logged = logged_files(state, event.escrow_id, phase)
    if sha not in logged:
        what = (f"the logged file{'s' if len(logged) > 1 else ''} of phase {phase!r} {'are' if len(logged) > 1 else 'is'} {', '.join(logged[:3])}"
                if logged else f"no phase {phase!r} of escrow {event.escrow_id!r} is revealed")
        raise BoardRefused(Reason.VERIFICATION_MISMATCH, f"{what}, not {sha}")


def check_part(state: BoardState, escrow_id: str, body: dict[str, Any], bundles: Callable[[str], bytes | None] | None) -> None:
    """Spec §5.1, §7: the form and numbering of a ``reveal.published`` against the phase's
    logged files, before its file is read: one form per phase and each part once
    (``phase-duplicate``), the same ``parts`` (``parts-mismatch``), parts in ascending order
    (``part-order``)."""
    phase, part = body["phase"], body.get("part")
    key = (escrow_id, phase)
    if key in state.reveals:
        raise BoardRefused(Reason.PHASE_DUPLICATE, f"phase {phase!r} of escrow {escrow_id!r} is already revealed")
    parted = state.parted.get(key)
    if parted is None:
        if part is not None and part != 1:
            raise BoardRefused(Reason.PART_ORDER, f"part {part} of phase {phase!r} comes after part {part - 1}, which is not logged: parts are logged in order")
        return
    if part is None:
        raise BoardRefused(Reason.PHASE_DUPLICATE, f"phase {phase!r} of escrow {escrow_id!r} is being revealed in {parted.parts} parts; a whole file of it is refused")
    if part in parted.files:
        raise BoardRefused(Reason.PHASE_DUPLICATE, f"part {part} of phase {phase!r} of escrow {escrow_id!r} is already revealed")
    if body["parts"] != parted.parts:
        raise BoardRefused(Reason.PARTS_MISMATCH, f"phase {phase!r} is revealed in {parted.parts} parts; this part says {body['parts']}")
    if part != len(parted.files) + 1:
        raise BoardRefused(Reason.PART_ORDER, f"part {part} of phase {phase!r} comes after part {part - 1}, which is not logged: parts are logged in order")


def check_part_overlap(state: BoardState, escrow_id: str, phase: str, part: int, scanned: Scanned, bundles: Callable[[str], bytes | None]) -> None:
    """Spec §5.1: part ``part``'s first index is above the last of part ``part`` − 1 (read
    from its file when the state does not know it; ``part-overlap``)."""
    parted = state.parted.get((escrow_id, phase))
    if parted is None or part == 1:
        return
    if parted.last is None:
        parted.last = read_scan(bundles, parted.files[part - 1], phase, state.escrows[escrow_id].escrow.purpose == "intel").last
    if scanned.first <= parted.last:
        raise BoardRefused(Reason.PART_OVERLAP, f"part {part} of phase {phase!r} opens index {scanned.first},"
                           f" not above index {parted.last}, the last of part {part - 1} (spec §5.1)")


def check_discrepancy_raised(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    key = (event.escrow_id, event.body["id"])
    if key in state.discrepancies:
        raise BoardRefused(Reason.DISCREPANCY_DUPLICATE, f"discrepancy {key[1]!r} is already raised for escrow {key[0]!r}")
    _check_opened(state.opened.get(event.escrow_id), event.escrow_id, event.body["phase"], event.body["cell"], bundles)
    intel = event.body["intel"]
    if intel is None:
        return
    bundle = parse_signed(intel, "body.intel")
    target = state.escrows.get(str(bundle.statement.get("escrow_id")))
    if target is None or target.escrow.purpose != "intel" or target.escrow.shadows != event.escrow_id or target.escrow.host != author.name:
        raise BoardRefused(Reason.INTEL_INVALID, f"the intel bundle must open an intel escrow of {author.name} shadowing {event.escrow_id!r}, published here")
    try:
        report = check_bundle(target.signed, bundle, None, trusted=[author.vkey])
    except MalformedInputError as exc:
        raise BoardRefused(Reason.INTEL_INVALID, f"the intel bundle cannot be read: {exc}") from None
    if report.problems:
        raise BoardRefused(Reason.INTEL_INVALID, _summary(report.problems), problems=report.problems)
    if report.reveal.part is not None:
        raise BoardRefused(Reason.INTEL_INVALID, "the intel bundle is a part of a phase; a discrepancy embeds a whole bundle (spec §5.1, §7)")
    if event.body["cell"] not in {o.cell for o in report.reveal.openings}:
        raise BoardRefused(Reason.INTEL_INVALID, f"the intel bundle does not open cell {event.body['cell'][:80]!r}")
    refuse_repeats(repeated(state.opened.get(target.escrow.escrow_id), scan(report.reveal), bundles), "the intel bundle")


def apply_discrepancy_raised(state: BoardState, event: Event, author: Party, index: int) -> None:
    phase = event.body["phase"]
    found = Discrepancy(author.name, index=index, phase=phase, cell=event.body["cell"])
    if event.body["intel"] is not None:  # spec §7: the suspicion predates the reveal only if logged before it
        bundle = parse_signed(event.body["intel"], "body.intel")
        found.intel_escrow = intel_id = str(bundle.statement["escrow_id"])
        found.intel_predates_reveal = intel_predates(state.escrows[intel_id].index, state.opened[event.escrow_id].phases[phase].index)
        state.opened_escrow(intel_id).add(scan(parse_reveal(bundle.statement, "body.intel.statement", intel=True)))
    state.discrepancies[(event.escrow_id, event.body["id"])] = found
