"""Agreements and obligations on the board (spec §12): every check, hostile events, effective
times, and a replay (audit) that refuses exactly what the board refuses."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.test_board_core import (
    BOARD,
    CONTENTS,
    DECL,
    ESCROW_ID,
    HOST,
    INSPECTOR,
    INTEL,
    MALLORY,
    NOW,
    OBSERVER,
    ORIGIN,
    PARTIES,
    Escrowed,
    publish,
    reveal_event,
)
from unveil.agreements import agreement_sha256
from unveil.agreements.obligations import CLAIMED, DISPUTED, VERIFIED, obligation_states
from unveil.board.agreements import require_signed_agreement
from unveil.board.audit import audit
from unveil.board.events import make_event, parse_event
from unveil.board.log import Log, MemoryStorage
from unveil.core.jcs import canonicalize
from unveil.core.keys import SigningKey
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused

START = "2019-01-18T15:00:00Z"
AGREEMENT: dict[str, Any] = {
    "id": "A-1",
    "escrow": ESCROW_ID,
    "start": START,
    "parties": ["Host", "Inspector", "Observer"],
    "access": {"delayed": "PT12H", "refused": "P2D"},
    "obligations": [
        {"id": "reveal-1", "party": "Host", "action": "reveal-phase", "phase": "phase-1", "due": "PT2H"},
        {"id": "close", "party": "Host", "action": "close-site", "site": "D-7", "due": "P1D", "after": ["reveal-1"]},
        {"id": "relief", "party": "Inspector", "action": "other", "description": "sanctions relief, tranche 1", "due": "P1D", "after": ["close"]},
        {"id": "move", "party": "Host", "action": "move-items", "serials": ["W-1", "W-2"], "step": "separated", "due": "P2D"},
    ],
}
SHA = agreement_sha256(AGREEMENT)


def stamp(unix: int) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Board:
    """A log over memory storage with a clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW
        self.storage = MemoryStorage()
        self.log = Log.open(self.storage, ORIGIN, BOARD, PARTIES, lambda: self.now)

    def submit(self, kind: str, body: dict[str, Any], key: SigningKey, *, escrow_id: str = ESCROW_ID, time: int | None = None) -> int:
        statement = {"type": "unveil/event/v1", "kind": kind, "escrow_id": escrow_id, "time": stamp(self.now if time is None else time), "body": body}
        return self.log.submit(sign_statement(statement, [key])).index  # signed as is: the board reads the shape

    def refused(self, kind: str, body: dict[str, Any], key: SigningKey, **kwargs: Any) -> BoardRefused:
        size = self.log.size
        with pytest.raises(BoardRefused) as info:
            self.submit(kind, body, key, **kwargs)
        assert self.log.size == size  # nothing logged
        return info.value

    def refused_doc(self, doc: dict[str, Any]) -> BoardRefused:
        size = self.log.size
        with pytest.raises(BoardRefused) as info:
            self.log.submit(doc)
        assert self.log.size == size
        return info.value

    def claim(self, obligation: str, key: SigningKey = HOST, evidence: list[dict[str, Any]] | None = None, **kwargs: Any) -> int:
        return self.submit("obligation.claimed", {"agreement": "A-1", "obligation": obligation, "evidence": evidence or []}, key, **kwargs)

    def verdict(self, kind: str, obligation: str, key: SigningKey, reason: str = "not seen") -> int:
        body: dict[str, Any] = {"agreement": "A-1", "obligation": obligation}
        if kind == "obligation.disputed":
            body["reason"] = reason
        return self.submit(kind, body, key)

    def states(self) -> dict[str, str]:
        record = self.log.state.agreement_of(ESCROW_ID)
        assert record is not None
        return {k: v.state for k, v in obligation_states(record.view(self.log.state), self.log.state.latest_time).items()}


