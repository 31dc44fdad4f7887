"""``unveil game inspection`` and ``unveil game deterrence``: the sequential inspection game and
the deterrence threshold (model and sources: docs/regimes.md), computed by
:mod:`unveil.simulation.game` in exact arithmetic through the service :mod:`unveil.workspace.game`
(which runs the simulator for ``--regime``); :mod:`unveil.cli.main` adds the group with
:func:`register`. A bad option exits 2 naming it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from unveil.cli.edge import Done, run

DEFAULT_TRIALS = 100_000

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def inspection(periods: str, inspections: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace.game import inspection as solve

        result = solve(periods, inspections)

        def show() -> None:
            from unveil.cli.output import say

            say(f"{result['periods']} periods, {result['inspections']} inspections: value to the inspectee "
                f"[bold]{result['value']}[/] (≈ {result['value_float']:.6f}; +1 undetected violation, −1 caught, 0 none)")
            say(f"first period: the inspectee violates with probability {result['violate']}, "
                f"the inspector inspects with probability {result['inspect']}")

        return Done(result, show)

    return run(as_json, action)


def deterrence(gain: str, sanction: str, false_alarm: str | None, false_alarm_cost: str | None, detection: str | None,
               regime: Path | None, trials: int | None, seed: int | None, workers: int | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.errors import MalformedInputError
        from unveil.workspace.game import deterrence as threshold_of

        if regime is None and (trials is not None or seed is not None or workers is not None):
            raise MalformedInputError("--trials, --seed and --workers go with --regime", where="--trials" if trials is not None else "--seed" if seed is not None else "--workers")
        result = threshold_of(gain, sanction, false_alarm, false_alarm_cost, detection=detection, regime=regime,
                              trials=DEFAULT_TRIALS if trials is None else trials, seed=seed, workers=workers or os.cpu_count() or 1)

        def show() -> None:
            from unveil.cli.output import say

            if result["deterrable"]:
                say(f"complying is the inspectee's best reply when the detection probability is at least "
                    f"[bold]{result['threshold']}[/] (≈ {result['threshold_float']:.6f})")
            else:
                say(f"no detection probability deters: the threshold (D + A·F)/(B + D) is {result['threshold']}, above 1 "
                    "(the expected false-alarm cost A·F exceeds the sanction B)")
            if "regime" in result:
                sim = result["regime"]
                how = (f"exactly {sim['exact']:.6f}" if sim["exact"] is not None else
                       f"{sim['detection_probability']:.6f}, 95% interval [{sim['ci95'][0]:.6f}, {sim['ci95'][1]:.6f}] ({sim['trials']} trials, seed {sim['seed']})")
                say(f"{sim['file']}: probability of detecting a violation by the end ({sim['phase']}) {how}")
                if result["deters"] is None:
                    say("the interval straddles the threshold: run more --trials to decide")
            if result["deters"] is not None:
                verdict = "reaches" if result["deters"] else "does not reach"
                say(f"a detection probability of {result['detection']} {verdict} it")

        return Done(result, show)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the ``game`` group."""
    game = typer.Typer(name="game", help="The sequential inspection game and the deterrence threshold (docs/regimes.md).", no_args_is_help=True)

    @game.command("inspection")
    def inspection_(
        periods: Annotated[str, typer.Option("--periods", metavar="N", help="Periods in which the inspectee may violate (once).", show_default=False)],
        inspections: Annotated[str, typer.Option("--inspections", metavar="M", help="Inspections the inspector has.", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Value of the sequential inspection game (Dresher) and both sides' first-period strategies, as exact fractions."""
        raise typer.Exit(inspection(periods, inspections, json_output))

    @game.command("deterrence")
    def deterrence_(
        gain: Annotated[str, typer.Option("--gain", metavar="D", help="The inspectee's gain from an undetected violation.", show_default=False)],
        sanction: Annotated[str, typer.Option("--sanction", metavar="B", help="What a detected violation costs the inspectee.", show_default=False)],
        false_alarm: Annotated[str | None, typer.Option("--false-alarm", metavar="A", help="Probability that a compliant inspectee is wrongly accused.")] = None,
        false_alarm_cost: Annotated[str | None, typer.Option("--false-alarm-cost", metavar="F", help="What a false alarm costs the inspectee.")] = None,
        detection: Annotated[str | None, typer.Option("--detection", metavar="P", help="A regime's detection probability: say whether it reaches the threshold.")] = None,
        regime: Annotated[Path | None, typer.Option("--regime", metavar="FILE", help="A regime file (as for unveil simulate): does its detection probability by the end reach the threshold?")] = None,
        trials: Annotated[int | None, typer.Option("--trials", metavar="N", help=f"With --regime: trials to simulate (the exact answer decides where there is one; default {DEFAULT_TRIALS}).")] = None,
        seed: Annotated[int | None, typer.Option("--seed", metavar="S", min=0, help="With --regime: the simulation's seed (default: a fresh one, printed).")] = None,
        workers: Annotated[int | None, typer.Option("--workers", metavar="K", min=1, help="With --regime: local processes (default: every core).")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """The detection probability above which complying is the inspectee's best reply: D/(B+D), or (D + A·F)/(B + D) with false alarms."""
        raise typer.Exit(deterrence(gain, sanction, false_alarm, false_alarm_cost, detection, regime, trials, seed, workers, json_output))

    app.add_typer(game, name="game")
