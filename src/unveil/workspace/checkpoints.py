"""Two parties compare their views of a board without the board (spec §7, checkpoint files).

- :func:`export_checkpoint`: the workspace's latest cosigned checkpoint as a **checkpoint
  file**: the note as the board signed it (its text and the board's signature line), then the
  cosignature lines the workspace holds for it, its own first.
- :func:`compare_checkpoint`: read another party's checkpoint file and decide whether it is
  consistent with this workspace's view:

  1. the file is at most :data:`MAX_FILE` bytes of UTF-8, a signed checkpoint note of a board
     this workspace synced with (else :class:`~unveil.errors.MalformedInputError`, exit 2);
  2. the board's signature verifies under the key the workspace synced with
     (``checkpoint-signature-invalid`` otherwise: the file proves nothing);
  3. each cosignature line by a witness whose key the workspace knows (its own, and the
     quorum's as of its last sync) verifies (``cosignature-invalid`` otherwise); lines by other
     keys are listed as unknown;
  4. the two checkpoints are consistent when the smaller tree is a prefix of the larger,
     decided from the workspace's mirror of the log (which hashes to its own cosigned
     checkpoint); for a checkpoint beyond the mirror, from the board's consistency proof when a
     board is given, else undecided (``mirror-behind``: sync first);
  5. two board-signed checkpoints that are not consistent are a **fork**: both notes and the
     proof are kept as evidence (table ``witness_evidence``, reason ``fork``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from unveil.board.tree import AppendOnlyTree
from unveil.core.encoding import b64encode, format_time
from unveil.core.keys import VerifierKey
from unveil.core.merkle import leaf_hash, verify_consistency
from unveil.core.notes import Checkpoint, open_note, parse_signature_line, verify_cosignature, verify_note
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, Problem, VerificationError
from unveil.store import witness_db
from unveil.store.workspace_db import transaction

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["MAX_FILE", "Comparison", "compare_checkpoint", "export_checkpoint", "read_checkpoint_file"]

MAX_FILE = 64 * 1024
"""The largest checkpoint file read (a note has at most 100 signature lines of < 200 bytes)."""


@dataclass(frozen=True)
class _Held:
    """The workspace's latest cosigned checkpoint of ``origin`` and what it knows with it."""

    origin: str
    board: VerifierKey
    checkpoint: Checkpoint
    note: str
    own_line: str
    witnesses: dict[str, VerifierKey]
    quorum_notes: list[str]


def _lines(note: str) -> list[str]:
    """The signature lines of a signed note, each ending ``\\n``."""
    text, _ = open_note(note)
    return note[len(text) + 1 :].splitlines(keepends=True)


def _origins(db: sqlite3.Connection) -> list[str]:
    return witness_db.cosigned_origins(db) if witness_db.has_tables(db) else []


def _held(ws: Workspace, db: sqlite3.Connection, origin: str | None) -> _Held:
    origins = _origins(db)
    if origin is None:
        if len(origins) != 1:
            raise MalformedInputError(
                "this workspace has cosigned no checkpoint yet: run 'unveil sync' first" if not origins
                else f"this workspace syncs with several boards ({', '.join(origins)}): choose one with --origin",
                where="--workspace",
            )
        origin = origins[0]
    found = witness_db.last_cosigned(db, origin) if origin in origins else None
    if found is None:
        raise MalformedInputError(f"this workspace has not cosigned a checkpoint of board {origin[:80]!r}: run 'unveil sync' first",
                                  where="--workspace")
    _, _, note, line, board_vkey = found
    if line is None or board_vkey is None:
        raise MalformedInputError(f"this workspace cosigned board {origin!r} before it kept its cosignature: run 'unveil sync' again",
                                  where="--workspace")
    witnesses = {ws.name: VerifierKey.parse(ws.witness_vkey)}
    quorum_notes = []
    for name, vkey, _, quorum_note in witness_db.quorum(db, origin):
        witnesses.setdefault(name, VerifierKey.parse(vkey))
        if quorum_note is not None:
            quorum_notes.append(quorum_note)
    checkpoint = Checkpoint.parse(open_note(note)[0])
    return _Held(origin, VerifierKey.parse(board_vkey), checkpoint, note, line, witnesses, quorum_notes)


def _file_of(held: _Held) -> str:
    """The checkpoint file of ``held``: text, the board's line, own line, the quorum's lines."""
    text = held.checkpoint.body()
    board_lines = [line for line in _lines(held.note) if parse_signature_line(line)[0] == held.origin
                   and parse_signature_line(line)[1][:4] == held.board.key_id]  # verified when the witness cosigned
    cosignatures = {held.own_line}
    for note in held.quorum_notes:
        if open_note(note)[0] != text:
            continue
        for line in _lines(note):
            name = parse_signature_line(line)[0]
            key = held.witnesses.get(name)
            if key is None:
                continue
            try:
                verify_cosignature(text, line, key)
            except (MalformedInputError, VerificationError):
                continue
            cosignatures.add(line)
    ordered = [held.own_line, *sorted(cosignatures - {held.own_line})]
    return text + "\n" + "".join(board_lines[:1]) + "".join(ordered)


