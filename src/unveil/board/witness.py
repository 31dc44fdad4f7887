"""A witness of a board's log (spec §7, C2SP tlog-cosignature v1.0.1): :class:`Witness`.

A witness remembers, per board origin, the last checkpoint it cosigned (size, root, note) and
cosigns a new checkpoint only if the board signed it and it is consistent with that one:

- no checkpoint cosigned yet, or the last one has size 0: no proof is needed;
- otherwise the new size must be at least the last, and the RFC 9162 consistency proof from
  the last size must verify (:func:`unveil.core.merkle.verify_consistency`; equal sizes need
  an empty proof and equal roots).

:meth:`Witness.consider` returns a :class:`Cosign` (the cosignature line, made with the
witness key, type 0x04, at the time the injected clock gives) or a :class:`Refusal`. A refused
checkpoint that the board did sign is **evidence** (two signed checkpoints that cannot both
be true, or a signed checkpoint that does not match the entries served): the store keeps the
witness's last cosigned note, the new note, the proof and the reason. A note that the board
did not sign proves nothing and is refused without evidence.

Refusal reasons:

============================= ===================================================== ========
reason                        meaning                                               evidence
============================= ===================================================== ========
checkpoint-malformed          not a signed C2SP checkpoint note                     no
checkpoint-origin             its origin is not the board key's name                no
checkpoint-signature-invalid  no valid signature by the board key                   no
checkpoint-rollback           smaller than the last checkpoint cosigned             yes
checkpoint-inconsistent       the consistency proof fails: the board forked         yes
mirror-root-mismatch          (set by ``unveil sync``) the entries the board serves yes
                              do not hash to the checkpoint's root
============================= ===================================================== ========

Storage is injected (:class:`WitnessStore`): :class:`MemoryWitnessStore`, or
:class:`WorkspaceWitnessStore` over a workspace database connection, which adds its tables
(``witness_state``, ``witness_evidence`` and the local log mirror ``board_entries``) with
``CREATE TABLE IF NOT EXISTS`` when first used (:func:`ensure_tables`). The workspace store
writes inside the caller's transaction and never commits itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from unveil.core.encoding import b64encode, format_time
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, VerifierKey
from unveil.core.merkle import verify_consistency
from unveil.core.notes import Checkpoint, cosign, open_note, verify_note
from unveil.errors import MalformedInputError, VerificationError

__all__ = [
    "Cosign",
    "Cosigned",
    "MemoryWitnessStore",
    "Refusal",
    "Witness",
    "WitnessStore",
    "WorkspaceWitnessStore",
    "board_key",
    "ensure_tables",
    "mirror_append",
    "mirror_entries",
    "mirror_size",
    "read_checkpoint",
]


@dataclass(frozen=True)
class Cosigned:
    """The last checkpoint a witness cosigned for ``origin``: its size, root and the note (as
    the board served it)."""

    origin: str
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Cosign:
    """A checkpoint the witness cosigned: ``line`` is the cosignature line (ending ``\\n``)
    over ``body``, made at unix ``time``; post ``(body, line)`` to the board."""

    checkpoint: Checkpoint
    body: str
    note: str
    line: str
    time: int


@dataclass(frozen=True)
class Refusal:
    """Why the witness did not cosign ``new_note``. ``evidence``: the board signed the new note,
    so (``previous_note``, ``new_note``, ``proof``) is kept as evidence of misbehaviour."""

    reason: str
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
            "reason": self.reason,
            "message": self.message,
            "origin": self.origin,
            "evidence": self.evidence,
            "previous_note": self.previous_note,
            "new_note": self.new_note,
            "proof": [b64encode(h) for h in self.proof],
        }


class WitnessStore(Protocol):
    """Where a witness keeps its state and evidence."""

    def last(self, origin: str) -> Cosigned | None:
        """The last cosigned checkpoint of ``origin``, or ``None``."""
        ...

    def save(self, state: Cosigned) -> None:
        """Remember ``state`` as the last cosigned checkpoint of its origin."""
        ...

    def add_evidence(self, refusal: Refusal, recorded: str) -> None:
        """Keep a refusal's checkpoints and proof (``recorded``: spec §0 time)."""
        ...


