"""The state of every obligation of an agreement at a time T (spec §12 "Obligation states").

A pure function of what a log holds about the agreement (:class:`ObligationLog`): the
obligation events in log order, each at its **effective time** (the latest ``time`` of the
entries up to it), the effective time of each phase's ``reveal.published``, and, for
``move-items``, when items reached a step (:class:`ItemClock`, the custody's). The board
(whether an obligation is settled), an audit and ``status`` all read it from here.

In order of precedence, at T (only entries of effective time ≤ T count):

1. ``verified``: by the log (``reveal-phase``: the phase's reveal is logged; ``move-items``:
   every serial named, or ``count`` items of the ``category``, stood at ``step`` or later), or by
   the parties: after the latest claim some party other than the obligor verified and no
   dispute stands. Its **verified time** is the effective time of the entry that made it so:
   the earlier of the log's and the start of the parties' current verification.
2. ``disputed``: after the latest claim, some party's latest verification-or-dispute is a
   dispute it has not withdrawn (a withdrawal leaves that party with no standing verdict).
3. ``claimed``: claimed; a latest claim after the due time is also reported ``claimed-late``.
4. ``withheld``: an ``after`` obligation is ``overdue``.
5. ``pending``: an ``after`` obligation is not verified; its due time is then ``None``.
6. ``overdue`` when T is later than the due time, else ``due``. The due time is
   ``start + due``, or with ``after``, the latest verified time of those ``+ due``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from unveil.agreements.model import Agreement, Obligation
from unveil.core.reasons import Reason

__all__ = [
    "CLAIMED", "DISPUTED", "DUE", "OVERDUE", "PENDING", "STATES", "VERIFIED", "WITHHELD", "ItemClock", "ObligationEvent",
    "ObligationLog", "ObligationState", "VerdictFold", "Verdicts", "log_verified_at", "obligation_states", "problems", "rfc3339", "verdicts",
]

VERIFIED, DISPUTED, CLAIMED, WITHHELD, PENDING, OVERDUE, DUE = "verified", "disputed", "claimed", "withheld", "pending", "overdue", "due"
STATES = (VERIFIED, DISPUTED, CLAIMED, WITHHELD, PENDING, OVERDUE, DUE)
"""Every obligation state, in order of precedence (spec §12)."""

CLAIM, VERIFY, DISPUTE, WITHDRAW = "claimed", "verified", "disputed", "withdrawn"
"""The obligation events (``obligation.<kind>``)."""


class ItemClock(Protocol):
    """When the log's items reached a step (spec §12 custody), as effective times: ``None`` if
    not (yet). Steps are an agreement's; "at ``step`` or later" counts every later step."""

    def reached(self, serial: str, step: str) -> int | None:
        """The effective time ``serial`` first stood at ``step`` or a later step."""
        ...

    def reached_count(self, category: str, count: int, step: str) -> int | None:
        """The effective time at which ``count`` items of ``category`` first stood at ``step`` or later."""
        ...


@dataclass(frozen=True)
class ObligationEvent:
    """One logged ``obligation.*`` event: its ``kind`` (:data:`CLAIM`, …), the obligation, the
    author's name, its entry index and effective time; ``reason`` of a dispute."""

    kind: str
    obligation: str
    author: str
    index: int
    time: int
    reason: str | None = None


@dataclass
class ObligationLog:
    """What a log holds about one agreement: its obligation events by obligation id (each list
    in log order), the effective time of each revealed phase of the escrow, the items' clock."""

    agreement: Agreement
    events: Mapping[str, Sequence[ObligationEvent]] = field(default_factory=dict)
    reveal_times: Mapping[str, int] = field(default_factory=dict)
    items: ItemClock | None = None


@dataclass(frozen=True)
class ObligationState:
    """An obligation at T: ``state`` (one of :data:`STATES`), ``due`` (unix seconds, ``None``
    while an ``after`` obligation is not verified), ``verified_at``, the latest claim's time
    and whether it came after the due time (``claimed_late``), and the standing disputes as
    ``(author, reason)``."""

    id: str
    party: str
    state: str
    due: int | None
    verified_at: int | None
    claimed_at: int | None
    claimed_late: bool
    disputes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Verdicts:
    """The parties' verdicts on an obligation at T: the latest claim (``None``: never claimed),
    whether the parties verified it after that claim and since when, the standing disputes."""

    claim: ObligationEvent | None
    verified_since: int | None
    disputes: tuple[tuple[str, str], ...]


