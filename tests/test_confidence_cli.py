"""``unveil confidence``: the workspace's evidence after each verified phase, through the
model of docs/confidence.md, checked against a hand-computed answer."""

from __future__ import annotations

import json
import math
import sqlite3
from fractions import Fraction
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.workflow_fixtures import CSV, EMPTY, INTEL, RES, UNOPENED, cli, unveil
from tests.workflow_fixtures import TESTLAND_ONLY as TERRITORY


def cell(point: tuple[float, float]) -> str:
    return h3.latlng_to_cell(point[0], point[1], RES)


def sub_cli(*args: str, as_json: bool = True) -> tuple[int, Any]:
    """``unveil ARGS`` (with ``--json``: the parsed output) through the real entry point."""
    code, out = unveil(*args, "--json") if as_json else unveil(*args)
    if not as_json:
        return code, out
    return code, json.loads(out) if out.strip() else None


def reveal_and_verify(d: Path, capsys: pytest.CaptureFixture[str], phase: str, points: list[tuple[float, float]]) -> None:
    (d / f"{phase}.txt").write_text("".join(sorted({cell(p) + "\n" for p in points})))
    bundle = d / "out" / f"reveal-{phase}.json"
    code, _ = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", phase,
                  "--cells", str(d / f"{phase}.txt"), "--out", str(bundle))
    assert code == 0
    code, report = cli(capsys, "verify", str(bundle), "--escrow", str(d / "out" / "escrow.json"),
                       "--cells", str(d / "out" / "cells.txt"), "--workspace", str(d / "inspector"))
    assert code == 0 and report["valid"], report


