"""``unveil confidence``: after each verified phase of a declaration escrow, the probability
that no undeclared site remains (model: docs/confidence.md; evidence:
:mod:`unveil.workspace.confidence`); :mod:`unveil.cli.main` adds the command with
:func:`register`. With ``--board-origin``, a cell whose access request is delayed or refused
(spec §12) counts as not inspected; ``--json`` adds ``withheld_cells``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unveil.cli.edge import Done, run


def confidence(workspace: Path, escrow_id: str | None, background: str, open_credit: str, as_json: bool, board_origin: str | None = None) -> int:
    def action() -> Done:
        from unveil.workspace.confidence import confidence as confidence_of
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        result = confidence_of(ws, escrow_id, background=background, open_credit=open_credit, board_origin=board_origin)
        chosen, phases = result["escrow_id"], result["phases"]

        def show() -> None:
            from rich.table import Table

            from unveil.cli.output import _out, say

            say(f"confidence that no undeclared site remains in {chosen} (background λ = {background}, "
                f"open credit {open_credit})")
            table = Table("phase", "probability", "suspects (exact part)", "background λ'")
            for row in phases:
                table.add_row(row["phase"], f"{row['probability']:.6f}", row["exact_part"], f"{row['background_expected']:.6g}")
            _out.print(table)
            if not phases:
                say("no verified phase yet")
            if result["withheld_cells"]:
                say(f"not inspected, access delayed or refused (spec §12): {', '.join(result['withheld_cells'])}")

        return Done(result, show)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the top-level ``confidence`` command."""

    @app.command("confidence")
    def confidence_(
        workspace: Annotated[Path, typer.Option("--workspace", help="The inspector workspace.", show_default=False)],
        escrow_id: Annotated[str | None, typer.Option("--escrow-id", help="The declaration escrow (default: the only one).")] = None,
        background: Annotated[str, typer.Option("--background", metavar="LAMBDA", help="Expected number of sites intelligence does not know (e.g. 0.4 or 2/5).")] = "0",
        open_credit: Annotated[str, typer.Option("--open-credit", metavar="X", help="Thinning credited to an opened, uninspected cell, in [0, 1].")] = "0",
        board_origin: Annotated[str | None, typer.Option("--board-origin", metavar="ORIGIN", help="Count the cells of delayed or refused access requests in this workspace's mirror of that board (unveil sync) as not inspected.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Probability after each verified phase that no undeclared site remains (docs/confidence.md)."""
        raise typer.Exit(confidence(workspace, escrow_id, background, open_credit, json_output, board_origin))
