"""The board's rules for a phase logged in numbered parts (spec §5.1, §7): one reveal per
(phase, part), in ascending order, agreeing on ``parts``, never overlapping, each file matching
its event; the phase complete when every part is logged; replayed alike by an audit and by a
board reopened without reading its files."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.test_board_core import (  # noqa: F401  (board is a fixture)
    CELLS,
    DECL,
    HOST,
    IMPOSTOR_HOST,
    INSPECTOR,
    ORIGIN,
    PARTIES,
    Escrowed,
    T,
    board,
    event,
    file_bytes,
    new_log,
    publish,
    refused,
)
from unveil.api.errors import status_of
from unveil.board.audit import audit
from unveil.board.log import Log, MemoryStorage
from unveil.core.build import reveal_statement
from unveil.core.escrow import parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.statements import sign_statement
from unveil.errors import MalformedInputError
from unveil.escrowing import open_cells


def part_bundle(escrowed: Escrowed, phase: str, indices: list[int], part: int, parts: int, key: Any = None) -> dict[str, Any]:
    openings, proof = open_cells(escrowed.secret, escrowed.escrow_id, CELLS, escrowed.contents, escrowed.commitment.leaves, indices)
    statement = reveal_statement(escrow=parse_escrow(escrowed.statement), phase=phase, openings=openings, proof=proof)
    statement.update({"part": part, "parts": parts})
    return sign_statement(statement, [key or escrowed.signer])


def part_event(log: Log, bundle: dict[str, Any], *, time: str | None = None, **override: Any) -> dict[str, Any]:
    sha = log.put_bundle(file_bytes(bundle))
    statement = bundle["statement"]
    body = {"phase": statement["phase"], "sha256": sha, "openings": len(statement["openings"]),
            **({"part": statement["part"], "parts": statement["parts"]} if "part" in statement else {}), **override}
    body = {k: v for k, v in body.items() if v is not None}
    return event("reveal.published", body, **({"time": time} if time else {}))


def test_the_parts_of_a_phase_are_logged_in_order_and_complete_it(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    assert log.submit(part_event(log, part_bundle(DECL, "phase-1", [0, 1, 2], 1, 3))).created
    assert log.submit(part_event(log, part_bundle(DECL, "phase-1", [4], 2, 3))).created  # index 3 skipped: a phase opens what it opens
    key = (DECL.escrow_id, "phase-1")
    assert not log.state.parted[key].complete and key not in log.state.completed_times
    assert log.submit(part_event(log, part_bundle(DECL, "phase-1", [5, 7], 3, 3))).created
    assert log.state.parted[key].complete and key in log.state.completed_times
    assert log.state.opened[DECL.escrow_id].phases["phase-1"].cells == frozenset(CELLS[i] for i in (0, 1, 2, 4, 5, 7))
    assert len(log.state.logged_bundles()) == 3  # none of the parts is purged as unnamed


def test_a_part_twice_out_of_order_or_disagreeing_is_refused(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    error = refused(log, part_event(log, part_bundle(DECL, "phase-1", [4], 2, 3)))  # part 2 before part 1
    assert (error.reason, status_of(error.reason)) == ("part-order", 422)
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [0, 1], 1, 3)))
    error = refused(log, part_event(log, part_bundle(DECL, "phase-1", [2], 1, 3)))  # part 1 again, other contents
    assert (error.reason, status_of(error.reason)) == ("phase-duplicate", 409)
    error = refused(log, part_event(log, part_bundle(DECL, "phase-1", [4], 2, 4)))  # another count of parts
    assert (error.reason, status_of(error.reason)) == ("parts-mismatch", 422)
    error = refused(log, part_event(log, part_bundle(DECL, "phase-1", [5], 3, 3)))  # part 3 before part 2
    assert error.reason == "part-order"
    error = refused(log, part_event(log, DECL.bundle("phase-1", [6])))  # the whole phase as one file
    assert error.reason == "phase-duplicate"
    assert log.size == 2


def test_a_part_that_overlaps_the_part_below_is_refused(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [0, 3], 1, 2)))
    for indices in ([3, 4], [2], [1, 5]):
        error = refused(log, part_event(log, part_bundle(DECL, "phase-1", indices, 2, 2)))
        assert (error.reason, status_of(error.reason)) == ("part-overlap", 422) and "index 3" in error.message
    assert log.submit(part_event(log, part_bundle(DECL, "phase-1", [4], 2, 2))).created


def test_a_part_of_a_phase_logged_as_one_file_is_a_duplicate(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    log.submit(part_event(log, DECL.bundle("phase-1", [0])))
    assert refused(log, part_event(log, part_bundle(DECL, "phase-1", [1], 1, 2))).reason == "phase-duplicate"


def test_a_replayed_part_is_a_repeat_and_a_re_signed_one_a_duplicate(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    first = part_event(log, part_bundle(DECL, "phase-1", [0], 1, 2))
    assert log.submit(first).created
    assert not log.submit(first).created  # the same entry again: answered as a repeat, nothing added
    later = part_event(log, part_bundle(DECL, "phase-1", [0], 1, 2), time="2019-01-18T15:00:01Z")
    assert refused(log, later).reason == "phase-duplicate"
    assert log.size == 2


def test_a_part_signed_by_another_key_or_not_matching_its_event_is_invalid(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    forged = part_bundle(DECL, "phase-1", [0], 1, 2, key=IMPOSTOR_HOST)
    with pytest.raises(Exception) as info:  # the board refuses to store a file no registered party signed
        log.put_bundle(file_bytes(forged))
    assert getattr(info.value, "reason", "") == "upload-unsigned"
    bundle = part_bundle(DECL, "phase-1", [0], 1, 2)
    assert refused(log, part_event(log, bundle, part=None, parts=None)).reason == "bundle-invalid"  # the event says "whole phase"
    assert refused(log, part_event(log, bundle, parts=3)).reason == "bundle-invalid"
    whole = DECL.bundle("phase-1", [0])
    assert refused(log, part_event(log, whole, part=1, parts=2)).reason == "bundle-invalid"  # a whole file named as a part
    assert log.size == 1


@pytest.mark.parametrize("body", [
    {"part": 0, "parts": 2}, {"part": 3, "parts": 2}, {"part": 1, "parts": 1}, {"part": 1}, {"parts": 2}, {"part": "1", "parts": 2},
])
def test_part_numbers_out_of_range_in_an_event_are_malformed(board: tuple[Log, MemoryStorage], body: dict[str, Any]) -> None:  # noqa: F811
    log, _ = board
    statement = {"type": "unveil/event/v1", "kind": "reveal.published", "escrow_id": DECL.escrow_id, "time": T,
                 "body": {"phase": "phase-1", "sha256": "a" * 64, "openings": 1, **body}}
    error = refused(log, sign_statement(statement, [HOST]))  # signed as it is: make_event would refuse to build it
    assert (error.reason, status_of(error.reason)) == ("malformed", 400), error


def test_the_file_itself_must_have_part_numbers_in_range() -> None:
    from unveil.core.reveal import parse_reveal

    statement = part_bundle(DECL, "phase-1", [0], 1, 2)["statement"]
    for bad in ({"part": 3}, {"parts": len(CELLS) + 1}, {"part": True}):
        with pytest.raises(MalformedInputError):
            parse_reveal({**statement, **bad})


def test_a_verification_may_name_any_logged_part(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    one, two = part_bundle(DECL, "phase-1", [0], 1, 2), part_bundle(DECL, "phase-1", [1], 2, 2)
    log.submit(part_event(log, one))
    log.submit(part_event(log, two))
    for bundle in (one, two):
        sha = hashlib.sha256(file_bytes(bundle)).hexdigest()
        body = {"phase": "phase-1", "sha256": sha, "valid": True, "problems": []}
        assert log.submit(event("verification.recorded", body, INSPECTOR)).created
    other = {"phase": "phase-1", "sha256": "c" * 64, "valid": True, "problems": []}
    assert refused(log, event("verification.recorded", other, INSPECTOR)).reason == "verification-mismatch"


def test_ids_repeated_across_parts_are_refused(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    log, _ = board
    two_stories = Escrowed("two-stories-parts", HOST, {
        "depot-02": {"cell": "depot-02", "sites": [{"id": "D-2", "kind": "other", "items": []}]},
        "depot-05": {"cell": "depot-05", "sites": [{"id": "D-2", "kind": "other", "items": []}]},
    })
    log.submit(publish(two_stories))

    def part(indices: list[int], k: int) -> dict[str, Any]:
        bundle = part_bundle(two_stories, "phase-1", indices, k, 2)
        return event("reveal.published", {"phase": "phase-1", "sha256": log.put_bundle(file_bytes(bundle)), "openings": len(indices),
                                          "part": k, "parts": 2}, HOST, two_stories.escrow_id)

    log.submit(part([1], 1))
    error = refused(log, part([4], 2))
    assert error.reason == "site-id-duplicate" and [p.index for p in error.problems] == [4]


def test_an_audit_and_a_reopened_board_apply_the_same_rules_to_parts() -> None:
    log, storage = new_log()
    log.submit(publish())
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [0, 3], 1, 3)))
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [4], 2, 3)))
    forged = [part_event(log, part_bundle(DECL, "phase-1", [2], 3, 3))]  # overlaps part 2 (appended behind the board's checks)
    storage.entries.extend(canonicalize(doc) for doc in forged)
    report = audit(storage.entries, PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    assert [(p.index, p.reason) for p in report.problems] == [(3, "part-overlap")]
    assert report.to_json()["parted_phases"] == [
        {"escrow_id": DECL.escrow_id, "phase": "phase-1", "parts": 3, "logged": [1, 2], "complete": False, "final": None}]
    storage.entries.pop()
    again = Log.open(storage, ORIGIN, log._key, PARTIES, lambda: log._now(), check_bundles=False)  # type: ignore[attr-defined]
    assert again.state.parted[(DECL.escrow_id, "phase-1")].last is None  # not read yet: read from part 2's file when needed
    assert refused(again, part_event(again, part_bundle(DECL, "phase-1", [2], 3, 3))).reason == "part-overlap"
    assert again.submit(part_event(again, part_bundle(DECL, "phase-1", [6], 3, 3))).created
    report = audit(storage.entries, PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    assert report.ok and report.parted_phases[0]["complete"] is True


def test_a_reveal_phase_obligation_waits_for_the_last_part() -> None:
    """Spec §12 with §5.1: the phase counts as revealed only once every part is logged."""
    log, _ = new_log()
    log.submit(publish())
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [0], 1, 2)))
    assert "phase-1" not in {phase for (_, phase) in log.state.completed_times}
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [1], 2, 2), time="2019-01-18T15:00:05Z"))
    assert log.state.completed_times[(DECL.escrow_id, "phase-1")] == log.state.latest_time


def test_a_discrepancys_intel_bundle_is_whole_not_a_part(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    from tests.test_board_core import INTEL

    log, _ = board
    intel = Escrowed("intel-parts", INSPECTOR, INTEL, shadows=DECL.escrow_id)
    log.submit(publish(intel))
    log.submit(part_event(log, DECL.bundle("phase-1", [6])))
    openings, proof = open_cells(intel.secret, intel.escrow_id, CELLS, intel.contents, intel.commitment.leaves, [6], intel=True)
    statement = reveal_statement(escrow=parse_escrow(intel.statement), phase="challenge", openings=openings, proof=proof)
    statement.update({"part": 1, "parts": 2})
    body = {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "x", "intel": sign_statement(statement, [INSPECTOR])}
    error = refused(log, event("discrepancy.raised", body, INSPECTOR))
    assert error.reason == "intel-invalid" and "part" in error.message
    body["intel"] = intel.bundle("challenge", [6])
    assert log.submit(event("discrepancy.raised", body, INSPECTOR)).created


def test_intel_logged_between_parts_does_not_predate_the_phase(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    """Spec §7 with §5.1: a phase in parts is revealed from its first part on."""
    from tests.test_board_core import INTEL

    log, _ = board
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [0], 1, 2)))
    intel = Escrowed("intel-between", INSPECTOR, INTEL, shadows=DECL.escrow_id)
    log.submit(publish(intel))  # after part 1, before part 2
    log.submit(part_event(log, part_bundle(DECL, "phase-1", [6], 2, 2)))  # depot-07
    body = {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "x", "intel": intel.bundle("challenge", [6])}
    assert log.submit(event("discrepancy.raised", body, INSPECTOR)).created
    assert log.state.discrepancy_views()[0]["intel_predates_reveal"] is False


def test_a_part_over_16_mib_is_refused_whatever_the_upload_limit(board: tuple[Log, MemoryStorage]) -> None:  # noqa: F811
    """A board may take larger uploads; a part is still at most 16 MiB (spec §5.1)."""
    from unveil.core.reveal import PART_MAX_BYTES

    log, _ = board
    bundle = part_bundle(DECL, "phase-1", [0], 1, 2)
    data = file_bytes(bundle) + b" " * PART_MAX_BYTES  # the same statement, padded past the limit
    sha = log.put_bundle(data)
    body = {"phase": "phase-1", "sha256": sha, "openings": 1, "part": 1, "parts": 2}
    error = refused(log, event("reveal.published", body))
    assert error.reason == "bundle-invalid" and [p.reason for p in error.problems] == ["part-too-large"]
