"""A witness of a board's log (spec §7, C2SP tlog-cosignature v1.0.1): :class:`Witness`.

A witness remembers, per board origin, the last checkpoint it cosigned (:class:`LastCosigned`:
size, root, the note as served and its own cosignature line) and cosigns a new checkpoint only
if the board signed it and it is consistent with that one:

- no checkpoint cosigned yet, or the last one has size 0: no proof is needed;
- otherwise the new size must be at least the last, and the RFC 9162 consistency proof from
  the last size must verify (:func:`unveil.core.merkle.verify_consistency`; equal sizes need
  an empty proof and equal roots).

Its verdict (:data:`WitnessVerdict`) is a :class:`Cosignature` (the line, made with the
witness key, type 0x04, at the time the injected clock gives) or a :class:`WitnessRefusal` (a
value, not an exception: the caller reports it; compare :class:`unveil.errors.BoardRefused`,
the board's refusal of a request). A refused checkpoint that the board did sign is
**evidence** (two signed checkpoints that cannot both be true, or a signed checkpoint that
does not match the entries served): the store keeps the witness's last cosigned note, the new
note, the proof and the reason. A note that the board did not sign proves nothing and is
refused without evidence.

Refusal reasons:

============================= ===================================================== ========
reason                        meaning                                               evidence
============================= ===================================================== ========
checkpoint-malformed          not a signed C2SP checkpoint note                     no
checkpoint-origin             its origin is not the board key's name                no
checkpoint-signature-invalid  no valid signature by the board key                   no
checkpoint-rollback           smaller than the last checkpoint cosigned             yes
checkpoint-inconsistent       the consistency proof fails: the board forked         yes
mirror-root-mismatch          the entries the board serves do not hash to the       yes
                              checkpoint's root (found by the sync service,
                              :mod:`unveil.workspace.sync`, which mirrors them)
============================= ===================================================== ========

Storage is injected (:class:`WitnessStore`): :class:`MemoryWitnessStore`, or
:class:`unveil.workspace.witness_store.WorkspaceWitnessStore` over a workspace database
(its SQL is in :mod:`unveil.store.witness_db`). This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from unveil.core.encoding import b64encode, format_time
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, VerifierKey
from unveil.core.merkle import verify_consistency
from unveil.core.notes import Checkpoint, cosign, open_note, verify_note
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, VerificationError

__all__ = [
    "Cosignature",
    "LastCosigned",
    "MemoryWitnessStore",
    "Witness",
    "WitnessRefusal",
    "WitnessStore",
    "WitnessVerdict",
    "board_key",
    "read_checkpoint",
]


@dataclass(frozen=True)
class LastCosigned:
    """The last checkpoint a witness cosigned for ``origin``: its size, root, the note (as
    the board served it), the witness's own cosignature ``line`` on it and the board key it
    checked the note with (each ``None`` when not kept)."""

    origin: str
    size: int
    root: bytes
    note: str
    line: str | None = None
    board_vkey: str | None = None


@dataclass(frozen=True)
class Cosignature:
    """The witness's verdict when it cosigns ``checkpoint``: ``line`` is its cosignature line
    (ending ``\\n``) over ``body``, made at unix ``time``; post ``(body, line)`` to the board."""

    checkpoint: Checkpoint
    body: str
    note: str
    line: str
    time: int


@dataclass(frozen=True)
class WitnessRefusal:
    """The witness's verdict when it refuses: why it did not cosign ``new_note``. ``evidence``:
    the board signed the new note, so (``previous_note``, ``new_note``, ``proof``) is kept as
    evidence of misbehaviour."""

    reason: Reason
    message: str
    new_note: str
    origin: str | None = None
    previous_note: str | None = None
    proof: tuple[bytes, ...] = field(default_factory=tuple)
    evidence: bool = False

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "reason": str(self.reason),
            "message": self.message,
            "origin": self.origin,
            "evidence": self.evidence,
            "previous_note": self.previous_note,
            "new_note": self.new_note,
            "proof": [b64encode(h) for h in self.proof],
        }


WitnessVerdict = Cosignature | WitnessRefusal
"""What :meth:`Witness.consider` returns."""


class WitnessStore(Protocol):
    """Where a witness keeps its state and evidence."""

    def last(self, origin: str) -> LastCosigned | None:
        """The last cosigned checkpoint of ``origin``, or ``None``."""
        ...

    def save(self, state: LastCosigned) -> None:
        """Remember ``state`` as the last cosigned checkpoint of its origin."""
        ...

    def add_evidence(self, refusal: WitnessRefusal, recorded: str) -> None:
        """Keep a refusal's checkpoints and proof (``recorded``: spec §0 time)."""
        ...


class MemoryWitnessStore:
    """:class:`WitnessStore` in memory (tests, tools)."""

    def __init__(self) -> None:
        self.states: dict[str, LastCosigned] = {}
        self.evidence: list[tuple[WitnessRefusal, str]] = []

    def last(self, origin: str) -> LastCosigned | None:
        return self.states.get(origin)

    def save(self, state: LastCosigned) -> None:
        self.states[state.origin] = state

    def add_evidence(self, refusal: WitnessRefusal, recorded: str) -> None:
        self.evidence.append((refusal, recorded))