class MemoryWitnessStore:
    """:class:`WitnessStore` in memory (tests, tools)."""

    def __init__(self) -> None:
        self.states: dict[str, Cosigned] = {}
        self.evidence: list[tuple[Refusal, str]] = []

    def last(self, origin: str) -> Cosigned | None:
        return self.states.get(origin)

    def save(self, state: Cosigned) -> None:
        self.states[state.origin] = state

    def add_evidence(self, refusal: Refusal, recorded: str) -> None:
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

    def check(self, note: str, board_vkey: str | VerifierKey, consistency_proof: Sequence[bytes]) -> Checkpoint | Refusal:
        """Everything :meth:`consider` checks, without cosigning or storing anything."""
        key = board_key(board_vkey)
        origin = key.name
        try:
            body, _ = open_note(note)
            checkpoint = Checkpoint.parse(body)
        except MalformedInputError as exc:
            return Refusal("checkpoint-malformed", f"the board's checkpoint is not a signed checkpoint note: {exc}", note, origin)
        if checkpoint.origin != origin:
            return Refusal("checkpoint-origin", f"the checkpoint's origin is {checkpoint.origin!r}, the board key is named {origin!r}", note, origin)
        try:
            verify_note(note, [key])
        except VerificationError as exc:
            return Refusal("checkpoint-signature-invalid", f"the checkpoint is not signed by the board key {key}: {exc}", note, origin)
        last = self.store.last(origin)
        proof = tuple(consistency_proof)

        def refuse(reason: str, message: str) -> Refusal:
            return Refusal(reason, message, note, origin, last.note if last else None, proof, evidence=True)

        if last is None:
            return checkpoint
        if last.size == 0:
            if checkpoint.size == 0 and checkpoint.root != last.root:
                return refuse("checkpoint-inconsistent", "two signed checkpoints of size 0 with different roots")
            return checkpoint
        if checkpoint.size < last.size:
            return refuse(
                "checkpoint-rollback",
                f"the board shows size {checkpoint.size}, smaller than the size {last.size} this witness cosigned",
            )
        try:
            verify_consistency(last.size, checkpoint.size, proof, last.root, checkpoint.root)
        except VerificationError as exc:
            detail = "; ".join(p.detail for p in exc.problems)
            what = "same size, different roots" if last.size == checkpoint.size else "the consistency proof does not verify"
            return refuse(
                "checkpoint-inconsistent",
                f"the board's checkpoint of size {checkpoint.size} does not extend the checkpoint of size {last.size} "
                f"this witness cosigned ({what}: {detail}): the board shows different logs (a fork)",
            )
        return checkpoint

    def consider(self, note: str, board_vkey: str | VerifierKey, consistency_proof: Sequence[bytes]) -> Cosign | Refusal:
        """Cosign ``note`` (the board's signed checkpoint, cosignature lines allowed) if the
        board signed it and ``consistency_proof`` shows it extends the last cosigned checkpoint;
        remember it. Otherwise return the :class:`Refusal` and, when the board signed the note,
        keep it as evidence. ``board_vkey`` is the board's statement key (its name = origin)."""
        verdict = self.check(note, board_vkey, consistency_proof)
        if isinstance(verdict, Refusal):
            if verdict.evidence:
                self.store.add_evidence(verdict, self.recorded())
            return verdict
        body = verdict.body()
        time = self._now()
        line = cosign(body, self.key, time)
        self.store.save(Cosigned(verdict.origin, verdict.size, verdict.root, note))
        return Cosign(verdict, body, note, line, time)


# --- workspace storage (SQLite) -------------------------------------------------------------

TABLES = """
CREATE TABLE IF NOT EXISTS witness_state (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_evidence (
    id INTEGER PRIMARY KEY, origin TEXT, previous_note TEXT, new_note TEXT NOT NULL,
    proof_json TEXT NOT NULL, reason TEXT NOT NULL, recorded TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS board_entries (
    origin TEXT NOT NULL, idx INTEGER NOT NULL, entry BLOB NOT NULL, PRIMARY KEY (origin, idx)
)
"""
"""Added to a workspace database on first use (the base schema is left as it is)."""


def ensure_tables(db: sqlite3.Connection) -> None:
    """Create the witness and mirror tables if absent (inside the caller's transaction)."""
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


class WorkspaceWitnessStore:
    """:class:`WitnessStore` over a workspace database connection; call within a transaction
    (:func:`unveil.store.workspace_db.transaction`) after :func:`ensure_tables`."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def last(self, origin: str) -> Cosigned | None:
        row = self.db.execute("SELECT size, root, note FROM witness_state WHERE origin = ?", (origin,)).fetchone()
        if row is None:
            return None
        return Cosigned(origin, int(row[0]), bytes.fromhex(row[1]), row[2])

    def save(self, state: Cosigned) -> None:
        self.db.execute(
            "INSERT INTO witness_state (origin, size, root, note) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note",
            (state.origin, state.size, state.root.hex(), state.note),
        )

    def add_evidence(self, refusal: Refusal, recorded: str) -> None:
        self.db.execute(
            "INSERT INTO witness_evidence (origin, previous_note, new_note, proof_json, reason, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            (
                refusal.origin,
                refusal.previous_note,
                refusal.new_note,
                json.dumps([b64encode(h) for h in refusal.proof]),
                f"{refusal.reason}: {refusal.message}",
                recorded,
            ),
        )

    def evidence(self, origin: str | None = None) -> list[dict[str, object]]:
        """Every evidence row (of ``origin``, or all), oldest first."""
        query = "SELECT id, origin, previous_note, new_note, proof_json, reason, recorded FROM witness_evidence"
        rows = self.db.execute(query + (" WHERE origin = ?" if origin else "") + " ORDER BY id", (origin,) if origin else ()).fetchall()
        names = ("id", "origin", "previous_note", "new_note", "proof_json", "reason", "recorded")
        return [dict(zip(names, row, strict=True)) for row in rows]


def mirror_size(db: sqlite3.Connection, origin: str) -> int:
    """How many entries of ``origin``'s log the local mirror holds (indices ``0 .. n-1``)."""
    (count,) = db.execute("SELECT COUNT(*) FROM board_entries WHERE origin = ?", (origin,)).fetchone()
    return int(count)


def mirror_entries(db: sqlite3.Connection, origin: str) -> Iterable[bytes]:
    """The mirrored entries of ``origin``, in index order."""
    for expected, (idx, entry) in enumerate(db.execute("SELECT idx, entry FROM board_entries WHERE origin = ? ORDER BY idx", (origin,))):
        if idx != expected:
            raise MalformedInputError(f"the local mirror of {origin!r} lacks entry {expected}", where="board_entries")
        yield bytes(entry)


def mirror_append(db: sqlite3.Connection, origin: str, start: int, entries: Sequence[bytes]) -> None:
    """Append ``entries`` as indices ``start, start+1, …`` of ``origin``'s mirror."""
    db.executemany(
        "INSERT INTO board_entries (origin, idx, entry) VALUES (?, ?, ?)",
        [(origin, start + i, entry) for i, entry in enumerate(entries)],
    )

