"""A large escrow in the workspace database: ``cells.txt`` and ``leaves.bin`` written and read
as streams (SQLite incremental blob I/O), and the host's Merkle tree levels from a floor up, so
neither a commit nor a reveal holds a continental escrow's files in memory.

Writes happen inside the caller's transaction (:func:`unveil.store.workspace_db.transaction`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

_COPY_BYTES = 1 << 22
LEVELS_TABLE = """CREATE TABLE IF NOT EXISTS escrow_levels (
    escrow_id TEXT PRIMARY KEY REFERENCES escrows, floor INTEGER NOT NULL, hashes BLOB NOT NULL
)"""
"""The host's Merkle tree levels from ``floor`` up (a table added on first streamed commit)."""


def blob_limit(db: sqlite3.Connection) -> int:
    """The largest blob this SQLite stores (``SQLITE_LIMIT_LENGTH``, 1,000,000,000 bytes by default)."""
    return db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)


def _copy_into(db: sqlite3.Connection, rowid: int, column: str, source: BinaryIO) -> None:
    source.seek(0)
    with db.blobopen("escrows", column, rowid) as blob:
        while chunk := source.read(_COPY_BYTES):
            blob.write(chunk)


def insert_escrow_streamed(
    db: sqlite3.Connection, escrow_id: str, *, own: bool, escrow_json: bytes, cells_txt: BinaryIO, cells_size: int,
    leaves: BinaryIO | None, leaves_size: int, territory_geojson: bytes | None, coverage_checked: bool, recorded: str,
) -> None:
    """:func:`unveil.store.workspace_queries.insert_escrow` from open files (``leaves`` may be
    ``None``: not known), copied a few MiB at a time (incremental blob I/O), so memory does not
    grow with the escrow."""
    cursor = db.execute(
        "INSERT INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
        " VALUES (?, ?, ?, zeroblob(?), CASE WHEN ? THEN zeroblob(?) END, ?, ?, ?)",
        (escrow_id, int(own), escrow_json, cells_size, leaves is not None, leaves_size, territory_geojson, int(coverage_checked), recorded),
    )
    rowid = cursor.lastrowid
    assert rowid is not None
    _copy_into(db, rowid, "cells_txt", cells_txt)
    if leaves is not None:
        _copy_into(db, rowid, "leaves_bin", leaves)


def insert_levels(db: sqlite3.Connection, escrow_id: str, floor: int, hashes: bytes) -> None:
    db.execute(LEVELS_TABLE)
    db.execute("INSERT INTO escrow_levels (escrow_id, floor, hashes) VALUES (?, ?, ?)", (escrow_id, floor, hashes))


def levels(db: sqlite3.Connection, escrow_id: str) -> tuple[int, bytes] | None:
    """``(floor, hashes)`` kept for an escrow sealed here, or ``None`` (sealed before they were kept)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'escrow_levels'").fetchone() is None:
        return None
    row = db.execute("SELECT floor, hashes FROM escrow_levels WHERE escrow_id = ?", (escrow_id,)).fetchone()
    return None if row is None else (int(row[0]), bytes(row[1]))


@dataclass(frozen=True)
class SealedHead:
    """An escrow sealed here without its large blobs: read those with :func:`escrow_blobs`."""

    rowid: int
    escrow_json: bytes
    master_secret: bytes
    sealed_totals_json: str | None


def sealed_head(db: sqlite3.Connection, escrow_id: str) -> SealedHead | None:
    row = db.execute(
        "SELECT e.rowid, e.escrow_json, s.master_secret, s.sealed_totals_json"
        " FROM escrows e JOIN secrets s USING (escrow_id) WHERE escrow_id = ? AND e.own = 1", (escrow_id,)
    ).fetchone()
    return None if row is None else SealedHead(int(row[0]), bytes(row[1]), bytes(row[2]), row[3])


@contextmanager
def escrow_blobs(db: sqlite3.Connection, rowid: int) -> Iterator[tuple[sqlite3.Blob, sqlite3.Blob]]:
    """``cells.txt`` and ``leaves.bin`` of an escrow row, read-only, sliced as bytes are."""
    with db.blobopen("escrows", "cells_txt", rowid, readonly=True) as cells, \
            db.blobopen("escrows", "leaves_bin", rowid, readonly=True) as leaves:
        yield cells, leaves


def read(blob: sqlite3.Blob, lo: int, hi: int) -> bytes:
    """Bytes ``lo .. hi-1`` of an open blob."""
    blob.seek(lo)
    return blob.read(hi - lo)
