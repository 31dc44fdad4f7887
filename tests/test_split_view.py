"""Split views are caught (spec §7, quorum and finality, checkpoint files).

The attack: two copies of a board served under one key, each given a different entry after a
common prefix. The inspector syncs against one copy, host and observer against the other; each
witness sees a consistent log, so all three cosign. Then ``unveil audit`` fails on both copies
(``quorum-missing``: the entries after the prefix are not final on either), ``unveil checkpoint
compare`` between the inspector and the host finds the fork and keeps both notes, and ``sync
--json`` reports the final size below the size until the whole quorum has cosigned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_board_clients import (
    BOARD_KEY,
    ORIGIN,
    World,
    cli,
    clone,
    db_rows,
    publish_all,
    sync,
    ws_path,
)
from unveil.core.encoding import b64encode
from unveil.core.keys import STATEMENT_KEY, SigningKey, VerifierKey
from unveil.core.notes import Checkpoint, assemble_note, open_note, sign_note, verify_cosignature, verify_note

A, B = "http://board-a", "http://board-b"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    from unveil.cli import board_cmd

    w = World(tmp_path)
    monkeypatch.setattr(board_cmd, "connect", lambda url: w.client(url))
    return w


def audit(world: World, capsys: pytest.CaptureFixture[str], url: str, *more: str) -> tuple[int, Any]:
    return cli(capsys, "audit", "--board", url, "--origin", ORIGIN, "--parties", str(world.parties_file), *more)


def export(world: World, capsys: pytest.CaptureFixture[str], who: str) -> tuple[Path, Any]:
    path = world.root / f"{who}.checkpoint"
    code, out = cli(capsys, "checkpoint", "export", "--workspace", ws_path(world, who), "--out", str(path))
    assert code == 0, out
    return path, out


def compare(world: World, capsys: pytest.CaptureFixture[str], who: str, path: Path, *more: str) -> tuple[int, Any]:
    return cli(capsys, "checkpoint", "compare", "--workspace", ws_path(world, who), str(path), *more)


@pytest.fixture
def split(world: World, capsys: pytest.CaptureFixture[str]) -> World:
    """Every party cosigns the honest prefix (4 entries) on A; then A and B, one key, diverge
    by one entry each; the inspector syncs A, host and observer sync B; all cosign."""
    log_a, storage_a, _ = world.board(A)
    publish_all(world, capsys, A)
    for who in ("host", "inspector", "observer"):
        assert sync(world, capsys, who, A)[0] == 0
    log_b = clone(world, B, storage_a, 4)
    body = open_note(log_a.checkpoint())[0]
    for line in log_a.checkpoint().split("\n\n", 1)[1].splitlines(keepends=True)[1:]:
        log_b.add_cosignature(body, line)  # B shows the prefix's cosignatures too: the same note, the same key
    log_a.submit(world.verification("observer", "only-on-a"))
    log_b.submit(world.verification("observer", "only-on-b"))
    assert log_a.size == log_b.size == 5 and log_a.root() != log_b.root()
    for who, url in (("inspector", A), ("host", B), ("observer", B)):
        code, out = sync(world, capsys, who, url)
        assert code == 0 and out["cosigned"] and out["size"] == 5, out  # each witness saw a consistent log
        assert out["final_size"] == 4  # but the split entry is not final
    return world


def test_audit_of_either_copy_fails_quorum_missing(split: World, capsys: pytest.CaptureFixture[str]) -> None:
    for url, cosigned in ((A, {"Host": 4, "Inspector": 5, "Observer": 4}), (B, {"Host": 5, "Inspector": 4, "Observer": 5})):
        code, out = audit(split, capsys, url)
        assert code == 1 and not out["ok"], out
        assert [(p["index"], p["reason"]) for p in out["problems"]] == [(4, "quorum-missing")]
        assert (out["size"], out["final_size"], out["finality"]["cosigned"]) == (5, 4, cosigned)
        code, out = audit(split, capsys, url, "--allow-pending")  # reported, not failed
        assert code == 0 and out["ok"] and out["finality"]["pending"] == 1, out
    code, out = audit(split, capsys, B, "--quorum", "2")  # lowered to 2 of 3, B's two cosigners settle it
    assert code == 0 and out["final_size"] == 5


def test_audit_of_a_database_holding_one_copy_fails_too(split: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from unveil.board.log import Log
    from unveil.store.board_db import open_storage

    log_b, storage_b, _ = split.boards[B]
    url = f"sqlite:///{tmp_path / 'b.db'}"
    with open_storage(url) as storage:
        log = Log.open(storage, ORIGIN, BOARD_KEY, split.parties, lambda: 2_000_000_000, max_age=None)  # B's entries, copied later
        for sha, data in storage_b.bundles.items():
            storage.put_bundle(sha, data)
        for entry in storage_b.entries:
            log.submit(entry)  # one batch each: a stored checkpoint at every size, as B signed them
        for size, lines in storage_b.cosigs.items():
            body = open_note(storage_b.checkpoints[size])[0]
            for line in lines.values():
                log.add_cosignature(body, line)
    code, out = cli(capsys, "audit", "--db", url, "--origin", ORIGIN, "--parties", str(split.parties_file))
    assert code == 1 and [(p["index"], p["reason"]) for p in out["problems"]] == [(4, "quorum-missing")], out
    assert out["finality"]["cosigned"] == {"Host": 5, "Inspector": 4, "Observer": 5}


def test_a_copy_serving_the_other_copys_cosignature_gains_nothing(split: World, capsys: pytest.CaptureFixture[str]) -> None:
    """B serves the inspector's cosigned checkpoint from A as if it were its own: it is signed by
    the board's key and cosigned by the inspector, but it is not B's log."""
    log_a, _, _ = split.boards[A]
    log_b, _, _ = split.boards[B]
    from_a = {w: (w, size, note) for w, size, note in log_a.cosigned()}
    honest = log_b.cosigned
    log_b.cosigned = lambda: sorted([*(row for row in honest() if row[0] != "Inspector"), from_a["Inspector"]])  # type: ignore[method-assign]
    code, out = audit(split, capsys, B)
    assert code == 1
    assert {p["reason"] for p in out["problems"]} == {"checkpoint-root-mismatch", "quorum-missing"}
    assert out["finality"]["cosigned"]["Inspector"] == 0  # its only claim on B is void
    code, out = sync(split, capsys, "observer", B)  # a reader that syncs ignores it the same way
    assert code == 0 and out["final_size"] == 0 and out["finality"]["ignored"][0]["reason"] == "checkpoint-root-mismatch"


def test_checkpoint_compare_between_the_two_views_is_a_fork(split: World, capsys: pytest.CaptureFixture[str]) -> None:
    inspector_file, exported = export(split, capsys, "inspector")
    assert (exported["origin"], exported["size"]) == (ORIGIN, 5)
    host_file, _ = export(split, capsys, "host")
    for who, theirs, mine in (("host", inspector_file, host_file), ("inspector", host_file, inspector_file)):
        code, out = compare(split, capsys, who, theirs)
        assert code == 1 and out["consistent"] is False and out["reason"] == "fork" and out["evidence_kept"], out
        assert out["ours"]["size"] == out["theirs"]["size"] == 5 and out["ours"]["root"] != out["theirs"]["root"]
        rows = db_rows(split, who, "SELECT origin, previous_note, new_note, reason FROM witness_evidence")
        assert len(rows) == 1
        origin, previous, new, reason = rows[0]
        assert origin == ORIGIN and reason.startswith("fork:") and new == theirs.read_text() and previous == mine.read_text()
        for kept in (previous, new):  # two board-signed checkpoints of one size with two roots: the proof
            verify_note(kept, [BOARD_KEY.verifier])
    observer_file, _ = export(split, capsys, "observer")
    code, out = compare(split, capsys, "host", observer_file)  # the host and the observer share a view
    assert code == 0 and out["consistent"] is True and out["reason"] is None and out["cosigned_by"] == ["Host", "Observer"], out
    assert db_rows(split, "host", "SELECT COUNT(*) FROM witness_evidence") == [(1,)]  # nothing more kept


def test_compare_beyond_the_mirror_asks_the_board_or_says_sync_first(split: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Each copy grows to 6; the inspector syncs A at 6, the observer B at 6. The host's mirror
    (B at 5) cannot reach 6: without --board it says so; with --board B, B's proof 5 -> 6
    settles the observer's checkpoint and refutes the inspector's."""
    log_a, _, _ = split.boards[A]
    log_b, _, _ = split.boards[B]
    log_a.submit(split.verification("observer", "more-on-a"))
    log_b.submit(split.verification("observer", "more-on-b"))
    assert sync(split, capsys, "inspector", A)[0] == 0 and sync(split, capsys, "observer", B)[0] == 0
    inspector_file, _ = export(split, capsys, "inspector")
    observer_file, _ = export(split, capsys, "observer")
    code, out = compare(split, capsys, "host", inspector_file)
    assert code == 1 and out["consistent"] is None and out["reason"] == "mirror-behind" and "unveil sync" in out["detail"], out
    assert db_rows(split, "host", "SELECT COUNT(*) FROM witness_evidence") == [(0,)]
    code, out = compare(split, capsys, "host", observer_file, "--board", B)
    assert code == 0 and out["consistent"] is True and "proof" in out["detail"], out
    code, out = compare(split, capsys, "host", inspector_file, "--board", B)
    assert code == 1 and out["reason"] == "fork" and out["evidence_kept"], out
    (proof_json,) = db_rows(split, "host", "SELECT proof_json FROM witness_evidence")[0]
    assert json.loads(proof_json)  # the board's proof that failed, kept with both notes
    host_file, _ = export(split, capsys, "host")
    code, out = compare(split, capsys, "inspector", host_file)  # smaller than the inspector's mirror: decided locally
    assert code == 1 and out["reason"] == "fork" and (out["ours"]["size"], out["theirs"]["size"]) == (6, 5)
    (proof_json,) = db_rows(split, "inspector", "SELECT proof_json FROM witness_evidence")[0]
    assert json.loads(proof_json)  # the proof 5 -> 6 of the inspector's own log: its true root at 5 differs


