"""The regime file: territory, hidden sites, phases, declared sites, intelligence.

A regime is a JSON object (a YAML file is read by the strict YAML loader into the same JSON
value, spec §0)::

    territory: {cells: 3249}            # or {cells_file: cells.txt}
    hidden_sites: {k: 5, strategy: uniform}   # uniform | last-phase | away-from-intel | {cells: [...]}
    detection_probability: 1.0          # default 1
    phases:
      - {name: phase-1, opens: 0.2, inspections: 12, from: opened}   # from: opened | all | declared
      - {cells: [17, 18], inspections: 2}                            # or the cells it opens
      - {region: {parents: [863e8c0e7ffffff]}, inspections: 4}       # or a named region (H3 cells_file)
    declared_sites: {count: 40}         # optional, or {cells: [...]}; needed by `from: declared`
    intel: {coverage: 0.5, detection_probability: 0.9, phase: 1}    # optional; phase defaults to 1

Cells are numbered 0..cells−1 in cell order (a ``cells_file`` lists them one a line, in that
order; listed cells are then given by their text, else by number). Declared sites occupy the
first ``count`` cells, or the cells listed. A phase naming its ``cells`` opens those, one naming
a ``region`` (``{parents: [H3 cells]}``, for a ``cells_file`` of H3 cells) every territory cell
inside those parents that no earlier phase opens; the
phases giving ``opens`` open, in order, the next ⌊opens × cells⌋ cells that no phase names (the
last of them takes the rest when the phases together open every cell). Intelligence suspects each
hidden site with probability ``coverage`` (0 for an ``away-from-intel`` host) and challenges
every suspect once in phase ``intel.phase``, finding it with ``intel.detection_probability``.

Errors are :class:`~unveil.errors.MalformedInputError` naming the file and the field
(``phases[1].opens``); unknown fields are refused everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from unveil.core.jsonparse import decode_utf8, loads
from unveil.errors import MalformedInputError
from unveil.simulation.regions import cells_in_region
from unveil.textformats.text import document_text

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
    """One phase: its name, the fraction of all cells it opens and how many (``named``: the
    cells it names, else the next ``count`` unnamed cells in cell order), and its random
    inspections, drawn without replacement from ``source``."""

    name: str
    opens: float
    count: int
    named: tuple[int, ...]
    inspections: int
    source: str


Atom = tuple[int, bool, int]
"""A class of cells alike to the model: the phase that opens them (0-based; ``len(phases)``:
never), whether a declared site is there, and how many cells."""


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
    declared_cells: tuple[int, ...]
    intel_coverage: float
    intel_detection: float
    intel_phase: int
    atoms: tuple[Atom, ...]

    def cell_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """For each cell, the phase that opens it (``len(phases)``: never) and whether a declared
        site is there (computed afresh: a regime stays small to send to workers)."""
        opened_at = np.full(self.cells, len(self.phases), dtype=np.int32)
        for index, phase in enumerate(self.phases):
            if phase.named:
                opened_at[list(phase.named)] = index
        named = opened_at < len(self.phases)
        free = np.flatnonzero(~named)
        start = 0
        for index, phase in enumerate(self.phases):
            if not phase.named:
                opened_at[free[start:start + phase.count]] = index
                start += phase.count
        declared = np.zeros(self.cells, dtype=bool)
        declared[list(self.declared_cells) if self.declared_cells else slice(0, self.declared)] = True
        return opened_at, declared

    def reaches(self, phase: int, opened_at: int, declared: bool) -> bool:
        """Whether phase ``phase``'s inspections may fall on a cell opened in phase ``opened_at``."""
        source = self.phases[phase].source
        return opened_at <= phase if source == "opened" else True if source == "all" else declared

    def pool(self, phase: int) -> int:
        """How many cells phase ``phase`` (0-based) draws its inspections from."""
        return sum(size for opened_at, declared, size in self.atoms if self.reaches(phase, opened_at, declared))

    def placement_atoms(self) -> list[Atom]:
        """The cells a ``uniform``, ``last-phase`` or ``away-from-intel`` host hides in, by atom."""
        last = len(self.phases) - 1
        return [a for a in self.atoms if self.strategy != "last-phase" or a[0] == last]

    def pool_cells(self, phase: int) -> np.ndarray:
        """The cells phase ``phase`` draws from, in cell order."""
        opened_at, declared = self.cell_arrays()
        source = self.phases[phase].source
        mask = opened_at <= phase if source == "opened" else np.ones(self.cells, dtype=bool) if source == "all" else declared
        return np.flatnonzero(mask)

    def placement_cells(self) -> np.ndarray:
        """The cells a ``uniform``, ``last-phase`` or ``away-from-intel`` host hides in, in cell order."""
        if self.strategy != "last-phase":
            return np.arange(self.cells)
        return np.flatnonzero(self.cell_arrays()[0] == len(self.phases) - 1)

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


