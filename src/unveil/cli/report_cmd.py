"""``unveil report``: one self-contained HTML document about one escrow from a workspace, and
optionally its PDF (docs/reports.md; service :func:`unveil.workspace.report.write_report`);
:mod:`unveil.cli.main` adds the command with :func:`register`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unveil.cli.edge import Done, run


def report(workspace: Path, escrow_id: str | None, out: Path, pdf: Path | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace.report import write_report
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        result = write_report(ws, escrow_id, out, pdf)

        def show() -> None:
            from unveil.cli.output import say

            say(f"report on {result['escrow_id']} ({result['cells']} cells, {len(result['phases'])} phases): "
                f"{result['html']} ({result['bytes'] / 1024:.0f} KiB)")
            if result["pdf"]:
                say(f"PDF: {result['pdf']}")

        return Done(result, show)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the top-level ``report`` command."""

    @app.command("report")
    def report_(
        workspace: Annotated[Path, typer.Option("--workspace", help="The workspace to report from.", show_default=False)],
        out: Annotated[Path, typer.Option("--out", help="The HTML file to write (self-contained: images inline).", show_default=False)],
        escrow_id: Annotated[str | None, typer.Option("--escrow-id", help="The escrow (default: the workspace's one declaration escrow).")] = None,
        pdf: Annotated[Path | None, typer.Option("--pdf", help="Also print it as PDF with the system Chromium (the 'pdf' extra).")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Write a report on one escrow: maps per phase, reveals and verifications, totals, truth tests, inspections, draws, confidence, agreement."""
        raise typer.Exit(report(workspace, escrow_id, out, pdf, json_output))
