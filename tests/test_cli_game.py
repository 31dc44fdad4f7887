"""`unveil game inspection` and `unveil game deterrence` (unveil.cli.game_cmd, docs/regimes.md)."""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import pytest

from unveil.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_inspection_game_prints_exact_fractions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "game", "inspection", "--periods", "5", "--inspections", "2")
    assert code == 0
    assert (out["value"], out["violate"], out["inspect"]) == ("3/8", "9/64", "5/16")
    assert out["stage"] == {"inspect_legal": "3/5", "inspect_violate": "-1", "pass_legal": "3/11", "pass_violate": "1"}
    code, out = run(capsys, "game", "inspection", "--periods", "2", "--inspections", "1")
    assert (code, out["value"], out["violate"], out["inspect"]) == (0, "1/3", "1/3", "1/3")


@pytest.mark.parametrize(("inspections", "value"), [("0", "1"), ("4", "0"), ("40", "0")])
def test_the_boundaries(capsys: pytest.CaptureFixture[str], inspections: str, value: str) -> None:
    code, out = run(capsys, "game", "inspection", "--periods", "4", "--inspections", inspections)
    assert code == 0 and out["value"] == value and out["inspections"] == int(inspections)


def test_a_person_reads_the_value_and_the_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["game", "inspection", "--periods", "5", "--inspections", "2"]) == 0
    text = capsys.readouterr().out
    assert "3/8" in text and "9/64" in text and "5/16" in text


@pytest.mark.parametrize(("args", "option"), [
    (["--periods", "0", "--inspections", "1"], "--periods"),
    (["--periods", "501", "--inspections", "1"], "--periods"),
    (["--periods", "2.5", "--inspections", "1"], "--periods"),
    (["--periods", "\u00b2", "--inspections", "1"], "--periods"),
    (["--periods", "9" * 100, "--inspections", "1"], "--periods"),
    (["--periods", "5", "--inspections", "-1"], "--inspections"),
    (["--periods", "5", "--inspections", "one"], "--inspections"),
])
def test_bad_game_options_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str], args: list[str], option: str) -> None:
    code, out = run(capsys, "game", "inspection", *args)
    assert code == 2 and out["error"].startswith(f"{option}: "), out
    assert "invalid literal" not in out["error"]


def test_a_missing_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["game", "inspection", "--periods", "3"]) == 2
    assert "--inspections" in capsys.readouterr().err


def test_deterrence_without_and_with_false_alarms(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "3")
    assert code == 0 and out["threshold"] == "1/4" and out["deterrable"] is True and out["deters"] is None
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "3", "--false-alarm", "0.05",
                    "--false-alarm-cost", "2", "--detection", "0.27")
    assert code == 0 and (out["threshold"], out["detection"], out["deters"]) == ("11/40", "27/100", False)


def test_deterrence_that_no_regime_reaches(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "1", "--false-alarm", "0.5", "--false-alarm-cost", "4")
    assert code == 0 and out["threshold"] == "3/2" and out["deterrable"] is False
    assert main(["game", "deterrence", "--gain", "1", "--sanction", "1", "--false-alarm", "0.5", "--false-alarm-cost", "4"]) == 0
    assert "no detection probability deters" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "option"), [
    (["--gain", "0", "--sanction", "1"], "--gain"),
    (["--gain", "x", "--sanction", "1"], "--gain"),
    (["--gain", "1", "--sanction", "-1"], "--sanction"),
    (["--gain", "1", "--sanction", "nan"], "--sanction"),
    (["--gain", "1", "--sanction", "1", "--false-alarm", "0.1"], "--false-alarm-cost"),
    (["--gain", "1", "--sanction", "1", "--false-alarm-cost", "2"], "--false-alarm"),
    (["--gain", "1", "--sanction", "1", "--false-alarm", "2", "--false-alarm-cost", "1"], "--false-alarm"),
    (["--gain", "1", "--sanction", "1", "--false-alarm", "0.1", "--false-alarm-cost", "-1"], "--false-alarm-cost"),
    (["--gain", "1", "--sanction", "1", "--detection", "1.5"], "--detection"),
])
def test_bad_deterrence_options_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str], args: list[str], option: str) -> None:
    code, out = run(capsys, "game", "deterrence", *args)
    assert code == 2 and out["error"].startswith(f"{option}: "), out


