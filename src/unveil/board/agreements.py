"""The board's rules for agreements and obligations (spec §12), which
:class:`unveil.board.protocol.BoardState` dispatches to (its ``_CHECKS`` and ``_APPLY``):

- ``agreement.published``: the document is valid (its shape is checked with the envelope,
  :mod:`.events`; here its categories against the escrow's vocabulary, ``malformed``);
  ``escrow`` is the event's and names a published declaration escrow (``escrow-unknown``);
  every party is registered (``party-unknown``); the escrow's host and the author are parties
  (``role-not-allowed``); one agreement per escrow and per id (``agreement-duplicate``).
- ``agreement.signed``: the escrow's agreement has that id (``agreement-unknown``) and that
  hash (``agreement-mismatch``); the author is a party (``role-not-allowed``) and signs once
  (``agreement-sign-repeat``).
- Every other event under an agreement needs the escrow's agreement (``agreement-unknown``)
  signed by all its parties (``agreement-unsigned``): :func:`require_signed_agreement`, which
  the custody and access checks call too.
- ``obligation.*``: the obligation exists (``obligation-unknown``); a claim is the obligor's,
  a verification or dispute another party's (``role-not-allowed``). A claim is refused once the
  obligation is verified (``obligation-settled``) and its ``entry`` evidence names an earlier
  entry (``evidence-invalid``); a verification or dispute needs a claim
  (``obligation-unclaimed``) and an obligation the log has not verified
  (``obligation-settled``); a withdrawal, a standing dispute by its author (``dispute-unknown``).

Whether an obligation is verified is :mod:`unveil.agreements.obligations`' rule, read from the
same record a ``status`` reads (:meth:`AgreementRecord.view`). Every obligation event is kept
with its effective time (the state's ``latest_time`` once applied), and so is each phase's
``reveal.published`` (``BoardState.completed_times``: of its last part, for a phase in parts). Items (``move-items``) are verified by the
log through the escrow's :class:`~unveil.agreements.obligations.ItemClock`, which the custody
registers in ``BoardState.item_clocks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unveil.agreements.model import Agreement, agreement_sha256, check_categories, parse_agreement
from unveil.agreements.obligations import CLAIM, DISPUTE, VERIFY, WITHDRAW, ObligationEvent, ObligationLog, VerdictFold, log_verified_at
from unveil.board import events as ev
from unveil.core.reasons import Reason
from unveil.core.vocabulary import lookup
from unveil.errors import BoardRefused, MalformedInputError

if TYPE_CHECKING:
    from unveil.agreements.model import Obligation
    from unveil.board.events import Event
    from unveil.board.parties import Party
    from unveil.board.protocol import BoardState, BundleLookup, PublishedEscrow

__all__ = [
    "AgreementRecord", "apply_agreement_published", "apply_agreement_signed", "apply_obligation", "check_agreement_published",
    "check_agreement_signed", "check_obligation", "require_signed_agreement",
]

_KIND = {ev.OBLIGATION_CLAIMED: CLAIM, ev.OBLIGATION_VERIFIED: VERIFY, ev.OBLIGATION_DISPUTED: DISPUTE, ev.OBLIGATION_WITHDRAWN: WITHDRAW}


@dataclass
class AgreementRecord:
    """A published agreement as the log holds it: the agreement, its hash, its
    ``agreement.published`` entry, who signed it (and at which effective time), and every
    accepted obligation event by obligation id (log order, effective times)."""

    agreement: Agreement
    sha256: str
    index: int
    signers: set[str] = field(default_factory=set)
    signed_at: dict[str, int] = field(default_factory=dict)  # signer -> effective time of its agreement.signed
    events: dict[str, list[ObligationEvent]] = field(default_factory=dict)
    folds: dict[str, VerdictFold] = field(default_factory=dict)
    """The parties' current verdicts per obligation, kept as events are applied: a check reads
    them in constant time, however many events an obligation has."""

    @property
    def fully_signed(self) -> bool:
        """Whether every party signed (spec §12: nothing under it is accepted before)."""
        return self.signers >= set(self.agreement.parties)

    def view(self, state: BoardState) -> ObligationLog:
        """What the obligation states are computed from: these events, the escrow's reveal
        times and its items' clock, as ``state`` holds them now."""
        escrow = self.agreement.escrow
        reveals = {phase: t for (escrow_id, phase), t in state.completed_times.items() if escrow_id == escrow}  # complete phases (spec §5.1)
        return ObligationLog(self.agreement, self.events, reveals, state.item_clocks.get(escrow))


def require_signed_agreement(state: BoardState, event: Event) -> AgreementRecord:
    """The agreement governing ``event``'s escrow, signed by all its parties; else
    :class:`BoardRefused` ``agreement-unknown`` (none, or the body's ``agreement`` names another)
    or ``agreement-unsigned`` (spec §12)."""
    record = state.agreement_of(event.escrow_id)
    named = event.body.get("agreement")
    if record is None or (named is not None and named != record.agreement.id):
        what = f"agreement {str(named)[:80]!r}" if named is not None else "an agreement"
        raise BoardRefused(Reason.AGREEMENT_UNKNOWN, f"{what} does not govern escrow {event.escrow_id!r} on this board")
    if not record.fully_signed:
        missing = ", ".join(p for p in record.agreement.parties if p not in record.signers)
        raise BoardRefused(Reason.AGREEMENT_UNSIGNED, f"agreement {record.agreement.id!r} is not signed yet by {missing}")
    return record


# --- agreement.published, agreement.signed -----------------------------------------------------


