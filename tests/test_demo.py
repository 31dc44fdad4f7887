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
