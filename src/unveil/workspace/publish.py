"""A party publishes to a board (spec §7): build the event of what it publishes, sign it with
the workspace's statement key, and log it (:func:`publish`).

=================== ================================ =========================================
what                event                            body, from
=================== ================================ =========================================
``escrow``          ``escrow.published``             the signed escrow file, as it is
``reveal``          ``reveal.published``             the reveal file, uploaded byte for byte
                                                     first (``PUT /bundles``): its phase,
                                                     SHA-256 and opening count (and ``part``,
                                                     ``parts`` for a part of a phase, spec
                                                     §5.1; a whole phase in parts:
                                                     :func:`publish_parts`)
``verification``    ``verification.recorded``        this workspace's latest verification of
                                                     that reveal file (``unveil verify
                                                     --workspace``)
``accept``          ``escrow.accepted``              the escrow's ``cells_sha256`` and root,
                                                     once the cell list given hashes to it
=================== ================================ =========================================

``escrow`` also uploads the escrow's ``cells.txt`` (``PUT /cells``, spec §11), so the board's
views can draw every cell: the file given (``cells-mismatch`` unless it hashes to the escrow's
``cells_sha256``), else a ``cells.txt`` beside the escrow file that hashes to it
(:func:`publish_escrow`, :func:`escrow_cells`).

Inputs arrive as :class:`Input` (a file's name and bytes: the command line reads the files);
every error names the file. The board's refusals raise :class:`~unveil.errors.BoardError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from unveil.board import events as ev
from unveil.core.reasons import Reason
from unveil.errors import MalformedInputError, Problem, VerificationError

if TYPE_CHECKING:
    from unveil.core.escrow import Escrow
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["Input", "Published", "WHAT", "publish", "publish_parts"]


@dataclass(frozen=True)
class Input:
    """An input file: its ``source`` (the name errors give) and its bytes."""

    source: str
    data: bytes


@dataclass(frozen=True)
class Published:
    """The logged event: its ``kind``, ``escrow_id``, ``index``, the board-signed checkpoint
    that includes it, and whether this request added it (``False``: already logged)."""

    kind: str
    escrow_id: str
    index: int
    checkpoint: str
    created: bool
    cells_sha256: str | None = None
    """The ``cells.txt`` uploaded with an escrow (spec §11), if one was."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "kind": self.kind, "checkpoint": self.checkpoint}
        if self.cells_sha256 is not None:
            out["cells_sha256"] = self.cells_sha256
        return out


def escrow_cells(escrow_file: Input, cells_file: Input | None, beside: Input | None) -> Input | None:
    """The ``cells.txt`` to upload with an escrow: ``cells_file`` (given: it must hash to the
    escrow's ``cells_sha256``, else ``cells-mismatch``), else ``beside`` (the file next to the
    escrow file, when it exists) if it hashes to it, else ``None``."""
    escrow, _ = _escrow(escrow_file)
    if cells_file is not None:
        acceptance_body(escrow_file, cells_file)  # cells-mismatch, naming the file
        return cells_file
    if beside is not None and hashlib.sha256(beside.data).hexdigest() == escrow.grid.cells_sha256:
        return beside
    return None


def publish_escrow(
    ws: Workspace, client: BoardClient, escrow_file: Input, now: datetime, cells: Input | None = None, beside: Input | None = None,
) -> Published:
    """:func:`publish` the escrow, with its ``cells.txt`` (``cells`` given, or ``beside`` it:
    :func:`escrow_cells`) checked first and uploaded once the escrow is logged (spec §11: a
    board takes only the cell list of a published escrow)."""
    from dataclasses import replace

    chosen = escrow_cells(escrow_file, cells, beside)
    done = publish(ws, client, "escrow", (escrow_file,), now)
    return done if chosen is None else replace(done, cells_sha256=client.put_cells(chosen.data)[0])


def _escrow(file: Input) -> tuple[Escrow, Any]:
    from unveil.core.envelope import parse_signed
    from unveil.core.escrow import parse_escrow
    from unveil.core.jsonparse import loads

    try:
        doc = loads(file.data, source=file.source)
        signed = parse_signed(doc, "$")
        return parse_escrow(signed.statement, "$.statement"), doc
    except MalformedInputError as exc:
        raise exc.within(file.source) from None


def escrow_body(file: Input) -> tuple[str, dict[str, Any]]:
    """``escrow.published``: the signed escrow as it is."""
    escrow, doc = _escrow(file)
    return escrow.escrow_id, {"escrow": doc}


