"""``unveil material``: the commands' JSON as the issue spells it, units in what a person
reads, bad files and options refused with exit 2 naming the file, line and column (spec §13)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.workflow_fixtures import cli, unveil
from unveil.core.jsonparse import loads
from unveil.material import balance, read_balance

HEADER = "period,category,kind,quantity,sigma_random,sigma_systematic\n"
GOOD = HEADER + """1,plutonium,begin,100,0.3,0.2
1,plutonium,receipt,50,0.1,0.4
1,plutonium,shipment,20,0.1,0.2
1,plutonium,end,129,0.3,0.25
1,heu,begin,40,0.1,0.05
1,heu,end,39.8,0.1,0.05
2,plutonium,receipt,40,0.1,0.3
2,plutonium,end,168.5,0.2,0.25
2,heu,end,39.9,0.1,0.05
"""
HISTORY = """reactor,period,energy_mwd,energy_sigma_mwd,g_per_mwd,g_per_mwd_sigma
R1,1990,7000,350,,
R1,1991,6000,300,,
R2,1991,1000,,0.5,0.1
"""


def write(tmp_path: Path, text: str | bytes, name: str = "balance.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def test_compare_gives_the_issues_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "material", "compare", "--declared", "30", "--declared-sigma", "1", "--estimate", "27", "--estimate-sigma", "2")
    assert code == 0
    assert {"difference", "sigma", "z", "consistent", "alpha"} <= set(out)
    assert out["difference"] == 3 and out["z"] == pytest.approx(3 / math.sqrt(5)) and out["consistent"] is True


def test_compare_with_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "material", "compare", "--declared-range", "28..32", "--estimate-range", "20..30", "--alpha", "0.1")
    assert code == 0 and out["difference"] == 5 and out["alpha"] == 0.1
    z975 = 1.959963984540054
    assert out["sigma"] == pytest.approx(math.hypot(4 / (2 * z975), 10 / (2 * z975)))


def test_compare_with_a_production_history(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "material", "compare", "--declared", "12", "--declared-sigma", "0.1", "--history", write(tmp_path, HISTORY, "h.csv"))
    assert code == 0
    sigma_e = math.sqrt(650**2 + 100**2 + 315**2 + 270**2) / 1000  # tests/test_material.py's hand computation
    assert out["estimate"]["mean"] == pytest.approx(12.2) and out["estimate"]["sigma"] == pytest.approx(sigma_e)
    assert out["difference"] == pytest.approx(-0.2) and out["sigma"] == pytest.approx(math.hypot(0.1, sigma_e))
    assert [r["reactor"] for r in out["reactors"]] == ["R1", "R2"]


def test_compare_for_a_person_prints_units() -> None:
    code, text = unveil("material", "compare", "--declared", "48", "--declared-sigma", "0.5", "--estimate-range", "40..55")
    assert code == 0 and "48.000 kg ± 0.500 kg" in text and "CONSISTENT" in text and " σ" in text


@pytest.mark.parametrize("args, named", [
    (["--declared", "30", "--estimate", "27", "--estimate-sigma", "2"], "--declared-sigma"),
    (["--declared", "30", "--declared-sigma", "-1", "--estimate", "27", "--estimate-sigma", "2"], "--declared-sigma"),
    (["--declared", "nan", "--declared-sigma", "1", "--estimate", "27", "--estimate-sigma", "2"], "--declared"),
    (["--declared", "inf", "--declared-sigma", "1", "--estimate", "27", "--estimate-sigma", "2"], "--declared"),
    (["--declared", "30", "--declared-sigma", "1", "--declared-range", "1..2", "--estimate", "27", "--estimate-sigma", "2"], "--declared"),
    (["--declared-range", "5..4", "--estimate", "27", "--estimate-sigma", "2"], "--declared-range"),
    (["--declared-range", "5-6", "--estimate", "27", "--estimate-sigma", "2"], "--declared-range"),
    (["--declared", "30", "--declared-sigma", "1"], "--estimate"),
    (["--declared", "30", "--declared-sigma", "1", "--estimate", "27", "--estimate-sigma", "2", "--alpha", "1"], "--alpha"),
], ids=["sigma-missing", "negative-sigma", "nan", "inf", "two-declared", "reversed-range", "not-a-range", "no-estimate", "alpha-1"])
def test_compare_refuses_bad_options_naming_them(capsys: pytest.CaptureFixture[str], args: list[str], named: str) -> None:
    code, out = cli(capsys, "material", "compare", *args)
    assert code == 2 and named in out["error"]


def test_detect_and_min_loss(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "material", "detect", "--loss", "8", "--sigma", "3", "--alpha", "0.05")
    assert code == 0 and out["detection_probability"] == pytest.approx(0.5 * (1 + math.erf((8 / 3 - 1.6448536269514722) / math.sqrt(2))))
    code, out = cli(capsys, "material", "min-loss", "--sigma", "3", "--alpha", "0.05", "--detection", "0.95")
    assert code == 0 and out["loss"] == pytest.approx(3 * 2 * 1.6448536269514722)
    code, text = unveil("material", "detect", "--loss", "8", "--sigma", "3", "--alpha", "0.05")
    assert code == 0 and "8 kg" in text and "84.66 %" in text and "5.00 %" in text


@pytest.mark.parametrize("args", [
    ["detect", "--loss", "8", "--sigma", "-3"], ["detect", "--loss", "8", "--sigma", "0"], ["detect", "--loss", "NaN", "--sigma", "3"],
    ["min-loss", "--sigma", "3", "--detection", "0"], ["min-loss", "--sigma", "3", "--detection", "0.9", "--alpha", "-0.1"],
    ["threshold", "--periods", "0", "--false-alarm", "0.05"], ["threshold", "--periods", "5", "--false-alarm", "2"],
    ["threshold", "--periods", "5", "--false-alarm", "0.05", "--trials", "10"],
    ["threshold", "--periods", "12", "--false-alarm", "0.05", "--k", "1e308"],
    ["compare", "--declared", "1e308", "--declared-sigma", "1", "--estimate", "-1e308", "--estimate-sigma", "1"],
    ["min-loss", "--sigma", "1e308", "--detection", "0.99"],
])
def test_planning_commands_refuse_bad_values(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out = cli(capsys, "material", *args)
    assert code == 2 and out["error"].startswith("--")


def test_threshold_json_and_reproducibility(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["material", "threshold", "--periods", "12", "--k", "0.5", "--false-alarm", "0.05", "--trials", "20000", "--seed", "3"]
    code, out = cli(capsys, *args)
    assert code == 0 and set(out) >= {"h", "standard_error"} and 3.0 < out["h"] < 3.8 and 0 < out["standard_error"] < 0.1
    assert cli(capsys, *args)[1] == out


# --- balance ---------------------------------------------------------------------------------


def test_balance_json_shape_and_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--trials", "20000")
    assert code == 0 and out["unit"] == "kg"
    assert [set(p) >= {"period", "category", "muf", "sigma_muf", "sitmuf", "page", "alarm"} for p in out["periods"]] == [True] * 4
    assert [(p["category"], p["period"]) for p in out["periods"]] == [("heu", "1"), ("heu", "2"), ("plutonium", "1"), ("plutonium", "2")]
    pu = [p for p in out["periods"] if p["category"] == "plutonium"]
    assert [p["muf"] for p in pu] == pytest.approx([1.0, 0.5])
    assert [p["sigma_muf"] for p in pu] == pytest.approx([math.sqrt(0.4025), math.sqrt(0.23)])  # the worked example
    heu = [p for p in out["periods"] if p["category"] == "heu"]
    assert [p["muf"] for p in heu] == pytest.approx([0.2, -0.1])
    cumulative = {c["category"]: c for c in out["cumulative"]}
    assert set(cumulative["plutonium"]) >= {"category", "muf", "sigma_muf", "alarm"}
    assert cumulative["plutonium"]["sigma_muf"] == pytest.approx(math.sqrt(0.6925))
    assert cumulative["plutonium"]["alarm"] is (1.5 / math.sqrt(0.6925) > 1.6448536269514722)
    protracted = {p["category"]: p for p in out["protracted"]}
    assert protracted["plutonium"]["loss"] == 8 and protracted["heu"]["loss"] == 25  # one significant quantity each


def test_balance_json_round_trips_through_the_strict_reader(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code = unveil("material", "balance", path, "--trials", "5000", "--json")
    text = code[1]
    assert code[0] == 0
    parsed = loads(text.encode())  # spec §0's reader: no NaN, no Infinity
    direct = balance(read_balance(Path(path).read_bytes(), source=path), trials=5000)
    assert parsed == json.loads(json.dumps(direct)) and json.dumps(parsed, ensure_ascii=False) == text.strip()


def test_balance_for_a_person_carries_units(tmp_path: Path) -> None:
    code, text = unveil("material", "balance", write(tmp_path, GOOD), "--trials", "5000", "--loss", "1")
    assert code == 0
    assert "1.000 kg" in text and "kg (1σ)" in text and "probability" in text and " %" in text
    assert "a loss of 1.000 kg spread evenly over 2 periods" in text and "stronger" in text and "weaker" in text


def test_balance_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b.png"
    code, _ = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--trials", "2000", "--plot", str(out))
    assert code == 0 and out.read_bytes().startswith(b"\x89PNG")
    code, doc = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--plot", str(tmp_path / "b.txt"))
    assert code == 2 and "--plot" in doc["error"] and not (tmp_path / "b.txt").exists()


def test_balance_with_a_given_threshold_and_loss(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--h", "0.1", "--k", "0", "--loss", "2")
    assert code == 0 and all(t["h"] == 0.1 and t["h_standard_error"] == 0 for t in out["page"])
    first = next(p for p in out["periods"] if p["category"] == "plutonium")
    assert first["page"] == pytest.approx(max(0.0, first["sitmuf"])) and first["alarm"] is (first["page"] > 0.1)
    assert {p["loss"] for p in out["protracted"]} == {2}


def bad(text: str) -> str:
    return HEADER + text


HOSTILE: list[Any] = [
    ("nan", bad("1,plutonium,begin,nan,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column quantity"),
    ("NaN-sigma", bad("1,plutonium,begin,1,NaN,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column sigma_random"),
    ("inf", bad("1,plutonium,begin,1,0.1,0\n1,plutonium,end,Infinity,0.1,0\n"), "line 3, column quantity"),
    ("overflow", bad("1,plutonium,begin,1e400,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column quantity"),
    ("too-large", bad("1,plutonium,begin,1e13,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column quantity: quantity 1e13 is over"),
    ("negative-sigma", bad("1,plutonium,begin,1,0.1,-0.2\n1,plutonium,end,1,0.1,0\n"), "line 2, column sigma_systematic"),
    ("negative-quantity", bad("1,plutonium,begin,-1,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column quantity"),
    ("missing-column", "period,category,kind,quantity,sigma_random\n1,plutonium,begin,1,0.1\n", "missing column 'sigma_systematic'"),
    ("unknown-column", HEADER.strip() + ",note\n1,plutonium,begin,1,0.1,0,x\n", "unknown column 'note'"),
    ("twice-column", "period,period,category,kind,quantity,sigma_random,sigma_systematic\n", "appears twice"),
    ("bad-kind", bad("1,plutonium,inventory,1,0.1,0\n"), "line 2, column kind"),
    ("duplicate-row", bad("1,plutonium,begin,1,0.1,0\n1,plutonium,begin,1,0.1,0\n1,plutonium,end,1,0.1,0\n"), "first on line 2"),
    ("out-of-order", bad("2,plutonium,begin,1,0.1,0\n2,plutonium,end,1,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 4, column period"),
    ("not-contiguous", bad("a,plutonium,begin,1,0.1,0\nb,plutonium,end,1,0.1,0\na,plutonium,end,1,0.1,0\n"), "appears again"),
    ("dates-out-of-order", bad("2024-02-01,plutonium,begin,1,0.1,0\n2024-01-01,plutonium,end,1,0.1,0\n"), "time order"),
    ("first-begin-missing", bad("1,plutonium,receipt,1,0.1,0\n1,plutonium,end,1,0.1,0\n"), "no begin"),
    ("last-end-missing", bad("1,plutonium,begin,1,0.1,0\n2,plutonium,receipt,1,0.1,0\n"), "no end"),
    ("short-row", bad("1,plutonium,begin,1,0.1\n"), "line 2: 5 fields"),
    ("bad-id", bad("1,pluto nium,begin,1,0.1,0\n"), "line 2, column category"),
    ("empty", "", "is empty"),
    ("header-only", HEADER, "no data rows"),
    ("not-utf8", (HEADER + "1,plutonium,begin,1,0.1,0\n").encode("utf-16"), "UTF-8"),
    ("bad-quote", bad('1,"plutonium,begin,1,0.1,0\n'), "not CSV"),
    ("hex-number", bad("1,plutonium,begin,0x10,0.1,0\n1,plutonium,end,1,0.1,0\n"), "line 2, column quantity"),
]


@pytest.mark.parametrize("text, named", [pytest.param(t, n, id=i) for i, t, n in HOSTILE])
def test_bad_balance_files_exit_2_naming_where(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str | bytes, named: str) -> None:
    path = write(tmp_path, text)
    code, out = cli(capsys, "material", "balance", path, "--trials", "1000")
    assert code == 2, out
    assert named in out["error"] and path in out["error"], out["error"]


def test_a_byte_order_mark_is_skipped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "material", "balance", write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()), "--trials", "1000")
    assert code == 0 and len(out["periods"]) == 4


def test_huge_files_are_refused_before_parsing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    row = "1,plutonium,receipt,1,0.1,0\n"
    path = write(tmp_path, HEADER + row * ((16 << 20) // len(row) + 10))
    code, out = cli(capsys, "material", "balance", path)
    assert code == 2 and "over the limit" in out["error"]


def test_too_many_periods_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = HEADER + "".join(f"{t},plutonium,end,1,0.1,0\n" for t in range(1, 1003))
    code, out = cli(capsys, "material", "balance", write(tmp_path, HEADER.replace("\n", "") + "\n0,plutonium,begin,1,0.1,0\n" + text[len(HEADER):]))
    assert code == 2 and "over the limit of 1000" in out["error"]


def test_balance_file_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "material", "balance", str(tmp_path / "absent.csv"))
    assert code == 2 and "not found" in out["error"]
    code, out = cli(capsys, "material", "balance")
    assert code == 2 and "FILE" in out["error"]
    code, out = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--flows", write(tmp_path, GOOD, "f.csv"))
    assert code == 2 and "--flows" in out["error"]


@pytest.mark.parametrize("text, named", [
    ("reactor,period,energy_mwd,energy_sigma_mwd,g_per_mwd,g_per_mwd_sigma\nR1,1990,-5,,,\n", "line 2, column energy_mwd"),
    ("reactor,period,energy_mwd,energy_sigma_mwd,g_per_mwd,g_per_mwd_sigma\nR1,1990,5,,nan,\n", "line 2, column g_per_mwd"),
    ("reactor,period,energy_mwd,energy_sigma_mwd,g_per_mwd,g_per_mwd_sigma\nR1,1990,5,,,\nR1,1990,6,,,\n", "first on line 2"),
    ("reactor,period,energy_mwd\nR1,1990,5\n", "missing columns"),
])
def test_bad_history_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text, "h.csv")
    code, out = cli(capsys, "material", "compare", "--declared", "1", "--declared-sigma", "1", "--history", path)
    assert code == 2 and named in out["error"] and path in out["error"], out["error"]


def test_a_category_that_skips_a_period_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = bad("1,heu,begin,1,0.1,0\n1,heu,end,1,0.1,0\n1,plutonium,begin,1,0.1,0\n1,plutonium,end,1,0.1,0\n"
               "2,plutonium,end,1,0.1,0\n3,heu,begin,1,0.1,0\n3,heu,end,1,0.1,0\n3,plutonium,end,1,0.1,0\n")
    code, out = cli(capsys, "material", "balance", write(tmp_path, text), "--trials", "1000")
    assert code == 2 and "category heu has no rows in period 2" in out["error"] and "line 7, column period" in out["error"]


def test_a_plot_that_cannot_be_written_exits_2_and_leaves_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "b.png"
    code, out = cli(capsys, "material", "balance", write(tmp_path, GOOD), "--trials", "1000", "--plot", str(target))
    assert code == 2 and "cannot write the plot" in out["error"] and not target.parent.exists()


@pytest.mark.parametrize("args", [
    ["compare", "--declared", "30", "--declared-sigma", "1", "--estimate-range", "20..40"],
    ["detect", "--loss", "8", "--sigma", "3"],
    ["min-loss", "--sigma", "3", "--detection", "0.9"],
    ["threshold", "--periods", "4", "--false-alarm", "0.1", "--trials", "1000"],
])
def test_every_commands_json_round_trips_through_the_strict_reader(args: list[str]) -> None:
    code, text = unveil("material", *args, "--json")
    assert code == 0
    parsed = loads(text.encode())  # spec §0: finite numbers only
    assert json.dumps(parsed, ensure_ascii=False) == text.strip()


def test_a_huge_history_is_refused_without_reading_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    with path.open("wb") as handle:
        handle.truncate((16 << 20) + 1)  # sparse: refused by its size
    code, out = cli(capsys, "material", "compare", "--declared", "1", "--declared-sigma", "1", "--history", str(path))
    assert code == 2 and "over the" in out["error"] and str(path) in out["error"]


def test_material_without_the_analytics_extra_exits_2_naming_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.test_packaging import RUNNER, _base_only_block

    src = str(Path(__file__).resolve().parent.parent / "src")  # this tree's unveil, whatever the cwd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
    for json_flag in ([], ["--json"]):
        run = subprocess.run([sys.executable, "-c", RUNNER, _base_only_block(), "material", "detect", "--loss", "8", "--sigma", "3",
                              *json_flag], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stdout + run.stderr
        message = json.loads(run.stdout)["error"] if json_flag else run.stderr
        assert "pip install 'unveil[analytics]'" in message and "unveil material" in message, message
