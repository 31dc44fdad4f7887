"""The board's database: a :class:`~unveil.board.log.LogStorage` over SQLite or PostgreSQL.

:func:`open_storage` takes the ``--db`` URL:

- ``sqlite:///PATH`` (``sqlite:////abs/path`` for an absolute path; ``sqlite://`` is an
  in-memory database, for tests). Every connection runs ``PRAGMA journal_mode=WAL``,
  ``synchronous=FULL`` and a busy timeout (a SQLAlchemy ``connect`` event); writes take the
  lock up front (``BEGIN IMMEDIATE``).
- ``postgresql://USER@HOST[:PORT]/DB`` (or ``postgresql+psycopg://…``; psycopg 3 either way).
  ``?schema=NAME`` keeps the tables in schema ``NAME`` (created when ``create``), so several
  boards or test runs can share a database.

Tables (SQLAlchemy Core): ``entries(idx, entry)``, ``bundles(sha256, uploaded, data)``,
``checkpoints(size, note)``, ``cosignatures(size, witness, line)``. ``bundles.uploaded`` is the
upload's unix time (:meth:`BoardStorage.purge_bundles` deletes by it); a database made before
it existed gets the column on opening with ``create`` (0 for the files it holds: unreferenced
ones are purged at the first purge).

Durability: :meth:`BoardStorage.append_entries` is one transaction, committed before it
returns (SQLite: WAL with ``synchronous=FULL``; PostgreSQL: its default
``synchronous_commit=on``), so an entry the board acknowledged survives ``kill -9``. A batch
whose first index is not the current size (a gap, or an overwrite) is refused with
:class:`EntryIndexError` before anything is written; the primary key on ``idx`` refuses a
concurrent writer's overwrite (``sqlalchemy.exc.IntegrityError``). Either way nothing of the
batch is kept, and :class:`~unveil.board.log.Log` rebuilds from storage.

It is one module, past 400 lines, because every statement on the board's tables lives here
(SQL lives only in ``store``), with the two engines' set-up that those statements rely on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from unveil.errors import MalformedInputError

__all__ = ["BoardStorage", "EntryIndexError", "open_storage"]

SOURCE = "--db"
BUSY_TIMEOUT_MS = 30_000
PAGE = 500  # entries per query when streaming the log

metadata = MetaData()

entries = Table(
    "entries", metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
)
bundles = Table(
    "bundles", metadata,
    Column("sha256", Text, primary_key=True),
    Column("uploaded", BigInteger, nullable=False, server_default="0"),  # before data: SQLite reads it without the blob
    Column("data", LargeBinary, nullable=False),
)
checkpoints = Table(
    "checkpoints", metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)
cosignatures = Table(
    "cosignatures", metadata,
    Column("size", BigInteger, nullable=False),
    Column("witness", Text, nullable=False),
    Column("line", Text, nullable=False),
    PrimaryKeyConstraint("size", "witness"),
)
TABLES = (entries, bundles, checkpoints, cosignatures)

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


class EntryIndexError(ValueError):
    """A batch of entries that does not continue the log (a gap or an overwrite)."""


class BoardStorage:
    """:class:`~unveil.board.log.LogStorage` over a SQLAlchemy engine. Build with
    :func:`open_storage`; thread-safe (each call checks out its own connection)."""

    def __init__(self, engine: Engine, *, description: str):
        """Internal: use :func:`open_storage`."""
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._insert = sqlite_dialect.insert if self._sqlite else pg_dialect.insert
        # An in-memory SQLite database is one shared connection: serialise its users.
        self._lock: threading.RLock | None = threading.RLock() if isinstance(engine.pool, StaticPool) else None
        self.description = description  # the URL without its password
        self._hot: tuple[str, str, str] | None = None

    def __repr__(self) -> str:
        return f"BoardStorage({self.description!r})"

    def __enter__(self) -> BoardStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection (the storage is unusable afterwards)."""
        self._engine.dispose()

    # --- connections ---------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._lock or nullcontext(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction, committed on a normal exit (durable when this returns) and
        rolled back on any exception."""
        with self._lock or nullcontext(), self._engine.connect() as conn:
            conn.execution_options(unveil_write=True)  # SQLite: BEGIN IMMEDIATE
            with conn.begin():
                yield conn

    # --- entries -------------------------------------------------------------------------

    def load_entries(self) -> Iterator[tuple[int, bytes]]:
        """Every entry in index order, fetched a page at a time (no connection is held
        between pages)."""
        after = -1
        while True:
            with self._read() as conn:
                page = conn.execute(
                    select(entries.c.idx, entries.c.entry).where(entries.c.idx > after).order_by(entries.c.idx).limit(PAGE)
                ).all()
            for idx, entry in page:
                yield int(idx), bytes(entry)
            if len(page) < PAGE:
                return
            after = int(page[-1][0])

    def read_entries(self, start: int, end: int, max_bytes: int | None = None) -> list[bytes]:
        """Entries ``start .. end-1``; with ``max_bytes``, the first ones whose sizes add up to
        at most that (always the first): their sizes are read first, so no more is fetched."""
        if end <= start:
            return []
        with self._read() as conn:
            if max_bytes is not None:
                sizes = conn.execute(
                    select(func.length(entries.c.entry)).where(entries.c.idx >= start, entries.c.idx < end).order_by(entries.c.idx)
                ).scalars().all()
                total, count = 0, 0
                for size in sizes:
                    total += int(size)
                    if total > max_bytes and count:
                        break
                    count += 1
                end = start + count
            rows = conn.execute(
                select(entries.c.entry).where(entries.c.idx >= start, entries.c.idx < end).order_by(entries.c.idx)
            ).scalars().all()
        return [bytes(entry) for entry in rows]

    def size(self) -> int:
        """The number of entries (the next index), from the primary-key index."""
        with self._read() as conn:
            return self._next_index(conn)

    @staticmethod
    def _next_index(conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(entries.c.idx), -1) + 1)).scalar_one())

    def append_entries(self, rows: Sequence[tuple[int, bytes]], checkpoint: tuple[int, str] | None = None) -> None:
        """The board's hot path, so in the driver's own SQL (:meth:`_hot_sql`): one statement
        to read the size, one ``executemany`` of the rows, one checkpoint upsert, one commit."""
        if not rows:
            if checkpoint is not None:
                self.save_checkpoint(*checkpoint)
            return
        first = rows[0][0]
        for offset, (index, _) in enumerate(rows):
            if index != first + offset:
                raise EntryIndexError(f"row index {index} does not follow row index {first + offset - 1}")
        next_index, insert_entries, upsert_checkpoint = self._hot_sql()
        with self._write() as conn:
            size = int(conn.exec_driver_sql(next_index).scalar_one())
            if first != size:
                raise EntryIndexError(f"row index {first} does not follow the log (size {size})")
            conn.exec_driver_sql(insert_entries, [(index, entry) for index, entry in rows])
            if checkpoint is not None:
                conn.exec_driver_sql(upsert_checkpoint, checkpoint)

    def _hot_sql(self) -> tuple[str, str, str]:
        """SQL text for :meth:`append_entries`, rendered once: SQLAlchemy's per-statement
        compile-cache lookup cost more than the SQLite work of a batch. Placeholders are the
        driver's own (``?`` for sqlite3, ``%s`` for psycopg), tables schema-qualified as
        ``schema_translate_map`` would (``exec_driver_sql`` bypasses it)."""
        if self._hot is None:
            mark = "?" if self._sqlite else "%s"
            schema = _schema_of(self._engine)
            prefix = "" if schema is None else f'"{schema}".'  # a checked plain identifier (_SCHEMA_NAME)
            self._hot = (
                f"SELECT COALESCE(MAX(idx), -1) + 1 FROM {prefix}entries",
                f"INSERT INTO {prefix}entries (idx, entry) VALUES ({mark}, {mark})",
                f"INSERT INTO {prefix}checkpoints (size, note) VALUES ({mark}, {mark}) "
                "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
            )
        return self._hot

    # --- bundles -------------------------------------------------------------------------

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        with self._read() as conn:
            data = conn.execute(select(bundles.c.data).where(bundles.c.sha256 == sha256_hex)).scalar_one_or_none()
        return None if data is None else bytes(data)

    def has_bundle(self, sha256_hex: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(bundles.c.uploaded).where(bundles.c.sha256 == sha256_hex)).first() is not None

    def put_bundle(self, sha256_hex: str, data: bytes, uploaded: int = 0) -> bool:
        """Store a reveal file unless one is held under ``sha256_hex`` (then nothing is written:
        its upload time stays); True if it was stored."""
        insert = self._insert(bundles).values(sha256=sha256_hex, uploaded=uploaded, data=data)
        statement = insert.on_conflict_do_nothing(index_elements=[bundles.c.sha256]).returning(bundles.c.sha256)
        with self._write() as conn:
            return conn.execute(statement).first() is not None  # RETURNING: psycopg's rowcount here is -1

    def purge_bundles(self, before: int, keep: Collection[str]) -> int:
        """Delete the reveal files uploaded before ``before`` (unix time) that are not in
        ``keep``; return how many. One transaction."""
        with self._write() as conn:
            doomed = [sha for (sha,) in conn.execute(select(bundles.c.sha256).where(bundles.c.uploaded < before)) if sha not in keep]
            for at in range(0, len(doomed), PAGE):
                conn.execute(delete(bundles).where(bundles.c.sha256.in_(doomed[at : at + PAGE])))
        return len(doomed)

    # --- checkpoints and cosignatures ----------------------------------------------------

    def _checkpoint_upsert(self, size: int, note: str) -> Any:
        statement = self._insert(checkpoints).values(size=size, note=note)
        return statement.on_conflict_do_update(index_elements=[checkpoints.c.size], set_={"note": statement.excluded.note})

    def save_checkpoint(self, size: int, note: str) -> None:
        with self._write() as conn:
            conn.execute(self._checkpoint_upsert(size, note))

    def get_checkpoint(self, size: int) -> str | None:
        with self._read() as conn:
            return conn.execute(select(checkpoints.c.note).where(checkpoints.c.size == size)).scalar_one_or_none()

    def latest_checkpoint(self) -> tuple[int, str] | None:
        with self._read() as conn:
            row = conn.execute(
                select(checkpoints.c.size, checkpoints.c.note).order_by(checkpoints.c.size.desc()).limit(1)
            ).first()
        return None if row is None else (int(row[0]), row[1])

    def load_checkpoints(self) -> list[tuple[int, str]]:
        with self._read() as conn:
            rows = conn.execute(select(checkpoints.c.size, checkpoints.c.note).order_by(checkpoints.c.size)).all()
        return [(int(size), note) for size, note in rows]

    def add_cosignature(self, size: int, witness: str, line: str) -> None:
        statement = self._insert(cosignatures).values(size=size, witness=witness, line=line)
        statement = statement.on_conflict_do_update(
            index_elements=[cosignatures.c.size, cosignatures.c.witness], set_={"line": statement.excluded.line}
        )
        with self._write() as conn:
            conn.execute(statement)

    def cosignatures(self, size: int) -> list[str]:
        """The lines on the checkpoint of ``size``, one per witness, ordered by witness name."""
        with self._read() as conn:
            return list(
                conn.execute(
                    select(cosignatures.c.line).where(cosignatures.c.size == size).order_by(cosignatures.c.witness)
                ).scalars()
            )

    def latest_cosignatures(self) -> list[tuple[str, int, str, str]]:
        """``(witness, size, note, line)``: each witness's largest cosigned size, the board's
        note of that size and the witness's line on it, ordered by witness name."""
        largest = (
            select(cosignatures.c.witness, func.max(cosignatures.c.size).label("size"))
            .group_by(cosignatures.c.witness)
            .subquery()
        )
        query = (
            select(cosignatures.c.witness, cosignatures.c.size, checkpoints.c.note, cosignatures.c.line)
            .join(largest, (largest.c.witness == cosignatures.c.witness) & (largest.c.size == cosignatures.c.size))
            .join(checkpoints, checkpoints.c.size == cosignatures.c.size)
            .order_by(cosignatures.c.witness)
        )
        with self._read() as conn:
            return [(witness, int(size), note, line) for witness, size, note, line in conn.execute(query)]


