"""Packaging: a plain ``pip install unveil`` verifies; every other command names its extra.

The verifier-only runs import unveil in a subprocess whose import system refuses every
installed package outside the closure of pyproject's base dependencies, so an undeclared or
extra-only import on the verify path fails here (``make check-minimal`` repeats this with a
real install in a fresh venv).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from unveil.errors import MissingExtraError
from unveil.extras import EXTRAS, extra_for, required_extras

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "unveil"
VECTORS = REPO / "tests" / "vectors" / "h3"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

# Runs the unveil command with the modules named in argv[1] (comma-separated) unimportable.
RUNNER = """
import sys
blocked = frozenset(sys.argv[1].split(","))

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
if sys.argv[2] == "-c":
    exec(sys.argv[3])
else:
    from unveil.cli.main import main
    sys.exit(main(sys.argv[2:]))
"""


def _closure(requirements: list[str], extras: frozenset[str] = frozenset()) -> set[str]:
    """Canonical names of the installed distributions these requirements pull in."""
    seen: set[str] = set()
    todo = [(Requirement(r), extras) for r in requirements]
    while todo:
        req, active = todo.pop()
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (active or {""})):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [(Requirement(r), frozenset(req.extras)) for r in metadata.requires(req.name) or []]
    return seen


def _extra_requirements(extra: str) -> list[str]:
    """One extra's requirements, self-references (``unveil[a,b]``) expanded."""
    out = []
    for text in PROJECT["optional-dependencies"][extra]:
        req = Requirement(text)
        if canonicalize_name(req.name) == "unveil":
            out += [r for e in sorted(req.extras) for r in _extra_requirements(e)]
        else:
            out.append(text)
    return out


@cache
def _modules_of() -> dict[str, set[str]]:
    """Installed distribution (canonical name) -> its top-level import names."""
    out: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            out.setdefault(canonicalize_name(dist), set()).add(module)
    return out


def _modules(dists: set[str]) -> set[str]:
    return {m for d in dists for m in _modules_of().get(d, ())}


@cache
def _base_only_block() -> str:
    """Every installed top-level module that the base dependencies do not bring."""
    base = _modules(_closure(PROJECT["dependencies"]))
    others = {m for modules in _modules_of().values() for m in modules} - base - {"unveil"}
    assert {"fastapi", "sqlalchemy", "httpx", "shapely", "yaml", "scipy", "pytest"} <= others
    return ",".join(sorted(others))


