"""``unveil verify``: check one reveal bundle, list every problem; optionally check coverage of
the agreed territory and record the result in a workspace (the service:
:func:`unveil.workspace.inspector.verify`).

The check is :func:`unveil.core.verify.check_bundle`'s, on a private fast path
(:func:`_check_forked`): the signature and cells.txt checks run in a forked child while this
process checks the openings. A test holds its reports byte-identical to ``check_bundle``'s on
the whole tamper suite; nothing outside this module can take the path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unveil.cli import edge
from unveil.cli.edge import Done, failure_json
from unveil.cli.exits import ExitCode
from unveil.cli.files import read_bytes
from unveil.errors import MalformedInputError, UnveilError

if TYPE_CHECKING:
    from unveil.core.cells import CellList
    from unveil.core.envelope import SignedStatement
    from unveil.core.verify import BundleReport


def run(
    bundle: Path | list[Path], escrow: Path, cells: Path, leaves: Path | None, trust: list[str], as_json: bool,
    *, workspace: Path | None = None, territory: Path | None = None, territory_filter: str | None = None,
    max_cells: int | None = None,
) -> int:
    import gc

    bundles = bundle if isinstance(bundle, list) else [bundle]
    if len(bundles) != 1 or bundles[0].is_dir():
        return _run_phase(bundles, escrow, cells, leaves, trust, as_json, workspace=workspace, territory=territory,
                          territory_filter=territory_filter, max_cells=max_cells)
    bundle = bundles[0]

    def action() -> Done:
        from unveil.workspace import inspector

        ws = _open(workspace)
        # Each file is read once: what a workspace records is exactly what was checked.
        escrow_in = inspector.Input(read_bytes(escrow, "escrow"), str(escrow))
        cells_in = inspector.Input(read_bytes(cells, "cell list"), str(cells))
        bundle_in = inspector.Input(read_bytes(bundle, "bundle"), str(bundle))
        leaves_in = inspector.Input(read_bytes(leaves, "leaves file"), str(leaves)) if leaves is not None else None
        agreed = inspector.AgreedTerritory(read_bytes(territory, "territory"), str(territory), territory_filter) if territory is not None else None

        def check(escrow_signed: SignedStatement, cell_list: CellList, trusted: Collection[str] | None) -> BundleReport:
            return _check_forked(escrow_signed, bundle_in.data, bundle, cell_list, leaves_in.data if leaves_in else None, trusted)

        verified = inspector.verify(
            escrow_in, cells_in, bundle_in, leaves=leaves_in, trust=trust, workspace=ws, territory=agreed, max_cells=max_cells,
            now=_now() if ws is not None else None, check=check,
        )

        def show() -> None:
            from unveil.cli.output import show_report

            show_report(verified.report)

        return Done(verified.to_json(), show, ExitCode.OK if verified.report.valid else ExitCode.INVALID)

    # The check builds millions of acyclic objects: the cycle collector would only rescan them
    # (about a fifth of the run on a 100,000-opening bundle). Off for the command, back on after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return edge.run(as_json, action, failure=_failure)
    finally:
        if collecting:
            gc.enable()


def _run_phase(
    bundles: list[Path], escrow: Path, cells: Path, leaves: Path | None, trust: list[str], as_json: bool,
    *, workspace: Path | None, territory: Path | None, territory_filter: str | None, max_cells: int | None,
) -> int:
    """A whole phase in parts (spec §5.1): several part files, or one directory holding them
    (:func:`unveil.workspace.phase_check.verify_phase`). Each part takes the core check, not
    the forked fast path: forking again and again from a process whose freed pages the next
    part reuses makes every reuse a copy-on-write fault (measured: 1.5x slower a part)."""

    def action() -> Done:
        from unveil.workspace import inspector
        from unveil.workspace.phase_check import part_files, verify_phase

        if any(b.is_dir() for b in bundles):
            if len(bundles) != 1:
                raise MalformedInputError("give one directory of parts, or the part files themselves", where="bundle")
            paths = part_files(bundles[0])
        else:
            paths = bundles
        ws = _open(workspace)
        escrow_in = inspector.Input(read_bytes(escrow, "escrow"), str(escrow))
        cells_in = inspector.Input(read_bytes(cells, "cell list"), str(cells))
        leaves_in = inspector.Input(read_bytes(leaves, "leaves file"), str(leaves)) if leaves is not None else None
        agreed = inspector.AgreedTerritory(read_bytes(territory, "territory"), str(territory), territory_filter) if territory is not None else None

        def loader(path: Path) -> Callable[[], inspector.Input]:
            return lambda: inspector.Input(read_bytes(path, "bundle"), str(path))

        from unveil.cli.workflow_cmd import _progress

        with _progress(as_json, "verifying parts") as progress:
            verified = verify_phase(escrow_in, cells_in, [loader(p) for p in paths], leaves=leaves_in, trust=trust, workspace=ws,
                                    territory=agreed, max_cells=max_cells, now=_now() if ws is not None else None, progress=progress)

        def show() -> None:
            from unveil.cli.output import show_phase

            show_phase(verified.to_json())

        return Done(verified.to_json(), show, ExitCode.OK if verified.valid else ExitCode.INVALID)

    import gc

    collecting = gc.isenabled()
    gc.disable()  # as for one bundle (run): millions of acyclic objects a part, nothing for the cycle collector
    try:
        return edge.run(as_json, action, failure=_failure)
    finally:
        if collecting:
            gc.enable()


def _now():  # type: ignore[no-untyped-def]  # a datetime
    from unveil.cli.workflow_cmd import now

    return now()


def _check_forked(
    escrow_signed: SignedStatement, bundle_bytes: bytes, bundle: Path, cells: CellList | None, leaves: bytes | None,
    trusted: Collection[str] | None,
) -> BundleReport:
    """:func:`~unveil.core.verify.check_bundle` of the bundle in ``bundle_bytes`` (read from
    ``bundle``, which names it in errors), the same report on a faster path.

    The signatures and cells.txt are checked in a child forked before the bundle is parsed:
    each process parses the same bytes into objects of its own, so neither pays for
    copy-on-write of the other's pages (which cost as much as the parallelism saved). The
    child's waiter is built here, from these bytes, and handed to nothing else.
    """
    from unveil.concurrency import forked
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.verify import _check_bundle_with, _signature_and_cell_problems

    independent = forked(lambda: _signature_and_cell_problems(escrow_signed, parse_signed(loads(bundle_bytes), "$"), cells, trusted))
    try:
        reveal_signed = _within(lambda: parse_signed(loads(bundle_bytes, source=str(bundle)), "$"), bundle)
        report: BundleReport = _within(
            lambda: _check_bundle_with(escrow_signed, reveal_signed, cells, leaves=leaves, trusted=trusted, independent=independent),
            bundle,
        )
    except BaseException:
        with suppress(Exception):  # the parent's error is reported; the child's duplicate is not
            independent()
        raise
    return report


def _failure(error: UnveilError) -> dict[str, Any]:
    """``{"valid": false, "error": …}``: the report's ``valid`` beside the error."""
    return {"valid": False, **failure_json(error)}


def _open(workspace: Path | None):  # type: ignore[no-untyped-def]  # Workspace | None, imported lazily
    if workspace is None:
        return None
    from unveil.workspace.workspace import open_workspace

    return open_workspace(workspace)


def _within(action: Callable[[], Any], path: Path) -> Any:
    """Run ``action``; attribute a MalformedInputError without a source to ``path``."""
    try:
        return action()
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
