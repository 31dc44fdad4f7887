"""``inspection.reported`` (spec §7): an inspecting party's outcome of inspecting an opened cell
on the ground, the check :class:`unveil.board.protocol.BoardState` dispatches to and its effect.

- ``phase`` is a revealed phase of the escrow (``phase-unknown``) and ``cell`` a cell its bundle
  opened (``cell-not-opened``): the rule of ``discrepancy.raised``, by the same function;
- ``site_id``, when given, is a site the escrow's bundles declared in ``cell`` (``site-unknown``;
  not checked by a replay that cannot read the reveal files);
- one report per escrow, cell, site and context (``inspection-duplicate``).

The state keeps each report's entry under that key (:attr:`BoardState.inspections`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unveil.board.reveals import _check_opened
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

if TYPE_CHECKING:
    from unveil.board.events import Event
    from unveil.board.parties import Party
    from unveil.board.protocol import BoardState, BundleLookup, PublishedEscrow

__all__ = ["InspectionKey", "apply_inspection_reported", "check_inspection_reported", "inspection_key"]

InspectionKey = tuple[str, str, "str | None", "str | None"]
"""(escrow id, cell, site id or None, draw context or None): what one report may name once."""


def inspection_key(event: Event) -> InspectionKey:
    body = event.body
    return (event.escrow_id, body["cell"], body["site_id"], body["context"])


def check_inspection_reported(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    key = inspection_key(event)
    if key in state.inspections:
        raise BoardRefused(Reason.INSPECTION_DUPLICATE, f"entry {state.inspections[key]} already reports on this cell, site and context")
    body = event.body
    opened = state.opened.get(event.escrow_id)
    _check_opened(opened, event.escrow_id, body["phase"], body["cell"], bundles)
    site = body["site_id"]
    if site is None or opened is None:
        return
    if bundles is not None:
        opened.load(bundles)
    if opened.unread:
        return  # replayed without the files: which sites the cell holds is unknowable here
    declared = opened.ids.sites.get(site)
    if declared is None or declared[0] != body["cell"]:
        raise BoardRefused(Reason.SITE_UNKNOWN, f"no opened bundle of escrow {event.escrow_id!r} declares site {site!r} in cell {body['cell'][:80]!r}")


def apply_inspection_reported(state: BoardState, event: Event, author: Party, index: int) -> None:
    state.inspections[inspection_key(event)] = index
