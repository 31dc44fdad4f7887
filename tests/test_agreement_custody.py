"""Items and their chain of custody under an agreement (spec §12 "Items"), the pure rules
(unveil.agreements.custody); the board's events are tests/test_board_custody.py's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.agreements.custody import Custody
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

STEPS = ("declared", "verified", "separated", "stored", "dismantled", "disposed")

CONTENT = {"cell": "86302d037ffffff", "sites": [
    {"id": "S-017", "kind": "enrichment", "lat": 0, "lon": 0, "items": [
        {"category": "centrifuge", "quantity": 2000, "unit": "count"},
        {"category": "warhead", "quantity": 3, "unit": "count", "serials": ["W-0001", "W-0002", "W-0003"]}]},
    {"id": "S-018", "kind": "depot", "lat": 0, "lon": 0, "items": [
        {"category": "missile", "quantity": 1, "unit": "count", "serials": ["M-1"]}]}]}


def custody() -> Custody:
    c = Custody(STEPS)
    assert c.open_content(CONTENT, 100) == 4
    return c


def refused(reason: Reason, call: object, *args: object) -> None:
    with pytest.raises(BoardRefused) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.reason == reason


def test_every_serial_of_an_opened_cell_starts_at_the_first_step_once() -> None:
    c = custody()
    assert sorted(c.items) == ["M-1", "W-0001", "W-0002", "W-0003"]
    assert c.items["W-0002"].site == "S-017" and c.items["M-1"].category == "missile"
    assert c.open_content(CONTENT, 500) == 0  # the cell opened again in a later phase
    assert c.items["W-0001"].opened == 100
    assert c.counts() == {"declared": 4, "verified": 0, "separated": 0, "stored": 0, "dismantled": 0, "disposed": 0}
    assert c.counts(at=99) == dict.fromkeys(STEPS, 0)  # before its cell opened the log knows none
    assert c.counts_by_category() == {"missile": {**dict.fromkeys(STEPS, 0), "declared": 1},
                                      "warhead": {**dict.fromkeys(STEPS, 0), "declared": 3}}


def test_a_move_goes_one_step_on_and_the_first_needs_no_witness() -> None:
    c = custody()
    moved = c.move("W-0001", "verified", 200, "S-099")
    assert (moved.src, moved.dst, moved.witnessed, moved.site) == (0, 1, True, "S-099")
    assert c.step_of("W-0001") == "verified" and c.step_of("W-0001", at=199) == "declared"
    assert c.counts()["verified"] == 1 and c.counts()["declared"] == 3
    assert c.problems() == []


def test_unknown_serials_steps_and_out_of_order_moves_are_refused_and_change_nothing() -> None:
    c = custody()
    refused(Reason.CUSTODY_GAP, c.check_move, "W-9999", "verified")
    refused(Reason.CUSTODY_GAP, c.move, "W-9999", "verified", 200)
    refused(Reason.STEP_UNKNOWN, c.move, "W-0001", "melted", 200)
    refused(Reason.STEP_SKIPPED, c.move, "W-0001", "separated", 200)
    refused(Reason.STEP_INVALID, c.move, "W-0001", "declared", 200)
    c.move("W-0001", "verified", 200)
    refused(Reason.STEP_INVALID, c.move, "W-0001", "verified", 201)
    refused(Reason.STEP_INVALID, c.move, "W-0001", "declared", 201)
    assert c.step_of("W-0001") == "verified" and len(c.log) == 1 and "W-9999" not in c.items


def test_a_move_out_of_an_unwitnessed_step_is_accepted_and_marked() -> None:
    c = custody()
    c.move("W-0001", "verified", 200)
    assert not c.witnessed("W-0001")
    moved = c.move("W-0001", "separated", 300)
    assert not moved.witnessed and c.step_of("W-0001") == "separated"
    problems = c.problems()
    assert [(p["reason"], p["serial"]) for p in problems] == [("unwitnessed-transition", "W-0001")]
    assert "verified" in problems[0]["detail"] and "separated" in problems[0]["detail"]
    assert c.problems(at=299) == []  # --at before the move: not yet


def test_a_witness_of_the_current_step_makes_the_next_move_witnessed() -> None:
    c = custody()
    c.move("W-0001", "verified", 200)
    refused(Reason.STEP_MISMATCH, c.witness, "W-0001", "declared", 210)
    refused(Reason.STEP_MISMATCH, c.witness, "W-0001", "separated", 210)
    refused(Reason.STEP_UNKNOWN, c.witness, "W-0001", "melted", 210)
    refused(Reason.CUSTODY_GAP, c.witness, "W-9999", "verified", 210)
    assert not c.witnessed("W-0001")
    c.witness("W-0001", "verified", 210)
    assert c.witnessed("W-0001") and not c.witnessed("W-0001", at=205)
    c.witness("W-0001", "verified", 220)  # again: the first witness counts
    assert c.items["W-0001"].witnessed == {1: 210}
    assert c.move("W-0001", "separated", 300).witnessed
    assert not c.witnessed("W-0001")  # a new step is not witnessed yet
    assert c.problems() == []


def test_reached_and_reached_count_are_when_items_first_stood_at_a_step_or_later() -> None:
    c = custody()
    assert c.reached("W-0001", "declared") == 100
    assert c.reached("W-0001", "verified") is None
    c.move("W-0001", "verified", 200)
    c.move("W-0002", "verified", 250)
    c.witness("W-0001", "verified", 260)
    c.move("W-0001", "separated", 300)
    assert c.reached("W-0001", "verified") == 200 and c.reached("W-0001", "separated") == 300
    assert c.reached("W-0002", "separated") is None
    assert c.reached("W-9999", "verified") is None and c.reached("W-0001", "melted") is None
    assert c.reached_count("warhead", 1, "verified") == 200
    assert c.reached_count("warhead", 2, "verified") == 250
    assert c.reached_count("warhead", 3, "verified") is None
    assert c.reached_count("warhead", 1, "separated") == 300
    assert c.reached_count("warhead", 3, "declared") == 100
    assert c.reached_count("missile", 1, "verified") is None
    assert c.reached_count("warhead", 0, "verified") is None


def test_counts_at_a_time_follow_the_history_and_never_lose_an_item() -> None:
    c = custody()
    later = {"cell": "86302d03fffffff", "sites": [{"id": "S-020", "kind": "depot", "lat": 0, "lon": 0, "items": [
        {"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W-0100"]}]}]}
    c.move("W-0001", "verified", 200)
    assert c.open_content(later, 400) == 1
    for at in (99, 100, 199, 200, 399, 400, None):
        counts = c.counts(at)
        assert sum(counts.values()) == (0 if at == 99 else 4 if at is not None and at < 400 else 5)
    assert c.counts(150)["verified"] == 0 and c.counts(200)["verified"] == 1
    assert c.step_of("W-0100", at=399) is None and c.step_of("W-0100") == "declared"


def test_an_agreement_names_its_own_steps() -> None:
    c = Custody(("held", "gone"))
    c.open("X-1", "warhead", "S-1", "c", 5)
    c.move("X-1", "gone", 6)
    refused(Reason.STEP_INVALID, c.move, "X-1", "gone", 7)  # nothing after the last step
    assert c.counts() == {"held": 0, "gone": 1}
    with pytest.raises(ValueError):
        Custody(("only",))
    with pytest.raises(ValueError):
        Custody(("a", "b", "a"))


def test_a_replay_without_the_files_assumes_unknown_serials_unmoved_until_their_cell_opens() -> None:
    c = Custody(STEPS)
    c.check_move("W-0001", "verified", assume=True)  # unknowable: taken to be at the first step
    refused(Reason.STEP_SKIPPED, c.check_move, "W-0001", "separated", True)
    assert "W-0001" not in c.items  # a check enters nothing
    c.move("W-0001", "verified", 300, assume=True)
    held = c.items["W-0001"]
    assert held.assumed and held.category == "" and c.step_of("W-0001") == "verified"
    assert c.open_content(CONTENT, 100) == 3  # the file read later: the others enter, this one is filled in
    assert not held.assumed and (held.category, held.site, held.opened) == ("warhead", "S-017", 100)
    assert c.step_of("W-0001") == "verified" and c.counts()["declared"] == 3
    c.witness("W-0009", "declared", 400, assume=True)
    assert c.items["W-0009"].witnessed == {0: 400}
    refused(Reason.CUSTODY_GAP, c.check_move, "W-0010", "verified")  # without assume, unknown is a gap


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["move", "witness"]), st.sampled_from(["W-0001", "W-0002", "M-1", "X-9"]),
                          st.sampled_from([*STEPS, "melted"])), max_size=40))
def test_any_sequence_keeps_every_item_in_exactly_one_step(actions: list[tuple[str, str, str]]) -> None:
    """Whatever is attempted, in any order: the number of items never changes, a refused event
    changes nothing, an accepted move goes exactly one step on, and the counts at every earlier
    time still add up to the items opened by then."""
    c = custody()
    for n, (action, serial, step) in enumerate(actions):
        before = {s: c.step_of(s) for s in c.items}
        try:
            if action == "move":
                moved = c.move(serial, step, 200 + n)
                assert STEPS.index(step) == STEPS.index(before[serial] or "") + 1 and moved.dst == moved.src + 1
            else:
                c.witness(serial, step, 200 + n)
                assert before[serial] == step
        except BoardRefused:
            assert {s: c.step_of(s) for s in c.items} == before
        assert sum(c.counts().values()) == 4 and set(c.items) == {"W-0001", "W-0002", "W-0003", "M-1"}
        assert sum(sum(row.values()) for row in c.counts_by_category().values()) == 4
    for at in range(199, 200 + len(actions) + 1):
        assert sum(c.counts(at).values()) == 4
    assert [p["serial"] for p in c.problems()] == [s for s, m in c.log if not m.witnessed]
