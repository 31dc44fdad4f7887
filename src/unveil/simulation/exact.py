"""The closed forms of a regime's detection probabilities.

Each phase draws its inspections uniformly without replacement from its pool
(:meth:`Regime.pool`), independently of the other phases; so, given how many hidden sites lie
in each pool, the number of hidden cells a phase inspects is hypergeometric, and the phases
are independent. Which pools a cell is in depends only on the phase that opens it and on
whether a declared site is there (its atom, :data:`~unveil.simulation.regime.Atom`). A uniform
host (``uniform``, ``last-phase`` within the last phase's cells, ``away-from-intel``) puts its
sites in a uniformly random set of cells of its range: the counts per atom are multivariate
hypergeometric, enumerated here; an explicit host's counts are known. Intelligence finds each
hidden site independently with ``coverage × intel.detection_probability``. Where every hidden
site is out of reach the answer is exactly 0.

:func:`exact_detection` returns ``None`` when the enumeration would be too long
(:data:`MAX_COMPOSITIONS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from math import comb

from unveil.simulation.regime import Regime

__all__ = ["MAX_COMPOSITIONS", "exact_detection"]

MAX_COMPOSITIONS = 200_000


def _compositions(sizes: list[int], k: int) -> Iterator[tuple[int, ...]]:
    if len(sizes) == 1:
        if k <= sizes[0]:
            yield (k,)
        return
    for here in range(min(k, sizes[0]) + 1):
        for rest in _compositions(sizes[1:], k - here):
            yield (here, *rest)


def exact_detection(regime: Regime) -> list[float] | None:
    """P(at least one hidden site found by the end of each phase), or None if too costly."""
    pools = [regime.pool(i) for i in range(len(regime.phases))]
    miss = 1.0 - regime.detection_probability

    @cache
    def unseen(phase: int, hidden_in_pool: int) -> float:
        """P(phase ``phase``'s inspections find nothing) with ``hidden_in_pool`` hidden cells in its pool."""
        n, s, h = regime.phases[phase].inspections, pools[phase], hidden_in_pool
        if n == 0 or h == 0:
            return 1.0
        total = comb(s, n)
        return sum(comb(h, x) * comb(s - h, n - x) / total * miss ** x for x in range(min(h, n) + 1))

    intel_miss = (1.0 - regime.coverage() * regime.intel_detection) ** regime.k
    phases = range(len(regime.phases))
    if regime.strategy == "cells":
        opened_at, declared = regime.cell_arrays()
        marks = [(int(opened_at[c]), bool(declared[c])) for c in regime.hidden_cells]
        weighted = [(1.0, [sum(1 for a, d in marks if regime.reaches(i, a, d)) for i in phases])]
    else:
        atoms = regime.placement_atoms()
        sizes = [size for _, _, size in atoms]
        if comb(regime.k + len(sizes) - 1, len(sizes) - 1) > MAX_COMPOSITIONS:
            return None
        reached = [[regime.reaches(i, a, d) for a, d, _ in atoms] for i in phases]
        total = comb(sum(sizes), regime.k)
        weighted = []
        for counts in _compositions(sizes, regime.k):
            ways = 1
            for size, c in zip(sizes, counts, strict=True):
                ways *= comb(size, c)
            in_pool = [sum(c for c, r in zip(counts, reached[i], strict=True) if r) for i in phases]
            weighted.append((ways / total, in_pool))
    mass = sum(weight for weight, _ in weighted)  # 1 but for rounding: a sure miss stays exactly 0
    result = []
    for j in range(len(regime.phases)):
        none = 0.0
        for weight, in_pool in weighted:
            term = weight
            for i in range(j + 1):
                term *= unseen(i, in_pool[i])
            none += term
        none /= mass
        if j + 1 >= regime.intel_phase:
            none *= intel_miss
        result.append(min(1.0, max(0.0, 1.0 - none)))
    return result
