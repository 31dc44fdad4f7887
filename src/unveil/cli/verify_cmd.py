"""``unveil verify``: check one reveal bundle, list every problem; optionally check coverage of
the agreed territory and record the result in a workspace."""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from unveil.cli.files import read_bytes
from unveil.errors import MalformedInputError, Problem


def run(
    bundle: Path, escrow: Path, cells: Path, leaves: Path | None, trust: list[str], as_json: bool,
    *, workspace: Path | None = None, territory: Path | None = None, territory_filter: str | None = None,
) -> int:
    import gc

    from unveil.concurrency import forked
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.keys import VerifierKey
    from unveil.core.verify import check_bundle, signature_and_cell_problems

    # A short-lived process that builds millions of acyclic objects: the cycle collector would
    # only rescan them (about a fifth of the run on a 100,000-opening bundle).
    gc.disable()
    try:
        for vkey in trust:
            try:
                VerifierKey.parse(vkey)
            except MalformedInputError as exc:
                raise MalformedInputError(exc.message, source="--trust") from None
        ws = _open(workspace)
        # Each file is read once: what a workspace records is exactly what was checked.
        escrow_bytes, cells_bytes, bundle_bytes = read_bytes(escrow, "escrow"), read_bytes(cells, "cell list"), read_bytes(bundle, "bundle")
        escrow_signed = _within(lambda: parse_signed(loads(escrow_bytes, source=str(escrow)), "$"), escrow)
        cell_list = cell_file.read(cells_bytes, source=str(cells))
        trusted = trust or None
        # The signatures and cells.txt are checked in a child forked before the bundle is
        # parsed: each process parses the same bytes into objects of its own, so neither pays
        # for copy-on-write of the other's pages (which cost as much as the parallelism saved).
        independent = forked(lambda: signature_and_cell_problems(escrow_signed, parse_signed(loads(bundle_bytes), "$"), cell_list, trusted))
        try:
            reveal_signed = _within(lambda: parse_signed(loads(bundle_bytes, source=str(bundle)), "$"), bundle)
            leaf_bytes = read_bytes(leaves, "leaves file") if leaves is not None else None
            report = _within(
                lambda: check_bundle(escrow_signed, reveal_signed, cell_list, leaves=leaf_bytes, trusted=trusted, independent=independent),
                bundle,
            )
        except BaseException:
            with suppress(Exception):  # the parent's error is reported; the child's duplicate is not
                independent()
            raise
        extra: list[Problem] = []
        territory_bytes = None
        if territory is not None:
            territory_bytes = read_bytes(territory, "territory")
            extra += _coverage(report, territory, territory_filter, territory_bytes, cell_list.cells)
        if ws is not None:
            from unveil.cli.workflow_cmd import now
            from unveil.workspace.records import conflicts, record_verification

            extra += conflicts(ws, escrow_bytes, report, bundle_bytes)
            record_verification(
                ws, report, extra, escrow_json=escrow_bytes, cells_txt=cells_bytes, bundle=bundle_bytes,
                leaves=leaf_bytes, territory_geojson=territory_bytes, now=now(),
            )
    except MalformedInputError as exc:
        if as_json:
            print(json.dumps({"valid": False, "error": str(exc)}, ensure_ascii=False))
        else:
            from unveil.cli.output import error

            error(str(exc))
        return 2
    if extra:
        report = replace(report, problems=report.problems + tuple(extra))
    if as_json:
        recorded = {"recorded": True} if ws is not None else {}
        print(json.dumps({**report.to_json(), **recorded}, ensure_ascii=False))
    else:
        from unveil.cli.output import show_report

        show_report(report)
    return 0 if report.valid else 1


def _open(workspace: Path | None):  # type: ignore[no-untyped-def]  # Workspace | None, imported lazily
    if workspace is None:
        return None
    from unveil.workspace.workspace import open_workspace

    return open_workspace(workspace)


def _coverage(report: Any, territory: Path, territory_filter: str | None, data: bytes, cells: tuple[str, ...]) -> list[Problem]:
    """Spec §1: every cell overlapping the agreed territory, computed here, must be committed."""
    from unveil.cli.workflow_cmd import load_territory
    from unveil.geo.territory import missing_cells

    grid = report.escrow.grid
    if grid.system != "h3" or grid.resolution is None:
        raise MalformedInputError("coverage of a territory can be checked only for an h3 escrow", where="--territory")
    missing = missing_cells(load_territory(territory, territory_filter, data), grid.resolution, cells)
    if not missing:
        return []
    return [Problem(None, "coverage-missing", f"{len(missing)} cells of the agreed territory are not committed, e.g. {', '.join(missing[:3])}")]


def _within(action: Callable[[], Any], path: Path) -> Any:
    """Run ``action``; attribute a MalformedInputError without a source to ``path``."""
    try:
        return action()
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