# --- opening ---------------------------------------------------------------------------------


def open_storage(url: str, *, create: bool = True) -> BoardStorage:
    """Open the board database at ``url`` (see the module docstring).

    ``create``: create the tables (and the PostgreSQL ``schema``, the SQLite file) when
    absent; otherwise a database without the board's tables is refused. Raises
    :class:`MalformedInputError` (source ``--db``) for a URL this cannot use; connection
    failures propagate as SQLAlchemy errors.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise MalformedInputError(
            "not a database URL: use sqlite:///PATH or postgresql://USER@HOST/DB", source=SOURCE
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        engine = _sqlite_engine(parsed, create)
    elif backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        engine = _postgresql_engine(parsed, create)
    else:
        raise MalformedInputError(
            f"unsupported database {parsed.drivername!r}: use sqlite:///PATH or postgresql://USER@HOST/DB", source=SOURCE
        )
    description = parsed.render_as_string(hide_password=True)
    try:
        if create:
            with engine.connect() as conn:
                conn.execution_options(unveil_write=True)
                with conn.begin():
                    metadata.create_all(conn, checkfirst=True)
                    _add_upload_times(conn, _schema_of(engine))
        else:
            with engine.connect() as conn:
                missing = [t.name for t in TABLES if not inspect(conn).has_table(t.name, schema=_schema_of(engine))]
            if missing:
                raise MalformedInputError(f"{description} holds no board log (missing tables: {', '.join(missing)})", source=SOURCE)
    except BaseException:
        engine.dispose()
        raise
    return BoardStorage(engine, description=description)


def _add_upload_times(conn: Connection, schema: str | None) -> None:
    """Give a ``bundles`` table made before ``uploaded`` existed that column."""
    if "uploaded" in {column["name"] for column in inspect(conn).get_columns("bundles", schema=schema)}:
        return
    prefix = "" if schema is None else f'"{schema}".'  # a checked plain identifier (_SCHEMA_NAME)
    conn.exec_driver_sql(f"ALTER TABLE {prefix}bundles ADD COLUMN uploaded BIGINT NOT NULL DEFAULT 0")


def _schema_of(engine: Engine) -> str | None:
    translate = engine.get_execution_options().get("schema_translate_map") or {}
    return translate.get(None)


def _sqlite_engine(url: URL, create: bool) -> Engine:
    if set(url.query):
        raise MalformedInputError(f"a sqlite URL takes no options, not {', '.join(sorted(url.query))}", source=SOURCE)
    database = url.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(
            "sqlite+pysqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        path = Path(database)
        if not path.parent.is_dir():
            raise MalformedInputError(f"directory {path.parent} does not exist", source=SOURCE)
        if not create and not path.is_file():
            raise MalformedInputError(f"no board database at {path}", source=SOURCE)
        engine = create_engine(
            URL.create("sqlite+pysqlite", database=str(path)),
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the driver's hands: SQLAlchemy's "begin" event below
        # emits BEGIN itself (the pysqlite recipe), and PRAGMAs run outside any transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("unveil_write") else "BEGIN")

    return engine


def _postgresql_engine(url: URL, create: bool) -> Engine:
    query = dict(url.query)
    schema = query.pop("schema", None)
    if isinstance(schema, tuple):
        raise MalformedInputError("give ?schema= once", source=SOURCE)
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise MalformedInputError(f"schema {schema!r} is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)", source=SOURCE)
    url = url.set(drivername="postgresql+psycopg", query=query)
    engine = create_engine(url, pool_pre_ping=True)
    if schema is None:
        return engine
    if create:
        try:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        except BaseException:
            engine.dispose()
            raise
    return engine.execution_options(schema_translate_map={None: schema})
