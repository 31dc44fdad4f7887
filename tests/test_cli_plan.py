"""`unveil plan` (exact inspection planning) and `unveil select` (offline draw recomputation)."""

from __future__ import annotations

import hashlib
import json
from math import comb
from pathlib import Path

import pytest

from unveil.cli.main import main
from unveil.core.keys import STATEMENT_KEY, SigningKey

HOST = SigningKey.generate("Host", STATEMENT_KEY, b"\x01" * 32).vkey
INSPECTOR = SigningKey.generate("Inspector", STATEMENT_KEY, b"\x02" * 32).vkey


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_plan_gives_the_exact_hypergeometric_minimum(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plan", "--population", "100", "--falsified", "5", "--detection", "0.95")
    assert code == 0
    brute = next(n for n in range(101) if 1 - comb(95, n) / comb(100, n) >= 0.95)
    assert out["n"] == brute == 45
    assert out["detection_probability"] == pytest.approx(1 - comb(95, 45) / comb(100, 45))
    assert out["approximation"] == pytest.approx(100 * (1 - 0.05 ** (1 / 5)))


def test_plan_from_a_goal_quantity(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plan", "--population", "100", "--goal-quantity", "2.1", "--item-size", "0.7", "--detection", "0.9")
    assert code == 0 and out["falsified"] == 3  # exactly 3: floats would say ceil(2.1 / 0.7) = 4


@pytest.mark.parametrize(
    "args",
    [
        ["--population", "100", "--falsified", "500", "--detection", "0.95"],
        ["--population", "100", "--falsified", "5", "--detection", "1.5"],
        ["--population", "0", "--falsified", "1", "--detection", "0.5"],
        ["--population", "100", "--falsified", "5", "--detection", "nan"],
        ["--population", "100", "--detection", "0.5"],
        ["--population", "100", "--goal-quantity", "3", "--detection", "0.5"],
        ["--population", "100", "--falsified", "\u00b2", "--detection", "0.5"],
        ["--population", "100", "--falsified", "\u0665", "--detection", "0.5"],
    ],
    ids=["more-falsified-than-items", "probability-over-1", "empty-population", "nan", "no-falsified", "goal-without-item-size",
         "superscript-digit", "arabic-indic-digit"],
)
def test_impossible_plans_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out = run(capsys, "plan", *args)
    assert code == 2 and out["error"]
    assert "invalid literal" not in out["error"]  # a message about the option, not Python's int()


def test_select_recomputes_the_spec_draw(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "pop.txt").write_text("site-3\nsite-1\nsite-2\nsite-4\n")
    r_host, r_insp = "ab" * 32, "cd" * 32
    code, out = run(capsys, "select", "--context", "phase-2:inspect", "--reveal", HOST, r_host, "--reveal", INSPECTOR, r_insp,
                    "--population", str(tmp_path / "pop.txt"), "--n", "2")
    assert code == 0
    # Spec §8 by hand: r ordered by the ascending bytes of the vkeys.
    ordered = [r for _, r in sorted([(HOST, r_host), (INSPECTOR, r_insp)], key=lambda p: p[0].encode())]
    seed = hashlib.sha256(b"unveil/v1/seed\x00phase-2:inspect\x00" + b"".join(bytes.fromhex(r) for r in ordered)).digest()
    assert out["seed"] == seed.hex()
    assert out["population_sha256"] == hashlib.sha256(b"site-1\nsite-2\nsite-3\nsite-4\n").hexdigest()
    assert len(out["selection"]) == 2 and len(set(out["selection"])) == 2


@pytest.mark.parametrize(
    ("population", "extra", "needle"),
    [
        ("a\na\n", [], "duplicate"),
        ("a\nb\n", ["--n", "3"], ""),
        ("a\nb\n", ["--reveal-typo"], "--reveal"),
    ],
    ids=["duplicate-id", "n-above-population", "bad-flag"],
)
def test_select_rejects_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path, population: str, extra: list[str], needle: str) -> None:
    (tmp_path / "pop.txt").write_text(population)
    args = ["select", "--context", "c", "--reveal", HOST, "ab" * 32, "--population", str(tmp_path / "pop.txt"), "--n", "1"]
    code, out = run(capsys, *args, *extra)
    assert code == 2 and needle in out["error"]
