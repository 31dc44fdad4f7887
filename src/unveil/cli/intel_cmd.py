"""``unveil intel import | seal | open`` and ``unveil check``: the inspector's intelligence
escrow (spec §9) and the truth test of a verified reveal against its suspects.

Like :mod:`unveil.cli.workflow_cmd`, each command reads its files here and calls the
workspace service (:mod:`unveil.workspace.intel`); bad input exits 2 and changes nothing.
Heavy imports stay inside the functions so the CLI starts fast; :mod:`unveil.cli.main` adds
the commands with :func:`register`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from unveil.cli.edge import Done, run
from unveil.cli.workflow_cmd import now


def intel_import(workspace: Path, file: Path, as_json: bool) -> int:
    def action() -> Done:
        from unveil.cli.files import read_bytes
        from unveil.workspace.intel import import_intel
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("inspector")
        count = import_intel(ws, read_bytes(file, "intelligence file"), str(file), now())
        result = {"suspects": count, "source": str(file)}

        def show() -> None:
            from unveil.cli.output import say

            say(f"imported {count} suspected site{'s' if count != 1 else ''} from {file} (replacing any earlier import)")

        return Done(result, show)

    return run(as_json, action)


def intel_seal(workspace: Path, escrow_id: str, shadows: str, out: Path, allow_late: bool, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace.intel import seal_intel
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        result = seal_intel(ws, escrow_id=escrow_id, shadows=shadows, out=out, now=now(), allow_late=allow_late)

        def show() -> None:
            from unveil.cli.output import say

            say(f"sealed intel escrow [bold]{escrow_id}[/] over {shadows}: {result['suspects']} suspects in "
                f"{result['non_empty']} of {result['cells']} cells, root {result['root']}")
            if result["late"]:
                say("[yellow]note:[/] reveals of the declaration had already begun (--allow-late)")
            say(f"publish {out}/intel-escrow.json (cells.txt is the declaration's); the master secret stays in {workspace}")

        return Done(result, show)

    return run(as_json, action)


def intel_open(workspace: Path, escrow_id: str, cell: str, out: Path, as_json: bool, phase: str | None = None) -> int:
    def action() -> Done:
        from unveil.workspace.intel import open_intel
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        open_intel(ws, escrow_id=escrow_id, cell=cell, out=out, now=now(), phase=phase)
        chosen = phase if phase is not None else f"challenge-{cell}"
        result = {"escrow_id": escrow_id, "cell": cell, "phase": chosen, "out": str(out)}

        def show() -> None:
            from unveil.cli.output import say

            say(f"opened intel cell {cell} of {escrow_id} as phase [bold]{chosen}[/] into {out}")

        return Done(result, show)

    return run(as_json, action)


def check(workspace: Path, bundle: Path, geojson_out: Path | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.cli.files import read_bytes
        from unveil.inspection import to_geojson
        from unveil.workspace.files import staged
        from unveil.workspace.intel import check_reveal
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        done = check_reveal(ws, read_bytes(bundle, "bundle"))
        if geojson_out is not None:
            text = json.dumps(to_geojson(done.sites, done.suspects, done.result), indent=1, ensure_ascii=False) + "\n"
            with staged(geojson_out.resolve().parent, {geojson_out.name: text.encode("utf-8")}):
                pass
        result = done.result.to_json()

        def show() -> None:
            from rich.table import Table

            from unveil.cli.output import say

            say(f"truth test of phase [bold]{done.phase}[/] of {done.escrow_id}: {done.opened} opened cells, "
                f"{len(done.sites)} declared sites, {len(done.suspects)} suspects there")
            table = Table("status", "site", "suspect", "reason", "distance (m)")
            r = done.result
            rows: list[tuple[str, str, str, str, str]] = []
            for site, suspect in r.confirmed:
                rows.append(("confirmed", site, suspect, "", f"{r.distances_m[(site, suspect)]:.0f}"))
            for site, suspect, reason in r.mismatch:
                rows.append(("[yellow]mismatch[/]", site, suspect, reason, f"{r.distances_m[(site, suspect)]:.0f}"))
            rows += [("[red]undeclared[/]", "", suspect, "", "") for suspect in r.undeclared]
            rows += [("new", site, "", "", "") for site in r.new]
            for row in rows:
                table.add_row(*row)
            from unveil.cli.output import _out

            _out.print(table)
            if geojson_out is not None:
                say(f"wrote {geojson_out} (GeoJSON for QGIS)")

        return Done(result, show)

    return run(as_json, action)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add the ``intel`` sub-app (import, seal, open) and the top-level ``check`` command."""
    intel = typer.Typer(name="intel", help="The inspector's intelligence escrow (spec §9).", no_args_is_help=True,
                        add_completion=False, rich_markup_mode=None)

    @intel.command("import")
    def import_(
        workspace: WorkspaceOpt,
        file: Annotated[Path, typer.Argument(help="Suspected sites: .csv or .geojson.", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Read suspected sites and make them the workspace's set (replacing any earlier import)."""
        raise typer.Exit(intel_import(workspace, file, json_output))

    @intel.command("seal")
    def seal(
        workspace: WorkspaceOpt,
        escrow_id: Annotated[str, typer.Option("--escrow-id", help="A new escrow id for the intel escrow.", show_default=False)],
        shadows: Annotated[str, typer.Option("--shadows", help="The declaration escrow's id (recorded by 'unveil verify --workspace').", show_default=False)],
        out: Annotated[Path, typer.Option("--out", help="Folder for intel-escrow.json, cells.txt, leaves.bin.", show_default=False)],
        allow_late: Annotated[bool, typer.Option("--allow-late", help="Seal even though reveals of the declaration have begun.")] = False,
        json_output: JsonFlag = False,
    ) -> None:
        """Seal the suspects on the declaration's grid before reveals begin (inspector)."""
        raise typer.Exit(intel_seal(workspace, escrow_id, shadows, out, allow_late, json_output))

    @intel.command("open")
    def open_(
        workspace: WorkspaceOpt,
        escrow_id: Annotated[str, typer.Option("--escrow-id", help="The intel escrow.", show_default=False)],
        cell: Annotated[str, typer.Option("--cell", help="The revealed cell whose suspicions to open.", show_default=False)],
        out: Annotated[Path, typer.Option("--out", help="The reveal bundle file to write.", show_default=False)],
        phase: Annotated[str | None, typer.Option("--phase", help="The phase's name (default challenge-CELL).")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Open one intel cell: proof that its suspicions predate the reveal."""
        raise typer.Exit(intel_open(workspace, escrow_id, cell, out, json_output, phase=phase))

    app.add_typer(intel, name="intel")

    @app.command("check")
    def check_(
        workspace: WorkspaceOpt,
        bundle: Annotated[Path, typer.Option("--bundle", help="A reveal bundle verified valid in this workspace.", show_default=False)],
        geojson: Annotated[Path | None, typer.Option("--geojson", help="Also write the sites and suspects as GeoJSON (QGIS).")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Truth test: declared sites of a verified reveal against the workspace's suspects."""
        raise typer.Exit(check(workspace, bundle, geojson, json_output))
