"""What the fuzz properties found, each kept as a named test with its minimal input."""

from __future__ import annotations

import copy
import json

import pytest

from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError


# --- doubles that JCS writes as integer tokens beyond ±(2^53−1) (spec §0) ---------------------


@pytest.mark.parametrize("token", ["1e16", "-1e16", "9007199254740992.0", "9.99e20", "123456789012345678901.5"])
def test_a_double_whose_jcs_form_is_an_unreadable_integer_is_refused(token: str) -> None:
    """Found by test_fuzz_json: ``1e16`` read, but its JCS form ``10000000000000000`` did not."""
    with pytest.raises(MalformedInputError, match="beyond ±\\(2\\^53−1\\) once written in JCS form"):
        loads(f'{{"quantity": {token}}}', source="in.json")


@pytest.mark.parametrize("token", ["9007199254740991.0", "1e21", "-1e21", "1.5e300", "0.5"])
def test_doubles_whose_jcs_form_reads_back_are_kept(token: str) -> None:
    value = loads(f"[{token}]")
    assert loads(canonicalize(value)) == value


def test_a_host_cannot_publish_an_event_that_stops_the_board_from_reopening() -> None:
    """Before the fix the board accepted an escrow with totals 4e16, stored ``JCS(event)``
    (``40000000000000000``), and could then never reopen: replaying its own entry failed."""
    from tests.test_board_core import BOARD, DECL, HOST, NOW, ORIGIN, PARTIES, event
    from unveil.board.log import Log, MemoryStorage
    from unveil.board.protocol import Refused
    from unveil.core.statements import sign_statement

    storage = MemoryStorage()
    log = Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW)
    statement = copy.deepcopy(DECL.statement)
    statement["totals"] = {"warhead": {"quantity": 4.0, "unit": "count"}}
    text = json.dumps(event("escrow.published", {"escrow": sign_statement(statement, [HOST])})).replace("4.0", "4e16")
    with pytest.raises(Refused) as caught:
        log.submit(text.encode())
    assert caught.value.reason == "malformed" and "4e16" in str(caught.value)
    assert Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW).size == 0  # still opens


def test_text_cells_refuse_such_doubles_too() -> None:
    """CSV declarations and intelligence read numbers as the JSON grammar: same rule (§0)."""
    from unveil.textformats import text_number

    with pytest.raises(MalformedInputError, match="line 2, column quantity: quantity 1e16 is an integer beyond"):
        text_number("1e16", "line 2, column quantity", "quantity")
    assert text_number("1e21", "line 2", "quantity") == 1e21


# --- populations (spec §8) ---------------------------------------------------------------------


def test_a_population_with_a_lone_surrogate_is_refused_not_a_unicode_error() -> None:
    """Found by test_fuzz_cells: sorting by UTF-8 bytes raised UnicodeEncodeError."""
    from unveil.workspace.coins import read_population

    with pytest.raises(MalformedInputError, match="population.txt: population\\[0\\] '\\\\ud800' is not an id"):
        read_population("\ud800", "population.txt")

