"""`unveil simulate`: the output's shape, the same answer for the same seed whatever
the worker count, sweeps as JSON and CSV, and bad regime files and options (exit 2, field named)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from unveil.cli.main import main

REGIME = """\
territory: {cells: 3249}
hidden_sites: {k: 5, strategy: uniform}
detection_probability: 0.9
phases:
  - {name: first, opens: 0.2, inspections: 12, from: opened}
  - {opens: 0.3, inspections: 12, from: opened}
  - {opens: 0.5, inspections: 12, from: declared}
declared_sites: {count: 40}
intel: {coverage: 0.5, detection_probability: 0.9}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def regime(tmp_path: Path) -> Path:
    path = tmp_path / "regime.yaml"
    path.write_text(REGIME)
    return path


def test_simulate_prints_the_issue_shape(capsys: pytest.CaptureFixture[str], regime: Path) -> None:
    code, out = run(capsys, "simulate", "--regime", str(regime), "--trials", "50000", "--seed", "4", "--workers", "1")
    assert code == 0
    assert set(out) == {"trials", "seed", "phases", "undetected_at_end", "expected_phase_of_detection"}
    assert out["trials"] == 50000 and out["seed"] == 4
    assert [p["phase"] for p in out["phases"]] == ["first", "phase-2", "phase-3"]
    previous = 0.0
    for phase in out["phases"]:
        assert set(phase) == {"phase", "detection_probability", "ci95", "exact"}
        lo, hi = phase["ci95"]
        assert lo <= phase["detection_probability"] <= hi and previous <= phase["detection_probability"]
        assert abs(phase["detection_probability"] - phase["exact"]) <= 4.5 * (phase["exact"] * (1 - phase["exact"]) / 50000) ** 0.5
        previous = phase["detection_probability"]
    assert out["undetected_at_end"] == pytest.approx(1 - out["phases"][-1]["detection_probability"])
    assert 1 <= out["expected_phase_of_detection"] <= 3


def test_same_seed_same_answer_across_worker_counts(capsys: pytest.CaptureFixture[str], regime: Path) -> None:
    outs = [run(capsys, "simulate", "--regime", str(regime), "--trials", "70001", "--seed", "9", "--workers", w)[1]
            for w in ("1", "2", "3")]
    assert outs[0] == outs[1] == outs[2]
    other = run(capsys, "simulate", "--regime", str(regime), "--trials", "70001", "--seed", "10", "--workers", "2")[1]
    assert other != outs[0]


def test_without_a_seed_a_fresh_one_is_reported_and_replays(capsys: pytest.CaptureFixture[str], regime: Path) -> None:
    first = run(capsys, "simulate", "--regime", str(regime), "--trials", "1000", "--workers", "1")[1]
    again = run(capsys, "simulate", "--regime", str(regime), "--trials", "1000", "--seed", str(first["seed"]), "--workers", "1")[1]
    assert first == again


