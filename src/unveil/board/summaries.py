"""One line per log entry, for people: what ``GET /view/log`` shows beside each entry's kind
and author (spec §11 "Views")."""

from __future__ import annotations

from unveil.board import events as ev

__all__ = ["entry_summary"]


def entry_summary(event: ev.Event) -> str:
    """One line saying what an entry is, for people (spec §11 ``/view/log``)."""
    b = event.body
    kind = event.kind
    if kind == ev.ESCROW_PUBLISHED:
        statement = b["escrow"].get("statement", {}) if isinstance(b["escrow"], dict) else {}
        grid = statement.get("grid", {}) if isinstance(statement, dict) else {}
        return f"{statement.get('purpose', '')} escrow of {grid.get('cell_count', '?')} cells"
    if kind == ev.ESCROW_ACCEPTED:
        return "accepted: cells and root checked"
    if kind == ev.REVEAL_PUBLISHED:
        return f"{b['phase']} ({b['openings']} openings)"
    if kind == ev.VERIFICATION_RECORDED:
        return f"{b['phase']}: " + ("valid" if b["valid"] else f"{len(b['problems'])} problems")
    if kind == ev.DISCREPANCY_RAISED:
        return f"{b['id']} on cell {b['cell']} ({b['phase']})"
    if kind == ev.DISCREPANCY_RESOLVED:
        return f"{b['id']} resolved"
    if kind == ev.INSPECTION_REPORTED:
        return f"cell {b['cell']}" + (f" site {b['site_id']}" if b["site_id"] else "") + f": {b['outcome']}"
    if kind == ev.SELECTION_DRAWN:
        return f"{b['context']}: {b['n']} drawn"
    for name in ("context", "obligation", "serial", "agreement", "id"):
        if name in b:
            return str(b[name])
    return ""