def test_sync_reports_final_size_below_size_until_the_quorum_cosigned(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    log, _, _ = world.board(A)
    publish_all(world, capsys, A)
    finals = []
    for who in ("inspector", "host", "observer"):
        code, out = sync(world, capsys, who, A)
        assert code == 0 and out["size"] == 4
        finals.append(out["final_size"])
    assert finals == [0, 0, 4]  # final only once the last quorum member cosigned
    log.submit(world.verification("observer", "one-more"))
    code, out = sync(world, capsys, "observer", A)
    assert (out["size"], out["final_size"], out["finality"]["pending"]) == (5, 4, 1)
    code, out = sync(world, capsys, "host", A, "--quorum", "2")
    assert (out["size"], out["final_size"], out["finality"]["quorum"]) == (5, 5, 2)


def test_status_marks_what_is_not_final_as_pending(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.board(A)
    publish_all(world, capsys, A)
    code, out = cli(capsys, "status", "--workspace", ws_path(world, "inspector"))
    assert code == 0 and out["boards"] == [] and out["phases"][0]["final"] is None  # never synced: nothing known
    assert sync(world, capsys, "inspector", A)[0] == 0
    code, out = cli(capsys, "status", "--workspace", ws_path(world, "inspector"))
    (phase,) = out["phases"]
    assert (phase["phase"], phase["entry"], phase["final"]) == ("phase-1", 2, False)
    (board,) = out["boards"]
    assert (board["origin"], board["size"], board["final_size"], board["quorum"]) == (ORIGIN, 4, 0, 3)
    assert [e["kind"] for e in board["pending"]] == ["escrow.published", "escrow.accepted", "reveal.published", "verification.recorded"]
    code, out = cli(capsys, "status", "--workspace", ws_path(world, "inspector"), "--quorum", "1")
    assert out["phases"][0]["final"] is True and out["boards"][0]["pending"] == []
    code, out = cli(capsys, "status", "--workspace", ws_path(world, "inspector"), "--quorum", "4")
    assert code == 2 and "--quorum" in out["error"]
    for who in ("host", "observer", "inspector"):
        assert sync(world, capsys, who, A)[0] == 0
    code, out = cli(capsys, "status", "--workspace", ws_path(world, "inspector"))
    assert out["phases"][0]["final"] is True and out["boards"][0]["final_size"] == 4 and out["boards"][0]["pending"] == []
    assert main_text(["status", "--workspace", ws_path(world, "inspector")], capsys).count("final") >= 2


def main_text(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from unveil.cli.main import main

    assert main(args) == 0
    return capsys.readouterr().out


# --- checkpoint files: round trip and hostile files ---------------------------------------------


@pytest.fixture
def synced(world: World, capsys: pytest.CaptureFixture[str]) -> World:
    world.board(A)
    publish_all(world, capsys, A)
    for who in ("host", "inspector", "observer", "inspector"):
        assert sync(world, capsys, who, A)[0] == 0
    return world


def test_export_round_trip(synced: World, capsys: pytest.CaptureFixture[str]) -> None:
    path, out = export(synced, capsys, "inspector")
    text = path.read_text()
    body, signatures = open_note(text)
    checkpoint = Checkpoint.parse(body)
    assert (out["size"], checkpoint.size, checkpoint.origin) == (4, 4, ORIGIN)
    assert [name for name, _ in signatures] == [ORIGIN, "Inspector", "Host", "Observer"]  # the board, its own, the quorum's
    keys = {w.name: VerifierKey.parse(w.witness_vkey) for w in synced.ws.values()}
    assert verify_note(text, [BOARD_KEY.verifier, *keys.values()]) == [BOARD_KEY.verifier, *keys.values()]
    for line in text.split("\n\n", 1)[1].splitlines(keepends=True)[1:]:
        assert verify_cosignature(body, line, keys[line[2:].split(" ")[0]]) > 0
    code, compared = compare(synced, capsys, "inspector", path)  # read back by its own writer
    assert code == 0 and compared["consistent"] and compared["cosigned_by"] == ["Host", "Inspector", "Observer"], compared
    code, compared = compare(synced, capsys, "host", path)
    assert code == 0 and compared["ok"]


def test_export_keeps_the_boards_own_line_not_a_decoy(synced: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A board note as served may carry a line under the board's name by another key (a witness
    ignores lines by unknown keys): the file carries the line by the key the workspace checked."""
    import sqlite3

    decoy = sign_note(open_note(synced.boards[A][0].checkpoint())[0], SigningKey.generate(ORIGIN, STATEMENT_KEY, b"\x0a" * 32))
    with sqlite3.connect(synced.ws["inspector"].db_path) as db:
        (note,) = db.execute("SELECT note FROM witness_state").fetchone()
        body, rest = note.split("\n\n", 1)
        db.execute("UPDATE witness_state SET note = ?", (body + "\n\n" + decoy + rest,))
    path, _ = export(synced, capsys, "inspector")
    assert decoy not in path.read_text()
    verify_note(path.read_text(), [BOARD_KEY.verifier])
    assert compare(synced, capsys, "host", path)[0] == 0


def test_export_needs_a_synced_workspace(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "checkpoint", "export", "--workspace", ws_path(world, "inspector"), "--out", str(world.root / "x"))
    assert code == 2 and "unveil sync" in out["error"] and not (world.root / "x").exists()


def forged_file(synced: World) -> str:
    """The board's name and a checkpoint of the right size, signed by another key."""
    forger = SigningKey.generate(ORIGIN, STATEMENT_KEY, b"\x09" * 32)
    body = Checkpoint(ORIGIN, 4, b"\x01" * 32).body()
    return assemble_note(body, [sign_note(body, forger)])


@pytest.mark.parametrize(("make", "code", "reason"), [
    (forged_file, 1, "checkpoint-signature-invalid"),
    (lambda w: w.boards[A][0].checkpoint().replace(b64encode(w.boards[A][0].root()), b64encode(b"\x02" * 32)), 1,
     "checkpoint-signature-invalid"),
    (lambda w: "not a checkpoint\n", 2, None),
    (lambda w: "[" * 10_000 + "]" * 10_000, 2, None),  # deeply nested (and not a note)
    (lambda w: "x" * 70_000, 2, None),  # oversized
    (lambda w: b"\xff\xfe".decode("latin-1"), 2, None),
    (lambda w: assemble_note(Checkpoint("other.board", 4, b"\x01" * 32).body(),
                             [sign_note(Checkpoint("other.board", 4, b"\x01" * 32).body(),
                                        SigningKey.generate("other.board", STATEMENT_KEY, b"\x08" * 32))]), 2, None),
], ids=["forged-board-signature", "board-line-on-another-body", "malformed", "deeply-nested", "oversized", "not-utf8", "board-never-synced"])
def test_hostile_checkpoint_files(synced: World, capsys: pytest.CaptureFixture[str], make: Any, code: int, reason: str | None) -> None:
    path = synced.root / "hostile.checkpoint"
    text = make(synced)
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode("utf-8"))
    got, out = compare(synced, capsys, "host", path)
    assert got == code, out
    if reason is not None:
        assert out.get("reason") == reason or reason in {p["reason"] for p in out.get("problems", [])}, out
    assert "Traceback" not in json.dumps(out)
    assert db_rows(synced, "host", "SELECT COUNT(*) FROM witness_evidence") == [(0,)]  # a file the board did not sign proves nothing


def test_a_tampered_cosignature_in_a_checkpoint_file(synced: World, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = export(synced, capsys, "inspector")
    text = path.read_text()
    line = next(row for row in text.splitlines() if row.startswith("\u2014 Observer "))
    payload = line.rsplit(" ", 1)[1]
    bad = line[: -len(payload)] + payload[:20] + ("A" if payload[20] != "A" else "B") + payload[21:]
    path.write_text(text.replace(line, bad))
    code, out = compare(synced, capsys, "host", path)
    assert code == 1 and out["consistent"] is True and out["reason"] == "cosignature-invalid", out
    assert out["cosigned_by"] == ["Host", "Inspector"] and [p["reason"] for p in out["problems"]] == ["cosignature-invalid"]
    unknown = SigningKey.generate("Stranger", 4, b"\x05" * 32)
    from unveil.core.notes import cosign

    body = open_note(text)[0]
    path.write_text(text + cosign(body, unknown, 1))
    code, out = compare(synced, capsys, "host", path)
    assert code == 0 and out["unknown_signers"] == ["Stranger"] and "Stranger" not in out["cosigned_by"]


def test_final_size_of_what_a_reader_holds(split: World) -> None:
    """The service a draw calls (spec §8: only final reveals count), on either copy."""
    from unveil.workspace.sync import final_size_of

    for url, other in ((A, B), (B, A)):
        _, storage, _ = split.boards[url]
        with split.client(url) as client:
            found = final_size_of(client, split.parties, storage.entries)
            assert (found.size, found.final_size) == (5, 4)
            assert final_size_of(client, split.parties, storage.entries[:3]).final_size == 3  # a shorter reader: all it holds
            wrong = final_size_of(client, split.parties, split.boards[other][1].entries)  # the other copy's log
            assert wrong.final_size == 0 and {p.reason for p in wrong.problems} == {"checkpoint-root-mismatch"}  # the split voter counts for nothing


def test_a_workspace_from_before_gains_the_new_columns(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A witness_state table without the cosignature line and board key: sync adds them, and
    export asks for a sync until then."""
    import sqlite3

    world.board(A)
    publish_all(world, capsys, A)
    with sqlite3.connect(world.ws["inspector"].db_path) as db:
        db.execute("CREATE TABLE witness_state (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL)")
        db.execute("INSERT INTO witness_state VALUES (?, 0, ?, ?)", (ORIGIN, "00" * 32, "old note\n"))
    code, out = cli(capsys, "checkpoint", "export", "--workspace", ws_path(world, "inspector"), "--out", str(world.root / "x"))
    assert code == 2 and "unveil sync" in out["error"]  # an old workspace: no tables of this version yet
    assert sync(world, capsys, "inspector", A)[0] == 0
    columns = [row[1] for row in db_rows(world, "inspector", "PRAGMA table_info(witness_state)")]
    assert columns == ["origin", "size", "root", "note", "line", "board_vkey"]
    path, out = export(world, capsys, "inspector")
    assert out["size"] == 4 and "\u2014 Inspector " in path.read_text()


def test_what_a_person_reads(split: World, capsys: pytest.CaptureFixture[str]) -> None:
    from unveil.cli.main import main

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, text = run("audit", "--board", A, "--origin", ORIGIN, "--parties", str(split.parties_file))
    assert code == 1 and "FAILED" in text and "quorum-missing" in text and "final size 4 (1 pending)" in text
    code, text = run("sync", "--workspace", ws_path(split, "observer"), "--board", B, "--board-key", BOARD_KEY.vkey,
                     "--parties", str(split.parties_file))
    assert code == 0 and "final size 4" in text and "entries 4..4 pending" in text and "Inspector" in text
    inspector_file, _ = export(split, capsys, "inspector")
    code, text = run("checkpoint", "compare", "--workspace", ws_path(split, "host"), str(inspector_file))
    assert code == 1 and "FORK" in text and "evidence" in text
    code, text = run("checkpoint", "export", "--workspace", ws_path(split, "host"), "--out", str(split.root / "h.checkpoint"))
    assert code == 0 and "size 5" in text
    code, text = run("status", "--workspace", ws_path(split, "inspector"))
    assert code == 0 and "pending" in text and f"board {ORIGIN}" in text
