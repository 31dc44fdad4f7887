"""A witness's tables in a workspace database (SQLite): its last cosigned checkpoint per board
(with its own cosignature line and the board key it checked), the evidence it kept when it
refused one or found a fork, its mirror of each board's log, and what each quorum member had
cosigned when it last synced (spec §7).

Added to a workspace database on first use with ``CREATE TABLE IF NOT EXISTS`` and, for the
columns added since, ``ALTER TABLE`` (:func:`ensure_tables`); every function writes inside the
caller's transaction (:func:`unveil.store.workspace_db.transaction`) and never commits itself.
Readers that may run before any sync ask :func:`has_tables` first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from unveil.errors import MalformedInputError

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
);
CREATE TABLE IF NOT EXISTS board_quorum (
    origin TEXT NOT NULL, witness TEXT NOT NULL, vkey TEXT NOT NULL, size INTEGER NOT NULL, note TEXT,
    PRIMARY KEY (origin, witness)
)
"""
ADDED_COLUMNS = (("witness_state", "line", "TEXT"), ("witness_state", "board_vkey", "TEXT"))
"""Columns added to tables of earlier workspaces: the witness's own cosignature line, and the
board key it checked the checkpoint with."""


def ensure_tables(db: sqlite3.Connection) -> None:
    """Create the witness and mirror tables if absent (inside the caller's transaction)."""
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    for table, column, kind in ADDED_COLUMNS:
        if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def has_tables(db: sqlite3.Connection) -> bool:
    """Whether this database has the witness's tables as :func:`ensure_tables` leaves them."""
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"witness_state", "witness_evidence", "board_entries", "board_quorum"} <= names:
        return False
    columns = {row[1] for row in db.execute("PRAGMA table_info(witness_state)")}
    return all(column in columns for _, column, _ in ADDED_COLUMNS)


def last_cosigned(db: sqlite3.Connection, origin: str) -> tuple[int, bytes, str, str | None, str | None] | None:
    """``(size, root, note, line, board_vkey)`` of the last checkpoint of ``origin`` cosigned
    here (``line``: this witness's cosignature on it), or ``None``."""
    row = db.execute("SELECT size, root, note, line, board_vkey FROM witness_state WHERE origin = ?", (origin,)).fetchone()
    return None if row is None else (int(row[0]), bytes.fromhex(row[1]), row[2], row[3], row[4])


def save_cosigned(
    db: sqlite3.Connection, origin: str, size: int, root: bytes, note: str, line: str | None, board_vkey: str | None
) -> None:
    """Remember the checkpoint of ``origin`` just cosigned (replacing the previous one)."""
    db.execute(
        "INSERT INTO witness_state (origin, size, root, note, line, board_vkey) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note,"
        " line = excluded.line, board_vkey = excluded.board_vkey",
        (origin, size, root.hex(), note, line, board_vkey),
    )


def cosigned_origins(db: sqlite3.Connection) -> list[str]:
    """Every board origin this workspace has cosigned a checkpoint of, sorted."""
    return [row[0] for row in db.execute("SELECT origin FROM witness_state ORDER BY origin")]


def save_quorum(db: sqlite3.Connection, origin: str, rows: Sequence[tuple[str, str, int, str | None]]) -> None:
    """Replace what each quorum member of ``origin`` had cosigned: ``(witness, witness vkey,
    size, note proving it or None)``."""
    db.execute("DELETE FROM board_quorum WHERE origin = ?", (origin,))
    db.executemany(
        "INSERT INTO board_quorum (origin, witness, vkey, size, note) VALUES (?, ?, ?, ?, ?)",
        [(origin, *row) for row in rows],
    )


def quorum(db: sqlite3.Connection, origin: str) -> list[tuple[str, str, int, str | None]]:
    """``(witness, witness vkey, size, note)`` of each quorum member of ``origin`` as last saved."""
    query = "SELECT witness, vkey, size, note FROM board_quorum WHERE origin = ? ORDER BY witness"
    return [(w, v, int(size), note) for w, v, size, note in db.execute(query, (origin,))]


def add_evidence(
    db: sqlite3.Connection, *, origin: str | None, previous_note: str | None, new_note: str,
    proof_b64: Sequence[str], reason: str, recorded: str,
) -> None:
    """Keep a refused checkpoint with the last cosigned one and the proof, as evidence."""
    db.execute(
        "INSERT INTO witness_evidence (origin, previous_note, new_note, proof_json, reason, recorded) VALUES (?, ?, ?, ?, ?, ?)",
        (origin, previous_note, new_note, json.dumps(list(proof_b64)), reason, recorded),
    )


def evidence(db: sqlite3.Connection, origin: str | None = None) -> list[dict[str, object]]:
    """Every evidence row (of ``origin``, or all), oldest first."""
    query = "SELECT id, origin, previous_note, new_note, proof_json, reason, recorded FROM witness_evidence"
    rows = db.execute(query + (" WHERE origin = ?" if origin else "") + " ORDER BY id", (origin,) if origin else ()).fetchall()
    names = ("id", "origin", "previous_note", "new_note", "proof_json", "reason", "recorded")
    return [dict(zip(names, row, strict=True)) for row in rows]


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