def report(d: Path, capsys: pytest.CaptureFixture[str], results: list[dict[str, Any]]) -> tuple[int, Any]:
    (d / "results.json").write_text(json.dumps(results))
    return cli(capsys, "inspect", "report", "--workspace", str(d / "inspector"), "--escrow-id", "test-1",
               "--phase", "phase-1", "--results", str(d / "results.json"))


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Phase-1 opens S-1's cell (X-1 lies there) and an empty cell (X-2); X-3's cell stays
    sealed. The suspects are imported into the inspector workspace."""
    d = tmp_path
    (d / "territory.geojson").write_text(json.dumps(TERRITORY))
    (d / "declaration.csv").write_text(CSV)
    (d / "intel.csv").write_text(INTEL)
    assert cli(capsys, "init", "--workspace", str(d / "host"), "--role", "host", "--name", "Host")[0] == 0
    assert cli(capsys, "init", "--workspace", str(d / "inspector"), "--role", "inspector", "--name", "Inspector")[0] == 0
    code, _ = cli(capsys, "commit", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--territory",
                  str(d / "territory.geojson"), "--resolution", str(RES), "--declaration", str(d / "declaration.csv"),
                  "--out", str(d / "out"))
    assert code == 0
    assert cell((45.3005, 10.2005)) == cell((45.30, 10.20)) and cell(EMPTY) != cell(UNOPENED)
    reveal_and_verify(d, capsys, "phase-1", [(45.30, 10.20), EMPTY])
    code, imported = sub_cli("intel", "import", "--workspace", str(d / "inspector"), str(d / "intel.csv"))
    assert code == 0 and imported["suspects"] == 3
    return d


def confidence(d: Path, *extra: str) -> tuple[int, Any]:
    return sub_cli("confidence", "--workspace", str(d / "inspector"), *extra)


def test_hand_computed_confidence_after_a_nothing_found_inspection(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = setup
    code, out = report(d, capsys, [{"suspect": "X-2", "result": "nothing-found", "detection": 0.5}])
    assert code == 0 and out["suspects"] == 1 and out["nothing-found"] == 1 and out["found"] == 0
    with sqlite3.connect(d / "inspector" / "workspace.db") as db:
        assert db.execute("SELECT escrow_id, phase, suspect, result, detection FROM suspect_inspections").fetchall() == [
            ("test-1", "phase-1", "X-2", "nothing-found", "0.5")]

    # By hand (docs/confidence.md), background 0:
    #   c = 9/10, declared (paired with S-1)        -> p = 0,   1 - p = 1
    #   c = 1/2, cleared with d = 1/2               -> p = (1/4)/(1/4 + 1/2) = 1/3, 1 - p = 2/3
    #   c = 2/5, sealed                              -> p = 2/5, 1 - p = 3/5
    #   product = 1 * 2/3 * 3/5 = 2/5, exp(-0) = 1        -> probability 0.4
    code, out = confidence(d)
    assert code == 0, out
    assert out["escrow_id"] == "test-1"
    [phase1] = out["phases"]
    assert phase1["phase"] == "phase-1"
    assert phase1["exact_part"] == "2/5" and Fraction(phase1["exact_part"]) == Fraction(2, 5)
    assert phase1["probability"] == pytest.approx(0.4) and phase1["background_expected"] == 0
    assert phase1["suspects"] == {
        "X-1": {"state": "declared", "p": 0.0},
        "X-2": {"state": "cleared", "p": pytest.approx(1 / 3)},
        "X-3": {"state": "sealed", "p": pytest.approx(0.4)},
    }

    # With λ = 2/5: two cells opened, one inspected with d = 1/2, none credited for opening:
    #   a = (1/2) / cells, λ' = 2/5 (1 - a).
    cells = len((d / "out" / "cells.txt").read_text().split())
    lam = Fraction(2, 5) * (1 - Fraction(1, 2) / cells)
    code, out = confidence(d, "--background", "2/5")
    assert code == 0
    assert out["phases"][0]["background_expected"] == pytest.approx(float(lam))
    assert out["phases"][0]["probability"] == pytest.approx(0.4 * math.exp(-float(lam)))

    # Phase-2 opens X-3's cell (nothing declared there): X-3 opened, p unchanged; the
    # phase-1 inspection still counts.
    reveal_and_verify(d, capsys, "phase-2", [UNOPENED])
    code, out = confidence(d)
    assert code == 0
    assert [p["phase"] for p in out["phases"]] == ["phase-1", "phase-2"]
    assert out["phases"][1]["exact_part"] == "2/5"
    assert {k: v["state"] for k, v in out["phases"][1]["suspects"].items()} == {
        "X-1": "declared", "X-2": "cleared", "X-3": "opened"}

    code, text = sub_cli("confidence", "--workspace", str(d / "inspector"), as_json=False)
    assert code == 0 and "phase-1" in text and "0.400000" in text


def test_found_gives_zero(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = setup
    code, out = report(d, capsys, [{"suspect": "X-2", "result": "found", "detection": 0.5}])
    assert code == 0 and out["found"] == 1
    code, out = confidence(d)
    assert code == 0
    [phase1] = out["phases"]
    assert phase1["probability"] == 0 and phase1["exact_part"] == "0/1"
    assert phase1["suspects"]["X-2"] == {"state": "found", "p": 1.0}


def test_bad_inputs_exit_2(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = setup
    for bad in ({"suspect": "X-2", "result": "maybe", "detection": 0.5},
                {"suspect": "X-2", "result": "found", "detection": 0},
                {"suspect": "X-2", "result": "found", "detection": 1.5}):
        code, out = report(d, capsys, [bad])
        assert code == 2, out
    code, out = confidence(d, "--background", "-1")
    assert code == 2 and "background" in out["error"]
    code, out = confidence(d, "--escrow-id", "nope")
    assert code == 2
    code, out = sub_cli("confidence", "--workspace", str(d / "host"))
    assert code == 2 and "inspector" in out["error"]


def test_a_delayed_or_refused_access_keeps_its_suspect_at_its_prior(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Spec §12: X-2's cell is under an access request unanswered past its refusal deadline in
    the inspector's mirror of the board: its nothing-found inspection does not count (X-2 keeps
    its prior, 1/2) and the cell adds no detection. A request granted in time (site S-1) and one
    still pending (X-3's cell) change nothing."""
    import hashlib
    from datetime import datetime, timezone

    from unveil.board.events import make_event, parse_event
    from unveil.core.encoding import format_time
    from unveil.core.keys import STATEMENT_KEY, SigningKey
    from unveil.store import witness_db

    d = setup
    assert report(d, capsys, [{"suspect": "X-2", "result": "nothing-found", "detection": 0.5}])[0] == 0
    key = SigningKey.generate("Inspector", STATEMENT_KEY, hashlib.sha256(b"confidence access").digest())
    t0 = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
    agreement = {"id": "deal", "escrow": "test-1", "start": "2026-01-01T00:00:00Z", "parties": ["Host", "Inspector"],
                 "access": {"delayed": "PT1H", "refused": "PT10H"}, "obligations": []}

    def entry(kind: str, body: dict[str, Any], at: int) -> bytes:
        when = format_time(datetime.fromtimestamp(at, timezone.utc))
        return parse_event(make_event(kind, "test-1", when, body, [key])).entry

    entries = [
        entry("agreement.published", {"agreement": agreement}, t0),
        entry("access.requested", {"id": "A-1", "site": None, "cell": cell(EMPTY)}, t0 + 10),
        entry("access.requested", {"id": "A-2", "site": "S-1", "cell": None}, t0 + 20),
        entry("access.granted", {"id": "A-2"}, t0 + 30),
        entry("access.requested", {"id": "A-3", "site": None, "cell": cell(UNOPENED)}, t0 + 11 * 3600),
    ]
    with sqlite3.connect(d / "inspector" / "workspace.db") as db:
        witness_db.ensure_tables(db)
        witness_db.mirror_append(db, "board.test", 0, entries[:2])
    code, out = confidence(d, "--board-origin", "board.test")  # as of A-1's request: only requested, nothing changes
    assert code == 0 and out["withheld_cells"] == [] and out["phases"][0]["exact_part"] == "2/5", out
    with sqlite3.connect(d / "inspector" / "workspace.db") as db:
        witness_db.mirror_append(db, "board.test", 2, entries[2:])
    code, out = confidence(d, "--board-origin", "board.test", "--background", "2/5")
    assert code == 0, out
    assert out["withheld_cells"] == [cell(EMPTY)]
    [phase1] = out["phases"]
    assert phase1["suspects"] == {
        "X-1": {"state": "declared", "p": 0.0},
        "X-2": {"state": "opened", "p": pytest.approx(0.5)},  # not cleared: the inspection there does not count
        "X-3": {"state": "sealed", "p": pytest.approx(0.4)},
    }
    assert phase1["exact_part"] == "3/10"  # 1 · 1/2 · 3/5
    assert phase1["background_expected"] == pytest.approx(0.4)  # no inspected cell: λ' = λ
    code, out = confidence(d)  # without the board: as before
    assert out["phases"][0]["exact_part"] == "2/5" and "withheld_cells" in out and out["withheld_cells"] == []
    code, text = sub_cli("confidence", "--workspace", str(d / "inspector"), "--board-origin", "board.test", as_json=False)
    assert code == 0 and "access delayed or refused" in text and cell(EMPTY) in text
