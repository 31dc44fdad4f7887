"""The board's draw rules (spec §7, §8): the inspecting party fixes the population and n before
any coin, every commitment names them, and the board recomputes the selection, so no party can
log a selection first that the others cannot replace. The board, keys and escrow are
tests/test_board_core.py's."""

from __future__ import annotations

from typing import Any

import pytest

from tests import test_board_core
from tests.test_board_core import (
    CONTENTS,
    CONTEXT,
    HOST,
    INSPECTOR,
    OBSERVER,
    ORIGIN,
    PARTIES,
    POPULATION,
    POPULATION_SHA,
    R_HOST,
    R_INSPECTOR,
    SEED,
    Escrowed,
    N,
    T,
    commit,
    event,
    new_log,
    publish,
    refused,
    reveal_coin,
    selection,
)
from unveil.api.errors import status_of
from unveil.board.audit import audit
from unveil.board.log import Log
from unveil.core.jcs import canonicalize
from unveil.core.keys import SigningKey
from unveil.core.selection import draw_seed, population_sha256, select
from unveil.core.statements import sign_statement

board = test_board_core.board
"""The fixture: a log with one published escrow, over each storage (memory, SQLite, PostgreSQL)."""


def _revealed(log: Log) -> None:
    """Both parties committed (the inspector first, with the population) and revealed."""
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    log.submit(commit(HOST, R_HOST))
    log.submit(reveal_coin(HOST, R_HOST))
    log.submit(reveal_coin(INSPECTOR, R_INSPECTOR))


def _raw(kind: str, body: dict[str, Any], key: SigningKey, time: str = T) -> dict[str, Any]:
    """A signed event that skips make_event's own shape check: what a hostile party sends."""
    return sign_statement({"type": "unveil/event/v1", "kind": kind, "escrow_id": "board-test-1", "time": time, "body": body}, [key])


def test_a_host_commitment_before_the_population_is_logged_is_refused(board: tuple[Log, Any]) -> None:
    log, _ = board
    error = refused(log, commit(HOST, R_HOST))
    assert (error.reason, status_of(error.reason)) == ("population-missing", 422)
    assert "inspecting party" in error.message
    # an inspector's first commitment without the population cannot open the draw either
    body = {k: v for k, v in commit(INSPECTOR, R_INSPECTOR)["statement"]["body"].items() if k != "population"}
    assert refused(log, event("coin.committed", body, INSPECTOR)).reason == "population-missing"
    # nor can a host that carries a population of its own choosing
    own = ["S-1", "S-2"]
    chosen = commit(HOST, R_HOST, population=own, population_sha256=population_sha256(own).hex(), n=1)
    assert refused(log, chosen).reason == "population-missing"
    assert log.size == 1
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    assert log.submit(commit(HOST, R_HOST)).created  # now it names the logged population


def test_a_commitment_naming_another_population_or_n_is_refused(board: tuple[Log, Any]) -> None:
    log, _ = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    other = population_sha256(POPULATION[:-1]).hex()
    error = refused(log, commit(HOST, R_HOST, population_sha256=other))
    assert (error.reason, status_of(error.reason)) == ("population-mismatch", 422)
    assert POPULATION_SHA in error.message and other in error.message
    assert refused(log, commit(HOST, R_HOST, n=N + 1)).reason == "population-mismatch"
    assert refused(log, commit(HOST, R_HOST, n=1)).reason == "population-mismatch"


def test_a_second_population_in_a_later_commitment_is_refused(board: tuple[Log, Any]) -> None:
    log, _ = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    same = commit(HOST, R_HOST, population=POPULATION)  # even the logged one: only the first carries it
    assert refused(log, same).reason == "population-mismatch"
    fewer = POPULATION[:2]
    narrowed = commit(HOST, R_HOST, population=fewer, population_sha256=population_sha256(fewer).hex(), n=1)
    assert refused(log, narrowed).reason == "population-mismatch"
    assert log.submit(commit(HOST, R_HOST)).created


def test_the_exact_preemption_is_refused_and_the_true_selection_logged(board: tuple[Log, Any]) -> None:
    """After both reveals the host logs a selection with the right seed, n 0 and a made-up
    population hash: refused, so the true selection can still be logged."""
    log, _ = board
    _revealed(log)
    forged = _raw("selection.drawn", {"context": CONTEXT, "population_sha256": "ab" * 32, "n": 0, "seed": SEED.hex(), "selection": []}, HOST)
    error = refused(log, forged)
    assert (error.reason, status_of(error.reason)) == ("malformed", 400)
    assert "statement.body.n" in error.message
    made_up = selection(SEED, key=HOST, population_sha256="ab" * 32)
    error = refused(log, made_up)
    assert (error.reason, status_of(error.reason)) == ("selection-mismatch", 422)
    assert refused(log, selection(SEED, key=HOST, n=1, selection=select(POPULATION, 1, SEED))).reason == "selection-mismatch"
    assert log.submit(selection(SEED, key=INSPECTOR)).created
    assert log.audit().ok


