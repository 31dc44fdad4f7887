"""``unveil draw`` acts on final coin reveals only, and withholding a cosignature blocks
nothing (spec §8, "Only final reveals count"; spec §7, quorum and finality).

The world of :mod:`tests.test_draw_cli`: Host and Inspector are the draw parties, and Host,
Inspector and Observer the quorum (each has a witness key). Each test commits both coins (the
inspector first, n = 3 of ten sites), reveals them, lets some parties cosign, and draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_board_clients import ESCROW_ID, World, cli, sync
from tests.test_draw_cli import POPULATION, coin, cosign, published, run_draw, statements
from unveil.cli import board_cmd
from unveil.cli.main import main
from unveil.core.selection import draw_seed, select
from unveil.store.board_client import BoardClient, CosignedCheckpoint

ORDERED = sorted(POPULATION)


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    return published(tmp_path, monkeypatch, capsys)


def committed(world: World, capsys: pytest.CaptureFixture[str], context: str) -> None:
    for who in ("inspector", "host"):
        code, out = coin(world, capsys, "commit", who, context)
        assert code == 0, out


def revealed(world: World, capsys: pytest.CaptureFixture[str], context: str) -> dict[str, int]:
    """Host, then inspector, reveal; their reveals' entry indexes by name."""
    found = {}
    for who in ("host", "inspector"):
        code, out = coin(world, capsys, "reveal", who, context)
        assert code == 0, out
        found[who] = out["index"]
    return found


def draw_args(world: World, context: str, who: str = "inspector") -> list[str]:
    return ["draw", "--workspace", str(world.ws[who].path), "--board", "http://board-a", "--context", context,
            "--escrow-id", ESCROW_ID, "--parties", str(world.parties_file)]


def seed_of(world: World, context: str) -> bytes:
    """The seed of the context's two logged reveals (spec §8)."""
    by_vkey = {}
    for entry in (json.loads(e) for e in world.boards["http://board-a"][1].entries):
        statement = entry["statement"]
        if statement["kind"] == "coin.revealed" and statement["body"]["context"] == context:
            by_vkey[entry["signatures"][0]["vkey"]] = bytes.fromhex(statement["body"]["r"])
    assert len(by_vkey) == 2
    return draw_seed(context, by_vkey)