# --- deterrence of a regime file (the simulator's detection probability by the end) ---------

EXACT_REGIME = """\
territory: {cells: 100}
hidden_sites: {k: 1, strategy: uniform}
phases:
  - {opens: 1.0, inspections: 50, from: opened}
"""
"""One hidden site, 50 of 100 cells inspected: detected with probability exactly 1/2."""

SAMPLED_REGIME = "territory: {cells: 1000}\nhidden_sites: {k: 50, strategy: uniform}\nphases:\n" + "".join(
    f"  - {{opens: {share}, inspections: 2, from: opened}}\n" for share in ("0.1",) * 5 + ("0.5",))
"""Too many placements to enumerate (exact is null): the Monte Carlo interval decides."""


def test_a_regime_with_an_exact_answer_is_judged_by_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(EXACT_REGIME)
    common = ["game", "deterrence", "--gain", "1", "--regime", str(tmp_path / "r.yaml"), "--trials", "1000", "--seed", "3", "--workers", "1"]
    code, out = run(capsys, *common, "--sanction", "1.5")  # threshold 1/(1.5 + 1) = 2/5 < 1/2
    assert code == 0 and out["threshold"] == "2/5" and out["deters"] is True
    assert out["regime"]["exact"] == pytest.approx(0.5) and out["regime"]["trials"] == 1000 and out["regime"]["seed"] == 3
    code, out = run(capsys, *common, "--sanction", "0.5")  # threshold 2/3 > 1/2
    assert code == 0 and out["threshold"] == "2/3" and out["deters"] is False


def test_a_sampled_regime_is_judged_by_its_interval(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(SAMPLED_REGIME)
    common = ["game", "deterrence", "--gain", "1", "--regime", str(tmp_path / "r.yaml"), "--trials", "2000", "--seed", "1", "--workers", "1"]
    code, low = run(capsys, *common, "--sanction", "3")  # threshold 1/4
    assert code == 0 and low["regime"]["exact"] is None
    lo, hi = low["regime"]["ci95"]
    assert 0.25 < lo < hi < 2 / 3 and low["deters"] is True
    code, high = run(capsys, *common, "--sanction", "0.5")  # threshold 2/3, above the interval
    assert code == 0 and high["deters"] is False and high["regime"] == low["regime"]  # same seed, same simulation
    # A threshold inside the interval: undecided. D/(B+D) = estimate → B = D(1 − t)/t.
    t = F(low["regime"]["detection_probability"]).limit_denominator(10**6)
    code, inside = run(capsys, *common, "--sanction", str((1 - t) / t))
    assert code == 0 and inside["deters"] is None
    assert main([*common, "--sanction", str((1 - t) / t)]) == 0
    assert "run more --trials" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "option"), [
    (["--detection", "0.3"], "--regime"),
    (["--trials", "0"], "--trials"),
])
def test_bad_regime_options_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], option: str) -> None:
    (tmp_path / "r.yaml").write_text(EXACT_REGIME)
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "1", "--regime", str(tmp_path / "r.yaml"), *args)
    assert code == 2 and out["error"].startswith(f"{option}: "), out


@pytest.mark.parametrize("option", ["--trials", "--seed", "--workers"])
def test_simulation_options_need_a_regime(capsys: pytest.CaptureFixture[str], option: str) -> None:
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "1", option, "2")
    assert code == 2 and out["error"].startswith(f"{option}: "), out


def test_a_bad_regime_file_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(EXACT_REGIME.replace("inspections: 50", "inspections: -5"))
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "1", "--regime", str(tmp_path / "r.yaml"))
    assert code == 2 and "phases[0].inspections" in out["error"], out
    code, out = run(capsys, "game", "deterrence", "--gain", "1", "--sanction", "1", "--regime", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml" in out["error"]
