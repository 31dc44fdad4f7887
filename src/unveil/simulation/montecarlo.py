"""The Monte Carlo model of a regime, vectorised with numpy.

Trials run in fixed-size chunks of :data:`CHUNK`; chunk ``i`` draws from its own stream,
``SeedSequence(seed).spawn(n_chunks)[i]``, so the answer for a seed is the same whoever runs
the chunks and in whatever order. A chunk's result is the count of trials whose first
detection falls in each phase, and of those never detected (:func:`run_chunk`); :func:`summarise`
turns the summed counts into the issue's output.

In each trial the host puts ``k`` hidden sites in distinct cells by its strategy; intelligence
suspects each with probability ``coverage`` and challenges the suspects in ``intel.phase``
(found with ``intel.detection_probability``); each phase draws its inspections without
replacement from its pool (:meth:`Regime.pool`), and an inspection
of a cell holding a hidden site finds it with ``detection_probability``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from unveil.simulation.regime import Regime

__all__ = ["CHUNK", "cell_chunk", "chunk_sizes", "hidden_in_pools", "chunk_streams", "run_chunk", "sample_distinct", "summarise", "wilson"]

CHUNK = 20_000
"""Trials per chunk (fixed: the chunks, and so the answer, depend only on the trial count)."""

Z95 = 1.959963984540054
COUNT_METHOD_CELLS = 1_000_000
"""numpy's multivariate hypergeometric ``count`` method (fast for few sites) up to this many
cells of placement range, its ``marginals`` method beyond (memory)."""
TABLE_WIDTH = 32
"""The longest hypergeometric support :func:`hypergeometric` samples by table."""


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


def hypergeometric_cdf(pool: int, hidden: int, draws: int) -> list[float]:
    """P(X ≤ x) for x = 0..min(hidden, draws), X the hidden cells among ``draws`` cells drawn
    without replacement from ``pool`` cells of which ``hidden`` hold a hidden site."""
    def log_comb(n: int, r: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)

    total, cdf = log_comb(pool, draws), []
    running = 0.0
    for x in range(min(hidden, draws) + 1):
        if draws - x <= pool - hidden:
            running += math.exp(log_comb(hidden, x) + log_comb(pool - hidden, draws - x) - total)
        cdf.append(running)
    return cdf


def hypergeometric(rng: np.random.Generator, hidden: np.ndarray, pool: int, draws: int, k: int, *,
                   any_hit: bool = False) -> np.ndarray:
    """One hypergeometric draw per trial (``hidden`` per trial, of at most ``k``): by inverting
    the distribution function, tabulated once per call, when it is short (numpy's own sampler
    costs about 0.2 µs a draw; a table look-up a fraction of that), else by numpy. With
    ``any_hit``, only whether the draw is positive (1 or 0), from the same inversion."""
    width = min(k, draws) + 1
    if width > TABLE_WIDTH:
        return rng.hypergeometric(hidden, pool - hidden, draws)
    table = np.ones((k + 1, width))
    for h in range(k + 1):
        cdf = hypergeometric_cdf(pool, h, draws)
        table[h, :len(cdf)] = cdf
    table[:, -1] = 1.0  # rounding never sends a draw past the support
    u = rng.random(len(hidden))
    if any_hit:
        return (u >= table[:, 0][hidden]).astype(np.int64)
    return (u[:, None] >= table[hidden]).sum(axis=1)


def hidden_in_pools(regime: Regime, rng: np.random.Generator, trials: int) -> np.ndarray:
    """For each trial (rows) and phase (columns), how many hidden sites lie in the phase's pool.

    A uniform host's sites are a uniform ``k``-subset of its range: the counts per atom (cells
    opened in the same phase, with or without a declared site) are multivariate hypergeometric
    (one draw per trial); an explicit host's counts are the same in every trial."""
    phases = range(len(regime.phases))
    if regime.strategy == "cells":
        opened_at, declared = regime.cell_arrays()
        marks = [(int(opened_at[c]), bool(declared[c])) for c in regime.hidden_cells]
        row = [sum(1 for a, d in marks if regime.reaches(i, a, d)) for i in phases]
        return np.broadcast_to(np.array(row, dtype=np.int64), (trials, len(row)))
    atoms = regime.placement_atoms()
    sizes = [size for _, _, size in atoms]
    reached = np.array([[regime.reaches(i, a, d) for i in phases] for a, d, _ in atoms], dtype=np.int64)
    if len(sizes) == 1:
        per_atom = np.full((trials, 1), regime.k, dtype=np.int64)
    elif sum(sizes) <= COUNT_METHOD_CELLS:
        per_atom = rng.multivariate_hypergeometric(sizes, regime.k, size=trials, method="count")
    else:
        per_atom = rng.multivariate_hypergeometric(sizes, regime.k, size=trials, method="marginals")
    return per_atom @ reached


