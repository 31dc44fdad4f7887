"""``unveil init | commit | reveal | status``: the host's and inspector's workflow (issue 3).

Each command reads its files here and calls the workspace services, in the one edge
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
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, Problem


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


def load_territory(path: Path, territory_filter: str | None, data: bytes | None = None):  # type: ignore[no-untyped-def]  # an unveil.geo Territory, imported lazily
    """The territory in ``path``; ``data``: its bytes, when the caller read them to record
    them (the file is then read once, and what is recorded is what was checked)."""
    from unveil.geo.territory import read_territory

    if data is None:
        data = read_bytes(path, "territory")
    return read_territory(data, source=str(path), filter=territory_filter)


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
) -> int:
    def action() -> Done:
        from unveil.declaration import read_declaration
        from unveil.workspace import host
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("host")
        if not 0 <= resolution <= 15:
            raise MalformedInputError(f"resolution {resolution} is outside 0..15", where="--resolution")
        land = load_territory(territory, territory_filter)
        decl = read_declaration(
            read_bytes(declaration, "declaration"), source=str(declaration),
            contains=land.contains, resolution=resolution,
        )
        public, sealed = _categories(public_totals, "--public-totals"), _categories(sealed_totals, "--sealed-totals")
        cells = land.cells(resolution)
        with _progress(as_json, "committing cells", len(cells)) as advance:
            done = host.commit(
                ws, escrow_id=escrow_id, cells=cells, resolution=resolution, contents=decl.contents(resolution),
                out=out, now=now(), public_totals=decl.totals(public) if public else None,
                sealed_totals=decl.totals(sealed) if sealed else None,
                territory_geojson=read_bytes(territory, "territory"), on_progress=advance,
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
    cells_file: Path | None, out: Path, open_totals: bool, as_json: bool,
) -> int:
    def action() -> Done:
        from unveil.workspace import host
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("host")
        committed, resolution = _committed_cells(ws, escrow_id)
        indices = _select(committed, resolution, region, polygon, bbox, cells_file)
        done = host.reveal(ws, escrow_id=escrow_id, phase=phase, indices=indices, out=out, now=now(), open_totals=open_totals)
        result = {"escrow_id": escrow_id, "phase": phase, "openings": done.openings, "reopened": done.reopened, "out": str(out)}

        def show() -> None:
            from unveil.cli.output import say

            say(f"phase [bold]{phase}[/] of {escrow_id}: opened {done.openings} cells into {out}")
            if done.reopened:
                say(f"[yellow]note:[/] {len(done.reopened)} of them were opened in an earlier phase")

        return Done(result, show)

    return run(as_json, action)


def _committed_cells(ws, escrow_id: str) -> tuple[tuple[str, ...], int | None]:  # type: ignore[no-untyped-def]  # ws: Workspace
    from unveil.core import cells as cell_file
    from unveil.core.escrow import parse_escrow
    from unveil.core.jsonparse import loads

    with ws.connect() as db:
        row = db.execute("SELECT escrow_json, cells_txt FROM escrows WHERE escrow_id = ? AND own = 1", (escrow_id,)).fetchone()
    if row is None:
        raise MalformedInputError(f"no escrow {escrow_id!r} sealed in this workspace", where="--escrow-id")
    return cell_file.read(row[1]).cells, parse_escrow(loads(row[0])["statement"]).grid.resolution


def _select(cells, resolution, region, polygon, bbox, cells_file) -> list[int]:  # type: ignore[no-untyped-def]  # thin option router
    from unveil.geo import regions, territory

    chosen = [name for name, value in (("--region", region), ("--polygon", polygon), ("--bbox", bbox), ("--cells", cells_file)) if value]
    if len(chosen) != 1:
        raise MalformedInputError("choose the region with exactly one of --region, --polygon, --bbox, --cells",
                                  where=", ".join(chosen) or "region")
    if region:
        return regions.select_indices(cells, resolution, parents=[c.strip() for c in region.split(",")])
    if polygon:
        return regions.select_indices(cells, resolution, polygon=regions.read_polygon(read_bytes(polygon, "polygon"), source=str(polygon)))
    if bbox:
        return regions.select_indices(cells, resolution, bbox=territory.bbox(bbox))
    text = read_bytes(cells_file, "cell list").decode("utf-8", errors="strict")
    return regions.select_indices(cells, resolution, cell_list=[line.strip() for line in text.splitlines() if line.strip()])


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
    """A rich progress bar on stderr for long work (none with --json or off a terminal)."""

    def __init__(self, quiet: bool, label: str, total: int):
        self.quiet, self.label, self.total = quiet, label, total
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        import sys

        if self.quiet or not sys.stderr.isatty():
            return lambda n: None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
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


def coverage_problems(grid: Any, territory: Path, territory_filter: str | None, data: bytes, cells: tuple[str, ...]) -> list[Problem]:
    """Spec §1: every cell overlapping the agreed territory, computed here, must be committed
    (``coverage-missing``). ``grid`` is the escrow's; ``data`` the territory's bytes."""
    from unveil.geo.territory import missing_cells

    if grid.system != "h3" or grid.resolution is None:
        raise MalformedInputError("coverage of a territory can be checked only for an h3 escrow", where="--territory")
    missing = missing_cells(load_territory(territory, territory_filter, data), grid.resolution, cells)
    if not missing:
        return []
    return [Problem(None, Reason.COVERAGE_MISSING, f"{len(missing)} cells of the agreed territory are not committed, e.g. {', '.join(missing[:3])}")]


def accept(workspace: Path, escrow: Path, cells: Path, trust: list[str], territory: Path | None,
           territory_filter: str | None, as_json: bool) -> int:
    """Check a received escrow (signatures, spec §4 rules, cell list, coverage) and record it
    (spec §1). Exit 1 with every problem listed if it fails; nothing is recorded then."""

    def action() -> Done:
        from unveil.core import cells as cell_file
        from unveil.core.envelope import parse_signed
        from unveil.core.jsonparse import loads
        from unveil.core.keys import VerifierKey
        from unveil.core.verify import check_escrow
        from unveil.workspace.records import accept_escrow
        from unveil.workspace.workspace import open_workspace

        ws = open_workspace(workspace)
        ws.require_role("inspector", "observer")
        for vkey in trust:
            try:
                VerifierKey.parse(vkey)
            except MalformedInputError as exc:
                raise MalformedInputError(exc.message, source="--trust") from None
        escrow_json, cells_txt = read_bytes(escrow, "escrow"), read_bytes(cells, "cell list")
        cell_list = cell_file.read(cells_txt, source=str(cells))
        try:
            report = check_escrow(parse_signed(loads(escrow_json, source=str(escrow)), "$"), cell_list, trusted=trust or None)
        except MalformedInputError as exc:
            raise exc.within(str(escrow)) from None
        cell_count, parsed = len(cell_list), report.escrow
        problems = list(report.problems)
        territory_bytes = None
        if territory is not None:
            territory_bytes = read_bytes(territory, "territory")
            problems += coverage_problems(parsed.grid, territory, territory_filter, territory_bytes, cell_list.cells)
        result: dict[str, Any] = {"escrow_id": parsed.escrow_id, "cells": cell_count, "coverage_checked": territory is not None,
                                  "host_key_pinned": bool(trust), "root": parsed.root, "cells_sha256": parsed.grid.cells_sha256}
        if problems:
            failed = {"valid": False, "status": "invalid", **result, "problems": [p.to_json() for p in problems],
                      "warnings": [w.to_json() for w in report.warnings]}

            def show_failure() -> None:
                from unveil.cli.output import show_problems

                show_problems("invalid", f"escrow {parsed.escrow_id}: {cell_count} cells, not accepted", problems, report.warnings,
                              pinned=bool(trust))

            return Done(failed, show_failure, ExitCode.INVALID)
        escrow_id = accept_escrow(ws, escrow_json=escrow_json, cells_txt=cells_txt, territory_geojson=territory_bytes, now=now())

        def show() -> None:
            from unveil.cli.output import say

            say(f"accepted escrow [bold]{escrow_id}[/]: {cell_count} cells"
                + (", covering the agreed territory" if territory is not None else " (coverage not checked: give --territory)"))

        return Done(result, show)

    return run(as_json, action)