def agreed(doc: dict[str, Any] = AGREEMENT, signers: tuple[SigningKey, ...] = (HOST, INSPECTOR, OBSERVER)) -> Board:
    board = Board()
    board.log.submit(publish())
    board.submit("agreement.published", {"agreement": doc}, HOST)
    for i, key in enumerate(signers):  # one second apart: the statement names no author, so two at once would be one statement
        board.submit("agreement.signed", {"agreement": doc["id"], "sha256": agreement_sha256(doc)}, key, time=NOW - 10 + i)
    return board


def changed(**fields: Any) -> dict[str, Any]:
    doc = copy.deepcopy(AGREEMENT)
    doc.update(fields)
    return doc


# --- agreement.published, agreement.signed ----------------------------------------------------


def test_an_agreement_signed_by_every_party_is_recorded() -> None:
    board = agreed(signers=(HOST, INSPECTOR))
    record = board.log.state.agreement_of(ESCROW_ID)
    assert record is not None and record.index == 1 and record.sha256 == SHA
    assert record.signers == {"Host", "Inspector"} and not record.fully_signed
    assert record.agreement.obligation("close") is not None
    board.submit("agreement.signed", {"agreement": "A-1", "sha256": SHA}, OBSERVER)
    assert record.fully_signed and record.signers == {"Host", "Inspector", "Observer"}
    assert board.log.state.agreement_of("other-escrow") is None


def test_agreement_published_refusals() -> None:
    board = Board()
    board.log.submit(publish())
    second = Escrowed("board-test-2", HOST, CONTENTS)
    board.log.submit(publish(second))
    intel = Escrowed("intel-1", INSPECTOR, INTEL, shadows=ESCROW_ID)
    board.log.submit(publish(intel))
    body = {"agreement": AGREEMENT}
    assert board.refused("agreement.published", body, HOST, escrow_id="nowhere").reason == "escrow-unknown"
    assert board.refused("agreement.published", body, HOST, escrow_id="board-test-2").reason == "escrow-unknown"
    on_intel = changed(escrow="intel-1")
    assert board.refused("agreement.published", {"agreement": on_intel}, INSPECTOR, escrow_id="intel-1").reason == "escrow-unknown"
    error = board.refused("agreement.published", {"agreement": changed(parties=["Host", "Mallory"], obligations=[])}, HOST)
    assert error.reason == "party-unknown" and "Mallory" in error.message
    error = board.refused("agreement.published", {"agreement": changed(parties=["Inspector", "Observer"], obligations=[])}, INSPECTOR)
    assert error.reason == "role-not-allowed" and "host" in error.message
    error = board.refused("agreement.published", {"agreement": changed(parties=["Host", "Inspector"], obligations=[])}, OBSERVER)
    assert error.reason == "role-not-allowed"
    assert board.refused("agreement.published", body, MALLORY).reason == "author-unknown"
    bad = copy.deepcopy(AGREEMENT)
    bad["obligations"][1]["after"] = ["nowhere"]
    error = board.refused("agreement.published", {"agreement": bad}, HOST)
    assert error.reason == "malformed" and "statement.body.agreement.obligations[1].after[0]" in error.message
    plutonium = changed(obligations=[{"id": "m", "party": "Host", "action": "move-items", "category": "plutonium", "count": 1, "step": "stored", "due": "P1D"}])
    error = board.refused("agreement.published", {"agreement": plutonium}, HOST)
    assert error.reason == "malformed" and "obligations[0].category" in error.message
    board.submit("agreement.published", body, HOST)
    assert board.refused("agreement.published", {"agreement": changed(id="A-2")}, HOST).reason == "agreement-duplicate"
    error = board.refused("agreement.published", {"agreement": changed(escrow="board-test-2")}, HOST, escrow_id="board-test-2")
    assert error.reason == "agreement-duplicate" and "A-1" in error.message
    board.submit("agreement.published", {"agreement": changed(escrow="board-test-2", id="A-2")}, INSPECTOR, escrow_id="board-test-2")