def export_checkpoint(ws: Workspace, origin: str | None = None) -> tuple[str, Checkpoint]:
    """The checkpoint file of the workspace's latest cosigned checkpoint (of board ``origin``,
    needed only when it syncs with several) and that checkpoint."""
    with ws.connect() as db:
        held = _held(ws, db, origin)
    return _file_of(held), held.checkpoint


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a checkpoint file with this workspace's view: ``consistent``
    (``None``: undecided), the ``reason`` when not ``ok``, who cosigned the file's checkpoint
    (verified) and which signers are unknown here, and every problem found."""

    origin: str
    ours: Checkpoint
    theirs: Checkpoint
    consistent: bool | None
    reason: Reason | None
    detail: str
    cosigned_by: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    evidence: bool = False

    @property
    def ok(self) -> bool:
        return self.consistent is True and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "consistent": self.consistent,
            "reason": str(self.reason) if self.reason is not None else None,
            "detail": self.detail,
            "origin": self.origin,
            "ours": {"size": self.ours.size, "root": b64encode(self.ours.root)},
            "theirs": {"size": self.theirs.size, "root": b64encode(self.theirs.root)},
            "cosigned_by": self.cosigned_by,
            "unknown_signers": self.unknown,
            "evidence_kept": self.evidence,
            "problems": [p.to_json() for p in self.problems],
        }


def read_checkpoint_file(data: bytes, source: str) -> tuple[str, Checkpoint]:
    """The note of a checkpoint file and its checkpoint (step 1's reading: at most
    :data:`MAX_FILE` bytes of UTF-8, one signed checkpoint note); :class:`MalformedInputError`
    naming ``source`` otherwise. Nothing is verified yet."""
    if len(data) > MAX_FILE:
        raise MalformedInputError(f"{len(data)} bytes: a checkpoint file is at most {MAX_FILE}", source=source)
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(f"not UTF-8 (byte {exc.start})", source=source) from None
    try:
        return note, Checkpoint.parse(open_note(note)[0])
    except MalformedInputError as exc:
        raise MalformedInputError(f"not a signed checkpoint note: {exc}", source=source) from None


def _mirror(db: sqlite3.Connection, origin: str) -> AppendOnlyTree:
    tree = AppendOnlyTree()
    for entry in witness_db.mirror_entries(db, origin):
        tree.append(leaf_hash(entry))
    return tree


def _cosigners(note: str, text: str, held: _Held) -> tuple[list[str], list[str], list[Problem]]:
    good, unknown, problems = [], [], []
    for line in _lines(note):
        name = parse_signature_line(line)[0]
        if name == held.origin:
            continue
        key = held.witnesses.get(name)
        if key is None or parse_signature_line(line)[1][:4] != key.key_id:
            unknown.append(name)
            continue
        try:
            verify_cosignature(text, line, key)
        except VerificationError as exc:
            problems.append(Problem(None, Reason.COSIGNATURE_INVALID, f"the cosignature of {name}: {exc.problems[0].detail}"))
            continue
        good.append(name)
    return sorted(set(good)), sorted(set(unknown)), problems


def compare_checkpoint(
    ws: Workspace, data: bytes, source: str, now: datetime, *, client: BoardClient | None = None
) -> Comparison:
    """Compare the checkpoint file ``data`` (named ``source``) with this workspace's view (the
    module's steps); ``client``: the board to ask for a consistency proof beyond the mirror."""
    note, theirs = read_checkpoint_file(data, source)
    text = open_note(note)[0]
    with ws.connect() as db:
        held = _held(ws, db, theirs.origin)
        try:
            verify_note(note, [held.board])
        except VerificationError as exc:
            raise VerificationError.because(
                Reason.CHECKPOINT_SIGNATURE_INVALID,
                f"{source}: not signed by the board key this workspace synced with ({held.board}): {exc.problems[0].detail}",
            ) from None
        cosigned_by, unknown, problems = _cosigners(note, text, held)
        tree = _mirror(db, held.origin)
        ours = held.checkpoint
        proof: list[bytes] = []
        consistent: bool | None
        if theirs.size <= tree.size:
            consistent = tree.root(theirs.size) == theirs.root
            if not consistent and 1 <= theirs.size < tree.size:
                proof = tree.consistency_proof(theirs.size)  # leads to this log's own root at their size
            detail = f"the mirror's first {theirs.size} entries hash to {'the same root' if consistent else 'another root'}"
        elif tree.size == 0:
            consistent, detail = True, "this workspace's checkpoint is of the empty log"
        elif client is None:
            consistent = None
            detail = (f"their checkpoint (size {theirs.size}) lies beyond this workspace's mirror (size {tree.size}): "
                      "run 'unveil sync' first, or give --board to ask for a consistency proof")
        else:
            proof = client.consistency_proof(tree.size, theirs.size)
            try:
                verify_consistency(tree.size, theirs.size, proof, tree.root(), theirs.root)
                consistent, detail = True, f"the board's consistency proof from size {tree.size} to {theirs.size} verifies"
            except VerificationError as exc:
                consistent, detail = False, f"the board's consistency proof from size {tree.size} to {theirs.size} fails: {exc.problems[0].detail}"
        reason = None
        if consistent is False:
            reason = Reason.FORK
            detail = f"the board signed two logs that cannot both be true: {detail}"
            with transaction(db):
                witness_db.ensure_tables(db)
                witness_db.add_evidence(
                    db, origin=held.origin, previous_note=_file_of(held), new_note=note, proof_b64=[b64encode(h) for h in proof],
                    reason=f"{Reason.FORK}: {source}: {detail}", recorded=format_time(now),
                )
        elif consistent is None:
            reason = Reason.MIRROR_BEHIND
        elif problems:
            reason = Reason.COSIGNATURE_INVALID
    return Comparison(held.origin, ours, theirs, consistent, reason, detail, cosigned_by, unknown, problems, evidence=consistent is False)
