"""`unveil game inspection` and `unveil game deterrence` (unveil.cli.game_cmd, docs/regimes.md)."""

from __future__ import annotations

import json

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
