"""``unveil material``: fissile material accountancy (docs/material.md, spec §13) —
``compare`` a declared stock with an estimate, ``balance`` a balance file or a workspace's
declarations, ``detect``, ``min-loss`` and ``threshold`` for planning. Services:
:mod:`unveil.material` and :mod:`unveil.workspace.material`; :mod:`unveil.cli.main` adds the
sub-app with :func:`register`. Every number printed for a person carries its unit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from unveil.cli.edge import Done, run

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Alpha = Annotated[str, typer.Option("--alpha", metavar="A", help="False-alarm rate of the test.")]
PROGRESS_VALUES = 20_000_000
"""Monte Carlo runs drawing at least this many normals show a progress bar on a terminal."""


def _number(text: str | None, where: str) -> float | None:
    from unveil.textformats.numbers import text_number

    return None if text is None else float(text_number(text, where, "value"))


def _value(text: str, where: str) -> float:
    from unveil.textformats.numbers import text_number

    return float(text_number(text, where, "value"))


def _pct(p: float) -> str:
    return f"{100 * p:.2f} %"


@contextmanager
def _progress(total: int, values_per_step: int) -> Iterator[Callable[[int], None] | None]:
    if total * values_per_step < PROGRESS_VALUES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("trials", total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def _trials_bar() -> Iterator[Callable[[int], None] | None]:
    """A bar of Monte Carlo trials run, of unknown total (a file's categories are not read
    yet), on a terminal's stderr only."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Page's threshold: Monte Carlo trials", total=None)
        yield lambda n: bar.advance(task, n)


def _one_of(pairs: dict[str, Any], what: str) -> None:
    from unveil.errors import MalformedInputError

    given = [name for name, value in pairs.items() if value is not None]
    if len(given) != 1:
        raise MalformedInputError(f"give exactly one {what}: {' | '.join(pairs)}" + (f" (got {', '.join(given)})" if given else ""),
                                  where=" | ".join(pairs))