def test_agreement_signed_refusals() -> None:
    board = Board()
    board.log.submit(publish())
    signed = {"agreement": "A-1", "sha256": SHA}
    assert board.refused("agreement.signed", signed, HOST).reason == "agreement-unknown"
    board.submit("agreement.published", {"agreement": AGREEMENT}, INSPECTOR)
    assert board.refused("agreement.signed", {"agreement": "A-2", "sha256": SHA}, HOST).reason == "agreement-unknown"
    tampered = agreement_sha256(changed(start="2019-01-18T15:00:01Z"))
    assert board.refused("agreement.signed", {"agreement": "A-1", "sha256": tampered}, HOST).reason == "agreement-mismatch"
    assert board.refused("agreement.signed", signed, MALLORY).reason == "author-unknown"
    board.submit("agreement.signed", signed, HOST)
    assert board.refused("agreement.signed", signed, HOST, time=NOW + 1).reason == "agreement-sign-repeat"
    narrow = Board()
    narrow.log.submit(publish())
    narrow.submit("agreement.published", {"agreement": changed(parties=["Host", "Inspector"], obligations=[])}, HOST)
    assert narrow.refused("agreement.signed", {"agreement": "A-1", "sha256": agreement_sha256(changed(parties=["Host", "Inspector"], obligations=[]))},
                          OBSERVER).reason == "role-not-allowed"


def test_nothing_under_an_agreement_before_every_party_signed() -> None:
    board = Board()
    board.log.submit(publish())
    claim = {"agreement": "A-1", "obligation": "close", "evidence": []}
    assert board.refused("obligation.claimed", claim, HOST).reason == "agreement-unknown"
    board.submit("agreement.published", {"agreement": AGREEMENT}, HOST)
    for i, key in enumerate((HOST, INSPECTOR)):
        board.submit("agreement.signed", {"agreement": "A-1", "sha256": SHA}, key, time=NOW - 10 + i)
        error = board.refused("obligation.claimed", claim, HOST)
        assert error.reason == "agreement-unsigned" and "Observer" in error.message
    board.submit("agreement.signed", {"agreement": "A-1", "sha256": SHA}, OBSERVER)
    assert board.refused("obligation.claimed", {**claim, "agreement": "A-9"}, HOST).reason == "agreement-unknown"
    board.submit("obligation.claimed", claim, HOST)


def test_require_signed_agreement_is_the_gate_for_other_checks() -> None:
    board = Board()
    board.log.submit(publish())
    probe = parse_event(make_event("obligation.verified", ESCROW_ID, stamp(NOW), {"agreement": "A-1", "obligation": "close"}, [HOST]))
    with pytest.raises(BoardRefused) as info:
        require_signed_agreement(board.log.state, probe)
    assert info.value.reason == "agreement-unknown"
    board.submit("agreement.published", {"agreement": AGREEMENT}, HOST)
    with pytest.raises(BoardRefused) as info:
        require_signed_agreement(board.log.state, probe)
    assert info.value.reason == "agreement-unsigned"
    for i, key in enumerate((HOST, INSPECTOR, OBSERVER)):
        board.submit("agreement.signed", {"agreement": "A-1", "sha256": SHA}, key, time=NOW - 10 + i)
    assert require_signed_agreement(board.log.state, probe).agreement.id == "A-1"


# --- obligation.* -----------------------------------------------------------------------------


def test_roles_of_obligation_events() -> None:
    board = agreed()
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, INSPECTOR).reason == "role-not-allowed"
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "nothing", "evidence": []}, HOST).reason == "obligation-unknown"
    board.claim("close")
    for kind in ("obligation.verified", "obligation.disputed"):
        body: dict[str, Any] = {"agreement": "A-1", "obligation": "close", **({"reason": "no"} if kind.endswith("disputed") else {})}
        assert board.refused(kind, body, HOST).reason == "role-not-allowed"  # the obligor
        assert board.refused(kind, body, MALLORY).reason == "author-unknown"
    narrow = agreed(changed(parties=["Host", "Inspector"]), (HOST, INSPECTOR))
    narrow.claim("close")
    assert narrow.refused("obligation.verified", {"agreement": "A-1", "obligation": "close"}, OBSERVER).reason == "role-not-allowed"
    assert narrow.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, OBSERVER).reason == "role-not-allowed"


