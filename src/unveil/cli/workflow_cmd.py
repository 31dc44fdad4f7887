"""``unveil init | commit | reveal | accept | status | export``: the host's and inspector's workflow.

Each command reads its files here (each once) and calls one workspace service
(:mod:`unveil.workspace.host`, :mod:`unveil.workspace.inspector`, :mod:`unveil.workspace.records`), in the one edge
(:func:`unveil.cli.edge.run`): a MalformedInputError (bad input, wrong workspace) exits 2 and
changes nothing on disk.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from unveil.cli.edge import Done, run
from unveil.cli.exits import ExitCode
from unveil.cli.files import read_bytes
from unveil.errors import MalformedInputError


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def init(workspace: Path, role: str, name: str, passphrase_env: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace.workspace import create

        passphrase = None
        if passphrase_env:
            value = os.environ.get(passphrase_env)
            if not value:
                raise MalformedInputError(f"environment variable {passphrase_env} is not set or empty", where="--passphrase-env")
            passphrase = value.encode("utf-8")
        ws = create(workspace, role, name, passphrase=passphrase)

        def show() -> None:
            from unveil.cli.output import say

            say(f"created {role} workspace [bold]{workspace}[/] for {name}")
            say(f"statement key: {ws.vkey}")
            say(f"witness key:   {ws.witness_vkey}")

        return Done(ws.to_json(), show)

    return run(as_json, action)


def load_territory(path: Path, territory_filter: str | None):  # type: ignore[no-untyped-def]  # an unveil.geo Territory, imported lazily
    """The territory in ``path`` (read once)."""
    from unveil.geo.territory import read_territory

    return read_territory(read_bytes(path, "territory"), source=str(path), filter=territory_filter)


def _categories(text: str | None, option: str) -> list[str]:
    if not text:
        return []
    names = [c.strip() for c in text.split(",")]
    if any(not c for c in names):
        raise MalformedInputError(f"empty category in {text!r}", where=option)
    return names


def commit(
    workspace: Path, escrow_id: str, territory: Path, territory_filter: str | None, resolution: int,
    declaration: Path, out: Path, public_totals: str | None, sealed_totals: str | None, as_json: bool,
    max_cells: int | None = None,
) -> int:
    def action() -> Done:
        from unveil.workspace import host
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("host")
        if not 0 <= resolution <= 15:
            raise MalformedInputError(f"resolution {resolution} is outside 0..15", where="--resolution")
        public, sealed = _categories(public_totals, "--public-totals"), _categories(sealed_totals, "--sealed-totals")
        with _progress(as_json, "committing cells") as progress:
            done = host.commit_declaration(
                ws, escrow_id=escrow_id, territory=read_bytes(territory, "territory"), territory_source=str(territory),
                territory_filter=territory_filter, resolution=resolution, declaration=read_bytes(declaration, "declaration"),
                declaration_source=str(declaration), out=out, now=now(), public_totals=public, sealed_totals=sealed,
                max_cells=max_cells, progress=progress,
            )
        result = {"escrow_id": done.escrow_id, "cells": done.cells, "non_empty": done.non_empty, "root": done.root,
                  "files": [str(out / n) for n in ("escrow.json", "cells.txt", "leaves.bin")]}

        def show() -> None:
            from unveil.cli.output import say

            say(f"sealed escrow [bold]{done.escrow_id}[/]: {done.cells} cells ({done.non_empty} with sites), root {done.root}")
            say(f"publish {out}/escrow.json, cells.txt and leaves.bin; the master secret stays in {workspace}")

        return Done(result, show)

    return run(as_json, action)


def reveal(
    workspace: Path, escrow_id: str, phase: str, region: str | None, polygon: Path | None, bbox: str | None,
    cells_file: Path | None, out: Path, open_totals: bool, as_json: bool, max_part_bytes: int | None = None,
) -> int:
    def action() -> Done:
        from unveil.workspace import host
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        chosen = host.Region(
            parents=[c.strip() for c in region.split(",")] if region else None,
            polygon=(read_bytes(polygon, "polygon"), str(polygon)) if polygon else None,
            bbox=bbox or None,
            cell_list=(read_bytes(cells_file, "cell list"), str(cells_file)) if cells_file else None,
        )
        with _progress(as_json, "writing parts") as progress:
            done = host.reveal_region(ws, escrow_id=escrow_id, phase=phase, region=chosen, out=out, now=now(), open_totals=open_totals,
                                      max_part_bytes=max_part_bytes, progress=progress)
        result: dict[str, Any] = {"escrow_id": escrow_id, "phase": phase, "openings": done.openings, "reopened": done.reopened, "out": str(out)}
        if done.parts:
            result["parts"] = [str(p) for p in done.parts]

        def show() -> None:
            from unveil.cli.output import say

            if done.parts:
                say(f"phase [bold]{phase}[/] of {escrow_id}: opened {done.openings} cells into {len(done.parts)} parts"
                    f" ({done.parts[0].name} … {done.parts[-1].name}) in {done.parts[0].parent}")
            else:
                say(f"phase [bold]{phase}[/] of {escrow_id}: opened {done.openings} cells into {out}")
            if done.reopened:
                say(f"[yellow]note:[/] {len(done.reopened)} of them were opened in an earlier phase")

        return Done(result, show)

    return run(as_json, action)


def status(workspace: Path, escrow_id: str | None, as_json: bool, *, quorum: int | None = None) -> int:
    def action() -> Done:
        from unveil.workspace.records import status as status_of
        from unveil.workspace.workspace import open_workspace

        result = status_of(open_workspace(workspace), escrow_id, quorum)

        def show() -> None:
            from unveil.cli.output import show_status

            show_status(result)

        return Done(result, show)

    return run(as_json, action)


class _progress:
    """A rich progress bar on stderr for long work (none with --json or off a terminal): the
    context gives ``start(total)``, which returns the callback that advances the bar."""

    def __init__(self, quiet: bool, label: str):
        self.quiet, self.label = quiet, label
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], Callable[[int], None]]:
        import sys

        if self.quiet or not sys.stderr.isatty():
            return lambda total: lambda n: None
        return self._start

    def _start(self, total: int) -> Callable[[int], None]:
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def export(declaration: Path, to: str, out: Path, territory: Path | None, territory_filter: str | None, as_json: bool) -> int:
    """Check a declaration and write it in another format (GeoJSON, CSV or JSON)."""

    def action() -> Done:
        from unveil.declaration import read_declaration, to_csv, to_geojson, to_json
        from unveil.workspace.files import staged

        writers = {"geojson": lambda d: json.dumps(to_geojson(d), indent=1, ensure_ascii=False) + "\n",
                   "json": lambda d: json.dumps(to_json(d), indent=1, ensure_ascii=False) + "\n", "csv": to_csv}
        if to not in writers:
            raise MalformedInputError(f"format {to!r} is not one of {', '.join(writers)}", where="--to")
        contains = load_territory(territory, territory_filter).contains if territory is not None else None
        decl = read_declaration(read_bytes(declaration, "declaration"), source=str(declaration), contains=contains)
        try:
            text = writers[to](decl)
        except ValueError as exc:  # e.g. ext objects have no CSV form
            raise MalformedInputError(str(exc), where="--to") from None
        with staged(out.resolve().parent, {out.name: text.encode("utf-8")}):
            pass
        result = {"sites": len(decl.sites), "format": to, "out": str(out)}
        return Done(result, lambda: print(f"wrote {len(decl.sites)} sites to {out} ({to})"))

    return run(as_json, action)


def accept(workspace: Path, escrow: Path, cells: Path, trust: list[str], territory: Path | None,
           territory_filter: str | None, as_json: bool, max_cells: int | None = None) -> int:
    """Check a received escrow (signatures, spec §4 rules, cell list, coverage) and record it
    (spec §1; :func:`unveil.workspace.inspector.accept`). Exit 1 with every problem listed if it
    fails; nothing is recorded then."""

    def action() -> Done:
        from unveil.workspace import inspector
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("inspector", "observer")
        inspector.check_trust_option(trust)
        escrow_in = inspector.Input(read_bytes(escrow, "escrow"), str(escrow))
        cells_in = inspector.Input(read_bytes(cells, "cell list"), str(cells))
        agreed = inspector.AgreedTerritory(read_bytes(territory, "territory"), str(territory), territory_filter) if territory is not None else None
        done = inspector.accept(ws, escrow_in, cells_in, trust=trust, territory=agreed, max_cells=max_cells, now=now())
        escrow_id, count = done.report.escrow.escrow_id, done.cells
        if not done.valid:

            def show_failure() -> None:
                from unveil.cli.output import show_problems

                show_problems("invalid", f"escrow {escrow_id}: {count} cells, not accepted", list(done.problems), done.report.warnings,
                              pinned=done.report.host_key_pinned)

            return Done(done.to_json(), show_failure, ExitCode.INVALID)

        def show() -> None:
            from unveil.cli.output import say

            say(f"accepted escrow [bold]{escrow_id}[/]: {count} cells"
                + (", covering the agreed territory" if territory is not None else " (coverage not checked: give --territory)"))

        return Done(done.to_json(), show)

    return run(as_json, action)
