"""A large escrow in the workspace database: ``cells.txt`` and ``leaves.bin`` written and read
as streams (SQLite incremental blob I/O), and the host's Merkle tree levels from a floor up, so
neither a commit nor a reveal holds a continental escrow's files in memory.

Writes happen inside the caller's transaction (:func:`unveil.store.workspace_db.transaction`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import BinaryIO

_COPY_BYTES = 1 << 20
TREE_TABLE = """CREATE TABLE IF NOT EXISTS escrow_trees (
    escrow_id TEXT PRIMARY KEY REFERENCES escrows, floor INTEGER NOT NULL, levels BLOB NOT NULL, leaves_bin BLOB NOT NULL
)"""
"""The host's ``leaves.bin`` and Merkle tree levels from ``floor`` up, for reveals (a table
added on the first streamed commit). Apart from the ``escrows`` row, which holds ``cells.txt``:
SQLite caps a row, not only a blob, at ``SQLITE_LIMIT_LENGTH`` (1,000,000,000 bytes by default),
so a row of 16 + 32 bytes a cell would stop near 20 million cells, one of 32.5 bytes a cell
stops near 30 million."""


def blob_limit(db: sqlite3.Connection) -> int:
    """The largest row this SQLite stores (``SQLITE_LIMIT_LENGTH``, 1,000,000,000 bytes by default)."""
    return db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)


def _copy_into(db: sqlite3.Connection, table: str, column: str, rowid: int, source: BinaryIO) -> None:
    source.seek(0)
    with db.blobopen(table, column, rowid) as blob:
        while chunk := source.read(_COPY_BYTES):
            blob.write(chunk)


def insert_escrow_streamed(
    db: sqlite3.Connection, escrow_id: str, *, own: bool, escrow_json: bytes, cells_txt: BinaryIO, cells_size: int,
    territory_geojson: bytes | None, coverage_checked: bool, recorded: str,
) -> None:
    """:func:`unveil.store.workspace_queries.insert_escrow` with ``cells.txt`` from an open file,
    copied a few MiB at a time (incremental blob I/O), so memory does not grow with the escrow;
    no ``leaves_bin`` (the host's goes to :func:`insert_tree`)."""
    cursor = db.execute(
        "INSERT INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
        " VALUES (?, ?, ?, zeroblob(?), NULL, ?, ?, ?)",
        (escrow_id, int(own), escrow_json, cells_size, territory_geojson, int(coverage_checked), recorded),
    )
    assert cursor.lastrowid is not None
    _copy_into(db, "escrows", "cells_txt", cursor.lastrowid, cells_txt)


def insert_tree(db: sqlite3.Connection, escrow_id: str, floor: int, levels: bytes, leaves: BinaryIO, leaves_size: int) -> None:
    """Keep an escrow's ``leaves.bin`` (from an open file, streamed) and its levels from ``floor`` up."""
    db.execute(TREE_TABLE)
    cursor = db.execute("INSERT INTO escrow_trees (escrow_id, floor, levels, leaves_bin) VALUES (?, ?, ?, zeroblob(?))",
                        (escrow_id, floor, levels, leaves_size))
    assert cursor.lastrowid is not None
    _copy_into(db, "escrow_trees", "leaves_bin", cursor.lastrowid, leaves)


@dataclass(frozen=True)
class Tree:
    """An escrow's kept levels; its leaves are read with :func:`escrow_blobs`."""

    rowid: int
    floor: int
    levels: bytes


def tree(db: sqlite3.Connection, escrow_id: str) -> Tree | None:
    """The tree kept for an escrow sealed here, or ``None`` (sealed before trees were kept)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'escrow_trees'").fetchone() is None:
        return None
    row = db.execute("SELECT rowid, floor, levels FROM escrow_trees WHERE escrow_id = ?", (escrow_id,)).fetchone()
    return None if row is None else Tree(int(row[0]), int(row[1]), bytes(row[2]))


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


def cells_blob(db: sqlite3.Connection, rowid: int) -> sqlite3.Blob:
    """``cells.txt`` of an escrow row, read-only (a context manager, sliced with :func:`read`)."""
    return db.blobopen("escrows", "cells_txt", rowid, readonly=True)


def leaves_blob(db: sqlite3.Connection, rowid: int, kept: Tree | None) -> sqlite3.Blob:
    """``leaves.bin`` of an escrow sealed here: from its kept tree, else from its row."""
    if kept is not None:
        return db.blobopen("escrow_trees", "leaves_bin", kept.rowid, readonly=True)
    return db.blobopen("escrows", "leaves_bin", rowid, readonly=True)


def read(blob: sqlite3.Blob, lo: int, hi: int) -> bytes:
    """Bytes ``lo .. hi-1`` of an open blob."""
    blob.seek(lo)
    return blob.read(hi - lo)
