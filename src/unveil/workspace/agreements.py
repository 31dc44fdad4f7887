"""A party's side of an agreement on a board (spec §12): sign it, claim, verify, dispute and
withdraw obligations, and read the obligations' states from the board's signed log.

- :func:`sign` logs the agreement's text (``agreement.published``) when the board holds none
  for the escrow, then this party's ``agreement.signed`` of its hash;
- :func:`claim`, :func:`verdict` log ``obligation.claimed`` (with evidence, :func:`unveil.workspace.evidence.evidence`)
  and ``obligation.verified`` / ``.disputed`` / ``.withdrawn``. Who may write what is checked
  here first against the agreement file (``role-not-allowed``, nothing is sent) and by the
  board in any case;
- :func:`status` replays the board's log (checked against its signed checkpoint) under the
  protocol and evaluates every obligation at a time: the newest entry's effective time, or
  ``--at`` (which may lie after it). Times are the board's entries', never the local clock.

A statement names no author (spec §12): two parties that log the same body in the same second
write one statement, and the later one is refused ``statement-conflict``; such an event is
sent again one second later (at most :data:`unveil.workspace.boards.RETRIES` times; item and access events too).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from unveil.agreements.model import Agreement, agreement_sha256
from unveil.board import events as ev
from unveil.core.encoding import unix_time
from unveil.core.reasons import Reason
from unveil.errors import BoardError, BoardRefused, MalformedInputError, VerificationError
from unveil.workspace.boards import post_event

if TYPE_CHECKING:
    from unveil.board.parties import Parties
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["claim", "sign", "status", "verdict"]

VERDICTS = {"verify": ev.OBLIGATION_VERIFIED, "dispute": ev.OBLIGATION_DISPUTED, "withdraw": ev.OBLIGATION_WITHDRAWN}


def sign(ws: Workspace, client: BoardClient, agreement: Agreement, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Log the agreement's text unless the board holds an agreement for its escrow already, then
    this party's signature of its hash. ``published``: the index of the text this call logged
    (``None``: the board held one; the board refuses a signature of another text)."""
    if ws.name not in agreement.parties:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"{ws.name} is not a party of agreement {agreement.id!r}: only its parties sign it")
    sha = agreement_sha256(doc)
    published: int | None = None
    try:
        published = post_event(ws, client, ev.AGREEMENT_PUBLISHED, agreement.escrow, {"agreement": doc}, now)[0]
    except BoardError as exc:
        if exc.reason != Reason.AGREEMENT_DUPLICATE:
            raise
    index, created = post_event(ws, client, ev.AGREEMENT_SIGNED, agreement.escrow, {"agreement": agreement.id, "sha256": sha}, now)
    return {"agreement": agreement.id, "escrow_id": agreement.escrow, "sha256": sha, "published": published, "index": index, "created": created}


def _obligation_of(agreement: Agreement, obligation_id: str) -> Any:
    found = agreement.obligation(obligation_id)
    if found is None:
        raise MalformedInputError(f"agreement {agreement.id!r} has no obligation {obligation_id[:80]!r}", where="--obligation")
    return found


def claim(ws: Workspace, client: BoardClient, agreement: Agreement, obligation_id: str, items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Log ``obligation.claimed`` of this party's obligation with ``items`` (:func:`unveil.workspace.evidence.evidence`)."""
    obligation = _obligation_of(agreement, obligation_id)
    if ws.name != obligation.party:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"obligation {obligation.id!r} is {obligation.party}'s: only the obligor claims it, not {ws.name}")
    body = {"agreement": agreement.id, "obligation": obligation.id, "evidence": items}
    index, created = post_event(ws, client, ev.OBLIGATION_CLAIMED, agreement.escrow, body, now)
    return {"agreement": agreement.id, "obligation": obligation.id, "kind": ev.OBLIGATION_CLAIMED, "index": index, "created": created}


def verdict(ws: Workspace, client: BoardClient, agreement: Agreement, obligation_id: str, action: str, reason: str | None, now: datetime) -> dict[str, Any]:
    """Log ``obligation.verified`` (``action`` ``verify``), ``.disputed`` (``dispute``, with its
    ``reason``) or ``.withdrawn`` (``withdraw``: this party's standing dispute)."""
    obligation = _obligation_of(agreement, obligation_id)
    kind = VERDICTS[action]
    if ws.name not in agreement.parties or ws.name == obligation.party:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"{ws.name} may not write {kind}: a party of agreement {agreement.id!r} other than the obligor {obligation.party} does")
    body: dict[str, Any] = {"agreement": agreement.id, "obligation": obligation.id}
    if kind == ev.OBLIGATION_DISPUTED:
        if not reason or len(reason) > ev.MAX_TEXT:
            raise MalformedInputError(f"a dispute gives its reason (1 to {ev.MAX_TEXT} characters)", where="--reason")
        body["reason"] = reason
    index, created = post_event(ws, client, kind, agreement.escrow, body, now)
    return {"agreement": agreement.id, "obligation": obligation.id, "kind": kind, "index": index, "created": created}


def status(client: BoardClient, parties: Parties, agreement: Agreement, doc: dict[str, Any], at: str | None = None) -> dict[str, Any]:
    """The agreement's obligations as the board's signed log holds them, at ``at`` (a spec §0
    time; default the newest entry's effective time): ``{"agreement", "escrow_id", "sha256",
    "signed_by", "fully_signed", "at", "size", "obligations": [{"id", "party", "state", "due"}],
    "items", "items_by_category", "access", "problems"}`` (items and access:
    :func:`unveil.workspace.custody.custody_status`). Raises :class:`VerificationError` (``agreement-unknown``,
    ``agreement-mismatch``) when the board holds no agreement for the escrow, or another one."""
    from unveil.agreements.obligations import obligation_states, problems, rfc3339
    from unveil.board.audit import replay
    from unveil.workspace.custody import custody_status
    from unveil.workspace.transcript import signed_entries

    when = unix_time(at) if at is not None else None
    if at is not None and when is None:
        raise MalformedInputError(f"{at[:40]!r} is not a time YYYY-MM-DDTHH:MM:SSZ (spec §0)", where="--at")
    entries = signed_entries(client, parties)
    state, _, refused = replay(entries, parties)
    if refused:
        raise VerificationError(refused)
    record = state.agreement_of(agreement.escrow)
    sha = agreement_sha256(doc)
    if record is None:
        raise VerificationError.because(Reason.AGREEMENT_UNKNOWN, f"the board holds no agreement for escrow {agreement.escrow!r}")
    if record.sha256 != sha:
        raise VerificationError.because(
            Reason.AGREEMENT_MISMATCH, f"the board's agreement {record.agreement.id!r} for escrow {agreement.escrow!r} has hash {record.sha256}, this file {sha}")
    moment = when if when is not None else state.latest_time
    held = custody_status(state, agreement.escrow, moment, client.get_bundle)  # items, access (spec §12)
    states = obligation_states(record.view(state), moment)
    signed_by = sorted(name for name, t in record.signed_at.items() if t <= moment)  # as of the moment, as everything else
    return {
        "agreement": agreement.id,
        "escrow_id": agreement.escrow,
        "sha256": sha,
        "signed_by": signed_by,
        "fully_signed": set(signed_by) >= set(agreement.parties),
        "at": rfc3339(moment),
        "size": len(entries),
        "obligations": [{"id": s.id, "party": s.party, "state": s.state, "due": None if s.due is None else rfc3339(s.due)}
                        for s in states.values()],
        **held,
        "problems": problems(states) + held["problems"],
    }
