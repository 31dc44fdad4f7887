"""Quorum and finality (spec §7): how much of a board's log every quorum member vouched for.

The **quorum** of a board is every registered party with a witness key, the board excepted
(:func:`quorum_members`); parties may agree to lower it to any K of them (:func:`quorum_size`).
A log size s is **final** once every quorum member (K of them, when lowered) has cosigned, on
this board, a checkpoint of size ≥ s; entry i is final when i < the final size.

A reader holds a tree of the log (:class:`ReaderTree`: the entries it mirrored or audited) and
the cosigned checkpoints it was shown (:class:`CosignedClaim`: from ``GET /checkpoints/cosigned``
or a board's database). :func:`finality` credits each quorum member with the largest size it
cosigned on a checkpoint that passes every check below, and computes the final size from those
credits (:func:`final_size`). A claim that fails a check credits nothing and is reported as a
:class:`~unveil.errors.Problem` (``index`` ``None``):

============================= ==================================================================
reason                        the claim
============================= ==================================================================
witness-unknown               names no registered witness, or the board itself
checkpoint-malformed          is not a signed checkpoint note, or its size is not the one claimed
checkpoint-origin             is a checkpoint of another log
checkpoint-signature-invalid  is not signed by the board's key
cosignature-invalid           carries no valid cosignature by the witness it names
checkpoint-root-mismatch      is a checkpoint whose root is not the reader's tree at that size:
                              the board signed another log (a fork)
checkpoint-beyond-log         is larger than the reader's tree, and no consistency proof was
                              available (``prove``)
checkpoint-inconsistent       is larger than the reader's tree, and the consistency proof fails
============================= ==================================================================

A checkpoint larger than the reader's tree counts, once a consistency proof from the tree's
size verifies, for the reader's whole tree (what lies beyond it the reader has not seen). A
claim by the board itself (a board may register a witness key, and a board's list names every
registered witness that cosigned) is left out of :func:`finality` without a problem.

Pure: no I/O and no clock; the consistency proofs come from an injected ``prove``. A board with
no quorum member has no quorum: nothing on it is final.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from unveil.board.parties import BOARD, Parties, Party
from unveil.core.merkle import verify_consistency
from unveil.core.notes import Checkpoint, open_note, verify_note
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, Problem, UnveilError, VerificationError

__all__ = [
    "Claim",
    "CosignedClaim",
    "Finality",
    "Prover",
    "ReaderTree",
    "credit",
    "final_size",
    "finality",
    "lowered",
    "quorum_members",
    "quorum_size",
]

Prover = Callable[[int, int], Sequence[bytes]]
"""``prove(size1, size2)``: an RFC 9162 consistency proof between two sizes of the board's log."""


class ReaderTree(Protocol):
    """The reader's tree of the log (e.g. :class:`unveil.board.tree.AppendOnlyTree`)."""

    @property
    def size(self) -> int: ...

    def root(self, size: int | None = None) -> bytes: ...