def test_sweep_rows_as_json_and_csv(capsys: pytest.CaptureFixture[str], regime: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "rows.csv"
    code, out = run(capsys, "simulate", "--regime", str(regime), "--trials", "20000", "--seed", "1", "--workers", "1",
                    "--sweep", "hidden_sites.strategy=uniform,last-phase", "--sweep", "phases[0].inspections=0,30", "--csv", str(out_csv))
    assert code == 0 and out["keys"] == ["hidden_sites.strategy", "phases[0].inspections"]
    assert [row["point"] for row in out["rows"]] == [
        {"hidden_sites.strategy": s, "phases[0].inspections": n} for s in ("uniform", "last-phase") for n in (0, 30)]
    last_phase = out["rows"][2]
    # a last-phase host is out of reach of phase 1's draws: only intelligence finds it then
    assert last_phase["phases"][0]["exact"] == pytest.approx(1 - (1 - 0.5 * 0.9) ** 5)
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 4 and rows[3]["hidden_sites.strategy"] == "last-phase" and rows[3]["phases[0].inspections"] == "30"
    assert float(rows[1]["first.detection_probability"]) == out["rows"][1]["phases"][0]["detection_probability"]


@pytest.mark.parametrize(("text", "where"), [
    (REGIME.replace("opens: 0.3", "opens: 0.9"), "phases[1].opens"),
    (REGIME.replace("declared_sites: {count: 40}\n", ""), "phases[2].from"),
    (REGIME.replace("strategy: uniform", "strategy: clever"), "hidden_sites.strategy"),
    (REGIME + "colour: red\n", "colour"),
    ("territory: [\n", "line"),
    ("", "empty"),
])
def test_a_bad_regime_file_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out = run(capsys, "simulate", "--regime", str(path), "--trials", "10")
    assert code == 2 and where in out["error"] and str(path) in out["error"]


@pytest.mark.parametrize(("args", "where"), [
    (["--trials", "0"], "--trials"),
    (["--trials", "10", "--sweep", "nope"], "--sweep"),
    (["--trials", "10", "--sweep", "phases.[0].opens=0.1"], "--sweep"),
    (["--trials", "10", "--sweep", "phases[0]opens=0.1"], "--sweep"),
    (["--trials", "10", "--sweep", "hidden_sites..k=1"], "--sweep"),
    (["--trials", "10", "--sweep", "hidden_sites.k="], "--sweep"),
    (["--trials", "10", "--sweep", "territory.cells=10", "--sweep", "hidden_sites.k=" + ",".join(["1"] * 1001)], "--sweep"),
    (["--trials", str(10**9 + 1)], "--trials"),
    (["--trials", "10", "--sweep", "phases[9].opens=0.1"], "--sweep"),
    (["--trials", "10", "--sweep", "hidden_sites.k=0,1"], "hidden_sites.k"),
    (["--trials", "10", "--csv", "x.csv"], "--csv"),
    (["--trials", "10", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
])
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], regime: Path, args: list[str], where: str) -> None:
    code, out = run(capsys, "simulate", "--regime", str(regime), *args)
    assert code == 2 and where in out["error"]


def test_a_missing_regime_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run(capsys, "simulate", "--regime", str(tmp_path / "none.yaml"), "--trials", "10")
    assert code == 2 and "none.yaml" in out["error"]


def test_a_sweep_plot_is_written_as_png_and_svg(capsys: pytest.CaptureFixture[str], regime: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for name in ("sweep.png", "sweep.svg"):
        out = tmp_path / name
        code, _ = run(capsys, "simulate", "--regime", str(regime), "--trials", "2000", "--seed", "1", "--workers", "1",
                      "--sweep", "phases[0].inspections=0,12,40", "--sweep", "hidden_sites.k=1,5", "--plot", str(out))
        assert code == 0 and out.stat().st_size > 1000
    assert (tmp_path / "sweep.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "sweep.svg").read_bytes()[:2000]
    code, out_json = run(capsys, "simulate", "--regime", str(regime), "--trials", "10", "--sweep", "hidden_sites.k=1",
                         "--plot", str(tmp_path / "x.pdf"))
    assert code == 2 and "--plot" in out_json["error"]


def test_a_local_dask_cluster_gives_the_local_answer(capsys: pytest.CaptureFixture[str], regime: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local = run(capsys, "simulate", "--regime", str(regime), "--trials", "90000", "--seed", "21", "--workers", "2")[1]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, remote = run(capsys, "simulate", "--regime", str(regime), "--trials", "90000", "--seed", "21",
                           "--scheduler", cluster.scheduler_address)
    assert code == 0 and remote == local


def test_an_unreachable_scheduler_exits_2(capsys: pytest.CaptureFixture[str], regime: Path) -> None:
    pytest.importorskip("distributed")
    code, out = run(capsys, "simulate", "--regime", str(regime), "--trials", "10", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "--scheduler" in out["error"]
