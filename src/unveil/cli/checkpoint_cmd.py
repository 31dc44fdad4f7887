"""``unveil checkpoint export | compare``: two parties compare their views of a board without
it (spec §7, checkpoint files). Service: :mod:`unveil.workspace.checkpoints`.

- ``export`` writes the workspace's latest cosigned checkpoint as a checkpoint file; prints
  ``{"origin", "size", "root", "out"}``.
- ``compare`` checks another party's checkpoint file against the workspace's view; prints
  ``{"ok", "consistent", "reason", "detail", "ours", "theirs", "cosigned_by", …}``.

Exit codes (:mod:`unveil.cli.exits`): 0 consistent (every known cosignature verifies); 1 not:
``fork`` (both notes kept as evidence), ``mirror-behind`` (undecided: sync first, or give
``--board``), ``cosignature-invalid``, ``checkpoint-signature-invalid`` (the file is not signed
by the board key this workspace synced with); 2 the file or the workspace cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from unveil.cli.edge import Done, run
from unveil.cli.exits import ExitCode


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def export(workspace: Path, out: Path, origin: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.core.encoding import b64encode
        from unveil.workspace.checkpoints import export_checkpoint
        from unveil.workspace.files import staged
        from unveil.workspace.workspace import open_workspace

        text, checkpoint = export_checkpoint(open_workspace(workspace), origin)
        with staged(out.resolve().parent, {out.name: text.encode("utf-8")}):
            pass
        result = {"origin": checkpoint.origin, "size": checkpoint.size, "root": b64encode(checkpoint.root), "out": str(out)}
        return Done(result, lambda: _say(f"checkpoint of {checkpoint.origin} at size {checkpoint.size} written to {out}"))

    return run(as_json, action)


def compare(workspace: Path, file: Path, board: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.cli.board_cmd import connect
        from unveil.cli.files import read_bytes
        from unveil.cli.workflow_cmd import now
        from unveil.workspace.checkpoints import MAX_FILE, compare_checkpoint
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        data = read_bytes(file, "checkpoint file", limit=MAX_FILE)
        if board is None:
            found = compare_checkpoint(ws, data, str(file), now())
        else:
            with connect(board) as client:
                found = compare_checkpoint(ws, data, str(file), now(), client=client)

        def show() -> None:
            head = {True: "[bold green]CONSISTENT[/]", False: "[bold red]FORK[/]", None: "[bold yellow]UNDECIDED[/]"}[found.consistent]
            _say(f"{head} {found.origin}: ours size {found.ours.size}, theirs size {found.theirs.size}: {found.detail}")
            if found.cosigned_by:
                _say(f"their checkpoint is cosigned by {', '.join(found.cosigned_by)}")
            for p in found.problems:
                _say(f"[bold red]{p.reason}[/]: {p.detail}")
            if found.evidence:
                _say(f"both checkpoints kept as evidence in {workspace} (table witness_evidence)")

        return Done(found.to_json(), show, ExitCode.OK if found.ok else ExitCode.INVALID)

    return run(as_json, action)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add the ``checkpoint`` sub-app (export, compare)."""
    checkpoint = typer.Typer(name="checkpoint", help="Compare views of a board without it: checkpoint files (spec §7).",
                             no_args_is_help=True, add_completion=False, rich_markup_mode=None)

    @checkpoint.command("export")
    def export_command(
        workspace: WorkspaceOpt,
        out: Annotated[Path, typer.Option("--out", help="The checkpoint file to write.", show_default=False)],
        origin: Annotated[Optional[str], typer.Option("--origin", help="Which board (needed when the workspace syncs with several).")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Write this workspace's latest cosigned checkpoint, as the board signed it, with the cosignatures it holds."""
        raise typer.Exit(export(workspace, out, origin, json_output))

    @checkpoint.command("compare")
    def compare_command(
        workspace: WorkspaceOpt,
        file: Annotated[Path, typer.Argument(help="Another party's checkpoint file.", show_default=False)],
        board: Annotated[Optional[str], typer.Option("--board", metavar="URL", help="Ask this board for a consistency proof when their checkpoint lies beyond this workspace's mirror.")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Check another party's checkpoint file against this workspace's view: consistent, or a fork (kept as evidence)."""
        raise typer.Exit(compare(workspace, file, board, json_output))

    app.add_typer(checkpoint, name="checkpoint")