def board_key(board_vkey: str | VerifierKey) -> VerifierKey:
    """The board's statement key (type 0x01; its name is the log's origin), parsed;
    :class:`MalformedInputError` (``--board-key``) otherwise."""
    if isinstance(board_vkey, VerifierKey):
        key = board_vkey
    else:
        try:
            key = VerifierKey.parse(board_vkey)
        except MalformedInputError as exc:
            raise MalformedInputError(f"the board key: {exc.message}", where="--board-key") from None
    if key.key_type != STATEMENT_KEY:
        raise MalformedInputError(f"the board key must be a statement key (type 0x01), found 0x{key.key_type:02x}", where="--board-key")
    return key


def read_checkpoint(note: str) -> Checkpoint | None:
    """The checkpoint of a note, or ``None`` if it is not a signed checkpoint note."""
    try:
        return Checkpoint.parse(open_note(note)[0])
    except MalformedInputError:
        return None


class Witness:
    """A witness with ``key`` (type 0x04), state in ``store``, time from ``now()`` (unix s)."""

    def __init__(self, key: SigningKey, store: WitnessStore, now: Callable[[], int]):
        if key.key_type != WITNESS_KEY:
            raise ValueError(f"{key.vkey} is not a witness key (type 0x04)")
        self.key = key
        self.store = store
        self._now = now

    def recorded(self) -> str:
        """The current time in spec §0 format (for evidence rows)."""
        return format_time(datetime.fromtimestamp(self._now(), timezone.utc))

    def check(self, note: str, board_vkey: str | VerifierKey, consistency_proof: Sequence[bytes]) -> Checkpoint | WitnessRefusal:
        """Everything :meth:`consider` checks, without cosigning or storing anything."""
        key = board_key(board_vkey)
        origin = key.name
        try:
            body, _ = open_note(note)
            checkpoint = Checkpoint.parse(body)
        except MalformedInputError as exc:
            return WitnessRefusal(Reason.CHECKPOINT_MALFORMED, f"the board's checkpoint is not a signed checkpoint note: {exc}", note, origin)
        if checkpoint.origin != origin:
            return WitnessRefusal(Reason.CHECKPOINT_ORIGIN, f"the checkpoint's origin is {checkpoint.origin!r}, the board key is named {origin!r}", note, origin)
        try:
            verify_note(note, [key])
        except VerificationError as exc:
            return WitnessRefusal(Reason.CHECKPOINT_SIGNATURE_INVALID, f"the checkpoint is not signed by the board key {key}: {exc}", note, origin)
        last = self.store.last(origin)
        proof = tuple(consistency_proof)

        def refuse(reason: Reason, message: str) -> WitnessRefusal:
            return WitnessRefusal(reason, message, note, origin, last.note if last else None, proof, evidence=True)

        if last is None:
            return checkpoint
        if last.size == 0:
            if checkpoint.size == 0 and checkpoint.root != last.root:
                return refuse(Reason.CHECKPOINT_INCONSISTENT, "two signed checkpoints of size 0 with different roots")
            return checkpoint
        if checkpoint.size < last.size:
            return refuse(
                Reason.CHECKPOINT_ROLLBACK,
                f"the board shows size {checkpoint.size}, smaller than the size {last.size} this witness cosigned",
            )
        try:
            verify_consistency(last.size, checkpoint.size, proof, last.root, checkpoint.root)
        except VerificationError as exc:
            detail = "; ".join(p.detail for p in exc.problems)
            what = "same size, different roots" if last.size == checkpoint.size else "the consistency proof does not verify"
            return refuse(
                Reason.CHECKPOINT_INCONSISTENT,
                f"the board's checkpoint of size {checkpoint.size} does not extend the checkpoint of size {last.size} "
                f"this witness cosigned ({what}: {detail}): the board shows different logs (a fork)",
            )
        return checkpoint

    def consider(self, note: str, board_vkey: str | VerifierKey, consistency_proof: Sequence[bytes]) -> WitnessVerdict:
        """Cosign ``note`` (the board's signed checkpoint, cosignature lines allowed) if the
        board signed it and ``consistency_proof`` shows it extends the last cosigned checkpoint;
        remember it. Otherwise return the :class:`WitnessRefusal` and, when the board signed the note,
        keep it as evidence. ``board_vkey`` is the board's statement key (its name = origin)."""
        verdict = self.check(note, board_vkey, consistency_proof)
        if isinstance(verdict, WitnessRefusal):
            if verdict.evidence:
                self.store.add_evidence(verdict, self.recorded())
            return verdict
        body = verdict.body()
        time = self._now()
        line = cosign(body, self.key, time)
        self.store.save(LastCosigned(verdict.origin, verdict.size, verdict.root, note, line, board_key(board_vkey).vkey))
        return Cosignature(verdict, body, note, line, time)