def check_agreement_published(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    doc = event.body["agreement"]
    agreement = parse_agreement(doc, None, at="statement.body.agreement")  # the envelope's check passed: this reads it
    if agreement.escrow != event.escrow_id or published.escrow.purpose != "declaration":
        raise BoardRefused(Reason.ESCROW_UNKNOWN, f"an agreement governs the declaration escrow of its event, {event.escrow_id!r}; it names {agreement.escrow!r}")
    for party in agreement.parties:
        if state.parties.by_name(party) is None:
            raise BoardRefused(Reason.PARTY_UNKNOWN, f"party {party[:80]!r} is not registered on this board")
    if published.escrow.host not in agreement.parties:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"the escrow's host {published.escrow.host!r} is not a party of the agreement")
    if author.name not in agreement.parties:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"{author.name} is not a party of the agreement it publishes")
    existing = state.agreement_of(event.escrow_id)
    if existing is not None:
        raise BoardRefused(Reason.AGREEMENT_DUPLICATE, f"escrow {event.escrow_id!r} already has agreement {existing.agreement.id!r} (entry {existing.index})")
    if agreement.id in state.agreement_ids:
        raise BoardRefused(Reason.AGREEMENT_DUPLICATE, f"agreement id {agreement.id!r} already governs escrow {state.agreement_ids[agreement.id]!r}")
    try:
        check_categories(agreement, lookup(published.escrow.vocabulary), source=None, at="statement.body.agreement")
    except MalformedInputError as exc:
        raise BoardRefused(Reason.MALFORMED, str(exc)) from None


def apply_agreement_published(state: BoardState, event: Event, author: Party, index: int) -> None:
    doc = event.body["agreement"]
    agreement = parse_agreement(doc, None)
    state.agreements[event.escrow_id] = AgreementRecord(agreement, agreement_sha256(doc), index)
    state.agreement_ids[agreement.id] = event.escrow_id


def check_agreement_signed(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    record = state.agreement_of(event.escrow_id)
    if record is None or record.agreement.id != event.body["agreement"]:
        raise BoardRefused(Reason.AGREEMENT_UNKNOWN, f"agreement {event.body['agreement']!r} does not govern escrow {event.escrow_id!r} on this board")
    if event.body["sha256"] != record.sha256:
        raise BoardRefused(Reason.AGREEMENT_MISMATCH, f"agreement {record.agreement.id!r} has hash {record.sha256}, not {event.body['sha256']}")
    if author.name not in record.agreement.parties:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"{author.name} is not a party of agreement {record.agreement.id!r}")
    if author.name in record.signers:
        raise BoardRefused(Reason.AGREEMENT_SIGN_REPEAT, f"{author.name} already signed agreement {record.agreement.id!r}")


def apply_agreement_signed(state: BoardState, event: Event, author: Party, index: int) -> None:
    record = state.agreement_of(event.escrow_id)
    assert record is not None  # checked
    record.signers.add(author.name)
    record.signed_at[author.name] = state.latest_time


# --- obligation.* ------------------------------------------------------------------------------


def _obligation(record: AgreementRecord, event: Event) -> Obligation:
    found = record.agreement.obligation(event.body["obligation"])
    if found is None:
        raise BoardRefused(Reason.OBLIGATION_UNKNOWN, f"agreement {record.agreement.id!r} has no obligation {event.body['obligation']!r}")
    return found


def check_obligation(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    """``obligation.claimed``, ``.verified``, ``.disputed`` and ``.withdrawn`` (the module's rules)."""
    record = require_signed_agreement(state, event)
    obligation = _obligation(record, event)
    parties = record.agreement.parties
    kind = _KIND[event.kind]
    if kind == CLAIM and author.name != obligation.party:
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"only the obligor {obligation.party} claims obligation {obligation.id!r}")
    if kind != CLAIM and (author.name not in parties or author.name == obligation.party):
        raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"{author.name} may not write {event.kind}: a party of the agreement other than the obligor does")
    fold = record.folds.get(obligation.id)
    found = fold.result() if fold is not None else VerdictFold().result()
    by_log = log_verified_at(obligation, record.view(state))
    if kind == CLAIM:
        if by_log is not None or found.verified_since is not None:
            raise BoardRefused(Reason.OBLIGATION_SETTLED, f"obligation {obligation.id!r} is verified already")
        _check_evidence(event.body["evidence"], state.size)
        return
    if kind == WITHDRAW:
        if all(who != author.name for who, _ in found.disputes):
            raise BoardRefused(Reason.DISPUTE_UNKNOWN, f"{author.name} has no standing dispute of obligation {obligation.id!r}")
        return
    if found.claim is None:
        raise BoardRefused(Reason.OBLIGATION_UNCLAIMED, f"obligation {obligation.id!r} is not claimed")
    if by_log is not None:
        raise BoardRefused(Reason.OBLIGATION_SETTLED, f"obligation {obligation.id!r} is verified by the log itself")


def _check_evidence(items: list[dict[str, Any]], size: int) -> None:
    for i, item in enumerate(items):
        if "entry" in item and item["entry"] >= size:
            raise BoardRefused(Reason.EVIDENCE_INVALID, f"evidence[{i}] names entry {item['entry']}; the log has {size} before this event")


def apply_obligation(state: BoardState, event: Event, author: Party, index: int) -> None:
    record = state.agreement_of(event.escrow_id)
    assert record is not None  # checked
    kind = _KIND[event.kind]
    reason = event.body["reason"] if kind == DISPUTE else None
    logged = ObligationEvent(kind, event.body["obligation"], author.name, index, state.latest_time, reason)
    record.events.setdefault(logged.obligation, []).append(logged)
    record.folds.setdefault(logged.obligation, VerdictFold()).add(logged)
