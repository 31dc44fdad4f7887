"""The board's HTTP API (unveil.api): endpoints over a MemoryStorage log, group commit under
concurrent posts against a live uvicorn, and ``unveil serve`` as a subprocess over SQLite."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what the project installs
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
    R_INSPECTOR,
    commit,
    event,
    open_log,
    publish,
    publish_with_phase,
    verification,
)
from tests.test_board_core import GOOD_BODIES, IMPOSTOR_W, MALLORY, MALLORY_W, PARTIES_DOC, file_bytes  # not in board_fixtures
from unveil.api import board as board_module
from unveil.api.app import create_app
from unveil.api.serve import open_board, uvicorn_config
from unveil.board.events import make_event
from unveil.board.log import Log, MemoryStorage
from unveil.board.protocol import ENTRY_MAX
from unveil.cli.main import main as cli_main
from unveil.core.encoding import b64decode
from unveil.core.jcs import canonicalize
from unveil.core.keys import STATEMENT_KEY, SigningKey, VerifierKey
from unveil.core.merkle import leaf_hash, verify_consistency, verify_inclusion
from unveil.core.notes import Checkpoint, cosign, open_note, verify_note
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused, MalformedInputError
from unveil.store.keystore import write_private

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

BOARD_VKEY = VerifierKey.parse(BOARD.vkey)
BUNDLE = file_bytes(DECL.bundle("phase-1", [0, 1, 2]))
BUNDLE_SHA = hashlib.sha256(BUNDLE).hexdigest()


def publish_now() -> dict[str, Any]:
    """The escrow's publication, dated by the real clock (for a board that reads it)."""
    return make_event("escrow.published", DECL.escrow_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), {"escrow": DECL.signed}, [HOST])


def new_log() -> tuple[Log, MemoryStorage]:
    storage = MemoryStorage()
    return open_log(storage), storage


def reveal() -> dict[str, Any]:
    return event("reveal.published", {"phase": "phase-1", "sha256": BUNDLE_SHA, "openings": 3})


def seeded_log() -> tuple[Log, MemoryStorage]:
    """A log of 4 entries, the phase-1 bundle stored, and a cosignature on the latest checkpoint."""
    log, storage = new_log()
    log.submit(publish())
    log.put_bundle(BUNDLE)
    log.submit(reveal())
    log.submit(verification(1))
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    body = open_note(log.checkpoint())[0]
    log.add_cosignature(body, cosign(body, INSPECTOR_W, NOW))
    return log, storage


@pytest.fixture
def board() -> Iterator[tuple[TestClient, Log, MemoryStorage]]:
    log, storage = new_log()
    with TestClient(create_app(log)) as client:  # with the lifespan: one event loop throughout
        yield client, log, storage