def test_a_selection_other_than_the_computed_one_is_refused(board: tuple[Log, Any]) -> None:
    log, _ = board
    _revealed(log)
    true = select(POPULATION, N, SEED)
    reordered = [true[1], true[0], *true[2:]]  # the right members, in another order
    error = refused(log, selection(SEED, key=HOST, selection=reordered))
    assert error.reason == "selection-mismatch" and ", ".join(true) in error.message
    chosen = [m for m in POPULATION if m not in true][:N]  # the host's own picks, of the right size
    assert refused(log, selection(SEED, key=HOST, selection=chosen)).reason == "selection-mismatch"
    other_seed = draw_seed(CONTEXT, {HOST.vkey: R_INSPECTOR, INSPECTOR.vkey: R_HOST})
    assert refused(log, selection(other_seed, key=HOST)).reason == "selection-invalid"
    assert log.submit(selection(SEED, key=HOST)).created  # the computed one, whoever logs it


def test_a_replayed_selection_is_refused(board: tuple[Log, Any]) -> None:
    log, _ = board
    _revealed(log)
    true = selection(SEED)
    assert log.submit(true).created
    assert log.submit(true).created is False  # the same entry again: nothing new
    error = refused(log, selection(SEED, key=HOST))  # the same statement signed by another party
    assert (error.reason, status_of(error.reason)) == ("statement-conflict", 409)
    later = event("selection.drawn", true["statement"]["body"], OBSERVER, time="2019-01-18T15:00:30Z")
    error = refused(log, later)
    assert (error.reason, status_of(error.reason)) == ("selection-duplicate", 409)
    # the same selection replayed into a context whose coins are not in
    moved = event("selection.drawn", {**true["statement"]["body"], "context": "phase-3:inspect"}, OBSERVER)
    assert refused(log, moved).reason == "selection-early"


def test_a_population_logged_in_another_context_does_not_open_this_one(board: tuple[Log, Any]) -> None:
    log, _ = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))  # the inspecting party of CONTEXT
    elsewhere = "phase-3:inspect"
    assert refused(log, commit(HOST, R_HOST, context=elsewhere)).reason == "population-missing"
    # the inspector's coin of CONTEXT does not count in the other context either
    moved = event("coin.revealed", {"context": elsewhere, "r": R_INSPECTOR.hex()}, INSPECTOR)
    assert refused(log, moved).reason == "coin-early"
    # and its population belongs to this escrow's draw: another escrow cannot borrow the context
    other = Escrowed("board-test-5", HOST, CONTENTS)
    log.submit(publish(other))
    borrowed = event("coin.committed", commit(HOST, R_HOST)["statement"]["body"], HOST, escrow_id="board-test-5")
    assert refused(log, borrowed).reason == "context-mismatch"
    log.submit(commit(HOST, R_HOST))
    assert log.submit(commit(INSPECTOR, R_INSPECTOR, context=elsewhere, population=POPULATION[:4],
                                    population_sha256=population_sha256(POPULATION[:4]).hex(), n=2)).created


def test_audit_reports_preempting_entries_written_into_storage() -> None:
    """A board that wrote the attack's entries anyway is caught by anyone replaying its log."""
    log, storage = new_log()
    log.submit(publish())
    entries = list(storage.entries)
    host_first = canonicalize(commit(HOST, R_HOST))
    forged = canonicalize(_raw("selection.drawn", {"context": CONTEXT, "population_sha256": "ab" * 32, "n": 0, "seed": SEED.hex(),
                                                  "selection": []}, HOST))
    made_up = canonicalize(selection(SEED, key=HOST, population_sha256="ab" * 32))
    reordered = select(POPULATION, N, SEED)[::-1]
    wrong_order = canonicalize(selection(SEED, key=HOST, selection=reordered))
    second_population = canonicalize(commit(HOST, R_HOST, population=POPULATION))
    entries += [
        host_first,                                               # 1: before any population
        canonicalize(commit(INSPECTOR, R_INSPECTOR)),             # 2
        second_population,                                        # 3: a later commitment with a population
        canonicalize(commit(HOST, R_HOST)),                       # 4
        canonicalize(reveal_coin(HOST, R_HOST)),                  # 5
        canonicalize(reveal_coin(INSPECTOR, R_INSPECTOR)),        # 6
        forged,                                                   # 7: n 0 (not an event under spec 1.1)
        made_up,                                                  # 8: a made-up population hash
        wrong_order,                                              # 9: the right members, reordered
        canonicalize(selection(SEED)),                            # 10: the true selection
    ]
    report = audit(entries, PARTIES, ORIGIN, [])
    assert [(p.index, p.reason) for p in report.problems] == [
        (1, "population-missing"), (3, "population-mismatch"), (7, "entry-malformed"), (8, "selection-mismatch"), (9, "selection-mismatch")]
    storage.entries[:] = entries  # written straight into the board's storage: its own audit says the same
    assert log.audit().problems == report.problems


@pytest.mark.parametrize("n", [0, len(POPULATION) + 1])
def test_select_of_the_logged_population_bounds_n(n: int) -> None:
    """The board refuses what select() could not compute: n outside [1, population]."""
    log, _ = new_log()
    log.submit(publish())
    body = commit(INSPECTOR, R_INSPECTOR)["statement"]["body"]
    error = refused(log, _raw("coin.committed", {**body, "n": n}, INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("malformed", 400)
    assert log.size == 1
