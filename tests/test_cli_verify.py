"""`unveil verify`: its options, output and exit codes, as scripts and other implementations rely on them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unveil.cli.main import main

VECTORS = Path(__file__).resolve().parent / "vectors"
EXPECTED = {v["name"]: v for v in json.loads((VECTORS / "expected.json").read_text())["vectors"]}
HOST_VKEY = EXPECTED["valid"]["trust"][0]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def vector_args(name: str, *, leaves: bool = True) -> list[str]:
    v = EXPECTED[name]
    args = [str(VECTORS / v["bundle"]), "--escrow", str(VECTORS / v["escrow"]), "--cells", str(VECTORS / v["cells"])]
    if leaves and v["leaves"]:
        args += ["--leaves", str(VECTORS / v["leaves"])]
    return args


def test_valid_bundle_exits_0_with_pinned_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", *vector_args("valid"), "--trust", HOST_VKEY, "--json")
    report = json.loads(out)
    assert code == 0
    assert report["valid"] is True and report["host_key_pinned"] is True and report["problems"] == []


def test_without_trust_the_escrow_signer_is_trusted_but_not_pinned(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", *vector_args("valid"), "--json")
    assert code == 0
    assert json.loads(out)["host_key_pinned"] is False


def test_trust_is_repeatable_and_a_wrong_key_fails(capsys: pytest.CaptureFixture[str]) -> None:
    other = "Host+00000000+AQ" + "A" * 41 + "="
    code, out, _ = run(capsys, "verify", *vector_args("valid"), "--trust", other, "--trust", HOST_VKEY, "--json")
    assert code == 2  # the made-up key's id does not match: unreadable input, not a failed check
    assert "--trust" in json.loads(out)["error"]
    from unveil.core.keys import STATEMENT_KEY, SigningKey

    stranger = SigningKey.generate("Host", STATEMENT_KEY, b"\x07" * 32).vkey
    code, out, _ = run(capsys, "verify", *vector_args("valid"), "--trust", stranger, "--json")
    reasons = {p["reason"] for p in json.loads(out)["problems"]}
    assert code == 1
    assert reasons == {"escrow-signature-untrusted", "signature-untrusted"}


@pytest.mark.parametrize("name", ["salt-bit-flipped", "cells-swapped", "proof-hash-dropped", "bad-signature", "site-outside-cell"])
def test_tampered_bundle_exits_1_listing_every_problem(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = run(capsys, "verify", *vector_args(name), "--trust", HOST_VKEY, "--json")
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    got = {(p["index"], p["reason"]) for p in report["problems"]}
    assert got == {(p["index"], p["reason"]) for p in EXPECTED[name]["problems"]}
    assert all(p["detail"] for p in report["problems"])


def test_human_output_names_reasons_and_openings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", *vector_args("cells-swapped"), "--trust", HOST_VKEY)
    assert code == 1
    assert "INVALID" in out and "cell-mismatch" in out and "leaf-mismatch" in out


def copy_vector(tmp_path: Path, name: str) -> dict[str, Path]:
    v = EXPECTED[name]
    paths = {}
    for key in ("bundle", "escrow", "cells", "leaves"):
        paths[key] = tmp_path / Path(v[key]).name
        shutil.copy(VECTORS / v[key], paths[key])
    return paths


def args_for(p: dict[str, Path]) -> list[str]:
    return ["verify", str(p["bundle"]), "--escrow", str(p["escrow"]), "--cells", str(p["cells"]), "--json"]


def malformed(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    code, out, _ = run(capsys, *args)
    assert code == 2
    report: dict[str, Any] = json.loads(out)
    assert report["valid"] is False
    return str(report["error"])


def test_missing_file_exits_2_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    p["escrow"].unlink()
    assert "escrow.json" in malformed(capsys, args_for(p)) and "not found" in malformed(capsys, args_for(p))


def test_not_utf8_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    p["bundle"].write_bytes(p["bundle"].read_bytes().replace(b'"phase-1"', b'"phase-\xff"'))
    assert "not UTF-8" in malformed(capsys, args_for(p))


def test_duplicate_member_name_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    p["bundle"].write_bytes(p["bundle"].read_bytes().replace(b'"phase": "phase-1"', b'"phase": "phase-1", "phase": "phase-1"'))
    assert "duplicate member name 'phase'" in malformed(capsys, args_for(p))


def test_a_malformed_bundle_leaves_no_checking_process_behind(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The signature checks run in a child forked before the bundle is parsed; when the
    parent finds the bundle malformed it reports its own error and reaps that child."""
    import multiprocessing

    p = copy_vector(tmp_path, "valid")
    p["bundle"].write_bytes(p["bundle"].read_bytes()[:-40])
    message = malformed(capsys, args_for(p))
    assert str(p["bundle"]) in message
    assert multiprocessing.active_children() == []