def refusal(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["reason"] == reason and isinstance(body["error"], str) and body["error"]
    return body


def checkpoint_of(note: str) -> Checkpoint:
    assert verify_note(note, [BOARD_VKEY]) == [BOARD_VKEY]
    return Checkpoint.parse(open_note(note)[0])


# --- POST /entries ---------------------------------------------------------------------------


def test_post_entry_201_then_200_for_a_byte_identical_repeat(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, log, storage = board
    first = client.post("/entries", json=publish())
    assert first.status_code == 201 and first.headers["content-type"] == "application/json"
    receipt = first.json()
    assert set(receipt) == {"index", "checkpoint"} and receipt["index"] == 0
    checkpoint = checkpoint_of(receipt["checkpoint"])
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 1, log.root())

    again = client.post("/entries", content=json.dumps(publish(), indent=2).encode())  # other JSON bytes, same envelope
    assert again.status_code == 200 and again.json()["index"] == 0
    assert log.size == 1 and len(storage.entries) == 1


def test_post_entry_409_for_the_same_statement_under_other_signatures(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, log, _ = board
    publish_with_phase(log)
    doc = verification(1)
    assert client.post("/entries", json=doc).status_code == 201
    also = sign_statement(doc["statement"], [INSPECTOR, MALLORY])
    refusal(client.post("/entries", json=also), 409, "statement-conflict")
    assert log.size == 3


def test_post_entry_refusals_carry_error_and_reason(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, log, _ = board
    refusal(client.post("/entries", json=verification(1)), 422, "escrow-unknown")
    client.post("/entries", json=publish())
    refusal(client.post("/entries", json=event("verification.recorded", GOOD_BODIES["verification.recorded"], MALLORY)), 403, "author-unknown")
    refusal(client.post("/entries", json=event("verification.recorded", GOOD_BODIES["verification.recorded"], HOST)), 403, "role-not-allowed")
    future = event("verification.recorded", GOOD_BODIES["verification.recorded"], INSPECTOR, time="2030-01-01T00:00:00Z")
    refusal(client.post("/entries", json=future), 422, "time-future")
    refusal(client.post("/entries", json=reveal()), 422, "bundle-missing")
    assert log.size == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"statement": {}, "statement": {}, "signatures": []}',  # duplicate member name
        b'{"statement": "\\ud800", "signatures": []}',  # lone surrogate
        b"\xef\xbb\xbf{}",  # byte order mark
        b'{"statement": {}, "signatures": [], "n": 1e400}',  # not finite
        b"\xff",  # not UTF-8
        b"[" * 100_000,  # too deep for the parser
        b"",
        b"[]",
        b'{"statement": {}, "signatures": []}',  # JSON, not an event
    ],
)
def test_post_entry_400_for_malformed_bodies(board: tuple[TestClient, Log, MemoryStorage], body: bytes) -> None:
    client, log, _ = board
    refusal(client.post("/entries", content=body, headers={"content-type": "application/json"}), 400, "malformed")
    assert log.size == 0


