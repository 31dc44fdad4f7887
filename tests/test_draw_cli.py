"""``unveil coin | draw | discrepancy | inspect`` (spec §8, §7) against a board running in
process (``create_app`` over a ``Log`` on ``MemoryStorage``, reached through ``TestClient``):
the parties are board, Host, Inspector (and Observer) of :mod:`tests.test_board_clients`. Host,
Inspector and Observer each have a witness key: the quorum is the three of them, and a draw
acts on coin reveals once they are final (spec §7, §8)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.test_board_clients import ESCROW_ID, World, cli, publish, sync
from unveil.cli import board_cmd
from unveil.cli.main import main
from unveil.core.reasons import Reason
from unveil.core.selection import coin_commitment, draw_seed, population_sha256, select
from unveil.errors import BoardError, DrawRefused
from unveil.store.board_client import BoardClient
from unveil.workspace import host as host_service

POPULATION = ["site-07", "site-01", "site-12", "site-03", "site-10", "site-05", "site-09", "site-02", "site-11", "site-04"]


def entries(world: World) -> list[dict[str, Any]]:
    return [json.loads(e) for e in world.boards["http://board-a"][1].entries]


def statements(world: World, kind: str) -> list[dict[str, Any]]:
    return [e["statement"] for e in entries(world) if e["statement"]["kind"] == kind]


def ws(world: World, who: str) -> str:
    return str(world.ws[who].path)


def coin(world: World, capsys: pytest.CaptureFixture[str], step: str, who: str, context: str, *extra: str) -> tuple[int, Any]:
    """``unveil coin STEP``; the inspector's commit names the population file and n = 3 unless
    ``extra`` gives other options."""
    if step == "commit" and who == "inspector" and not extra:
        extra = ("--population", str(world.root / "population.txt"), "--n", "3")
    return cli(capsys, "coin", step, "--workspace", ws(world, who), "--board", "http://board-a", "--context", context,
               "--escrow-id", ESCROW_ID, "--parties", str(world.parties_file), *extra)


def run_draw(world: World, capsys: pytest.CaptureFixture[str], context: str, *extra: str, who: str = "inspector") -> tuple[int, Any]:
    return cli(capsys, "draw", "--workspace", ws(world, who), "--board", "http://board-a", "--context", context,
               "--escrow-id", ESCROW_ID, "--parties", str(world.parties_file), *extra)


def cosign(world: World, capsys: pytest.CaptureFixture[str], *who: str) -> None:
    """Each of ``who`` syncs: mirrors the log and cosigns the board's checkpoint."""
    for name in who:
        code, out = sync(world, capsys, name)
        assert code == 0 and out["cosigned"], out


def stored_coins(world: World, who: str) -> list[tuple[str, int | None]]:
    """The contexts a workspace drew an r for, with the entry of its commitment."""
    with sqlite3.connect(world.ws[who].db_path) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'coins'").fetchone() is None:
            return []
        return db.execute("SELECT context, committed_index FROM coins ORDER BY context").fetchall()


def given(world: World, n: int, name: str = "population.txt") -> tuple[str, ...]:
    return ("--population", str(world.root / name), "--n", str(n))


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    return published(tmp_path, monkeypatch, capsys)


def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    """tests.test_board_clients' world (3 workspaces, PARTIES.json, an escrow) with its escrow
    published, and the population file."""
    world = World(tmp_path)
    monkeypatch.setattr(board_cmd, "connect", lambda url: world.client(url))
    world.board()
    code, out = publish(world, capsys, "host", "--escrow", str(world.escrow))
    assert code == 0, out
    (world.root / "population.txt").write_text("\n".join(POPULATION) + "\n")
    return world


