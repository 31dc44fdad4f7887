"""A party's findings against a board (spec §7, §9) and its on-site inspection results.

- :func:`raise_discrepancy`, :func:`resolve_discrepancy` log ``discrepancy.raised`` and
  ``discrepancy.resolved``; :func:`report_inspection` logs ``inspection.reported``;
- :func:`inspect_report` keeps per-site and per-suspect inspection results locally (tables
  ``inspections`` and ``suspect_inspections``, read by :mod:`unveil.workspace.confidence`;
  their queries in :mod:`unveil.store.workspace_queries`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from unveil.core.encoding import format_time, is_id
from unveil.errors import MalformedInputError
from unveil.store import workspace_queries as q
from unveil.store.workspace_db import transaction

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["inspect_report", "raise_discrepancy", "report_inspection", "resolve_discrepancy"]

RESULTS = ("consistent", "discrepancy")
SUSPECT_RESULTS = ("nothing-found", "found")


def _check_id(value: str, where: str) -> None:
    if not is_id(value):
        raise MalformedInputError(f"{str(value)[:80]!r} is not an id (spec §0)", where=where)


def _post(ws: Workspace, client: BoardClient, kind: str, escrow_id: str, body: dict[str, Any], now: datetime) -> int:
    from unveil.board.events import make_event

    return client.submit(make_event(kind, escrow_id, format_time(now), body, [ws.statement_key()])).index


def raise_discrepancy(
    ws: Workspace, client: BoardClient, escrow_id: str, id: str, phase: str, cell: str, detail: str,
    intel_bundle: bytes | None, now: datetime,
) -> dict[str, Any]:
    """Log ``discrepancy.raised``; ``intel_bundle`` (the exact bytes of a signed reveal bundle
    of the inspector's intel escrow, spec §9) is embedded as its JSON object, or ``null``."""
    from unveil.board import events as ev
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.reveal import parse_reveal

    ws.require_role("inspector")
    _check_id(id, "--id")
    _check_id(phase, "--phase")
    if not cell:
        raise MalformedInputError("the cell is empty", where="--cell")
    intel = None
    if intel_bundle is not None:
        intel = loads(intel_bundle, source="intel bundle")
        signed = parse_signed(intel, "intel bundle")
        reveal = parse_reveal(signed.statement, "intel bundle.statement", intel=True)
        if cell not in {o.cell for o in reveal.openings}:
            raise MalformedInputError(f"the intel bundle does not open cell {cell[:80]!r}", where="--intel-bundle")
    body = {"id": id, "phase": phase, "cell": cell, "detail": detail, "intel": intel}
    index = _post(ws, client, ev.DISCREPANCY_RAISED, escrow_id, body, now)
    predates = None  # spec §7: whether the intel escrow was logged before the phase's reveal
    if intel_bundle is not None:
        from unveil.board.reveals import predates_in_log

        predates = predates_in_log(client.entries(0, index), escrow_id, phase, reveal.escrow_id)
    return {"id": id, "phase": phase, "cell": cell, "intel": intel is not None, "index": index, "intel_predates_reveal": predates}


def report_inspection(
    ws: Workspace, client: BoardClient, escrow_id: str, phase: str, cell: str, outcome: str, site: str | None, detail: str,
    context: str | None, now: datetime,
) -> dict[str, Any]:
    """Log ``inspection.reported`` (spec §7; inspector): the outcome of inspecting an opened
    ``cell`` (or one ``site`` of it) of ``phase``; ``context`` names the draw that selected it."""
    from unveil.board import events as ev
    from unveil.workspace.boards import post_event

    ws.require_role("inspector")
    _check_id(escrow_id, "--escrow-id")
    _check_id(phase, "--phase")
    if not cell or len(cell) > 64:
        raise MalformedInputError("a cell id is 1 to 64 characters", where="--cell")
    if site is not None:
        _check_id(site, "--site")
    if context is not None:
        _check_id(context, "--context")
    if outcome not in ev.OUTCOMES:
        raise MalformedInputError(f"{outcome[:40]!r} is not one of {', '.join(ev.OUTCOMES)}", where="--outcome")
    if len(detail) > ev.MAX_TEXT:
        raise MalformedInputError(f"is {len(detail)} characters; at most {ev.MAX_TEXT}", where="--detail")
    body = {"phase": phase, "cell": cell, "site_id": site, "outcome": outcome, "detail": detail, "context": context}
    index, created = post_event(ws, client, ev.INSPECTION_REPORTED, escrow_id, body, now)
    return {"escrow_id": escrow_id, **body, "index": index, "created": created}


def resolve_discrepancy(ws: Workspace, client: BoardClient, escrow_id: str, id: str, resolution: str, now: datetime) -> dict[str, Any]:
    """Log ``discrepancy.resolved`` (only the inspector that raised it may)."""
    from unveil.board import events as ev

    ws.require_role("inspector")
    _check_id(id, "--id")
    index = _post(ws, client, ev.DISCREPANCY_RESOLVED, escrow_id, {"id": id, "resolution": resolution}, now)
    return {"id": id, "resolution": resolution, "index": index}


def inspect_report(ws: Workspace, escrow_id: str, phase: str, results: Any, now: datetime | None = None) -> dict[str, Any]:
    """Store per-site results ``{"site": id, "result": "consistent"|"discrepancy", "detail":
    str}`` (table ``inspections``) and per-suspect results ``{"suspect": id, "result":
    "nothing-found"|"found", "detection": number in (0, 1]}`` (table ``suspect_inspections``,
    read by :mod:`unveil.workspace.confidence`) for ``(escrow_id, phase)`` in one transaction
    (a site or suspect reported again is replaced). Local record only: nothing is posted.
    The result counts ``suspects``, ``nothing-found`` and ``found`` only when suspects were
    reported."""
    from unveil.core import shape

    _check_id(escrow_id, "--escrow-id")
    _check_id(phase, "--phase")
    if type(results) is not list:
        raise MalformedInputError(f"expected an array, found {shape.json_type(results)}", where="results")
    sites: set[str] = set()
    suspects: set[str] = set()
    rows = []
    suspect_rows = []
    for i, item in enumerate(results):
        where = f"results[{i}]"
        if type(item) is dict and "suspect" in item:
            shape.fields(item, where, ("suspect", "result", "detection"))
            suspect, result = (shape.string(item, name, where) for name in ("suspect", "result"))
            detection = shape.number(item, "detection", where)
            if not is_id(suspect):
                raise MalformedInputError(f"{suspect[:80]!r} is not an id", where=f"{where}.suspect")
            if result not in SUSPECT_RESULTS:
                raise MalformedInputError(f"{result[:40]!r} is not one of {', '.join(SUSPECT_RESULTS)}", where=f"{where}.result")
            if not 0 < detection <= 1:
                raise MalformedInputError(f"detection {detection!r} is outside (0, 1]", where=f"{where}.detection")
            if suspect in suspects:
                raise MalformedInputError(f"suspect {suspect!r} is reported twice", where=f"{where}.suspect")
            suspects.add(suspect)
            # kept as the decimal the number prints as, so the model reads it exactly
            suspect_rows.append((escrow_id, phase, suspect, result, repr(detection)))
            continue
        shape.fields(item, where, ("site", "result", "detail"))
        site, result, detail = (shape.string(item, name, where) for name in ("site", "result", "detail"))
        if not is_id(site):
            raise MalformedInputError(f"{site[:80]!r} is not an id", where=f"{where}.site")
        if result not in RESULTS:
            raise MalformedInputError(f"{result[:40]!r} is not one of {', '.join(RESULTS)}", where=f"{where}.result")
        if site in sites:
            raise MalformedInputError(f"site {site!r} is reported twice", where=f"{where}.site")
        sites.add(site)
        rows.append((escrow_id, phase, site, result, detail))
    recorded = format_time(now) if now is not None else format_time(_utcnow())
    with ws.connect() as db, transaction(db):
        q.record_inspections(db, rows, suspect_rows, recorded)
    counts = {r: sum(1 for row in rows if row[3] == r) for r in RESULTS}
    out: dict[str, Any] = {"escrow_id": escrow_id, "phase": phase, "sites": len(rows), **counts}
    if suspect_rows:
        out["suspects"] = len(suspect_rows)
        out.update({r: sum(1 for row in suspect_rows if row[3] == r) for r in SUSPECT_RESULTS})
    return out


def _utcnow() -> datetime:

    return datetime.now(UTC).replace(microsecond=0)
