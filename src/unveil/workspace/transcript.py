"""A draw as the board's log holds it (spec §7, §8): :func:`read_transcript`.

A party reads the whole log (:func:`signed_entries`), checks that it is the log the board signed
(the entries hash to the root of the board's signed checkpoint), and replays it
(:func:`transcript_of`) under the board's own rules
(:func:`unveil.board.audit.replay`): an entry the board should have refused counts for
nothing, so a draw step acts on the same population, commitments, reveals and selection a
board and an audit accept. The one exception is an early reveal: a ``coin.revealed`` logged
before every party's commitment voids the draw (spec §8), so the transcript notes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unveil.core.reasons import Reason
from unveil.errors import DrawRefused, UnveilError

if TYPE_CHECKING:
    from unveil.board.parties import Parties
    from unveil.store.board_client import BoardClient

__all__ = ["Transcript", "read_transcript", "signed_entries", "transcript_of"]


@dataclass
class Transcript:
    """One context's draw on the board: the population and ``n`` its inspecting party logged
    (``None`` before its first commitment), the first commitment and reveal of each party
    (keyed by statement vkey; ``entries`` their entry indexes by ``(kind, vkey)``), and the
    logged selection."""

    population: tuple[str, ...] | None = None
    population_sha256: str | None = None
    n: int | None = None
    inspector: str | None = None
    commitments: dict[str, bytes] = field(default_factory=dict)
    reveals: dict[str, bytes] = field(default_factory=dict)
    entries: dict[tuple[str, str], int] = field(default_factory=dict)
    early_reveal: bool = False
    selection: dict[str, Any] | None = None
    selection_index: int | None = None


def signed_entries(client: BoardClient, parties: Parties) -> list[bytes]:
    """Every entry of the board, checked to be the log its signed checkpoint commits to."""
    from unveil.board.witness import read_checkpoint
    from unveil.core.merkle import EMPTY_ROOT, leaf_hash, root_from_leaf_hashes
    from unveil.core.notes import verify_note

    note = client.checkpoint()
    try:
        verify_note(note, [parties.board.statement_key])
    except UnveilError as exc:
        raise DrawRefused(Reason.CHECKPOINT_INVALID, f"the board's checkpoint is not signed by {parties.board.name}: {exc}") from None
    checkpoint = read_checkpoint(note)
    size = checkpoint.size if checkpoint is not None else 0
    entries = client.entries(0, size) if size else []
    root = root_from_leaf_hashes(b"".join(map(leaf_hash, entries))) if entries else EMPTY_ROOT
    if checkpoint is None or len(entries) != size or root != checkpoint.root:
        raise DrawRefused(Reason.CHECKPOINT_INVALID, "the board's entries do not hash to the root of its signed checkpoint")
    return list(entries)


def _in_context(entry: bytes, context: str, escrow_id: str) -> bool:
    from unveil.core.jsonparse import loads

    try:
        statement = loads(entry, source="entry")["statement"]
        return bool(statement["escrow_id"] == escrow_id and statement["body"]["context"] == context)
    except (UnveilError, KeyError, TypeError):
        return False


def read_transcript(client: BoardClient, parties: Parties, context: str, escrow_id: str) -> Transcript:
    """The context's draw as the board's signed log holds it, replayed under the protocol
    (:func:`signed_entries`, then :func:`transcript_of`)."""
    return transcript_of(signed_entries(client, parties), parties, context, escrow_id)


def transcript_of(entries: list[bytes], parties: Parties, context: str, escrow_id: str) -> Transcript:
    """The context's draw in ``entries`` (the whole log, in order), replayed under the protocol.

    Raises :class:`DrawRefused` (``context-mismatch``) if the context is another escrow's draw;
    :func:`read_transcript` raises ``checkpoint-invalid`` first if the entries are not the
    signed log."""
    from unveil.board.audit import replay

    state, _, problems = replay(entries, parties)
    found = Transcript()
    found.early_reveal = any(
        p.reason == Reason.COIN_EARLY and p.index is not None and _in_context(entries[p.index], context, escrow_id)
        for p in problems
    )
    draw = state.draws.get(context)
    if draw is None:
        return found
    if draw.escrow_id != escrow_id:
        raise DrawRefused(Reason.CONTEXT_MISMATCH, f"context {context!r} is a draw about escrow {draw.escrow_id!r}, not {escrow_id!r}")
    found.population, found.population_sha256, found.n = draw.population, draw.population_sha256, draw.n
    found.inspector = draw.inspector
    found.commitments, found.reveals, found.entries = dict(draw.commitments), dict(draw.reveals), dict(draw.entries)
    found.selection, found.selection_index = draw.selection, draw.selection_index
    return found
