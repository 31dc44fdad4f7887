"""The regime simulator's service: read a regime file, run its trials in seeded
chunks on local processes (or a Dask cluster), and summarise; sweeps run one regime per point
of a grid of field values.

The answer for a seed depends only on the regime and the trial count: chunk ``i`` always runs
``SeedSequence(seed).spawn(n)[i]`` (:mod:`unveil.simulation.montecarlo`), and the chunks'
counts are summed, whoever ran them.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError

__all__ = ["MAX_POINTS", "MAX_TRIALS", "Sweep", "parse_sweep", "simulate", "sweep", "sweep_csv"]

MAX_TRIALS = 10**9
"""The most trials a run (or a sweep point) may ask for: 50,000 chunks."""
MAX_POINTS = 1000
"""The most points a sweep's grid may have."""

Sweep = tuple[str, tuple[str | int, ...], list[Any]]
"""A swept field: its key as written, its path in the regime document, its values."""

Progress = Callable[[int], None]
"""Called with the trials each finished chunk ran."""

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d{1,4}\])*")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,4})\]")


def parse_sweep(text: str) -> Sweep:
    """``KEY=V1,V2,…``: KEY a field path of the regime (``hidden_sites.k``, ``phases[0].inspections``),
    each value a JSON value (a bare word is a string: ``hidden_sites.strategy=uniform,last-phase``)."""
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise MalformedInputError(f"{text[:80]!r} is not KEY=V1,V2,…", where="--sweep")
    if not _KEY.fullmatch(key):
        raise MalformedInputError(f"{key[:80]!r} is not a field path such as phases[0].inspections", where="--sweep")
    path = tuple(m.group(1) if m.group(1) else int(m.group(2)) for m in _STEP.finditer(key))
    parsed = []
    for value in values.split(","):
        try:
            parsed.append(loads(value))
        except MalformedInputError:
            parsed.append(value)
    return key, path, parsed


def _put(doc: Any, path: tuple[str | int, ...], value: Any, key: str) -> None:
    container = doc
    for step in path[:-1]:
        try:
            container = container[step]
        except (KeyError, IndexError, TypeError):
            raise MalformedInputError(f"the regime has no {key!r} to sweep", where="--sweep") from None
    last = path[-1]
    if isinstance(last, int) and not (isinstance(container, list) and last < len(container)):
        raise MalformedInputError(f"the regime has no {key!r} to sweep", where="--sweep")
    if isinstance(last, str) and not isinstance(container, dict):
        raise MalformedInputError(f"the regime has no {key!r} to sweep", where="--sweep")
    container[last] = value


def _run(regime: Any, trials: int, seed: int, workers: int, scheduler: str | None, progress: Progress | None) -> dict[str, Any]:
    from unveil.simulation.exact import exact_detection
    from unveil.simulation.montecarlo import chunk_sizes, chunk_streams, run_chunk, summarise

    sizes = chunk_sizes(trials)
    streams = chunk_streams(seed, len(sizes))
    if scheduler is not None:
        from unveil.workspace.cluster import run_on_cluster

        counts = run_on_cluster(scheduler, regime, streams, sizes, progress)
    else:
        from unveil.concurrency import fork_map

        done = (lambda index, _: progress(sizes[index])) if progress is not None else None
        counts = fork_map(run_chunk, [(regime, s, n) for s, n in zip(streams, sizes, strict=True)], workers, done)
    total = [int(sum(column)) for column in zip(*counts, strict=True)]
    return summarise(regime, total, seed, exact_detection(regime))


def _check(trials: int, workers: int) -> None:
    if not 1 <= trials <= MAX_TRIALS:
        raise MalformedInputError(f"must be between 1 and {MAX_TRIALS}", where="--trials")
    if workers < 1:
        raise MalformedInputError("must be at least 1", where="--workers")


def simulate(regime_path: str | Path, trials: int, *, seed: int | None = None, workers: int = 1,
             scheduler: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The issue's output for ``trials`` trials of the regime file (a fresh seed when none is given)."""
    from unveil.simulation.regime import read_regime

    _check(trials, workers)
    regime = read_regime(regime_path)
    return _run(regime, trials, secrets.randbits(63) if seed is None else seed, workers, scheduler, progress)


def sweep(regime_path: str | Path, sweeps: list[Sweep], trials: int, *, seed: int | None = None, workers: int = 1,
          scheduler: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """One row per point of the grid of ``sweeps`` (``{"point": {KEY: value}, ...simulate's output}``),
    every point run with the same seed."""
    from unveil.simulation.regime import read_regime, read_regime_document

    _check(trials, workers)
    points = list(itertools.product(*(values for _, _, values in sweeps)))
    if len(points) > MAX_POINTS:
        raise MalformedInputError(f"the grid has {len(points)} points, over the limit of {MAX_POINTS}", where="--sweep")
    base = read_regime_document(regime_path)
    seed = secrets.randbits(63) if seed is None else seed
    regimes = []
    for point in points:
        doc = copy.deepcopy(base)
        for (key, path, _), value in zip(sweeps, point, strict=True):
            _put(doc, path, value, key)
        try:
            regimes.append(read_regime(regime_path, doc))
        except MalformedInputError as exc:
            where = ", ".join(f"{key}={value}" for (key, _, _), value in zip(sweeps, point, strict=True))
            raise MalformedInputError(f"at {where}: {exc}", where="--sweep") from None
    rows = []
    for point, regime in zip(points, regimes, strict=True):
        row = {"point": {key: value for (key, _, _), value in zip(sweeps, point, strict=True)}}
        row.update(_run(regime, trials, seed, workers, scheduler, progress))
        rows.append(row)
    return {"trials": trials, "seed": seed, "keys": [key for key, _, _ in sweeps], "rows": rows}


def sweep_csv(result: dict[str, Any]) -> str:
    """A sweep's rows as CSV: the swept keys, then each phase's detection probability, interval
    and exact answer, then ``undetected_at_end`` and ``expected_phase_of_detection``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = result["rows"]
    phase_names = [p["phase"] for p in rows[0]["phases"]] if rows else []
    header = list(result["keys"])
    for name in phase_names:
        header += [f"{name}.detection_probability", f"{name}.ci95_lo", f"{name}.ci95_hi", f"{name}.exact"]
    writer.writerow([*header, "undetected_at_end", "expected_phase_of_detection"])
    for row in rows:
        cells: list[Any] = [row["point"][key] for key in result["keys"]]
        for phase in row["phases"]:
            cells += [phase["detection_probability"], *phase["ci95"], "" if phase["exact"] is None else phase["exact"]]
        expected = row["expected_phase_of_detection"]
        writer.writerow([*cells, row["undetected_at_end"], "" if expected is None else expected])
    return out.getvalue()