def _run_blocked(*args: str, cwd: Path | None = None, block: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", RUNNER, block or _base_only_block(), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


def _verify(bundle: str, *more: str) -> list[str]:
    return ["verify", str(VECTORS / "bundles" / f"{bundle}.json"), "--escrow", str(VECTORS / "escrow.json"),
            "--cells", str(VECTORS / "cells.txt"), "--leaves", str(VECTORS / "leaves.bin"), *more]


def _third_party_imports(path: Path) -> set[str]:
    """Top-level names of every non-stdlib, non-unveil import in ``path`` (lazy ones included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("unveil", "__future__")}


def test_verify_runs_with_only_the_base_dependencies() -> None:
    ok = _run_blocked(*_verify("valid"), "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["valid"] is True
    tampered = _run_blocked(*_verify("quantity-changed"), "--json")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert {p["reason"] for p in json.loads(tampered.stdout)["problems"]} == {"leaf-mismatch", "proof-root-mismatch"}
    human = _run_blocked(*_verify("root-changed"))
    assert human.returncode == 1 and "INVALID" in human.stdout, human.stdout + human.stderr


def test_the_inspectors_workspace_needs_no_extra(tmp_path: Path) -> None:
    """init, accept, verify into the workspace, status and plan: the plain install's commands."""
    steps = [
        ["init", "--workspace", "w", "--role", "inspector", "--name", "I"],
        ["accept", "--workspace", "w", "--escrow", str(VECTORS / "escrow.json"), "--cells", str(VECTORS / "cells.txt")],
        [*_verify("valid"), "--workspace", "w"],
        ["status", "--workspace", "w"],
        ["plan", "--population", "100", "--falsified", "5", "--detection", "0.95"],
    ]
    out = []
    for step in steps:
        run = _run_blocked(*step, "--json", cwd=tmp_path)
        assert run.returncode == 0, f"{step[0]}: {run.stdout}{run.stderr}"
        out.append(json.loads(run.stdout))
    assert out[2]["recorded"] is True
    assert (out[3]["escrow_id"], out[3]["opened"], out[4]["n"]) == ("vectors-h3", 10, 45)


def test_the_game_needs_no_extra(tmp_path: Path) -> None:
    """unveil game runs on the plain install: exact fractions from the standard library."""
    run = _run_blocked("game", "inspection", "--periods", "5", "--inspections", "2", "--json", cwd=tmp_path)
    assert run.returncode == 0 and json.loads(run.stdout)["value"] == "3/8", run.stdout + run.stderr
    run = _run_blocked("game", "deterrence", "--gain", "1", "--sanction", "3", "--json", cwd=tmp_path)
    assert run.returncode == 0 and json.loads(run.stdout)["threshold"] == "1/4", run.stdout + run.stderr


@pytest.mark.parametrize(("extra", "args"), [
    ("board", ["serve", "--db", "sqlite:///unused.db", "--origin", "b", "--key", "k.pem", "--parties", "p.json"]),
    ("board", ["audit", "--db", "sqlite:///unused.db", "--origin", "b", "--parties", "p.json"]),
    ("geo", _verify("valid", "--territory", str(REPO / "src/unveil/exercise/territory.geojson"))),
    ("geo", ["export", "--declaration", str(REPO / "src/unveil/exercise/declaration.json"), "--to", "csv", "--out", "unused.csv"]),
])
def test_a_command_without_its_extra_exits_2_naming_it(extra: str, args: list[str], tmp_path: Path) -> None:
    for json_flag in ([], ["--json"]):
        run = _run_blocked(*args, *json_flag, cwd=tmp_path)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        message = json.loads(run.stdout)["error"] if json_flag else run.stderr
        assert f"pip install 'unveil[{extra}]'" in message and f"unveil {args[0]}" in message, message
    assert sorted(tmp_path.iterdir()) == []  # nothing written


def test_simulate_needs_no_extra_for_a_json_regime_and_names_each_option_s(tmp_path: Path) -> None:
    """A JSON regime runs on the base install (numpy); a YAML one needs geo (PyYAML); --plot
    and --scheduler need the simulation extra, named before anything is written."""
    regime = {"territory": {"cells": 100}, "hidden_sites": {"k": 2}, "phases": [{"opens": 1, "inspections": 10}]}
    (tmp_path / "r.json").write_text(json.dumps(regime))
    (tmp_path / "r.yaml").write_text("territory: {cells: 100}\nhidden_sites: {k: 2}\nphases: [{opens: 1, inspections: 10}]\n")
    ok = _run_blocked("simulate", "--regime", "r.json", "--trials", "1000", "--seed", "1", "--json", cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["trials"] == 1000, ok.stdout + ok.stderr
    for args, extra in [(["--regime", "r.yaml"], "geo"),
                        (["--regime", "r.json", "--sweep", "hidden_sites.k=1,2", "--plot", "p.png"], "simulation"),
                        (["--regime", "r.json", "--scheduler", "tcp://127.0.0.1:9"], "simulation")]:
        run = _run_blocked("simulate", *args, "--trials", "10", "--json", cwd=tmp_path)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stdout + run.stderr
        assert f"pip install 'unveil[{extra}]'" in json.loads(run.stdout)["error"], run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.yaml"]


def test_a_partly_installed_extra_is_named_too(tmp_path: Path) -> None:
    """httpx present, SQLAlchemy missing: reading a board database still names unveil[board]."""
    from tests.test_board_core import ORIGIN, PARTIES_DOC

    (tmp_path / "p.json").write_text(json.dumps(PARTIES_DOC))
    args = ["audit", "--db", "sqlite:///unused.db", "--origin", ORIGIN, "--parties", "p.json", "--json"]
    run = _run_blocked(*args, cwd=tmp_path, block="sqlalchemy")
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"].endswith("(sqlalchemy is not installed): pip install 'unveil[board]'"), run.stdout


def test_the_truth_test_names_the_analytics_extra() -> None:
    code = (
        "from unveil.errors import MissingExtraError\n"
        "from unveil.extras import required_extras\n"
        "from unveil.inspection.truthtest import truth_test\n"  # imports without scipy
        "site = {'id': 's', 'kind': 'depot', 'lat': 1.0, 'lon': 2.0, 'items': []}\n"
        "suspect = {'id': 'x', 'kind': 'depot', 'lat': 1.0, 'lon': 2.0, 'radius_m': 10}\n"
        "try:\n"
        "    with required_extras():\n"
        "        truth_test([site], [suspect])\n"
        "except MissingExtraError as exc:\n"
        "    print(exc.extra, exc.module)\n"
    )
    run = _run_blocked("-c", code)
    assert run.returncode == 0 and run.stdout.split() == ["analytics", "scipy"], run.stdout + run.stderr


def test_other_missing_modules_are_not_blamed_on_an_extra() -> None:
    with pytest.raises(ModuleNotFoundError), required_extras():
        import unveil_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    with pytest.raises(MissingExtraError) as caught, required_extras():
        raise ModuleNotFoundError("No module named 'sqlalchemy.dialects'", name="sqlalchemy.dialects")
    assert caught.value.extra == "board" and "pip install 'unveil[board]'" in str(caught.value)
    assert extra_for(None) is None and extra_for("numpy") is None


def test_every_import_is_declared_and_core_needs_only_the_base() -> None:
    """Each third-party import comes from a declared dependency; extra-only ones are known to
    unveil.extras under that extra; unveil.core imports nothing beyond the base."""
    base = _modules(_closure(PROJECT["dependencies"]))
    per_extra = {e: _modules(_closure(_extra_requirements(e))) - base for e in EXTRAS}
    assert set(PROJECT["optional-dependencies"]) == {*EXTRAS, "all"}
    assert _closure(_extra_requirements("all")) == set().union(*(_closure(_extra_requirements(e)) for e in EXTRAS))
    for extra, modules in EXTRAS.items():
        assert set(modules) <= per_extra[extra], f"unveil.extras lists {extra} modules its packages do not provide"
    declared = {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}
    declared |= {canonicalize_name(Requirement(r).name) for e in EXTRAS for r in _extra_requirements(e)}
    direct = _modules(declared)
    for path in sorted(SRC.rglob("*.py")):
        for module in _third_party_imports(path):
            where = path.relative_to(SRC.parent)
            assert module in direct, f"{where} imports {module}, which no declared dependency provides"
            if module not in base:
                assert extra_for(module) in EXTRAS and module in per_extra[extra_for(module)], (
                    f"{where} imports {module} (an extra's package) unknown to unveil.extras.EXTRAS")
            if path.is_relative_to(SRC / "core"):
                assert module in base, f"{where} (pure core) imports {module}, which is not a base dependency"


def test_every_command_that_needs_an_extra_is_listed() -> None:
    """Each command's extras are checked before it reads an input (COMMAND_EXTRAS); a command
    of the CLI not in that table needs nothing beyond the base install."""
    from unveil.cli.main import app
    from unveil.extras import COMMAND_EXTRAS

    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback} | {g.name for g in app.registered_groups}
    assert set(COMMAND_EXTRAS) <= commands
    base = {"init", "verify", "accept", "status", "plan", "select", "intel", "inspect", "checkpoint", "simulate", "game"}
    assert commands - set(COMMAND_EXTRAS) == base