def compare(declared: str | None, declared_sigma: str | None, declared_range: str | None, estimate: str | None,
            estimate_sigma: str | None, estimate_range: str | None, history: Path | None, alpha: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.cli.files import read_bytes
        from unveil.errors import MalformedInputError
        from unveil.material import Normal, compare, parse_range, read_history
        from unveil.material import estimate as history_estimate
        from unveil.material.csvfile import MAX_BYTES
        from unveil.material.normal import check_sigma

        def measured(value: str | None, sigma: str | None, span: str | None, name: str) -> Normal | None:
            if value is not None:
                if sigma is None:
                    raise MalformedInputError(f"--{name} needs --{name}-sigma", where=f"--{name}-sigma")
                return Normal(_value(value, f"--{name}"), check_sigma(_value(sigma, f"--{name}-sigma"), f"--{name}-sigma"))
            if sigma is not None:
                raise MalformedInputError(f"--{name}-sigma goes with --{name}", where=f"--{name}")
            return None if span is None else parse_range(span, f"--{name}-range")

        _one_of({"--declared": declared, "--declared-range": declared_range}, "declared stock")
        _one_of({"--estimate": estimate, "--estimate-range": estimate_range, "--history": history}, "estimate")
        d = measured(declared, declared_sigma, declared_range, "declared")
        e = measured(estimate, estimate_sigma, estimate_range, "estimate")
        reactors = None
        if history is not None:
            data = read_bytes(history, "production history", limit=MAX_BYTES)  # spec §13's limit, before reading it all
            e, reactors = history_estimate(read_history(data, source=str(history)))
        assert d is not None and e is not None
        result = compare(d, e, _value(alpha, "--alpha"))
        if reactors is not None:
            result["reactors"] = reactors

        def show() -> None:
            from unveil.cli.output import say

            say(f"declared {d.mean:.3f} kg ± {d.sigma:.3f} kg (1σ); estimate {e.mean:.3f} kg ± {e.sigma:.3f} kg (1σ)")
            for r in reactors or []:
                say(f"  {r['reactor']}: {r['kg']:.3f} kg (yield uncertainty ± {r['yield_sigma_kg']:.3f} kg)")
            verdict = "CONSISTENT" if result["consistent"] else "NOT consistent"
            say(f"difference D − E = {result['difference']:.3f} kg ± {result['sigma']:.3f} kg (1σ); z = {result['z']:.3f} σ; "
                f"{verdict} at α = {_pct(result['alpha'])} (two-sided: |z| ≤ {result['critical_z']:.3f} σ)")

        return Done(result, show)

    return run(as_json, action)


def balance(file: Path | None, workspace: Path | None, flows: Path | None, uncertainties: Path | None, alpha: str, k: str,
            h: str | None, loss: str | None, trials: int, seed: int, plot: Path | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.errors import MalformedInputError
        from unveil.workspace import material

        if (file is None) == (workspace is None):
            raise MalformedInputError("give a balance FILE or --workspace W, not both or neither", where="FILE | --workspace")
        if workspace is None and (flows is not None or uncertainties is not None):
            raise MalformedInputError("--flows and --uncertainties go with --workspace", where="--flows")
        if plot is not None:
            _check_plot(plot)
        options: dict[str, Any] = {"alpha": _value(alpha, "--alpha"), "k": _value(k, "--k"), "h": _number(h, "--h"),
                                   "loss": _number(loss, "--loss"), "trials": trials, "seed": seed}
        with _trials_bar() as progress:
            options["progress"] = progress
            if file is not None:
                result = material.balance_file(file, **options)
            else:
                assert workspace is not None
                result = material.balance_workspace(workspace, flows, uncertainties, **options)
        if plot is not None:
            from unveil.workspace.material_plot import plot_balance

            plot_balance(result, plot)
        return Done(result, lambda: _show_balance(result, plot))

    return run(as_json, action)


def _check_plot(plot: Path) -> None:
    import importlib.util

    from unveil.errors import MalformedInputError, MissingExtraError

    if plot.suffix.lower() not in (".png", ".svg"):
        raise MalformedInputError("the plot is written as .png or .svg", where="--plot")
    if importlib.util.find_spec("matplotlib") is None:
        raise MissingExtraError("report", "matplotlib")


def _show_balance(result: dict[str, Any], plot: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from unveil.cli.output import _out, say

    for d in result.get("declarations", []):
        inventory = ", ".join(f"{c} {v:.3f} kg" for c, v in d["inventory_kg"].items()) or "no fissile items"
        state = "complete" if d["complete"] else f"{d['opened']} of {d['cells']} cells open: not used yet"
        say(f"declaration {d['escrow_id']} ({d['created']}): {inventory} ({state})")
    tests = {t["category"]: t for t in result["page"]}
    table = Table("category", "period", "MUF (kg)", "σMUF (kg)", "SITMUF (σ)", "Page S (σ)", "alarm")
    for row in result["periods"]:
        table.add_row(row["category"], row["period"], f"{row['muf']:.3f} kg", f"{row['sigma_muf']:.3f} kg", f"{row['sitmuf']:.3f} σ",
                      f"{row['page']:.3f} σ", "[bold red]ALARM[/]" if row["alarm"] else "no")
    _out.print(table)
    for c in result["cumulative"]:
        t = tests[c["category"]]
        say(f"{c['category']}: Page's test k = {t['k']:g} σ, h = {t['h']:.3f} σ (± {t['h_standard_error']:.3f} σ; {t['h_from']}); "
            f"cumulative MUF {c['muf']:.3f} kg ± {c['sigma_muf']:.3f} kg (1σ), z = {c['z']:.3f} σ: "
            + ("[bold red]ALARM[/]" if c["alarm"] else "no alarm") + f" at α = {_pct(result['alpha'])} (one-sided)")
        say(f"  the cumulative test catches a loss of {c['min_loss_95']:.3f} kg or more with probability 95.00 %")
    for p in result["protracted"]:
        weaker = "per-period" if p["stronger"] == "cumulative" else "cumulative"
        ranking = ("the two are equally strong here" if p["stronger"] == "equal"
                   else f"the {p['stronger']} test is the stronger, the {weaker} the weaker")
        say(f"{p['category']}: a loss of {p['loss']:.3f} kg spread evenly over {p['periods']} periods would be caught with probability "
            f"{_pct(p['cumulative_detection'])} by the cumulative test and {_pct(p['per_period_detection'])} by per-period tests "
            f"(each at α = {100 * p['per_period_alpha']:.3g} %, {_pct(result['alpha'])} in all); {ranking}. Page's test: {_pct(p['page_detection'])} (its false-alarm rate {_pct(p['page_false_alarm'])}, "
            f"{p['page_trials']} simulated trials)")
    if plot is not None:
        say(f"plot written to {escape(str(plot))}")


def detect(loss: str, sigma: str, alpha: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.material import detection_probability

        lost, s, a = _value(loss, "--loss"), _value(sigma, "--sigma"), _value(alpha, "--alpha")
        p = detection_probability(lost, s, a)
        result = {"detection_probability": p, "loss": lost, "sigma": s, "alpha": a, "unit": "kg"}

        def show() -> None:
            from unveil.cli.output import say

            say(f"a loss of {lost:g} kg, with σMUF {s:g} kg, would be caught with probability {_pct(p)} "
                f"by one balance test at a false-alarm rate of {_pct(a)}")

        return Done(result, show)

    return run(as_json, action)


def min_loss(sigma: str, alpha: str, detection: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.material import min_loss as smallest

        s, a, p = _value(sigma, "--sigma"), _value(alpha, "--alpha"), _value(detection, "--detection")
        result = {"loss": smallest(s, a, p), "sigma": s, "alpha": a, "detection": p, "unit": "kg"}

        def show() -> None:
            from unveil.cli.output import say

            say(f"with σMUF {s:g} kg and a false-alarm rate of {_pct(a)}, the smallest loss caught with probability {_pct(p)} "
                f"is {result['loss']:.3f} kg")

        return Done(result, show)

    return run(as_json, action)


def threshold(periods: int, k: str, false_alarm: str, trials: int, seed: int, as_json: bool) -> int:
    def action() -> Done:
        from unveil.material import threshold as page_threshold

        kk, a = _value(k, "--k"), _value(false_alarm, "--false-alarm")
        with _progress(trials, periods) as progress:
            h, se = page_threshold(periods, kk, a, trials=trials, seed=seed, progress=progress)
        result = {"h": h, "standard_error": se, "periods": periods, "k": kk, "false_alarm": a, "trials": trials, "seed": seed}

        def show() -> None:
            from unveil.cli.output import say

            say(f"Page's test on SITMUF over {periods} periods with k = {kk:g} σ: threshold h = {h:.4f} σ (standard error {se:.4f} σ) "
                f"for a false-alarm rate of {_pct(a)} ({trials} simulated trials, seed {seed})")

        return Done(result, show)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the ``material`` sub-app (compare, balance, detect, min-loss, threshold)."""
    material = typer.Typer(name="material", help="Fissile material accountancy: declared stocks and material balances (docs/material.md).",
                           no_args_is_help=True, add_completion=False, rich_markup_mode=None)

    @material.command("compare")
    def compare_(
        declared: Annotated[str | None, typer.Option("--declared", metavar="Q", help="Declared stock (kg).")] = None,
        declared_sigma: Annotated[str | None, typer.Option("--declared-sigma", metavar="S", help="Its standard deviation (kg).")] = None,
        declared_range: Annotated[str | None, typer.Option("--declared-range", metavar="LO..HI", help="Declared stock as a 95 % range (kg).")] = None,
        estimate: Annotated[str | None, typer.Option("--estimate", metavar="Q", help="Independent estimate (kg).")] = None,
        estimate_sigma: Annotated[str | None, typer.Option("--estimate-sigma", metavar="S", help="Its standard deviation (kg).")] = None,
        estimate_range: Annotated[str | None, typer.Option("--estimate-range", metavar="LO..HI", help="Estimate as a 95 % range (kg).")] = None,
        history: Annotated[Path | None, typer.Option("--history", metavar="FILE", help="Estimate from a production history CSV (spec §13).")] = None,
        alpha: Alpha = "0.05",
        json_output: Json = False,
    ) -> None:
        """Test a declared stock against an independent estimate (two-sided, normal errors)."""
        raise typer.Exit(compare(declared, declared_sigma, declared_range, estimate, estimate_sigma, estimate_range, history, alpha, json_output))

    @material.command("balance")
    def balance_(
        file: Annotated[Path | None, typer.Argument(metavar="[FILE]", help="A balance CSV (spec §13).", show_default=False)] = None,
        workspace: Annotated[Path | None, typer.Option("--workspace", metavar="W", help="Take inventories from the declarations this workspace recorded.")] = None,
        flows: Annotated[Path | None, typer.Option("--flows", metavar="FILE", help="Receipts and shipments between declarations (with --workspace).")] = None,
        uncertainties: Annotated[Path | None, typer.Option("--uncertainties", metavar="FILE", help="Relative σ by category and kind, over the default table (with --workspace).")] = None,
        alpha: Alpha = "0.05",
        k: Annotated[str, typer.Option("--k", metavar="K", help="Page's reference value (σ of SITMUF).")] = "0.5",
        h: Annotated[str | None, typer.Option("--h", metavar="H", help="Page's threshold (default: Monte Carlo for α over the category's periods).")] = None,
        loss: Annotated[str | None, typer.Option("--loss", metavar="KG", help="Loss for the protracted comparison (default: 1 significant quantity).")] = None,
        trials: Annotated[int, typer.Option("--trials", metavar="T", help="Monte Carlo trials for the default h.")] = 100_000,
        seed: Annotated[int, typer.Option("--seed", metavar="S", min=0, help="Monte Carlo seed.")] = 0,
        plot: Annotated[Path | None, typer.Option("--plot", metavar="OUT.png|OUT.svg", help="Plot MUF ± 2σ and Page's statistic.")] = None,
        json_output: Json = False,
    ) -> None:
        """Evaluate a material balance: MUF, σMUF, SITMUF, Page's test, cumulative MUF, protracted diversion."""
        raise typer.Exit(balance(file, workspace, flows, uncertainties, alpha, k, h, loss, trials, seed, plot, json_output))

    @material.command("detect")
    def detect_(
        loss: Annotated[str, typer.Option("--loss", metavar="L", help="Missing material (kg).", show_default=False)],
        sigma: Annotated[str, typer.Option("--sigma", metavar="S", help="σMUF (kg).", show_default=False)],
        alpha: Alpha = "0.05",
        json_output: Json = False,
    ) -> None:
        """Probability that one balance test catches a loss: Φ(L/σ − z₁₋α)."""
        raise typer.Exit(detect(loss, sigma, alpha, json_output))

    @material.command("min-loss")
    def min_loss_(
        sigma: Annotated[str, typer.Option("--sigma", metavar="S", help="σMUF (kg).", show_default=False)],
        detection: Annotated[str, typer.Option("--detection", metavar="P", help="Detection probability wanted.", show_default=False)],
        alpha: Alpha = "0.05",
        json_output: Json = False,
    ) -> None:
        """The smallest loss one balance test catches with probability P: σ (z₁₋α + z_P)."""
        raise typer.Exit(min_loss(sigma, alpha, detection, json_output))

    @material.command("threshold")
    def threshold_(
        periods: Annotated[int, typer.Option("--periods", metavar="N", help="Balance periods.", show_default=False)],
        false_alarm: Annotated[str, typer.Option("--false-alarm", metavar="A", help="False-alarm rate over the N periods.", show_default=False)],
        k: Annotated[str, typer.Option("--k", metavar="K", help="Page's reference value (σ of SITMUF).")] = "0.5",
        trials: Annotated[int, typer.Option("--trials", metavar="T", help="Monte Carlo trials.")] = 100_000,
        seed: Annotated[int, typer.Option("--seed", metavar="S", help="Monte Carlo seed.")] = 0,
        json_output: Json = False,
    ) -> None:
        """Page's-test threshold h for a false-alarm rate over N periods (Monte Carlo)."""
        raise typer.Exit(threshold(periods, k, false_alarm, trials, seed, json_output))

    app.add_typer(material, name="material")
