"""Recompute a board's log offline and check everything it signed (spec §6, §7).

:func:`audit` takes the raw entries (in log order), the registered parties, the origin and
the stored checkpoint notes, and reports **every** problem as a :class:`~unveil.errors.Problem`
(``index`` = entry index, or ``None`` for a checkpoint):

========================== ================================================================
reason                     meaning
========================== ================================================================
entry-malformed            the entry is not I-JSON, or not an event (spec §0, §7)
entry-not-canonical        the entry is not ``JCS`` of its own JSON (spec §7)
*any refusal reason*       the board should have refused the entry (:mod:`.protocol`):
                           ``author-unknown``, ``signature-invalid``, ``role-not-allowed``,
                           ``coin-early``…; the entry is then left out of the replayed state
checkpoint-malformed       a stored checkpoint is not a signed C2SP checkpoint
checkpoint-origin          its origin is not the board's
checkpoint-signature-invalid  the board's signature is missing or fails, or a registered
                           witness's cosignature fails
checkpoint-beyond-log      its size exceeds the entries given: entries are missing
checkpoint-root-mismatch   its root differs from the recomputed tree at its size
quorum-missing             an entry is not final (spec §7): ``index`` is the first such entry
*a cosigned claim's*       a witness's cosigned checkpoint that fails a check of
                           :func:`unveil.board.finality.credit` (``witness-unknown``,
                           ``cosignature-invalid``, ``checkpoint-root-mismatch``…)
========================== ================================================================

Reveal files are checked only when ``bundles`` (SHA-256 hex → bytes) is given; the report says
whether they were (``bundles_checked``). Finality is checked only when ``cosigned`` (each
witness's cosigned checkpoints, as the board serves them or its database holds them) is given:
every entry must be final under the quorum (K = ``quorum``, default the whole quorum), or,
with ``allow_pending``, the entries that are not are reported (``pending``) without a problem.
The report also lists every raised discrepancy as the replayed log holds it
(``discrepancies``: phase, cell, raiser, whether resolved, and the derived
``intel_predates_reveal``, spec §7), and every phase logged in parts (``parted_phases``: the
parts logged, whether the phase is complete, and whether every part is final, spec §5.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from unveil.board.events import parse_event
from unveil.board.finality import CosignedClaim, Finality, Prover, finality
from unveil.board.parties import Parties
from unveil.board.protocol import BoardState, BundleLookup
from unveil.board.tree import AppendOnlyTree
from unveil.core.encoding import b64encode
from unveil.core.jsonparse import loads
from unveil.core.merkle import leaf_hash
from unveil.core.notes import Checkpoint, open_note, verify_note
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, MalformedInputError, Problem, VerificationError

__all__ = ["AuditReport", "audit", "replay"]


@dataclass(frozen=True)
class AuditReport:
    """The recomputed log (``size``, ``root``) and every problem found."""

    size: int
    root: bytes
    problems: tuple[Problem, ...]
    checkpoints_checked: int
    bundles_checked: bool
    finality: Finality | None = None
    discrepancies: tuple[dict[str, object], ...] = ()
    parted_phases: tuple[dict[str, object], ...] = ()  # spec §5.1: each phase in parts, complete and final or not

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        final = self.finality
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root.hex(),
            "checkpoints_checked": self.checkpoints_checked,
            "bundles_checked": self.bundles_checked,
            "final_size": final.final_size if final is not None else None,
            "finality": final.to_json() if final is not None else None,
            "problems": [p.to_json() for p in self.problems],
            "discrepancies": list(self.discrepancies),
            "parted_phases": list(self.parted_phases),
        }


def _replay_one(index: int, entry: bytes, state: BoardState, parties: Parties, bundles: BundleLookup | None) -> list[Problem]:
    try:
        doc = loads(entry, source=f"entry {index}")
        event = parse_event(doc)
    except MalformedInputError as exc:
        return [Problem(index, Reason.ENTRY_MALFORMED, str(exc))]
    found: list[Problem] = []
    if event.entry != entry:
        found.append(Problem(index, Reason.ENTRY_NOT_CANONICAL, "the entry is not JCS of its JSON (spec §7)"))
    state.size = index  # the entries before this one, refused ones too: what an entry evidence may name (spec §12)
    try:
        author = parties.author_of(event)
        if author is None:
            raise BoardRefused(Reason.AUTHOR_UNKNOWN, "no signature by a registered statement key")
        state.check(event, author, bundles)
    except BoardRefused as refused:
        found.append(Problem(index, refused.reason, refused.message))
        return found
    state.apply(event, author, index)
    return found


def replay(
    entries: Iterable[bytes], parties: Parties, bundles: BundleLookup | None = None
) -> tuple[BoardState, AppendOnlyTree, list[Problem]]:
    """Replay ``entries`` into a fresh state and tree; the tree holds every entry, the state
    only those the board should have accepted. Returns ``(state, tree, problems)``."""
    state = BoardState(parties)
    tree = AppendOnlyTree()
    problems: list[Problem] = []
    for entry in entries:
        index = tree.append(leaf_hash(entry))
        problems += _replay_one(index, entry, state, parties, bundles)
    state.size = tree.size
    return state, tree, problems


def check_checkpoint(note: str, tree: AppendOnlyTree, parties: Parties, origin: str) -> list[Problem]:
    """Problems of one stored checkpoint ``note`` against the recomputed ``tree``."""
    where = "checkpoint"
    try:
        text, _ = open_note(note)
        checkpoint = Checkpoint.parse(text)
    except MalformedInputError as exc:
        return [Problem(None, Reason.CHECKPOINT_MALFORMED, f"{where}: {exc}")]
    where = f"checkpoint of size {checkpoint.size}"
    found: list[Problem] = []
    if checkpoint.origin != origin or origin != parties.board.name:
        found.append(Problem(None, Reason.CHECKPOINT_ORIGIN, f"{where}: origin {checkpoint.origin!r}, the board is {origin!r}"))
    board = parties.board.statement_key
    witnesses = [k for k in (p.witness_key for p in parties.witnesses()) if k is not None]
    try:
        good = verify_note(note, [board, *witnesses])
        if board not in good:
            found.append(Problem(None, Reason.CHECKPOINT_SIGNATURE_INVALID, f"{where}: no signature by the board key {board}"))
    except VerificationError as exc:
        found.append(Problem(None, Reason.CHECKPOINT_SIGNATURE_INVALID, f"{where}: {exc}"))
    if checkpoint.size > tree.size:
        found.append(Problem(None, Reason.CHECKPOINT_BEYOND_LOG, f"{where}: only {tree.size} entries were given"))
    elif tree.root(checkpoint.size) != checkpoint.root:
        found.append(
            Problem(None, Reason.CHECKPOINT_ROOT_MISMATCH, f"{where}: root {b64encode(checkpoint.root)}, recomputed {b64encode(tree.root(checkpoint.size))}")
        )
    return found


def audit(
    entries: Iterable[bytes],
    parties: Parties,
    origin: str,
    checkpoints: Iterable[str],
    *,
    bundles: BundleLookup | None = None,
    cosigned: Iterable[CosignedClaim] | None = None,
    quorum: int | None = None,
    allow_pending: bool = False,
    prove: Prover | None = None,
) -> AuditReport:
    """Recompute everything from ``entries``, check each of ``checkpoints`` (notes) and, given
    ``cosigned``, the finality of every entry (the module's rules)."""
    state, tree, problems = replay(entries, parties, bundles)
    count = 0
    for note in checkpoints:
        problems += check_checkpoint(note, tree, parties, origin)
        count += 1
    final = None
    if cosigned is not None:
        final = finality(parties, cosigned, tree, quorum=quorum, prove=prove)
        problems += final.problems
        if final.pending and not allow_pending:
            short = final.short_of(final.final_size + 1)
            problems.append(Problem(
                final.final_size, Reason.QUORUM_MISSING,
                f"entries {final.final_size}..{tree.size - 1} are not final: {final.quorum} of the quorum "
                f"({', '.join(final.members) or 'no witness is registered'}) must cosign a checkpoint that includes them; "
                f"short: {', '.join(short) or 'none'}",
            ))
    parted = tuple(p.view(escrow_id, phase, final.final_size if final is not None else None) for (escrow_id, phase), p in state.parted.items())
    return AuditReport(tree.size, tree.root(), tuple(problems), count, bundles is not None, final, tuple(state.discrepancy_views()), parted)
