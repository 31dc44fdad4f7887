"""Creating and opening workspaces: a directory with ``workspace.db`` and ``keys/``.

Layout::

    WS/workspace.db          SQLite, mode 0600: escrows, phases, openings, verifications,
                             and for a host the per-escrow master secrets and contents
    WS/keys/statement.pem    Ed25519 statement key (type 0x01), mode 0600
    WS/keys/witness.pem      Ed25519 witness key (type 0x04), mode 0600

A workspace is created in a temporary sibling directory and renamed into place, so a failed
``init`` leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, key_name_problem
from unveil.errors import MalformedInputError
from unveil.store import workspace_db
from unveil.store.keystore import read_private, write_private

ROLES = ("host", "inspector", "observer", "board")
DB_NAME = "workspace.db"


@dataclass(frozen=True)
class Workspace:
    path: Path
    name: str
    role: str
    vkey: str
    witness_vkey: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "vkey": self.vkey, "witness_vkey": self.witness_vkey}

    @property
    def db_path(self) -> Path:
        return self.path / DB_NAME

    def statement_key(self) -> SigningKey:
        return read_private(self.path / "keys" / "statement.pem", self.name, STATEMENT_KEY)

    def witness_key(self) -> SigningKey:
        return read_private(self.path / "keys" / "witness.pem", self.name, WITNESS_KEY)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        connection = workspace_db.connect(self.db_path)
        try:
            yield connection
        finally:
            connection.close()

    def require_role(self, *roles: str) -> None:
        if self.role not in roles:
            raise MalformedInputError(
                f"this is a {self.role} workspace; the command needs a {' or '.join(roles)} workspace",
                source=str(self.path),
            )


def create(
    path: Path, role: str, name: str, *, random: Callable[[int], bytes] = os.urandom, passphrase: bytes | None = None
) -> Workspace:
    """A new workspace with fresh statement and witness keys (spec §6)."""
    if role not in ROLES:
        raise MalformedInputError(f"role {role!r} is not one of {', '.join(ROLES)}", where="--role")
    problem = key_name_problem(name)
    if problem:
        raise MalformedInputError(problem, where="--name")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise MalformedInputError("already exists and is not an empty directory", source=str(path))
    parent = path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    statement = SigningKey.generate(name, STATEMENT_KEY, random(32))
    witness = SigningKey.generate(name, WITNESS_KEY, random(32))
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    try:
        keys = staging / "keys"
        keys.mkdir(mode=0o700)
        write_private(keys / "statement.pem", statement, passphrase)
        write_private(keys / "witness.pem", witness, passphrase)
        db = staging / DB_NAME
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        workspace_db.create(db, {"name": name, "role": role, "vkey": statement.vkey, "witness_vkey": witness.vkey})
        if path.exists():
            path.rmdir()  # an empty directory the user made beforehand
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Workspace(path, name, role, statement.vkey, witness.vkey)


def open_workspace(path: Path) -> Workspace:
    """An existing workspace; MalformedInputError naming the path if it is not one."""
    db = path / DB_NAME
    if not db.is_file():
        raise MalformedInputError(f"not an unveil workspace (no {DB_NAME}); create one with 'unveil init'", source=str(path))
    try:
        meta = workspace_db.read_meta(db)
    except sqlite3.DatabaseError as exc:
        raise MalformedInputError(f"the workspace database cannot be read: {exc}", source=str(db)) from None
    if meta.get("schema_version") != str(workspace_db.SCHEMA_VERSION):
        raise MalformedInputError(f"workspace schema version {meta.get('schema_version')} is not supported", source=str(db))
    return Workspace(path, meta["name"], meta["role"], meta["vkey"], meta["witness_vkey"])
