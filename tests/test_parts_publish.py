"""A phase in parts end to end (spec §5.1, §7): the host writes parts, ``unveil publish
--reveal DIRECTORY`` uploads and logs each in order, the inspector verifies the directory into
its workspace and logs a verification of each part, and after every party's sync the status
reports the phase complete and final; an audit of the board agrees."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.test_board_clients import ESCROW_ID, ORIGIN, World, _dt, cli, publish, sync, world, ws_path  # noqa: F401  (world is a fixture)
from unveil.workspace import host as host_service

A = "http://board-a"


def parts_of(world: World) -> list[Path]:  # noqa: F811
    done = host_service.reveal(world.ws["host"], escrow_id=ESCROW_ID, phase="phase-2", indices=list(range(8)),
                               out=world.root / "parts" / "reveal-phase-2.json", now=_dt(), max_part_bytes=1300)
    assert len(done.parts) >= 3, done
    return list(done.parts)


def test_parts_are_published_verified_synced_and_final(world: World, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    log, storage, _ = world.board(A)
    parts = parts_of(world)
    n = len(parts)
    assert publish(world, capsys, "host", "--escrow", str(world.escrow))[0] == 0
    code, out = publish(world, capsys, "host", "--reveal", str(parts[0].parent))
    assert code == 0 and [p["index"] for p in out["parts"]] == list(range(1, n + 1)), out
    bodies = [json.loads(e)["statement"]["body"] for e in storage.entries[1:]]
    assert [(b["phase"], b["part"], b["parts"]) for b in bodies] == [("phase-2", k, n) for k in range(1, n + 1)]
    assert [b["sha256"] for b in bodies] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in parts]
    assert log.state.parted[(ESCROW_ID, "phase-2")].complete

    code, report = cli(capsys, "verify", str(parts[0].parent), "--escrow", str(world.escrow), "--cells", str(world.cells),
                       "--trust", world.ws["host"].vkey, "--workspace", ws_path(world, "inspector"))
    assert code == 0 and report["valid"] and report["parts"] == n, report
    for part in parts:  # a verification of each part names its logged file
        assert publish(world, capsys, "inspector", "--verification", str(part))[0] == 0

    code, status = cli(capsys, "status", "--workspace", ws_path(world, "inspector"))
    assert code == 0 and status["phases_in_parts"][0]["final"] is None  # never synced: nothing known
    for who in ("host", "observer", "inspector"):  # the inspector last: it then holds every member's cosignature
        assert sync(world, capsys, who, A)[0] == 0
    code, status = cli(capsys, "status", "--workspace", ws_path(world, "inspector"))
    assert code == 0 and status["phases_in_parts"] == [
        {"phase": "phase-2", "parts": n, "held": list(range(1, n + 1)), "missing": [], "complete": True, "final": True}]
    assert [p["entry"] for p in status["phases"]] == list(range(1, n + 1))

    code, audit = cli(capsys, "audit", "--origin", ORIGIN, "--parties", str(world.parties_file), "--board", A)
    assert code == 0 and audit["ok"], audit
    assert audit["parted_phases"] == [{"escrow_id": ESCROW_ID, "phase": "phase-2", "parts": n, "logged": list(range(1, n + 1)),
                                       "complete": True, "final": True}]


def test_publishing_parts_stops_at_the_first_refusal(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Part 1 already logged under another statement: the directory publish logs nothing more
    and names the refusal; the part logged before it stays."""
    from datetime import timedelta

    from unveil.cli import workflow_cmd

    _, storage, _ = world.board(A)
    parts = parts_of(world)
    moment = _dt()
    monkeypatch.setattr(workflow_cmd, "now", lambda: moment)
    assert publish(world, capsys, "host", "--escrow", str(world.escrow))[0] == 0
    assert publish(world, capsys, "host", "--reveal", str(parts[0]))[0] == 0
    code, out = publish(world, capsys, "host", "--reveal", str(parts[2]))  # part 3 before part 2
    assert code == 1 and out["reason"] == "part-order" and out["status"] == 422, out
    monkeypatch.setattr(workflow_cmd, "now", lambda: moment + timedelta(seconds=1))
    code, out = publish(world, capsys, "host", "--reveal", str(parts[0].parent))  # part 1 again, signed a second later
    assert code == 1 and out["reason"] == "phase-duplicate", out
    assert len(storage.entries) == 2


def test_a_directory_of_several_phases_is_refused(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # noqa: F811
    world.board(A)
    parts = parts_of(world)
    (parts[0].parent / "reveal-phase-9.part-1-of-2.json").write_bytes(parts[0].read_bytes())
    code, out = publish(world, capsys, "host", "--reveal", str(parts[0].parent))
    assert code == 2 and "several phases" in out["error"], out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = cli(capsys, "verify", str(empty), "--escrow", str(world.escrow), "--cells", str(world.cells))
    assert code == 2 and "no part file" in out["error"], out
