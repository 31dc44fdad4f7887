"""Fuzzing the board's inputs (spec §6, §7): events, PARTIES.json, and the log that holds them.

Robustness: :func:`parse_event` and :func:`read_parties` return a value or a
MalformedInputError naming the field; a submission is accepted or refused (``BoardRefused``).
Semantics: an event's entry is the JCS of its envelope and reads back to itself, a parties
file round trips, and whatever the log accepts it can replay: it reopens and audits clean.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz, json_values, mutated_text, mutated_value, outcome
from tests.test_board_core import BOARD, DECL, ESCROW_ID, GOOD_BODIES, HOST, INSPECTOR, NOW, OBSERVER, ORIGIN, PARTIES, PARTIES_DOC, T
from unveil.board.events import KINDS, Event, make_event, parse_event
from unveil.board.log import Log, MemoryStorage
from unveil.board.parties import Parties, read_parties
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.selection import population_sha256
from unveil.core.statements import sign_statement, statement_message
from unveil.errors import BoardRefused, MalformedInputError

AUTHORS = {kind: HOST for kind in KINDS} | {
    "escrow.accepted": INSPECTOR, "verification.recorded": OBSERVER, "discrepancy.raised": INSPECTOR, "discrepancy.resolved": INSPECTOR,
    "inspection.reported": INSPECTOR,
}
EVENTS = [make_event(kind, ESCROW_ID, T, GOOD_BODIES[kind], [AUTHORS[kind]]) for kind in KINDS]


def parse(doc: Any) -> Event | MalformedInputError:
    event = outcome(parse_event, doc)
    if isinstance(event, Event):
        assert event.entry == canonicalize(doc)  # the log entry is JCS(envelope) (spec §7)
        assert parse_event(loads(event.entry)).entry == event.entry
    return event


@fuzz(30)
@given(st.sampled_from(EVENTS).flatmap(mutated_value) | json_values)
def test_parse_event_on_mutated_events(doc: Any) -> None:
    parse(doc)


@fuzz(20)
@given(st.sampled_from(EVENTS).flatmap(mutated_text))
def test_parse_event_on_mutated_files(data: bytes) -> None:
    doc = outcome(loads, data, source="event")
    if not isinstance(doc, MalformedInputError):
        parse(doc)


@fuzz(20)
@given(mutated_text(PARTIES_DOC) | st.binary(max_size=60))
def test_read_parties_on_mutated_files(data: bytes) -> None:
    parties = outcome(read_parties, data, "PARTIES.json", names="PARTIES.json")
    if isinstance(parties, Parties):
        again = read_parties(json.dumps([p.to_json() for p in parties]).encode())
        assert [p.to_json() for p in again] == [p.to_json() for p in parties]
        assert again.board.role == "board"


def test_the_parties_file_round_trips() -> None:
    assert [p.to_json() for p in PARTIES] == PARTIES_DOC
    assert [p.to_json() for p in read_parties(json.dumps(PARTIES_DOC, indent=2).encode())] == PARTIES_DOC


IDS = st.sampled_from(["phase-1", "phase-2", "phase-2:inspect", "D-1", "S-1", "S-3", ESCROW_ID])
HEX = st.sampled_from(["a" * 64, "c" * 64, "0" * 64]) | st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def bodies(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A well-formed body of ``kind`` (events.py's table), its values drawn."""
    if kind == "escrow.published":
        return {"escrow": DECL.signed}
    if kind == "escrow.accepted":
        return {"cells_sha256": draw(HEX), "root": draw(HEX)}
    if kind == "reveal.published":
        return {"phase": draw(IDS), "sha256": draw(HEX), "openings": draw(st.integers(1, 10))}
    if kind == "coin.committed":  # a first commitment carries the population (spec §8)
        population = sorted(draw(st.lists(IDS, unique=True, min_size=1, max_size=4)))
        body = {"context": draw(IDS), "commitment": draw(HEX), "population_sha256": population_sha256(population).hex(),
                "n": draw(st.integers(1, len(population)))}
        return body | {"population": population} if draw(st.booleans()) else body
    if kind == "coin.revealed":
        return {"context": draw(IDS), "r": draw(HEX)}
    if kind == "selection.drawn":
        selection = draw(st.lists(IDS, unique=True, min_size=1, max_size=3))
        return {"context": draw(IDS), "population_sha256": draw(HEX), "n": len(selection), "seed": draw(HEX), "selection": selection}
    if kind == "verification.recorded":
        valid = draw(st.booleans())
        problems = [] if valid else [{"index": draw(st.none() | st.integers(0, 9)), "reason": "cell-mismatch"}]
        return {"phase": draw(IDS), "sha256": draw(HEX), "valid": valid, "problems": problems}
    if kind == "discrepancy.raised":
        return {"id": draw(IDS), "phase": draw(IDS), "cell": "depot-07", "detail": draw(st.text(max_size=10)), "intel": None}
    return {"id": draw(IDS), "resolution": draw(st.text(max_size=10))}


