"""``unveil simulate``: a regime's detection probabilities by Monte Carlo, beside their exact
values (service: :mod:`unveil.workspace.simulation`); :mod:`unveil.cli.main` adds the
command with :func:`register`. A long run shows a progress bar on a terminal's stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from unveil.cli.edge import Done, run

PROGRESS_TRIALS = 2_000_000
"""Runs of at least this many trials (all points of a sweep counted) show a progress bar."""


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    if total < PROGRESS_TRIALS or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("trials", total=total)
        yield lambda n: bar.advance(task, n)


def simulate(regime: Path, trials: int, seed: int | None, workers: int | None, scheduler: str | None,
             sweeps: list[str], csv_out: Path | None, plot_out: Path | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.errors import MalformedInputError
        from unveil.workspace import simulation

        if workers is not None and scheduler is not None:
            raise MalformedInputError("give --workers or --scheduler, not both", where="--scheduler")
        if csv_out is not None and not sweeps:
            raise MalformedInputError("--csv writes a sweep's rows: give --sweep", where="--csv")
        if plot_out is not None and not sweeps:
            raise MalformedInputError("--plot draws a sweep: give --sweep", where="--plot")
        if plot_out is not None and plot_out.suffix.lower() not in (".png", ".svg"):
            raise MalformedInputError("the plot is written as .png or .svg", where="--plot")
        if plot_out is not None or scheduler is not None:
            from unveil.extras import require

            require("simulation")  # before any trial runs or any file is written
        count = workers if workers is not None else (os.cpu_count() or 1)
        parsed = [simulation.parse_sweep(text) for text in sweeps]
        points = 1
        for _, _, values in parsed:
            points *= len(values)
        with _progress(trials * points) as progress:
            result: dict[str, Any]
            if parsed:
                result = simulation.sweep(regime, parsed, trials, seed=seed, workers=count, scheduler=scheduler, progress=progress)
            else:
                result = simulation.simulate(regime, trials, seed=seed, workers=count, scheduler=scheduler, progress=progress)
        if csv_out is not None:
            csv_out.write_text(simulation.sweep_csv(result), encoding="utf-8")
        if plot_out is not None:
            from unveil.workspace.simulation_plot import plot_sweep

            plot_sweep(result, plot_out)

        def show() -> None:
            from rich.table import Table

            from unveil.cli.output import _out, say

            rows = result["rows"] if parsed else [{"point": {}, **result}]
            say(f"{result['trials']} trials a point, seed {result['seed']}")
            for row in rows:
                if row["point"]:
                    say(", ".join(f"{key} = {value}" for key, value in row["point"].items()))
                table = Table("phase", "P(found by its end)", "95% interval", "exact")
                for phase in row["phases"]:
                    lo, hi = phase["ci95"]
                    exact = "—" if phase["exact"] is None else f"{phase['exact']:.6f}"
                    table.add_row(phase["phase"], f"{phase['detection_probability']:.6f}", f"[{lo:.6f}, {hi:.6f}]", exact)
                _out.print(table)
                expected = row["expected_phase_of_detection"]
                say(f"never found: {row['undetected_at_end']:.6f}; mean phase of first detection: "
                    + ("none detected" if expected is None else f"{expected:.3f}"))
            if csv_out is not None:
                say(f"rows written to {csv_out}")
            if plot_out is not None:
                say(f"plot written to {plot_out}")

        return Done(result, show)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the top-level ``simulate`` command."""

    @app.command("simulate")
    def simulate_(
        regime: Annotated[Path, typer.Option("--regime", metavar="FILE", help="The regime file (YAML or JSON).", show_default=False)],
        trials: Annotated[int, typer.Option("--trials", metavar="N", help="Trials to run (per sweep point).", show_default=False)],
        seed: Annotated[int | None, typer.Option("--seed", metavar="S", min=0, help="The seed (default: a fresh one, printed).")] = None,
        workers: Annotated[int | None, typer.Option("--workers", metavar="K", min=1, help="Local processes (default: every core).")] = None,
        scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help="Run the chunks on this Dask scheduler, e.g. tcp://HOST:8786.")] = None,
        sweep: Annotated[list[str] | None, typer.Option("--sweep", metavar="KEY=V1,V2", help="Sweep a regime field over values (repeatable: a grid).")] = None,
        csv_out: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Write the sweep's rows as CSV.")] = None,
        plot_out: Annotated[Path | None, typer.Option("--plot", metavar="OUT.png|OUT.svg", help="Plot detection against the swept value.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Detection probabilities of a verification regime against a cheating host, by Monte Carlo and exactly."""
        raise typer.Exit(simulate(regime, trials, seed, workers, scheduler, sweep or [], csv_out, plot_out, json_output))
