"""``unveil item move|witness`` and ``unveil access request|grant|refuse``: every declared item's
chain of custody and access requests under an agreement, on a board (spec §12). Service:
:mod:`unveil.workspace.custody`.

Exit codes (:mod:`unveil.cli.exits`): 0 logged; 1 the board refused (a serial no opened cell
declares, ``custody-gap``; a skipped step; the wrong party; a grant after the refusal
deadline…: nothing is logged); 2 an option or the workspace could not be read.

``--json`` prints the logged event's fields and its ``index``: item move ``{"escrow_id",
"serial", "to", "site", "index"}``, item witness ``{"escrow_id", "serial", "step", "index"}``,
access request ``{"escrow_id", "id", "site", "cell", "index"}``, access grant / refuse
``{"escrow_id", "id", "granted", "index"}`` (refuse adds ``reason``); failures ``{"error",
"reason", …}`` (:func:`unveil.cli.edge.failure_json`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from unveil.cli.edge import Done, run


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def _connect(board: str):  # type: ignore[no-untyped-def]  # a BoardClient
    from unveil.cli import board_cmd

    return board_cmd.connect(board)  # looked up at call time: tests replace it


def _now():  # type: ignore[no-untyped-def]  # a datetime
    from unveil.cli import workflow_cmd

    return workflow_cmd.now()


def _post(workspace: Path, board: str, as_json: bool, call: Callable[..., dict[str, Any]], said: Callable[[dict[str, Any]], str]) -> int:
    """Open the workspace, connect, run one service ``call(ws, client, now)``, print."""

    def action() -> Done:
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        with _connect(board) as client:
            result = call(ws, client, _now())
        return Done(result, lambda: _say(said(result)))

    return run(as_json, action)


def item_move(workspace: Path, board: str, escrow_id: str, serial: str, to: str, site: str | None, evidence: list[str], as_json: bool) -> int:
    from unveil.workspace import custody

    return _post(workspace, board, as_json,
                 lambda ws, client, now: custody.move_item(ws, client, escrow_id, serial, to, site, evidence, now),
                 lambda r: f"{serial} moved to {to} as entry [bold]{r['index']}[/]")


def item_witness(workspace: Path, board: str, escrow_id: str, serial: str, step: str, as_json: bool) -> int:
    from unveil.workspace import custody

    return _post(workspace, board, as_json,
                 lambda ws, client, now: custody.witness_item(ws, client, escrow_id, serial, step, now),
                 lambda r: f"{serial} witnessed at {step} as entry [bold]{r['index']}[/]")


def access_request(workspace: Path, board: str, escrow_id: str, id: str, site: str | None, cell: str | None, as_json: bool) -> int:
    from unveil.workspace import custody

    target = f"site {site}" if site is not None else f"cell {cell}"
    return _post(workspace, board, as_json,
                 lambda ws, client, now: custody.request_access(ws, client, escrow_id, id, site, cell, now),
                 lambda r: f"access {id} to {target} requested as entry [bold]{r['index']}[/]")


def access_grant(workspace: Path, board: str, escrow_id: str, id: str, as_json: bool) -> int:
    from unveil.workspace import custody

    return _post(workspace, board, as_json,
                 lambda ws, client, now: custody.grant_access(ws, client, escrow_id, id, now),
                 lambda r: f"access {id} granted as entry [bold]{r['index']}[/]")


def access_refuse(workspace: Path, board: str, escrow_id: str, id: str, reason: str, as_json: bool) -> int:
    from unveil.workspace import custody

    return _post(workspace, board, as_json,
                 lambda ws, client, now: custody.refuse_access(ws, client, escrow_id, id, reason, now),
                 lambda r: f"access {id} refused as entry [bold]{r['index']}[/]")


# --- registration -------------------------------------------------------------------------------

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]
BoardOpt = Annotated[str, typer.Option("--board", metavar="URL", help="The board's base URL.", show_default=False)]
EscrowOpt = Annotated[str, typer.Option("--escrow-id", help="The escrow the agreement governs.", show_default=False)]
SerialOpt = Annotated[str, typer.Option("--serial", help="The item's serial, declared in an opened cell.", show_default=False)]
IdOpt = Annotated[str, typer.Option("--id", help="The access request's id.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add ``item`` and ``access`` to ``app``."""
    item_app = typer.Typer(help="Move declared items through the agreement's steps, and witness them (spec §12).", no_args_is_help=True)
    access_app = typer.Typer(help="Request access to a site or cell, and answer requests (spec §12).", no_args_is_help=True)

    @item_app.command("move")
    def item_move_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt, serial: SerialOpt,
        to: Annotated[str, typer.Option("--to", help="The next step of the item.", show_default=False)],
        site: Annotated[Optional[str], typer.Option("--site", help="The site it is moved to.")] = None,
        evidence: Annotated[Optional[list[str]], typer.Option("--evidence", metavar="entry:N|sha256:HEX|file:PATH|text:…", help="Evidence (repeatable, at most 64): an earlier entry, a document's SHA-256 or the document, a text.")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Log an item's move to its next step (item.moved; the escrow's host)."""
        raise typer.Exit(item_move(workspace, board, escrow_id, serial, to, site, evidence or [], json_output))

    @item_app.command("witness")
    def item_witness_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt, serial: SerialOpt,
        step: Annotated[str, typer.Option("--step", help="The item's current step, as seen.", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Log that this inspector saw the item at its current step (item.witnessed)."""
        raise typer.Exit(item_witness(workspace, board, escrow_id, serial, step, json_output))

    @access_app.command("request")
    def access_request_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt, id: IdOpt,
        site: Annotated[Optional[str], typer.Option("--site", help="A site of an opened cell.")] = None,
        cell: Annotated[Optional[str], typer.Option("--cell", help="A cell of the escrow.")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Request access to a site or a cell (access.requested; an inspector of the agreement)."""
        raise typer.Exit(access_request(workspace, board, escrow_id, id, site, cell, json_output))

    @access_app.command("grant")
    def access_grant_command(workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt, id: IdOpt, json_output: JsonFlag = False) -> None:
        """Grant an access request (access.granted; the escrow's host)."""
        raise typer.Exit(access_grant(workspace, board, escrow_id, id, json_output))

    @access_app.command("refuse")
    def access_refuse_command(
        workspace: WorkspaceOpt, board: BoardOpt, escrow_id: EscrowOpt, id: IdOpt,
        reason: Annotated[str, typer.Option("--reason", help="Why (at most 1,000 characters).", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Refuse an access request (access.refused; the escrow's host)."""
        raise typer.Exit(access_refuse(workspace, board, escrow_id, id, reason, json_output))

    app.add_typer(item_app, name="item")
    app.add_typer(access_app, name="access")
