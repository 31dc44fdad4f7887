"""The board's database (unveil.store.board_db) over SQLite and PostgreSQL: every
LogStorage method, durability across reopen, refused gaps and overwrites, atomic batches,
and the real board Log running on it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tests.board_fixtures import (
    CONTEXT,
    HOST,
    INSPECTOR,
    INSPECTOR_W,
    NOW,
    OBSERVER_W,
    R_HOST,
    R_INSPECTOR,
    commit,
    open_log,
    pg_execute,
    postgres_url,
    publish_with_phase,
    reveal_coin,
    selection,
    storage_url,  # noqa: F401  (the fixture)
    verification,
)
from unveil.board.log import Log, LogStorage
from unveil.core.notes import cosign, open_note
from unveil.core.selection import draw_seed
from unveil.errors import BoardRefused, MalformedInputError, VerificationError
from unveil.store import board_db
from unveil.store.board_db import BoardStorage, EntryIndexError, entries, open_storage


@pytest.fixture
def storage(storage_url: str) -> Iterator[BoardStorage]:  # noqa: F811
    store = open_storage(storage_url)
    try:
        yield store
    finally:
        store.close()


def snapshot(store: BoardStorage) -> tuple[object, ...]:
    return (
        list(store.load_entries()),
        store.load_checkpoints(),
        store.latest_checkpoint(),
        {size: store.cosignatures(size) for size, _ in store.load_checkpoints()},
    )


def test_it_is_a_log_storage(storage: BoardStorage) -> None:
    for name in [n for n in vars(LogStorage) if not n.startswith("_")]:
        assert callable(getattr(storage, name)), name
    assert storage.dialect in ("sqlite", "postgresql")


def test_round_trip_of_every_method(storage: BoardStorage) -> None:
    assert list(storage.load_entries()) == []
    assert storage.read_entries(0, 0) == [] and storage.size() == 0
    assert storage.latest_checkpoint() is None and storage.load_checkpoints() == []
    assert storage.get_checkpoint(0) is None and storage.cosignatures(0) == []
    assert storage.get_bundle("a" * 64) is None

    blobs = [b"first", bytes(range(256)), b"\x00", b"{}" * 1000]
    storage.append_entries([])  # nothing to do
    storage.append_entries([(0, blobs[0]), (1, blobs[1])])
    storage.append_entries([(2, blobs[2]), (3, blobs[3])])
    assert list(storage.load_entries()) == list(enumerate(blobs))
    assert storage.read_entries(1, 3) == blobs[1:3] and storage.read_entries(0, 4) == blobs
    assert storage.read_entries(2, 2) == [] and storage.size() == 4
    assert all(type(b) is bytes for b in storage.read_entries(0, 4))

    storage.put_bundle("b" * 64, b"bundle\x00bytes")
    storage.put_bundle("b" * 64, b"bundle\x00bytes")  # a repeat is a no-op
    assert storage.get_bundle("b" * 64) == b"bundle\x00bytes"
    storage.put_bundle("b" * 64, b"other")  # like MemoryStorage: the last bytes stored win
    assert storage.get_bundle("b" * 64) == b"other"

    storage.save_checkpoint(4, "note four\n")
    storage.save_checkpoint(2, "note two\n")
    storage.save_checkpoint(4, "note four\n")  # a repeat (Log.open re-signs after a crash)
    assert storage.get_checkpoint(4) == "note four\n" and storage.get_checkpoint(3) is None
    assert storage.latest_checkpoint() == (4, "note four\n")
    assert storage.load_checkpoints() == [(2, "note two\n"), (4, "note four\n")]
    storage.save_checkpoint(2, "note two, re-signed\n")  # upsert
    assert storage.get_checkpoint(2) == "note two, re-signed\n"

    storage.add_cosignature(4, "Observer", "\u2014 Observer old\n")
    storage.add_cosignature(4, "Inspector", "\u2014 Inspector line\n")
    storage.add_cosignature(4, "Observer", "\u2014 Observer new\n")  # replaces that witness's line
    storage.add_cosignature(2, "Observer", "\u2014 Observer on two\n")
    assert storage.cosignatures(4) == ["\u2014 Inspector line\n", "\u2014 Observer new\n"]
    assert storage.cosignatures(2) == ["\u2014 Observer on two\n"] and storage.cosignatures(3) == []
    storage.add_cosignature(2, "Host", "\u2014 Host on two\n")
    assert storage.latest_cosignatures() == [  # each witness's largest size, by name (GET /checkpoints/cosigned)
        ("Host", 2, "note two, re-signed\n", "\u2014 Host on two\n"), ("Inspector", 4, "note four\n", "\u2014 Inspector line\n"),
        ("Observer", 4, "note four\n", "\u2014 Observer new\n")]


def test_everything_survives_reopening(storage_url: str) -> None:  # noqa: F811
    with open_storage(storage_url) as store:
        store.append_entries([(i, f"entry {i}".encode()) for i in range(3)])
        store.put_bundle("d" * 64, b"a reveal file")
        store.save_checkpoint(3, "note\n")
        store.add_cosignature(3, "Inspector", "line\n")
        before = snapshot(store)
    for create in (True, False):
        with open_storage(storage_url, create=create) as again:
            assert snapshot(again) == before
            assert again.get_bundle("d" * 64) == b"a reveal file"


def test_gap_and_overwrite_are_refused(storage: BoardStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    storage.append_entries([(0, b"a"), (1, b"b")])
    before = snapshot(storage)
    for rows in ([(3, b"gap")], [(1, b"overwrite")], [(0, b"overwrite"), (1, b"x")], [(2, b"c"), (4, b"skip")], [(2, b"c"), (2, b"c")]):
        with pytest.raises(EntryIndexError):
            storage.append_entries(rows)
        assert snapshot(storage) == before
    # Without the check (a concurrent writer read the same size), the primary key refuses.
    hot = storage._hot_sql()
    monkeypatch.setattr(storage, "_hot", ("SELECT 1", *hot[1:]))
    with pytest.raises(IntegrityError):
        storage.append_entries([(1, b"overwrite"), (2, b"c")])
    monkeypatch.undo()
    assert storage._hot_sql() == hot
    assert snapshot(storage) == before
    storage.append_entries([(2, b"c")])
    assert storage.read_entries(0, 3) == [b"a", b"b", b"c"]


def test_a_failed_transaction_keeps_nothing(storage: BoardStorage) -> None:
    storage.append_entries([(0, b"a")])
    with pytest.raises(SQLAlchemyError):  # NOT NULL fails on the last row: the first is not kept
        storage.append_entries([(1, b"b"), (2, None)])  # type: ignore[list-item]
    assert list(storage.load_entries()) == [(0, b"a")] and storage.size() == 1
    storage.append_entries([(1, b"b")])
    assert storage.size() == 2


def test_a_thousand_entries_in_batches_stream_back_in_order(storage: BoardStorage) -> None:
    rows = [(i, f"entry {i:04d} ".encode() * 8) for i in range(1000)]
    started = time.perf_counter()
    for start in range(0, 1000, 50):
        storage.append_entries(rows[start:start + 50])
        storage.save_checkpoint(start + 50, f"note {start + 50}\n")
    elapsed = time.perf_counter() - started
    if storage.dialect == "sqlite":
        assert elapsed < 1.0, f"{elapsed:.2f} s for 1000 entries in 20 batches"
    assert 1000 > board_db.PAGE  # several pages
    assert list(storage.load_entries()) == rows
    assert storage.read_entries(480, 520) == [entry for _, entry in rows[480:520]]
    assert storage.latest_checkpoint() == (1000, "note 1000\n")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/board",
        "board.db",
        "file:///tmp/board.db",
        "postgresql+asyncpg://postgres@127.0.0.1/test",
        "postgresql://postgres@127.0.0.1/test?schema=bad-name",
        "postgresql://postgres@127.0.0.1/test?schema=a;DROP",
        "sqlite:///tmp/board.db?mode=ro",
        "sqlite:////no/such/directory/board.db",
    ],
)
def test_unusable_urls_are_malformed_input_naming_db(url: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        open_storage(url)
    assert info.value.source == "--db" and str(info.value).startswith("--db: ")


def test_create_false_refuses_a_missing_or_empty_database(tmp_path: Path, storage_url: str) -> None:  # noqa: F811
    with pytest.raises(MalformedInputError, match="--db"):
        open_storage(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()
    if storage_url.startswith("postgresql"):
        with pytest.raises(MalformedInputError, match="missing tables"):
            open_storage(storage_url, create=False)  # the fresh schema does not exist yet
        open_storage(storage_url).close()
        open_storage(storage_url, create=False).close()


def test_postgresql_schema_isolates_boards() -> None:
    base = postgres_url()
    names = ["unveil_test_" + secrets.token_hex(6) for _ in range(2)]
    urls = [f"{base}{'&' if '?' in base else '?'}schema={name}" for name in names]
    try:
        with open_storage(urls[0]) as one, open_storage(urls[1]) as other:
            one.append_entries([(0, b"in the first schema")])
            assert list(other.load_entries()) == [] and other.size() == 0
            other.append_entries([(0, b"in the second schema")])
            assert one.read_entries(0, 1) == [b"in the first schema"]
        with open_storage(base.replace("postgresql://", "postgresql+psycopg://", 1) + ("&" if "?" in base else "?") + f"schema={names[1]}") as again:
            assert again.read_entries(0, 1) == [b"in the second schema"]
    finally:
        for name in names:
            pg_execute(base, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


# --- the board Log over the database ---------------------------------------------------------


def _busy(log: Log) -> None:
    publish_with_phase(log)
    results = log.submit_many([commit(INSPECTOR, R_INSPECTOR), commit(HOST, R_HOST), verification(1)])
    assert not any(isinstance(r, BoardRefused) for r in results)
    log.submit(reveal_coin(HOST, R_HOST))
    log.submit(reveal_coin(INSPECTOR, R_INSPECTOR))
    log.submit(selection(draw_seed(CONTEXT, {HOST.vkey: R_HOST, INSPECTOR.vkey: R_INSPECTOR})))
    body = open_note(log.checkpoint())[0]
    log.add_cosignature(body, cosign(body, OBSERVER_W, NOW))
    log.add_cosignature(body, cosign(body, INSPECTOR_W, NOW))


def test_log_over_the_database_reopens_with_the_same_root_and_checkpoint(storage_url: str) -> None:  # noqa: F811
    with open_storage(storage_url) as store:
        log = open_log(store)
        _busy(log)
        size, root, note = log.size, log.root(), log.checkpoint()
        assert size == 8 and note.count("\u2014 ") == 3  # the board and two witnesses
        assert log.audit().ok
        assert log.submit(verification(1)).created is False  # an identical repeat
    with open_storage(storage_url, create=False) as store:
        again = open_log(store)
        assert (again.size, again.root(), again.checkpoint()) == (size, root, note)
        assert again.audit().ok, again.audit().problems
        assert again.submit(verification(1)).created is False
        with pytest.raises(BoardRefused) as info:
            again.submit(commit(HOST, R_INSPECTOR))
        assert info.value.reason == "coin-repeat"
        assert again.submit(verification(2)).index == 8
        assert again.entries(0, 9) == store.read_entries(0, 9)


def test_truncated_storage_is_detected(storage_url: str) -> None:  # noqa: F811
    with open_storage(storage_url) as store:
        log = open_log(store)
        _busy(log)
        with store._write() as conn:  # delete the last entry behind the log's back
            conn.execute(entries.delete().where(entries.c.idx == log.size - 1))
        report = log.audit()
        assert not report.ok and "checkpoint-beyond-log" in {p.reason for p in report.problems}
        with pytest.raises(VerificationError) as info:
            open_log(store)
        assert "checkpoint-beyond-log" in info.value.reasons


def test_a_refused_append_makes_the_log_rebuild_from_storage(storage_url: str) -> None:  # noqa: F811
    with open_storage(storage_url) as store:
        first = open_log(store)
        publish_with_phase(first)
        second = open_log(store)  # a second writer: it thinks the log has 2 entries
        assert first.submit(verification(1)).index == 2
        with pytest.raises(EntryIndexError):
            second.submit(verification(2))
        assert second.size == 3 and second.root() == first.root()  # rebuilt: it sees entry 2
        assert second.submit(verification(2)).index == 3
        assert open_log(store).audit().ok


def test_entries_and_their_checkpoint_commit_together(storage_url: str) -> None:  # noqa: F811  (the imported fixture)
    """append_entries(rows, checkpoint=…) keeps both or neither (one transaction)."""
    from unveil.store.board_db import EntryIndexError, open_storage

    storage = open_storage(storage_url)
    try:
        storage.append_entries([(0, b"a"), (1, b"b")], checkpoint=(2, "note for 2\n"))
        assert storage.size() == 2 and storage.get_checkpoint(2) == "note for 2\n"
        with pytest.raises(EntryIndexError):
            storage.append_entries([(5, b"gap")], checkpoint=(6, "note for 6\n"))
        assert storage.size() == 2 and storage.get_checkpoint(6) is None
    finally:
        storage.close()
