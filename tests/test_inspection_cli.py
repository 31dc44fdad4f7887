"""``unveil publish --escrow`` with its ``cells.txt`` and ``unveil inspect post`` (spec §7
``inspection.reported``, §11 ``PUT /cells``) against a board running in process (the world of
:mod:`tests.test_board_clients`: phase-1 opens depot-02, declaring site D-2, and depot-07)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.test_board_clients import ESCROW_ID, World, cli, publish
from unveil.cli import board_cmd


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    w = World(tmp_path)
    monkeypatch.setattr(board_cmd, "connect", lambda url: w.client(url))
    w.board()
    return w


def held(world: World) -> bytes | None:
    return world.boards["http://board-a"][1].get_bundle(hashlib.sha256(world.cells.read_bytes()).hexdigest())


def test_publishing_an_escrow_uploads_the_cells_beside_it(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow))
    assert code == 0 and out["cells_sha256"] == hashlib.sha256(world.cells.read_bytes()).hexdigest(), out
    assert held(world) == world.cells.read_bytes()
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow))  # replayed: both already held
    assert code == 0 and out["cells_sha256"]


def test_an_escrow_alone_is_published_without_cells(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    alone = tmp_path / "alone" / "escrow.json"
    alone.parent.mkdir()
    shutil.copy(world.escrow, alone)
    (alone.parent / "cells.txt").write_text("depot-01\n")  # another list: not uploaded
    code, out = publish(world, capsys, "host", "--escrow", str(alone))
    assert code == 0 and "cells_sha256" not in out and held(world) is None


def test_given_cells_must_be_the_escrows(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("depot-01\n")
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow), "--cells", str(wrong))
    assert code == 1 and out["problems"][0]["reason"] == "cells-mismatch" and str(wrong) in out["problems"][0]["detail"]
    assert world.boards["http://board-a"][0].size == 0  # checked before anything is logged
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow), "--cells", str(world.cells))
    assert code == 0 and held(world) is not None
    code, out = publish(world, capsys, "host", "--reveal", str(world.bundle), "--cells", str(world.cells))
    assert code == 2 and "--cells" in out["error"]


def post(world: World, capsys: pytest.CaptureFixture[str], who: str, *extra: str) -> tuple[int, dict[str, object]]:
    return cli(capsys, "inspect", "post", "--workspace", str(world.ws[who].path), "--board", "http://board-a", "--escrow-id", ESCROW_ID,
               "--phase", "phase-1", *extra)


def test_inspect_post_logs_an_inspection_and_refuses_the_hostile_ones(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish(world, capsys, "host", "--escrow", str(world.escrow))[0] == 0
    code, out = post(world, capsys, "inspector", "--cell", "depot-02", "--outcome", "confirmed")
    assert code == 1 and out["reason"] == "phase-unknown" and out["status"] == 422  # nothing revealed yet
    assert publish(world, capsys, "host", "--reveal", str(world.bundle))[0] == 0
    code, out = post(world, capsys, "inspector", "--cell", "depot-02", "--site", "D-2", "--outcome", "confirmed", "--detail", "4 counted")
    assert code == 0 and out["index"] == 2 and out["created"] is True and out["site_id"] == "D-2", out
    code, out = post(world, capsys, "inspector", "--cell", "depot-02", "--site", "D-2", "--outcome", "refused")
    assert code == 1 and out["reason"] == "inspection-duplicate" and out["status"] == 409
    code, out = post(world, capsys, "inspector", "--cell", "depot-03", "--outcome", "not-found")
    assert code == 1 and out["reason"] == "cell-not-opened"
    code, out = post(world, capsys, "inspector", "--cell", "depot-07", "--site", "D-2", "--outcome", "confirmed")
    assert code == 1 and out["reason"] == "site-unknown"
    code, out = post(world, capsys, "host", "--cell", "depot-02", "--outcome", "confirmed")
    assert code == 2 and "inspector workspace" in out["error"]
    code, out = post(world, capsys, "inspector", "--cell", "depot-02", "--outcome", "maybe")
    assert code == 2 and "--outcome" in out["error"]
    code, out = post(world, capsys, "inspector", "--cell", "depot-02", "--outcome", "confirmed", "--detail", "x" * 1001)
    assert code == 2 and "--detail" in out["error"]
    code, out = post(world, capsys, "inspector", "--cell", "depot-07", "--outcome", "discrepancy", "--context", "phase-1-inspect")
    assert code == 0 and out["index"] == 3
    assert world.boards["http://board-a"][0].size == 4
