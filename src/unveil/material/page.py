"""Page's test thresholds by Monte Carlo (docs/material.md "Page's test").

With no loss, N periods of SITMUF are independent standard normals. Page's CUSUM
S_t = max(0, S_{t−1} + Z_t − k) raises a false alarm over the N periods when max_t S_t > h;
the threshold for a false-alarm rate A is the (1 − A)-quantile of max_t S_t, estimated here
from ``trials`` simulated sequences (numpy's PCG64 seeded with ``seed``, vectorised over the
trials, in chunks of at most :data:`CHUNK_VALUES` normals). Its standard error comes from the
order statistics: the ranks T·p ± 1.96·√(T·p·(1−p)) bound a 95 % interval of the quantile,
whose half-width over 1.96 is reported.

Defaults (documented): k = :data:`DEFAULT_K` = 0.5, the reference value for a shift of one σ
per period of SITMUF (k = δ/2 with δ = 1); ``trials`` = :data:`DEFAULT_TRIALS`; ``seed`` =
:data:`DEFAULT_SEED`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from unveil.errors import MalformedInputError
from unveil.material.normal import check_probability

DEFAULT_K = 0.5
DEFAULT_TRIALS = 100_000
DEFAULT_SEED = 0
CHUNK_VALUES = 1 << 21
"""Normals drawn at a time (16 MiB of doubles)."""
MAX_TRIALS = 100_000_000
MAX_PERIODS = 1000


def maxima(periods: int, k: float, trials: int, seed: int, shift: np.ndarray | None = None,
           progress: Callable[[int], None] | None = None) -> np.ndarray:
    """max_t S_t of Page's CUSUM over ``periods`` values N(shift_t, 1), for each trial.

    Vectorised without a loop over periods: with C_t = Σ_{j≤t} (Z_j − k) and C_0 = 0, Page's
    S_t = C_t − min_{0≤j≤t} C_j. Each chunk draws a (trials × periods) block of normals, row
    by row in the generator's order."""
    rng = np.random.Generator(np.random.PCG64(seed))
    per_chunk = max(1, CHUNK_VALUES // periods)
    out = np.empty(trials)
    mean = np.zeros(periods) if shift is None else np.asarray(shift, dtype=float)
    done = 0
    while done < trials:
        size = min(per_chunk, trials - done)
        c = rng.standard_normal((size, periods))
        c += mean - k
        np.cumsum(c, axis=1, out=c)
        low = np.minimum.accumulate(c, axis=1)
        np.minimum(low, 0.0, out=low)
        c -= low
        out[done:done + size] = c.max(axis=1)
        done += size
        if progress is not None:
            progress(size)
    return out


MAX_K = 100.0
"""The largest reference value taken (σ of SITMUF): beyond a few σ Page's test never alarms."""


def check_k(k: float) -> float:
    if not (math.isfinite(k) and 0 <= k <= MAX_K):
        raise MalformedInputError(f"k = {k} is not a reference value from 0 to {MAX_K:g} (σ)", where="--k")
    return k


def check(periods: int, k: float, trials: int, seed: int) -> None:
    if not 1 <= periods <= MAX_PERIODS:
        raise MalformedInputError(f"{periods} periods: give 1 to {MAX_PERIODS}", where="--periods")
    check_k(k)
    if not 100 <= trials <= MAX_TRIALS:
        raise MalformedInputError(f"{trials} trials: give 100 to {MAX_TRIALS}", where="--trials")
    if seed < 0:
        raise MalformedInputError("the seed is a whole number ≥ 0", where="--seed")


def threshold(periods: int, k: float, false_alarm: float, *, trials: int = DEFAULT_TRIALS, seed: int = DEFAULT_SEED,
              progress: Callable[[int], None] | None = None) -> tuple[float, float]:
    """(h, standard error of h): Page's threshold giving false-alarm rate ``false_alarm`` over
    ``periods`` periods of independent standard normal SITMUF."""
    check(periods, k, trials, seed)
    p = 1 - check_probability(false_alarm, "--false-alarm")
    tops = np.sort(maxima(periods, k, trials, seed, progress=progress))
    rank = min(trials - 1, max(0, math.ceil(trials * p) - 1))  # the smallest h with #{max > h} ≤ A·T
    half = 1.959963984540054 * math.sqrt(trials * p * (1 - p))
    lo = tops[max(0, math.floor(trials * p - half) - 1)]
    hi = tops[min(trials - 1, math.ceil(trials * p + half) - 1)]
    return float(tops[rank]), float(hi - lo) / (2 * 1.959963984540054)
