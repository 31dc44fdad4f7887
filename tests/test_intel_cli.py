"""The inspector's intelligence escrow (spec §9) and ``unveil check`` through the CLI:
import → seal on the declaration's grid → verify reveals → check (truth test) → open a cell."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.workflow_fixtures import CSV, EMPTY, INTEL, RES, UNOPENED, cli, unveil
from tests.workflow_fixtures import TESTLAND_ONLY as TERRITORY


def cell(point: tuple[float, float]) -> str:
    return h3.latlng_to_cell(point[0], point[1], RES)


def intel_cli(*args: str) -> tuple[int, Any]:
    """``unveil ARGS --json``: the exit code and the parsed output."""
    code, out = unveil(*args, "--json")
    return code, json.loads(out) if out.strip() else None


def snapshot(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def reveal_and_verify(d: Path, capsys: pytest.CaptureFixture[str], phase: str, points: list[tuple[float, float]],
                      verify: bool = True) -> Path:
    (d / f"{phase}.txt").write_text("".join(sorted({cell(p) + "\n" for p in points})))
    bundle = d / "out" / f"reveal-{phase}.json"
    code, _ = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", phase,
                  "--cells", str(d / f"{phase}.txt"), "--out", str(bundle))
    assert code == 0
    if verify:
        code, report = cli(capsys, "verify", str(bundle), "--escrow", str(d / "out" / "escrow.json"),
                           "--cells", str(d / "out" / "cells.txt"), "--workspace", str(d / "inspector"))
        assert code == 0 and report["valid"], report
    return bundle


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Host commits; phase-1 (S-3's cell) is revealed and verified in the inspector workspace,
    which thereby records the declaration escrow; the intel file is written."""
    d = tmp_path
    (d / "territory.geojson").write_text(json.dumps(TERRITORY))
    (d / "declaration.csv").write_text(CSV)
    (d / "intel.csv").write_text(INTEL)
    code, host = cli(capsys, "init", "--workspace", str(d / "host"), "--role", "host", "--name", "Host")
    assert code == 0
    code, inspector = cli(capsys, "init", "--workspace", str(d / "inspector"), "--role", "inspector", "--name", "Inspector")
    assert code == 0
    code, _ = cli(capsys, "commit", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--territory",
                  str(d / "territory.geojson"), "--resolution", str(RES), "--declaration", str(d / "declaration.csv"),
                  "--out", str(d / "out"))
    assert code == 0
    cells = (d / "out" / "cells.txt").read_text().split()
    sites = {cell((45.30, 10.20)), cell((45.10, 10.50)), cell((45.20, 10.30))}
    assert cell(EMPTY) in cells and cell(UNOPENED) in cells and not {cell(EMPTY), cell(UNOPENED)} & sites
    assert cell((45.3005, 10.2005)) == cell((45.30, 10.20))
    reveal_and_verify(d, capsys, "phase-1", [(45.20, 10.30)])
    return {"dir": d, "host": host, "inspector": inspector}


def seal_args(d: Path, *extra: str, escrow_id: str = "intel-1") -> list[str]:
    return ["intel", "seal", "--workspace", str(d / "inspector"), "--escrow-id", escrow_id, "--shadows", "test-1",
            "--out", str(d / "intel"), *extra]


def test_import_seal_check_open_end_to_end(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.verify import check_bundle

    d = setup["dir"]
    code, imported = intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))
    assert code == 0 and imported["suspects"] == 3

    # phase-1 was verified: sealing now is late and refused without --allow-late, writing nothing.
    before = snapshot(d / "inspector")
    code, out = intel_cli(*seal_args(d))
    assert code == 2 and "--allow-late" in out["error"] and "phase-1" in out["error"]
    assert snapshot(d / "inspector") == before and not (d / "intel").exists()

    code, sealed = intel_cli(*seal_args(d, "--allow-late"))
    assert code == 0, sealed
    assert sealed["late"] is True and sealed["suspects"] == 3 and sealed["non_empty"] == 3
    declaration = loads((d / "out" / "escrow.json").read_bytes())["statement"]
    intel = loads((d / "intel" / "intel-escrow.json").read_bytes())["statement"]
    assert intel["purpose"] == "intel" and intel["shadows"] == "test-1" and intel["host"] == "Inspector"
    assert intel["grid"] == declaration["grid"] and sealed["cells_sha256"] == declaration["grid"]["cells_sha256"]
    assert (d / "intel" / "cells.txt").read_bytes() == (d / "out" / "cells.txt").read_bytes()

    # phase-2 opens S-1's cell, S-2's cell and an empty cell; checking it needs verification first.
    bundle = reveal_and_verify(d, capsys, "phase-2", [(45.30, 10.20), (45.10, 10.50), EMPTY], verify=False)
    code, out = intel_cli("check", "--workspace", str(d / "inspector"), "--bundle", str(bundle))
    assert code == 2 and "verify the bundle first" in out["error"]
    bundle = reveal_and_verify(d, capsys, "phase-2b", [(45.30, 10.20), (45.10, 10.50), EMPTY])

    geojson = d / "check.geojson"
    code, result = intel_cli("check", "--workspace", str(d / "inspector"), "--bundle", str(bundle), "--geojson", str(geojson))
    assert code == 0
    assert result == {"confirmed": [{"site": "S-1", "suspect": "X-1"}], "mismatch": [],
                      "undeclared": [{"suspect": "X-2"}], "new": [{"site": "S-2"}]}  # X-3's cell is not opened
    features = json.loads(geojson.read_text())["features"]
    assert {(f["properties"]["id"], f["properties"]["status"]) for f in features} == {
        ("S-1", "confirmed"), ("S-2", "new"), ("X-1", "confirmed"), ("X-2", "undeclared")}

    # The inspector backs a discrepancy by opening its own cell; it verifies under its key.
    challenge = d / "intel" / "challenge.json"
    code, opened = intel_cli("intel", "open", "--workspace", str(d / "inspector"), "--escrow-id", "intel-1",
                             "--cell", cell(EMPTY), "--out", str(challenge))
    assert code == 0 and opened["phase"] == f"challenge-{cell(EMPTY)}"
    report = check_bundle(
        parse_signed(loads((d / "intel" / "intel-escrow.json").read_bytes())), parse_signed(loads(challenge.read_bytes())),
        cell_file.read((d / "intel" / "cells.txt").read_bytes()), leaves=(d / "intel" / "leaves.bin").read_bytes(),
        trusted=[setup["inspector"]["vkey"]],
    )
    assert report.valid, report.problems
    [opening] = report.reveal.openings
    assert opening.cell == cell(EMPTY) and [s["id"] for s in opening.content["suspects"]] == ["X-2"]
    code, verified = cli(capsys, "verify", str(challenge), "--escrow", str(d / "intel" / "intel-escrow.json"),
                         "--cells", str(d / "intel" / "cells.txt"), "--leaves", str(d / "intel" / "leaves.bin"),
                         "--trust", setup["inspector"]["vkey"])
    assert code == 0 and verified["valid"], verified

    # A cell no verified reveal opened stays sealed; an intel bundle is not a declaration reveal.
    code, out = intel_cli("intel", "open", "--workspace", str(d / "inspector"), "--escrow-id", "intel-1",
                          "--cell", cell(UNOPENED), "--out", str(d / "intel" / "x3.json"))
    assert code == 2 and "has not been opened" in out["error"] and not (d / "intel" / "x3.json").exists()
    code, out = intel_cli("check", "--workspace", str(d / "inspector"), "--bundle", str(challenge))
    assert code == 2 and "not a declaration" in out["error"]


