"""The board's rules for items and access under an agreement (spec §12): the checks and effects
of ``item.moved``, ``item.witnessed``, ``access.requested``, ``access.granted`` and
``access.refused`` that :class:`unveil.board.protocol.BoardState` dispatches to (its
``_CHECKS`` and ``_APPLY``), over the pure :class:`~unveil.agreements.custody.Custody` and
:class:`~unveil.agreements.access.AccessBook` (one of each per escrow with an agreement).

Every event here needs the escrow's agreement signed by all its parties
(:func:`unveil.board.agreements.require_signed_agreement`: ``agreement-unknown``,
``agreement-unsigned``). Then:

- ``item.moved``, by the escrow's host: the serial is declared in an opened cell
  (``custody-gap``), ``to`` is a step (``step-unknown``) right after the item's current one
  (``step-skipped``, ``step-invalid``); an ``entry`` evidence names an earlier entry
  (``evidence-invalid``). A move out of an unwitnessed step (the first step aside) is
  accepted and marked ``unwitnessed-transition``: the host cannot hide it by having it refused;
- ``item.witnessed``, by an inspector among the agreement's parties: the serial is known
  (``custody-gap``) and ``step`` is its current step (``step-unknown``, ``step-mismatch``);
- ``access.requested``, by an inspector among the agreement's parties: one request per id
  (``access-duplicate``); a ``site`` is a site id of an opened cell (``access-target-unknown``);
  a ``cell`` may be any (the board has no ``cells.txt``);
- ``access.granted`` / ``access.refused``, by the escrow's host: the request exists
  (``access-unknown``), has no answer (``access-answered``), and a grant comes no later than
  the refusal deadline (``access-expired``).

Items enter custody from what the escrow's reveal files open (:class:`~unveil.board.reveals.Opened`),
each at the effective time of its phase's entry. Replayed without the reveal files (an
offline audit without them, a board opened with ``check_bundles=False`` until it reads them),
the serials of unread phases are unknown: ``custody-gap`` and ``access-target-unknown`` are
then not checked, and an item such a replay does not know enters custody at its first event
(without its category, site or cell until the files are read).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from unveil.agreements.access import AccessBook
from unveil.agreements.custody import Custody
from unveil.board import events as ev
from unveil.board.agreements import require_signed_agreement
from unveil.board.parties import INSPECTOR
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

if TYPE_CHECKING:
    from unveil.agreements.model import Agreement
    from unveil.board.events import Event
    from unveil.board.parties import Party
    from unveil.board.protocol import BoardState, BundleLookup, PublishedEscrow

__all__ = [
    "Tracked", "access_book", "apply_access_answered", "apply_access_requested", "apply_item_moved", "apply_item_witnessed",
    "access_of", "check_access_answered", "check_access_requested", "check_item_moved", "check_item_witnessed", "custody_of",
    "tracked_custody",
]


@dataclass
class Tracked:
    """One escrow's custody, and how many serials of the escrow's opened cells it holds so far
    (:attr:`unveil.board.reveals.Opened.ids` only grows, in order)."""

    custody: Custody
    synced: int = 0


def _blind(state: BoardState, escrow_id: str, bundles: BundleLookup | None) -> bool:
    """Whether the escrow's opened serials cannot all be known (unread files, none to read)."""
    opened = state.opened.get(escrow_id)
    return bundles is None and opened is not None and bool(opened.unread)


def tracked_custody(state: BoardState, escrow_id: str, agreement: Agreement, bundles: BundleLookup | None = None) -> Custody:
    """The custody of ``escrow_id``'s items under ``agreement``, every serial of its opened cells
    entered (the phases' files read first, when ``bundles`` can)."""
    tracked = state.custody.get(escrow_id)
    if tracked is None:
        tracked = state.custody[escrow_id] = Tracked(Custody(agreement.steps))
        state.item_clocks.setdefault(escrow_id, tracked.custody)  # what move-items obligations are verified by (board.agreements)
    opened = state.opened.get(escrow_id)
    if opened is None:
        return tracked.custody
    if bundles is not None and opened.unread:
        opened.load(bundles)
    serials = opened.ids.serials
    for serial, ((cell, site, category, _), phase) in islice(serials.items(), tracked.synced, None):
        opened_at = state.reveal_times.get((escrow_id, phase or ""), state.latest_time)  # the effective time of its phase's reveal
        tracked.custody.open(serial, category, site, cell, opened_at)
    tracked.synced = len(serials)
    return tracked.custody


