"""``unveil agreement sign|claim|verify|dispute|withdraw|status`` (spec §12) against a board
running in process (tests.test_board_clients' world: Host, Inspector, Observer, an escrow)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_board_clients import ESCROW_ID, World, cli, publish
from tests.test_draw_cli import published
from unveil.agreements import agreement_sha256

URL = "http://board-a"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
DOC: dict[str, Any] = {
    "id": "freeze-1",
    "escrow": ESCROW_ID,
    "start": _time(START),
    "parties": ["Host", "Inspector"],
    "access": {"delayed": "PT12H", "refused": "P2D"},
    "obligations": [
        {"id": "reveal-1", "party": "Host", "action": "reveal-phase", "phase": "phase-1", "due": "PT2H"},
        {"id": "relief", "party": "Inspector", "action": "other", "description": "sanctions relief, tranche 1", "due": "P1D", "after": ["reveal-1"]},
        {"id": "close", "party": "Host", "action": "close-site", "site": "S-1", "due": "P1D"},
    ],
}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    found = published(tmp_path, monkeypatch, capsys)
    (tmp_path / "agreement.yaml").write_text(yaml.safe_dump(DOC, sort_keys=False))
    return found


def size(world: World) -> int:
    return world.boards[URL][0].size


def agreement(world: World, step: str, who: str, *extra: str, path: str = "agreement.yaml") -> tuple[int, Any]:
    return cli(capsys_of(world), "agreement", step, "--workspace", str(world.ws[who].path), "--board", URL,
               "--agreement", str(world.root / path), *extra)


def status(world: World, *extra: str, path: str = "agreement.yaml") -> tuple[int, Any]:
    return cli(capsys_of(world), "agreement", "status", "--board", URL, "--agreement", str(world.root / path),
               "--parties", str(world.parties_file), *extra)


_CAPSYS: dict[int, pytest.CaptureFixture[str]] = {}


def capsys_of(world: World) -> pytest.CaptureFixture[str]:
    return _CAPSYS[id(world)]


@pytest.fixture(autouse=True)
def _remember(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _CAPSYS[id(world)] = capsys


def states(out: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["state"] for row in out["obligations"]}


def signed(world: World) -> None:
    code, out = agreement(world, "sign", "host")
    assert code == 0 and out["published"] is not None and out["sha256"] == agreement_sha256(DOC), out
    code, out = agreement(world, "sign", "inspector")
    assert code == 0 and out["published"] is None, out


def test_sign_publishes_once_and_status_reads_the_signatures(world: World) -> None:
    code, out = agreement(world, "sign", "host")
    assert code == 0, out
    code, out = status(world)
    assert code == 0 and out["signed_by"] == ["Host"] and not out["fully_signed"], out
    code, out = agreement(world, "claim", "host", "--obligation", "close")
    assert code == 1 and out["reason"] == "agreement-unsigned", out
    code, out = agreement(world, "sign", "inspector")
    assert code == 0 and out["published"] is None
    code, out = agreement(world, "sign", "observer")  # not a party: refused before anything is sent
    assert code == 1 and out["reason"] == "role-not-allowed"
    code, out = status(world)
    assert code == 0 and out["signed_by"] == ["Host", "Inspector"] and out["fully_signed"]
    assert out["obligations"] == [
        {"id": "reveal-1", "party": "Host", "state": "due", "due": _time(START + timedelta(hours=2))},
        {"id": "relief", "party": "Inspector", "state": "pending", "due": None},
        {"id": "close", "party": "Host", "state": "due", "due": _time(START + timedelta(days=1))},
    ]
    assert out["problems"] == []


def test_a_claim_by_the_wrong_party_is_refused_and_nothing_is_logged(world: World) -> None:
    signed(world)
    before = size(world)
    code, out = agreement(world, "claim", "inspector", "--obligation", "close")
    assert code == 1 and out["reason"] == "role-not-allowed", out
    code, out = agreement(world, "verify", "host", "--obligation", "close")  # the obligor verifies its own
    assert code == 1 and out["reason"] == "role-not-allowed"
    code, out = agreement(world, "claim", "host", "--obligation", "nothing")
    assert code == 2 and "--obligation" in out["error"]
    code, out = agreement(world, "claim", "host", "--obligation", "close", "--evidence", "photo.jpg")
    assert code == 2 and "--evidence" in out["error"]
    code, out = agreement(world, "verify", "inspector", "--obligation", "close")  # nobody claimed it: the board refuses
    assert code == 1 and out["reason"] == "obligation-unclaimed"
    assert size(world) == before


def test_claim_dispute_withdraw_verify(world: World) -> None:
    signed(world)
    (world.root / "seal.jpg").write_bytes(b"a photograph")
    code, out = agreement(world, "claim", "host", "--obligation", "close", "--evidence", "text:sealed on site",
                          "--evidence", "entry:0", "--evidence", f"file:{world.root / 'seal.jpg'}")
    assert code == 0 and out["kind"] == "obligation.claimed", out
    entry = json.loads(world.boards[URL][1].entries[out["index"]])
    assert entry["statement"]["body"]["evidence"] == [
        {"text": "sealed on site"}, {"entry": 0}, {"sha256": hashlib.sha256(b"a photograph").hexdigest()}]
    assert states(status(world)[1])["close"] == "claimed"
    code, out = agreement(world, "dispute", "inspector", "--obligation", "close", "--reason", "the door is open")
    assert code == 0, out
    assert states(status(world)[1])["close"] == "disputed"
    code, out = agreement(world, "withdraw", "inspector", "--obligation", "close")
    assert code == 0 and out["created"], out
    assert states(status(world)[1])["close"] == "claimed"
    code, again = agreement(world, "withdraw", "inspector", "--obligation", "close")  # the same second: the same event
    assert code in (0, 1) and (again.get("created") is False and again["index"] == out["index"] or again.get("reason") == "dispute-unknown"), again
    code, out = agreement(world, "verify", "inspector", "--obligation", "close")
    assert code == 0, out
    assert states(status(world)[1])["close"] == "verified"
    code, out = agreement(world, "claim", "host", "--obligation", "close")
    assert code == 1 and out["reason"] == "obligation-settled"


def test_a_reveal_verifies_by_the_log_and_at_shows_what_will_be_overdue(world: World) -> None:
    signed(world)
    code, out = publish(world, capsys_of(world), "host", "--reveal", str(world.bundle))
    assert code == 0, out
    code, out = status(world)
    assert states(out) == {"reveal-1": "verified", "relief": "due", "close": "due"}, out
    relief = next(row for row in out["obligations"] if row["id"] == "relief")
    assert relief["due"] is not None
    later = _time(datetime.now(timezone.utc) + timedelta(days=2))
    code, out = status(world, "--at", later)
    assert code == 0 and states(out) == {"reveal-1": "verified", "relief": "overdue", "close": "overdue"} and out["at"] == later
    code, out = status(world, "--at", _time(START))  # before the reveal and the signatures' entries
    assert states(out)["reveal-1"] == "due" and states(out)["relief"] == "pending"
    assert out["signed_by"] == [] and not out["fully_signed"]
    code, out = status(world, "--at", "tomorrow")
    assert code == 2 and "--at" in out["error"]


def test_a_late_claim_is_reported(world: World) -> None:
    doc = {**DOC, "start": _time(START - timedelta(days=3))}
    (world.root / "old.yaml").write_text(yaml.safe_dump(doc))
    code, out = agreement(world, "sign", "host", path="old.yaml")
    assert code == 0, out
    agreement(world, "sign", "inspector", path="old.yaml")
    code, out = status(world, path="old.yaml")
    assert states(out)["close"] == "overdue"
    agreement(world, "claim", "host", "--obligation", "close", path="old.yaml")
    code, out = status(world, path="old.yaml")
    assert states(out)["close"] == "claimed"
    assert [p["reason"] for p in out["problems"]] == ["claimed-late"] and "close" in out["problems"][0]["detail"]


def test_a_bad_agreement_file_is_exit_2_naming_the_field_and_nothing_is_logged(world: World) -> None:
    before = size(world)
    bad = json.loads(json.dumps(DOC))
    bad["obligations"][1]["after"] = ["nowhere"]
    (world.root / "bad.json").write_text(json.dumps(bad))
    code, out = agreement(world, "sign", "host", path="bad.json")
    assert code == 2 and "obligations[1].after[0]" in out["error"] and "bad.json" in out["error"], out
    (world.root / "deep.json").write_text("[" * 100 + "]" * 100)
    code, out = agreement(world, "sign", "host", path="deep.json")
    assert code == 2 and "nest" in out["error"]
    code, out = agreement(world, "sign", "host", path="missing.yaml")
    assert code == 2
    code, out = status(world, path="bad.json")
    assert code == 2
    assert size(world) == before


def test_status_refuses_another_agreement_than_the_boards(world: World) -> None:
    code, out = status(world)
    assert code == 1 and out["problems"][0]["reason"] == "agreement-unknown", out
    signed(world)
    (world.root / "other.json").write_text(json.dumps({**DOC, "start": _time(START + timedelta(seconds=1))}))
    code, out = status(world, path="other.json")
    assert code == 1 and out["problems"][0]["reason"] == "agreement-mismatch"
    code, out = agreement(world, "sign", "inspector", path="other.json")  # the board holds another text: its hash is refused
    assert code == 1 and out["reason"] == "agreement-mismatch"


def test_two_signatures_in_one_second_are_both_logged(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statement names no author: the second party's identical body in the same second is
    the same statement (statement-conflict), so the service signs it again a second later."""
    from unveil.cli import workflow_cmd

    moment = datetime.now(timezone.utc).replace(microsecond=0)
    monkeypatch.setattr(workflow_cmd, "now", lambda: moment)
    assert agreement(world, "sign", "host")[0] == 0
    code, out = agreement(world, "sign", "inspector")
    assert code == 0 and out["created"], out
    entry = json.loads(world.boards[URL][1].entries[out["index"]])
    assert entry["statement"]["time"] == _time(moment + timedelta(seconds=1))
    assert status(world)[1]["fully_signed"]