def test_unknown_field_exits_2_naming_its_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    doc = json.loads(p["bundle"].read_text())
    doc["statement"]["openings"][3]["content"]["sites"][0]["colour"] = "red"
    p["bundle"].write_text(json.dumps(doc))
    error = malformed(capsys, args_for(p))
    assert "statement.openings[3].content.sites[0]" in error and "unknown field 'colour'" in error


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda o: o.update(extra=1), "statement.openings[2]"),
        (lambda o: o["content"].update(extra=1), "statement.openings[2].content"),
        (lambda o: o.pop("salt"), "statement.openings[2]"),
        (lambda o: o.update(index=True), "statement.openings[2].index"),
        (lambda o: o["content"].update(sites={}), "statement.openings[2].content.sites"),
    ],
    ids=["extra-opening-field", "extra-content-field", "missing-salt", "bool-index", "sites-object"],
)
def test_opening_shape_errors_exit_2_naming_the_opening(capsys: pytest.CaptureFixture[str], tmp_path: Path, change: Any, where: str) -> None:
    p = copy_vector(tmp_path, "valid")
    doc = json.loads(p["bundle"].read_text())
    change(doc["statement"]["openings"][2])  # an empty cell among well-formed ones
    p["bundle"].write_text(json.dumps(doc))
    assert where in malformed(capsys, args_for(p))


def test_wrong_type_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    doc = json.loads(p["bundle"].read_text())
    doc["statement"]["tree_size"] = "49"
    p["bundle"].write_text(json.dumps(doc))
    assert "statement.tree_size" in malformed(capsys, args_for(p))


def test_float_index_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    p["bundle"].write_bytes(p["bundle"].read_bytes().replace(b'"index": 10,', b'"index": 10.0,'))
    assert "integer token" in malformed(capsys, args_for(p))


def test_cells_with_crlf_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    p["cells"].write_bytes(p["cells"].read_bytes().replace(b"\n", b"\r\n"))
    error = malformed(capsys, args_for(p))
    assert "cells.txt" in error and "line 1" in error


def test_usage_error_exits_2_with_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = copy_vector(tmp_path, "valid")
    error = malformed(capsys, ["verify", str(p["bundle"]), "--cells", str(p["cells"]), "--json"])
    assert "--escrow" in error


def test_console_script_exit_codes() -> None:
    unveil = Path(sys.executable).with_name("unveil")
    assert subprocess.run([str(unveil), "--help"], capture_output=True).returncode == 0
    bad = subprocess.run([str(unveil), "verify", "nope.json", "--escrow", "x", "--cells", "y", "--json"], capture_output=True, text=True)
    assert bad.returncode == 2 and json.loads(bad.stdout)["valid"] is False
    ok = subprocess.run([str(unveil), "verify", *vector_args("valid"), "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    tampered = subprocess.run([str(unveil), "verify", *vector_args("root-changed"), "--json"], capture_output=True, text=True)
    assert tampered.returncode == 1
