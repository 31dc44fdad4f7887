"""The one exit table (unveil.cli.exits) and the one edge every command runs in (unveil.cli.edge)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from unveil.cli.edge import Done, failure_json, run
from unveil.cli.exits import ExitCode, exit_code
from unveil.core.reasons import Reason
from unveil.errors import (
    BoardError,
    BoardRefused,
    CanonicalizationError,
    DrawRefused,
    DrawWaiting,
    MalformedInputError,
    Problem,
    UnveilError,
    VerificationError,
)

CLI = Path(__file__).resolve().parent.parent / "src" / "unveil" / "cli"

PROBLEM = Problem(None, Reason.ESCROW_SIGNATURE_INVALID, "signature does not verify")
CASES = [
    (MalformedInputError("not UTF-8", source="a.json"), ExitCode.MALFORMED, {"error": "a.json: not UTF-8"}),
    (CanonicalizationError("no JCS form: nan"), ExitCode.MALFORMED, {"error": "no JCS form: nan"}),
    (VerificationError([PROBLEM]), ExitCode.INVALID,
     {"error": "bundle: escrow-signature-invalid: signature does not verify", "problems": [PROBLEM.to_json()]}),
    (BoardRefused(Reason.COIN_REPEAT, "again"), ExitCode.INVALID,
     {"error": "coin-repeat: again", "reason": "coin-repeat", "message": "again", "problems": []}),
    (BoardError(409, "statement-conflict", "other signatures"), ExitCode.INVALID,
     {"error": "board: statement-conflict (HTTP 409): other signatures", "status": 409, "reason": "statement-conflict",
      "message": "other signatures", "problems": []}),
    (DrawRefused(Reason.COIN_MISSING, "commit first"), ExitCode.INVALID,
     {"error": "coin-missing: commit first", "reason": "coin-missing", "message": "commit first"}),
    (DrawWaiting("reveal", ["Host"]), ExitCode.INVALID,
     {"error": "waiting for Host to reveal", "reason": "waiting", "step": "reveal", "waiting": ["Host"]}),
    (UnveilError("cannot"), ExitCode.MALFORMED, {"error": "cannot"}),
]


def test_the_table() -> None:
    assert [(c.name, int(c)) for c in ExitCode] == [("OK", 0), ("INVALID", 1), ("MALFORMED", 2), ("INTERRUPTED", 130)]


@pytest.mark.parametrize(("error", "code", "doc"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_error_of_the_tree_has_its_code_and_json(error: UnveilError, code: ExitCode, doc: dict[str, object],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(error) is code
    assert failure_json(error) == doc

    def fail() -> Done:
        raise error

    assert run(True, fail) == code
    out = capsys.readouterr().out
    assert json.loads(out) == doc and out.count("\n") == 1
    assert run(False, fail) == code
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: ") and str(doc["error"])[:40] in captured.err


def test_a_command_shapes_its_failure_and_chooses_its_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> Done:
        raise MalformedInputError("bad")

    assert run(True, fail, failure=lambda e: {"valid": False, **failure_json(e)}) == ExitCode.MALFORMED
    assert capsys.readouterr().out == '{"valid": false, "error": "bad"}\n'
    shown: list[str] = []
    assert run(False, lambda: Done({"x": 1}, lambda: shown.append("shown"), ExitCode.INVALID)) == ExitCode.INVALID
    assert shown == ["shown"] and capsys.readouterr().out == ""
    assert run(True, lambda: Done({"x": "é"}, lambda: shown.append("no"))) == ExitCode.OK
    assert capsys.readouterr().out == '{"x": "é"}\n' and shown == ["shown"]
    assert run(True, lambda: Done(None, lambda: None)) == ExitCode.OK
    assert capsys.readouterr().out == ""


def test_a_message_is_printed_as_text_not_markup(capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> Done:
        raise MalformedInputError("field [/b] and [bold]x[/bold]", source="f.json")

    assert run(False, fail) == ExitCode.MALFORMED
    assert "f.json: field [/b] and [bold]x[/bold]" in capsys.readouterr().err


def test_errors_outside_the_tree_are_not_swallowed() -> None:
    def bug() -> Done:
        raise KeyError("a bug shows as one")

    with pytest.raises(KeyError):
        run(True, bug)


def test_cli_modules_take_exit_codes_from_the_table() -> None:
    """No command module defines exit constants or returns a bare integer: codes come from
    :class:`ExitCode` (through the edge)."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        if path.name == "exits.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id.startswith("EXIT_"):
                found.append(f"{path.name}:{node.lineno}: {node.id}")
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and type(node.value.value) is int:
                found.append(f"{path.name}:{node.lineno}: return {node.value.value}")
    assert found == []
