"""``unveil coin commit|reveal``, ``unveil draw``, ``unveil discrepancy raise|resolve``,
``unveil inspect report``: the verifiable random selection (spec §8) and findings, against a
board (spec §7). Services: :mod:`unveil.workspace.coins`, :mod:`unveil.workspace.findings`.

Exit codes (:mod:`unveil.cli.exits`): 0 done; 1 the board refused, this workspace refused (a
second commitment, no commitment to reveal, a population or n other than the logged ones, a
conflicting logged selection) or the draw is waiting for a party ("waiting for …"); 2 an input
could not be read (a file, an option, the workspace).

The inspecting party fixes a draw before any coin (spec §8): its ``coin commit`` takes
``--population FILE --n N`` (required of an inspector), which the context's first commitment
logs; a host commits to the logged population and ``n`` (``--population``/``--n``, if given,
must be the logged ones) and waits while none is logged. ``draw`` draws from the logged
population (its ``--population``/``--n``, if given, must be the logged ones), acting on final
coin reveals only (spec §8): before the deadline it waits for the quorum's cosignatures ("waiting
for … to cosign"; ``--quorum K`` lowers the quorum as on ``sync``, ``audit`` and ``status``);
with ``--deadline-passed`` a party whose reveal is missing, or neither final nor covered by a
checkpoint it cosigned itself, refuses.

``--json`` prints: coin commit ``{"context", "commitment", "index", "population_sha256", "n"}``;
coin reveal ``{"context", "r", "index"}``; draw ``{"seed", "selection", "status"}`` (plus
``context``, the logged ``n``, ``population_sha256`` and ``population_size``, ``index`` of
``selection.drawn``, the ``refused`` party names, of those the ``not_cosigned`` ones whose
reveal is logged but counts for nothing, and the ``final_size`` the reveals were read under);
discrepancy raise/resolve ``{"id", …, "index"}`` (raise adds ``intel_predates_reveal``, spec §7:
whether the intel escrow was logged before the phase's reveal, ``null`` without intel); inspect
report ``{"escrow_id", "phase", "sites", "consistent", "discrepancy"}``; failures ``{"error", "reason", …}`` (:func:`unveil.cli.edge.failure_json`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from unveil.cli.edge import Done, run
from unveil.cli.files import read_bytes

if TYPE_CHECKING:
    from unveil.board.parties import Parties

_T = TypeVar("_T")


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def _parties(path: Path) -> Parties:
    from unveil.board.parties import read_parties

    return read_parties(read_bytes(path, "parties file"), source=str(path))


def _connect(board: str):  # type: ignore[no-untyped-def]  # a BoardClient
    from unveil.cli import board_cmd

    return board_cmd.connect(board)  # looked up at call time: tests replace it


def _now():  # type: ignore[no-untyped-def]  # a datetime
    from unveil.cli import workflow_cmd

    return workflow_cmd.now()


# --- implementations ---------------------------------------------------------------------------


def _population(path: Path | None) -> list[str] | None:
    """The ids of a population file, one per line, sorted (or ``None`` without a file)."""
    from unveil.workspace import coins

    if path is None:
        return None
    try:
        text = read_bytes(path, "population").decode("utf-8")
    except UnicodeDecodeError:
        from unveil.errors import MalformedInputError

        raise MalformedInputError("not UTF-8", source=str(path)) from None
    return coins.read_population(text, source=str(path))


def _within(path: Path | None, call: Callable[[], _T]) -> _T:
    """Run ``call``, naming the population file in an error about ``--population``."""
    from unveil.errors import MalformedInputError

    try:
        return call()
    except MalformedInputError as exc:
        if path is not None and exc.where == "--population":
            raise MalformedInputError(exc.message, source=str(path)) from None
        raise


def coin(
    step: str, workspace: Path, board: str, context: str, escrow_id: str, parties: Path, as_json: bool,
    population: Path | None = None, n: int | None = None,
) -> int:
    def action() -> Done:
        from unveil.workspace import coins
        from unveil.workspace.workspace import open_workspace

        registered = _parties(parties)
        ws = open_workspace(workspace)
        members = _population(population)
        with _connect(board) as client:
            if step == "commit":
                result = _within(population, lambda: coins.commit_coin(
                    ws, client, context, escrow_id, _now(), parties=registered, population=members, n=n))
            else:
                result = coins.reveal_coin(ws, client, context, escrow_id, _now(), parties=registered)
        verb = "committed" if step == "commit" else "revealed"
        drawing = f" (drawing n = {result['n']} of the population {result['population_sha256'][:16]}…)" if step == "commit" else ""
        return Done(result, lambda: _say(f"{ws.name} {verb} its coin in context {context} as entry [bold]{result['index']}[/]{drawing}"))

    return run(as_json, action)


def draw(
    workspace: Path, board: str, context: str, escrow_id: str, parties: Path, population: Path | None, n: int | None,
    deadline_passed: bool, as_json: bool, quorum: int | None = None,
) -> int:
    def action() -> Done:
        from unveil.workspace import coins
        from unveil.workspace.workspace import open_workspace

        registered = _parties(parties)
        ws = open_workspace(workspace)
        members = _population(population)
        with _connect(board) as client:
            result = _within(population, lambda: coins.draw(
                client, registered, context, escrow_id, members, n, ws, _now(), deadline_passed=deadline_passed, quorum=quorum))

        def show() -> None:
            status = result["status"]
            if result["not_cosigned"]:
                _say(f"not final, and not covered by a checkpoint its own party cosigned: the reveal of"
                     f" {', '.join(result['not_cosigned'])}, which counts as a refusal (spec §8)")
            if status == "void":
                _say(f"context {context}: the draw is [bold red]void[/] (refused: {', '.join(result['refused']) or 'a reveal came early'}): nothing is inspected")
            elif status == "host-refused":
                _say(f"context {context}: the host refused ({', '.join(result['refused'])}): [bold]every[/] member ({len(result['selection'])}) is inspected")
            else:
                _say(f"context {context}: seed {result['seed']}, selection.drawn is entry {result['index']}")
                _say(f"selection ({result['n']} of {result['population_size']}): " + ", ".join(result["selection"]))

        return Done(result, show)

    return run(as_json, action)


def discrepancy_raise(
    workspace: Path, board: str, escrow_id: str, id: str, phase: str, cell: str, detail: str,
    intel_bundle: Path | None, as_json: bool,
) -> int:
    def action() -> Done:
        from unveil.workspace import findings
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        intel = read_bytes(intel_bundle, "intel bundle") if intel_bundle is not None else None
        with _connect(board) as client:
            result = findings.raise_discrepancy(ws, client, escrow_id, id, phase, cell, detail, intel, _now())

        def show() -> None:
            from unveil.cli.output import predates_text

            _say(f"discrepancy {id} raised on cell {cell} as entry [bold]{result['index']}[/]: {predates_text(result['intel_predates_reveal'])}")

        return Done(result, show)

    return run(as_json, action)


def discrepancy_resolve(workspace: Path, board: str, escrow_id: str, id: str, resolution: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace import findings
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        with _connect(board) as client:
            result = findings.resolve_discrepancy(ws, client, escrow_id, id, resolution, _now())
        return Done(result, lambda: _say(f"discrepancy {id} resolved as entry [bold]{result['index']}[/]"))

    return run(as_json, action)


def inspect_report(workspace: Path, escrow_id: str, phase: str, results: Path, as_json: bool) -> int:
    def action() -> Done:
        from unveil.cli.files import read_json
        from unveil.errors import MalformedInputError
        from unveil.workspace import findings
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        doc = read_json(results, "results")
        try:
            result = findings.inspect_report(ws, escrow_id, phase, doc, _now())
        except MalformedInputError as exc:
            raise exc.within(str(results)) from None
        return Done(result, lambda: _say(
            f"{phase} of {escrow_id}: {result['sites']} site(s) recorded, {result['consistent']} consistent, "
            f"{result['discrepancy']} with a discrepancy"
            + (f"; {result['suspects']} suspect(s), {result['found']} found" if "suspects" in result else "")))

    return run(as_json, action)


def inspect_post(
    workspace: Path, board: str, escrow_id: str, phase: str, cell: str, outcome: str, site: str | None, detail: str,
    context: str | None, as_json: bool,
) -> int:
    def action() -> Done:
        from unveil.workspace import findings
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        with _connect(board) as client:
            result = findings.report_inspection(ws, client, escrow_id, phase, cell, outcome, site, detail, context, _now())
        logged = "logged" if result["created"] else "already logged"
        return Done(result, lambda: _say(f"inspection of cell {cell}{f' site {site}' if site else ''}: {outcome}, {logged} as entry [bold]{result['index']}[/]"))

    return run(as_json, action)


# --- typer wiring ----------------------------------------------------------------------------

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]
BoardOpt = Annotated[str, typer.Option("--board", metavar="URL", help="The board's base URL.", show_default=False)]
ContextOpt = Annotated[str, typer.Option("--context", help="The draw's context id (spec §8), e.g. phase-2-inspect.", show_default=False)]
EscrowOpt = Annotated[str, typer.Option("--escrow-id", help="The published escrow the events are about.", show_default=False)]
PartiesOpt = Annotated[Path, typer.Option("--parties", help="PARTIES.json: the draw parties are every host and inspector.", show_default=False)]
PopulationOpt = Annotated[Path | None, typer.Option(
    "--population", help="File of ids, one per line: what the draw selects from (spec §8).", show_default=False)]
NOpt = Annotated[int | None, typer.Option("--n", help="How many to select (1 to the population's size).", show_default=False)]
QuorumOpt = Annotated[int | None, typer.Option(
    "--quorum", metavar="K", help="Count a reveal final once K quorum members cosigned it (default: every registered witness but the board; spec §7).",
    show_default=False)]


def register(app: typer.Typer) -> None:
    """Add ``coin``, ``draw``, ``discrepancy`` and ``inspect`` to ``app``."""
    coin_app = typer.Typer(help="Commit to and reveal this party's coin for a draw (spec §8).", no_args_is_help=True)
    discrepancy_app = typer.Typer(help="Raise and resolve discrepancies on the board.", no_args_is_help=True)
    inspect_app = typer.Typer(help="Record on-site inspection results (report: local) and log them on the board (post).", no_args_is_help=True)

    @coin_app.command("commit")
    def coin_commit(workspace: WorkspaceOpt, board: BoardOpt, context: ContextOpt, escrow_id: EscrowOpt, parties: PartiesOpt,
                    population: PopulationOpt = None, n: NOpt = None, json_output: JsonFlag = False) -> None:
        """Draw 32 random bytes, keep them in the workspace, and log their commitment (coin.committed).

        The inspecting party gives --population and --n: its first commitment in the context logs
        them, before any coin. A host commits to the logged ones (checked against --population
        and --n when given) and waits while none is logged."""
        raise typer.Exit(coin("commit", workspace, board, context, escrow_id, parties, json_output, population, n))

    @coin_app.command("reveal")
    def coin_reveal(workspace: WorkspaceOpt, board: BoardOpt, context: ContextOpt, escrow_id: EscrowOpt, parties: PartiesOpt,
                    json_output: JsonFlag = False) -> None:
        """Log this party's r (coin.revealed), once every draw party's commitment is on the board."""
        raise typer.Exit(coin("reveal", workspace, board, context, escrow_id, parties, json_output))

    @app.command("draw")
    def draw_command(
        workspace: WorkspaceOpt, board: BoardOpt, context: ContextOpt, escrow_id: EscrowOpt, parties: PartiesOpt,
        population: PopulationOpt = None, n: NOpt = None,
        deadline_passed: Annotated[bool, typer.Option("--deadline-passed", help=(
            "The context's deadline has passed: a missing commitment or reveal is a refusal, and so is a reveal that is not"
            " final unless its own party cosigned a checkpoint covering it (spec §8)."))] = False,
        quorum: QuorumOpt = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Compute the context's selection from the board's coins and logged population, and log it (selection.drawn).

        Only final coin reveals count (spec §8): before the deadline the draw waits for the quorum's
        cosignatures. --population and --n are optional; given, they must be the ones the
        inspecting party logged."""
        raise typer.Exit(draw(workspace, board, context, escrow_id, parties, population, n, deadline_passed, json_output, quorum))

    @discrepancy_app.command("raise")
    def discrepancy_raise_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt,
        id: Annotated[str, typer.Option("--id", help="The discrepancy's id.", show_default=False)],
        phase: Annotated[str, typer.Option("--phase", help="The reveal phase it concerns.", show_default=False)],
        cell: Annotated[str, typer.Option("--cell", help="The revealed cell.", show_default=False)],
        detail: Annotated[str, typer.Option("--detail", help="What differs.", show_default=False)],
        intel_bundle: Annotated[Path | None, typer.Option("--intel-bundle", help="A reveal bundle of this inspector's intel escrow opening the cell (spec §9).")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Log a discrepancy (discrepancy.raised; inspector)."""
        raise typer.Exit(discrepancy_raise(workspace, board, escrow_id, id, phase, cell, detail, intel_bundle, json_output))

    @discrepancy_app.command("resolve")
    def discrepancy_resolve_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt,
        id: Annotated[str, typer.Option("--id", help="The discrepancy's id.", show_default=False)],
        resolution: Annotated[str, typer.Option("--resolution", help="How it was resolved.", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Log the resolution of a discrepancy this inspector raised (discrepancy.resolved)."""
        raise typer.Exit(discrepancy_resolve(workspace, board, escrow_id, id, resolution, json_output))

    @inspect_app.command("report")
    def inspect_report_command(
        workspace: WorkspaceOpt,
        escrow_id: Annotated[str, typer.Option("--escrow-id", show_default=False)],
        phase: Annotated[str, typer.Option("--phase", help="The phase inspected.", show_default=False)],
        results: Annotated[Path, typer.Option("--results", help='JSON array of {"site", "result": consistent|discrepancy, "detail"} and/or {"suspect", "result": nothing-found|found, "detection"}.', show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Record per-site inspection results in the workspace (not posted)."""
        raise typer.Exit(inspect_report(workspace, escrow_id, phase, results, json_output))

    @inspect_app.command("post")
    def inspect_post_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt,
        phase: Annotated[str, typer.Option("--phase", help="The revealed phase that opened the cell.", show_default=False)],
        cell: Annotated[str, typer.Option("--cell", help="The opened cell inspected.", show_default=False)],
        outcome: Annotated[str, typer.Option("--outcome", help="confirmed, not-found, discrepancy or refused.", show_default=False)],
        site: Annotated[str | None, typer.Option("--site", help="The declared site inspected, if one.", show_default=False)] = None,
        detail: Annotated[str, typer.Option("--detail", help="What was found (at most 1,000 characters).")] = "",
        context: Annotated[str | None, typer.Option("--context", help="The draw context that selected the cell, if one.", show_default=False)] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Log the outcome of inspecting an opened cell on the board (inspection.reported; inspector)."""
        raise typer.Exit(inspect_post(workspace, board, escrow_id, phase, cell, outcome, site, detail, context, json_output))

    app.add_typer(coin_app, name="coin")
    app.add_typer(discrepancy_app, name="discrepancy")
    app.add_typer(inspect_app, name="inspect")
