"""Bounded work for every input on the board (spec §7, §11): event times around the board's
clock, entries over 1 MiB, an envelope whose JCS form no reader takes back, pages over 8 MiB,
the purge of reveal files no entry names (with an injected clock), signed uploads only, and each
witness's largest cosigned checkpoint (``GET /checkpoints/cosigned``), over every storage."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from tests.board_fixtures import (
    BOARD,
    DECL,
    HOST,
    INSPECTOR,
    INSPECTOR_W,
    NOW,
    OBSERVER_W,
    ORIGIN,
    PARTIES,
    event,
    publish,
    publish_with_phase,
    verification,
)
from tests.test_api import BUNDLE, BUNDLE_SHA, reveal
from tests.test_board_core import IMPOSTOR_HOST, MALLORY_W, Escrowed, file_bytes
from unveil.api import board as board_module
from unveil.api.app import create_app
from unveil.board.audit import audit
from unveil.board.log import MAX_AGE, MAX_SKEW, Log, LogStorage, MemoryStorage
from unveil.board.protocol import ENTRY_MAX
from unveil.core.encoding import format_time
from unveil.core.jcs import canonicalize
from unveil.core.notes import cosign, open_note, verify_cosignature, verify_note
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused
from unveil.store.board_db import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

ACCEPTED = {"cells_sha256": DECL.signed["statement"]["grid"]["cells_sha256"], "root": DECL.signed["statement"]["root"]}


class Clock:
    """An injected board clock (unix seconds)."""

    def __init__(self, now: int = NOW):
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStorage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    if request.param == "sqlite":
        with open_storage(f"sqlite:///{tmp_path / 'board.db'}") as store:
            yield store
        return
    import secrets

    from tests.board_fixtures import pg_execute, postgres_url

    base = postgres_url()
    schema = "unveil_limits_" + secrets.token_hex(6)
    try:
        with open_storage(f"{base}{'&' if '?' in base else '?'}schema={schema}") as store:
            yield store
    finally:
        pg_execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def open_log(storage: LogStorage, clock: Clock) -> Log:
    return Log.open(storage, ORIGIN, BOARD, PARTIES, clock)


def refusal(log: Log, doc: Any) -> str:
    with pytest.raises(BoardRefused) as info:
        log.submit(doc)
    return str(info.value.reason)


def at(offset: int) -> str:
    return format_time(datetime.fromtimestamp(NOW + offset, timezone.utc))


# --- time (spec §7) --------------------------------------------------------------------------


def verified(i: int, time: str) -> dict[str, Any]:
    """:func:`verification` ``i``, dated ``time``."""
    return event("verification.recorded", verification(i)["statement"]["body"], INSPECTOR, time=time)


def test_time_bounds_around_the_boards_clock(storage: LogStorage) -> None:
    log = open_log(storage, Clock())
    publish_with_phase(log)
    assert refusal(log, verified(1, at(MAX_SKEW + 1))) == "time-future"
    assert refusal(log, verified(1, at(-MAX_AGE - 1))) == "time-out-of-range"
    assert refusal(log, verified(1, "1970-01-01T00:00:00Z")) == "time-out-of-range"
    assert log.submit(verified(1, at(MAX_SKEW))).created  # the edges are in
    assert log.submit(verified(2, at(-MAX_AGE))).created
    assert log.size == 4 and log.audit().ok  # an audit, later, does not read the clock


def test_an_audit_does_not_repeat_the_time_checks(storage: LogStorage) -> None:
    clock = Clock()
    log = open_log(storage, clock)
    log.submit(publish())
    clock.now += 10 * MAX_AGE  # ten days later: every entry is older than 24 h
    again = open_log(storage, clock)
    assert again.size == 1 and again.audit().ok


# --- size and canonical form (spec §0, §7) --------------------------------------------------


def _escrow_with_totals(quantity: Any) -> dict[str, Any]:
    statement = {**DECL.signed["statement"], "totals": {"warhead": {"quantity": quantity, "unit": "count"}}}
    return event("escrow.published", {"escrow": sign_statement(statement, [HOST])}, HOST)


def test_an_envelope_whose_jcs_form_no_reader_takes_back_is_refused(storage: LogStorage) -> None:
    """1e20 is a JSON number; its JCS form, 100000000000000000000, is an integer beyond ±(2^53−1)
    that every reader refuses (spec §0): a board that logged it could not reopen its log."""
    log = open_log(storage, Clock())
    poisoned = json.dumps(_escrow_with_totals(1e20)).encode()
    assert b"1e+20" in poisoned and b"100000000000000000000" in canonicalize(json.loads(poisoned))
    assert refusal(log, poisoned) == "malformed"
    assert refusal(log, json.loads(poisoned)) == "malformed"  # parsed JSON is read from its JCS bytes too
    assert log.size == 0
    assert log.submit(json.dumps(_escrow_with_totals(30.0)).encode()).created  # 30.0 reads back as 30: fine
    assert open_log(storage, Clock()).size == 1


def test_an_entry_over_1_mib_is_refused_by_the_board_and_flagged_by_an_audit(storage: LogStorage) -> None:
    log = open_log(storage, Clock())
    log.submit(publish())
    big = event("discrepancy.raised", {"id": "d-1", "phase": "p", "cell": "c", "detail": "x" * ENTRY_MAX, "intel": None}, INSPECTOR)
    assert len(canonicalize(big)) > ENTRY_MAX
    assert refusal(log, big) == "entry-too-large"
    report = audit([canonicalize(publish()), canonicalize(big)], PARTIES, ORIGIN, [])
    assert [(p.index, p.reason) for p in report.problems] == [(1, "entry-too-large")]


def test_the_api_refuses_a_jcs_form_over_1_mib_from_a_smaller_body() -> None:
    """The JCS form can be longer than the bytes sent: ``1e15`` is 4 bytes, its JCS form 16."""
    log = open_log(MemoryStorage(), Clock())
    totals = {f"c{i}": {"quantity": 1e15, "unit": "count"} for i in range(22_000)}
    statement = {**DECL.signed["statement"], "totals": totals}
    doc = event("escrow.published", {"escrow": sign_statement(statement, [HOST])}, HOST)
    sent = json.dumps(doc, separators=(",", ":")).replace("1000000000000000.0", "1e15").encode()
    assert len(sent) <= ENTRY_MAX < len(canonicalize(json.loads(sent)))
    with TestClient(create_app(log)) as client:
        answer = client.post("/entries", content=sent)
    assert (answer.status_code, answer.json()["reason"]) == (413, "entry-too-large")
    assert log.size == 0


# --- pages (spec §11) -----------------------------------------------------------------------


def _big_events(count: int) -> list[dict[str, Any]]:
    """Valid entries of about 900 KiB each (after :func:`publish_with_phase`)."""
    return [event("discrepancy.raised", {"id": f"d-{i}", "phase": "phase-1", "cell": "depot-01", "detail": "x" * (900 * 1024), "intel": None}, INSPECTOR)
            for i in range(count)]


def test_pages_stop_at_8_mib_and_the_client_pages_on(storage: LogStorage) -> None:
    from unveil.store.board_client import BoardClient

    log = open_log(storage, Clock())
    publish_with_phase(log)
    for doc in _big_events(12):  # about 10.8 MB of entries
        log.submit(doc)
    entries = list(storage.read_entries(0, log.size))
    with TestClient(create_app(log)) as http:
        page = http.get("/entries", params={"start": 0})
        assert page.status_code == 200 and len(page.content) <= board_module.PAGE_BYTES
        shown = page.json()["entries"]
        assert 1 < len(shown) < log.size and [row["index"] for row in shown] == list(range(len(shown)))
        client = BoardClient(http)
        assert client.entries(0, log.size) == entries  # exact bytes, over several pages
        one = http.get("/entries", params={"start": 13, "end": 14})
        assert [row["index"] for row in one.json()["entries"]] == [13]


def test_a_page_always_holds_one_entry_even_over_the_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    log = open_log(MemoryStorage(), Clock())
    publish_with_phase(log)
    log.submit(_big_events(1)[0])
    monkeypatch.setattr(board_module, "PAGE_BYTES", 100_000)
    with TestClient(create_app(log)) as http:
        assert [row["index"] for row in http.get("/entries", params={"start": 0}).json()["entries"]] == [0, 1]
        assert [row["index"] for row in http.get("/entries", params={"start": 2}).json()["entries"]] == [2]


def test_storage_reads_only_what_fits(storage: LogStorage) -> None:
    rows = [(i, bytes([65 + i]) * (100 * (i + 1))) for i in range(5)]  # 100, 200, … 500 bytes
    storage.append_entries(rows)
    assert [len(e) for e in storage.read_entries(0, 5, max_bytes=650)] == [100, 200, 300]
    assert [len(e) for e in storage.read_entries(3, 5, max_bytes=10)] == [400]  # always the first
    assert [len(e) for e in storage.read_entries(0, 5)] == [100, 200, 300, 400, 500]


# --- reveal files: signed uploads, purge (spec §11) -----------------------------------------


def test_only_files_signed_by_a_registered_party_are_stored() -> None:
    log = open_log(MemoryStorage(), Clock())
    unsigned = json.dumps({"statement": DECL.bundle("phase-1", [0])["statement"], "signatures": []}).encode()
    by_impostor = file_bytes(sign_statement(DECL.bundle("phase-1", [0])["statement"], [IMPOSTOR_HOST]))
    forged = json.loads(BUNDLE)
    forged["signatures"][0]["sig"] = forged["signatures"][0]["sig"][:-4] + "AAA="
    escaped = BUNDLE.replace(HOST.vkey.encode(), HOST.vkey.replace("+", "\\u002b").encode())
    with TestClient(create_app(log)) as http:
        for data, reason in ((unsigned, "upload-unsigned"), (by_impostor, "upload-unsigned"), (file_bytes(forged), "upload-unsigned")):
            answer = http.put(f"/bundles/{hashlib.sha256(data).hexdigest()}", content=data)
            assert (answer.status_code, answer.json()["reason"]) == (400, reason), answer.text
        assert log.get_bundle(BUNDLE_SHA) is None and not any(log.has_bundle(hashlib.sha256(d).hexdigest()) for d in (unsigned, by_impostor))
        # the key written with JSON escapes is still the key: the cheap test passes it on, the full check finds the signature
        answer = http.put(f"/bundles/{hashlib.sha256(escaped).hexdigest()}", content=escaped)
        assert answer.status_code == 201, answer.text
        assert http.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE).status_code == 201
        assert http.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE).status_code == 200  # held: not checked again


def test_unreferenced_files_are_purged_after_the_period_and_referenced_ones_never(storage: LogStorage) -> None:
    clock = Clock()
    log = open_log(storage, clock)
    log.submit(publish())
    referenced, spare = DECL.bundle("phase-1", [0, 1, 2]), DECL.bundle("phase-2", [3])
    referenced_sha = log.put_bundle(file_bytes(referenced))
    spare_sha = log.put_bundle(file_bytes(spare))
    log.submit(reveal())
    assert referenced_sha == BUNDLE_SHA
    clock.now += 3599
    assert log.purge_bundles(3600) == 0  # not yet an hour
    late_sha = log.put_bundle(file_bytes(DECL.bundle("phase-3", [4])))  # uploaded later: its own hour
    clock.now += 2
    assert log.purge_bundles(3600) == 1
    assert log.has_bundle(referenced_sha) and not log.has_bundle(spare_sha) and log.has_bundle(late_sha)
    clock.now += 10 * 3600
    assert log.purge_bundles(3600) == 1 and log.has_bundle(referenced_sha) and not log.has_bundle(late_sha)
    again = open_log(storage, clock)  # the referenced file is there for the replay's check
    assert again.size == 2 and again.audit().ok and again.audit().bundles_checked


def test_the_api_purges_before_it_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    log = open_log(MemoryStorage(), clock)
    log.submit(publish())
    old = file_bytes(DECL.bundle("phase-2", [3]))
    with TestClient(create_app(log, purge_after=60)) as http:
        assert http.put(f"/bundles/{hashlib.sha256(old).hexdigest()}", content=old).status_code == 201
        clock.now += 61
        assert http.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE).status_code == 201
        assert http.get(f"/bundles/{hashlib.sha256(old).hexdigest()}").status_code == 404
        assert http.get(f"/bundles/{BUNDLE_SHA}").content == BUNDLE


def test_a_database_from_before_upload_times_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE entries (idx BIGINT PRIMARY KEY, entry BLOB NOT NULL);"
            "CREATE TABLE bundles (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);"
            "CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);"
            "CREATE TABLE cosignatures (size BIGINT NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (size, witness));"
            "INSERT INTO bundles VALUES ('" + "a" * 64 + "', x'00');"
        )
    with open_storage(f"sqlite:///{path}") as store:
        assert store.has_bundle("a" * 64) and store.put_bundle("b" * 64, b"new", uploaded=NOW)
        assert store.purge_bundles(NOW, keep=()) == 1  # the old file counts as uploaded at 0
        assert not store.has_bundle("a" * 64) and store.has_bundle("b" * 64)


# --- GET /checkpoints/cosigned (spec §11) ---------------------------------------------------


def test_each_witness_largest_cosigned_checkpoint(storage: LogStorage) -> None:
    log = open_log(storage, Clock())
    log.submit(publish())
    bodies = {}
    for i in range(1, 4):
        bodies[log.size] = open_note(log.checkpoint())[0]
        log.submit(event("escrow.accepted", ACCEPTED, INSPECTOR) if i == 1 else publish(Escrowed(f"other-{i}", HOST, {})))
    bodies[log.size] = open_note(log.checkpoint())[0]  # sizes 1 … 4
    log.add_cosignature(bodies[1], cosign(bodies[1], INSPECTOR_W, NOW))
    log.add_cosignature(bodies[3], cosign(bodies[3], INSPECTOR_W, NOW + 1))
    log.add_cosignature(bodies[2], cosign(bodies[2], INSPECTOR_W, NOW + 2))  # an older one, later: not the largest
    log.add_cosignature(bodies[2], cosign(bodies[2], OBSERVER_W, NOW))
    with TestClient(create_app(log)) as http:
        answer = http.get("/checkpoints/cosigned")
    assert answer.status_code == 200
    found = answer.json()["cosigned"]
    assert [(c["witness"], c["size"]) for c in found] == [("Inspector", 3), ("Observer", 2)]
    for row, witness in zip(found, (INSPECTOR_W, OBSERVER_W), strict=True):
        note = row["note"]
        assert verify_note(note, [BOARD.verifier, witness.verifier]) == [BOARD.verifier, witness.verifier]
        body = open_note(note)[0]
        assert body == bodies[row["size"]]
        line = note.splitlines()[-1]
        assert verify_cosignature(body, line, witness.verifier) == (NOW + 1 if row["size"] == 3 else NOW)
        assert note.count("\u2014 ") == 2  # the board's signature and this witness's, nothing else


def test_cosigned_is_empty_before_any_cosignature_and_lists_registered_witnesses_only(storage: LogStorage) -> None:
    log = open_log(storage, Clock())
    log.submit(publish())
    assert log.cosigned() == []
    body = open_note(log.checkpoint())[0]
    storage.add_cosignature(1, "Mallory", cosign(body, MALLORY_W, NOW))  # stored behind the log's back
    log.add_cosignature(body, cosign(body, INSPECTOR_W, NOW))
    assert [witness for witness, _, _ in log.cosigned()] == ["Inspector"]


def _checker_that_dies(data: bytes, vkeys: list[str]) -> None:
    import os

    os._exit(3)


def test_a_checker_process_that_dies_fails_that_upload_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from unveil.api import uploads

    log = open_log(MemoryStorage(), Clock())
    with TestClient(create_app(log)) as http:
        with monkeypatch.context() as patch:
            patch.setattr(uploads, "upload_refusal", _checker_that_dies)
            answer = http.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE)
        assert (answer.status_code, answer.json()["reason"]) == (503, "storage-failure")
        assert not log.has_bundle(BUNDLE_SHA)
        assert http.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE).status_code == 201
    assert multiprocessing.active_children() == []  # each check's process is gone with it
