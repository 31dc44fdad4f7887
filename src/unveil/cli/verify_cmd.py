"""``unveil verify``: check one reveal bundle, list every problem."""

from __future__ import annotations

import json
from pathlib import Path

from unveil.cli.files import read_bytes, read_json
from unveil.errors import MalformedInputError


def run(bundle: Path, escrow: Path, cells: Path, leaves: Path | None, trust: list[str], as_json: bool) -> int:
    import gc

    from unveil.concurrency import forked
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.keys import VerifierKey
    from unveil.core.verify import check_bundle

    # A short-lived process that builds millions of acyclic objects: the cycle collector would
    # only rescan them (about a fifth of the run on a 100,000-opening bundle).
    gc.disable()
    try:
        for vkey in trust:
            try:
                VerifierKey.parse(vkey)
            except MalformedInputError as exc:
                raise MalformedInputError(exc.message, source="--trust") from None
        escrow_signed = _within(lambda: parse_signed(read_json(escrow, "escrow"), "$"), escrow)
        reveal_signed = _within(lambda: parse_signed(read_json(bundle, "bundle"), "$"), bundle)
        cell_list = cell_file.read(read_bytes(cells, "cell list"), source=str(cells))
        leaf_bytes = read_bytes(leaves, "leaves file") if leaves is not None else None
        report = _within(lambda: check_bundle(escrow_signed, reveal_signed, cell_list, leaves=leaf_bytes, trusted=trust or None, run=forked), bundle)
    except MalformedInputError as exc:
        if as_json:
            print(json.dumps({"valid": False, "error": str(exc)}))
        else:
            from unveil.cli.output import error

            error(str(exc))
        return 2
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        from unveil.cli.output import show_report

        show_report(report)
    return 0 if report.valid else 1


def _within(action, path: Path):  # type: ignore[no-untyped-def]  # tiny local adapter
    """Run ``action``; attribute a MalformedInputError without a source to ``path``."""
    try:
        return action()
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
