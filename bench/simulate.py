"""The regime simulator's speed (issue 12 target), printed as JSON.

1,000,000 trials of a regime over 3,249 cells, 5 hidden sites (uniform), 4 phases of 12
inspections each (drawn from the opened cells), run as ``unveil simulate`` runs them (seeded
chunks on every core, :func:`unveil.workspace.simulation.simulate`); the wall time is printed.
The same model as a plain Python loop (:mod:`unveil.simulation.reference`) runs a subset of
trials in the same process, and the per-trial ratio is reported both per core (one worker
against the loop) and for the whole run. Target: ≥ 100× per trial.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

REGIME = {
    "territory": {"cells": 3249},
    "hidden_sites": {"k": 5, "strategy": "uniform"},
    "phases": [{"opens": 0.25, "inspections": 12, "from": "opened"} for _ in range(4)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--reference-trials", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    from unveil.simulation.reference import reference_counts
    from unveil.simulation.regime import regime_of
    from unveil.workspace.simulation import simulate

    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "regime.json"
        path.write_text(json.dumps(REGIME))
        start = time.perf_counter()
        result = simulate(path, args.trials, seed=args.seed, workers=workers)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        one = simulate(path, args.trials, seed=args.seed, workers=1)
        wall_one = time.perf_counter() - start
    assert one == result, "the answer depends on the worker count"
    regime = regime_of(REGIME)
    start = time.perf_counter()
    reference_counts(regime, args.reference_trials, args.seed)
    per_trial_loop = (time.perf_counter() - start) / args.reference_trials
    per_trial_one = wall_one / args.trials
    per_trial_all = wall / args.trials
    last = result["phases"][-1]
    print(json.dumps({
        "bench": "simulate",
        "trials": args.trials, "cells": 3249, "hidden": 5, "phases": 4, "inspections_per_phase": 12,
        "workers": workers,
        "wall_seconds": round(wall, 3),
        "wall_seconds_one_worker": round(wall_one, 3),
        "plain_python_trials": args.reference_trials,
        "plain_python_us_per_trial": round(per_trial_loop * 1e6, 3),
        "us_per_trial_one_worker": round(per_trial_one * 1e6, 4),
        "us_per_trial": round(per_trial_all * 1e6, 4),
        "speedup_per_core": round(per_trial_loop / per_trial_one, 1),
        "speedup": round(per_trial_loop / per_trial_all, 1),
        "target_speedup": 100,
        "meets_target": per_trial_loop / per_trial_one >= 100,
        "detection_probability_end": last["detection_probability"],
        "exact_end": last["exact"],
    }))


if __name__ == "__main__":
    main()
