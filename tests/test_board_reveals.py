"""The board's reveal, verification and discrepancy rules (spec §5 "One declaration across
phases", §7 project event kinds): refused live, replayed by an audit, and kept by a board that
reopens without re-reading its files (unveil.board.reveals)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.test_board_core import (  # noqa: F401  (board is a fixture)
    DECL,
    ESCROW_ID,
    HOST,
    INSPECTOR,
    INTEL,
    ORIGIN,
    PARTIES,
    Escrowed,
    board,
    event,
    file_bytes,
    new_log,
    publish,
    refused,
    reveal_event,
)
from unveil.api.errors import status_of
from unveil.board.audit import audit
from unveil.board.log import Log, MemoryStorage
from unveil.core.jcs import canonicalize
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused, VerificationError


def warheads(site_id: str, cell: str, serials: list[str]) -> dict[str, Any]:
    return {"cell": cell, "sites": [{"id": site_id, "kind": "weapons-storage", "items": [
        {"category": "warhead", "quantity": len(serials), "unit": "count", "serials": serials}]}]}


# A host that declares serial W-1 in two cells and site D-2 in two cells (depot-02 and 05, 02 and 04).
TWO_STORIES = Escrowed("two-stories", HOST, {
    "depot-02": warheads("D-2", "depot-02", ["W-1", "W-2"]),
    "depot-04": warheads("D-2", "depot-04", ["W-7"]),
    "depot-05": warheads("D-5", "depot-05", ["W-1"]),
})


def reveal_of(log: Log, escrowed: Escrowed, phase: str, indices: list[int]) -> dict[str, Any]:
    bundle = escrowed.bundle(phase, indices)
    sha = log.put_bundle(file_bytes(bundle))
    return event("reveal.published", {"phase": phase, "sha256": sha, "openings": len(indices)}, escrowed.signer, escrowed.escrow_id)


def test_a_reveal_that_repeats_an_id_of_an_earlier_phase_is_refused(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    log.submit(publish(TWO_STORIES))
    assert log.submit(reveal_of(log, TWO_STORIES, "phase-1", [1])).created  # depot-02: D-2 with W-1, W-2
    error = refused(log, reveal_of(log, TWO_STORIES, "phase-2", [4]))  # depot-05: W-1 again
    assert (error.reason, status_of(error.reason)) == ("serial-duplicate", 422)
    assert [(p.index, p.reason) for p in error.problems] == [(4, "serial-duplicate")] and "'phase-1'" in error.problems[0].detail
    error = refused(log, reveal_of(log, TWO_STORIES, "phase-2", [3]))  # depot-04: site D-2 again
    assert (error.reason, status_of(error.reason)) == ("site-id-duplicate", 422) and "'phase-1'" in error.message
    assert log.submit(reveal_of(log, TWO_STORIES, "phase-2", [0, 1, 2])).created  # depot-02 opened again: no duplicate
    error = refused(log, reveal_of(log, TWO_STORIES, "phase-3", [1, 4]))  # one bundle with both: the verifier's own check
    assert error.reason == "bundle-invalid" and "serial-duplicate" in {p.reason for p in error.problems}
    assert log.size == 4  # the test escrow, this one, phases 1 and 2


def test_a_board_reopened_without_reading_its_files_still_refuses_a_repeat(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, storage = board
    log.submit(publish(TWO_STORIES))
    log.submit(reveal_of(log, TWO_STORIES, "phase-1", [1]))
    again = Log.open(storage, ORIGIN, log._key, PARTIES, lambda: log._now(), check_bundles=False)  # type: ignore[attr-defined]
    assert [phase for phase, _ in again.state.opened["two-stories"].unread] == ["phase-1"]  # the file is read only when a check needs it
    assert refused(again, reveal_of(again, TWO_STORIES, "phase-2", [4])).reason == "serial-duplicate"
    assert again.state.opened["two-stories"].unread == []
    assert again.submit(reveal_of(again, TWO_STORIES, "phase-2", [5])).created


def test_an_audit_replays_the_repeat_rule() -> None:
    """A board that logged a repeating reveal (an older version, or a dishonest one): the audit
    names the entry, and a board will not open such a log."""
    log, storage = new_log()
    log.submit(publish())
    log.submit(publish(TWO_STORIES))
    log.submit(reveal_of(log, TWO_STORIES, "phase-1", [1]))
    other = "two-stories"
    forged = [  # appended behind the board's checks
        reveal_of(log, TWO_STORIES, "phase-2", [4]),
        event("verification.recorded", {"phase": "phase-1", "sha256": "c" * 64, "valid": True, "problems": []}, INSPECTOR, other),
        event("discrepancy.raised", {"id": "D-1", "phase": "phase-9", "cell": "depot-02", "detail": "x", "intel": None}, INSPECTOR, other),
        event("discrepancy.raised", {"id": "D-2", "phase": "phase-1", "cell": "depot-08", "detail": "x", "intel": None}, INSPECTOR, other),
    ]
    storage.entries.extend(canonicalize(doc) for doc in forged)
    report = audit(storage.entries, PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    assert [(p.index, p.reason) for p in report.problems] == [
        (3, "serial-duplicate"), (4, "verification-mismatch"), (5, "phase-unknown"), (6, "cell-not-opened")]
    without_files = audit(storage.entries, PARTIES, ORIGIN, [])  # the rules that read the files are skipped
    assert [(p.index, p.reason) for p in without_files.problems] == [(4, "verification-mismatch"), (5, "phase-unknown")]
    with pytest.raises(VerificationError) as info:
        new_log(storage)
    assert {"serial-duplicate", "verification-mismatch", "phase-unknown", "cell-not-opened"} <= info.value.reasons


def test_a_verification_names_the_logged_file_of_its_phase(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    """The attack: a verification recorded for a bundle the host showed one inspector privately."""
    log, _ = board
    shown = file_bytes(DECL.bundle("phase-1", [3]))  # never logged

    def verification(data: bytes, phase: str = "phase-1") -> dict[str, Any]:
        return event("verification.recorded", {"phase": phase, "sha256": hashlib.sha256(data).hexdigest(), "valid": True, "problems": []}, INSPECTOR)

    error = refused(log, verification(shown))
    assert (error.reason, status_of(error.reason)) == ("verification-mismatch", 422) and "no phase 'phase-1'" in error.message
    logged = file_bytes(DECL.bundle("phase-1", [0, 1, 2]))
    log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1, 2])))
    error = refused(log, verification(shown))
    assert error.reason == "verification-mismatch" and hashlib.sha256(logged).hexdigest() in error.message
    assert refused(log, verification(logged, phase="phase-2")).reason == "verification-mismatch"
    assert log.submit(verification(logged)).created


def test_a_discrepancy_names_a_revealed_phase_and_a_cell_it_opened(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    raised = {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "a site we know of", "intel": None}
    error = refused(log, event("discrepancy.raised", raised, INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("phase-unknown", 422)
    log.submit(reveal_event(log, DECL.bundle("phase-1", [1, 2])))  # depot-02, depot-03
    error = refused(log, event("discrepancy.raised", raised, INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("cell-not-opened", 422)
    assert log.submit(event("discrepancy.raised", {**raised, "cell": "depot-03"}, INSPECTOR)).created
    assert log.state.discrepancy_views()[0]["intel_predates_reveal"] is None


def test_late_intelligence_is_logged_as_not_predating_the_reveal(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    """The attack: intelligence sealed after the reveals (--allow-late) offered as evidence for
    a phase-1 discrepancy. It may be logged, but every view says it does not predate phase 1."""
    log, storage = board
    log.submit(reveal_event(log, DECL.bundle("phase-1", [6])))  # entry 1: depot-07
    intel = Escrowed("intel-late", INSPECTOR, INTEL, shadows=ESCROW_ID)
    log.submit(publish(intel))  # entry 2: after the reveal
    log.submit(reveal_event(log, DECL.bundle("phase-2", [6]), phase="phase-2"))  # entry 3: after the intel escrow
    for id, phase in (("late", "phase-1"), ("early", "phase-2")):
        body = {"id": id, "phase": phase, "cell": "depot-07", "detail": "suspected store", "intel": intel.bundle(f"challenge-{id}", [6])}
        log.submit(event("discrepancy.raised", body, INSPECTOR))
    views = [(v["id"], v["intel_escrow"], v["intel_predates_reveal"]) for v in log.state.discrepancy_views()]
    assert views == [("late", "intel-late", False), ("early", "intel-late", True)]
    entries = list(storage.load_entries())
    report = audit([e for _, e in entries], PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    assert report.ok and [(d["id"], d["intel_predates_reveal"]) for d in report.discrepancies] == [("late", False), ("early", True)]
    assert report.to_json()["discrepancies"] == list(report.discrepancies)
    assert new_log(storage)[0].state.discrepancy_views() == log.state.discrepancy_views()  # the same after a restart


def test_intel_bundles_that_repeat_a_suspect_id_are_refused(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    """Spec §9: suspect ids are unique across the intel escrow, whichever bundles open it."""
    log, _ = board
    twice = {**INTEL, "depot-02": {"cell": "depot-02", "suspects": [
        {"id": "Q-1", "kind": "weapons-storage", "lat": 10.0, "lon": 20.0, "radius_m": 100, "confidence": 0.5}]}}
    intel = Escrowed("intel-twice", INSPECTOR, twice, shadows=ESCROW_ID)
    log.submit(publish(intel))
    log.submit(reveal_event(log, DECL.bundle("phase-1", [1, 6])))
    first = {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "x", "intel": intel.bundle("c-1", [6])}
    assert log.submit(event("discrepancy.raised", first, INSPECTOR)).created
    second = {"id": "D-2", "phase": "phase-1", "cell": "depot-02", "detail": "y", "intel": intel.bundle("c-2", [1])}
    error = refused(log, event("discrepancy.raised", second, INSPECTOR))
    assert error.reason == "suspect-id-duplicate" and "'c-1'" in error.problems[0].detail
    assert refused(log, reveal_of(log, intel, "c-3", [1])).reason == "suspect-id-duplicate"  # published as a reveal: the same
    again = {**first, "id": "D-3", "intel": intel.bundle("c-4", [6])}  # the same cell opened again: no repeat
    assert log.submit(event("discrepancy.raised", again, INSPECTOR)).created


# --- a reveal file is checked ahead, off the writer (Log.precheck), with the same outcome -------


def _outcome(result: object) -> object:
    if isinstance(result, Exception):
        return (type(result).__name__, getattr(result, "reason", None), str(result), [p.to_json() for p in getattr(result, "problems", ())])
    return ("receipt", result.index, result.created)  # type: ignore[attr-defined]


def _sequence(log: Log) -> list[dict[str, Any]]:
    """Reveals of every outcome: valid, an id repeated from an earlier phase, a file whose proof
    fails, one that cannot be read, one whose event names another phase or opening count, a
    file the board does not hold, and an escrow the board does not know."""
    def behind_the_upload_check(data: bytes) -> str:  # files a board of an older version may hold
        sha = hashlib.sha256(data).hexdigest()
        log._storage.put_bundle(sha, data)  # type: ignore[attr-defined]
        return sha

    tampered = TWO_STORIES.bundle("phase-3", [0])
    tampered["statement"]["proof"] = ["0" * 64 for _ in tampered["statement"]["proof"]]
    tampered_sha = behind_the_upload_check(file_bytes(tampered))
    unreadable_sha = behind_the_upload_check(b'{"statement": {"type": "unveil/reveal/v1"}, "signatures": []}')
    wrong_phase = reveal_of(log, TWO_STORIES, "phase-5", [2])
    wrong_phase["statement"]["body"]["phase"] = "phase-6"
    return [
        reveal_of(log, TWO_STORIES, "phase-1", [1]),
        reveal_of(log, TWO_STORIES, "phase-2", [4]),  # W-1 again: serial-duplicate
        event("reveal.published", {"phase": "phase-3", "sha256": tampered_sha, "openings": 1}, HOST, "two-stories"),
        event("reveal.published", {"phase": "phase-4", "sha256": unreadable_sha, "openings": 1}, HOST, "two-stories"),
        event(wrong_phase["statement"]["kind"], wrong_phase["statement"]["body"], HOST, "two-stories"),
        event("reveal.published", {"phase": "phase-7", "sha256": "e" * 64, "openings": 1}, HOST, "two-stories"),
        event("reveal.published", {"phase": "phase-8", "sha256": log.put_bundle(file_bytes(TWO_STORIES.bundle("phase-8", [5]))), "openings": 1}, HOST, "nobody"),
        reveal_of(log, TWO_STORIES, "phase-9", [0, 2]),
    ]


def test_a_reveal_checked_ahead_has_the_outcome_of_one_checked_by_the_writer() -> None:
    plain, _ = new_log()
    ahead, _ = new_log()
    outcomes: dict[str, list[object]] = {"plain": [], "ahead": []}
    for name, log in (("plain", plain), ("ahead", ahead)):
        log.submit(publish(TWO_STORIES))
        for doc in _sequence(log):
            prepared = log.prepare(canonicalize(doc))
            if name == "ahead":
                log.precheck(prepared)
            outcomes[name].append(_outcome(log.submit_many([prepared])[0]))
    assert outcomes["plain"] == outcomes["ahead"]
    reasons = [o[1] for o in outcomes["plain"] if o[0] != "receipt"]
    assert reasons == ["serial-duplicate", "bundle-invalid", "bundle-invalid", "bundle-invalid", "bundle-missing", "escrow-unknown"]
    assert plain.root() == ahead.root() and plain.size == ahead.size == 3  # the escrow, phases 1 and 9


def test_the_writer_does_not_check_a_file_that_was_checked_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack: a registered host publishes 16 MiB reveals (reopening the same cells phase
    after phase) so that every other submission waits while the writer verifies each file."""
    from unveil.board import protocol

    calls: list[str] = []
    real = protocol.check_bundle
    monkeypatch.setattr(protocol, "check_bundle", lambda *a, **k: calls.append("check") or real(*a, **k))
    log, _ = new_log()
    log.submit(publish(TWO_STORIES))
    prepared = log.prepare(canonicalize(reveal_of(log, TWO_STORIES, "phase-1", [0, 1])))
    assert log.precheck(prepared) and calls == ["check"]
    calls.clear()
    assert log.submit_many([prepared])[0].created  # type: ignore[union-attr]
    assert calls == []  # the writer took the verdict
    again = log.prepare(canonicalize(reveal_of(log, TWO_STORIES, "phase-2", [0])))
    assert log.submit_many([again])[0].created and calls == ["check"]  # type: ignore[union-attr]  # not checked ahead: the writer checks
    unknown = log.prepare(canonicalize(event("reveal.published", {"phase": "p", "sha256": "e" * 64, "openings": 1}, HOST, "two-stories")))
    assert not log.precheck(unknown)  # no such file: nothing kept


