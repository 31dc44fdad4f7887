"""Fuzzing the command line's edge: ``unveil verify`` on changed files (the published test
vectors, changed as bytes, as JSON text or in their numbers) always ends with exit 0, 1 or 2
and a report or an error message, never a traceback."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz, mutated_bytes, mutated_numbers, mutated_str, mutated_text
from unveil.cli.main import main
from unveil.core.jsonparse import loads

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
CASES = [v for v in json.loads((VECTORS / "expected.json").read_text())["vectors"] if v["cells"]]
FILES = ("bundle", "escrow", "cells", "leaves")


@st.composite
def verify_inputs(draw: st.DrawFn) -> tuple[dict[str, bytes | None], list[str]]:
    """One vector's files, one or two of them changed, and its --trust options (maybe changed)."""
    v = draw(st.sampled_from(CASES))
    files: dict[str, bytes | None] = {name: (VECTORS / v[name]).read_bytes() if v[name] else None for name in FILES}
    for name in draw(st.sets(st.sampled_from(FILES), min_size=1, max_size=2)):
        data = files[name]
        if data is None:
            continue
        if name in ("bundle", "escrow"):
            files[name] = draw(mutated_text(loads(data)) | mutated_numbers(data) | mutated_bytes(data))
        else:
            files[name] = draw(mutated_bytes(data) | st.just(b""))
    trust = list(v["trust"])
    if draw(st.integers(0, 4)) == 0:
        trust = draw(st.lists(st.sampled_from(trust) | mutated_str(trust[0]) | st.text(max_size=10), max_size=2))
    return files, trust


def _arguments(root: Path, files: dict[str, bytes | None], trust: list[str], *, as_json: bool) -> list[str]:
    for name, data in files.items():
        if data is not None:
            (root / name).write_bytes(data)
    args = ["verify", str(root / "bundle"), "--escrow", str(root / "escrow"), "--cells", str(root / "cells")]
    if files["leaves"] is not None:
        args += ["--leaves", str(root / "leaves")]
    for vkey in trust:
        args += ["--trust", vkey]
    return args + (["--json"] if as_json else [])


@fuzz(8)
@given(verify_inputs(), st.booleans())
def test_verify_on_changed_files_exits_0_1_or_2(case: tuple[dict[str, bytes | None], list[str]], as_json: bool) -> None:
    files, trust = case
    was_enabled = gc.isenabled()  # verify turns the cycle collector off for its short process
    out, err = io.StringIO(), io.StringIO()
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(_arguments(Path(tmp), files, trust, as_json=as_json))
    finally:
        if was_enabled:
            gc.enable()
    assert code in (0, 1, 2), code
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if as_json:
        report = json.loads(out.getvalue())
        assert report["valid"] is (code == 0)
        assert ("error" in report) == (code == 2)
        if code == 1:
            assert report["problems"] and all(p["reason"] for p in report["problems"])


@fuzz(1)
@given(verify_inputs())
def test_verify_in_its_own_process_prints_no_traceback(case: tuple[dict[str, bytes | None], list[str]]) -> None:
    files, trust = case
    with tempfile.TemporaryDirectory() as tmp:
        args = _arguments(Path(tmp), files, trust, as_json=False)
        done = subprocess.run([sys.executable, "-m", "unveil.cli.main", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
