"""``unveil publish | sync | audit``: a party's side of the public board (spec §7).

Each command reads its options and files, calls one service and prints:

- ``publish`` (:func:`unveil.workspace.publish.publish`) signs an event with the workspace's
  statement key and logs it (a reveal file is PUT first, byte for byte); prints ``{"index",
  "kind", "checkpoint"}``.
- ``sync`` (:func:`unveil.workspace.sync.sync`) mirrors the board's log, checks it against the
  board's signed checkpoint, witnesses it (cosigns, or refuses and keeps the evidence), posts
  the cosignature, and reports the final size under the quorum; prints ``{"size", "root",
  "new_entries", "cosigned", "refused", "final_size", "finality"}`` (``finality``: the size,
  final size, pending count, K, the quorum's members, each one's cosigned size, and the
  cosigned checkpoints ``ignored``, :meth:`unveil.board.finality.Finality.to_json`).
- ``audit`` (:mod:`unveil.workspace.audit`) re-verifies a whole log from a board's API or its
  database, every entry's finality included; prints the report (``ok``, ``size``, ``root``,
  ``final_size``, ``finality``, ``problems``, …).

Exit codes (:mod:`unveil.cli.exits`): 0 done / valid; 1 the board refused, a check failed
(every problem listed: an entry not final is ``quorum-missing`` unless ``--allow-pending``),
or the witness refused; 2 an input could not be read (a file, an option, the workspace).
Failures print ``{"error", …}`` (:func:`unveil.cli.edge.failure_json`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from unveil.cli.edge import Done, run
from unveil.cli.exits import ExitCode
from unveil.cli.files import read_bytes
from unveil.errors import MalformedInputError

if TYPE_CHECKING:
    from unveil.board.parties import Parties
    from unveil.workspace.boards import BoardClient


def connect(url: str) -> BoardClient:
    """The client of the board at ``--board URL`` (tests replace this to reach a board in process)."""
    from unveil.workspace import boards

    return boards.connect(url)


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def _now_unix() -> int:
    from unveil.cli.workflow_cmd import now

    return int(now().timestamp())


def _parties(path: Path) -> Parties:
    from unveil.board.parties import read_parties

    return read_parties(read_bytes(path, "parties file"), source=str(path))


# --- publish ---------------------------------------------------------------------------------


def publish(
    workspace: Path, board: str, escrow: Path | None, reveal: Path | None, verification: Path | None,
    accept: Path | None, cells: Path | None, as_json: bool,
) -> int:
    def action() -> Done:
        from unveil.cli.workflow_cmd import now
        from unveil.workspace.publish import Input, publish_escrow
        from unveil.workspace.publish import publish as publish_event
        from unveil.workspace.workspace import open_workspace

        chosen = [(name, path) for name, path in (("escrow", escrow), ("reveal", reveal), ("verification", verification),
                                                  ("accept", accept)) if path is not None]
        if len(chosen) != 1:
            raise MalformedInputError("choose what to publish with exactly one of --escrow, --reveal, --verification, --accept",
                                      where=", ".join(f"--{name}" for name, _ in chosen) or "publish")
        if accept is not None and cells is None:
            raise MalformedInputError("--accept needs --cells", where="--cells")
        if cells is not None and escrow is None and accept is None:
            raise MalformedInputError("--cells goes with --escrow (uploaded) or --accept (checked)", where="--cells")
        what, path = chosen[0]
        if what == "reveal" and path.is_dir():
            return _publish_parts(workspace, board, path)
        names = {"escrow": "escrow", "reveal": "reveal bundle", "verification": "reveal bundle", "accept": "escrow"}
        files = [Input(str(path), read_bytes(path, names[what]))]
        cell_list = Input(str(cells), read_bytes(cells, "cell list")) if cells is not None else None
        if what == "accept" and cell_list is not None:
            files.append(cell_list)
            cell_list = None
        beside_path = path.with_name("cells.txt")
        beside = Input(str(beside_path), read_bytes(beside_path, "cell list")) if what == "escrow" and cells is None and beside_path.is_file() else None
        ws = open_workspace(workspace)
        with connect(board) as client:
            if what == "escrow":
                done = publish_escrow(ws, client, files[0], now(), cell_list, beside)
            else:
                done = publish_event(ws, client, what, tuple(files), now())

        def show() -> None:
            logged = "logged" if done.created else "already logged"
            _say(f"{done.kind} for {done.escrow_id} {logged} as entry [bold]{done.index}[/]")
            if done.cells_sha256 is not None:
                _say(f"cells.txt {done.cells_sha256[:16]}… held by the board")

        return Done(done.to_json(), show)

    return run(as_json, action)


def _publish_parts(workspace: Path, board: str, directory: Path) -> Done:
    """``publish --reveal DIRECTORY``: every part of one phase in it, part 1 first (spec §5.1)."""
    from unveil.cli.workflow_cmd import now
    from unveil.workspace.phase_check import part_files
    from unveil.workspace.publish import Input, publish_parts
    from unveil.workspace.workspace import open_workspace

    def loader(path: Path) -> Callable[[], Input]:
        return lambda: Input(str(path), read_bytes(path, "reveal bundle"))

    paths = part_files(directory)
    ws = open_workspace(workspace)
    with connect(board) as client:
        done = publish_parts(ws, client, [loader(p) for p in paths], now())

    def show() -> None:
        created = sum(d.created for d in done)
        _say(f"{len(done)} parts of {done[0].escrow_id} logged as entries [bold]{done[0].index}[/]..[bold]{done[-1].index}[/]"
             + ("" if created == len(done) else f" ({len(done) - created} already logged)"))

    return Done({"parts": [{"file": str(p), **d.to_json()} for p, d in zip(paths, done, strict=True)]}, show)


# --- sync ------------------------------------------------------------------------------------


def sync(
    workspace: Path, board: str, board_key: str, parties: Path, quorum: int | None, as_json: bool,
    *, clock: Callable[[], int] | None = None,
) -> int:
    def action() -> Done:
        from unveil.workspace.sync import sync as sync_board
        from unveil.workspace.workspace import open_workspace

        registered = _parties(parties)
        ws = open_workspace(workspace)
        with connect(board) as client:
            done = sync_board(ws, client, registered, board_key, clock or _now_unix, quorum=quorum)

        def show() -> None:
            if done.refusal is not None:
                from unveil.cli.output import error

                error(f"refused: {done.refusal}")
                if done.refusal.evidence:
                    _say(f"evidence kept in {workspace} (table witness_evidence)")
                return
            _say(f"{done.origin}: size {done.size}, root {done.to_json()['root']}, {done.new_entries} new entries mirrored")
            if done.cosigned:
                _say(f"cosigned as {ws.name}")
            elif done.remark:
                _say(done.remark)
            if done.finality is not None:
                final = done.finality
                pending = f", entries {final.final_size}..{final.size - 1} pending" if final.pending else ""
                waiting = final.short_of(final.size)
                _say(f"final size {final.final_size} (quorum {final.quorum} of {len(final.members)}){pending}"
                     + (f"; not yet cosigned by {', '.join(waiting)}" if final.pending and waiting else ""))

        return Done(done.to_json(), show, ExitCode.INVALID if done.refusal is not None else ExitCode.OK)

    return run(as_json, action)


# --- audit -----------------------------------------------------------------------------------


def audit(board: str | None, db: str | None, origin: str, parties: Path, quorum: int | None, allow_pending: bool, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace.audit import audit_board, audit_database

        if (board is None) == (db is None):
            raise MalformedInputError("give exactly one of --board URL and --db URL", where="--board, --db")
        registered = _parties(parties)
        if board is not None:
            with connect(board) as client:
                report = audit_board(client, registered, origin, quorum=quorum, allow_pending=allow_pending)
        else:
            assert db is not None
            report = audit_database(db, registered, origin, quorum=quorum, allow_pending=allow_pending)
        result = {**report.to_json(), "origin": origin, "source": board if board is not None else "database"}

        def show() -> None:
            from unveil.cli.output import predates_text

            for d in report.discrepancies:
                _say(f"discrepancy {d['id']} on {d['escrow_id']} phase {d['phase']} cell {d['cell']} (entry {d['index']}, "
                     f"{'resolved' if d['resolved'] else 'open'}): {predates_text(d['intel_predates_reveal'])}")
            final = report.finality
            finality = ""
            if final is not None:
                finality = f", final size {final.final_size}" + (f" ({final.pending} pending)" if final.pending else "")
            if report.ok:
                _say(f"[bold green]OK[/] {origin}: {report.size} entries, root {report.root.hex()}, "
                     f"{report.checkpoints_checked} checkpoint(s) checked, reveal files checked{finality}")
                return
            from rich.console import Console
            from rich.table import Table

            _say(f"[bold red]FAILED[/] {origin}: {len(report.problems)} problem(s) in {report.size} entries{finality}")
            table = Table("entry", "reason", "detail")
            for p in report.problems:
                table.add_row("-" if p.index is None else str(p.index), p.reason, p.detail)
            Console(width=None if sys.stdout.isatty() else 120).print(table)

        return Done(result, show, ExitCode.OK if report.ok else ExitCode.INVALID)

    return run(as_json, action)
