"""Bounded coverage work (unveil.geo.budget): the cell-count estimate against the true count,
and every command that covers a territory refusing, at once and with exit 2, a cover larger than
--max-cells (default: half the machine's memory at the measured cost per cell)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Polygon, box

from tests.test_workflow import commit_args, snapshot
from tests.workflow_fixtures import CSV, TERRITORY, TESTLAND, cli
from unveil import exercise
from unveil.cli.main import main
from unveil.errors import MalformedInputError
from unveil.geo.budget import BYTES_PER_CELL, check_cell_budget, default_max_cells, estimate_cells, physical_memory
from unveil.geo.territory import overlapping_cells, read_territory


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A host and an inspector workspace beside the test territory and declaration."""
    (tmp_path / "territory.geojson").write_text(json.dumps(TERRITORY))
    (tmp_path / "declaration.csv").write_text(CSV)
    assert cli(capsys, "init", "--workspace", str(tmp_path / "host"), "--role", "host", "--name", "Host")[0] == 0
    assert cli(capsys, "init", "--workspace", str(tmp_path / "inspector"), "--role", "inspector", "--name", "Inspector")[0] == 0
    return {"dir": tmp_path}


DEMO = read_territory(exercise.territory_bytes(), source="exampleland").geometry
SHAPES = {
    "demo": (DEMO, range(0, 9)),
    "testland": (Polygon(TESTLAND["geometry"]["coordinates"][0]), range(0, 10)),
    "arctic": (box(-40, 70, 40, 80), range(0, 7)),
    "equatorial-band": (box(-30, -20, 30, 20), range(0, 6)),
    "antimeridian": (box(170, -10, 179.9, 10), range(0, 7)),
    "one-km": (box(10, 45, 10.0127, 45.009), range(0, 11)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_the_estimate_is_within_the_stated_factor_of_the_true_count(name: str) -> None:
    geometry, resolutions = SHAPES[name]
    for resolution in resolutions:
        true = len(overlapping_cells(geometry, resolution))
        ratio = estimate_cells(geometry, resolution) / true
        assert 0.95 <= ratio <= (1.2 if true >= 1000 else 3.0), (name, resolution, true, ratio)


def test_the_limit_and_its_default() -> None:
    assert default_max_cells() == physical_memory() // 2 // BYTES_PER_CELL
    assert physical_memory() > 0
    estimate = estimate_cells(DEMO, 6)
    assert check_cell_budget(DEMO, 6, estimate) == estimate  # at the limit: allowed
    with pytest.raises(MalformedInputError) as refused:
        check_cell_budget(DEMO, 6, estimate - 1)
    message = str(refused.value)
    assert "resolution 6" in message and f"{estimate:,}" in message and "--max-cells" in message
    with pytest.raises(MalformedInputError, match="the default, half this machine's memory"):
        check_cell_budget(DEMO, 15, None)  # about 1.2·10¹¹ cells: more than any machine here holds


def commit_without(d: Path, **overrides: str) -> list[str]:
    """``commit_args`` with the options overridden to "" left out."""
    args = commit_args(d, **overrides)
    kept = [args[0]]
    for name, value in zip(args[1::2], args[2::2], strict=True):
        if value:
            kept += [name, value]
    return kept


def _refused_at_once(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    started = time.monotonic()
    code, out = cli(capsys, *args)
    elapsed = time.monotonic() - started
    assert code == 2, out
    assert elapsed < 10, f"refused after {elapsed:.1f} s"
    estimate = estimate_cells(DEMO, 15)
    assert "resolution 15" in out["error"] and f"{estimate:,}" in out["error"] and "--max-cells" in out["error"], out
    return out


def test_commit_at_resolution_15_over_the_demo_territory_is_refused_at_once(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    (d / "demo.geojson").write_bytes(exercise.territory_bytes())
    (d / "demo.json").write_bytes(exercise.declaration_bytes())
    before = snapshot(d / "host")
    _refused_at_once(capsys, *commit_without(d, **{"--territory": str(d / "demo.geojson"), "--territory-filter": "", "--resolution": "15",
                                               "--declaration": str(d / "demo.json"), "--public-totals": "", "--sealed-totals": ""}))
    assert snapshot(d / "host") == before and not (d / "out").exists()


def _tiny_escrow_at_resolution_15(d: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An honest escrow over a 30 m square at resolution 15 (a few thousand cells)."""
    square = {"type": "Polygon", "coordinates": [[[10.2, 45.2], [10.2004, 45.2], [10.2004, 45.2003], [10.2, 45.2003], [10.2, 45.2]]]}
    (d / "square.geojson").write_text(json.dumps(square))
    (d / "none.csv").write_text("site_id,kind,lat,lon\nS-1,other,45.20015,10.2002\n")
    code, out = cli(capsys, *commit_without(d, **{"--territory": str(d / "square.geojson"), "--territory-filter": "", "--resolution": "15",
                                               "--declaration": str(d / "none.csv"), "--public-totals": "", "--sealed-totals": ""}))
    assert code == 0, out
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1",
               "--bbox", "10.19,45.19,10.21,45.21", "--out", str(d / "p1.json"))[0] == 0
    (d / "demo.geojson").write_bytes(exercise.territory_bytes())


def test_accept_and_verify_against_a_territory_at_resolution_15_are_refused_at_once(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The attack: an escrow at a fine resolution makes the inspector's own coverage check, over
    the agreed (large) territory, run out of memory."""
    d = setup["dir"]
    _tiny_escrow_at_resolution_15(d, capsys)
    files = ["--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt")]
    agreed = ["--territory", str(d / "demo.geojson")]
    before = snapshot(d / "inspector")
    _refused_at_once(capsys, "accept", "--workspace", str(d / "inspector"), *files, *agreed)
    _refused_at_once(capsys, "verify", str(d / "p1.json"), *files, *agreed, "--workspace", str(d / "inspector"))
    _refused_at_once(capsys, "verify", str(d / "p1.json"), *files, *agreed)
    assert snapshot(d / "inspector") == before
    assert main(["accept", "--workspace", str(d / "inspector"), *files, *agreed]) == 2  # for a person: the message, no traceback
    printed = capsys.readouterr()
    assert "--max-cells" in printed.err and "Traceback" not in printed.err + printed.out


def test_a_small_max_cells_refuses_a_normal_case(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    before = snapshot(d / "host")
    code, out = cli(capsys, *commit_args(d), "--max-cells", "10")
    assert code == 2 and "resolution 6" in out["error"] and "--max-cells 10 (as given)" in out["error"], out
    assert snapshot(d / "host") == before
    assert cli(capsys, *commit_args(d), "--max-cells", "100000")[0] == 0
    agreed = ["--territory", str(d / "territory.geojson"), "--territory-filter", "name=Testland"]
    files = ["--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt")]
    code, out = cli(capsys, "accept", "--workspace", str(d / "inspector"), *files, *agreed, "--max-cells", "10")
    assert code == 2 and "--max-cells" in out["error"]
    code, out = cli(capsys, "accept", "--workspace", str(d / "inspector"), *files, *agreed, "--max-cells", "0")
    assert code == 2 and "--max-cells" in out["error"]  # typer's own range check
    assert cli(capsys, "accept", "--workspace", str(d / "inspector"), *files, *agreed)[0] == 0


def test_running_out_of_memory_is_an_error_not_a_traceback(setup: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a limit misses: a MemoryError ends the command with exit 2 and a message."""
    from unveil.geo import territory

    def exhausted(*args: object, **kwargs: object) -> list[str]:
        raise MemoryError

    monkeypatch.setattr(territory, "overlapping_cells", exhausted)
    monkeypatch.setattr(territory, "overlapping_cell_ids", exhausted)  # what commit covers with
    d = setup["dir"]
    before = snapshot(d / "host")
    code, out = cli(capsys, *commit_args(d))
    assert code == 2 and "memory" in out["error"]
    assert snapshot(d / "host") == before