def test_full_draw_matches_core_and_select(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-2-inspect"
    ordered = sorted(POPULATION)
    code, out = coin(world, capsys, "commit", "host", context)  # no population logged: the host waits
    assert code == 1 and out["reason"] == "waiting" and out["waiting"] == ["Inspector"] and "population" in out["error"], out
    assert statements(world, "coin.committed") == []
    code, out = coin(world, capsys, "commit", "inspector", context, "--n", "3")  # the inspecting party fixes the draw
    assert code == 2 and "--population" in out["error"]
    code, inspector_commit = coin(world, capsys, "commit", "inspector", context)
    assert code == 0, inspector_commit
    (first,) = statements(world, "coin.committed")
    assert first["body"] == {"context": context, "commitment": inspector_commit["commitment"], "population": ordered,
                             "population_sha256": population_sha256(ordered).hex(), "n": 3}
    code, out = coin(world, capsys, "reveal", "inspector", context)  # the host has not committed: too early
    assert code == 1 and out["reason"] == "waiting" and out["waiting"] == ["Host"], out
    code, out = coin(world, capsys, "reveal", "host", context)  # nothing committed here
    assert code == 1 and out["reason"] == "coin-missing"
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["waiting"] == ["Host"] and out["step"] == "commit"
    code, host_commit = coin(world, capsys, "commit", "host", context)
    assert code == 0, host_commit
    assert (host_commit["population_sha256"], host_commit["n"]) == (population_sha256(ordered).hex(), 3)
    assert statements(world, "coin.committed")[1]["body"] == {
        "context": context, "commitment": host_commit["commitment"], "population_sha256": population_sha256(ordered).hex(), "n": 3}
    code, out = coin(world, capsys, "commit", "host", context)  # a second commitment: refused locally
    assert code == 1 and out["reason"] == "coin-repeat"
    assert statements(world, "coin.revealed") == []
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["step"] == "reveal" and out["waiting"] == ["Host", "Inspector"]
    for who in ("host", "inspector"):
        code, out = coin(world, capsys, "reveal", who, context)
        assert code == 0, out
    code, out = coin(world, capsys, "reveal", "host", context)
    assert code == 1 and out["reason"] == "coin-repeat"

    # the stored r opens the logged commitment
    reveals: dict[str, bytes] = {}
    for who, committed in (("host", host_commit), ("inspector", inspector_commit)):
        with sqlite3.connect(world.ws[who].db_path) as db:
            (r,) = db.execute("SELECT r FROM coins WHERE context = ?", (context,)).fetchone()
        assert coin_commitment(context, world.ws[who].vkey, r).hex() == committed["commitment"]
        reveals[world.ws[who].vkey] = r
    assert sorted(s["body"]["r"] for s in statements(world, "coin.revealed")) == sorted(r.hex() for r in reveals.values())

    code, out = run_draw(world, capsys, context)  # logged, not final: nobody has cosigned the reveals yet
    assert code == 1 and out["step"] == "cosign" and out["waiting"] == ["Host", "Inspector", "Observer"], out
    assert "not final" in out["error"] and statements(world, "selection.drawn") == []
    cosign(world, capsys, "host", "inspector", "observer")  # the whole quorum vouches for the reveals
    code, drawn = run_draw(world, capsys, context)  # from the logged population and n
    assert code == 0, drawn
    assert drawn["final_size"] == len(entries(world)) - 1 and drawn["refused"] == drawn["not_cosigned"] == []
    seed = draw_seed(context, reveals)
    assert drawn["status"] == "drawn" and drawn["seed"] == seed.hex() and drawn["n"] == 3
    assert drawn["selection"] == select(ordered, 3, seed) and len(drawn["selection"]) == 3

    select_args = ["select", "--context", context, "--population", str(world.root / "population.txt"), "--n", "3"]
    for vkey, r in reveals.items():
        select_args += ["--reveal", vkey, r.hex()]
    code, offline = cli(capsys, *select_args)
    assert code == 0 and offline["seed"] == drawn["seed"] and offline["selection"] == drawn["selection"]

    (logged,) = statements(world, "selection.drawn")
    assert logged["body"] == {"context": context, "population_sha256": population_sha256(ordered).hex(), "n": 3,
                              "seed": seed.hex(), "selection": drawn["selection"]}
    assert drawn["index"] == len(entries(world)) - 1
    code, again = run_draw(world, capsys, context, *given(world, 3), who="host")  # already logged: same result, no new entry
    assert code == 0 and again["index"] == drawn["index"] and again["selection"] == drawn["selection"]
    code, out = run_draw(world, capsys, context, *given(world, 4))  # another n than the logged one
    assert code == 1 and out["reason"] == "population-mismatch"
    assert world.boards["http://board-a"][0].audit().ok


def test_host_refuses_every_member_inspected(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-3-inspect"
    for who in ("inspector", "host"):
        assert coin(world, capsys, "commit", who, context)[0] == 0
    assert coin(world, capsys, "reveal", "inspector", context)[0] == 0
    code, out = run_draw(world, capsys, context)
    assert code == 1 and out["waiting"] == ["Host"] and "waiting for Host" in out["error"]
    code, out = run_draw(world, capsys, context, "--deadline-passed")  # the inspector has not vouched for its reveal either
    assert code == 0 and out["status"] == "void" and out["refused"] == ["Host", "Inspector"] and out["not_cosigned"] == ["Inspector"], out
    cosign(world, capsys, "inspector")
    code, out = run_draw(world, capsys, context, "--deadline-passed")
    assert code == 0, out
    assert out["status"] == "host-refused" and out["seed"] is None and out["refused"] == ["Host"] and out["not_cosigned"] == []
    assert out["selection"] == sorted(POPULATION)  # the logged population, every member
    assert statements(world, "selection.drawn") == []  # the board could not check a seed: nothing logged


def test_inspector_never_commits_void(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-4-inspect"
    assert coin(world, capsys, "commit", "host", context)[0] == 1  # it waits for the population
    code, out = run_draw(world, capsys, context, "--deadline-passed", who="host")
    assert code == 0, out
    assert out["status"] == "void" and out["selection"] == [] and out["seed"] is None and out["refused"] == ["Inspector"]
    assert statements(world, "selection.drawn") == []


def test_bad_inputs_exit_2(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world = board
    dupes = world.root / "dupes.txt"
    dupes.write_text("site-01\nsite-02\nsite-01\n")
    code, out = coin(world, capsys, "commit", "inspector", "c-1", "--population", str(dupes), "--n", "1")
    assert code == 2 and "duplicate id 'site-01'" in out["error"] and str(dupes) in out["error"]
    code, out = run_draw(world, capsys, "c-1", "--population", str(dupes), "--n", "1")
    assert code == 2 and "duplicate id 'site-01'" in out["error"]
    empty = world.root / "empty.txt"
    empty.write_text("\n\n")
    code, out = coin(world, capsys, "commit", "inspector", "c-1", "--population", str(empty), "--n", "1")
    assert code == 2 and "empty" in out["error"] and str(empty) in out["error"]
    for n in ("11", "0", "-1"):
        code, out = coin(world, capsys, "commit", "inspector", "c-1", *given(world, int(n)))
        assert code == 2 and "--n" in out["error"], out
    code, out = run_draw(world, capsys, "c-1", *given(world, 11))
    assert code == 2 and "--n" in out["error"]
    code, out = coin(world, capsys, "commit", "inspector", "c-1", "--population", str(world.root / "population.txt"))
    assert code == 2 and "--n" in out["error"]
    code, out = coin(world, capsys, "commit", "host", "not an id")
    assert code == 2 and "--context" in out["error"]
    code, out = coin(world, capsys, "commit", "observer", "c-1")  # not a draw party
    assert code == 1 and out["reason"] == "not-a-draw-party"
    assert statements(world, "coin.committed") == []
    assert stored_coins(world, "inspector") == stored_coins(world, "host") == []  # no r drawn for a refused step


def test_discrepancy_raised_and_resolved(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world = board
    base = ["--workspace", ws(world, "inspector"), "--board", "http://board-a", "--escrow-id", ESCROW_ID]
    raise_at = ["discrepancy", "raise", *base, "--id", "d-1", "--detail", "six warheads seen, four declared"]
    code, out = cli(capsys, *raise_at, "--phase", "phase-1", "--cell", "depot-02")
    assert code == 1 and out["reason"] == "phase-unknown" and out["status"] == 422  # nothing revealed yet
    assert publish(world, capsys, "host", "--reveal", str(world.bundle))[0] == 0  # phase-1 opens depot-02 and depot-07
    code, out = cli(capsys, *raise_at, "--phase", "phase-1", "--cell", "depot-03")
    assert code == 1 and out["reason"] == "cell-not-opened" and out["status"] == 422
    code, raised = cli(capsys, *raise_at, "--phase", "phase-1", "--cell", "depot-02")
    assert code == 0, raised
    assert raised["intel_predates_reveal"] is None and raised["intel"] is False
    code, out = cli(capsys, "discrepancy", "raise", *base, "--id", "d-1", "--phase", "phase-1", "--cell", "depot-02", "--detail", "again")
    assert code == 1 and out["reason"] == "discrepancy-duplicate"
    code, out = cli(capsys, "discrepancy", "resolve", *base, "--id", "d-2", "--resolution", "x")
    assert code == 1 and out["reason"] == "discrepancy-unknown"
    code, resolved = cli(capsys, "discrepancy", "resolve", *base, "--id", "d-1", "--resolution", "recount: six, declaration amended")
    assert code == 0, resolved
    (r,) = statements(world, "discrepancy.raised")
    assert r["body"] == {"id": "d-1", "phase": "phase-1", "cell": "depot-02", "detail": "six warheads seen, four declared", "intel": None}
    (s,) = statements(world, "discrepancy.resolved")
    assert s["body"] == {"id": "d-1", "resolution": "recount: six, declaration amended"}
    assert [raised["index"], resolved["index"]] == [2, 3]  # refused events take no entry
    code, out = cli(capsys, "discrepancy", "raise", "--workspace", ws(world, "host"), "--board", "http://board-a",
                    "--escrow-id", ESCROW_ID, "--id", "d-9", "--phase", "phase-1", "--cell", "depot-02", "--detail", "x")
    assert code == 2 and "inspector workspace" in out["error"]


def test_every_view_of_a_discrepancy_shows_whether_its_intel_predates_the_reveal(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The attack: intelligence sealed after the reveals (intel seal --allow-late) offered as
    evidence for a discrepancy in an earlier phase. The board logs it, and the raise command,
    the board's state and an audit all say that it does not predate the reveal."""
    from tests.test_board_core import INTEL, Escrowed
    from unveil.board.audit import audit

    world = board
    intel = Escrowed("clients-intel", world.ws["inspector"].statement_key(), INTEL, shadows=ESCROW_ID)
    (world.root / "intel-escrow.json").write_text(json.dumps(intel.signed))
    base = ["discrepancy", "raise", "--workspace", ws(world, "inspector"), "--board", "http://board-a", "--escrow-id", ESCROW_ID,
            "--cell", "depot-07", "--detail", "suspected store"]
    assert publish(world, capsys, "host", "--reveal", str(world.bundle))[0] == 0  # entry 1: phase-1
    assert publish(world, capsys, "inspector", "--escrow", str(world.root / "intel-escrow.json"))[0] == 0  # entry 2: too late
    (world.root / "intel-1.json").write_text(json.dumps(intel.bundle("challenge-1", [6])))
    code, late = cli(capsys, *base, "--id", "d-late", "--phase", "phase-1", "--intel-bundle", str(world.root / "intel-1.json"))
    assert code == 0 and late["intel"] is True and late["intel_predates_reveal"] is False, late
    # a later phase, revealed after the intel escrow was logged: the intel predates it
    phase_2 = world.root / "reveal-phase-2.json"
    host_service.reveal(world.ws["host"], escrow_id=ESCROW_ID, phase="phase-2", indices=[6], out=phase_2, now=datetime.now(timezone.utc))
    assert publish(world, capsys, "host", "--reveal", str(phase_2))[0] == 0
    (world.root / "intel-2.json").write_text(json.dumps(intel.bundle("challenge-2", [6])))
    args = [*base, "--id", "d-early", "--phase", "phase-2", "--intel-bundle", str(world.root / "intel-2.json")]
    assert main(args) == 0  # for a person
    assert "intel sealed before the reveal" in capsys.readouterr().out
    log, storage, _ = world.boards["http://board-a"]
    views = {v["id"]: v["intel_predates_reveal"] for v in log.state.discrepancy_views()}
    assert views == {"d-late": False, "d-early": True}
    report = audit(storage.entries, world.parties, log.origin, [log.checkpoint()], bundles=storage.get_bundle)
    assert report.ok, report.problems
    assert {d["id"]: d["intel_predates_reveal"] for d in report.to_json()["discrepancies"]} == views  # type: ignore[union-attr]
    code, out = cli(capsys, "audit", "--board", "http://board-a", "--origin", log.origin, "--parties", str(world.parties_file), "--allow-pending")
    assert code == 0 and [(d["id"], d["intel_predates_reveal"]) for d in out["discrepancies"]] == [("d-late", False), ("d-early", True)]
    assert main(["audit", "--board", "http://board-a", "--origin", log.origin, "--parties", str(world.parties_file), "--allow-pending"]) == 0
    assert "AFTER the reveal" in capsys.readouterr().out


def test_inspect_report_stored(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world = board
    results = world.root / "results.json"
    results.write_text(json.dumps([
        {"site": "D-2", "result": "discrepancy", "detail": "six warheads, four declared"},
        {"site": "D-7", "result": "consistent", "detail": ""},
    ]))
    args = ["inspect", "report", "--workspace", ws(world, "inspector"), "--escrow-id", ESCROW_ID, "--phase", "phase-1"]
    code, out = cli(capsys, *args, "--results", str(results))
    assert code == 0 and out == {"escrow_id": ESCROW_ID, "phase": "phase-1", "sites": 2, "consistent": 1, "discrepancy": 1}
    with sqlite3.connect(world.ws["inspector"].db_path) as db:
        rows = db.execute("SELECT site, result, detail FROM inspections WHERE escrow_id = ? ORDER BY site", (ESCROW_ID,)).fetchall()
    assert rows == [("D-2", "discrepancy", "six warheads, four declared"), ("D-7", "consistent", "")]
    bad = world.root / "bad.json"
    bad.write_text(json.dumps([{"site": "D-2", "result": "maybe", "detail": ""}]))
    code, out = cli(capsys, *args, "--results", str(bad))
    assert code == 2 and "results[0].result" in out["error"]
    assert len(entries(world)) == 1  # local only: nothing posted


class DroppingBoard(BoardClient):
    """The test board, but every POST /entries fails: before it reaches the board
    (``delivered`` false) or after the board logged it, the answer lost (``delivered`` true)."""

    def __init__(self, world: World, delivered: bool):
        super().__init__(world.boards["http://board-a"][2])
        self.delivered = delivered

    def submit(self, envelope: dict[str, Any] | bytes) -> Any:
        if self.delivered:
            super().submit(envelope)
        raise BoardError(0, Reason.UNREACHABLE, "connection reset")


def test_commit_keeps_r_before_posting_and_retries(board: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    world, context = board, "phase-5-inspect"
    reachable = board_cmd.connect
    monkeypatch.setattr(board_cmd, "connect", lambda url: BoardClient("http://127.0.0.1:1", timeout=2))
    code, out = coin(world, capsys, "commit", "inspector", context)  # the board is down: nothing drawn
    assert code == 1 and out["reason"] == "unreachable"
    assert stored_coins(world, "inspector") == []
    monkeypatch.setattr(board_cmd, "connect", lambda url: DroppingBoard(world, delivered=False))
    code, out = coin(world, capsys, "commit", "inspector", context)  # lost on the way
    assert code == 1 and out["reason"] == "unreachable"
    with sqlite3.connect(world.ws["inspector"].db_path) as db:
        (r, index), = db.execute("SELECT r, committed_index FROM coins WHERE context = ?", (context,)).fetchall()
    assert len(r) == 32 and index is None  # kept before anything was sent
    monkeypatch.setattr(board_cmd, "connect", reachable)
    code, out = coin(world, capsys, "commit", "inspector", context)  # the same r, posted now
    assert code == 0 and out["commitment"] == coin_commitment(context, world.ws["inspector"].vkey, r).hex()

    monkeypatch.setattr(board_cmd, "connect", lambda url: DroppingBoard(world, delivered=True))
    code, out = coin(world, capsys, "commit", "host", context)  # logged, but the answer was lost
    assert code == 1 and out["reason"] == "unreachable"
    assert [c for c, _ in stored_coins(world, "host")] == [context]
    monkeypatch.setattr(board_cmd, "connect", reachable)
    code, out = coin(world, capsys, "commit", "host", context)  # found on the board: recorded, not posted again
    assert code == 0 and out["index"] == 2, out
    assert stored_coins(world, "host") == [(context, 2)] and len(statements(world, "coin.committed")) == 2
    assert coin(world, capsys, "reveal", "host", context)[0] == 0


def test_human_output(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-6-inspect"
    base = ["--board", "http://board-a", "--context", context, "--escrow-id", ESCROW_ID, "--parties", str(world.parties_file)]
    draw = ["draw", "--workspace", ws(world, "host"), *base]
    assert main(["coin", "commit", "--workspace", ws(world, "host"), *base]) == 1
    assert "waiting for Inspector to commit: no population is logged" in capsys.readouterr().err
    assert main(["coin", "commit", "--workspace", ws(world, "inspector"), *base, *given(world, 2)]) == 0
    assert main(draw) == 1
    captured = capsys.readouterr()
    assert "committed its coin" in captured.out and "waiting for Host to commit" in captured.err
    assert main(["coin", "commit", "--workspace", ws(world, "host"), *base]) == 0
    for who in ("host", "inspector"):
        assert main(["coin", "reveal", "--workspace", ws(world, who), *base]) == 0
    assert main(draw) == 1
    assert "waiting for Host, Inspector, Observer to cosign: the coin reveals" in capsys.readouterr().err
    cosign(world, capsys, "host", "inspector", "observer")
    assert main(draw) == 0
    out = capsys.readouterr().out
    assert "selection (2 of 10): " in out
    bad = world.root / "intel.json"
    bad.write_text("{}")
    code, out = cli(capsys, "discrepancy", "raise", "--workspace", ws(world, "inspector"), "--board", "http://board-a",
                    "--escrow-id", ESCROW_ID, "--id", "d-1", "--phase", "phase-1", "--cell", "depot-02", "--detail", "x",
                    "--intel-bundle", str(bad))
    assert code == 2 and "intel bundle" in out["error"]


def test_a_transcript_that_does_not_match_the_signed_checkpoint_is_refused(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A board that serves other entries than those its checkpoint signs cannot steer a draw."""
    from unveil.workspace import coins

    world, context = board, "phase-9-inspect"
    assert coin(world, capsys, "commit", "inspector", context)[0] == 0
    real = world.client("http://board-a")

    class LyingBoard:
        def checkpoint(self) -> str:
            return real.checkpoint()

        def entries(self, start: int, end: int) -> list[bytes]:
            honest = list(real.entries(start, end))
            return [*honest[:-1], honest[0]]  # the last entry swapped for another

    transcript = coins.read_transcript(real, world.parties, context, ESCROW_ID)
    assert list(transcript.commitments) and transcript.population == tuple(sorted(POPULATION))  # the honest board's log
    with pytest.raises(DrawRefused) as caught:
        coins.read_transcript(LyingBoard(), world.parties, context, ESCROW_ID)  # type: ignore[arg-type]  # a stand-in client
    assert caught.value.reason == "checkpoint-invalid"


def _revealed(world: World, capsys: pytest.CaptureFixture[str], context: str, *cosigners: str) -> bytes:
    """Inspector and host committed (the inspector first, n = 3 of the population file) and
    revealed, then ``cosigners`` synced; returns the seed of the draw."""
    for who in ("inspector", "host"):
        assert coin(world, capsys, "commit", who, context)[0] == 0
    for who in ("host", "inspector"):
        assert coin(world, capsys, "reveal", who, context)[0] == 0
    cosign(world, capsys, *cosigners)
    reveals = {}
    for who in ("host", "inspector"):
        with sqlite3.connect(world.ws[who].db_path) as db:
            (r,) = db.execute("SELECT r FROM coins WHERE context = ?", (context,)).fetchone()
        reveals[world.ws[who].vkey] = r
    return draw_seed(context, reveals)


def _host_posts(world: World, body: dict[str, Any]) -> BoardError:
    """The host signs ``body`` as selection.drawn itself (no shape check of ours) and posts it."""
    from unveil.core.statements import sign_statement

    statement = {"type": "unveil/event/v1", "kind": "selection.drawn", "escrow_id": ESCROW_ID,
                 "time": statements(world, "coin.revealed")[-1]["time"], "body": body}
    with pytest.raises(BoardError) as caught:
        world.client("http://board-a").submit(sign_statement(statement, [world.ws["host"].statement_key()]))
    return caught.value


def test_a_host_preempting_the_selection_is_refused_and_the_inspector_draws(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The attack: after both reveals the host logs selection.drawn with the right seed, n 0 and
    a made-up population_sha256, so that the inspector's draw can never log the true one."""
    world, context = board, "phase-7-inspect"
    seed = _revealed(world, capsys, context, "host", "inspector", "observer")
    made_up = "ab" * 32
    error = _host_posts(world, {"context": context, "population_sha256": made_up, "n": 0, "seed": seed.hex(), "selection": []})
    assert (error.status, error.reason) == (400, "malformed")
    ordered = sorted(POPULATION)
    error = _host_posts(world, {"context": context, "population_sha256": made_up, "n": 3, "seed": seed.hex(),
                                "selection": select(ordered, 3, seed)})
    assert (error.status, error.reason) == (422, "selection-mismatch")
    error = _host_posts(world, {"context": context, "population_sha256": population_sha256(ordered).hex(), "n": 2,
                                "seed": seed.hex(), "selection": select(ordered, 2, seed)})
    assert (error.status, error.reason) == (422, "selection-mismatch")
    assert statements(world, "selection.drawn") == []
    code, drawn = run_draw(world, capsys, context)
    assert code == 0 and drawn["status"] == "drawn", drawn
    (logged,) = statements(world, "selection.drawn")
    assert logged["body"] == {"context": context, "population_sha256": population_sha256(ordered).hex(), "n": 3,
                              "seed": seed.hex(), "selection": select(ordered, 3, seed)}
    assert world.boards["http://board-a"][0].audit().ok


def test_the_host_commits_only_to_the_logged_population(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-8-inspect"
    assert coin(world, capsys, "commit", "inspector", context)[0] == 0
    (world.root / "fewer.txt").write_text("\n".join(sorted(POPULATION)[:5]) + "\n")
    code, out = coin(world, capsys, "commit", "host", context, *given(world, 3, "fewer.txt"))
    assert code == 1 and out["reason"] == "population-mismatch" and "nothing was committed" in out["error"], out
    code, out = coin(world, capsys, "commit", "host", context, *given(world, 4))  # the same file, another n
    assert code == 1 and out["reason"] == "population-mismatch"
    assert len(statements(world, "coin.committed")) == 1 and stored_coins(world, "host") == []
    code, out = coin(world, capsys, "commit", "host", context, *given(world, 3))  # the logged ones: checked, committed
    assert code == 0, out
    code, out = coin(world, capsys, "commit", "host", "phase-8b-inspect")  # a population of another context opens nothing
    assert code == 1 and out["reason"] == "waiting" and out["waiting"] == ["Inspector"]


def test_an_oversized_population_is_refused_naming_the_largest(board: World, capsys: pytest.CaptureFixture[str]) -> None:
    world, context = board, "phase-9-oversized"
    big = world.root / "big.txt"
    big.write_text("".join(f"site-{i:059d}\n" for i in range(16_000)))  # ids of 64 characters
    code, out = coin(world, capsys, "commit", "inspector", context, "--population", str(big), "--n", "10")
    assert code == 2, out
    assert str(big) in out["error"] and "1,048,576 bytes" in out["error"] and "largest population is 15,6" in out["error"], out
    assert statements(world, "coin.committed") == [] and stored_coins(world, "inspector") == []
    fits = world.root / "fits.txt"
    fits.write_text("".join(f"site-{i:059d}\n" for i in range(15_000)))
    code, out = coin(world, capsys, "commit", "inspector", context, "--population", str(fits), "--n", "10")
    assert code == 0, out
    assert len(statements(world, "coin.committed")[0]["body"]["population"]) == 15_000