class CosignedClaim(Protocol):
    """A witness's cosigned checkpoint as a reader was shown it: ``note`` is the board-signed
    checkpoint note with the witness's cosignature line; ``size`` the size claimed beside it
    (``None``: none claimed)."""

    @property
    def witness(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def note(self) -> str: ...


@dataclass(frozen=True)
class Claim:
    """A :class:`CosignedClaim` built by a reader (e.g. from a board's database)."""

    witness: str
    note: str
    size: int | None = None


def quorum_members(parties: Parties) -> list[Party]:
    """Every registered party with a witness key, the board excepted (spec §7), in file order."""
    return [p for p in parties.witnesses() if p.role != BOARD]


def quorum_size(parties: Parties, k: int | None) -> int:
    """K: the whole quorum when ``k`` is ``None``, else ``k`` once checked to be 1 ≤ k ≤ the
    quorum's size (:class:`MalformedInputError`, ``--quorum``, otherwise)."""
    return lowered(len(quorum_members(parties)), k)


def lowered(members: int, k: int | None) -> int:
    """K of a quorum of ``members``: all of them when ``k`` is ``None``, else ``k`` once checked
    to be 1 ≤ k ≤ ``members`` (:class:`MalformedInputError`, ``--quorum``, otherwise)."""
    if k is None:
        return members
    if type(k) is not int or not 1 <= k <= members:
        raise MalformedInputError(
            f"the quorum can be lowered to K of its {members} member(s), 1 ≤ K ≤ {members}; got {k!r}", where="--quorum"
        )
    return k


def final_size(credited: Mapping[str, int], members: Sequence[str], k: int) -> int:
    """The largest size that ``k`` of ``members`` have each cosigned (a member absent from
    ``credited`` cosigned nothing); 0 without a quorum (``k`` 0)."""
    if k <= 0 or not members:
        return 0
    sizes = sorted((credited.get(name, 0) for name in members), reverse=True)
    return sizes[min(k, len(sizes)) - 1]


def _fail(reason: Reason, detail: str) -> VerificationError:
    return VerificationError.because(reason, detail)


def credit(claim: CosignedClaim, parties: Parties, tree: ReaderTree, prove: Prover | None = None) -> int:
    """The size ``claim`` vouches for in the reader's ``tree``, or :class:`VerificationError`
    with the one problem that voids it (the module's table)."""
    who = f"the checkpoint cosigned by {str(claim.witness)[:80]!r}"
    party = parties.by_name(claim.witness)
    if party is None or party.witness_key is None:
        raise _fail(Reason.WITNESS_UNKNOWN, f"{who}: no registered witness has this name")
    if party.role == BOARD:
        raise _fail(Reason.WITNESS_UNKNOWN, f"{who}: the board is not a witness of its own log")
    witness_key = party.witness_key
    try:
        checkpoint = Checkpoint.parse(open_note(claim.note)[0])
    except MalformedInputError as exc:
        raise _fail(Reason.CHECKPOINT_MALFORMED, f"{who}: {exc}") from None
    if claim.size is not None and claim.size != checkpoint.size:
        raise _fail(Reason.CHECKPOINT_MALFORMED, f"{who}: claimed size {claim.size}, the note's checkpoint has {checkpoint.size}")
    board = parties.board.statement_key
    if checkpoint.origin != board.name:
        raise _fail(Reason.CHECKPOINT_ORIGIN, f"{who}: origin {checkpoint.origin!r}, the board is {board.name!r}")
    for key, reason, what in ((board, Reason.CHECKPOINT_SIGNATURE_INVALID, "the board's signature"),
                              (witness_key, Reason.COSIGNATURE_INVALID, "the witness's cosignature")):
        try:
            verify_note(claim.note, [key])
        except VerificationError as exc:
            raise _fail(reason, f"{who}: {what}: {exc.problems[0].detail}") from None
    where = f"{who} (size {checkpoint.size})"
    if checkpoint.size <= tree.size:
        if tree.root(checkpoint.size) != checkpoint.root:
            raise _fail(Reason.CHECKPOINT_ROOT_MISMATCH, f"{where}: its root is not this log's at that size: the board signed another log")
        return checkpoint.size
    if tree.size == 0:
        return 0
    if prove is None:
        raise _fail(Reason.CHECKPOINT_BEYOND_LOG, f"{where}: beyond the {tree.size} entries held here, and no consistency proof")
    try:
        proof = prove(tree.size, checkpoint.size)
    except UnveilError as exc:
        raise _fail(Reason.CHECKPOINT_BEYOND_LOG, f"{where}: beyond the {tree.size} entries held here; no consistency proof: {exc}") from None
    try:
        verify_consistency(tree.size, checkpoint.size, proof, tree.root(), checkpoint.root)
    except VerificationError as exc:
        raise _fail(Reason.CHECKPOINT_INCONSISTENT, f"{where}: does not extend the {tree.size} entries held here: {exc}") from None
    return tree.size


@dataclass(frozen=True)
class Finality:
    """The reader's tree ``size``, its ``final_size``, the quorum (K of ``members``), each
    member's ``credited`` size with the ``notes`` that earned it, and the ``problems`` of the
    claims that credited nothing."""

    size: int
    final_size: int
    quorum: int
    members: tuple[str, ...]
    credited: Mapping[str, int]
    problems: tuple[Problem, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """How many entries of the tree are not final."""
        return self.size - self.final_size

    def short_of(self, size: int) -> list[str]:
        """The members that have not cosigned a checkpoint of ``size`` or more."""
        return [name for name in self.members if self.credited.get(name, 0) < size]

    def to_json(self) -> dict[str, object]:
        return {
            "size": self.size,
            "final_size": self.final_size,
            "pending": self.pending,
            "quorum": self.quorum,
            "members": list(self.members),
            "cosigned": {name: self.credited.get(name, 0) for name in self.members},
            "ignored": [p.to_json() for p in self.problems],
        }


def finality(
    parties: Parties, claims: Iterable[CosignedClaim], tree: ReaderTree, *, quorum: int | None = None, prove: Prover | None = None
) -> Finality:
    """Credit every claim (:func:`credit`), keep each member's largest, and compute the final
    size with K = ``quorum`` (default: the whole quorum; checked by :func:`quorum_size`)."""
    k = quorum_size(parties, quorum)
    members = tuple(p.name for p in quorum_members(parties))
    credited: dict[str, int] = {}
    notes: dict[str, str] = {}
    problems: list[Problem] = []
    for claim in claims:
        if claim.witness == parties.board.name:  # a board may register a witness key: it vouches for nothing here
            continue
        try:
            size = credit(claim, parties, tree, prove)
        except VerificationError as exc:
            problems.extend(exc.problems)
            continue
        if claim.witness not in credited or size > credited[claim.witness]:
            credited[claim.witness], notes[claim.witness] = size, claim.note
    return Finality(tree.size, final_size(credited, members, k), k, members, credited, tuple(problems), notes)
