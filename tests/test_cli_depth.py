"""Artifacts nested 65 and 970 deep at the command line (spec §0: at most 64): ``unveil verify``
and ``unveil audit --db`` answer exit 2 with a message naming the file for an input they cannot
read, never a traceback; a log holding such an entry (written behind the board's back) is a
finding of the audit (exit 1, ``entry-malformed``) and a log ``unveil serve`` will not open
(exit 1), both without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.board_fixtures import DECL, ORIGIN, publish
from tests.test_board_core import BOARD, CELLS, PARTIES_DOC
from unveil.core import cells as cell_file
from unveil.core.jcs import canonicalize
from unveil.store.board_db import open_storage
from unveil.store.keystore import write_private

REPO = Path(__file__).resolve().parent.parent
DEPTHS = [65, 970]


def unveil(*args: str) -> subprocess.CompletedProcess[str]:
    """``unveil`` in a new process (its own interpreter stack, as a user runs it)."""
    return subprocess.run([sys.executable, "-m", "unveil.cli.main", *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout and "RecursionError" not in result.stderr + result.stdout


def deep_json(depth: int, inner: bytes = b"1") -> bytes:
    return b'{"a":' * (depth - 1) + b"[" + inner + b"]" + b"}" * (depth - 1)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"escrow": tmp_path / "escrow.json", "cells": tmp_path / "cells.txt", "bundle": tmp_path / "reveal.json",
             "parties": tmp_path / "parties.json", "key": tmp_path / "board.pem"}
    paths["escrow"].write_text(json.dumps(DECL.signed))
    paths["cells"].write_bytes(cell_file.render(CELLS))
    paths["bundle"].write_text(json.dumps(DECL.bundle("phase-1", [0])))
    paths["parties"].write_text(json.dumps(PARTIES_DOC))
    write_private(paths["key"], BOARD, None)
    return paths


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("which", ["bundle", "escrow"])
def test_verify_refuses_a_deep_artifact_with_exit_2(files: dict[str, Path], depth: int, which: str) -> None:
    files[which].write_bytes(deep_json(depth))
    result = unveil("verify", str(files["bundle"]), "--escrow", str(files["escrow"]), "--cells", str(files["cells"]))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert str(files[which]) in result.stderr and "nest" in result.stderr
    as_json = unveil("verify", str(files["bundle"]), "--escrow", str(files["escrow"]), "--cells", str(files["cells"]), "--json")
    assert as_json.returncode == 2 and "nest" in json.loads(as_json.stdout)["error"]


@pytest.mark.parametrize("depth", DEPTHS)
def test_audit_refuses_a_deep_parties_file_with_exit_2(tmp_path: Path, files: dict[str, Path], depth: int) -> None:
    db = f"sqlite:///{tmp_path / 'board.db'}"
    open_storage(db).close()
    files["parties"].write_bytes(b"[" + deep_json(depth - 1) + b"]")
    result = unveil("audit", "--db", db, "--origin", ORIGIN, "--parties", str(files["parties"]))
    no_traceback(result)
    assert result.returncode == 2 and str(files["parties"]) in result.stderr and "nest" in result.stderr


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deep_entry_in_the_database_is_an_audit_finding_and_serve_will_not_open_it(tmp_path: Path, files: dict[str, Path], depth: int) -> None:
    db = f"sqlite:///{tmp_path / 'board.db'}"
    with open_storage(db) as store:  # written behind any board's back
        store.append_entries([(0, canonicalize(publish())), (1, deep_json(depth))])
    result = unveil("audit", "--db", db, "--origin", ORIGIN, "--parties", str(files["parties"]), "--allow-pending", "--json")
    no_traceback(result)
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [(p["index"], p["reason"]) for p in problems if p["index"] is not None] == [(1, "entry-malformed")]
    assert "nest" in problems[0]["detail"]
    served = unveil("serve", "--db", db, "--origin", ORIGIN, "--key", str(files["key"]), "--parties", str(files["parties"]), "--port", "0")
    no_traceback(served)
    assert served.returncode == 1 and "does not replay" in served.stderr and "entry-malformed" in served.stderr
