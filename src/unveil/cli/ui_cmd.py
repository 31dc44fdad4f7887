"""``unveil ui``: a party's private view of one escrow in its browser, served on 127.0.0.1 only
behind a token printed at start-up (:func:`unveil.web.serve.serve_private`); :mod:`unveil.cli.main`
adds the command with :func:`register`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from unveil.cli.edge import Done, run


def ui(workspace: Path, escrow_id: str | None, port: int, as_json: bool) -> int:
    def announce(url: str, chosen: str) -> None:
        if as_json:
            print(json.dumps({"url": url, "escrow_id": chosen}), flush=True)
        else:
            print(f"private view of {chosen} (this machine only; Ctrl-C stops): open {url}", flush=True)

    def action() -> Done:
        from unveil.web.serve import serve_private

        serve_private(workspace, escrow_id, port, announce)
        return Done(None, lambda: None)

    return run(as_json, action)


def register(app: typer.Typer) -> None:
    """Add the top-level ``ui`` command."""

    @app.command("ui")
    def ui_(
        workspace: Annotated[Path, typer.Option("--workspace", help="Your workspace.", show_default=False)],
        escrow_id: Annotated[str | None, typer.Option("--escrow-id", help="The escrow (default: the workspace's one declaration escrow).")] = None,
        port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port on 127.0.0.1 (0: any free port).")] = 0,
        json_output: Annotated[bool, typer.Option("--json", help="Print the URL as JSON.")] = False,
    ) -> None:
        """Serve your private view of an escrow on 127.0.0.1 only, behind a token printed at start-up."""
        raise typer.Exit(ui(workspace, escrow_id, port, json_output))
