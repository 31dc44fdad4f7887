"""``unveil item move|witness`` and ``unveil access request|grant|refuse`` (spec §12) against a
board running in process (tests.test_board_clients' world): what each logs, and that a bad
option is exit 2 and a refusal by the board exit 1, with nothing logged either way."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.test_board_clients import World, cli, publish, seeded
from unveil.agreements.model import agreement_sha256
from unveil.board.events import make_event
from unveil.cli import board_cmd
from unveil.core.encoding import format_time
from unveil.workspace import host as host_service

ESCROW = "custody-cli-1"
CELLS = [f"depot-{i:02d}" for i in range(1, 9)]
CONTENTS: dict[str, dict[str, Any]] = {
    "depot-02": {"cell": "depot-02", "sites": [{"id": "D-2", "kind": "weapons-storage", "items": [
        {"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-1", "W-2"]}]}]},
}
AGREEMENT: dict[str, Any] = {
    "id": "deal-cli", "escrow": ESCROW, "start": "2019-01-18T15:00:00Z", "parties": ["Host", "Inspector"],
    "access": {"delayed": "PT1H", "refused": "PT10H"},
    "obligations": [{"id": "other-1", "party": "Inspector", "action": "other", "description": "sanctions relief", "due": "P30D"}],
}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    """The world's parties and board, an escrow of warheads W-1 and W-2 (depot-02) published and
    opened, and an agreement published and signed by Host and Inspector."""
    w = World(tmp_path)
    monkeypatch.setattr(board_cmd, "connect", lambda url: w.client(url))
    w.board()
    out = tmp_path / "custody-out"
    when = datetime.now(timezone.utc).replace(microsecond=0)
    host_service.commit(w.ws["host"], escrow_id=ESCROW, cells=CELLS, resolution=None, contents=CONTENTS, out=out, now=when, random=seeded("c"))
    host_service.reveal(w.ws["host"], escrow_id=ESCROW, phase="phase-1", indices=[1], out=out / "reveal.json", now=when)
    for what in (("--escrow", str(out / "escrow.json")), ("--reveal", str(out / "reveal.json"))):
        code, result = publish(w, capsys, "host", *what)
        assert code == 0, result
    client = w.client("http://board-a")
    post(w, "host", "agreement.published", {"agreement": AGREEMENT})
    for ahead, who in enumerate(("host", "inspector")):  # a second apart: the same statement twice would be one (spec §7)
        post(w, who, "agreement.signed", {"agreement": AGREEMENT["id"], "sha256": agreement_sha256(AGREEMENT)}, ahead)
    assert client.checkpoint()  # the board answers
    return w


def post(w: World, who: str, kind: str, body: dict[str, Any], ahead: int = 0) -> int:
    when = format_time(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=ahead))
    return w.client("http://board-a").submit(make_event(kind, ESCROW, when, body, [w.ws[who].statement_key()])).index


def logged(w: World, kind: str) -> list[dict[str, Any]]:
    return [s["statement"]["body"] for s in map(json.loads, w.boards["http://board-a"][1].entries) if s["statement"]["kind"] == kind]


def run(w: World, capsys: pytest.CaptureFixture[str], who: str, *args: str) -> tuple[int, Any]:
    return cli(capsys, *args[:2], "--workspace", str(w.ws[who].path), "--board", "http://board-a", "--escrow-id", ESCROW, *args[2:])


def test_items_move_and_are_witnessed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(world, capsys, "host", "item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "entry:1",
                    "--evidence", "text:seals intact", "--site", "D-2")
    assert code == 0, out
    assert out["serial"] == "W-1" and out["to"] == "verified" and isinstance(out["index"], int)
    assert logged(world, "item.moved") == [{"serial": "W-1", "to": "verified", "site": "D-2", "evidence": [{"entry": 1}, {"text": "seals intact"}]}]
    code, out = run(world, capsys, "inspector", "item", "witness", "--serial", "W-1", "--step", "verified")
    assert code == 0 and out["step"] == "verified", out
    state = world.boards["http://board-a"][0].state
    held = state.custody_of(ESCROW)
    assert held is not None and held.witnessed("W-1") and held.counts()["verified"] == 1


def test_refusals_by_the_board_exit_1_and_log_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    size = world.boards["http://board-a"][0].size
    for who, args, reason in [
        ("host", ("item", "move", "--serial", "W-99", "--to", "verified"), "custody-gap"),
        ("host", ("item", "move", "--serial", "W-1", "--to", "stored"), "step-skipped"),
        ("inspector", ("item", "move", "--serial", "W-1", "--to", "verified"), "role-not-allowed"),
        ("host", ("item", "witness", "--serial", "W-1", "--step", "declared"), "role-not-allowed"),
        ("host", ("access", "grant", "--id", "A-9"), "access-unknown"),
        ("inspector", ("access", "request", "--id", "A-1", "--site", "D-9"), "access-target-unknown"),
    ]:
        code, out = run(world, capsys, who, *args)
        assert (code, out["reason"]) == (1, reason), (args, out)
    assert world.boards["http://board-a"][0].size == size


@pytest.mark.parametrize("args", [
    ("item", "move", "--serial", "W 1", "--to", "verified"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "entry:-1"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "entry:01"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "sha256:xyz"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "text:"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--evidence", "url:http://x"),
    ("item", "move", "--serial", "W-1", "--to", "verified", "--site", ""),
    ("access", "request", "--id", "A-1"),
    ("access", "request", "--id", "A-1", "--site", "D-2", "--cell", "depot-02"),
    ("access", "refuse", "--id", "A-1", "--reason", ""),
    ("access", "refuse", "--id", "A-1", "--reason", "r" * 1001),
    ("access", "grant", "--id", "bad id"),
    ("item", "move", "--serial", "W-1"),  # --to missing: usage
])
def test_bad_options_exit_2_and_post_nothing(world: World, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    size = world.boards["http://board-a"][0].size
    code, out = run(world, capsys, "host", *args)
    assert code == 2, out
    assert world.boards["http://board-a"][0].size == size


def test_access_is_requested_and_answered(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(world, capsys, "inspector", "access", "request", "--id", "A-1", "--site", "D-2")
    assert code == 0 and (out["site"], out["cell"]) == ("D-2", None), out
    code, out = run(world, capsys, "inspector", "access", "request", "--id", "A-2", "--cell", "depot-05")
    assert code == 0, out
    code, out = run(world, capsys, "host", "access", "grant", "--id", "A-1")
    assert code == 0 and out["granted"] is True, out
    code, out = run(world, capsys, "host", "access", "refuse", "--id", "A-2", "--reason", "military zone")
    assert code == 0 and out["granted"] is False and out["reason"] == "military zone", out
    code, out = run(world, capsys, "host", "access", "grant", "--id", "A-2")
    assert (code, out["reason"]) == (1, "access-answered")
    assert logged(world, "access.refused") == [{"id": "A-2", "reason": "military zone"}]
    book = world.boards["http://board-a"][0].state.access_of(ESCROW)
    assert book is not None and [v["state"] for v in book.views(book.requests["A-2"].answered or 0)] == ["granted", "refused"]


def test_status_shows_items_access_and_their_problems(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for who, args in [
        ("host", ("item", "move", "--serial", "W-1", "--to", "verified")),
        ("host", ("item", "move", "--serial", "W-1", "--to", "separated")),  # verified was not witnessed
        ("inspector", ("access", "request", "--id", "A-1", "--site", "D-2")),
    ]:
        code, out = run(world, capsys, who, *args)
        assert code == 0, out
    (tmp_path / "agreement.json").write_text(json.dumps(AGREEMENT))
    code, out = cli(capsys, "agreement", "status", "--board", "http://board-a", "--agreement", str(tmp_path / "agreement.json"),
                    "--parties", str(world.parties_file))
    assert code == 0, out
    steps = ["declared", "verified", "separated", "stored", "dismantled", "disposed"]
    assert out["items"] == {**dict.fromkeys(steps, 0), "declared": 1, "separated": 1}
    assert out["items_by_category"] == {"warhead": out["items"]}
    assert out["access"] == [{"id": "A-1", "state": "requested", "site": "D-2", "cell": None}]
    assert [(p["reason"], p.get("serial")) for p in out["problems"]] == [("unwitnessed-transition", "W-1")]
    later = format_time(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=11))
    code, out = cli(capsys, "agreement", "status", "--board", "http://board-a", "--agreement", str(tmp_path / "agreement.json"),
                    "--parties", str(world.parties_file), "--at", later)
    assert code == 0, out
    assert out["access"][0]["state"] == "refused"  # unanswered past PT10H: what it will be then, if nothing more happens
    assert {p["reason"] for p in out["problems"]} == {"unwitnessed-transition", "access-refused"}


def test_status_for_a_person_lists_items_and_access(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from unveil.cli.main import main

    assert run(world, capsys, "inspector", "access", "request", "--id", "A-1", "--cell", "depot-05")[0] == 0
    (tmp_path / "agreement.json").write_text(json.dumps(AGREEMENT))
    code = main(["agreement", "status", "--board", "http://board-a", "--agreement", str(tmp_path / "agreement.json"),
                 "--parties", str(world.parties_file)])
    text = capsys.readouterr().out
    assert code == 0 and "items: declared 2, verified 0" in text and "access A-1" in text and "cell depot-05" in text, text


def test_item_and_access_events_are_re_dated_on_a_same_second_conflict(tmp_path: Path) -> None:
    """workspace.boards.post_event serves agreements and custody alike: a statement-conflict (another
    party's identical body in the same second) is signed again a second later, RETRIES times at most;
    any other refusal is raised at once."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from unveil.errors import BoardError
    from unveil.workspace import boards
    from unveil.workspace.custody import witness_item
    from unveil.workspace.workspace import create

    ws = create(tmp_path / "insp", "inspector", "Inspector")
    moment = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)

    class Client:
        def __init__(self, conflicts: int, reason: str = "statement-conflict") -> None:
            self.conflicts, self.reason, self.times = conflicts, reason, []

        def submit(self, envelope: dict) -> SimpleNamespace:  # type: ignore[type-arg]
            self.times.append(envelope["statement"]["time"])
            if len(self.times) <= self.conflicts:
                raise BoardError(409, self.reason, "the same statement")
            return SimpleNamespace(index=7, created=True)

    once = Client(1)
    assert witness_item(ws, once, "e", "W-1", "verified", moment)["index"] == 7  # type: ignore[arg-type]
    assert once.times == ["2026-12-03T12:00:00Z", "2026-12-03T12:00:01Z"]
    always = Client(99)
    with pytest.raises(BoardError):
        witness_item(ws, always, "e", "W-1", "verified", moment)  # type: ignore[arg-type]
    assert len(always.times) == boards.RETRIES + 1
    other = Client(1, "role-not-allowed")
    with pytest.raises(BoardError):
        witness_item(ws, other, "e", "W-1", "verified", moment)  # type: ignore[arg-type]
    assert len(other.times) == 1
