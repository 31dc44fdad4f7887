"""The Monte Carlo model of a regime (issue 12), vectorised with numpy.

Trials run in fixed-size chunks of :data:`CHUNK`; chunk ``i`` draws from its own stream,
``SeedSequence(seed).spawn(n_chunks)[i]``, so the answer for a seed is the same whoever runs
the chunks and in whatever order. A chunk's result is the count of trials whose first
detection falls in each phase, and of those never detected (:func:`run_chunk`); :func:`summarise`
turns the summed counts into the issue's output.

In each trial the host puts ``k`` hidden sites in distinct cells by its strategy; intelligence
suspects each with probability ``coverage`` and challenges the suspects in ``intel.phase``
(found with ``intel.detection_probability``); each phase draws its inspections without
replacement from its pool (a prefix of cell order, see :meth:`Regime.pool`), and an inspection
of a cell holding a hidden site finds it with ``detection_probability``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from unveil.simulation.regime import Regime

__all__ = ["CHUNK", "chunk_sizes", "chunk_streams", "run_chunk", "sample_distinct", "summarise", "wilson"]

CHUNK = 20_000
"""Trials per chunk (fixed: the chunks, and so the answer, depend only on the trial count)."""

Z95 = 1.959963984540054


def chunk_sizes(trials: int) -> list[int]:
    """The sizes of the chunks ``trials`` trials run in."""
    full, rest = divmod(trials, CHUNK)
    return [CHUNK] * full + ([rest] if rest else [])


def chunk_streams(seed: int, n_chunks: int) -> list[np.random.SeedSequence]:
    """Each chunk's own seed sequence."""
    return np.random.SeedSequence(seed).spawn(n_chunks)


def sample_distinct(rng: np.random.Generator, trials: int, n: int, low: int, high: int) -> np.ndarray:
    """``trials`` rows of ``n`` distinct cells drawn uniformly from ``low``..``high``−1
    (Floyd's algorithm, one column at a time: O(n²) per row, whatever the range)."""
    out = np.empty((trials, n), dtype=np.int64)
    size = high - low
    for i, j in enumerate(range(size - n, size)):
        t = rng.integers(0, j + 1, size=trials)
        taken = (out[:, :i] == t[:, None]).any(axis=1) if i else np.zeros(trials, dtype=bool)
        out[:, i] = np.where(taken, j, t)
    return out + low


def run_chunk(regime: Regime, stream: np.random.SeedSequence, trials: int) -> np.ndarray:
    """Counts of first detection per phase (index ``len(phases)``: never) over ``trials`` trials."""
    rng = np.random.default_rng(stream)
    k = regime.k
    if regime.strategy == "cells":
        hidden = np.broadcast_to(np.array(regime.hidden_cells, dtype=np.int64), (trials, k))
    else:
        low, high = regime.placement()
        hidden = sample_distinct(rng, trials, k, low, high)
    found = np.zeros(trials, dtype=bool)
    first = np.full(trials, len(regime.phases), dtype=np.int64)
    suspected = rng.random((trials, k)) < regime.coverage()
    for index, phase in enumerate(regime.phases):
        if index + 1 == regime.intel_phase and regime.coverage() > 0:
            caught = suspected & (rng.random((trials, k)) < regime.intel_detection)
            found |= caught.any(axis=1)
        if phase.inspections:
            inspected = sample_distinct(rng, trials, phase.inspections, 0, regime.pool(index))
            hits = inspected[:, :, None] == hidden[:, None, :]
            if regime.detection_probability < 1:
                hits &= rng.random(hits.shape) < regime.detection_probability
            found |= hits.any(axis=(1, 2))
        first[found & (first == len(regime.phases))] = index
    return np.bincount(first, minlength=len(regime.phases) + 1)


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score interval (95%) for ``successes`` of ``trials``."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarise(regime: Regime, counts: np.ndarray | list[int], seed: int, exact: list[float] | None) -> dict[str, Any]:
    """The issue's output for the summed chunk counts."""
    counts = [int(c) for c in counts]
    trials = sum(counts)
    phases = []
    detected = 0
    for index, phase in enumerate(regime.phases):
        detected += counts[index]
        lo, hi = wilson(detected, trials)
        phases.append({"phase": phase.name, "detection_probability": detected / trials, "ci95": [lo, hi],
                       "exact": exact[index] if exact is not None else None})
    weighted = sum((index + 1) * counts[index] for index in range(len(regime.phases)))
    return {"trials": trials, "seed": seed, "phases": phases, "undetected_at_end": counts[-1] / trials,
            "expected_phase_of_detection": weighted / detected if detected else None}