def test_the_api_checks_a_reveal_file_in_another_process_before_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked in this process, even off the writer, a 16 MiB file holds the interpreter lock
    from every other request: the API checks it on the checker, in a process of its own. The
    check here is patched to count; the child's is not, so it counts nothing but the writer's
    and this process's own. A bad file gets the writer's refusal, problems and all."""
    from fastapi.testclient import TestClient

    from unveil.api.app import create_app
    from unveil.board import protocol

    calls: list[str] = []
    real = protocol.check_bundle
    monkeypatch.setattr(protocol, "check_bundle", lambda *a, **k: calls.append("check") or real(*a, **k))
    log, _ = new_log()
    log.submit(publish(TWO_STORIES))
    statement = TWO_STORIES.bundle("phase-2", [2])["statement"]
    statement["proof"] = ["0" * 64 for _ in statement["proof"]]
    tampered = sign_statement(statement, [TWO_STORIES.signer])  # signed by the host: the upload is stored
    with TestClient(create_app(log)) as http:
        answer = http.post("/entries", content=canonicalize(reveal_of(log, TWO_STORIES, "phase-1", [0])))
        assert answer.status_code == 201
        assert calls == []  # neither the writer nor a thread of this process checked it
        sha = http.put(f"/bundles/{hashlib.sha256(file_bytes(tampered)).hexdigest()}", content=file_bytes(tampered)).json()["sha256"]
        refused = http.post("/entries", content=canonicalize(event("reveal.published", {"phase": "phase-2", "sha256": sha, "openings": 1}, HOST, "two-stories")))
    assert calls == []
    plain, _ = new_log()
    plain.submit(publish(TWO_STORIES))
    plain.submit(reveal_of(plain, TWO_STORIES, "phase-1", [0]))
    plain.put_bundle(file_bytes(tampered))
    expected = plain.submit_many([plain.prepare(canonicalize(event("reveal.published", {"phase": "phase-2", "sha256": sha, "openings": 1}, HOST, "two-stories")))])[0]
    assert isinstance(expected, BoardRefused) and expected.problems
    assert refused.status_code == 422 and refused.json()["reason"] == expected.reason
    assert refused.json()["problems"] == [p.to_json() for p in expected.problems]


def test_if_the_checker_process_dies_the_writer_checks_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from unveil.api.app import create_app
    from unveil.api.checker import Checker, CheckerFailed
    from unveil.board import protocol

    def dies(self: Checker, fn: Any, *args: Any) -> Any:
        raise CheckerFailed("killed")

    calls: list[str] = []
    real = protocol.check_bundle
    monkeypatch.setattr(protocol, "check_bundle", lambda *a, **k: calls.append("check") or real(*a, **k))
    monkeypatch.setattr(Checker, "run", dies)
    log, _ = new_log()
    log.submit(publish(TWO_STORIES))
    with TestClient(create_app(log)) as http:
        assert http.post("/entries", content=canonicalize(reveal_of(log, TWO_STORIES, "phase-1", [0]))).status_code == 201
    assert calls == ["check"]  # the writer's own
