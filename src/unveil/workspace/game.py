"""The service of ``unveil game`` (docs/regimes.md): the inspection game and the
deterrence threshold of :mod:`unveil.simulation.game`, and, for a regime file, the regime's
probability of detecting a violation by its end from the simulator (:mod:`unveil.workspace.simulation`).

A regime reaches the threshold when its detection probability β (that at least one hidden site
is found by the end of the last phase) is at least (D + A·F)/(B + D). Where the simulator has the
closed form (``exact``) that decides; otherwise the Monte Carlo 95% interval does: the regime
deters when the whole interval is at or above the threshold, does not when it is wholly below,
and ``deters`` is ``null`` (run more trials) when the interval straddles it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unveil.errors import MalformedInputError

__all__ = ["deterrence", "inspection"]


def _named(exc: ValueError) -> MalformedInputError:
    """The library's ValueError (its message begins with the option's name) as a usage error."""
    return MalformedInputError(str(exc), where=f"--{str(exc).split(' ', 1)[0]}")


def inspection(periods: str | int, inspections: str | int) -> dict[str, Any]:
    """The game's value and first-period strategies as exact fractions (``"3/8"``)."""
    from unveil.simulation.game import inspection_game

    try:
        return inspection_game(periods, inspections).to_json()
    except ValueError as exc:
        raise _named(exc) from None


def deterrence(gain: str, sanction: str, false_alarm: str | None = None, false_alarm_cost: str | None = None, *,
               detection: str | None = None, regime: str | Path | None = None, trials: int = 100_000,
               seed: int | None = None, workers: int = 1) -> dict[str, Any]:
    """The threshold, and whether ``detection`` or the ``regime`` file reaches it (module docstring);
    with a regime, ``"regime"``: the simulator's last phase (``detection_probability``, ``ci95``,
    ``exact``) with ``trials`` and ``seed``."""
    from unveil.simulation.game import deterrence as threshold_of

    if (false_alarm is None) != (false_alarm_cost is None):
        missing = "--false-alarm-cost" if false_alarm_cost is None else "--false-alarm"
        raise MalformedInputError("--false-alarm and --false-alarm-cost go together", where=missing)
    if regime is not None and detection is not None:
        raise MalformedInputError("give --detection or --regime, not both", where="--regime")
    try:
        result = threshold_of(gain, sanction, false_alarm or "0", false_alarm_cost or "0", detection)
    except ValueError as exc:
        raise _named(exc) from None
    out = result.to_json()
    if regime is None:
        return out
    from unveil.workspace.simulation import simulate

    run = simulate(regime, trials, seed=seed, workers=workers)
    last = run["phases"][-1]
    threshold = result.threshold
    if last["exact"] is not None:
        beta = last["exact"]
        deters: bool | None = beta >= threshold
    else:
        beta = last["detection_probability"]
        lo, hi = last["ci95"]
        deters = True if lo >= threshold else False if hi < threshold else None
    out["detection"] = str(beta)
    out["deters"] = deters
    out["regime"] = {"file": str(regime), "trials": run["trials"], "seed": run["seed"], "phase": last["phase"],
                     "detection_probability": last["detection_probability"], "ci95": last["ci95"], "exact": last["exact"]}
    return out