MAX_NAMED = 1_000_000
"""The most cells a phase or the declared sites may name."""


def _cell_list(listed: Any, where: str, cells: int, names: list[str] | None, limit: int = MAX_NAMED) -> tuple[int, ...]:
    """Distinct cells: numbers in 0..cells−1, or a ``cells_file``'s cell ids."""
    if not isinstance(listed, list):
        raise _fail("must be a list of cells", where)
    if len(listed) > limit:
        raise _fail(f"lists {len(listed)} cells, over the limit of {limit}", where)
    index = {name: i for i, name in enumerate(names)} if names is not None else None
    chosen: list[int] = []
    seen: set[int] = set()
    for i, cell in enumerate(listed):
        if index is not None:
            if not isinstance(cell, str) or cell not in index:
                raise _fail(f"{str(cell)[:40]!r} is not a cell of the territory's cells_file", f"{where}[{i}]")
            number = index[cell]
        else:
            number = _int(cell, f"{where}[{i}]", 0, cells - 1)
        if number in seen:
            raise _fail("names a cell twice", f"{where}[{i}]")
        seen.add(number)
        chosen.append(number)
    return tuple(chosen)


def _hidden(value: Any, cells: int, names: list[str] | None) -> tuple[int, str, tuple[int, ...]]:
    doc = _object(value, "hidden_sites", {"k", "strategy"}, {"k"})
    k = _int(doc["k"], "hidden_sites.k", 1, min(MAX_HIDDEN, cells))
    strategy = doc.get("strategy", "uniform")
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise _fail(f"must be one of {', '.join(STRATEGIES)} or {{cells: [...]}}, not {strategy[:40]!r}", "hidden_sites.strategy")
        return k, strategy, ()
    listed = _object(strategy, "hidden_sites.strategy", {"cells"}, {"cells"})["cells"]
    chosen = _cell_list(listed, "hidden_sites.strategy.cells", cells, names, MAX_HIDDEN)
    if len(chosen) != k:
        raise _fail(f"lists {len(chosen)} cells, but k is {k}", "hidden_sites.strategy.cells")
    return k, "cells", chosen


def _phases(value: Any, cells: int, names: list[str] | None) -> list[Phase]:
    if not isinstance(value, list) or not value:
        raise _fail("must be a non-empty list", "phases")
    if len(value) > MAX_PHASES:
        raise _fail(f"lists {len(value)} phases, over the limit of {MAX_PHASES}", "phases")
    raw: list[tuple[str, float, tuple[int, ...], int, str]] = []
    total = 0.0
    seen_names: set[str] = set()
    named_cells: dict[int, int] = {}
    for i, item in enumerate(value):
        where = f"phases[{i}]"
        doc = _object(item, where, {"name", "opens", "cells", "region", "inspections", "from"})
        name = doc.get("name", f"phase-{i + 1}")
        if not isinstance(name, str) or not name or len(name) > 100:
            raise _fail("must be a name of 1 to 100 characters", f"{where}.name")
        if name in seen_names:
            raise _fail(f"{name!r} names two phases", f"{where}.name")
        seen_names.add(name)
        if sum(key in doc for key in ("opens", "cells", "region")) != 1:
            raise _fail("give opens (a fraction of the cells), cells (the cells it opens) or region (a named region), one of them", where)
        named: tuple[int, ...] = ()
        if "region" in doc:
            named = cells_in_region(doc["region"], f"{where}.region", names, named_cells)
            if not named:
                raise _fail("holds no cell of the territory that another phase does not open", f"{where}.region")
        if "cells" in doc:
            named = _cell_list(doc["cells"], f"{where}.cells", cells, names)
        if named:
            for j, cell in enumerate(named):
                if cell in named_cells:
                    raise _fail(f"is opened by phases[{named_cells[cell]}] already", f"{where}.cells[{j}]")
                named_cells[cell] = i
            opens = len(named) / cells
        else:
            opens = _probability(doc["opens"], f"{where}.opens")
        total += opens
        if total > 1 + 1e-9:
            raise _fail(f"the phases open {total:g} of the cells, over 1", f"{where}.{next(k for k in ('cells', 'region', 'opens') if k in doc)}")
        inspections = _int(doc.get("inspections", 0), f"{where}.inspections", 0, MAX_INSPECTIONS)
        source = doc.get("from", "opened")
        if source not in SOURCES:
            raise _fail(f"must be one of {', '.join(SOURCES)}", f"{where}.from")
        raw.append((name, opens, named, inspections, source))
    phases: list[Phase] = []
    free = cells - len(named_cells)
    last_fraction = max((i for i, r in enumerate(raw) if not r[2]), default=-1)
    for i, (name, opens, named, inspections, source) in enumerate(raw):
        if named:
            count = len(named)
        elif i == last_fraction and abs(total - 1) <= 1e-9:
            count = free  # the last phase that opens a fraction takes the rest
        else:
            count = min(free, math.floor(opens * cells))
        free -= 0 if named else count
        phases.append(Phase(name, opens, count, named, inspections, source))
    return phases


