"""`make demo` runs `unveil demo`: the built-in exercise end to end (issue 3, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unveil.cli.main import main


def test_demo_runs_the_exercise_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fictional"] is True and summary["as_expected"] is True
    assert [b["verdict"] for b in summary["bundles"]] == ["valid", "invalid", "valid", "valid", "valid"]
    tampered = summary["bundles"][1]
    assert "tamper" in tampered["bundle"] and "leaf-mismatch" in tampered["reasons"]
    assert summary["reconciled"] is True and summary["coverage_missing"] == 0
    assert summary["totals"]["warhead"] == {"declared": 30, "opened": 30}
    names = {p.name for p in tmp_path.iterdir()}
    assert {"escrow.json", "cells.txt", "leaves.bin", "reveal-phase-1.json", "reveal-phase-2.json",
            "reveal-phase-3.json", "reveal-final.json", "reveal-phase-1-tampered.json"} <= names
    assert summary["seconds"] < 60
    # Running it again over the same folder starts afresh.
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0


def test_demo_board_is_cosigned_and_serve_sh_serves_it_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    import httpx

    out = tmp_path / "demo-out"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    board = json.loads(capsys.readouterr().out)["board"]
    assert sorted(board["cosigned_by"]) == ["Exampleland", "Inspectorate", "Observer"]
    assert all(step["exit"] == 0 for step in board["steps"])
    assert {p.name for p in out.iterdir()} >= {"board.db", "parties.json", "serve.sh"}
    assert (out / "workspaces" / "board" / "keys" / "statement.pem").exists()
    server = subprocess.Popen([str(out / "serve.sh"), "--port", "0", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["url"]  # type: ignore[union-attr]  # stdout is a pipe
        assert httpx.get(f"{url}/checkpoint").text == board["checkpoint"]
    finally:
        server.terminate()
        server.wait(timeout=10)