def test_a_host_withholding_its_cosignature_cannot_stall_the_draw(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The attack: the host reveals, then never cosigns a checkpoint that includes its reveal
    (it cosigned one just before), so its reveal never becomes final and the draw waits for
    ever. Before the deadline the draw waits, naming the host; after it, the host refuses."""
    world, context = board, "phase-10-inspect"
    committed(world, capsys, context)
    code, vouched = sync(world, capsys, "host")  # the host vouches for the log up to the commitments only
    assert code == 0 and vouched["cosigned"], vouched
    indexes = revealed(world, capsys, context)
    assert vouched["size"] == indexes["host"]  # its cosigned size reaches its reveal's index, not beyond: not covered
    cosign(world, capsys, "inspector", "observer")
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["reason"] == "waiting" and out["step"] == "cosign" and out["waiting"] == ["Host"], out
    code, out = run_draw(world, capsys, context, "--deadline-passed")
    assert code == 0, out
    assert out["status"] == "host-refused" and out["refused"] == ["Host"] and out["not_cosigned"] == ["Host"]
    assert out["selection"] == ORDERED and out["seed"] is None  # every member of the logged population is inspected
    assert statements(world, "selection.drawn") == []
    assert main([*draw_args(world, context), "--deadline-passed"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "cosigned: the reveal of Host, which counts as a refusal" in said and "every member (10) is inspected" in said, said


def test_an_inspector_withholding_its_cosignature_voids_the_draw_after_the_deadline(
    board: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world, context = board, "phase-11-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    cosign(world, capsys, "host", "observer")
    code, out = run_draw(world, capsys, context, who="host")
    assert code == 1 and out["step"] == "cosign" and out["waiting"] == ["Inspector"], out
    code, out = run_draw(world, capsys, context, "--deadline-passed", who="host")
    assert code == 0, out
    assert out["status"] == "void" and out["refused"] == ["Inspector"] and out["not_cosigned"] == ["Inspector"]
    assert out["selection"] == [] and out["seed"] is None
    assert statements(world, "selection.drawn") == []


def test_an_observer_withholding_blocks_nothing_after_the_deadline(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """An observer is a quorum member but no draw party: before the deadline its missing
    cosignature keeps the reveals from being final (wait); after it, the draw proceeds on the
    two parties' reveals, each covered by a checkpoint its own party cosigned."""
    world, context = board, "phase-12-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    cosign(world, capsys, "host", "inspector")
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["step"] == "cosign" and out["waiting"] == ["Observer"], out
    assert statements(world, "selection.drawn") == []
    code, out = run_draw(world, capsys, context, "--deadline-passed")
    assert code == 0, out
    seed = seed_of(world, context)
    assert out["status"] == "drawn" and out["seed"] == seed.hex() and out["selection"] == select(ORDERED, 3, seed)
    assert out["final_size"] == 0 and out["refused"] == out["not_cosigned"] == []  # nothing final: the observer cosigned nothing
    (logged,) = statements(world, "selection.drawn")
    assert logged["body"]["selection"] == out["selection"]
    assert world.boards["http://board-a"][0].audit().ok


def test_a_lowered_quorum_settles_the_reveals_with_fewer_cosignatures(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-13-inspect"
    committed(world, capsys, context)
    indexes = revealed(world, capsys, context)
    cosign(world, capsys, "inspector")
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["step"] == "cosign" and out["waiting"] == ["Host", "Observer"], out
    code, out = run_draw(world, capsys, context, "--quorum", "2")
    assert code == 1 and out["waiting"] == ["Host", "Observer"] and "2 of the quorum's 3" in out["error"], out
    code, out = run_draw(world, capsys, context, "--quorum", "1")  # the parties agreed that any one cosignature settles
    assert code == 0, out
    assert out["status"] == "drawn" and out["final_size"] == max(indexes.values()) + 1
    assert out["selection"] == select(ORDERED, 3, seed_of(world, context))


def test_a_final_reveal_counts_after_the_deadline_without_its_partys_cosignature(
    board: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under a quorum lowered to 2, inspector and observer make both reveals final: what is
    final stays settled once the deadline has passed, whether or not the host cosigned."""
    world, context = board, "phase-14-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    cosign(world, capsys, "inspector", "observer")
    code, out = run_draw(world, capsys, context, "--quorum", "2", "--deadline-passed")
    assert code == 0, out
    assert out["status"] == "drawn" and out["refused"] == out["not_cosigned"] == []
    assert out["selection"] == select(ORDERED, 3, seed_of(world, context))


class HidingBoard(BoardClient):
    """The test board, but GET /checkpoints/cosigned leaves out one witness's checkpoint."""

    def __init__(self, world: World, hidden: str):
        super().__init__(world.boards["http://board-a"][2])
        self.hidden = hidden

    def cosigned(self) -> list[CosignedCheckpoint]:
        return [c for c in super().cosigned() if c.witness != self.hidden]


def test_a_board_hiding_a_cosignature_cannot_unvouch_the_drawing_partys_own_reveal(
    board: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a board (siding with the host) leaves the inspector's cosignature out of
    what it lists, so that the inspector's reveal looks unvouched for and the draw void. The
    inspector counts its own cosignature, kept in its workspace, and draws."""
    world, context = board, "phase-15-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    cosign(world, capsys, "host", "inspector", "observer")
    monkeypatch.setattr(board_cmd, "connect", lambda url: HidingBoard(world, "Inspector"))
    code, out = run_draw(world, capsys, context, who="host")  # the host only sees what the board lists
    assert code == 1 and out["step"] == "cosign" and out["waiting"] == ["Inspector"], out
    code, out = run_draw(world, capsys, context, "--deadline-passed")  # the inspector holds its own
    assert code == 0, out
    assert out["status"] == "drawn" and out["selection"] == select(ORDERED, 3, seed_of(world, context))


def test_bad_quorum_exits_2_before_the_board_is_asked(
    board: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, context = board, "phase-16-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    cosign(world, capsys, "host", "inspector", "observer")
    for k in ("0", "4", "-1"):
        code, out = run_draw(world, capsys, context, "--quorum", k)
        assert code == 2 and "--quorum" in out["error"] and "1 ≤ K ≤ 3" in out["error"], out
    monkeypatch.setattr(board_cmd, "connect", lambda url: BoardClient("http://127.0.0.1:1", timeout=2))
    code, out = run_draw(world, capsys, context, "--quorum", "0")  # refused before any request: not "unreachable"
    assert code == 2 and "--quorum" in out["error"], out
    assert statements(world, "selection.drawn") == []


def test_a_board_without_witnesses_settles_no_draw_before_the_deadline(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """With no witness but the board, nothing is final (spec §7): the draw cannot act before
    the deadline (exit 2, naming the parties file), and after it every party refuses."""
    world, context = board, "phase-17-inspect"
    committed(world, capsys, context)
    revealed(world, capsys, context)
    doc: list[dict[str, Any]] = [{**p, "witness_vkey": None} for p in json.loads(world.parties_file.read_text())]
    bare = world.root / "no-witnesses.json"
    bare.write_text(json.dumps(doc))
    args = ("draw", "--workspace", str(world.ws["inspector"].path), "--board", "http://board-a", "--context", context,
            "--escrow-id", ESCROW_ID, "--parties", str(bare))
    code, out = cli(capsys, *args)
    assert code == 2 and "--parties" in out["error"] and "nothing on this board is ever final" in out["error"], out
    code, out = cli(capsys, *args, "--deadline-passed")
    assert code == 0 and out["status"] == "void" and out["not_cosigned"] == ["Host", "Inspector"], out
