"""Layers import one way (core ← store ← board / workspace ← cli, api), the board package is pure
(no HTTP, no SQL, no clock), and no module outside ``store/`` holds SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "unveil"

FORBIDDEN = {
    "core": {"store", "board", "workspace", "cli", "api", "exercise", "inspection", "analytics", "geo", "declaration"},
    "store": {"board", "workspace", "cli", "api"},
    "board": {"store", "workspace", "cli", "api"},
    "workspace": {"cli", "api"},
    "cli": {"store"},
}
"""For each package, the unveil packages it must not import (at module level, inside a function
or for type checking only). A command calls services (``workspace``, ``board``), never
``store``."""

IO_MODULES = {"sqlite3", "sqlalchemy", "psycopg", "httpx", "socket", "http", "urllib", "subprocess", "time", "requests"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}
SQL = re.compile(
    r"\b(SELECT\s[^\"']*\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|(CREATE|DROP|ALTER)\s+(TABLE|INDEX|VIEW)|UPDATE\s+\w+\s+SET"
    r"|DELETE\s+FROM|PRAGMA)\b"
)
EXECUTE_CALLS = {"execute", "executemany", "executescript"}
OUTSIDE_STORE = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if path.relative_to(SRC).parts[0] != "store")


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(("unveil", *path.relative_to(SRC).parent.parts))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
    return found


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_one_way(package: str) -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line}: {module}"
        for path in modules(package)
        for line, module in imports(path)
        if module.startswith("unveil.") and module.split(".")[1] in FORBIDDEN[package]
    ]
    assert bad == []


def test_the_board_package_does_no_io_and_reads_no_clock() -> None:
    bad = []
    for path in modules("board"):
        for line, module in imports(path):
            if module.split(".")[0] in IO_MODULES:
                bad.append(f"{path.relative_to(SRC)}:{line}: imports {module}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
                bad.append(f"{path.relative_to(SRC)}:{node.lineno}: calls .{node.func.attr}()")
        if SQL.search(path.read_text()):
            bad.append(f"{path.relative_to(SRC)}: holds SQL")
    assert bad == []


@pytest.mark.parametrize("name", OUTSIDE_STORE)
def test_no_module_outside_store_holds_sql(name: str) -> None:
    """SQL lives only in ``store/``: elsewhere no statement text and no ``.execute()`` call."""
    text = (SRC / name).read_text()
    assert not SQL.search(text), SQL.search(text)
    calls = [node.lineno for node in ast.walk(ast.parse(text))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTE_CALLS]
    assert calls == []


def test_the_checks_would_catch_a_violation(tmp_path: Path) -> None:
    """The scans above find what they look for."""
    assert SQL.search('db.execute("SELECT size FROM witness_state WHERE origin = ?")')
    assert SQL.search('"INSERT OR REPLACE INTO inspections (escrow_id) VALUES (?)"')
    assert SQL.search('"""CREATE TABLE IF NOT EXISTS coins (context TEXT)"""')
    assert not SQL.search("Select the final size from the quorum's cosignatures.")
    sample = SRC / "board" / "finality.py"
    assert "unveil.board.parties" in {m for _, m in imports(sample)}
