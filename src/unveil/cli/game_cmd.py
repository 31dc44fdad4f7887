"""``unveil game inspection`` and ``unveil game deterrence``: the sequential inspection game and
the deterrence threshold (issue 12; model and sources: docs/regimes.md), computed by
:mod:`unveil.simulation.game` in exact arithmetic; :mod:`unveil.cli.main` adds the group with
:func:`register`. A bad option exits 2 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from unveil.cli.edge import Done, run
from unveil.errors import MalformedInputError

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _named(exc: ValueError) -> MalformedInputError:
    """The library's ValueError (its message begins with the option's name) as a usage error."""
    return MalformedInputError(str(exc), where=f"--{str(exc).split(' ', 1)[0]}")


def inspection(periods: str, inspections: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.simulation.game import inspection_game

        try:
            result: dict[str, Any] = inspection_game(periods, inspections).to_json()
        except ValueError as exc:
            raise _named(exc) from None

        def show() -> None:
            from unveil.cli.output import say

            say(f"{result['periods']} periods, {result['inspections']} inspections: value to the inspectee "
                f"[bold]{result['value']}[/] (≈ {result['value_float']:.6f}; +1 undetected violation, −1 caught, 0 none)")
            say(f"first period: the inspectee violates with probability {result['violate']}, "
                f"the inspector inspects with probability {result['inspect']}")

        return Done(result, show)

    return run(as_json, action)


def deterrence(gain: str, sanction: str, false_alarm: str | None, false_alarm_cost: str | None, detection: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.simulation.game import deterrence as threshold_of

        if (false_alarm is None) != (false_alarm_cost is None):
            missing = "--false-alarm-cost" if false_alarm_cost is None else "--false-alarm"
            raise MalformedInputError("--false-alarm and --false-alarm-cost go together", where=missing)
        try:
            result: dict[str, Any] = threshold_of(gain, sanction, false_alarm or "0", false_alarm_cost or "0", detection).to_json()
        except ValueError as exc:
            raise _named(exc) from None

        def show() -> None:
            from unveil.cli.output import say

            if result["deterrable"]:
                say(f"complying is the inspectee's best reply when the detection probability is at least "
                    f"[bold]{result['threshold']}[/] (≈ {result['threshold_float']:.6f})")
            else:
                say(f"no detection probability deters: the threshold (D + A·F)/(B + D) is {result['threshold']}, above 1 "
                    "(the expected false-alarm cost A·F exceeds the sanction B)")
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
        json_output: JsonFlag = False,
    ) -> None:
        """The detection probability above which complying is the inspectee's best reply: D/(B+D), or (D + A·F)/(B + D) with false alarms."""
        raise typer.Exit(deterrence(gain, sanction, false_alarm, false_alarm_cost, detection, json_output))

    app.add_typer(game, name="game")