def test_a_large_body_is_read_whole_and_parsed_with_the_same_rules(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, _, _ = board
    padding = " " * (ENTRY_MAX - 64 * 1024)
    refusal(client.post("/entries", content=('{"a": 1,' + padding + '"a": 2}').encode()), 400, "malformed")
    assert client.post("/entries", content=(json.dumps(publish()) + padding).encode()).status_code == 201


def test_the_fast_path_and_the_documented_route_answer_byte_for_byte_alike() -> None:
    """POST /entries is served ahead of FastAPI's router (fastpath.EntriesFastPath); with
    fast_path=False the FastAPI route serves it. Same statuses, headers that matter, bodies."""
    forged = publish()
    forged["signatures"][0]["sig"] = forged["signatures"][0]["sig"][:-4] + "AAA="
    unlogged = event("verification.recorded", GOOD_BODIES["verification.recorded"], INSPECTOR)  # names no logged file
    requests: list[bytes] = [
        json.dumps(publish()).encode(), json.dumps(publish(), indent=1).encode(), json.dumps(forged).encode(),
        json.dumps(reveal()).encode(), json.dumps(verification(1)).encode(), b"{", b'{"a": 1, "a": 2}', b"x" * (ENTRY_MAX + 1),
        json.dumps(unlogged).encode(), b"[" * 976,
        json.dumps(event("verification.recorded", GOOD_BODIES["verification.recorded"], INSPECTOR, time="1970-01-01T00:00:00Z")).encode(),
    ]
    answers = []
    for fast in (True, False):
        log, _ = new_log()
        log.put_bundle(BUNDLE)
        with TestClient(create_app(log, fast_path=fast)) as client:
            answers.append([(r.status_code, r.headers.get("content-type"), r.headers.get("connection"), r.content)
                            for r in (client.post("/entries", content=body) for body in requests)])
    assert answers[0] == answers[1]
    assert [status for status, _, _, _ in answers[0]] == [201, 200, 409, 201, 201, 400, 400, 413, 422, 400, 422]
    assert answers[0][7][2] == "close"  # a body left unread: the connection ends with the answer


def test_works_without_the_lifespan_each_request_on_its_own_loop() -> None:
    log, _ = new_log()
    client = TestClient(create_app(log))  # no `with`: starlette runs each request on a new loop
    assert client.post("/entries", json=publish()).status_code == 201
    log.put_bundle(BUNDLE)
    assert client.post("/entries", json=reveal()).json()["index"] == 1
    assert client.post("/entries", json=verification(1)).json()["index"] == 2
    assert client.post("/entries", json=verification(1)).status_code == 200
    assert client.get("/healthz").json() == {"ok": True, "size": 3}


def test_a_storage_failure_is_503_and_the_board_recovers(board: tuple[TestClient, Log, MemoryStorage], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    client, log, storage = board
    publish_with_phase(log)
    with monkeypatch.context() as patch:
        patch.setattr(storage, "append_entries", lambda rows, **kw: (_ for _ in ()).throw(OSError("disk full")))
        refusal(client.post("/entries", json=verification(1)), 503, "storage-failure")
    assert "board write failed" in caplog.text
    assert log.size == 2
    assert client.post("/entries", json=verification(1)).json()["index"] == 2


# --- request size ----------------------------------------------------------------------------


def test_413_for_a_body_over_the_limit() -> None:
    log, _ = new_log()
    with TestClient(create_app(log, max_bundle=1024)) as client:
        refusal(client.post("/entries", content=b" " * (ENTRY_MAX + 1)), 413, "entry-too-large")  # Content-Length
        refusal(client.post("/entries", content=iter([b" " * ENTRY_MAX, b" "])), 413, "entry-too-large")  # chunked
        refusal(client.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE), 413, "body-too-large")
        refusal(client.put(f"/bundles/{BUNDLE_SHA}", content=iter([BUNDLE[:1000], BUNDLE[1000:1100]])), 413, "body-too-large")
        refusal(client.post("/cosignatures", content=b" " * 1025), 413, "body-too-large")
        assert client.post("/entries", content=b" " * ENTRY_MAX).status_code == 400  # at the limit: read, then parsed
        assert client.post("/entries", json=publish()).status_code == 201


def _asgi_post(app: Any, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """POST ``chunks`` as a streamed body straight to the ASGI app: (status, body, chunks read)."""
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received < len(chunks):
            received += 1
            return {"type": "http.request", "body": chunks[received - 1], "more_body": received < len(chunks)}
        await asyncio.sleep(3600)  # no disconnect while the app answers
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, received


def test_413_stops_reading_a_streamed_body_at_the_limit() -> None:
    log, _ = new_log()
    app = create_app(log)
    status, body, read = _asgi_post(app, "/entries", [b" " * 65536] * 100, [])  # no Content-Length
    assert status == 413 and json.loads(body)["reason"] == "entry-too-large"
    assert read == 17  # 17 × 64 KiB > 1 MiB: the other 83 chunks were never read
    status, _, read = _asgi_post(app, "/entries", [b" " * 65536] * 100, [(b"content-length", b"6553600")])
    assert (status, read) == (413, 0)  # refused on the header alone
    for declared in (b"\xb2", b"1e3", b"-1"):  # "²" is str.isdigit(); none is a decimal length
        status, body, read = _asgi_post(app, "/entries", [b"{}"], [(b"content-length", declared)])
        assert (status, json.loads(body)["reason"], read) == (400, "malformed", 0)


def test_a_client_that_goes_away_mid_body_gets_no_answer_and_nothing_is_logged() -> None:
    log, _ = new_log()
    app = create_app(log)
    messages = iter([{"type": "http.request", "body": json.dumps(publish()).encode()[:50], "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/entries", "raw_path": b"/entries", "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    assert sent == [] and log.size == 0


# --- bundles ---------------------------------------------------------------------------------


def test_bundles_put_get_and_hash_mismatch(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, _, storage = board
    client.post("/entries", json=publish())
    wrong = hashlib.sha256(b"something else").hexdigest()
    refusal(client.put(f"/bundles/{wrong}", content=BUNDLE), 400, "sha256-mismatch")
    refusal(client.get(f"/bundles/{BUNDLE_SHA}"), 404, "bundle-unknown")

    stored = client.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE, headers={"content-type": "text/plain"})
    assert (stored.status_code, stored.json()) == (201, {"sha256": BUNDLE_SHA})
    assert client.put(f"/bundles/{BUNDLE_SHA}", content=BUNDLE).status_code == 200
    got = client.get(f"/bundles/{BUNDLE_SHA}")
    assert (got.status_code, got.headers["content-type"], got.content) == (200, "application/octet-stream", BUNDLE)
    assert storage.bundles == {BUNDLE_SHA: BUNDLE}
    assert client.post("/entries", json=reveal()).status_code == 201  # the board checks the held file

    not_a_bundle = json.dumps(publish()).encode()
    refusal(client.put(f"/bundles/{hashlib.sha256(not_a_bundle).hexdigest()}", content=not_a_bundle), 400, "malformed")
    refusal(client.get(f"/bundles/{BUNDLE_SHA.upper()}"), 400, "malformed")  # lowercase hex only
    refusal(client.put("/bundles/abc", content=b""), 400, "malformed")


# --- entries ---------------------------------------------------------------------------------


def test_get_entry_returns_the_logged_envelope() -> None:
    log, storage = seeded_log()
    client = TestClient(create_app(log))
    got = client.get("/entries/1")
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert got.content == storage.entries[1] == canonicalize(reveal())
    assert got.json() == reveal()
    refusal(client.get(f"/entries/{log.size}"), 404, "entry-unknown")
    refusal(client.get("/entries/-1"), 400, "malformed")
    refusal(client.get("/entries/one"), 400, "malformed")


def test_get_entries_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    log, storage = seeded_log()
    client = TestClient(create_app(log))
    everything = client.get("/entries", params={"start": 0})
    assert everything.status_code == 200
    assert everything.json() == {"entries": [{"index": i, "entry": json.loads(e)} for i, e in enumerate(storage.entries)]}
    assert [e["index"] for e in client.get("/entries", params={"start": 1, "end": 3}).json()["entries"]] == [1, 2]
    assert client.get("/entries", params={"start": 2, "end": 2}).json() == {"entries": []}
    assert client.get("/entries", params={"start": 4}).json() == {"entries": []}  # start = size: nothing yet
    assert [e["index"] for e in client.get("/entries", params={"start": 3, "end": 99}).json()["entries"]] == [3]  # capped at size
    monkeypatch.setattr(board_module, "PAGE_MAX", 2)
    assert [e["index"] for e in client.get("/entries", params={"start": 1}).json()["entries"]] == [1, 2]
    assert [e["index"] for e in client.get("/entries", params={"start": 0, "end": 4}).json()["entries"]] == [0, 1]
    refusal(client.get("/entries", params={"start": 5}), 400, "range-invalid")
    refusal(client.get("/entries", params={"start": -1}), 400, "malformed")
    refusal(client.get("/entries", params={"start": 2, "end": 1}), 400, "range-invalid")
    refusal(client.get("/entries"), 400, "malformed")
    refusal(client.get("/entries", params={"start": "x"}), 400, "malformed")


# --- checkpoint, proofs, cosignatures, health ------------------------------------------------


def test_proofs_verify_against_the_checkpoint_roots() -> None:
    log, storage = seeded_log()
    client = TestClient(create_app(log))
    roots = {size: checkpoint_of(note).root for size, note in storage.checkpoints.items() if size}
    assert sorted(roots) == [1, 2, 3, 4]
    for size, root in roots.items():
        for index in range(size):
            got = client.get("/proofs/inclusion", params={"index": index, "size": size})
            assert got.status_code == 200
            proof = [b64decode(h) for h in got.json()["proof"]]
            verify_inclusion(index, size, leaf_hash(storage.entries[index]), proof, root)
        for size1 in range(1, size + 1):
            got = client.get("/proofs/consistency", params={"from": size1, "to": size})
            assert got.status_code == 200
            verify_consistency(size1, size, [b64decode(h) for h in got.json()["proof"]], roots[size1], root)
    latest = checkpoint_of(client.get("/checkpoint").text)
    assert (latest.size, latest.root) == (4, roots[4])
    for params in ({"index": 4, "size": 4}, {"index": 0, "size": 5}):
        refusal(client.get("/proofs/inclusion", params=params), 400, "range-invalid")
    for params in ({"from": 3, "to": 2}, {"from": 1, "to": 5}):
        refusal(client.get("/proofs/consistency", params=params), 400, "range-invalid")
    for params in ({"index": -1, "size": 2}, {"index": 0, "size": 0}):
        refusal(client.get("/proofs/inclusion", params=params), 400, "malformed")  # below the documented minimum
    refusal(client.get("/proofs/consistency", params={"from": 0, "to": 2}), 400, "malformed")
    refusal(client.get("/proofs/inclusion", params={"index": 0}), 400, "malformed")
    refusal(client.get("/proofs/consistency", params={"from": "1.5", "to": 2}), 400, "malformed")


def test_cosignature_round_trip_appears_in_the_checkpoint(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, _, _ = board
    client.post("/entries", json=publish())
    note = client.get("/checkpoint")
    assert note.status_code == 200 and note.headers["content-type"] == "text/plain; charset=utf-8"
    body = open_note(note.text)[0]
    line = cosign(body, INSPECTOR_W, NOW)
    stored = client.post("/cosignatures", json={"checkpoint": body, "line": line})
    assert (stored.status_code, stored.json()) == (200, {"ok": True, "size": 1, "time": NOW})
    cosigned = client.get("/checkpoint").text
    assert line in cosigned
    keys = [BOARD_VKEY, INSPECTOR_W.verifier, OBSERVER_W.verifier]
    assert verify_note(cosigned, keys) == keys[:2]

    refusal(client.post("/cosignatures", json={"checkpoint": body, "line": cosign(body, MALLORY_W, NOW)}), 403, "witness-unknown")
    refusal(client.post("/cosignatures", json={"checkpoint": body, "line": cosign(body, IMPOSTOR_W, NOW)}), 422, "cosignature-invalid")
    forged = Checkpoint(ORIGIN, 1, b"\x07" * 32).body()
    refusal(client.post("/cosignatures", json={"checkpoint": forged, "line": cosign(forged, INSPECTOR_W, NOW)}), 404, "checkpoint-unknown")
    refusal(client.post("/cosignatures", json={"checkpoint": "not a checkpoint\n", "line": line}), 400, "malformed")
    refusal(client.post("/cosignatures", json={"checkpoint": body}), 400, "malformed")
    refusal(client.post("/cosignatures", json={"checkpoint": body, "line": line, "extra": 1}), 400, "malformed")
    refusal(client.post("/cosignatures", json={"checkpoint": body, "line": 7}), 400, "malformed")
    refusal(client.post("/cosignatures", content=b'{"checkpoint": "a", "checkpoint": "b", "line": ""}'), 400, "malformed")
    assert client.get("/checkpoint").text == cosigned


def test_healthz_and_unknown_routes(board: tuple[TestClient, Log, MemoryStorage]) -> None:
    client, _, _ = board
    assert client.get("/healthz").json() == {"ok": True, "size": 0}
    client.post("/entries", json=publish())
    assert client.get("/healthz").json() == {"ok": True, "size": 1}
    refusal(client.get("/nothing-here"), 404, "not-found")
    refusal(client.delete("/entries"), 405, "method-not-allowed")
    assert client.delete("/entries").headers["allow"] == "GET, POST"  # every route of the path


# --- group commit under concurrency, against a live uvicorn ----------------------------------


class LiveServer:
    """uvicorn with the board's configuration on 127.0.0.1, a free port, in a background thread."""

    def __init__(self, app: Any):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn_config(app, loop="asyncio"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.mark.parametrize("batch_max", [256, 8])
def test_concurrent_posts_are_group_committed_with_distinct_indices(monkeypatch: pytest.MonkeyPatch, batch_max: int) -> None:
    log, storage = new_log()
    publish_with_phase(log)
    batches: list[int] = []
    threads: set[str] = set()
    submit_many = log.submit_many

    def spy(docs: Any) -> Any:
        batches.append(len(docs))
        threads.add(threading.current_thread().name)
        if len(batches) == 1:
            time.sleep(0.3)  # hold the first batch: the other requests queue up behind it
        return submit_many(docs)

    monkeypatch.setattr(log, "submit_many", spy)
    docs = [verification(i) for i in range(50)]
    with LiveServer(create_app(log, batch_max=batch_max)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        with ThreadPoolExecutor(50) as pool:
            responses = list(pool.map(lambda doc: http.post("/entries", json=doc), docs))
        assert [r.status_code for r in responses] == [201] * 50
        indices = [r.json()["index"] for r in responses]
        assert sorted(indices) == list(range(2, 52))
        for response, doc in zip(responses, docs, strict=True):  # each receipt names its own entry, under a checkpoint that includes it
            index, note = response.json()["index"], response.json()["checkpoint"]
            assert storage.entries[index] == canonicalize(doc)
            size = checkpoint_of(note).size
            assert size > index
            proof = http.get("/proofs/inclusion", params={"index": index, "size": size}).json()["proof"]
            verify_inclusion(index, size, leaf_hash(storage.entries[index]), [b64decode(h) for h in proof], checkpoint_of(note).root)
        assert http.get("/healthz").json() == {"ok": True, "size": 52}
    assert sum(batches) == 50 and max(batches) <= batch_max
    assert len(batches) < 50 and max(batches) > 1  # grouped: fewer commits than requests
    assert len(storage.checkpoints) == 3 + len(batches)  # sizes 0, 1 and 2, one per batch
    assert len(threads) == 1  # the log is written from one thread


def test_413_from_a_live_server_declared_or_streamed() -> None:
    log, _ = new_log()
    with LiveServer(create_app(log, max_bundle=1 << 20)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        refusal(http.post("/entries", content=b" " * (8 << 20)), 413, "entry-too-large")
        refusal(http.post("/entries", content=(b" " * 65536 for _ in range(64))), 413, "entry-too-large")  # chunked
        refusal(http.put(f"/bundles/{BUNDLE_SHA}", content=(b" " * 65536 for _ in range(64))), 413, "body-too-large")
        assert http.post("/entries", json=publish()).status_code == 201  # the server carries on


# --- unveil serve ----------------------------------------------------------------------------


@pytest.fixture
def board_files(tmp_path: Path) -> tuple[Path, Path]:
    key, parties = tmp_path / "statement.pem", tmp_path / "PARTIES.json"
    write_private(key, BOARD, None)
    parties.write_text(json.dumps(PARTIES_DOC))
    return key, parties


def test_an_exercise_board_runs_its_clock_ahead_only_when_told(tmp_path: Path, board_files: tuple[Path, Path]) -> None:
    """``unveil serve --unsafe-clock-offset``: the board's clock, and no other, runs ahead (the
    demo lets a day pass this way); without it, an event dated a day ahead is time-future."""
    key, parties = board_files
    ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    dated_ahead = make_event("escrow.published", DECL.escrow_id, ahead, {"escrow": DECL.signed}, [HOST])
    for offset, expected in ((0, "time-future"), (86400, None)):
        log, storage = open_board(f"sqlite:///{tmp_path / f'board-{offset}.db'}", ORIGIN, key, parties, clock_offset=offset)
        try:
            if expected is None:
                assert log.submit(dated_ahead).index == 0  # type: ignore[union-attr]
            else:
                with pytest.raises(BoardRefused) as refused:
                    log.submit(dated_ahead)
                assert refused.value.reason == expected
        finally:
            storage.close()


def test_serve_refuses_a_key_that_is_not_the_boards(tmp_path: Path, board_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, parties = board_files
    other = tmp_path / "other.pem"
    write_private(other, SigningKey.generate(ORIGIN, STATEMENT_KEY, b"\x01" * 32), None)
    with pytest.raises(MalformedInputError, match="not the board's registered key"):
        open_board("sqlite://", ORIGIN, other, parties)
    with pytest.raises(MalformedInputError, match="not the origin"):
        open_board("sqlite://", "elsewhere.example", board_files[0], parties)
    args = ["serve", "--db", "sqlite://", "--origin", ORIGIN, "--key", str(other), "--parties", str(parties)]
    assert cli_main(args) == 2
    assert "not the board's registered key" in capsys.readouterr().err
    assert cli_main([*args, "--json"]) == 2
    assert "not the board's registered key" in json.loads(capsys.readouterr().out)["error"]
    assert cli_main([*args[:-1], str(tmp_path / "missing.json")]) == 2
    assert cli_main([*args, "--port", "70000"]) == 2


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_unveil_serve_live_over_sqlite(tmp_path: Path, board_files: tuple[Path, Path], stop: signal.Signals) -> None:
    key, parties = board_files
    db = f"sqlite:///{tmp_path / 'board.db'}"
    args = [sys.executable, "-m", "unveil.cli.main", "serve", "--db", db, "--origin", ORIGIN,
            "--key", str(key), "--parties", str(parties), "--port", "0", "--json"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line, f"unveil serve did not start: {process.stderr.read() if process.stderr else ''}"
        started = json.loads(line)
        assert (started["origin"], started["size"]) == (ORIGIN, 0) and started["url"].startswith("http://127.0.0.1:")
        with httpx.Client(base_url=started["url"], timeout=10) as http:
            fresh = publish_now()  # the board's clock is the real one (spec §7: ±24 h, +300 s)
            posted = http.post("/entries", json=fresh)
            assert posted.status_code == 201 and posted.json()["index"] == 0
            assert http.post("/entries", json=fresh).status_code == 200
            refusal(http.post("/entries", json=publish()), 422, "time-out-of-range")  # dated 2019
            assert checkpoint_of(http.get("/checkpoint").text).size == 1
            assert http.get("/healthz").json() == {"ok": True, "size": 1}
        process.send_signal(stop)  # a graceful shutdown, exit 0
        assert process.wait(timeout=20) == 0, process.stderr.read() if process.stderr else ""
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    log, storage = open_board(db, ORIGIN, key, parties)  # the entry survived the shutdown
    try:
        assert log.size == 1 and log.entries(0, 1) == [canonicalize(fresh)]
    finally:
        storage.close()


def test_serve_announces_its_url_only_once_the_socket_listens(
    board_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that connects as soon as it reads the announced URL is not refused (on a loaded
    machine uvicorn may start accepting later: the connection waits in the backlog)."""
    import socket as socket_module

    import uvicorn

    from unveil.api.serve import serve

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # stop right after the announcement
    key, parties = board_files
    seen: list[tuple[str, int]] = []

    def announce(url: str, size: int) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket_module.create_connection((host, int(port)), timeout=5):
            seen.append((url, size))  # connected: the socket was listening

    serve("sqlite://", ORIGIN, key, parties, port=0, announce=announce)
    assert len(seen) == 1 and seen[0][1] == 0