def test_verify_and_dispute_need_a_claim_and_withdraw_a_dispute() -> None:
    board = agreed()
    for kind, body in (("obligation.verified", {}), ("obligation.disputed", {"reason": "no"})):
        assert board.refused(kind, {"agreement": "A-1", "obligation": "close", **body}, INSPECTOR).reason == "obligation-unclaimed"
    assert board.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, INSPECTOR).reason == "dispute-unknown"
    board.claim("close")
    assert board.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, INSPECTOR).reason == "dispute-unknown"
    board.verdict("obligation.disputed", "close", INSPECTOR)
    assert board.states()["close"] == DISPUTED
    assert board.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, OBSERVER).reason == "dispute-unknown"
    board.now += 1
    board.verdict("obligation.withdrawn", "close", INSPECTOR)
    board.now += 1
    assert board.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, INSPECTOR).reason == "dispute-unknown"
    assert board.states()["close"] == CLAIMED


def test_a_dispute_after_a_verification_wins_and_a_new_claim_answers_it() -> None:
    board = agreed()
    board.claim("close")
    board.verdict("obligation.verified", "close", INSPECTOR)
    assert board.states()["close"] == VERIFIED
    board.now += 1
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, HOST).reason == "obligation-settled"
    board.verdict("obligation.disputed", "close", OBSERVER)  # verified by parties, not by the log: a dispute may follow
    assert board.states()["close"] == DISPUTED
    board.now += 1
    board.claim("close", evidence=[{"text": "photos of the sealed door"}])  # a new claim answers the dispute
    assert board.states()["close"] == CLAIMED
    # the dispute before the new claim no longer stands: a withdrawal of it is refused
    assert board.refused("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, OBSERVER).reason == "dispute-unknown"
    board.now += 1
    board.verdict("obligation.verified", "close", OBSERVER)
    assert board.states()["close"] == VERIFIED


def test_an_obligation_verified_by_the_log_is_settled() -> None:
    board = agreed()
    board.claim("reveal-1")
    board.log.submit(reveal_event(board.log, DECL.bundle("phase-1", [1, 6])))
    assert board.log.state.reveal_times[(ESCROW_ID, "phase-1")] == board.log.state.latest_time == NOW
    for kind, body in (("obligation.verified", {}), ("obligation.disputed", {"reason": "no"})):
        assert board.refused(kind, {"agreement": "A-1", "obligation": "reveal-1", **body}, INSPECTOR).reason == "obligation-settled"
    board.now += 1
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "reveal-1", "evidence": []}, HOST).reason == "obligation-settled"
    assert board.states()["reveal-1"] == VERIFIED