def run_chunk(regime: Regime, stream: np.random.SeedSequence, trials: int) -> np.ndarray:
    """Counts of first detection per phase (index ``len(phases)``: never) over ``trials`` trials.

    The model is drawn at the level of counts, exactly in distribution: the hidden sites in
    each phase's pool (:func:`hidden_in_pools`), the hidden cells a phase's inspections hit
    (hypergeometric: the inspections are a uniform sample without replacement of the pool,
    drawn afresh each phase), the hits that find their site (binomial, ``detection_probability``),
    and the suspects intelligence finds (binomial, ``coverage × intel.detection_probability``
    per site). :func:`sample_distinct` draws the same model cell by cell, and
    :mod:`~unveil.simulation.reference` one trial at a time."""
    rng = np.random.default_rng(stream)
    in_pool = hidden_in_pools(regime, rng, trials)
    never = len(regime.phases)
    first = np.full(trials, never, dtype=np.int64)
    found = np.zeros(trials, dtype=bool)
    intel = regime.coverage() * regime.intel_detection
    for index, phase in enumerate(regime.phases):
        if index + 1 == regime.intel_phase and intel > 0:
            found |= rng.binomial(regime.k, intel, size=trials) > 0
        if phase.inspections:
            hits = hypergeometric(rng, in_pool[:, index], regime.pool(index), phase.inspections, regime.k,
                                  any_hit=regime.detection_probability == 1)
            if regime.detection_probability < 1:
                hits = rng.binomial(hits, regime.detection_probability)
            found |= hits > 0
        first[found & (first == never)] = index
    return np.bincount(first, minlength=never + 1)


def cell_chunk(regime: Regime, stream: np.random.SeedSequence, trials: int) -> np.ndarray:
    """:func:`run_chunk`'s counts, drawn cell by cell (the hidden cells and every inspected
    cell): slower, the model written out, and a check on :func:`run_chunk` in the tests."""
    rng = np.random.default_rng(stream)
    k = regime.k
    if regime.strategy == "cells":
        hidden = np.broadcast_to(np.array(regime.hidden_cells, dtype=np.int64), (trials, k))
    else:
        places = regime.placement_cells()
        hidden = places[sample_distinct(rng, trials, k, 0, len(places))]
    found = np.zeros(trials, dtype=bool)
    first = np.full(trials, len(regime.phases), dtype=np.int64)
    suspected = rng.random((trials, k)) < regime.coverage()
    for index, phase in enumerate(regime.phases):
        if index + 1 == regime.intel_phase and regime.coverage() > 0:
            caught = suspected & (rng.random((trials, k)) < regime.intel_detection)
            found |= caught.any(axis=1)
        if phase.inspections:
            pool = regime.pool_cells(index)
            inspected = pool[sample_distinct(rng, trials, phase.inspections, 0, len(pool))]
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
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exactly its bound at either end, not a rounding
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return lo, hi


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