def _atoms(regime: Regime) -> tuple[Atom, ...]:
    opened_at, declared = regime.cell_arrays()
    counts = np.bincount(opened_at * 2 + declared, minlength=2 * (len(regime.phases) + 1))
    return tuple((index // 2, bool(index % 2), int(size)) for index, size in enumerate(counts) if size)


def regime_of(doc: Any, base: Path | None = None) -> Regime:
    """The regime a JSON value describes; ``base`` is the folder a ``cells_file`` is relative to.
    Raises :class:`MalformedInputError` naming the field."""
    top = _object(doc, "", {"territory", "hidden_sites", "detection_probability", "phases", "declared_sites", "intel"},
                  {"territory", "hidden_sites", "phases"})
    cells, names = _territory(top["territory"], base)
    k, strategy, hidden = _hidden(top["hidden_sites"], cells, names)
    p = _probability(top.get("detection_probability", 1), "detection_probability")
    phases = _phases(top["phases"], cells, names)
    declared = 0
    declared_cells: tuple[int, ...] = ()
    if "declared_sites" in top:
        sites = _object(top["declared_sites"], "declared_sites", {"count", "cells"})
        if len(sites) != 1:
            raise _fail("give count (the first cells in cell order) or cells, one of them", "declared_sites")
        if "cells" in sites:
            declared_cells = _cell_list(sites["cells"], "declared_sites.cells", cells, names)
            declared = len(declared_cells)
        else:
            declared = _int(sites["count"], "declared_sites.count", 0, cells)
    for i, phase in enumerate(phases):
        if phase.source == "declared" and declared == 0:
            raise _fail("draws from declared sites, but declared_sites gives none", f"phases[{i}].from")
    coverage, q, intel_phase = 0.0, 0.0, 1
    if "intel" in top:
        intel = _object(top["intel"], "intel", {"coverage", "detection_probability", "phase"}, {"coverage"})
        coverage = _probability(intel["coverage"], "intel.coverage")
        q = _probability(intel.get("detection_probability", 1), "intel.detection_probability")
        intel_phase = _int(intel.get("phase", 1), "intel.phase", 1, len(phases))
    regime = Regime(cells, k, strategy, hidden, p, tuple(phases), declared, declared_cells, coverage, q, intel_phase, ())
    regime = replace(regime, atoms=_atoms(regime))
    for i, phase in enumerate(phases):
        pool = regime.pool(i)
        if phase.inspections > pool:
            raise _fail(f"{phase.inspections} inspections, but only {pool} cells to draw from by then", f"phases[{i}].inspections")
    if strategy == "last-phase" and phases[-1].count < k:
        raise _fail(f"the last phase opens {phases[-1].count} cells, fewer than k = {k}", "hidden_sites.strategy")
    return regime


def read_regime_document(path: str | Path) -> Any:
    """The JSON value of a regime file: JSON by the strict reader, YAML (``.yaml``/``.yml``, or
    a file not starting with ``{``) by the strict loader; at most :data:`MAX_BYTES`."""
    source = str(path)
    text, is_yaml = document_text(path, MAX_BYTES)
    if not is_yaml:
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
