"""``unveil publish | sync | audit``: a party's side of the public board (spec §7).

- ``publish`` signs an event with the workspace's statement key and posts it (a reveal file is
  PUT first, byte for byte); prints ``{"index", "kind", "checkpoint"}``.
- ``sync`` mirrors the board's log into the workspace, checks the mirror hashes to the board's
  signed checkpoint, and witnesses it (:mod:`unveil.board.witness`): cosigns a checkpoint
  consistent with the last one it cosigned, or refuses and keeps the evidence. One workspace
  transaction; the cosignature is posted after it commits (a cosignature is never released
  before the witness has recorded it).
- ``audit`` re-verifies a whole log (from a board's API, or its database) with
  :func:`unveil.board.audit.audit`.

Exit codes (:mod:`unveil.cli.exits`): 0 done / valid; 1 the board refused, a check failed
(every problem listed), or the witness refused; 2 an input could not be read (a file, an
option, the workspace). Failures print ``{"error", …}`` (:func:`unveil.cli.edge.failure_json`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unveil.cli.edge import Done, run
from unveil.cli.exits import ExitCode
from unveil.cli.files import read_bytes, read_json
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, VerificationError

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient


def connect(url: str) -> BoardClient:
    """The client of the board at ``--board URL`` (tests replace this to reach a board in process)."""
    from unveil.store.board_client import BoardClient

    return BoardClient(url)


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def _now_unix() -> int:
    from unveil.cli.workflow_cmd import now

    return int(now().timestamp())


# --- publish ---------------------------------------------------------------------------------


def _escrow_event(path: Path) -> tuple[str, dict[str, Any], Any]:
    from unveil.core.envelope import parse_signed
    from unveil.core.escrow import parse_escrow

    doc = read_json(path, "escrow")
    try:
        signed = parse_signed(doc, "$")
        escrow = parse_escrow(signed.statement, "$.statement")
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
    return escrow.escrow_id, doc, escrow


def _reveal_body(client: BoardClient, path: Path) -> tuple[str, dict[str, Any]]:
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.reveal import parse_reveal

    data = read_bytes(path, "reveal bundle")
    try:
        signed = parse_signed(loads(data, source=str(path)), "$")
        try:
            reveal = parse_reveal(signed.statement, "$.statement")
        except MalformedInputError as first:
            try:  # an intel escrow's reveal (spec §9)
                reveal = parse_reveal(signed.statement, "$.statement", intel=True)
            except MalformedInputError:
                raise first from None
    except MalformedInputError as exc:
        raise exc.within(str(path)) from None
    sha = client.put_bundle(data)
    return reveal.escrow_id, {"phase": reveal.phase, "sha256": sha, "openings": len(reveal.openings)}


def _verification_body(ws: Any, path: Path) -> tuple[str, dict[str, Any]]:
    """``verification.recorded`` from the workspace's latest verification of the file at ``path``."""
    from unveil.core.jsonparse import loads

    sha = hashlib.sha256(read_bytes(path, "reveal bundle")).hexdigest()
    with ws.connect() as db:
        row = db.execute(
            "SELECT escrow_id, phase, status, report_json FROM verifications WHERE bundle_sha256 = ? ORDER BY id DESC LIMIT 1",
            (sha,),
        ).fetchone()
    if row is None:
        raise MalformedInputError(
            f"this workspace has not verified a reveal file with SHA-256 {sha}: run 'unveil verify … --workspace' first",
            source=str(path),
        )
    escrow_id, phase, status, report_json = row
    report = loads(report_json, source="verifications.report_json")
    valid = status == "valid"
    problems: list[dict[str, Any]] = []
    if not valid:
        for problem in report.get("problems") or []:
            index = problem.get("index")
            reason = problem.get("reason") or Reason.BUNDLE_INVALID  # as recorded: a plain string
            problems.append({"index": index if type(index) is int else None, "reason": str(reason)})
        if not problems:
            problems.append({"index": None, "reason": str(Reason.BUNDLE_INVALID)})
    return escrow_id, {"phase": phase, "sha256": sha, "valid": valid, "problems": problems}


def _acceptance_body(escrow_path: Path, cells_path: Path) -> tuple[str, dict[str, Any]]:
    from unveil.core import cells as cell_file
    from unveil.errors import Problem

    escrow_id, _, escrow = _escrow_event(escrow_path)
    data = read_bytes(cells_path, "cell list")
    cell_list = cell_file.read(data, source=str(cells_path))
    if cell_list.sha256 != escrow.grid.cells_sha256:
        raise VerificationError([Problem(
            None, Reason.CELLS_MISMATCH,
            f"{cells_path} hashes to {cell_list.sha256}; escrow {escrow_id!r} commits to cells_sha256 {escrow.grid.cells_sha256}",
        )])
    return escrow_id, {"cells_sha256": escrow.grid.cells_sha256, "root": escrow.root}


