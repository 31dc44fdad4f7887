"""Access requests and their states at a time (spec §12 "Access states"), the pure rules
(unveil.agreements.access); the board's events are tests/test_board_custody.py's."""

from __future__ import annotations

import pytest

from unveil.agreements.access import AccessBook
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

DELAYED, REFUSED = 3600, 36000  # PT1H, PT10H


def book() -> AccessBook:
    b = AccessBook(DELAYED, REFUSED)
    b.request("A-1", "S-017", None, "inspector", 1000)
    return b


def refused(reason: Reason, call: object, *args: object) -> None:
    with pytest.raises(BoardRefused) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.reason == reason


def test_an_unanswered_request_becomes_delayed_then_refused_past_each_deadline() -> None:
    b = book()
    assert b.state("A-1", 999) is None
    assert b.state("A-1", 1000) == "requested"
    assert b.state("A-1", 1000 + DELAYED) == "requested"  # at the deadline: not past it
    assert b.state("A-1", 1001 + DELAYED) == "delayed"
    assert b.state("A-1", 1000 + REFUSED) == "delayed"
    assert b.state("A-1", 1001 + REFUSED) == "refused"
    assert [p["reason"] for p in b.problems(1001 + DELAYED)] == ["access-delayed"]
    assert [p["reason"] for p in b.problems(1001 + REFUSED)] == ["access-refused"]
    assert b.problems(1000) == []
    assert b.withheld(1000) == (set(), set())
    assert b.withheld(1001 + DELAYED) == ({"S-017"}, set())


def test_a_grant_in_time_is_granted_a_later_one_granted_late_none_after_expiry() -> None:
    b = book()
    b.request("A-2", None, "86302d037ffffff", "inspector", 1000)
    b.request("A-3", "S-018", None, "inspector", 1000)
    b.answer("A-1", True, 1000 + DELAYED)
    b.answer("A-2", True, 1001 + DELAYED)
    refused(Reason.ACCESS_EXPIRED, b.answer, "A-3", True, 1001 + REFUSED)
    assert b.requests["A-3"].answered is None
    b.check_answer("A-3", True, 1000 + REFUSED)  # at the refusal deadline: still in time
    at = 2000 + REFUSED
    assert [(v["id"], v["state"]) for v in b.views(at)] == [("A-1", "granted"), ("A-2", "granted-late"), ("A-3", "refused")]
    assert b.state("A-2", 1000 + DELAYED) == "requested" and b.state("A-2", 1001 + DELAYED) == "granted-late"
    assert b.withheld(at) == ({"S-018"}, set())
    assert [p["reason"] for p in b.problems(at)] == ["access-refused"]


def test_a_refusal_counts_from_its_time_with_its_reason() -> None:
    b = book()
    b.answer("A-1", False, 1500, "closed for maintenance")
    assert b.state("A-1", 1499) == "requested" and b.state("A-1", 1500) == "refused"
    assert "closed for maintenance" in b.problems(1500)[0]["detail"]
    b2 = book()
    b2.answer("A-1", False, 1001 + REFUSED, "too late anyway")  # a refusal is never too late
    assert b2.state("A-1", 2000 + REFUSED) == "refused"


def test_duplicate_unknown_and_second_answers_are_refused() -> None:
    b = book()
    refused(Reason.ACCESS_DUPLICATE, b.request, "A-1", None, "c", "inspector", 1100)
    refused(Reason.ACCESS_UNKNOWN, b.answer, "A-9", True, 1100)
    b.answer("A-1", False, 1100, "no")
    refused(Reason.ACCESS_ANSWERED, b.answer, "A-1", True, 1200)
    refused(Reason.ACCESS_ANSWERED, b.answer, "A-1", False, 1200, "no again")
    assert b.requests["A-1"].granted is False and b.requests["A-1"].answered == 1100


def test_deadlines_and_targets_are_checked() -> None:
    with pytest.raises(ValueError):
        AccessBook(10, 10)
    with pytest.raises(ValueError):
        AccessBook(0, 10)
    with pytest.raises(ValueError):
        book().request("A-2", "S-1", "c", "inspector", 1)
    with pytest.raises(ValueError):
        book().request("A-2", None, None, "inspector", 1)
