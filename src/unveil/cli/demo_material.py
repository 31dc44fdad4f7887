"""The demo's material accountancy stage (docs/material.md): Exampleland's declared plutonium,
as the inspector opened it, against an invented production history of the Lowmarsh reactor;
then one material balance evaluation, the Lowmarsh separation plant's invented 2025 monthly
plutonium balance, which hides a protracted diversion. Both files are left in the demo's
output (``material/``) so that ``unveil material`` can be run on them again."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def run(out: Path, declared_kg: float) -> dict[str, Any]:
    """``{"compare": …, "balance": …}``: ``declared_kg`` (σ from the default uncertainty table)
    against the production history, and the balance file's evaluation."""
    from unveil import exercise
    from unveil.material import Normal, balance, compare, estimate, read_balance, read_history
    from unveil.workspace.material import DEFAULT_UNCERTAINTIES

    folder = out / "material"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / exercise.HISTORY_FILE).write_bytes(exercise.history_bytes())
    (folder / exercise.BALANCE_FILE).write_bytes(exercise.balance_bytes())
    relative = math.hypot(*DEFAULT_UNCERTAINTIES["plutonium", "inventory"])
    produced, reactors = estimate(read_history(exercise.history_bytes(), source=f"exercise/{exercise.HISTORY_FILE}"))
    result = compare(Normal(float(declared_kg), relative * float(declared_kg)), produced, 0.05)
    result["reactors"] = reactors
    evaluated = balance(read_balance(exercise.balance_bytes(), source=f"exercise/{exercise.BALANCE_FILE}"))
    return {"compare": result, "balance": evaluated, "folder": str(folder)}


def expected(result: dict[str, Any]) -> bool:
    """The declaration is consistent with the history; the hidden diversion (from April) raises
    Page's alarm, never before April, and the cumulative MUF's alarm."""
    periods = result["balance"]["periods"]
    alarms = [p["period"] for p in periods if p["alarm"]]
    return (result["compare"]["consistent"] and bool(alarms) and min(alarms) >= "2025-04-01"
            and result["balance"]["cumulative"][0]["alarm"])


def show(console: Any, result: dict[str, Any]) -> None:
    """Three lines: the truth test, the balance's alarms, what a negotiator can read off it."""
    c = result["compare"]
    console.print(f"material: declared plutonium {c['declared']['mean']:.2f} ± {c['declared']['sigma']:.2f} kg against "
                  f"{c['estimate']['mean']:.2f} ± {c['estimate']['sigma']:.2f} kg the Lowmarsh reactor's (invented) history could "
                  f"have made: z = {c['z']:.2f} σ, " + ("consistent" if c["consistent"] else "[bold red]NOT consistent[/]")
                  + f" at α = {100 * c['alpha']:g} %", highlight=False)
    b = result["balance"]
    cumulative, spread, test = b["cumulative"][0], b["protracted"][0], b["page"][0]
    alarms = [p["period"] for p in b["periods"] if p["alarm"]]
    console.print(f"  Lowmarsh separation plant, 2025 monthly plutonium balance (invented, hiding 0.1 kg taken a month from April): "
                  f"largest monthly MUF "
                  f"{max(p['muf'] for p in b['periods']):.3f} kg; Page's test (k = {test['k']:g} σ, h = {test['h']:.2f} σ) "
                  + (f"[bold red]alarms from {alarms[0]}[/]" if alarms else "no alarm")
                  + f"; cumulative MUF {cumulative['muf']:.3f} ± {cumulative['sigma_muf']:.3f} kg: "
                  + ("[bold red]ALARM[/]" if cumulative["alarm"] else "no alarm") + f" at α = {100 * b['alpha']:g} %", highlight=False)
    console.print(f"  a loss of {spread['loss']:g} kg (one significant quantity) spread over the {spread['periods']} months would be caught with probability "
                  f"{100 * spread['cumulative_detection']:.1f} % by the cumulative test; the smallest loss caught with probability "
                  f"95 % is {cumulative['min_loss_95']:.2f} kg (files in {result['folder']}/)", highlight=False)
