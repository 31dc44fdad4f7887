"""The board's item and access events under an agreement (spec §12; unveil.board.custody):
every custody rule and access outcome, refused live with nothing logged, and replayed by an
audit to the same state (with and without the reveal files)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_board_core import BOARD, HOST, INSPECTOR, MALLORY, NOW, OBSERVER, ORIGIN, PARTIES, Escrowed, file_bytes
from unveil.agreements.model import agreement_sha256
from unveil.api.errors import status_of
from unveil.board.audit import audit, replay
from unveil.board.events import make_event, parse_event
from unveil.board.log import Log, MemoryStorage
from unveil.core.encoding import format_time as _format_time
from unveil.core.keys import SigningKey
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused

ESCROW = "custody-1"
STEPS = ["declared", "verified", "separated", "stored", "dismantled", "disposed"]
HOUR = 3600


def format_time(unix: int) -> str:
    return _format_time(datetime.fromtimestamp(unix, timezone.utc))


def _warheads(site: str, cell: str, serials: list[str], category: str = "warhead") -> dict[str, Any]:
    return {"cell": cell, "sites": [{"id": site, "kind": "weapons-storage", "items": [
        {"category": category, "quantity": len(serials), "unit": "count", "serials": serials}]}]}


DECLARED = Escrowed(ESCROW, HOST, {
    "depot-02": _warheads("D-2", "depot-02", ["W-1", "W-2", "W-3"]),
    "depot-05": _warheads("D-5", "depot-05", ["M-1"], "missile"),
    "depot-07": {"cell": "depot-07", "sites": [{"id": "D-7", "kind": "other", "items": []}]},
}, created="2019-01-18T15:00:00Z")

AGREEMENT: dict[str, Any] = {
    "id": "deal-1", "escrow": ESCROW, "start": "2019-01-18T15:00:00Z", "parties": ["Host", "Inspector"],
    "access": {"delayed": "PT1H", "refused": "PT10H"},
    "obligations": [{"id": "eliminate", "party": "Host", "action": "move-items", "serials": ["W-1"], "step": "disposed", "due": "P30D"}],
}


class Board:
    """A log on a clock the test moves; events are dated by it (``time-stale`` forbids backdating)."""

    def __init__(self) -> None:
        self.now = NOW
        self.storage = MemoryStorage()
        self.log = Log.open(self.storage, ORIGIN, BOARD, PARTIES, lambda: self.now)

    def event(self, kind: str, body: dict[str, Any], key: SigningKey = HOST, *, at: int | None = None) -> dict[str, Any]:
        return make_event(kind, ESCROW, format_time(self.now if at is None else at), body, [key])

    def submit(self, kind: str, body: dict[str, Any], key: SigningKey = HOST) -> int:
        receipt = self.log.submit(self.event(kind, body, key))
        assert receipt.created
        return receipt.index

    def refused(self, doc: Any) -> BoardRefused:
        size = self.log.size
        with pytest.raises(BoardRefused) as info:
            self.log.submit(doc)
        assert self.log.size == size  # nothing logged
        return info.value

    def reveal(self, phase: str, indices: list[int]) -> None:
        sha = self.log.put_bundle(file_bytes(DECLARED.bundle(phase, indices)))
        self.submit("reveal.published", {"phase": phase, "sha256": sha, "openings": len(indices)})

    def entries(self) -> list[bytes]:
        return self.log.entries(0, self.log.size)

    def move(self, serial: str, to: str, key: SigningKey = HOST, evidence: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self.event("item.moved", {"serial": serial, "to": to, "site": None, "evidence": evidence or []}, key)

    def witness(self, serial: str, step: str, key: SigningKey = INSPECTOR) -> dict[str, Any]:
        return self.event("item.witnessed", {"serial": serial, "step": step}, key)


def agreed(sign: bool = True) -> Board:
    """Escrow published, depot-02 (W-1..W-3) opened, the agreement published (and signed by both)."""
    b = Board()
    b.submit("escrow.published", {"escrow": DECLARED.signed})
    b.reveal("phase-1", [1])
    b.submit("agreement.published", {"agreement": AGREEMENT})
    if sign:
        for key in (HOST, INSPECTOR):  # a second apart: the same statement at the same time is one statement (spec §7)
            b.now += 1
            b.submit("agreement.signed", {"agreement": "deal-1", "sha256": agreement_sha256(AGREEMENT)}, key)
    return b


def custody_view(state: Any) -> tuple[Any, ...]:
    held = state.custody_of(ESCROW)
    return held.counts(), held.counts_by_category(), held.problems(), {s: held.step_of(s) for s in held.items}


def test_every_opened_serial_is_an_item_at_the_first_step_even_before_the_agreement() -> None:
    b = agreed()
    held = b.log.state.custody_of(ESCROW)
    assert held is not None and held.steps == tuple(STEPS)
    assert held.counts() == {**dict.fromkeys(STEPS, 0), "declared": 3}
    assert held.counts_by_category() == {"warhead": {**dict.fromkeys(STEPS, 0), "declared": 3}}
    assert held.items["W-1"].opened == NOW  # the effective time of the reveal, before the agreement
    assert b.log.state.custody_of("no-such-escrow") is None and b.log.state.access_of("no-such-escrow") is None


def test_an_item_moves_step_by_step_to_disposed_with_witnesses_and_the_audit_agrees() -> None:
    b = agreed()
    start = b.now
    assert b.log.submit(b.move("W-1", "verified")).created  # out of the first step: no witness needed
    for step, after in zip(STEPS[1:], STEPS[2:], strict=False):
        b.now += 60
        assert b.log.submit(b.witness("W-1", step)).created
        assert b.log.state.custody_of(ESCROW).witnessed("W-1")  # type: ignore[union-attr]
        assert b.log.submit(b.move("W-1", after)).created
    held = b.log.state.custody_of(ESCROW)
    assert held is not None and held.step_of("W-1") == "disposed" and held.problems() == []
    assert held.counts() == {**dict.fromkeys(STEPS, 0), "declared": 2, "disposed": 1}
    assert held.reached("W-1", "stored") == start + 120
    report = audit(b.entries(), PARTIES, ORIGIN, [b.log.checkpoint()], bundles=b.log.get_bundle)
    assert report.ok, report.problems
    state, _, problems = replay(b.entries(), PARTIES, b.log.get_bundle)
    assert problems == [] and custody_view(state) == custody_view(b.log.state)
    blind, _, problems = replay(b.entries(), PARTIES, None)  # without the files: only the moved item is known
    assert problems == []
    assert blind.custody_of(ESCROW).counts() == {**dict.fromkeys(STEPS, 0), "disposed": 1}  # type: ignore[union-attr]
    assert blind.custody_of(ESCROW).items["W-1"].assumed  # type: ignore[union-attr]
    assert custody_view(blind) != custody_view(b.log.state)
    blind.custody_of(ESCROW, b.log.get_bundle)  # the files read later: every item, its category, its opening time
    assert custody_view(blind) == custody_view(b.log.state)
    assert blind.custody_of(ESCROW).items["W-1"].opened == b.log.state.custody_of(ESCROW).items["W-1"].opened  # type: ignore[union-attr]


def test_a_move_out_of_an_unwitnessed_step_is_logged_and_reported() -> None:
    b = agreed()
    b.log.submit(b.move("W-2", "verified"))
    assert b.log.submit(b.move("W-2", "separated")).created  # accepted: the host cannot hide it by having it refused
    problems = b.log.state.custody_of(ESCROW).problems()  # type: ignore[union-attr]
    assert [(p["reason"], p["serial"]) for p in problems] == [("unwitnessed-transition", "W-2")]
    state, _, found = replay(b.entries(), PARTIES, b.log.get_bundle)
    assert found == [] and state.custody_of(ESCROW).problems() == problems


def test_a_serial_the_log_does_not_know_is_a_custody_gap_until_its_cell_opens() -> None:
    b = agreed()
    error = b.refused(b.move("W-99", "verified"))
    assert (error.reason, status_of(error.reason)) == ("custody-gap", 422)
    assert b.refused(b.move("M-1", "verified")).reason == "custody-gap"  # declared in depot-05, not opened yet
    assert b.refused(b.witness("M-1", "declared")).reason == "custody-gap"
    b.reveal("phase-2", [4])  # depot-05
    assert b.log.submit(b.move("M-1", "verified")).created
    held = b.log.state.custody_of(ESCROW)
    assert held is not None and held.counts_by_category()["missile"]["verified"] == 1 and sum(held.counts().values()) == 4


@pytest.mark.parametrize(("serial", "to", "reason"), [
    ("W-1", "separated", "step-skipped"),
    ("W-1", "disposed", "step-skipped"),
    ("W-1", "declared", "step-invalid"),
    ("W-1", "melted", "step-unknown"),
])
def test_a_move_goes_to_the_next_step_only(serial: str, to: str, reason: str) -> None:
    b = agreed()
    assert b.refused(b.move(serial, to)).reason == reason
    assert b.log.state.custody_of(ESCROW).step_of(serial) == "declared"  # type: ignore[union-attr]


def test_backward_moves_and_repeats_are_refused() -> None:
    b = agreed()
    first = b.move("W-1", "verified")
    b.log.submit(first)
    again = b.log.submit(first)  # the same statement again: the existing entry, nothing new
    assert not again.created and b.log.size == 6
    b.now += 1
    assert b.refused(b.move("W-1", "verified")).reason == "step-invalid"  # the same move, a new statement
    assert b.refused(b.move("W-1", "declared")).reason == "step-invalid"


def test_a_witness_is_of_the_current_step_by_an_inspecting_party() -> None:
    b = agreed()
    b.log.submit(b.move("W-1", "verified"))
    assert b.refused(b.witness("W-1", "declared")).reason == "step-mismatch"
    assert b.refused(b.witness("W-1", "separated")).reason == "step-mismatch"
    assert b.refused(b.witness("W-1", "melted")).reason == "step-unknown"
    assert b.refused(b.witness("W-1", "verified", HOST)).reason == "role-not-allowed"
    assert b.refused(b.witness("W-1", "verified", OBSERVER)).reason == "role-not-allowed"
    assert b.log.submit(b.witness("W-1", "verified")).created


def test_only_the_host_moves_and_only_registered_keys_write() -> None:
    b = agreed()
    error = b.refused(b.move("W-1", "verified", INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("role-not-allowed", 403)
    assert b.refused(b.move("W-1", "verified", OBSERVER)).reason == "role-not-allowed"
    assert b.refused(b.move("W-1", "verified", MALLORY)).reason == "author-unknown"


def test_nothing_moves_before_every_party_signed_the_agreement() -> None:
    b = agreed(sign=False)
    assert b.refused(b.move("W-1", "verified")).reason == "agreement-unsigned"
    assert b.refused(b.event("access.requested", {"id": "A-1", "site": "D-2", "cell": None}, INSPECTOR)).reason == "agreement-unsigned"
    b.now += 1
    b.submit("agreement.signed", {"agreement": "deal-1", "sha256": agreement_sha256(AGREEMENT)}, HOST)
    assert b.refused(b.move("W-1", "verified")).reason == "agreement-unsigned"  # the inspector has not signed
    bare = Board()
    bare.submit("escrow.published", {"escrow": DECLARED.signed})
    bare.reveal("phase-1", [1])
    assert bare.refused(bare.move("W-1", "verified")).reason == "agreement-unknown"
    assert bare.refused(bare.event("access.granted", {"id": "A-1"})).reason == "agreement-unknown"


def test_a_backdated_move_is_stale_and_an_evidence_names_an_earlier_entry() -> None:
    b = agreed()
    stale = b.event("item.moved", {"serial": "W-1", "to": "verified", "site": None, "evidence": []}, at=NOW - 301)
    assert b.refused(stale).reason == "time-stale"
    ahead = b.move("W-1", "verified", evidence=[{"entry": 5}])
    assert b.refused(ahead).reason == "evidence-invalid"  # the log holds entries 0..4
    assert b.log.submit(b.move("W-1", "verified", evidence=[{"entry": 1}, {"text": "seals intact"}, {"sha256": "ab" * 32}])).created


# --- access ------------------------------------------------------------------------------------


def request(b: Board, id: str, site: str | None = "D-2", cell: str | None = None, key: SigningKey = INSPECTOR) -> dict[str, Any]:
    return b.event("access.requested", {"id": id, "site": site, "cell": cell}, key)


def test_access_answered_in_time_late_or_never() -> None:
    b = agreed()
    start = b.now
    for id in ("A-1", "A-2", "A-3", "A-4"):
        assert b.log.submit(request(b, id)).created
    assert b.log.submit(request(b, "A-5", None, "depot-08")).created  # any cell: the board has no cells.txt
    b.submit("access.granted", {"id": "A-1"})
    b.submit("access.refused", {"id": "A-2", "reason": "under repair"})
    b.now = start + HOUR + 1
    b.submit("access.granted", {"id": "A-3"})
    b.now = start + 10 * HOUR + 1
    error = b.refused(b.event("access.granted", {"id": "A-4"}))
    assert (error.reason, status_of(error.reason)) == ("access-expired", 422)
    book = b.log.state.access_of(ESCROW)
    assert book is not None
    states = {v["id"]: v["state"] for v in book.views(b.now)}
    assert states == {"A-1": "granted", "A-2": "refused", "A-3": "granted-late", "A-4": "refused", "A-5": "refused"}
    assert {v["id"]: v["state"] for v in book.views(start + HOUR + 1)}["A-4"] == "delayed"
    assert [p["reason"] for p in book.problems(b.now)] == ["access-refused"] * 3
    assert book.withheld(b.now) == ({"D-2"}, {"depot-08"})
    state, _, problems = replay(b.entries(), PARTIES, None)
    assert problems == [] and {v["id"]: v["state"] for v in state.access_of(ESCROW).views(b.now)} == states


def test_access_requests_and_answers_are_checked() -> None:
    b = agreed()
    b.log.submit(request(b, "A-1"))
    error = b.refused(request(b, "A-1", None, "depot-03"))
    assert (error.reason, status_of(error.reason)) == ("access-duplicate", 409)
    assert b.refused(request(b, "A-2", "D-5")).reason == "access-target-unknown"  # depot-05 is not opened
    assert b.refused(request(b, "A-2", key=HOST)).reason == "role-not-allowed"
    assert b.refused(request(b, "A-2", key=OBSERVER)).reason == "role-not-allowed"
    assert b.refused(b.event("access.granted", {"id": "A-9"})).reason == "access-unknown"
    assert b.refused(b.event("access.granted", {"id": "A-1"}, INSPECTOR)).reason == "role-not-allowed"
    b.submit("access.refused", {"id": "A-1", "reason": "no"})
    b.now += 1
    error = b.refused(b.event("access.granted", {"id": "A-1"}))
    assert (error.reason, status_of(error.reason)) == ("access-answered", 409)
    assert b.refused(b.event("access.refused", {"id": "A-1", "reason": "still no"})).reason == "access-answered"


# --- malformed bodies ----------------------------------------------------------------------------


def _raw(b: Board, kind: str, body: Any, key: SigningKey = HOST) -> dict[str, Any]:
    """An envelope signed as is (make_event would refuse to build a malformed one)."""
    statement = {"type": "unveil/event/v1", "kind": kind, "escrow_id": ESCROW, "time": format_time(b.now), "body": body}
    return sign_statement(statement, [key])


MOVE = {"serial": "W-1", "to": "verified", "site": None, "evidence": []}


def _with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(MOVE)
    body.update(changes)
    return body


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


MALFORMED: list[tuple[str, Any]] = [
    ("item.moved", {"serial": "W-1", "to": "verified", "site": None}),  # evidence missing
    ("item.moved", {**MOVE, "extra": 1}),
    ("item.moved", _with(serial="W 1")),
    ("item.moved", _with(serial=7)),
    ("item.moved", _with(to="")),
    ("item.moved", _with(site="")),
    ("item.moved", _with(evidence={"text": "x"})),
    ("item.moved", _with(evidence=[{"text": "x"}] * 65)),
    ("item.moved", _with(evidence=[{"text": "x", "entry": 1}])),
    ("item.moved", _with(evidence=[{}])),
    ("item.moved", _with(evidence=[{"entry": -1}])),
    ("item.moved", _with(evidence=[{"entry": 1.5}])),
    ("item.moved", _with(evidence=[{"entry": True}])),
    ("item.moved", _with(evidence=[{"sha256": "AB" * 32}])),
    ("item.moved", _with(evidence=[{"text": ""}])),
    ("item.moved", _with(evidence=[{"text": "x" * 1001}])),
    ("item.moved", _with(evidence=[{"url": "http://x"}])),
    ("item.moved", _with(evidence=[_deep(80)])),
    ("item.witnessed", {"serial": "W-1"}),
    ("item.witnessed", {"serial": "W-1", "step": None}),
    ("access.requested", {"id": "A-1", "site": None, "cell": None}),
    ("access.requested", {"id": "A-1", "site": "D-2", "cell": "depot-02"}),
    ("access.requested", {"id": "A-1", "site": None, "cell": ""}),
    ("access.requested", {"id": "A-1", "site": None, "cell": "c" * 1001}),
    ("access.requested", {"id": "A-1", "site": "D-2"}),
    ("access.granted", {"id": "A-1", "reason": "x"}),
    ("access.granted", {"id": ""}),
    ("access.refused", {"id": "A-1"}),
    ("access.refused", {"id": "A-1", "reason": ""}),
    ("access.refused", {"id": "A-1", "reason": "r" * 1001}),
    ("access.refused", []),
]


@pytest.mark.parametrize(("kind", "body"), MALFORMED)
def test_malformed_bodies_are_refused_and_nothing_is_logged(kind: str, body: Any) -> None:
    b = agreed()
    key = INSPECTOR if kind in ("item.witnessed", "access.requested") else HOST
    error = b.refused(_raw(b, kind, body, key))
    assert (error.reason, status_of(error.reason)) == ("malformed", 400), error


def test_the_bodies_at_their_limits_are_accepted() -> None:
    b = agreed()
    evidence = [{"text": "x" * 1000}] * 63 + [{"entry": 0}]
    assert b.log.submit(_raw(b, "item.moved", _with(evidence=evidence, site="D-2"))).created
    assert b.log.submit(_raw(b, "access.requested", {"id": "A-1", "site": None, "cell": "c" * 1000}, INSPECTOR)).created
    assert b.log.submit(_raw(b, "access.refused", {"id": "A-1", "reason": "r" * 1000})).created


# --- the audit refuses what the board refuses ---------------------------------------------------------


HOSTILE: list[tuple[str, Callable[[Board], dict[str, Any]]]] = [
    ("custody-gap", lambda b: b.move("W-99", "verified")),
    ("step-skipped", lambda b: b.move("W-1", "stored")),
    ("step-invalid", lambda b: b.move("W-1", "declared")),
    ("step-mismatch", lambda b: b.witness("W-1", "separated")),
    ("role-not-allowed", lambda b: b.move("W-1", "verified", INSPECTOR)),
    ("access-unknown", lambda b: b.event("access.granted", {"id": "A-9"})),
    ("access-target-unknown", lambda b: request(b, "A-2", "D-5")),
]


@pytest.mark.parametrize(("reason", "make"), HOSTILE)
def test_an_audit_refuses_what_the_board_refused(reason: str, make: Callable[[Board], dict[str, Any]]) -> None:
    b = agreed()
    doc = make(b)
    assert b.refused(doc).reason == reason
    entries = [*b.entries(), parse_event(doc).entry]
    report = audit(entries, PARTIES, ORIGIN, [], bundles=b.log.get_bundle)
    assert [(p.index, p.reason) for p in report.problems] == [(len(entries) - 1, reason)]


def test_a_board_reopened_without_reading_its_files_keeps_custody() -> None:
    b = agreed()
    b.log.submit(b.move("W-1", "verified"))
    again = Log.open(b.storage, ORIGIN, BOARD, PARTIES, lambda: b.now, check_bundles=False)
    assert [phase for phase, _ in again.state.opened[ESCROW].unread] == ["phase-1"]
    b.now += 1
    error = None
    try:
        again.submit(b.move("W-99", "verified"))
    except BoardRefused as exc:
        error = exc
    assert error is not None and error.reason == "custody-gap"  # the files are read when a check needs them
    held = again.state.custody_of(ESCROW)
    assert held is not None and held.step_of("W-1") == "verified" and held.items["W-1"].category == "warhead"
    assert held.counts() == b.log.state.custody_of(ESCROW).counts()  # type: ignore[union-attr]


def test_a_move_items_obligation_is_verified_by_the_custody_clock() -> None:
    from unveil.agreements.obligations import obligation_states

    b = agreed()
    record = b.log.state.agreement_of(ESCROW)
    assert record is not None
    assert obligation_states(record.view(b.log.state), b.now)["eliminate"].state == "due"
    b.log.submit(b.move("W-1", "verified"))
    for step, after in zip(STEPS[1:], STEPS[2:], strict=False):
        b.now += 60
        b.log.submit(b.witness("W-1", step))
        b.log.submit(b.move("W-1", after))
    states = obligation_states(record.view(b.log.state), b.now)
    assert states["eliminate"].state == "verified"
    assert obligation_states(record.view(b.log.state), b.now - 1)["eliminate"].state == "due"  # --at before the last move
    b.now += 1
    claim = b.event("obligation.claimed", {"agreement": "deal-1", "obligation": "eliminate", "evidence": []})
    assert b.refused(claim).reason == "obligation-settled"  # verified by the log: nothing to claim


def test_a_board_reopened_without_its_files_reads_them_before_judging_an_obligation_by_count() -> None:
    doc = copy.deepcopy(AGREEMENT)
    doc["obligations"] = [{"id": "two", "party": "Host", "action": "move-items", "category": "warhead", "count": 2, "step": "verified", "due": "P30D"}]
    b = Board()
    b.submit("escrow.published", {"escrow": DECLARED.signed})
    b.reveal("phase-1", [1])
    b.submit("agreement.published", {"agreement": doc})
    for key in (HOST, INSPECTOR):
        b.now += 1
        b.submit("agreement.signed", {"agreement": "deal-1", "sha256": agreement_sha256(doc)}, key)
    b.log.submit(b.move("W-1", "verified"))
    b.log.submit(b.move("W-2", "verified"))  # two warheads verified: the obligation is verified by the log
    again = Log.open(b.storage, ORIGIN, BOARD, PARTIES, lambda: b.now, check_bundles=False)
    b.now += 1
    with pytest.raises(BoardRefused) as info:
        again.submit(b.event("obligation.claimed", {"agreement": "deal-1", "obligation": "two", "evidence": []}))
    assert info.value.reason == "obligation-settled"


# --- any order: the board accepts what its replay accepts ----------------------------------------------

_ACTIONS: list[Callable[[Board], dict[str, Any] | None]] = [
    lambda b: b.move("W-1", "verified"),
    lambda b: b.move("W-1", "separated"),
    lambda b: b.move("W-1", "stored"),
    lambda b: b.move("W-2", "verified"),
    lambda b: b.move("M-1", "verified"),  # a custody gap until phase-2 opens depot-05
    lambda b: b.move("W-9", "verified"),
    lambda b: b.move("W-2", "verified", INSPECTOR),
    lambda b: b.move("W-3", "verified", evidence=[{"entry": 40}]),
    lambda b: b.witness("W-1", "verified"),
    lambda b: b.witness("W-1", "declared"),
    lambda b: b.witness("W-2", "verified", HOST),
    lambda b: request(b, "A-1"),
    lambda b: request(b, "A-2", "D-5"),  # a site of depot-05
    lambda b: request(b, "A-3", None, "depot-08"),
    lambda b: b.event("access.granted", {"id": "A-1"}),
    lambda b: b.event("access.refused", {"id": "A-1", "reason": "no"}),
    lambda b: b.event("access.granted", {"id": "A-3"}),
    lambda b: None,  # phase-2 (depot-05) is revealed
    lambda b: None,  # the clock moves on 6 hours
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(range(len(_ACTIONS))), min_size=1, max_size=16))
def test_in_any_order_the_board_accepts_what_its_replay_accepts(order: list[int]) -> None:
    b = agreed()
    revealed = False
    for step in order:
        b.now += 1
        if step == len(_ACTIONS) - 2:
            if not revealed:
                b.reveal("phase-2", [4])
                revealed = True
            continue
        if step == len(_ACTIONS) - 1:
            b.now += 6 * HOUR
            continue
        doc = _ACTIONS[step](b)
        try:
            b.log.submit(doc)
        except BoardRefused as refused:
            entries = [*b.entries(), parse_event(doc).entry]
            report = audit(entries, PARTIES, ORIGIN, [], bundles=b.log.get_bundle)
            assert [(p.index, p.reason) for p in report.problems] == [(len(entries) - 1, refused.reason)]
    report = audit(b.entries(), PARTIES, ORIGIN, [b.log.checkpoint()], bundles=b.log.get_bundle)
    assert report.ok, report.problems
    state, _, _ = replay(b.entries(), PARTIES, b.log.get_bundle)
    assert custody_view(state) == custody_view(b.log.state)
    assert state.access_of(ESCROW).views(b.now) == b.log.state.access_of(ESCROW).views(b.now)  # type: ignore[union-attr]
    blind, _, problems = replay(b.entries(), PARTIES, None)
    assert problems == []
    blind.custody_of(ESCROW, b.log.get_bundle)
    assert custody_view(blind) == custody_view(b.log.state)
