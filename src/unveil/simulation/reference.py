"""The regime model as a plain Python loop, one trial at a time: the reference the
vectorised :mod:`~unveil.simulation.montecarlo` is checked against (tests) and timed against
(``bench/simulate.py``)."""

from __future__ import annotations

import random

from unveil.simulation.regime import Regime

__all__ = ["reference_counts"]


def reference_counts(regime: Regime, trials: int, seed: int) -> list[int]:
    """Counts of first detection per phase (last index: never) over ``trials`` trials."""
    rng = random.Random(seed)
    phases = len(regime.phases)
    counts = [0] * (phases + 1)
    coverage = regime.coverage()
    places = [int(c) for c in regime.placement_cells()]
    pools = [[int(c) for c in regime.pool_cells(i)] for i in range(phases)]
    for _ in range(trials):
        if regime.strategy == "cells":
            hidden = set(regime.hidden_cells)
        else:
            hidden = set(rng.sample(places, regime.k))
        suspected = [rng.random() < coverage for _ in range(regime.k)]
        first = phases
        for index, phase in enumerate(regime.phases):
            found = False
            if index + 1 == regime.intel_phase and coverage > 0:
                found = any(s and rng.random() < regime.intel_detection for s in suspected)
            if phase.inspections:
                for cell in rng.sample(pools[index], phase.inspections):
                    if cell in hidden and rng.random() < regime.detection_probability:
                        found = True
            if found:
                first = index
                break
        counts[first] += 1
    return counts