class VerdictFold:
    """The parties' verdicts on one obligation, folded one event at a time (log order), so a
    board keeps them current in constant time per event (:func:`verdicts` folds a whole list)."""

    def __init__(self) -> None:
        self.claim: ObligationEvent | None = None
        self.standing: dict[str, ObligationEvent] = {}
        self.since: int | None = None

    def add(self, event: ObligationEvent) -> None:
        """Spec §12: a claim starts afresh; after it each party's latest verification or dispute
        stands, unless it withdrew that dispute; the parties verified the obligation when some
        party's verification stands and no dispute does, since the event that made it so."""
        if event.kind == CLAIM:
            self.claim, self.standing, self.since = event, {}, None
            return
        if self.claim is None:
            return  # the board refuses verdicts before a claim; a replay of a bad log ignores them
        if event.kind in (VERIFY, DISPUTE):
            self.standing[event.author] = event
        elif event.kind == WITHDRAW and event.author in self.standing and self.standing[event.author].kind == DISPUTE:
            del self.standing[event.author]
        kinds = {e.kind for e in self.standing.values()}
        verified = VERIFY in kinds and DISPUTE not in kinds
        self.since = (self.since if self.since is not None else event.time) if verified else None

    def result(self) -> Verdicts:
        disputes = tuple((e.author, e.reason or "") for e in self.standing.values() if e.kind == DISPUTE)
        return Verdicts(self.claim, self.since, disputes)


def verdicts(events: Sequence[ObligationEvent], at: int | None = None) -> Verdicts:
    """Spec §12: the parties' verdicts on one obligation from its events (log order), counting
    those of effective time ≤ ``at`` (all without ``at``); see :meth:`VerdictFold.add`."""
    fold = VerdictFold()
    for event in events:
        if at is not None and event.time > at:
            break  # effective times never decrease along the log
        fold.add(event)
    return fold.result()


def log_verified_at(obligation: Obligation, log: ObligationLog) -> int | None:
    """When the log itself verified ``obligation`` (spec §12), or ``None``: a ``reveal-phase``
    when its phase's reveal was logged; a ``move-items`` when the last named serial (or the
    ``count``-th item of the category) reached its step. No other action is verified by the log."""
    if obligation.action == "reveal-phase" and obligation.phase is not None:
        return log.reveal_times.get(obligation.phase)
    if obligation.action != "move-items" or log.items is None or obligation.step is None:
        return None
    if obligation.serials is not None:
        times = [log.items.reached(serial, obligation.step) for serial in obligation.serials]
        return None if any(t is None for t in times) else max(t for t in times if t is not None)
    if obligation.category is not None and obligation.count is not None:
        return log.items.reached_count(obligation.category, obligation.count, obligation.step)
    return None


def _order(agreement: Agreement) -> list[Obligation]:
    """The obligations with every ``after`` obligation before those that come after it (the
    model refuses cycles); no recursion, so a chain of 1,000 is fine."""
    by_id = {o.id: o for o in agreement.obligations}
    waiting = {o.id: len(set(o.after)) for o in agreement.obligations}
    followers: dict[str, list[str]] = {o.id: [] for o in agreement.obligations}
    for o in agreement.obligations:
        for before in set(o.after):
            followers[before].append(o.id)
    ready = [o.id for o in agreement.obligations if not waiting[o.id]]
    ordered: list[Obligation] = []
    while ready:
        current = ready.pop()
        ordered.append(by_id[current])
        for follower in followers[current]:
            waiting[follower] -= 1
            if not waiting[follower]:
                ready.append(follower)
    return ordered


def obligation_states(log: ObligationLog, at: int) -> dict[str, ObligationState]:
    """Every obligation's state at ``at`` (unix seconds), in the agreement's order (the module's
    rules)."""
    agreement = log.agreement
    found: dict[str, ObligationState] = {}
    for o in _order(agreement):
        parties = verdicts(log.events.get(o.id, ()), at)
        by_log = log_verified_at(o, log)
        candidates = [t for t in (by_log, parties.verified_since) if t is not None and t <= at]
        verified_at = min(candidates) if candidates else None
        afters = [found[before] for before in o.after]
        if not afters:
            due: int | None = agreement.start + o.due
        elif all(a.verified_at is not None for a in afters):
            due = max(a.verified_at for a in afters if a.verified_at is not None) + o.due
        else:
            due = None
        claimed_at = parties.claim.time if parties.claim is not None else None
        late = claimed_at is not None and due is not None and claimed_at > due
        if verified_at is not None:
            state = VERIFIED
        elif parties.disputes:
            state = DISPUTED
        elif parties.claim is not None:
            state = CLAIMED
        elif any(a.state == OVERDUE for a in afters):
            state = WITHHELD
        elif due is None:
            state = PENDING
        else:
            state = OVERDUE if at > due else DUE
        found[o.id] = ObligationState(o.id, o.party, state, due, verified_at, claimed_at, late, parties.disputes)
    return {o.id: found[o.id] for o in agreement.obligations}


def rfc3339(unix: int) -> str:
    """A unix time as spec §0 writes times (``YYYY-MM-DDTHH:MM:SSZ``)."""
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def problems(states: Mapping[str, ObligationState]) -> list[dict[str, str]]:
    """The obligation problems a status reports (spec §12): ``claimed-late`` for each obligation
    whose latest claim came after its due time, as ``{"reason", "detail"}`` (the detail names it)."""
    found = []
    for s in states.values():
        if s.claimed_late and s.claimed_at is not None and s.due is not None:
            detail = f"obligation {s.id} ({s.party}) was claimed at {rfc3339(s.claimed_at)}, after its due time {rfc3339(s.due)}"
            found.append({"reason": str(Reason.CLAIMED_LATE), "detail": detail})
    return found
