"""Layers import one way (core ← store ← board / workspace ← cli, api), ``cli`` and ``api`` alone
on top, with no import cycle between packages; the board package is pure (no HTTP, no SQL, no
clock), and no module outside ``store/`` holds SQL."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "unveil"

UNITS = {"unveil" if p.name == "__init__.py" else p.name.removesuffix(".py")
         for p in SRC.iterdir() if (p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"}
"""Every package and top-level module of unveil; ``unveil`` is the root package (``__version__``)."""
LIBRARIES = {"textformats", "geo", "declaration", "inspection", "analytics", "escrowing", "concurrency", "extras", "exercise", "agreements", "simulation", "material", "webui"}
"""Libraries beside the pure core: no storage, no services, no commands."""
FORBIDDEN = {
    "core": UNITS - {"core", "errors"},
    "errors": UNITS - {"core", "errors"},
    **{library: {"store", "board", "workspace", "cli", "api", "web"} for library in LIBRARIES},
    "store": {"board", "workspace", "cli", "api", "web"},
    "board": {"store", "workspace", "cli", "api", "web"},
    "workspace": {"cli", "api", "web"},
    "cli": {"store"},
    "api": {"workspace", "cli", "web"},
    "web": {"store", "cli", "api"},
}
"""For each package or top-level module, the unveil packages and modules it must not import (at
module level, inside a function or for type checking only). A command calls services
(``workspace``, ``board``), never ``store``; the API serves a board (``board``, ``store``) and
knows nothing of a party's workspace. ``core`` and ``errors``: see :data:`MUTUAL`."""
TOP = {"cli", "api", "web"}
"""The top layer: nothing else imports these (``cli`` starts ``web``'s private view, as it
starts ``api``'s board)."""
MUTUAL = {"core", "errors"}
"""The one pair of packages that import each other: the error tree (``unveil.errors``) carries
reason codes (``unveil.core.reasons.Reason``) and the pure core raises those errors. No module
cycle comes of it: ``errors`` imports only ``core.reasons``, which imports nothing of unveil."""

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
    """The files of a package, or the one file of a top-level module."""
    return sorted((SRC / package).rglob("*.py")) if (SRC / package).is_dir() else [SRC / f"{package}.py"]


def unit(path: Path) -> str:
    """The package (``core``, ``cli``, …) or top-level module (``errors``, …) a file belongs to;
    ``unveil`` for the root ``__init__``."""
    first = path.relative_to(SRC).parts[0]
    return "unveil" if first == "__init__.py" else first.removesuffix(".py")


def imported_units(path: Path) -> Iterator[tuple[int, str, str]]:
    """``(line, module, unit)`` of every unveil import in the file (``from unveil import X``:
    the unit is ``X`` when it is a package or module)."""
    from_root: dict[int, list[str]] = {}  # line -> the names of a ``from unveil import …``
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "unveil" and not node.level:
            from_root[node.lineno] = [alias.name for alias in node.names]
    for line, module in imports(path):
        parts = module.split(".")
        if parts[0] != "unveil":
            continue
        if len(parts) > 1:
            yield line, module, parts[1]
            continue
        for name in from_root.get(line, []):
            if (SRC / name).is_dir() or (SRC / f"{name}.py").is_file():
                yield line, f"unveil.{name}", name
            else:  # a name the root package defines (__version__)
                yield line, module, "unveil"


def package_graph() -> dict[str, set[str]]:
    """Each package's (or top-level module's) imports of other unveil packages and modules."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        source = unit(path)
        graph.setdefault(source, set()).update(target for _, _, target in imported_units(path) if target != source)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_one_way(package: str) -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line}: {module}"
        for path in modules(package)
        for line, module, target in imported_units(path)
        if target in FORBIDDEN[package]
    ]
    assert bad == []


def test_only_cli_and_api_are_on_top() -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line}: {module}"
        for path in SRC.rglob("*.py") if unit(path) not in TOP
        for line, module, target in imported_units(path) if target in TOP
    ]
    assert bad == []


def test_no_import_cycle_between_packages() -> None:
    assert cycles(package_graph()) == [MUTUAL]
    errors_imports = {module for _, module, target in imported_units(SRC / "errors.py") if target == "core"}
    assert errors_imports == {"unveil.core.reasons"}
    assert list(imported_units(SRC / "core" / "reasons.py")) == []


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
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []
    demo = {u for _, _, u in imported_units(SRC / "cli" / "demo_inspector.py")}
    assert "exercise" in demo  # from unveil import exercise
    assert {"core", "errors", "store", "cli", "api", "escrowing", "unveil"} <= UNITS and LIBRARIES <= UNITS
    assert all(modules(package) and all(path.is_file() for path in modules(package)) for package in FORBIDDEN)


LONG = 400
"""Lines past which a module says why it is one module (the architecture issue's bound)."""


def test_a_module_past_400_lines_says_why_in_its_docstring() -> None:
    unexplained = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > LONG and "past 400 lines" not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained.append(str(path.relative_to(SRC)))
    assert unexplained == []
