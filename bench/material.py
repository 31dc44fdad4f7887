"""Material accountancy's speed (``unveil material``), printed as JSON.

1. Page's threshold by Monte Carlo (:func:`unveil.material.page.threshold`): trials per second
   of the vectorised run for 12 periods, against the same CUSUM as a plain Python loop over a
   subset of trials in the same process (the per-trial ratio is printed).
2. A whole balance evaluation (:func:`unveil.material.evaluation.balance`: MUF, J Σ Jᵀ,
   Cholesky, SITMUF, the default threshold's 100 000 trials, the protracted comparison) for
   12, 120 and 1000 periods (the most a category may have), wall seconds and peak memory
   allocated by Python and numpy (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc


def _rows(periods: int) -> list:
    from unveil.material import Measured

    rows = [Measured("0", "plutonium", "begin", 10.0, 0.03, 0.02)]
    for t in range(periods):
        rows += [Measured(str(t), "plutonium", "receipt", 4.0, 0.04, 0.02), Measured(str(t), "plutonium", "shipment", 4.0, 0.008, 0.004),
                 Measured(str(t), "plutonium", "end", 10.0, 0.03, 0.02)]
    return rows


def _loop_maxima(periods: int, k: float, trials: int, seed: int) -> list[float]:
    import numpy as np

    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((trials, periods)).tolist()
    tops = []
    for row in draws:
        s = top = 0.0
        for z in row:
            s = max(0.0, s + z - k)
            top = max(top, s)
        tops.append(top)
    return tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--reference-trials", type=int, default=50_000)
    args = parser.parse_args()

    from unveil.material.evaluation import balance
    from unveil.material.page import threshold

    started = time.perf_counter()
    h, se = threshold(12, 0.5, 0.05, trials=args.trials, seed=0)
    vectorised = time.perf_counter() - started
    started = time.perf_counter()
    _loop_maxima(12, 0.5, args.reference_trials, 0)
    loop = time.perf_counter() - started
    per_trial_ratio = (loop / args.reference_trials) / (vectorised / args.trials)
    out = {"threshold": {"periods": 12, "trials": args.trials, "h": h, "standard_error": se, "seconds": round(vectorised, 3),
                         "trials_per_second": round(args.trials / vectorised), "loop_trials_per_second": round(args.reference_trials / loop),
                         "per_trial_ratio_vs_loop": round(per_trial_ratio, 1)},
           "balance": []}
    for periods in (12, 120, 1000):
        tracemalloc.start()
        started = time.perf_counter()
        result = balance(_rows(periods))
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["balance"].append({"periods": periods, "seconds": round(seconds, 3), "peak_mib": round(peak / 2**20, 1),
                               "h": result["page"][0]["h"]})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
