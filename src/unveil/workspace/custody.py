"""A party's item and access events under an agreement, against a board (spec §12).

- :func:`move_item` (the escrow's host) logs ``item.moved``: a serial to the next step;
- :func:`witness_item` (an inspector) logs ``item.witnessed``: a serial seen at its step;
- :func:`request_access` (an inspector) logs ``access.requested`` for a site or a cell;
- :func:`grant_access`, :func:`refuse_access` (the host) answer it;
- :func:`custody_status`: the items per step and category, the access states and their
  problems at a time, for ``unveil agreement status``;
- :func:`withheld_in_log`: the sites and cells of delayed or refused requests in a log, which
  ``unveil confidence`` counts as not inspected (:mod:`unveil.workspace.confidence`).

Each checks what it can read locally (ids, one of site and cell, the evidence) and raises
:class:`~unveil.errors.MalformedInputError` naming the option (CLI exit 2, nothing posted);
the board checks the rest, who may write what included (spec §12: a move by the wrong party
is the board's ``role-not-allowed``, an unknown serial ``custody-gap``:
:class:`~unveil.errors.BoardError`, exit 1, nothing logged). Events
are dated by ``now``: the board refuses one more than 300 s from its clock (spec §12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from unveil.core.encoding import is_id
from unveil.errors import MalformedInputError
from unveil.workspace.boards import post_event

if TYPE_CHECKING:
    from unveil.board.protocol import BoardState
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["custody_status", "grant_access", "move_item", "refuse_access", "request_access", "withheld_in_log", "witness_item"]


def _check_id(value: str, where: str) -> None:
    if not is_id(value):
        raise MalformedInputError(f"{str(value)[:80]!r} is not an id (spec §0)", where=where)


def _text(value: str, where: str) -> None:
    from unveil.board.events import MAX_TEXT

    if not value or len(value) > MAX_TEXT:
        raise MalformedInputError(f"a non-empty text of at most {MAX_TEXT} characters, found {len(value)}", where=where)


def move_item(
    ws: Workspace, client: BoardClient, escrow_id: str, serial: str, to: str, site: str | None, evidence: Sequence[str], now: datetime,
) -> dict[str, Any]:
    """Log ``item.moved`` (host): ``serial`` to step ``to`` (the one right after its current step)."""
    from unveil.board import events as ev

    _check_id(escrow_id, "--escrow-id")
    _check_id(serial, "--serial")
    _check_id(to, "--to")
    if site is not None:
        _check_id(site, "--site")
    from unveil.workspace.evidence import evidence as parse_evidence

    body = {"serial": serial, "to": to, "site": site, "evidence": parse_evidence(list(evidence))}
    index, _ = post_event(ws, client, ev.ITEM_MOVED, escrow_id, body, now)
    return {"escrow_id": escrow_id, "serial": serial, "to": to, "site": site, "index": index}


def witness_item(ws: Workspace, client: BoardClient, escrow_id: str, serial: str, step: str, now: datetime) -> dict[str, Any]:
    """Log ``item.witnessed`` (inspector): ``serial`` seen at ``step``, its current step."""
    from unveil.board import events as ev

    _check_id(escrow_id, "--escrow-id")
    _check_id(serial, "--serial")
    _check_id(step, "--step")
    index, _ = post_event(ws, client, ev.ITEM_WITNESSED, escrow_id, {"serial": serial, "step": step}, now)
    return {"escrow_id": escrow_id, "serial": serial, "step": step, "index": index}


def request_access(
    ws: Workspace, client: BoardClient, escrow_id: str, id: str, site: str | None, cell: str | None, now: datetime,
) -> dict[str, Any]:
    """Log ``access.requested`` (inspector) for exactly one of ``site`` and ``cell``."""
    from unveil.board import events as ev

    _check_id(escrow_id, "--escrow-id")
    _check_id(id, "--id")
    if (site is None) == (cell is None):
        raise MalformedInputError("give exactly one of --site and --cell", where="--site" if site is None else "--cell")
    if site is not None:
        _check_id(site, "--site")
    if cell is not None:
        _text(cell, "--cell")
    index, _ = post_event(ws, client, ev.ACCESS_REQUESTED, escrow_id, {"id": id, "site": site, "cell": cell}, now)
    return {"escrow_id": escrow_id, "id": id, "site": site, "cell": cell, "index": index}


def grant_access(ws: Workspace, client: BoardClient, escrow_id: str, id: str, now: datetime) -> dict[str, Any]:
    """Log ``access.granted`` (host) for request ``id``."""
    from unveil.board import events as ev

    _check_id(escrow_id, "--escrow-id")
    _check_id(id, "--id")
    index, _ = post_event(ws, client, ev.ACCESS_GRANTED, escrow_id, {"id": id}, now)
    return {"escrow_id": escrow_id, "id": id, "granted": True, "index": index}


def refuse_access(ws: Workspace, client: BoardClient, escrow_id: str, id: str, reason: str, now: datetime) -> dict[str, Any]:
    """Log ``access.refused`` (host) for request ``id``, with its ``reason``."""
    from unveil.board import events as ev

    _check_id(escrow_id, "--escrow-id")
    _check_id(id, "--id")
    _text(reason, "--reason")
    index, _ = post_event(ws, client, ev.ACCESS_REFUSED, escrow_id, {"id": id, "reason": reason}, now)
    return {"escrow_id": escrow_id, "id": id, "granted": False, "reason": reason, "index": index}


def withheld_in_log(entries: Iterable[bytes], escrow_id: str, at: int | None = None) -> tuple[set[str], set[str]]:
    """The sites and cells of ``escrow_id``'s access requests that are ``delayed`` or
    ``refused`` (spec §12) in a log's ``entries`` (in order, as the board logged them) at time
    ``at`` (default: the newest entry's effective time): they count as not inspected, never
    cleared. Entries that cannot be read, or that the log's own rules refuse, are skipped (an
    audit reports them). Empty without an agreement for the escrow."""
    from unveil.agreements.access import AccessBook
    from unveil.agreements.model import parse_agreement
    from unveil.board import events as ev
    from unveil.core.encoding import unix_time
    from unveil.core.jsonparse import loads
    from unveil.errors import BoardRefused

    book: AccessBook | None = None
    latest = 0
    for entry in entries:
        try:
            event = ev.parse_event(loads(entry))
        except MalformedInputError:
            continue
        latest = max(latest, unix_time(event.time) or 0)  # the entry's effective time
        if at is not None and latest > at:
            break
        if event.escrow_id != escrow_id:
            continue
        body = event.body
        try:
            if event.kind == ev.AGREEMENT_PUBLISHED and book is None:
                agreement = parse_agreement(body["agreement"], None)
                book = AccessBook(agreement.access.delayed, agreement.access.refused)
            elif book is not None and event.kind == ev.ACCESS_REQUESTED:
                book.request(body["id"], body["site"], body["cell"], "", latest)
            elif book is not None and event.kind in (ev.ACCESS_GRANTED, ev.ACCESS_REFUSED):
                book.answer(body["id"], event.kind == ev.ACCESS_GRANTED, latest, body.get("reason"))
        except (BoardRefused, MalformedInputError):
            continue
    return book.withheld(latest if at is None else at) if book is not None else (set(), set())


def custody_status(state: BoardState, escrow_id: str, at: int, bundles: Callable[[str], bytes | None] | None) -> dict[str, Any]:
    """What ``unveil agreement status`` shows of ``escrow_id``'s items and access at time ``at``
    (spec §12), from a replayed ``state`` (the reveal files read with ``bundles`` when the replay
    did not): ``{"items": {step: n}, "items_by_category": {category: {step: n}}, "access":
    [{"id", "state", "site", "cell"}], "problems": [...]}`` (``unwitnessed-transition``,
    ``access-delayed``, ``access-refused``)."""
    held = state.custody_of(escrow_id, bundles)
    book = state.access_of(escrow_id)
    return {
        "items": held.counts(at) if held is not None else {},
        "items_by_category": held.counts_by_category(at) if held is not None else {},
        "access": book.views(at) if book is not None else [],
        "problems": (held.problems(at) if held is not None else []) + (book.problems(at) if book is not None else []),
    }