def test_check_without_json_prints_a_table(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))[0] == 0
    bundle = reveal_and_verify(d, capsys, "phase-2", [(45.30, 10.20), EMPTY])
    code, out = unveil("check", "--workspace", str(d / "inspector"), "--bundle", str(bundle))
    assert code == 0
    assert "confirmed" in out and "X-1" in out and "undeclared" in out


def test_bad_intel_file_exits_2_and_leaves_the_workspace_unchanged(setup: dict[str, Any]) -> None:
    d = setup["dir"]
    assert intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))[0] == 0
    before = snapshot(d / "inspector")
    (d / "bad.csv").write_text(INTEL.replace("0.9,2,5", "1.5,2,5"))  # confidence out of (0, 1]
    code, out = intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "bad.csv"))
    assert code == 2 and "bad.csv" in out["error"] and "confidence" in out["error"]
    (d / "dup.csv").write_text(INTEL + "X-1,research,45.2,10.3,100,0.5,,\n")
    code, out = intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "dup.csv"))
    assert code == 2 and "X-1" in out["error"]
    assert snapshot(d / "inspector") == before
    rows = sqlite3.connect(d / "inspector" / "workspace.db").execute("SELECT id FROM suspects ORDER BY id").fetchall()
    assert rows == [("X-1",), ("X-2",), ("X-3",)]


def test_reimport_replaces_the_set_and_roles_are_enforced(setup: dict[str, Any]) -> None:
    d = setup["dir"]
    assert intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))[0] == 0
    (d / "one.csv").write_text("id,kind,lat,lon,radius_m,confidence\nY-1,research,45.2,10.3,100,0.5\n")
    code, out = intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "one.csv"))
    assert code == 0 and out["suspects"] == 1
    rows = sqlite3.connect(d / "inspector" / "workspace.db").execute("SELECT id FROM suspects").fetchall()
    assert rows == [("Y-1",)]
    code, out = intel_cli("intel", "import", "--workspace", str(d / "host"), str(d / "one.csv"))
    assert code == 2 and "inspector" in out["error"]


def test_seal_refuses_suspects_off_the_declaration_grid_and_unknown_declarations(setup: dict[str, Any]) -> None:
    d = setup["dir"]
    (d / "far.csv").write_text(INTEL + "Z-9,research,45.2,11.5,100,0.5,,\n")  # east of the territory
    assert intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "far.csv"))[0] == 0
    before = snapshot(d / "inspector")
    code, out = intel_cli(*seal_args(d, "--allow-late"))
    assert code == 2 and "Z-9" in out["error"] and "not among" in out["error"]
    code, out = intel_cli("intel", "seal", "--workspace", str(d / "inspector"), "--escrow-id", "intel-1",
                          "--shadows", "nope", "--out", str(d / "intel"), "--allow-late")
    assert code == 2 and "verify" in out["error"]
    assert snapshot(d / "inspector") == before and not (d / "intel").exists()


def test_seal_without_suspects_or_twice_is_refused(setup: dict[str, Any]) -> None:
    d = setup["dir"]
    code, out = intel_cli(*seal_args(d, "--allow-late"))
    assert code == 2 and "intel import" in out["error"]
    assert intel_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))[0] == 0
    assert intel_cli(*seal_args(d, "--allow-late"))[0] == 0
    code, out = intel_cli(*seal_args(d, "--allow-late"))
    assert code == 2 and "already exists" in out["error"]
