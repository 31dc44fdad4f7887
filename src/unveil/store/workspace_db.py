"""The workspace database (SQLite): everything a party has committed, published, received
and checked. One transaction per command, so a failed or interrupted command leaves the
database exactly as it was.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 3

SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Escrows this party sealed (own = 1) or received and checked (own = 0).
CREATE TABLE escrows (
    escrow_id TEXT PRIMARY KEY,
    own INTEGER NOT NULL,
    escrow_json BLOB NOT NULL,          -- the exact bytes of escrow.json (signed statement)
    cells_txt BLOB NOT NULL,            -- the exact bytes of cells.txt
    leaves_bin BLOB,                    -- leaves.bin, when known
    territory_geojson BLOB,             -- the territory the cells were computed from (or checked against)
    coverage_checked INTEGER NOT NULL DEFAULT 0,
    recorded TEXT NOT NULL
);
-- The host's secrets: the per-escrow master secret never leaves this table except as salts.
CREATE TABLE secrets (
    escrow_id TEXT PRIMARY KEY REFERENCES escrows, master_secret BLOB NOT NULL,
    sealed_totals_json TEXT                -- the sealed totals, kept to open them later
);
-- The host's declared contents of non-empty cells (cells absent here are empty).
CREATE TABLE contents (
    escrow_id TEXT NOT NULL REFERENCES escrows, cell TEXT NOT NULL, content_json TEXT NOT NULL,
    PRIMARY KEY (escrow_id, cell)
);
-- Reveal bundles published (host) or verified valid (others), byte for byte.
CREATE TABLE phases (
    escrow_id TEXT NOT NULL REFERENCES escrows, phase TEXT NOT NULL, bundle_json BLOB NOT NULL,
    sha256 TEXT NOT NULL, openings INTEGER NOT NULL, recorded TEXT NOT NULL,
    PRIMARY KEY (escrow_id, phase)
);
-- Every opened cell with its content, as first opened (later re-openings are flagged, not stored twice).
CREATE TABLE opened (
    escrow_id TEXT NOT NULL REFERENCES escrows, cell_index INTEGER NOT NULL, cell TEXT NOT NULL,
    phase TEXT NOT NULL, content_json TEXT NOT NULL,
    PRIMARY KEY (escrow_id, cell_index)
);
-- Opened sealed totals, per escrow.
CREATE TABLE opened_totals (escrow_id TEXT PRIMARY KEY REFERENCES escrows, totals_json TEXT NOT NULL, phase TEXT NOT NULL);
-- Every verification this party ran, valid or not.
CREATE TABLE verifications (
    id INTEGER PRIMARY KEY, escrow_id TEXT NOT NULL, phase TEXT NOT NULL, bundle_sha256 TEXT NOT NULL,
    status TEXT NOT NULL, report_json TEXT NOT NULL, recorded TEXT NOT NULL
);
"""

MIGRATIONS: dict[int, str] = {
    # 1 -> 2: the host keys pinned for a received escrow (spec §6) by accept --trust or the first
    # verify --trust: from then on the workspace's trust for that escrow's host.
    2: """CREATE TABLE pinned_keys (
    escrow_id TEXT NOT NULL REFERENCES escrows, vkey TEXT NOT NULL, recorded TEXT NOT NULL,
    PRIMARY KEY (escrow_id, vkey)
)""",
    # 2 -> 3: a phase may be recorded in numbered parts (spec §5.1): one row per (phase, part),
    # part = parts = 0 for a phase in one file; the first and last opened index of each part.
    3: """CREATE TABLE phases_v3 (
    escrow_id TEXT NOT NULL REFERENCES escrows, phase TEXT NOT NULL,
    part INTEGER NOT NULL DEFAULT 0, parts INTEGER NOT NULL DEFAULT 0, bundle_json BLOB NOT NULL,
    sha256 TEXT NOT NULL, openings INTEGER NOT NULL, recorded TEXT NOT NULL,
    first_index INTEGER, last_index INTEGER,
    PRIMARY KEY (escrow_id, phase, part)
);
INSERT INTO phases_v3 (escrow_id, phase, bundle_json, sha256, openings, recorded)
    SELECT escrow_id, phase, bundle_json, sha256, openings, recorded FROM phases ORDER BY rowid;
DROP TABLE phases;
ALTER TABLE phases_v3 RENAME TO phases""",
}
"""The step that brings a database from version ``n - 1`` to ``n``; a new database gets
:data:`SCHEMA_V1` and every step (a step may hold several statements, ``;``-separated)."""


def _run_step(connection: sqlite3.Connection, step: int) -> None:
    for statement in MIGRATIONS[step].split(";"):
        if statement.strip():
            connection.execute(statement)


def connect(path: Path) -> sqlite3.Connection:
    """Open a workspace database (autocommit off: callers use :func:`transaction`)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA journal_mode = DELETE")  # a single private file: no -wal beside it
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def create(path: Path, meta: dict[str, str]) -> None:
    """A new database with the schema and ``meta`` rows."""
    connection = connect(path)
    try:
        with transaction(connection):
            for statement in SCHEMA_V1.split(";"):
                if statement.strip():
                    connection.execute(statement)
            for step in range(2, SCHEMA_VERSION + 1):
                _run_step(connection, step)
            rows = {**meta, "schema_version": str(SCHEMA_VERSION)}
            connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(rows.items()))
    finally:
        connection.close()


def read_meta(path: Path) -> dict[str, str]:
    """The ``meta`` rows of the database at ``path``, after bringing an older schema up to date
    (:func:`migrate`): a workspace made by an earlier version keeps working."""
    connection = connect(path)
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        version = meta.get("schema_version", "")
        if version.isdigit():
            meta["schema_version"] = str(migrate(connection, int(version)))
    finally:
        connection.close()
    return meta


def migrate(connection: sqlite3.Connection, version: int) -> int:
    """Bring a database of schema ``version`` up to :data:`SCHEMA_VERSION` in one transaction
    (each step of :data:`MIGRATIONS` in order); the version it is at afterwards. A database of an
    unknown (newer) version is left alone."""
    if not 1 <= version < SCHEMA_VERSION:
        return version
    with transaction(connection):
        (current,) = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if current != str(version):  # another process migrated it meanwhile
            return int(current)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            _run_step(connection, step)
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    return SCHEMA_VERSION


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls everything back."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")