@st.composite
def submissions(draw: st.DrawFn) -> list[Any]:
    """Up to five submissions: well-formed events of any kind signed by any registered party,
    such events changed and signed again (so that they get past the signature check), or
    changed as bytes."""
    found: list[Any] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(KINDS))
        statement = {"type": "unveil/event/v1", "kind": kind, "escrow_id": draw(st.just(ESCROW_ID) | IDS),
                     "time": draw(st.sampled_from([T, "2019-01-18T16:00:00Z", "2030-01-01T00:00:00Z"])), "body": draw(bodies(kind))}
        how = draw(st.sampled_from(["as is", "as is", "changed", "bytes"]))
        if how == "changed":
            statement = draw(mutated_value(statement))
            try:
                statement_message(statement)
            except MalformedInputError:
                continue
        signers = draw(st.lists(st.sampled_from([HOST, INSPECTOR, OBSERVER, AUTHORS[kind]]), min_size=1, max_size=2))
        envelope = sign_statement(statement, signers)
        found.append(draw(mutated_text(envelope)) if how == "bytes" else envelope)
    return found


@fuzz(20)
@given(submissions())
def test_whatever_the_log_accepts_it_replays(submissions: list[Any]) -> None:
    """A board must reopen over every entry it accepted and its audit must pass: an accepted
    entry that replay refuses would stop the board for good."""
    storage = MemoryStorage()
    log = Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW)
    log.submit(make_event("escrow.published", ESCROW_ID, T, {"escrow": DECL.signed}, [HOST]))
    for doc in submissions:
        try:
            log.submit(doc)
            event("submission accepted")
        except BoardRefused as refused:
            assert refused.reason and refused.message
            event(f"refused: {refused.reason}")
    reopened = Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW)
    assert reopened.size == log.size and reopened.root() == log.root()
    assert reopened.audit().ok


@fuzz(20)
@given(st.lists(st.sampled_from(EVENTS).flatmap(mutated_text) | st.binary(max_size=40), max_size=4))
def test_board_views_of_a_log_with_mutated_entries(extra: list[bytes]) -> None:
    """The views (spec §11) fold any entry, refused or not an event, and every view answers or
    refuses with a reason: a mirror of a hostile board cannot break a party's page."""
    from unveil.board.view import BoardView

    log = Log.open(MemoryStorage(), ORIGIN, BOARD, PARTIES, lambda: NOW)
    log.submit(make_event("escrow.published", ESCROW_ID, T, {"escrow": DECL.signed}, [HOST]))
    view = BoardView(PARTIES, ORIGIN, lambda sha: None)
    view.extend([*log.entries(0, log.size), *extra])
    assert view.size == 1 + len(extra)
    view.summary(view.size, lambda sha: False)
    view.log(0, None, 0)
    view.events(ESCROW_ID, 0)
    view.sites(ESCROW_ID, lambda sha: None)
    view.agreements(0, lambda sha: None)
    view.checkpoints((view.size, "00" * 32), {"Inspector": 1}, 0)
    assert outcome(view.cells, ESCROW_ID, b"depot-01\n", lambda sha: None) is not None
