"""Named queries on a workspace database (:mod:`unveil.store.workspace_db`): the escrows, phases,
opened cells, verifications and pinned keys the host's and inspector's services read and write,
the inspector's suspects and inspection results, and a draw party's coins. The tables of the last
three are created on first use (``CREATE TABLE IF NOT EXISTS``).

Every function takes an open connection and writes inside the caller's transaction
(:func:`unveil.store.workspace_db.transaction`); none commits itself. Values are the stored
bytes and strings: parsing them is the services' business.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

# --- escrows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscrowRow:
    escrow_json: bytes
    cells_txt: bytes
    own: bool
    coverage_checked: bool


def escrow_ids(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT escrow_id FROM escrows ORDER BY escrow_id")]


def received_escrows(db: sqlite3.Connection) -> list[tuple[str, bytes]]:
    """``(escrow_id, escrow_json)`` of every escrow received (not sealed here), by id."""
    return [(eid, bytes(text)) for eid, text in db.execute("SELECT escrow_id, escrow_json FROM escrows WHERE own = 0 ORDER BY escrow_id")]


def escrow(db: sqlite3.Connection, escrow_id: str) -> EscrowRow | None:
    """The escrow recorded under ``escrow_id`` (sealed here or received), or ``None``."""
    row = db.execute("SELECT escrow_json, cells_txt, own, coverage_checked FROM escrows WHERE escrow_id = ?", (escrow_id,)).fetchone()
    return None if row is None else EscrowRow(bytes(row[0]), bytes(row[1]), bool(row[2]), bool(row[3]))


def escrow_exists(db: sqlite3.Connection, escrow_id: str) -> bool:
    return db.execute("SELECT 1 FROM escrows WHERE escrow_id = ?", (escrow_id,)).fetchone() is not None


def insert_escrow(
    db: sqlite3.Connection, escrow_id: str, *, own: bool, escrow_json: bytes, cells_txt: bytes, leaves: bytes | None,
    territory_geojson: bytes | None, coverage_checked: bool, recorded: str, if_absent: bool = False,
) -> None:
    """Record an escrow (``if_absent``: keep an existing row of that id unchanged)."""
    verb = "INSERT OR IGNORE" if if_absent else "INSERT"
    db.execute(
        f"{verb} INTO escrows (escrow_id, own, escrow_json, cells_txt, leaves_bin, territory_geojson, coverage_checked, recorded)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (escrow_id, int(own), escrow_json, cells_txt, leaves, territory_geojson, int(coverage_checked), recorded),
    )


def mark_coverage_checked(db: sqlite3.Connection, escrow_id: str, territory_geojson: bytes) -> None:
    db.execute("UPDATE escrows SET coverage_checked = 1, territory_geojson = ? WHERE escrow_id = ?", (territory_geojson, escrow_id))


# --- the host's secrets and contents -------------------------------------------------------


@dataclass(frozen=True)
class SealedRow:
    escrow_json: bytes
    cells_txt: bytes
    leaves: bytes
    master_secret: bytes
    sealed_totals_json: str | None


def insert_secret(db: sqlite3.Connection, escrow_id: str, master_secret: bytes, sealed_totals_json: str | None) -> None:
    db.execute("INSERT INTO secrets (escrow_id, master_secret, sealed_totals_json) VALUES (?, ?, ?)", (escrow_id, master_secret, sealed_totals_json))


def insert_contents(db: sqlite3.Connection, escrow_id: str, contents: Iterable[tuple[str, str]]) -> None:
    """``(cell, content_json)`` of every non-empty cell of an escrow sealed here."""
    db.executemany("INSERT INTO contents (escrow_id, cell, content_json) VALUES (?, ?, ?)", [(escrow_id, c, j) for c, j in contents])


def sealed(db: sqlite3.Connection, escrow_id: str) -> SealedRow | None:
    """An escrow sealed here with its master secret, or ``None``."""
    row = db.execute(
        "SELECT e.escrow_json, e.cells_txt, e.leaves_bin, s.master_secret, s.sealed_totals_json"
        " FROM escrows e JOIN secrets s USING (escrow_id) WHERE escrow_id = ? AND e.own = 1", (escrow_id,)
    ).fetchone()
    if row is None:
        return None
    leaves = row[2]
    if leaves is None:  # sealed with its tree kept: leaves.bin is in escrow_trees (unveil.store.escrow_blobs)
        kept = db.execute("SELECT leaves_bin FROM escrow_trees WHERE escrow_id = ?", (escrow_id,)).fetchone()
        leaves = b"" if kept is None else kept[0]
    return SealedRow(bytes(row[0]), bytes(row[1]), bytes(leaves), bytes(row[3]), row[4])


def sealed_totals_json(db: sqlite3.Connection, escrow_id: str) -> str | None:
    row = db.execute("SELECT sealed_totals_json FROM secrets WHERE escrow_id = ?", (escrow_id,)).fetchone()
    return None if row is None else row[0]


def contents(db: sqlite3.Connection, escrow_id: str) -> dict[str, str]:
    """``cell -> content_json`` of the non-empty cells of an escrow sealed here."""
    return dict(db.execute("SELECT cell, content_json FROM contents WHERE escrow_id = ?", (escrow_id,)).fetchall())


# --- phases and opened cells ---------------------------------------------------------------


@dataclass(frozen=True)
class PhaseRow:
    """One recorded reveal file: a whole phase (``part`` and ``parts`` 0), or one part of it
    (spec §5.1), with the first and last index it opens (``None`` when recorded before parts)."""

    phase: str
    openings: int
    sha256: str
    recorded: str
    part: int = 0
    parts: int = 0
    first_index: int | None = None
    last_index: int | None = None


_PHASE_COLUMNS = "phase, openings, sha256, recorded, part, parts, first_index, last_index"


def phase_bundle(db: sqlite3.Connection, escrow_id: str, phase: str, part: int = 0) -> tuple[bytes, str] | None:
    """``(bundle bytes, sha256)`` of a recorded phase (``part`` 0) or part of one, or ``None``."""
    row = db.execute("SELECT bundle_json, sha256 FROM phases WHERE escrow_id = ? AND phase = ? AND part = ?", (escrow_id, phase, part)).fetchone()
    return None if row is None else (bytes(row[0]), row[1])


def phase_files(db: sqlite3.Connection, escrow_id: str, phase: str) -> list[PhaseRow]:
    """Every recorded file of one phase: its one file, or its parts by part number."""
    return [PhaseRow(*row) for row in db.execute(
        f"SELECT {_PHASE_COLUMNS} FROM phases WHERE escrow_id = ? AND phase = ? ORDER BY part", (escrow_id, phase))]


def phases(db: sqlite3.Connection, escrow_id: str) -> list[PhaseRow]:
    """The recorded files of an escrow's phases (one a phase, or one a part), in the order they were recorded."""
    return [PhaseRow(*row) for row in db.execute(
        f"SELECT {_PHASE_COLUMNS} FROM phases WHERE escrow_id = ? ORDER BY recorded, rowid", (escrow_id,))]