def publish(
    workspace: Path, board: str, escrow: Path | None, reveal: Path | None, verification: Path | None,
    accept: Path | None, cells: Path | None, as_json: bool,
) -> int:
    def action() -> Done:
        from unveil.board import events as ev
        from unveil.board.events import make_event
        from unveil.cli.workflow_cmd import now
        from unveil.core.encoding import format_time
        from unveil.workspace.workspace import open_workspace

        chosen = [name for name, value in (("--escrow", escrow), ("--reveal", reveal), ("--verification", verification),
                                           ("--accept", accept)) if value is not None]
        if len(chosen) != 1:
            raise MalformedInputError("choose what to publish with exactly one of --escrow, --reveal, --verification, --accept",
                                      where=", ".join(chosen) or "publish")
        if (cells is not None) != (accept is not None):
            raise MalformedInputError("--cells goes with --accept, and --accept needs it", where="--cells")
        ws = open_workspace(workspace)
        key = ws.statement_key()
        with connect(board) as client:
            if escrow is not None:
                kind = ev.ESCROW_PUBLISHED
                escrow_id, doc, _ = _escrow_event(escrow)
                body: dict[str, Any] = {"escrow": doc}
            elif reveal is not None:
                kind = ev.REVEAL_PUBLISHED
                escrow_id, body = _reveal_body(client, reveal)
            elif verification is not None:
                kind = ev.VERIFICATION_RECORDED
                escrow_id, body = _verification_body(ws, verification)
            else:
                assert accept is not None and cells is not None
                kind = ev.ESCROW_ACCEPTED
                escrow_id, body = _acceptance_body(accept, cells)
            envelope = make_event(kind, escrow_id, format_time(now()), body, [key])
            receipt = client.submit(envelope)
        result = {"index": receipt.index, "kind": kind, "checkpoint": receipt.checkpoint}

        def show() -> None:
            what = "logged" if receipt.created else "already logged"
            _say(f"{kind} for {escrow_id} {what} as entry [bold]{receipt.index}[/]")

        return Done(result, show)

    return run(as_json, action)


# --- sync ------------------------------------------------------------------------------------


def sync(workspace: Path, board: str, board_key: str, as_json: bool, *, clock: Callable[[], int] | None = None) -> int:
    def action() -> Done:
        from unveil.board.tree import AppendOnlyTree
        from unveil.board.witness import Refusal, Witness, read_checkpoint
        from unveil.board.witness import board_key as parse_board_key
        from unveil.core.merkle import leaf_hash
        from unveil.errors import BoardError
        from unveil.store.witness_db import ensure_tables, mirror_append, mirror_entries, mirror_size
        from unveil.store.workspace_db import transaction
        from unveil.workspace.witness_store import WorkspaceWitnessStore
        from unveil.workspace.workspace import open_workspace

        vkey = parse_board_key(board_key)
        origin = vkey.name
        ws = open_workspace(workspace)
        witness_key = ws.witness_key()
        refusal: Refusal | None = None
        cosign = None
        size = root = None
        new_entries = 0
        with connect(board) as client, ws.connect() as db:
            with transaction(db):
                ensure_tables(db)
                store = WorkspaceWitnessStore(db)
                witness = Witness(witness_key, store, clock or _now_unix)
                note = client.checkpoint()
                seen = read_checkpoint(note)
                if seen is not None:  # what the board claims, reported even if refused
                    size, root = seen.size, seen.root
                last = store.last(origin)
                proof: list[bytes] = []
                if seen is not None and last is not None and 1 <= last.size < seen.size:
                    proof = client.consistency_proof(last.size, seen.size)
                verdict = witness.check(note, vkey, proof)
                if isinstance(verdict, Refusal):
                    refusal = verdict
                else:
                    have = mirror_size(db, origin)
                    fetched = client.entries(have, verdict.size) if verdict.size > have else []
                    tree = AppendOnlyTree()
                    for entry in mirror_entries(db, origin):
                        tree.append(leaf_hash(entry))
                    for entry in fetched:
                        tree.append(leaf_hash(entry))
                    if tree.root(verdict.size) != verdict.root:
                        mirrored = f"the first {have} entries this workspace mirrored and the {len(fetched)} new ones" if have else f"the {len(fetched)} entries served"
                        refusal = Refusal(
                            Reason.MIRROR_ROOT_MISMATCH,
                            f"{mirrored} hash to {tree.root(verdict.size).hex()}, but the board's signed checkpoint of size "
                            f"{verdict.size} has root {verdict.root.hex()}: the board is showing something else",
                            note, origin, last.note if last else None, tuple(proof), evidence=True,
                        )
                    else:
                        mirror_append(db, origin, have, fetched)
                        new_entries = len(fetched)
                        outcome = witness.consider(note, vkey, proof)
                        if isinstance(outcome, Refusal):  # cannot happen: check() passed in this transaction
                            refusal = outcome
                        else:
                            cosign = outcome
                if refusal is not None and refusal.evidence:
                    store.add_evidence(refusal, witness.recorded())
            cosigned = False
            posted_note = None
            if cosign is not None:
                try:
                    client.add_cosignature(cosign.body, cosign.line)
                    cosigned = True
                except BoardError as exc:
                    if exc.reason != Reason.WITNESS_UNKNOWN:
                        raise
                    posted_note = f"the board does not register {ws.name}'s witness key: cosignature kept locally, not posted"
        result = {
            "size": size,
            "root": root.hex() if root is not None else None,
            "new_entries": new_entries,
            "cosigned": cosigned,
            "refused": str(refusal) if refusal is not None else None,
        }

        def show() -> None:
            if refusal is not None:
                from unveil.cli.output import error

                error(f"refused: {refusal}")
                if refusal.evidence:
                    _say(f"evidence kept in {workspace} (table witness_evidence)")
                return
            _say(f"{origin}: size {size}, root {result['root']}, {new_entries} new entries mirrored")
            if cosigned:
                _say(f"cosigned as {ws.name}")
            elif posted_note:
                _say(posted_note)

        return Done(result, show, ExitCode.INVALID if refusal is not None else ExitCode.OK)

    return run(as_json, action)


