"""The regime file (issue 12): territory, hidden sites, phases, declared sites, intelligence.

A regime is a JSON object (a YAML file is read by the strict YAML loader into the same JSON
value, spec §0)::

    territory: {cells: 3249}            # or {cells_file: cells.txt}
    hidden_sites: {k: 5, strategy: uniform}   # uniform | last-phase | away-from-intel | {cells: [...]}
    detection_probability: 1.0          # default 1
    phases:
      - {name: phase-1, opens: 0.2, inspections: 12, from: opened}   # from: opened | all | declared
    declared_sites: {count: 40}         # optional; needed by `from: declared`
    intel: {coverage: 0.5, detection_probability: 0.9, phase: 1}    # optional; phase defaults to 1

Cells are numbered 0..cells−1 in cell order (a ``cells_file`` lists them one a line, in that
order; explicit hidden cells are then given by their text, else by number). Declared sites
occupy the first ``count`` cells. Phase ``i`` opens the next ⌊opens × cells⌋ cells in cell
order (the last phase takes the rest when the fractions sum to 1). Intelligence suspects each
hidden site with probability ``coverage`` (0 for an ``away-from-intel`` host) and challenges
every suspect once in phase ``intel.phase``, finding it with ``intel.detection_probability``.

Errors are :class:`~unveil.errors.MalformedInputError` naming the file and the field
(``phases[1].opens``); unknown fields are refused everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unveil.core.jsonparse import decode_utf8, loads
from unveil.errors import MalformedInputError

__all__ = [
    "MAX_BYTES", "MAX_CELLS", "MAX_HIDDEN", "MAX_PHASES", "STRATEGIES", "Phase", "Regime", "read_regime",
    "read_regime_document", "regime_of",
]

MAX_BYTES = 1 << 20
"""The largest regime file read."""
MAX_CELLS_BYTES = 1 << 28
"""The largest ``cells_file`` read."""
MAX_CELLS = 10_000_000
MAX_HIDDEN = 1000
MAX_PHASES = 100
MAX_INSPECTIONS = 100_000
STRATEGIES = ("uniform", "last-phase", "away-from-intel")
SOURCES = ("opened", "all", "declared")


@dataclass(frozen=True)
class Phase:
    """One phase: its name, the cells it opens (``start``..``stop`` in cell order) and its
    random inspections, drawn without replacement from ``source``."""

    name: str
    opens: float
    start: int
    stop: int
    inspections: int
    source: str


@dataclass(frozen=True)
class Regime:
    """A validated regime (see the module docstring). ``hidden_cells`` holds the explicit cells
    of a ``{cells: [...]}`` host (``strategy`` is then ``"cells"``)."""

    cells: int
    k: int
    strategy: str
    hidden_cells: tuple[int, ...]
    detection_probability: float
    phases: tuple[Phase, ...]
    declared: int
    intel_coverage: float
    intel_detection: float
    intel_phase: int

    def pool(self, phase: int) -> int:
        """How many cells phase ``phase`` (0-based) draws its inspections from (a prefix of cell order)."""
        source = self.phases[phase].source
        return self.phases[phase].stop if source == "opened" else self.cells if source == "all" else self.declared

    def placement(self) -> tuple[int, int]:
        """The range of cell order a ``uniform``, ``last-phase`` or ``away-from-intel`` host hides in."""
        if self.strategy == "last-phase":
            return self.phases[-1].start, self.phases[-1].stop
        return 0, self.cells

    def coverage(self) -> float:
        """The probability that intelligence suspects a given hidden site."""
        return 0.0 if self.strategy == "away-from-intel" else self.intel_coverage


def _fail(message: str, where: str) -> MalformedInputError:
    return MalformedInputError(message, where=where)


def _object(value: Any, where: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail("must be an object", where)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})", f"{where}.{unknown[0]}".lstrip("."))
    missing = sorted(required - set(value))
    if missing:
        raise _fail("is missing", f"{where}.{missing[0]}".lstrip("."))
    return value


def _int(value: Any, where: str, low: int, high: int) -> int:
    if type(value) is not int:
        raise _fail(f"must be an integer, not {type(value).__name__}", where)
    if not low <= value <= high:
        raise _fail(f"must be between {low} and {high}, not {value}", where)
    return value


def _probability(value: Any, where: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _fail("must be a number", where)
    if not 0 <= value <= 1:
        raise _fail(f"must be between 0 and 1, not {value}", where)
    return float(value)


def _read_cells_file(path: Path, where: str) -> list[str]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CELLS_BYTES + 1)
    except OSError as exc:
        raise _fail(f"cannot read {str(path)!r}: {exc.strerror or exc}", where) from None
    if len(data) > MAX_CELLS_BYTES:
        raise _fail(f"{str(path)!r} is over the limit of {MAX_CELLS_BYTES} bytes", where)
    cells = [line.strip() for line in decode_utf8(data, source=str(path)).splitlines() if line.strip()]
    if not cells:
        raise _fail(f"{str(path)!r} lists no cells", where)
    if len(cells) > MAX_CELLS:
        raise _fail(f"{str(path)!r} lists {len(cells)} cells, over the limit of {MAX_CELLS}", where)
    if len(set(cells)) != len(cells):
        seen: set[str] = set()
        duplicate = next(c for c in cells if c in seen or seen.add(c))  # type: ignore[func-returns-value]
        raise _fail(f"{str(path)!r} lists cell {duplicate[:40]!r} twice", where)
    return cells


def _territory(value: Any, base: Path | None) -> tuple[int, list[str] | None]:
    doc = _object(value, "territory", {"cells", "cells_file"})
    if len(doc) != 1:
        raise _fail("give exactly one of cells or cells_file", "territory")
    if "cells" in doc:
        return _int(doc["cells"], "territory.cells", 1, MAX_CELLS), None
    name = doc["cells_file"]
    if not isinstance(name, str) or not name:
        raise _fail("must be a file name", "territory.cells_file")
    if base is None:
        raise _fail("a cells_file needs a regime read from a file", "territory.cells_file")
    names = _read_cells_file(base / name, "territory.cells_file")
    return len(names), names


def _hidden(value: Any, cells: int, names: list[str] | None) -> tuple[int, str, tuple[int, ...]]:
    doc = _object(value, "hidden_sites", {"k", "strategy"}, {"k"})
    k = _int(doc["k"], "hidden_sites.k", 1, min(MAX_HIDDEN, cells))
    strategy = doc.get("strategy", "uniform")
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise _fail(f"must be one of {', '.join(STRATEGIES)} or {{cells: [...]}}, not {strategy[:40]!r}", "hidden_sites.strategy")
        return k, strategy, ()
    listed = _object(strategy, "hidden_sites.strategy", {"cells"}, {"cells"})["cells"]
    where = "hidden_sites.strategy.cells"
    if not isinstance(listed, list):
        raise _fail("must be a list of cells", where)
    if len(listed) != k:
        raise _fail(f"lists {len(listed)} cells, but k is {k}", where)
    index = {name: i for i, name in enumerate(names)} if names is not None else None
    chosen: list[int] = []
    for i, cell in enumerate(listed):
        if index is not None:
            if not isinstance(cell, str) or cell not in index:
                raise _fail(f"{str(cell)[:40]!r} is not a cell of the territory's cells_file", f"{where}[{i}]")
            chosen.append(index[cell])
        else:
            chosen.append(_int(cell, f"{where}[{i}]", 0, cells - 1))
        if chosen[-1] in chosen[:-1]:
            raise _fail("names a cell twice (hidden sites sit in distinct cells)", f"{where}[{i}]")
    return k, "cells", tuple(chosen)


def _phases(value: Any, cells: int) -> list[Phase]:
    if not isinstance(value, list) or not value:
        raise _fail("must be a non-empty list", "phases")
    if len(value) > MAX_PHASES:
        raise _fail(f"lists {len(value)} phases, over the limit of {MAX_PHASES}", "phases")
    raw: list[tuple[str, float, int, str]] = []
    total = 0.0
    names: set[str] = set()
    for i, item in enumerate(value):
        where = f"phases[{i}]"
        doc = _object(item, where, {"name", "opens", "inspections", "from"}, {"opens"})
        name = doc.get("name", f"phase-{i + 1}")
        if not isinstance(name, str) or not name or len(name) > 100:
            raise _fail("must be a name of 1 to 100 characters", f"{where}.name")
        if name in names:
            raise _fail(f"{name!r} names two phases", f"{where}.name")
        names.add(name)
        opens = _probability(doc["opens"], f"{where}.opens")
        total += opens
        if total > 1 + 1e-9:
            raise _fail(f"the phases' opens fractions sum to {total:g}, over 1", f"{where}.opens")
        inspections = _int(doc.get("inspections", 0), f"{where}.inspections", 0, MAX_INSPECTIONS)
        source = doc.get("from", "opened")
        if source not in SOURCES:
            raise _fail(f"must be one of {', '.join(SOURCES)}", f"{where}.from")
        raw.append((name, opens, inspections, source))
    phases: list[Phase] = []
    start = 0
    for i, (name, opens, inspections, source) in enumerate(raw):
        last = i == len(raw) - 1
        stop = cells if last and abs(total - 1) <= 1e-9 else min(cells, start + math.floor(opens * cells))
        phases.append(Phase(name, opens, start, stop, inspections, source))
        start = stop
    return phases


def regime_of(doc: Any, base: Path | None = None) -> Regime:
    """The regime a JSON value describes; ``base`` is the folder a ``cells_file`` is relative to.
    Raises :class:`MalformedInputError` naming the field."""
    top = _object(doc, "", {"territory", "hidden_sites", "detection_probability", "phases", "declared_sites", "intel"},
                  {"territory", "hidden_sites", "phases"})
    cells, names = _territory(top["territory"], base)
    k, strategy, hidden = _hidden(top["hidden_sites"], cells, names)
    p = _probability(top.get("detection_probability", 1), "detection_probability")
    phases = _phases(top["phases"], cells)
    declared = 0
    if "declared_sites" in top:
        declared = _int(_object(top["declared_sites"], "declared_sites", {"count"}, {"count"})["count"],
                        "declared_sites.count", 0, cells)
    for i, phase in enumerate(phases):
        if phase.source == "declared" and declared == 0:
            raise _fail("draws from declared sites, but declared_sites gives none", f"phases[{i}].from")
        pool = phase.stop if phase.source == "opened" else cells if phase.source == "all" else declared
        if phase.inspections > pool:
            raise _fail(f"{phase.inspections} inspections, but only {pool} cells to draw from by then", f"phases[{i}].inspections")
    if strategy == "last-phase" and phases[-1].stop - phases[-1].start < k:
        raise _fail(f"the last phase opens {phases[-1].stop - phases[-1].start} cells, fewer than k = {k}", "hidden_sites.strategy")
    coverage, q, intel_phase = 0.0, 0.0, 1
    if "intel" in top:
        intel = _object(top["intel"], "intel", {"coverage", "detection_probability", "phase"}, {"coverage"})
        coverage = _probability(intel["coverage"], "intel.coverage")
        q = _probability(intel.get("detection_probability", 1), "intel.detection_probability")
        intel_phase = _int(intel.get("phase", 1), "intel.phase", 1, len(phases))
    return Regime(cells, k, strategy, hidden, p, tuple(phases), declared, coverage, q, intel_phase)


def read_regime_document(path: str | Path) -> Any:
    """The JSON value of a regime file: JSON by the strict reader, YAML (``.yaml``/``.yml``, or
    a file not starting with ``{``) by the strict loader; at most :data:`MAX_BYTES`."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise MalformedInputError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if len(data) > MAX_BYTES:
        raise MalformedInputError(f"is over the limit of {MAX_BYTES} bytes", source=source)
    text = decode_utf8(data, source=source)
    if not text.strip():
        raise MalformedInputError("is empty", source=source)
    suffix = Path(source).suffix.lower()
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip().startswith("{")):
        return loads(text, source=source)
    from unveil.textformats.yaml import load_yaml  # PyYAML comes with the geo extra

    return load_yaml(text, source=source).value


def read_regime(path: str | Path, doc: Any = None) -> Regime:
    """Read and validate a regime file (``doc``: its document already read, e.g. with a sweep's
    values put in). Errors name the file and the field."""
    if doc is None:
        doc = read_regime_document(path)
    try:
        return regime_of(doc, Path(path).parent)
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