def access_book(state: BoardState, escrow_id: str, agreement: Agreement) -> AccessBook:
    """The access requests of ``escrow_id`` under ``agreement`` (made on first use)."""
    book = state.access.get(escrow_id)
    if book is None:
        book = state.access[escrow_id] = AccessBook(agreement.access.delayed, agreement.access.refused)
    return book


def custody_of(state: BoardState, escrow_id: str, bundles: BundleLookup | None = None) -> Custody | None:
    """The custody of ``escrow_id``'s items, ``None`` while no agreement of it is published."""
    record = state.agreement_of(escrow_id)
    return None if record is None else tracked_custody(state, escrow_id, record.agreement, bundles)


def access_of(state: BoardState, escrow_id: str) -> AccessBook | None:
    """The access requests of ``escrow_id``, ``None`` while no agreement of it is published."""
    record = state.agreement_of(escrow_id)
    return None if record is None else access_book(state, escrow_id, record.agreement)


def _host_only(author: Party, published: PublishedEscrow, kind: str) -> None:
    if author.name != published.escrow.host:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"only the escrow's host {published.escrow.host!r} writes {kind}, not {author.name}")


def _inspecting_party(author: Party, agreement: Agreement, kind: str) -> None:
    if author.role != INSPECTOR or author.name not in agreement.parties:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"only an inspecting party of agreement {agreement.id!r} writes {kind}, not {author.name} ({author.role})")


def _check_evidence(state: BoardState, event: Event) -> None:
    for i, evidence in enumerate(event.body["evidence"]):
        if "entry" in evidence and evidence["entry"] >= state.size:
            raise BoardRefused(Reason.EVIDENCE_INVALID, f"evidence[{i}] names entry {evidence['entry']}: the log holds {state.size} so far")


# --- items ------------------------------------------------------------------------------------


def check_item_moved(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    agreement = require_signed_agreement(state, event).agreement
    _host_only(author, published, event.kind)
    held = tracked_custody(state, event.escrow_id, agreement, bundles)
    serial, to = event.body["serial"], event.body["to"]
    held.check_move(serial, to, assume=_blind(state, event.escrow_id, bundles))
    _check_evidence(state, event)


def apply_item_moved(state: BoardState, event: Event, author: Party, index: int) -> None:
    held = tracked_custody(state, event.escrow_id, require_signed_agreement(state, event).agreement)
    held.move(event.body["serial"], event.body["to"], state.latest_time, event.body["site"], assume=True)


def check_item_witnessed(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    agreement = require_signed_agreement(state, event).agreement
    _inspecting_party(author, agreement, event.kind)
    held = tracked_custody(state, event.escrow_id, agreement, bundles)
    held.check_witness(event.body["serial"], event.body["step"], assume=_blind(state, event.escrow_id, bundles))


def apply_item_witnessed(state: BoardState, event: Event, author: Party, index: int) -> None:
    held = tracked_custody(state, event.escrow_id, require_signed_agreement(state, event).agreement)
    held.witness(event.body["serial"], event.body["step"], state.latest_time, assume=True)


# --- access -----------------------------------------------------------------------------------


def check_access_requested(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    agreement = require_signed_agreement(state, event).agreement
    _inspecting_party(author, agreement, event.kind)
    access_book(state, event.escrow_id, agreement).check_request(event.body["id"])
    site = event.body["site"]
    if site is None:
        return
    tracked_custody(state, event.escrow_id, agreement, bundles)  # reads the files not read yet, when it can
    opened = state.opened.get(event.escrow_id)
    if site not in (opened.ids.sites if opened is not None else {}) and not _blind(state, event.escrow_id, bundles):
        raise BoardRefused(Reason.ACCESS_TARGET_UNKNOWN, f"site {site!r} is declared in no opened cell of escrow {event.escrow_id!r}")


def apply_access_requested(state: BoardState, event: Event, author: Party, index: int) -> None:
    book = access_book(state, event.escrow_id, require_signed_agreement(state, event).agreement)
    book.request(event.body["id"], event.body["site"], event.body["cell"], author.name, state.latest_time)


def check_access_answered(state: BoardState, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
    agreement = require_signed_agreement(state, event).agreement
    _host_only(author, published, event.kind)
    access_book(state, event.escrow_id, agreement).check_answer(event.body["id"], _grants(event), state.effective_time(event))


def apply_access_answered(state: BoardState, event: Event, author: Party, index: int) -> None:
    book = access_book(state, event.escrow_id, require_signed_agreement(state, event).agreement)
    book.answer(event.body["id"], _grants(event), state.latest_time, event.body.get("reason"))


def _grants(event: Event) -> bool:
    return event.kind == ev.ACCESS_GRANTED