# --- audit -----------------------------------------------------------------------------------


def _reveal_shas(entries: list[bytes]) -> list[str]:
    """The ``sha256`` of every ``reveal.published`` entry that parses (others: audit reports them)."""
    from unveil.core.encoding import is_hex32
    from unveil.core.jsonparse import loads

    found: list[str] = []
    for entry in entries:
        try:
            statement = loads(entry).get("statement")
            if statement.get("kind") == "reveal.published" and is_hex32(statement["body"]["sha256"]):
                found.append(statement["body"]["sha256"])
        except (MalformedInputError, AttributeError, KeyError, TypeError):
            continue
    return list(dict.fromkeys(found))


def _from_board(url: str) -> tuple[list[bytes], list[str], dict[str, bytes]]:
    from unveil.board.witness import read_checkpoint

    with connect(url) as client:
        note = client.checkpoint()
        checkpoint = read_checkpoint(note)
        entries = client.entries(0, checkpoint.size) if checkpoint is not None else []
        bundles: dict[str, bytes] = {}
        for sha in _reveal_shas(entries):
            data = client.get_bundle(sha)
            if data is not None:
                bundles[sha] = data
    return entries, [note], bundles


def _from_db(url: str) -> tuple[list[bytes], list[str], dict[str, bytes]]:
    from sqlalchemy.exc import SQLAlchemyError

    from unveil.store.board_db import open_storage

    try:
        storage = open_storage(url, create=False)
        try:
            entries: list[bytes] = []
            for expected, (index, entry) in enumerate(storage.load_entries()):
                if index != expected:
                    raise MalformedInputError(f"the database has entry {index} where {expected} was due", where="--db")
                entries.append(bytes(entry))
            notes = [note + "".join(line if line.endswith("\n") else line + "\n" for line in storage.cosignatures(size))
                     for size, note in storage.load_checkpoints()]
            bundles: dict[str, bytes] = {}
            for sha in _reveal_shas(entries):
                data = storage.get_bundle(sha)
                if data is not None:
                    bundles[sha] = bytes(data)
        finally:
            storage.close()
    except SQLAlchemyError as exc:
        raise MalformedInputError(f"cannot read the board database: {str(exc).splitlines()[0]}", where="--db") from None
    return entries, notes, bundles


def audit(board: str | None, db: str | None, origin: str, parties: Path, as_json: bool) -> int:
    def action() -> Done:
        from unveil.board.audit import audit as run_audit
        from unveil.board.parties import read_parties

        if (board is None) == (db is None):
            raise MalformedInputError("give exactly one of --board URL and --db URL", where="--board, --db")
        registered = read_parties(read_bytes(parties, "parties file"), source=str(parties))
        entries, notes, bundles = _from_board(board) if board is not None else _from_db(db)  # type: ignore[arg-type]
        report = run_audit(entries, registered, origin, notes, bundles=bundles.get)
        result = {**report.to_json(), "origin": origin, "source": board if board is not None else "database"}

        def show() -> None:
            from unveil.cli.output import predates_text

            for d in report.discrepancies:
                _say(f"discrepancy {d['id']} on {d['escrow_id']} phase {d['phase']} cell {d['cell']} (entry {d['index']}, "
                     f"{'resolved' if d['resolved'] else 'open'}): {predates_text(d['intel_predates_reveal'])}")
            if report.ok:
                _say(f"[bold green]OK[/] {origin}: {report.size} entries, root {report.root.hex()}, "
                     f"{report.checkpoints_checked} checkpoint(s) checked, reveal files checked")
                return
            from rich.console import Console
            from rich.table import Table

            _say(f"[bold red]FAILED[/] {origin}: {len(report.problems)} problem(s) in {report.size} entries")
            table = Table("entry", "reason", "detail")
            for p in report.problems:
                table.add_row("-" if p.index is None else str(p.index), p.reason, p.detail)
            Console(width=None if sys.stdout.isatty() else 120).print(table)

        return Done(result, show, ExitCode.OK if report.ok else ExitCode.INVALID)

    return run(as_json, action)