def reveal_body(client: BoardClient, file: Input) -> tuple[str, dict[str, Any]]:
    """``reveal.published``: the reveal file (a declaration's or, spec §9, an intel escrow's)
    is uploaded byte for byte, and named by its SHA-256."""
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.reveal import parse_reveal

    try:
        signed = parse_signed(loads(file.data, source=file.source), "$")
        try:
            reveal = parse_reveal(signed.statement, "$.statement")
        except MalformedInputError as first:
            try:
                reveal = parse_reveal(signed.statement, "$.statement", intel=True)
            except MalformedInputError:
                raise first from None
    except MalformedInputError as exc:
        raise exc.within(file.source) from None
    sha = client.put_bundle(file.data)
    body: dict[str, Any] = {"phase": reveal.phase, "sha256": sha, "openings": len(reveal.openings)}
    if reveal.part is not None:  # spec §5.1, §7
        body.update(part=reveal.part, parts=reveal.parts)
    return reveal.escrow_id, body


def verification_body(ws: Workspace, file: Input) -> tuple[str, dict[str, Any]]:
    """``verification.recorded`` from the workspace's latest verification of the reveal file."""
    from unveil.core.jsonparse import loads
    from unveil.store.workspace_queries import latest_verification

    sha = hashlib.sha256(file.data).hexdigest()
    with ws.connect() as db:
        row = latest_verification(db, sha)
    if row is None:
        raise MalformedInputError(
            f"this workspace has not verified a reveal file with SHA-256 {sha}: run 'unveil verify … --workspace' first",
            source=file.source,
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


def acceptance_body(escrow_file: Input, cells_file: Input) -> tuple[str, dict[str, Any]]:
    """``escrow.accepted``: the escrow's ``cells_sha256`` and root, once ``cells_file`` is the
    cell list it commits to (``cells-mismatch`` otherwise)."""
    from unveil.core import cells as cell_file

    escrow, _ = _escrow(escrow_file)
    cell_list = cell_file.read(cells_file.data, source=cells_file.source)
    if cell_list.sha256 != escrow.grid.cells_sha256:
        raise VerificationError([Problem(
            None, Reason.CELLS_MISMATCH,
            f"{cells_file.source} hashes to {cell_list.sha256}; escrow {escrow.escrow_id!r} commits to cells_sha256 {escrow.grid.cells_sha256}",
        )])
    return escrow.escrow_id, {"cells_sha256": escrow.grid.cells_sha256, "root": escrow.root}


Builder = Callable[["Workspace", "BoardClient", tuple[Input, ...]], tuple[str, dict[str, Any]]]

WHAT: dict[str, tuple[str, int, Builder]] = {
    "escrow": (ev.ESCROW_PUBLISHED, 1, lambda ws, client, files: escrow_body(*files)),
    "reveal": (ev.REVEAL_PUBLISHED, 1, lambda ws, client, files: reveal_body(client, *files)),
    "verification": (ev.VERIFICATION_RECORDED, 1, lambda ws, client, files: verification_body(ws, *files)),
    "accept": (ev.ESCROW_ACCEPTED, 2, lambda ws, client, files: acceptance_body(*files)),
}
"""What can be published: its event kind, how many input files it takes, and its builder."""


def publish(ws: Workspace, client: BoardClient, what: str, files: tuple[Input, ...], now: datetime) -> Published:
    """Build the event of ``what`` (a key of :data:`WHAT`) from ``files``, sign it with the
    workspace's statement key at ``now``, and log it on the board."""
    from unveil.board.events import make_event
    from unveil.core.encoding import format_time

    kind, count, build = WHAT[what]
    if len(files) != count:
        raise ValueError(f"publishing {what} takes {count} file(s)")
    key = ws.statement_key()
    escrow_id, body = build(ws, client, files)
    receipt = client.submit(make_event(kind, escrow_id, format_time(now), body, [key]))
    return Published(kind, escrow_id, receipt.index, receipt.checkpoint, receipt.created)


def publish_parts(ws: Workspace, client: BoardClient, parts: Sequence[Callable[[], Input]], now: datetime) -> list[Published]:
    """Publish every part of one phase (spec §5.1), in the order given (part 1 first: a board
    takes parts in order), each uploaded and logged as :func:`publish` does for one reveal file.
    ``parts`` are loaders, each called when its part is sent, so one part is held at a time.
    Stops at the first refusal (:class:`~unveil.errors.BoardError`); the parts logged before
    it stay logged, and the rest can be published one file at a time."""
    return [publish(ws, client, "reveal", (load(),), now) for load in parts]
