"""The board's clients (spec §7): :class:`BoardClient`, the witness, and ``unveil publish |
sync | audit`` against boards running in process (``create_app`` over a ``Log``), reached
through Starlette's ``TestClient`` (an ``httpx.Client`` whose transport calls the ASGI app)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unveil.api.app import create_app
from unveil.board.events import make_event
from unveil.board.log import Log, MemoryStorage
from unveil.board.parties import read_parties
from unveil.board.witness import Cosignature, MemoryWitnessStore, Witness, WitnessRefusal
from unveil.cli import board_cmd
from unveil.cli.main import main
from unveil.core.encoding import b64encode
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, VerifierKey
from unveil.core.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from unveil.core.notes import Checkpoint, open_note, verify_cosignature, verify_note
from unveil.errors import BoardError
from unveil.store.board_client import BoardClient
from unveil.workspace import host as host_service
from unveil.workspace.workspace import Workspace, create

ORIGIN = "board.clients.test"
BOARD_KEY = SigningKey.generate(ORIGIN, STATEMENT_KEY, hashlib.sha256(b"board clients: board").digest())
ESCROW_ID = "clients-1"
CELLS = [f"depot-{i:02d}" for i in range(1, 9)]
CONTENTS: dict[str, dict[str, Any]] = {
    "depot-02": {"cell": "depot-02", "sites": [{"id": "D-2", "kind": "weapons-storage", "items": [
        {"category": "warhead", "quantity": 4, "unit": "count"}]}]},
    "depot-07": {"cell": "depot-07", "sites": [{"id": "D-7", "kind": "other", "items": []}]},
}


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def seeded(label: str) -> Any:
    counter = count()
    return lambda n: hashlib.sha256(f"board clients {label} {next(counter)}".encode()).digest()[:n]


class World:
    """Three workspaces, PARTIES.json, a host escrow with one reveal file, and boards by URL."""

    def __init__(self, root: Path):
        self.root = root
        self.ws: dict[str, Workspace] = {
            name.lower(): create(root / name.lower(), role, name, random=seeded(name))
            for name, role in (("Host", "host"), ("Inspector", "inspector"), ("Observer", "observer"))
        }
        doc = [{"name": ORIGIN, "role": "board", "vkey": BOARD_KEY.vkey, "witness_vkey": None}]
        doc += [{"name": w.name, "role": w.role, "vkey": w.vkey, "witness_vkey": w.witness_vkey} for w in self.ws.values()]
        self.parties_file = root / "PARTIES.json"
        self.parties_file.write_text(json.dumps(doc))
        self.parties = read_parties(self.parties_file.read_bytes())
        out = root / "out"
        host_service.commit(self.ws["host"], escrow_id=ESCROW_ID, cells=CELLS, resolution=None, contents=CONTENTS,
                            out=out, now=_dt(), random=seeded("master"))
        host_service.reveal(self.ws["host"], escrow_id=ESCROW_ID, phase="phase-1", indices=[1, 6],
                            out=out / "reveal-phase-1.json", now=_dt())
        self.escrow, self.cells, self.bundle = out / "escrow.json", out / "cells.txt", out / "reveal-phase-1.json"
        self.boards: dict[str, tuple[Log, MemoryStorage, TestClient]] = {}

    def board(self, url: str = "http://board-a") -> tuple[Log, MemoryStorage, TestClient]:
        storage = MemoryStorage()
        log = Log.open(storage, ORIGIN, BOARD_KEY, self.parties, lambda: int(time.time()))
        http = TestClient(create_app(log), base_url=url)
        self.boards[url] = (log, storage, http)
        return self.boards[url]

    def client(self, url: str) -> BoardClient:
        return BoardClient(self.boards[url][2])

    def event(self, who: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return make_event(kind, ESCROW_ID, now_text(), body, [self.ws[who].statement_key()])

    def verification(self, who: str, mark: str) -> dict[str, Any]:
        """A recorded verification of the phase-1 file (logged by :func:`publish_all`), one per ``mark``."""
        sha = hashlib.sha256(self.bundle.read_bytes()).hexdigest()
        problems = [{"index": None, "reason": mark}]  # a reason as another implementation may write it
        return self.event(who, "verification.recorded", {"phase": "phase-1", "sha256": sha, "valid": False, "problems": problems})


def _dt() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    w = World(tmp_path)
    monkeypatch.setattr(board_cmd, "connect", lambda url: w.client(url))
    return w


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def ws_path(world: World, who: str) -> str:
    return str(world.ws[who].path)


def publish(world: World, capsys: pytest.CaptureFixture[str], who: str, *what: str, url: str = "http://board-a") -> tuple[int, Any]:
    return cli(capsys, "publish", "--workspace", ws_path(world, who), "--board", url, *what)


def sync(world: World, capsys: pytest.CaptureFixture[str], who: str, url: str = "http://board-a", *more: str) -> tuple[int, Any]:
    return cli(capsys, "sync", "--workspace", ws_path(world, who), "--board", url, "--board-key", BOARD_KEY.vkey,
               "--parties", str(world.parties_file), *more)


def db_rows(world: World, who: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.ws[who].db_path) as db:
        return db.execute(query, args).fetchall()


def inspector_verifies(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = cli(capsys, "verify", str(world.bundle), "--escrow", str(world.escrow), "--cells", str(world.cells),
                       "--trust", world.ws["host"].vkey, "--workspace", ws_path(world, "inspector"))
    assert code == 0 and report["valid"], report


def publish_all(world: World, capsys: pytest.CaptureFixture[str], url: str = "http://board-a") -> list[dict[str, Any]]:
    """escrow.published, escrow.accepted, reveal.published, verification.recorded, via the CLI."""
    inspector_verifies(world, capsys)
    steps = [
        ("host", "--escrow", str(world.escrow)),
        ("inspector", "--accept", str(world.escrow), "--cells", str(world.cells)),
        ("host", "--reveal", str(world.bundle)),
        ("inspector", "--verification", str(world.bundle)),
    ]
    results = []
    for who, *what in steps:
        code, out = publish(world, capsys, who, *what, url=url)
        assert code == 0, out
        results.append(out)
    return results


# --- publish -----------------------------------------------------------------------------------


def test_publish_each_kind(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, storage, _ = world.board()
    results = publish_all(world, capsys)
    assert [(r["index"], r["kind"]) for r in results] == [
        (0, "escrow.published"), (1, "escrow.accepted"), (2, "reveal.published"), (3, "verification.recorded")]
    for r in results:  # each receipt is a board-signed checkpoint that includes the entry
        verify_note(r["checkpoint"], [BOARD_KEY.verifier])
        assert Checkpoint.parse(open_note(r["checkpoint"])[0]).size == r["index"] + 1
    events = [json.loads(e)["statement"] for e in storage.entries]
    assert events[0]["body"]["escrow"] == json.loads(world.escrow.read_bytes())
    sha = hashlib.sha256(world.bundle.read_bytes()).hexdigest()
    assert storage.bundles[sha] == world.bundle.read_bytes()  # the exact file bytes
    assert events[2]["body"] == {"phase": "phase-1", "sha256": sha, "openings": 2}
    assert events[3]["body"] == {"phase": "phase-1", "sha256": sha, "valid": True, "problems": []}
    assert events[1]["body"]["cells_sha256"] == hashlib.sha256(world.cells.read_bytes()).hexdigest()
    signers = [e["signatures"][0]["vkey"] for e in map(json.loads, storage.entries)]
    assert signers == [world.ws[w].vkey for w in ("host", "inspector", "host", "inspector")]
    assert log.audit().ok


def test_publish_refusals_and_bad_input(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from unveil.cli import workflow_cmd

    _, storage, _ = world.board()
    code, out = publish(world, capsys, "inspector", "--verification", str(world.bundle))
    assert code == 2 and "has not verified" in out["error"]
    moment = _dt()
    monkeypatch.setattr(workflow_cmd, "now", lambda: moment)
    code, first = publish(world, capsys, "host", "--escrow", str(world.escrow))
    assert code == 0
    code, again = publish(world, capsys, "host", "--escrow", str(world.escrow))  # the same statement: a repeat
    assert code == 0 and again["index"] == first["index"] == 0
    monkeypatch.setattr(workflow_cmd, "now", lambda: moment + timedelta(seconds=1))
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow))  # a second escrow.published
    assert code == 1 and out["reason"] == "escrow-duplicate" and out["status"] == 409
    code, out = publish(world, capsys, "observer", "--accept", str(world.escrow), "--cells", str(world.cells))
    assert code == 1 and out["reason"] == "role-not-allowed" and out["status"] == 403
    wrong = world.root / "cells-wrong.txt"
    wrong.write_text("depot-01\n")
    code, out = publish(world, capsys, "inspector", "--accept", str(world.escrow), "--cells", str(wrong))
    assert code == 1 and out["problems"][0]["reason"] == "cells-mismatch"
    code, out = publish(world, capsys, "inspector", "--accept", str(world.escrow))
    assert code == 2 and "--cells" in out["error"]
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow), "--reveal", str(world.bundle))
    assert code == 2 and "exactly one" in out["error"]
    assert len(storage.entries) == 1


# --- the client --------------------------------------------------------------------------------


def test_client_endpoints_and_errors(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, storage, _ = world.board()
    publish_all(world, capsys)
    for i in range(5):
        log.submit(world.verification("observer", f"extra-{i}"))
    client = world.client("http://board-a")
    client.page = 3  # several pages
    assert client.healthz()["size"] == 9
    assert client.entries(0, 9) == storage.entries  # exact bytes
    assert client.entries(4, 6) == storage.entries[4:6]
    assert [client.entry(i) for i in range(9)] == storage.entries
    tree = MerkleTree.from_entries(storage.entries)
    note = client.checkpoint()
    checkpoint = Checkpoint.parse(open_note(note)[0])
    assert checkpoint.size == 9 and checkpoint.root == tree.root
    verify_inclusion(5, 9, leaf_hash(storage.entries[5]), client.inclusion_proof(5, 9), tree.root)
    verify_consistency(4, 9, client.consistency_proof(4, 9), MerkleTree.from_entries(storage.entries[:4]).root, tree.root)
    sha = hashlib.sha256(world.bundle.read_bytes()).hexdigest()
    assert client.get_bundle(sha) == world.bundle.read_bytes()
    assert client.get_bundle("0" * 64) is None
    repeat = client.submit(json.loads(storage.entries[3]))
    assert (repeat.index, repeat.created) == (3, False)
    with pytest.raises(BoardError) as info:
        client.consistency_proof(3, 99)  # beyond the log: the board's own reason and message
    assert (info.value.status, info.value.reason) == (400, "range-invalid") and "99" in info.value.message
    with pytest.raises(BoardError) as info:
        client.consistency_proof(0, 3)
    assert info.value.status == 400 and info.value.reason in ("range-invalid", "malformed")
    with pytest.raises(BoardError) as info:
        client.entry(99)
    assert info.value.status == 404
    with pytest.raises(BoardError) as info:
        client.submit(world.verification("host", "nope"))
    assert (info.value.status, info.value.reason) == (403, "role-not-allowed")
    with pytest.raises(BoardError) as info:
        BoardClient("http://127.0.0.1:9").healthz()  # nothing listens on port 9
    assert (info.value.status, info.value.reason) == (0, "unreachable")


# --- the witness, pure ---------------------------------------------------------------------------


def test_witness_alone() -> None:
    key = SigningKey.generate("W", WITNESS_KEY, b"\x01" * 32)
    store = MemoryWitnessStore()
    witness = Witness(key, store, lambda: 1_700_000_000)
    entries = [f"e{i}".encode() for i in range(7)]

    def note(n: int, items: list[bytes] = entries) -> str:
        from unveil.core.notes import assemble_note, sign_note

        body = Checkpoint(ORIGIN, n, MerkleTree.from_entries(items[:n]).root).body()
        return assemble_note(body, [sign_note(body, BOARD_KEY)])

    first = witness.consider(note(3), BOARD_KEY.vkey, [])
    assert isinstance(first, Cosignature) and verify_cosignature(first.body, first.line, key.verifier) == 1_700_000_000
    proof = MerkleTree.from_entries(entries).consistency_proof(3, 7)
    assert isinstance(witness.consider(note(7), BOARD_KEY.vkey, proof), Cosignature)
    assert store.last(ORIGIN).size == 7
    signatures = note(7).split("\n\n", 1)[1]
    forged = Checkpoint(ORIGIN, 7, b"\x00" * 32).body() + "\n" + signatures  # the board's signature on another body
    refused = witness.consider(forged, BOARD_KEY.vkey, [])
    assert isinstance(refused, WitnessRefusal) and refused.reason == "checkpoint-signature-invalid" and not refused.evidence
    assert witness.consider("not a note", BOARD_KEY.vkey, []).reason == "checkpoint-malformed"
    other = SigningKey.generate(ORIGIN, STATEMENT_KEY, b"\x02" * 32)
    assert witness.check(note(7), other.vkey, []).reason == "checkpoint-signature-invalid"
    assert not store.evidence  # unsigned notes prove nothing
    assert witness.consider(note(5), BOARD_KEY.vkey, []).reason == "checkpoint-rollback"
    forked = entries[:4] + [b"x", b"y", b"z", b"w"]
    proof = MerkleTree.from_entries(forked).consistency_proof(7, 8)
    refusal = witness.consider(note(8, forked), BOARD_KEY.vkey, proof)
    assert refusal.reason == "checkpoint-inconsistent" and refusal.evidence
    assert [r.reason for r, _ in store.evidence] == ["checkpoint-rollback", "checkpoint-inconsistent"]
    assert store.last(ORIGIN).size == 7  # unchanged by refusals


# --- sync ------------------------------------------------------------------------------------------


def test_sync_mirrors_and_cosigns_then_again_after_more_entries(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, storage, http = world.board()
    publish_all(world, capsys)
    code, out = sync(world, capsys, "inspector")
    assert code == 0, out
    assert out == {"size": 4, "root": log.root().hex(), "new_entries": 4, "cosigned": True, "refused": None, "final_size": 0,
                   "finality": {"size": 4, "final_size": 0, "pending": 4, "quorum": 3, "members": ["Host", "Inspector", "Observer"],
                              "cosigned": {"Host": 0, "Inspector": 4, "Observer": 0}, "ignored": []}}
    mirrored = db_rows(world, "inspector", "SELECT idx, entry FROM board_entries WHERE origin = ? ORDER BY idx", ORIGIN)
    assert [bytes(e) for _, e in mirrored] == storage.entries
    assert db_rows(world, "inspector", "SELECT size, root FROM witness_state WHERE origin = ?", ORIGIN) == [(4, log.root().hex())]
    first_note = log.checkpoint()
    witness_key = VerifierKey.parse(world.ws["inspector"].witness_vkey)
    assert witness_key in verify_note(first_note, [BOARD_KEY.verifier, witness_key])

    for i in range(3):
        log.submit(world.verification("observer", f"more-{i}"))
    proof = world.client("http://board-a").consistency_proof(4, 7)
    verify_consistency(4, 7, proof, MerkleTree.from_entries(storage.entries[:4]).root, log.root())
    code, out = sync(world, capsys, "inspector")
    assert code == 0, out
    assert (out["size"], out["new_entries"], out["cosigned"], out["refused"]) == (7, 3, True, None)
    assert out["final_size"] == 0 and out["finality"]["cosigned"]["Inspector"] == 7  # host and observer have cosigned nothing
    body, lines = open_note(log.checkpoint())
    assert Checkpoint.parse(body).size == 7 and [name for name, _ in lines] == [ORIGIN, "Inspector"]
    assert db_rows(world, "inspector", "SELECT size FROM witness_state") == [(7,)]
    assert db_rows(world, "inspector", "SELECT COUNT(*) FROM board_entries") == [(7,)]
    code, out = sync(world, capsys, "inspector")  # nothing new: same checkpoint, cosigned again
    assert code == 0 and (out["size"], out["new_entries"], out["cosigned"]) == (7, 0, True)
    assert db_rows(world, "inspector", "SELECT COUNT(*) FROM witness_evidence") == [(0,)]


def clone(world: World, url: str, storage: MemoryStorage, upto: int) -> Log:
    """A second board with the same origin and key holding the first ``upto`` entries."""
    log, target, _ = world.board(url)
    target.bundles.update(storage.bundles)
    for entry in storage.entries[:upto]:
        log.submit(entry)
    return log


@pytest.mark.parametrize("extra_b", [3, 1, 0], ids=["longer", "same-size", "shorter"])
def test_a_forking_board_is_refused_with_evidence(world: World, capsys: pytest.CaptureFixture[str], extra_b: int) -> None:
    log_a, storage_a, _ = world.board("http://board-a")
    publish_all(world, capsys)
    log_b = clone(world, "http://board-b", storage_a, 4)  # the common prefix: 4 entries
    log_a.submit(world.verification("observer", "only-on-a"))
    for i in range(extra_b):
        log_b.submit(world.verification("observer", f"only-on-b-{i}"))
    code, out = sync(world, capsys, "inspector", "http://board-a")
    assert code == 0 and out["cosigned"] and out["size"] == 5
    note_a = log_a.checkpoint()

    note_b = log_b.checkpoint()
    code, out = sync(world, capsys, "inspector", "http://board-b")
    assert code == 1 and out["cosigned"] is False
    want = {3: "checkpoint-inconsistent", 1: "checkpoint-inconsistent", 0: "checkpoint-rollback"}[extra_b]
    assert out["refused"].startswith(want + ":")
    if extra_b:
        assert "fork" in out["refused"]
    rows = db_rows(world, "inspector", "SELECT origin, previous_note, new_note, proof_json, reason FROM witness_evidence")
    assert len(rows) == 1
    origin, previous, new, proof_json, reason = rows[0]
    assert origin == ORIGIN and reason.startswith(want)
    assert open_note(previous)[0] == open_note(note_a)[0] and new == note_b  # both signed checkpoints kept
    verify_note(previous, [BOARD_KEY.verifier])
    verify_note(new, [BOARD_KEY.verifier])
    proof = json.loads(proof_json)
    assert proof == ([b64encode(h) for h in log_b.consistency_proof(5, 7)] if extra_b == 3 else [])
    if extra_b == 3:
        assert proof  # the board's own proof, which fails against board A's root
    # Nothing else changed: the witness still stands by board A's checkpoint and mirror.
    assert db_rows(world, "inspector", "SELECT size, root FROM witness_state") == [(5, log_a.root().hex())]
    assert [bytes(e) for (e,) in db_rows(world, "inspector", "SELECT entry FROM board_entries ORDER BY idx")] == storage_a.entries
    assert len(open_note(log_b.checkpoint())[1]) == 1  # board B got no cosignature
    code, out = sync(world, capsys, "inspector", "http://board-b")  # still refused, evidence again
    assert code == 1 and db_rows(world, "inspector", "SELECT COUNT(*) FROM witness_evidence") == [(2,)]


def test_a_board_whose_root_does_not_match_its_entries_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, storage, _ = world.board()
    publish_all(world, capsys)
    honest = list(storage.entries)
    storage.entries[3] = json.dumps(world.verification("observer", "swapped"), separators=(",", ":"), sort_keys=True).encode()
    code, out = sync(world, capsys, "observer")
    assert code == 1 and out["refused"].startswith("mirror-root-mismatch:") and "something else" in out["refused"]
    assert out["cosigned"] is False
    assert db_rows(world, "observer", "SELECT COUNT(*) FROM board_entries") == [(0,)]
    assert db_rows(world, "observer", "SELECT COUNT(*) FROM witness_state") == [(0,)]
    (reason, new_note), = db_rows(world, "observer", "SELECT reason, new_note FROM witness_evidence")
    assert reason.startswith("mirror-root-mismatch") and new_note == log.checkpoint()
    assert len(open_note(log.checkpoint())[1]) == 1  # not cosigned
    storage.entries[3] = honest[3]  # once the board serves its real entries, the witness cosigns
    code, out = sync(world, capsys, "observer")
    assert code == 0 and out["cosigned"]


def test_host_inspector_and_observer_cosign_the_same_checkpoint(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, _, http = world.board()
    publish_all(world, capsys)
    for who in ("host", "inspector", "observer"):
        code, out = sync(world, capsys, who)
        assert code == 0 and out["cosigned"] and out["size"] == 4, out
    note = http.get("/checkpoint").text
    body, lines = open_note(note)
    assert Checkpoint.parse(body).size == 4
    cosignatures = note.split("\n\n", 1)[1].splitlines(keepends=True)[1:]  # after the board's line
    assert len(cosignatures) == 3
    witnesses = {w.name: VerifierKey.parse(w.witness_vkey) for w in world.ws.values()}
    for line in cosignatures:
        name = line[2:].split(" ", 1)[0]
        assert verify_cosignature(body, line, witnesses[name]) > 0
    assert sorted(name for name, _ in lines[1:]) == ["Host", "Inspector", "Observer"]
    good = verify_note(note, [BOARD_KEY.verifier, *witnesses.values()])
    assert len(good) == 4
    assert log.audit().ok


# --- audit -----------------------------------------------------------------------------------------


def audit(world: World, capsys: pytest.CaptureFixture[str], *source: str) -> tuple[int, Any]:
    return cli(capsys, "audit", *source, "--origin", ORIGIN, "--parties", str(world.parties_file))


def test_audit_a_board_good_then_tampered(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _, storage, _ = world.board()
    publish_all(world, capsys)
    for who in ("host", "inspector", "observer"):
        assert sync(world, capsys, who)[0] == 0
    code, out = audit(world, capsys, "--board", "http://board-a")
    assert code == 0, out
    assert out["ok"] and out["size"] == 4 and out["bundles_checked"] and out["checkpoints_checked"] == 1
    assert out["final_size"] == 4 and out["finality"]["cosigned"] == {"Host": 4, "Inspector": 4, "Observer": 4}
    entry = json.loads(storage.entries[1])
    entry["statement"]["body"]["root"] = "0" * 64  # tampered after signing
    storage.entries[1] = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode()
    code, out = audit(world, capsys, "--board", "http://board-a")
    assert code == 1 and not out["ok"]
    reasons = {(p["index"], p["reason"]) for p in out["problems"]}
    assert (1, "signature-invalid") in reasons and (None, "checkpoint-root-mismatch") in reasons
    storage.entries[1] = b'{ "not": "canonical" }'
    code, out = audit(world, capsys, "--board", "http://board-a")
    assert code == 1 and (1, "entry-malformed") in {(p["index"], p["reason"]) for p in out["problems"]}


def test_audit_a_board_database(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from unveil.store.board_db import open_storage

    _, memory, _ = world.board()
    publish_all(world, capsys)
    code, _ = sync(world, capsys, "observer")
    assert code == 0
    url = f"sqlite:///{tmp_path / 'board.db'}"
    with open_storage(url) as storage:
        log = Log.open(storage, ORIGIN, BOARD_KEY, world.parties, lambda: int(time.time()))
        for sha, data in memory.bundles.items():
            storage.put_bundle(sha, data)
        for entry in memory.entries:
            log.submit(entry)
        body = open_note(log.checkpoint())[0]
        witness = world.ws["observer"].witness_key()
        from unveil.core.notes import cosign

        log.add_cosignature(body, cosign(body, witness, int(time.time())))
    code, out = audit(world, capsys, "--db", url)  # only the observer cosigned: nothing is final
    assert code == 1 and [(p["index"], p["reason"]) for p in out["problems"]] == [(0, "quorum-missing")], out
    assert (out["final_size"], out["finality"]["cosigned"]) == (0, {"Host": 0, "Inspector": 0, "Observer": 4})
    code, out = audit(world, capsys, "--db", url, "--allow-pending")
    assert code == 0 and out["ok"] and out["size"] == 4 and out["checkpoints_checked"] >= 2, out
    assert (out["final_size"], out["finality"]["pending"]) == (0, 4)
    code, out = audit(world, capsys, "--db", url, "--quorum", "1")  # lowered to any 1 of 3
    assert code == 0 and out["final_size"] == 4, out
    with sqlite3.connect(tmp_path / "board.db") as db:
        db.execute("UPDATE entries SET entry = ? WHERE idx = 2", (memory.entries[3],))
    code, out = audit(world, capsys, "--db", url, "--allow-pending")
    assert code == 1 and "checkpoint-root-mismatch" in {p["reason"] for p in out["problems"]}
    code, out = audit(world, capsys, "--db", f"sqlite:///{tmp_path / 'absent.db'}")
    assert code == 2
    code, out = audit(world, capsys, "--db", url, "--board", "http://board-a")
    assert code == 2 and "exactly one" in out["error"]


def test_sync_input_errors_exit_2(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.board()
    parties = ("--parties", str(world.parties_file))
    code, out = cli(capsys, "sync", "--workspace", ws_path(world, "inspector"), "--board", "http://board-a",
                    "--board-key", world.ws["inspector"].witness_vkey, *parties)
    assert code == 2 and "statement key" in out["error"]
    code, out = cli(capsys, "sync", "--workspace", ws_path(world, "inspector"), "--board", "http://board-a", "--board-key", "nonsense",
                    *parties)
    assert code == 2
    code, out = cli(capsys, "sync", "--workspace", str(world.root / "nowhere"), "--board", "http://board-a",
                    "--board-key", BOARD_KEY.vkey, *parties)
    assert code == 2 and "not an unveil workspace" in out["error"]
    other = SigningKey.generate("other.board", STATEMENT_KEY, b"\x03" * 32)
    code, out = cli(capsys, "sync", "--workspace", ws_path(world, "inspector"), "--board", "http://board-a", "--board-key", other.vkey,
                    "--parties", str(world.parties_file))
    assert code == 2 and "not the board the parties file registers" in out["error"]
    for k in ("0", "4", "-1"):
        code, out = sync(world, capsys, "inspector", "http://board-a", "--quorum", k)
        assert code == 2 and "--quorum" in out["error"], out
    assert db_rows(world, "inspector", "SELECT name FROM sqlite_master WHERE name = 'witness_state'") == []  # nothing happened


def test_publish_the_verification_of_an_invalid_bundle(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """An inspector logs a failed verification of a file the board logged (here its cells.txt
    does not match the escrow: a check the board cannot make); a verification of a file the
    board never logged, such as one shown privately, is refused (spec §7)."""
    _, storage, _ = world.board()
    assert publish(world, capsys, "host", "--escrow", str(world.escrow))[0] == 0
    assert publish(world, capsys, "host", "--reveal", str(world.bundle))[0] == 0
    short = world.root / "short.txt"
    short.write_bytes(b"".join(world.cells.read_bytes().splitlines(keepends=True)[1:]))
    code, _ = cli(capsys, "verify", str(world.bundle), "--escrow", str(world.escrow), "--cells", str(short),
                  "--trust", world.ws["host"].vkey, "--workspace", ws_path(world, "inspector"))
    assert code == 1
    code, out = publish(world, capsys, "inspector", "--verification", str(world.bundle))
    assert code == 0 and out["kind"] == "verification.recorded"
    body = json.loads(storage.entries[2])["statement"]["body"]
    assert body["valid"] is False and body["problems"] and body["sha256"] == hashlib.sha256(world.bundle.read_bytes()).hexdigest()
    doc = json.loads(world.bundle.read_bytes())
    doc["statement"]["openings"][0]["salt"] = "0" * 64
    private = world.root / "private.json"
    private.write_text(json.dumps(doc))
    assert cli(capsys, "verify", str(private), "--escrow", str(world.escrow), "--cells", str(world.cells),
               "--trust", world.ws["host"].vkey, "--workspace", ws_path(world, "inspector"))[0] == 1
    code, out = publish(world, capsys, "inspector", "--verification", str(private))
    assert code == 1 and out["reason"] == "verification-mismatch" and out["status"] == 422
    assert len(storage.entries) == 3