class Items:
    """A fake custody clock: when each serial reached each step."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, str], int] = {}

    def reached(self, serial: str, step: str) -> int | None:
        return self.times.get((serial, step))

    def reached_count(self, category: str, count: int, step: str) -> int | None:
        return None


def test_move_items_is_verified_through_the_custody_clock() -> None:
    board = agreed()
    items = Items()
    board.log.state.item_clocks[ESCROW_ID] = items
    board.claim("move")
    board.verdict("obligation.disputed", "move", INSPECTOR)
    items.times[("W-1", "separated")] = NOW
    assert board.states()["move"] == DISPUTED  # one serial of two
    items.times[("W-2", "separated")] = NOW
    assert board.states()["move"] == VERIFIED
    assert board.refused("obligation.verified", {"agreement": "A-1", "obligation": "move"}, OBSERVER).reason == "obligation-settled"


def test_evidence_names_an_earlier_entry() -> None:
    board = agreed()
    size = board.log.size
    error = board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": [{"entry": size}]}, HOST)
    assert error.reason == "evidence-invalid"
    assert board.claim("close", evidence=[{"entry": size - 1}, {"sha256": "ab" * 32}]) == size


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"agreement": "A-1", "obligation": "close", "evidence": [{}]}, "evidence[0]"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"entry": 1, "text": "x"}]}, "evidence[0]"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"entry": -1}]}, "evidence[0].entry"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"entry": "1"}]}, "evidence[0].entry"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"sha256": "AB" * 32}]}, "evidence[0].sha256"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"text": ""}]}, "evidence[0].text"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"text": "x" * 1001}]}, "evidence[0].text"),
        ({"agreement": "A-1", "obligation": "close", "evidence": [{"text": "x"}] * 65}, "evidence"),
        ({"agreement": "A-1", "obligation": "close", "evidence": "x"}, "evidence"),
        ({"agreement": "A-1", "obligation": "close"}, ""),
        ({"agreement": "A 1", "obligation": "close", "evidence": []}, "agreement"),
    ],
)
def test_malformed_claims(body: dict[str, Any], where: str) -> None:
    board = agreed()
    error = board.refused("obligation.claimed", body, HOST)
    assert error.reason == "malformed" and f"statement.body{'.' + where if where else ''}" in error.message


@pytest.mark.parametrize(("kind", "body"), [
    ("obligation.disputed", {"agreement": "A-1", "obligation": "close", "reason": ""}),
    ("obligation.disputed", {"agreement": "A-1", "obligation": "close", "reason": "x" * 1001}),
    ("obligation.disputed", {"agreement": "A-1", "obligation": "close"}),
    ("obligation.verified", {"agreement": "A-1", "obligation": "close", "reason": "extra"}),
    ("agreement.signed", {"agreement": "A-1", "sha256": "x"}),
    ("agreement.published", {"agreement": AGREEMENT, "extra": 1}),
])
def test_malformed_bodies(kind: str, body: dict[str, Any]) -> None:
    board = agreed()
    board.claim("close")
    assert board.refused(kind, body, INSPECTOR).reason == "malformed"


def test_replayed_statements_are_not_logged_twice() -> None:
    board = agreed()
    claim = make_event("obligation.claimed", ESCROW_ID, stamp(NOW), {"agreement": "A-1", "obligation": "close", "evidence": []}, [HOST])
    first = board.log.submit(claim)
    again = board.log.submit(claim)
    assert again.index == first.index and not again.created
    other = make_event("obligation.claimed", ESCROW_ID, stamp(NOW), {"agreement": "A-1", "obligation": "close", "evidence": []}, [INSPECTOR])
    assert board.refused_doc(other).reason == "statement-conflict"  # the same statement under another signature
    assert board.refused("agreement.signed", {"agreement": "A-1", "sha256": SHA}, HOST, time=NOW + 5).reason == "agreement-sign-repeat"


def test_deadline_events_cannot_be_backdated_or_postdated() -> None:
    board = agreed()
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, HOST, time=NOW - 301).reason == "time-stale"
    assert board.refused("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, HOST, time=NOW + 301).reason == "time-future"
    board.claim("close", time=NOW - 300)


def test_every_obligation_event_counts_at_its_effective_time() -> None:
    board = agreed()
    board.claim("close", time=NOW + 200)
    board.verdict("obligation.disputed", "close", INSPECTOR)  # dated NOW, after an entry dated NOW + 200
    record = board.log.state.agreement_of(ESCROW_ID)
    assert record is not None
    claim, dispute = record.events["close"]
    assert (claim.kind, claim.author, claim.time) == ("claimed", "Host", NOW + 200)
    assert (dispute.kind, dispute.author, dispute.time, dispute.reason) == ("disputed", "Inspector", NOW + 200, "not seen")
    assert board.log.state.latest_time == NOW + 200


# --- replay -----------------------------------------------------------------------------------


def _full_story() -> Board:
    board = agreed()
    board.claim("reveal-1")
    board.log.submit(reveal_event(board.log, DECL.bundle("phase-1", [1, 6])))
    board.now += 60
    board.claim("close", evidence=[{"entry": 4}, {"text": "sealed"}])
    board.verdict("obligation.disputed", "close", OBSERVER)
    board.verdict("obligation.verified", "close", INSPECTOR)
    board.now += 60
    board.verdict("obligation.withdrawn", "close", OBSERVER)
    board.claim("relief", INSPECTOR)
    board.verdict("obligation.verified", "relief", HOST)
    return board


def test_a_log_with_agreements_and_obligations_audits_clean_and_reopens() -> None:
    board = _full_story()
    assert board.states() == {"reveal-1": VERIFIED, "close": VERIFIED, "relief": VERIFIED, "move": "due"}
    report = audit(board.log.entries(0, board.log.size), PARTIES, ORIGIN, [board.log.checkpoint()], bundles=board.storage.get_bundle)
    assert report.ok, report.problems
    report = audit(board.log.entries(0, board.log.size), PARTIES, ORIGIN, [board.log.checkpoint()])  # without the reveal files
    assert report.ok, report.problems
    reopened = Log.open(board.storage, ORIGIN, BOARD, PARTIES, lambda: board.now)
    record = reopened.state.agreement_of(ESCROW_ID)
    assert record is not None and record.fully_signed
    original = board.log.state.agreement_of(ESCROW_ID)
    assert original is not None and record.events == original.events
    assert reopened.state.reveal_times == board.log.state.reveal_times


def _entry(kind: str, body: dict[str, Any], key: SigningKey, time: int) -> bytes:
    return canonicalize(make_event(kind, ESCROW_ID, stamp(time), body, [key]))


@pytest.mark.parametrize(
    ("kind", "body", "key", "reason"),
    [
        ("obligation.claimed", {"agreement": "A-1", "obligation": "move", "evidence": []}, INSPECTOR, "role-not-allowed"),
        ("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, HOST, "obligation-settled"),
        ("obligation.claimed", {"agreement": "A-1", "obligation": "move", "evidence": [{"entry": 99}]}, HOST, "evidence-invalid"),
        ("obligation.claimed", {"agreement": "A-1", "obligation": "nothing", "evidence": []}, HOST, "obligation-unknown"),
        ("obligation.verified", {"agreement": "A-1", "obligation": "move"}, INSPECTOR, "obligation-unclaimed"),
        ("obligation.verified", {"agreement": "A-1", "obligation": "reveal-1"}, INSPECTOR, "obligation-settled"),
        ("obligation.withdrawn", {"agreement": "A-1", "obligation": "close"}, INSPECTOR, "dispute-unknown"),
        ("agreement.signed", {"agreement": "A-1", "sha256": SHA}, HOST, "agreement-sign-repeat"),
        ("agreement.published", {"agreement": changed(id="A-2")}, HOST, "agreement-duplicate"),
    ],
)
def test_a_replay_refuses_what_the_board_refuses(kind: str, body: dict[str, Any], key: SigningKey, reason: str) -> None:
    board = _full_story()
    assert board.refused(kind, body, key, time=board.now + 1).reason == reason
    entries = [*board.log.entries(0, board.log.size), _entry(kind, body, key, board.now + 1)]
    report = audit(entries, PARTIES, ORIGIN, [])
    assert [(p.index, str(p.reason)) for p in report.problems] == [(board.log.size, reason)]


def test_a_replay_refuses_obligations_under_an_unsigned_agreement() -> None:
    board = agreed(signers=(HOST, INSPECTOR))
    body = {"agreement": "A-1", "obligation": "close", "evidence": []}
    assert board.refused("obligation.claimed", body, HOST).reason == "agreement-unsigned"
    report = audit([*board.log.entries(0, board.log.size), _entry("obligation.claimed", body, HOST, NOW)], PARTIES, ORIGIN, [])
    assert [str(p.reason) for p in report.problems] == ["agreement-unsigned"]


def test_an_entry_evidence_may_name_an_entry_a_replay_refused() -> None:
    """The log holds every entry, refused ones too (an audit reports them): an evidence names an
    index of the log, so the replay counts those entries as earlier ones."""
    board = agreed()
    size = board.log.size
    bad = _entry("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": []}, INSPECTOR, NOW)
    naming = _entry("obligation.claimed", {"agreement": "A-1", "obligation": "close", "evidence": [{"entry": size}]}, HOST, NOW)
    report = audit([*board.log.entries(0, size), bad, naming], PARTIES, ORIGIN, [])
    assert [(p.index, str(p.reason)) for p in report.problems] == [(size, "role-not-allowed")]