def insert_phase(db: sqlite3.Connection, escrow_id: str, phase: str, bundle: bytes, sha256: str, openings: int, recorded: str,
                 *, if_absent: bool = False, part: int = 0, parts: int = 0, first_index: int | None = None,
                 last_index: int | None = None) -> None:
    verb = "INSERT OR IGNORE" if if_absent else "INSERT"
    db.execute(f"{verb} INTO phases (escrow_id, phase, bundle_json, sha256, openings, recorded, part, parts, first_index, last_index)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (escrow_id, phase, bundle, sha256, openings, recorded, part, parts, first_index, last_index))


def insert_opened(db: sqlite3.Connection, escrow_id: str, phase: str, opened: Iterable[tuple[int, str, str]]) -> None:
    """``(index, cell, content_json)`` of a phase's openings; a cell opened before keeps its first row."""
    db.executemany(
        "INSERT OR IGNORE INTO opened (escrow_id, cell_index, cell, phase, content_json) VALUES (?, ?, ?, ?, ?)",
        [(escrow_id, i, cell, phase, text) for i, cell, text in opened],
    )


def insert_opened_totals(db: sqlite3.Connection, escrow_id: str, totals_json: str, phase: str) -> None:
    db.execute("INSERT OR IGNORE INTO opened_totals (escrow_id, totals_json, phase) VALUES (?, ?, ?)", (escrow_id, totals_json, phase))


def opened_indices(db: sqlite3.Connection, escrow_id: str) -> set[int]:
    return {i for (i,) in db.execute("SELECT cell_index FROM opened WHERE escrow_id = ?", (escrow_id,))}


def opened_count(db: sqlite3.Connection, escrow_id: str) -> int:
    (count,) = db.execute("SELECT COUNT(*) FROM opened WHERE escrow_id = ?", (escrow_id,)).fetchone()
    return int(count)


def opened_contents(db: sqlite3.Connection, escrow_id: str) -> Iterator[str]:
    """The content_json of every opened cell of an escrow."""
    for (text,) in db.execute("SELECT content_json FROM opened WHERE escrow_id = ?", (escrow_id,)):
        yield text


def declaring_openings(db: sqlite3.Connection, escrow_id: str) -> Iterator[tuple[int, str, str]]:
    """``(index, phase, content_json)`` of every opened cell that declares a site or suspect
    (empty cells skipped in SQL), by index."""
    yield from db.execute(
        "SELECT cell_index, phase, content_json FROM opened WHERE escrow_id = ?"
        " AND (json_array_length(content_json, '$.sites') > 0 OR json_array_length(content_json, '$.suspects') > 0)"
        " ORDER BY cell_index", (escrow_id,))


def opened_rows(db: sqlite3.Connection, escrow_id: str) -> list[tuple[str, str, str]]:
    """``(cell, phase, content_json)`` of every opened cell of an escrow."""
    return db.execute("SELECT cell, phase, content_json FROM opened WHERE escrow_id = ?", (escrow_id,)).fetchall()


def opened_totals(db: sqlite3.Connection, escrow_id: str) -> list[str]:
    return [text for (text,) in db.execute("SELECT totals_json FROM opened_totals WHERE escrow_id = ?", (escrow_id,))]


def phase_names(db: sqlite3.Connection, escrow_id: str) -> list[str]:
    return [p for (p,) in db.execute("SELECT DISTINCT phase FROM phases WHERE escrow_id = ? ORDER BY phase", (escrow_id,))]


def cell_opened(db: sqlite3.Connection, escrow_id: str, cell: str) -> bool:
    return db.execute("SELECT 1 FROM opened WHERE escrow_id = ? AND cell = ?", (escrow_id, cell)).fetchone() is not None


def known_bundle(db: sqlite3.Connection, sha256: str) -> bool:
    """Whether a bundle with this SHA-256 was recorded as a phase or verified valid here."""
    return (db.execute("SELECT 1 FROM phases WHERE sha256 = ?", (sha256,)).fetchone() is not None
            or db.execute("SELECT 1 FROM verifications WHERE bundle_sha256 = ? AND status = 'valid'", (sha256,)).fetchone() is not None)


# --- verifications -------------------------------------------------------------------------


def insert_verification(db: sqlite3.Connection, escrow_id: str, phase: str, sha256: str, status: str, report_json: str, recorded: str) -> None:
    db.execute(
        "INSERT INTO verifications (escrow_id, phase, bundle_sha256, status, report_json, recorded) VALUES (?, ?, ?, ?, ?, ?)",
        (escrow_id, phase, sha256, status, report_json, recorded),
    )


def latest_verification(db: sqlite3.Connection, bundle_sha256: str) -> tuple[str, str, str, str] | None:
    """``(escrow_id, phase, status, report_json)`` of this workspace's latest verification of
    the reveal file whose SHA-256 is ``bundle_sha256``, or ``None``."""
    row = db.execute(
        "SELECT escrow_id, phase, status, report_json FROM verifications WHERE bundle_sha256 = ? ORDER BY id DESC LIMIT 1",
        (bundle_sha256,),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def verifications(db: sqlite3.Connection, escrow_id: str) -> list[tuple[str, str, str, str, str]]:
    """``(phase, bundle_sha256, status, report_json, recorded)`` of every verification of an
    escrow's reveal files in this workspace, oldest first (for ``unveil report``)."""
    return db.execute("SELECT phase, bundle_sha256, status, report_json, recorded FROM verifications WHERE escrow_id = ?"
                      " ORDER BY id", (escrow_id,)).fetchall()


# --- the inspector's suspects (a table added on first import) -----------------------------

SUSPECTS_TABLE = "CREATE TABLE IF NOT EXISTS suspects (id TEXT PRIMARY KEY, json TEXT NOT NULL, imported TEXT NOT NULL)"


def suspects_json(db: sqlite3.Connection) -> list[str]:
    """The imported suspects, as stored (none if nothing was ever imported)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'suspects'").fetchone() is None:
        return []
    return [text for (text,) in db.execute("SELECT json FROM suspects")]


def replace_suspects(db: sqlite3.Connection, rows: Iterable[tuple[str, str]], imported: str) -> None:
    """Make ``(id, json)`` rows the whole set of suspects (the table created if absent)."""
    db.execute(SUSPECTS_TABLE)
    db.execute("DELETE FROM suspects")
    db.executemany("INSERT INTO suspects (id, json, imported) VALUES (?, ?, ?)", [(i, j, imported) for i, j in rows])


# --- the inspector's inspection results (tables added on first report) --------------------

INSPECTIONS_TABLE = """CREATE TABLE IF NOT EXISTS inspections (
    escrow_id TEXT NOT NULL, phase TEXT NOT NULL, site TEXT NOT NULL, result TEXT NOT NULL,
    detail TEXT NOT NULL, recorded TEXT NOT NULL, PRIMARY KEY (escrow_id, phase, site)
)"""
SUSPECT_INSPECTIONS_TABLE = """CREATE TABLE IF NOT EXISTS suspect_inspections (
    escrow_id TEXT NOT NULL, phase TEXT NOT NULL, suspect TEXT NOT NULL, result TEXT NOT NULL,
    detection TEXT NOT NULL, PRIMARY KEY (escrow_id, phase, suspect)
)"""


def record_inspections(
    db: sqlite3.Connection, sites: Iterable[tuple[str, str, str, str, str]], suspects: Iterable[tuple[str, str, str, str, str]],
    recorded: str,
) -> None:
    """Store ``(escrow_id, phase, site, result, detail)`` and ``(escrow_id, phase, suspect,
    result, detection)`` rows (the tables created if absent); a site or suspect reported again
    for the same escrow and phase is replaced."""
    db.execute(INSPECTIONS_TABLE)
    db.execute(SUSPECT_INSPECTIONS_TABLE)
    db.executemany(
        "INSERT OR REPLACE INTO inspections (escrow_id, phase, site, result, detail, recorded) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row, recorded) for row in sites],
    )
    db.executemany(
        "INSERT OR REPLACE INTO suspect_inspections (escrow_id, phase, suspect, result, detection) VALUES (?, ?, ?, ?, ?)",
        list(suspects),
    )


def suspect_inspections(db: sqlite3.Connection, escrow_id: str) -> list[tuple[str, str, str, float]]:
    """``(phase, suspect, result, detection)`` of the suspects inspected in an escrow's phases
    (written by :func:`record_inspections`; none before its first report)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'suspect_inspections'").fetchone() is None:
        return []
    return db.execute("SELECT phase, suspect, result, detection FROM suspect_inspections WHERE escrow_id = ?"
                      " ORDER BY phase, suspect", (escrow_id,)).fetchall()


def site_inspections(db: sqlite3.Connection, escrow_id: str) -> list[tuple[str, str, str, str, str]]:
    """``(phase, site, result, detail, recorded)`` of the sites inspected in an escrow's phases
    (none before the first report)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'inspections'").fetchone() is None:
        return []
    return db.execute("SELECT phase, site, result, detail, recorded FROM inspections WHERE escrow_id = ?"
                      " ORDER BY recorded, phase, site", (escrow_id,)).fetchall()


# --- a draw party's coins (spec §8; a table added on first use) ---------------------------

COINS_TABLE = """CREATE TABLE IF NOT EXISTS coins (
    context TEXT PRIMARY KEY, r BLOB NOT NULL, committed_index INTEGER, revealed_index INTEGER
)"""


@dataclass(frozen=True)
class CoinRow:
    r: bytes
    committed_index: int | None
    revealed_index: int | None


def coin(db: sqlite3.Connection, context: str) -> CoinRow | None:
    """This workspace's coin in ``context`` (the table created if absent), or ``None``."""
    db.execute(COINS_TABLE)
    row = db.execute("SELECT r, committed_index, revealed_index FROM coins WHERE context = ?", (context,)).fetchone()
    return None if row is None else CoinRow(bytes(row[0]), row[1], row[2])


def insert_coin(db: sqlite3.Connection, context: str, r: bytes) -> None:
    db.execute("INSERT INTO coins (context, r) VALUES (?, ?)", (context, r))


def set_coin_committed(db: sqlite3.Connection, context: str, index: int) -> None:
    """Note the board entry of this workspace's ``coin.committed`` in ``context``."""
    db.execute("UPDATE coins SET committed_index = ? WHERE context = ?", (index, context))


def set_coin_revealed(db: sqlite3.Connection, context: str, index: int) -> None:
    """Note the board entry of this workspace's ``coin.revealed`` in ``context``."""
    db.execute("UPDATE coins SET revealed_index = ? WHERE context = ?", (index, context))


# --- pinned keys ---------------------------------------------------------------------------


def pinned_keys(db: sqlite3.Connection, escrow_id: str) -> list[str]:
    """The verifier keys pinned for the host of ``escrow_id`` (spec §6), in the order pinned."""
    return [k for (k,) in db.execute("SELECT vkey FROM pinned_keys WHERE escrow_id = ? ORDER BY rowid", (escrow_id,))]


def pin_keys(db: sqlite3.Connection, escrow_id: str, vkeys: Sequence[str], recorded: str) -> None:
    db.executemany("INSERT OR IGNORE INTO pinned_keys (escrow_id, vkey, recorded) VALUES (?, ?, ?)",
                   [(escrow_id, k, recorded) for k in vkeys])


# --- a board's mirror (written by unveil sync, unveil.store.witness_db) --------------------


def mirrored_entries_naming(db: sqlite3.Connection, needle: bytes) -> Iterator[tuple[str, int, bytes]]:
    """``(origin, index, entry)`` of every mirrored board entry whose bytes contain ``needle``
    (a cheap filter before parsing); nothing if this workspace never mirrored a board."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'board_entries'").fetchone() is None:
        return
    for origin, idx, entry in db.execute("SELECT origin, idx, entry FROM board_entries WHERE instr(entry, ?) > 0 ORDER BY origin, idx", (needle,)):
        yield origin, int(idx), bytes(entry)
