"""The demo's regime comparison: two verification regimes for Exampleland, run by
the regime simulator (:mod:`unveil.workspace.simulation`) — phased reveals alone leave a host
that hides in the last phase's cells a blind spot until then; intelligence-cued challenges in
phase 1 close it. The regime files are left in the demo's output (``regimes/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TRIALS = 100_000
SEED = 2026


def _regimes(cells: int, declared: int, hidden: int) -> dict[str, dict[str, Any]]:
    phases = [{"opens": 0.25, "inspections": 12, "from": "opened"} for _ in range(4)]
    base = {"territory": {"cells": cells}, "hidden_sites": {"k": hidden, "strategy": "last-phase"}, "phases": phases,
            "declared_sites": {"count": declared}}
    return {
        "phased-reveals": base,
        "intel-cued": {**base, "intel": {"coverage": 0.5, "detection_probability": 0.9, "phase": 1}},
    }


def run(out: Path, cells: int, declared: int, hidden: int) -> dict[str, Any]:
    """Both regimes' results (``{name: simulate's output}``), their files written to ``out/regimes``."""
    from unveil.workspace.simulation import simulate

    folder = out / "regimes"
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, doc in _regimes(cells, declared, hidden).items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        results[name] = simulate(path, TRIALS, seed=SEED, workers=1)
    return results


def expected(results: dict[str, Any]) -> bool:
    """The blind spot is exactly that (nothing found before the last phase), and the cued
    challenges find a hidden site in phase 1 more often than not."""
    blind = [p["exact"] for p in results["phased-reveals"]["phases"]]
    cued = results["intel-cued"]["phases"][0]
    return blind[:-1] == [0.0] * (len(blind) - 1) and cued["detection_probability"] > 0.5


def show(console: Any, results: dict[str, Any]) -> None:
    """One line a regime: P(a hidden site found by the end of each phase)."""
    console.print(f"regimes for a host hiding in the last phase's cells ({TRIALS} simulated trials, seed {SEED}; "
                  "P(found by the end of each phase), exact in brackets):", highlight=False)
    for name, result in results.items():
        cells = "  ".join(f"{p['phase']} {p['detection_probability']:.3f} [{p['exact']:.3f}]" for p in result["phases"])
        console.print(f"  {name}: {cells}", highlight=False)
