"""Obligation states at a time T (spec §12): every state, each precedence rule, due times,
verified times, disputes and withdrawals, claimed-late, and verification by the log."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.agreements import parse_agreement
from unveil.agreements.obligations import (
    CLAIMED,
    DISPUTED,
    DUE,
    OVERDUE,
    PENDING,
    VERIFIED,
    WITHHELD,
    ObligationEvent,
    ObligationLog,
    ObligationState,
    obligation_states,
    problems,
    rfc3339,
    verdicts,
)

DAY, HOUR = 86400, 3600
DOC: dict[str, Any] = {
    "id": "A-1",
    "escrow": "E-1",
    "start": "2026-01-01T00:00:00Z",
    "parties": ["Host", "Inspector", "Observer"],
    "access": {"delayed": "PT12H", "refused": "P2D"},
    "obligations": [
        {"id": "close", "party": "Host", "action": "close-site", "site": "S-1", "due": "P10D"},
        {"id": "relief", "party": "Inspector", "action": "other", "description": "sanctions relief", "due": "P5D", "after": ["close"]},
        {"id": "reveal", "party": "Host", "action": "reveal-phase", "phase": "phase-2", "due": "P20D"},
        {"id": "next", "party": "Host", "action": "other", "description": "both", "due": "PT12H", "after": ["close", "reveal"]},
        {"id": "separate", "party": "Host", "action": "move-items", "serials": ["W-1", "W-2"], "step": "separated", "due": "P30D"},
        {"id": "dismantle", "party": "Host", "action": "move-items", "category": "warhead", "count": 2, "step": "dismantled", "due": "P60D"},
    ],
}
AGREEMENT = parse_agreement(DOC)
START = AGREEMENT.start


class Items:
    """A fake custody clock."""

    def __init__(self, serials: dict[tuple[str, str], int] | None = None, counts: dict[tuple[str, int, str], int] | None = None):
        self.serials = serials or {}
        self.counts = counts or {}

    def reached(self, serial: str, step: str) -> int | None:
        return self.serials.get((serial, step))

    def reached_count(self, category: str, count: int, step: str) -> int | None:
        return self.counts.get((category, count, step))


class Story:
    """Obligation events appended in log order, each at an effective time (days after start)."""

    def __init__(self, agreement: Any = AGREEMENT) -> None:
        self.agreement = agreement
        self.events: dict[str, list[ObligationEvent]] = {}
        self.reveals: dict[str, int] = {}
        self.items: Items | None = None
        self.index = 10

    def add(self, kind: str, obligation: str, author: str, day: float, reason: str | None = None) -> Story:
        self.index += 1
        self.events.setdefault(obligation, []).append(ObligationEvent(kind, obligation, author, self.index, START + int(day * DAY), reason))
        return self

    def at(self, day: float) -> dict[str, ObligationState]:
        return obligation_states(ObligationLog(self.agreement, self.events, self.reveals, self.items), START + int(day * DAY))

    def states(self, day: float) -> dict[str, str]:
        return {k: v.state for k, v in self.at(day).items()}


def test_due_then_overdue_from_start() -> None:
    story = Story()
    assert story.at(0)["close"].due == START + 10 * DAY
    assert story.states(10)["close"] == DUE  # at the due time: not later than it
    assert story.states(10 + 1 / DAY)["close"] == OVERDUE
    assert story.states(-1)["close"] == DUE


def test_pending_until_every_after_is_verified_with_no_due() -> None:
    story = Story()
    found = story.at(1)
    assert (found["relief"].state, found["relief"].due) == (PENDING, None)
    story.add("claimed", "close", "Host", 2).add("verified", "close", "Inspector", 3)
    found = story.at(4)
    assert (found["close"].state, found["close"].verified_at) == (VERIFIED, START + 3 * DAY)
    assert (found["relief"].state, found["relief"].due) == (DUE, START + 8 * DAY)  # verified time + P5D
    assert story.states(8.5)["relief"] == OVERDUE
    assert story.states(2.5)["relief"] == PENDING  # views as of T: the verification is later


def test_due_counts_from_the_latest_verified_after() -> None:
    story = Story().add("claimed", "close", "Host", 1).add("verified", "close", "Inspector", 2)
    assert story.at(3)["next"].state == PENDING  # reveal not yet verified
    story.reveals["phase-2"] = START + 6 * DAY
    found = story.at(6)
    assert (found["reveal"].state, found["reveal"].verified_at) == (VERIFIED, START + 6 * DAY)
    assert found["next"].due == START + 6 * DAY + 12 * HOUR


def test_withheld_when_an_after_is_overdue() -> None:
    story = Story()
    assert story.states(11) == {**story.states(11), "close": OVERDUE, "relief": WITHHELD}
    assert story.at(11)["relief"].due is None
    story.add("claimed", "relief", "Inspector", 10.5)
    assert story.states(11)["relief"] == CLAIMED  # claimed wins over withheld


def test_claimed_and_claimed_late() -> None:
    story = Story().add("claimed", "close", "Host", 9)
    found = story.at(12)
    assert (found["close"].state, found["close"].claimed_at, found["close"].claimed_late) == (CLAIMED, START + 9 * DAY, False)
    assert problems(found) == []
    late = Story().add("claimed", "close", "Host", 11)
    found = late.at(12)
    assert (found["close"].state, found["close"].claimed_late) == (CLAIMED, True)  # a claim past due stays claimed
    assert problems(found) == [{"reason": "claimed-late", "detail": f"obligation close (Host) was claimed at {rfc3339(START + 11 * DAY)}, after its due time {rfc3339(START + 10 * DAY)}"}]
    assert late.states(10.5)["close"] == OVERDUE  # before the claim


def test_the_latest_claim_is_judged_for_lateness() -> None:
    story = Story().add("claimed", "close", "Host", 9).add("disputed", "close", "Inspector", 9.5, "no seal").add("claimed", "close", "Host", 11)
    assert story.at(12)["close"].claimed_late


def test_a_dispute_after_a_verification_wins() -> None:
    story = Story().add("claimed", "close", "Host", 1).add("verified", "close", "Inspector", 2).add("disputed", "close", "Observer", 3, "broken seal")
    found = story.at(4)
    assert (found["close"].state, found["close"].verified_at, found["close"].disputes) == (DISPUTED, None, (("Observer", "broken seal"),))
    assert found["relief"].state == PENDING
    assert story.states(2.5)["close"] == VERIFIED  # before the dispute


def test_the_same_partys_latest_verdict_stands() -> None:
    story = Story().add("claimed", "close", "Host", 1).add("disputed", "close", "Inspector", 2, "x").add("verified", "close", "Inspector", 3)
    assert (story.at(4)["close"].state, story.at(4)["close"].verified_at) == (VERIFIED, START + 3 * DAY)
    story.add("disputed", "close", "Inspector", 5, "y")
    assert story.states(6)["close"] == DISPUTED


def test_a_withdrawn_dispute_leaves_the_verification_with_its_time() -> None:
    story = (Story().add("claimed", "close", "Host", 1).add("verified", "close", "Inspector", 2)
             .add("disputed", "close", "Observer", 3, "x").add("withdrawn", "close", "Observer", 4))
    found = story.at(5)
    assert (found["close"].state, found["close"].verified_at, found["close"].disputes) == (VERIFIED, START + 4 * DAY, ())
    assert found["relief"].due == START + 9 * DAY  # from the withdrawal that made it verified


def test_a_withdrawal_is_not_a_verification() -> None:
    story = Story().add("claimed", "close", "Host", 1).add("verified", "close", "Inspector", 2).add("disputed", "close", "Inspector", 3, "x")
    story.add("withdrawn", "close", "Inspector", 4)
    assert story.states(5)["close"] == CLAIMED


def test_a_new_claim_answers_a_dispute() -> None:
    story = Story().add("claimed", "close", "Host", 1).add("disputed", "close", "Inspector", 2, "x").add("claimed", "close", "Host", 3)
    found = story.at(4)
    assert (found["close"].state, found["close"].disputes, found["close"].claimed_at) == (CLAIMED, (), START + 3 * DAY)
    story.add("verified", "close", "Observer", 5)
    assert story.at(6)["close"].verified_at == START + 5 * DAY


def test_verdicts_before_any_claim_count_for_nothing() -> None:
    story = Story().add("verified", "close", "Inspector", 1).add("disputed", "close", "Observer", 1, "x")
    assert story.states(2)["close"] == DUE
    assert verdicts(story.events["close"]).claim is None


def test_reveal_phase_is_verified_by_the_log_without_a_claim() -> None:
    story = Story()
    story.reveals["phase-2"] = START + 25 * DAY
    assert story.states(21)["reveal"] == OVERDUE
    found = story.at(25)
    assert (found["reveal"].state, found["reveal"].verified_at) == (VERIFIED, START + 25 * DAY)


def test_verified_by_the_log_wins_over_a_standing_dispute_and_the_earlier_time_counts() -> None:
    story = Story().add("claimed", "reveal", "Host", 1).add("disputed", "reveal", "Inspector", 2, "nothing revealed")
    assert story.states(3)["reveal"] == DISPUTED
    story.reveals["phase-2"] = START + 4 * DAY
    assert story.states(5)["reveal"] == VERIFIED
    parties_first = Story().add("claimed", "reveal", "Host", 1).add("verified", "reveal", "Inspector", 2)
    parties_first.reveals["phase-2"] = START + 4 * DAY
    assert parties_first.at(5)["reveal"].verified_at == START + 2 * DAY


def test_move_items_by_serials_and_by_count() -> None:
    story = Story()
    story.items = Items({("W-1", "separated"): START + 3 * DAY}, {("warhead", 2, "dismantled"): START + 40 * DAY})
    assert story.states(5)["separate"] == DUE  # one serial of two
    story.items.serials[("W-2", "separated")] = START + 7 * DAY
    found = story.at(8)
    assert (found["separate"].state, found["separate"].verified_at) == (VERIFIED, START + 7 * DAY)
    assert story.states(6)["separate"] == DUE
    assert story.states(39)["dismantle"] == DUE
    assert story.at(41)["dismantle"].verified_at == START + 40 * DAY
    no_items = Story()
    assert no_items.states(61)["dismantle"] == OVERDUE


def test_precedence_of_the_states() -> None:
    story = Story().add("claimed", "relief", "Inspector", 1)
    assert story.states(11)["relief"] == CLAIMED  # claimed over withheld (close is overdue)
    story.add("disputed", "relief", "Host", 11.5, "no relief")
    assert story.states(12)["relief"] == DISPUTED  # disputed over claimed
    story.add("verified", "relief", "Observer", 12.5)
    assert story.states(13)["relief"] == DISPUTED  # a standing dispute keeps it from verified
    story.add("withdrawn", "relief", "Host", 13.5)
    assert story.states(14)["relief"] == VERIFIED
    fresh = Story()
    assert fresh.states(5)["relief"] == PENDING and fresh.states(11)["relief"] == WITHHELD  # withheld over pending


def test_a_long_chain_is_evaluated_without_recursion() -> None:
    doc = copy.deepcopy(DOC)
    doc["obligations"] = [{"id": f"o{i}", "party": "Host", "action": "other", "description": "x", "due": "P1D",
                           **({"after": [f"o{i - 1}"]} if i else {})} for i in range(1000)]
    story = Story(parse_agreement(doc))
    for i in range(1000):
        story.add("claimed", f"o{i}", "Host", i).add("verified", f"o{i}", "Inspector", i + 0.5)
    found = story.at(2000)
    assert all(s.state == VERIFIED for s in found.values())
    assert found["o999"].due == START + int(998.5 * DAY) + DAY
    assert list(found) == [f"o{i}" for i in range(1000)]


def test_states_come_in_the_agreements_order() -> None:
    assert list(Story().at(0)) == [o.id for o in AGREEMENT.obligations]


# --- the view as of T is the log's prefix up to T -----------------------------------------------

_KINDS = ("claimed", "verified", "disputed", "withdrawn")
_AUTHORS = {"claimed": ("Host",), "verified": ("Inspector", "Observer"), "disputed": ("Inspector", "Observer"),
            "withdrawn": ("Inspector", "Observer")}


@st.composite
def _stories(draw: st.DrawFn) -> tuple[list[tuple[str, str, str, int]], int | None]:
    steps = draw(st.lists(st.tuples(st.sampled_from(("close", "relief", "next")), st.sampled_from(_KINDS),
                                    st.integers(0, 1), st.integers(0, 3 * DAY)), max_size=25))
    clock, events = START, []
    for obligation, kind, who, gap in steps:
        clock += gap  # effective times never decrease
        author = _AUTHORS[kind][who % len(_AUTHORS[kind])]
        events.append((obligation, kind, author if obligation != "relief" or kind == "claimed" else "Host", clock))
    reveal = draw(st.none() | st.integers(0, 40 * DAY))
    return events, reveal


@settings(max_examples=150, deadline=None)
@given(_stories(), st.integers(-DAY, 60 * DAY))
def test_the_state_at_t_is_the_state_of_the_log_up_to_t(story: tuple[list[tuple[str, str, str, int]], int | None], offset: int) -> None:
    events, reveal = story
    at = START + offset
    full, prefix = Story(), Story()
    for obligation, kind, author, t in events:
        for target in (full, prefix) if t <= at else (full,):
            target.index += 1
            target.events.setdefault(obligation, []).append(ObligationEvent(kind, obligation, author, target.index, t, "r"))
    if reveal is not None:
        full.reveals["phase-2"] = START + reveal
        if START + reveal <= at:
            prefix.reveals["phase-2"] = START + reveal
    log = ObligationLog(AGREEMENT, full.events, full.reveals, None)
    assert obligation_states(log, at) == obligation_states(ObligationLog(AGREEMENT, prefix.events, prefix.reveals, None), at)
    for s in obligation_states(log, at).values():
        if s.state in (PENDING, WITHHELD):
            assert s.due is None
        if s.state in (DUE, OVERDUE):
            assert s.due is not None and (s.state == OVERDUE) == (at > s.due)
        assert (s.state == VERIFIED) == (s.verified_at is not None)
        assert s.verified_at is None or s.verified_at <= at
