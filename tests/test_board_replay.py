"""Acceptance is replay (spec §7: a board MUST NOT accept an entry that a replay of its log would
refuse). For Hypothesis-drawn sequences of requests to the board's API over SQLite — valid
events in any order, invalid ones, repeats, uploads — checked after every request:

- what the board accepted, and only that, is in its storage; reopened (``Log.open``) it
  replays to the same tree, and ``unveil audit --db`` passes (exit 0);
- what the board refused, appended to what it had accepted then, is refused by the replay too
  (an audit problem at that index), except the two time checks, which read the board's clock
  and are the spec's one exception;
- the board's receipts are the replay's indices.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from tests.board_fixtures import (
    BOARD,
    CONTEXT,
    DECL,
    HOST,
    INSPECTOR,
    NOW,
    ORIGIN,
    PARTIES,
    R_HOST,
    R_INSPECTOR,
    commit,
    event,
    publish,
    reveal_coin,
    selection,
)
from tests.test_board_core import INTEL, MALLORY, OBSERVER, PARTIES_DOC, Escrowed, file_bytes
from tests.test_board_parts import part_bundle
from unveil.api.app import create_app
from unveil.board.audit import audit
from unveil.board.log import Log
from unveil.cli.main import main as cli_main
from unveil.core.reasons import Reason
from unveil.core.selection import draw_seed
from unveil.core.statements import sign_statement
from unveil.store.board_db import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

CLOCK_READ = {Reason.TIME_FUTURE, Reason.TIME_OUT_OF_RANGE}
"""Refusals that read the board's clock: an audit does not repeat them (spec §7)."""

INTEL_ESCROW = Escrowed("intel-1", INSPECTOR, INTEL, shadows=DECL.escrow_id)


def _doc(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def _forged(envelope: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(envelope)
    forged["signatures"][0]["sig"] = forged["signatures"][0]["sig"][:-4] + "AAA="
    return forged


def _upload(data: bytes) -> tuple[str, bytes]:
    return ("PUT", data)


def _post(envelope: dict[str, Any] | bytes) -> tuple[str, bytes]:
    return ("POST", envelope if isinstance(envelope, bytes) else _doc(envelope))


BUNDLE = file_bytes(DECL.bundle("phase-1", [0, 1, 2]))
BUNDLE_2 = file_bytes(DECL.bundle("phase-2", [3, 4]))
SHA = hashlib.sha256(BUNDLE).hexdigest()
SHA_2 = hashlib.sha256(BUNDLE_2).hexdigest()
SEED = draw_seed(CONTEXT, {HOST.vkey: R_HOST, INSPECTOR.vkey: R_INSPECTOR})
VERIFY = {"phase": "phase-1", "sha256": SHA, "valid": True, "problems": []}
RAISED = {"id": "D-1", "phase": "phase-1", "cell": "depot-02", "detail": "look", "intel": None}
PARTS = [file_bytes(part_bundle(DECL, "phase-3", indices, k, n)) for indices, k, n in (([5], 1, 2), ([6, 7], 2, 2), ([5, 6], 2, 2), ([7], 2, 3))]


def _part(data: bytes, k: int, n: int) -> tuple[str, bytes]:
    body = {"phase": "phase-3", "sha256": hashlib.sha256(data).hexdigest(), "openings": len(json.loads(data)["statement"]["openings"]), "part": k, "parts": n}
    return _post(event("reveal.published", body))


POISONED = _doc(event("escrow.published", {"escrow": sign_statement(
    {**DECL.signed["statement"], "escrow_id": "poisoned", "totals": {"warhead": {"quantity": 1e20, "unit": "count"}}}, [HOST])}, HOST, escrow_id="poisoned"))

ACTIONS: list[tuple[str, bytes]] = [
    _post(publish()),
    _post(publish(INTEL_ESCROW)),
    _post(json.loads(_doc(publish()).replace(b'"Host"', b'"Host" ', 1))),  # the same envelope, other bytes
    _upload(BUNDLE),
    _upload(BUNDLE_2),
    _upload(file_bytes({"statement": json.loads(BUNDLE)["statement"], "signatures": []})),
    _post(event("reveal.published", {"phase": "phase-1", "sha256": SHA, "openings": 3})),
    _post(event("reveal.published", {"phase": "phase-2", "sha256": SHA_2, "openings": 2})),
    _post(event("reveal.published", {"phase": "phase-2", "sha256": SHA_2, "openings": 3})),  # wrong count
    _post(event("escrow.accepted", {"cells_sha256": DECL.signed["statement"]["grid"]["cells_sha256"], "root": DECL.signed["statement"]["root"]}, INSPECTOR)),
    _post(event("escrow.accepted", {"cells_sha256": "a" * 64, "root": "b" * 64}, INSPECTOR)),
    _post(event("verification.recorded", VERIFY, INSPECTOR)),
    _post(event("verification.recorded", VERIFY, OBSERVER)),
    _post(event("verification.recorded", VERIFY, HOST)),  # role
    _post(event("verification.recorded", VERIFY, MALLORY)),  # unregistered
    _post(_forged(event("verification.recorded", {**VERIFY, "phase": "phase-9"}, INSPECTOR))),
    _post(sign_statement(event("verification.recorded", VERIFY, INSPECTOR)["statement"], [INSPECTOR, MALLORY])),  # conflict once logged
    _post(event("discrepancy.raised", RAISED, INSPECTOR)),
    _post(event("discrepancy.resolved", {"id": "D-1", "resolution": "seen"}, INSPECTOR)),
    _post(commit(HOST, R_HOST)),
    _post(commit(INSPECTOR, R_INSPECTOR)),
    _post(commit(HOST, R_INSPECTOR)),  # a second commitment
    _post(reveal_coin(HOST, R_HOST)),
    _post(reveal_coin(INSPECTOR, R_INSPECTOR)),
    _post(reveal_coin(INSPECTOR, R_HOST)),  # does not open the commitment
    _post(selection(SEED)),
    _post(selection(b"\x00" * 32)),
    _post(event("verification.recorded", {**VERIFY, "phase": "later"}, INSPECTOR, time="2019-01-18T16:05:01Z")),  # 301 s ahead
    _post(event("verification.recorded", {**VERIFY, "phase": "older"}, INSPECTOR, time="2019-01-17T15:59:59Z")),  # 24 h and 1 s before
    _post(event("verification.recorded", {**VERIFY, "phase": "early"}, INSPECTOR, time="1970-01-01T00:00:00Z")),
    *(_upload(data) for data in PARTS),  # a phase in parts (spec §5.1): part 1, part 2, an overlapping part 2, a part 2 of 3
    _part(PARTS[0], 1, 2),
    _part(PARTS[1], 2, 2),
    _part(PARTS[2], 2, 2),
    _part(PARTS[3], 2, 3),
    ("POST", POISONED),
    ("POST", b'{"statement": {"type": "unveil/event/v1"}, "signatures": []}'),
    ("POST", b"[" * 70 + b"]" * 70),
]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


def _replay_refuses(log: Log, storage: Any, accepted: list[bytes], body: bytes) -> bool:
    """Whether an audit of ``accepted`` followed by what ``body`` would have been logged as finds
    a problem at that last index (its JCS form; the bytes as sent when there is none)."""
    prepared = log.prepare(body)
    entry = prepared.event.entry if prepared.event is not None else body
    report = audit([*accepted, entry], PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    return any(problem.index == len(accepted) for problem in report.problems) and not any(
        problem.index is not None and problem.index < len(accepted) for problem in report.problems)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(range(len(ACTIONS))), min_size=1, max_size=14))
def test_what_the_board_accepts_is_what_its_replay_accepts(order: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'board.db'}"
        parties = Path(folder) / "parties.json"
        parties.write_text(json.dumps(PARTIES_DOC))
        clock = Clock()
        storage = open_storage(db)
        try:
            log = Log.open(storage, ORIGIN, BOARD, PARTIES, clock)
            accepted: list[bytes] = []
            with TestClient(create_app(log, purge_after=None)) as client:
                for step in order:
                    method, body = ACTIONS[step]
                    if method == "PUT":
                        answer = client.put(f"/bundles/{hashlib.sha256(body).hexdigest()}", content=body)
                        assert answer.status_code in (200, 201, 400), answer.text
                        continue
                    answer = client.post("/entries", content=body)
                    assert answer.status_code < 500, answer.text
                    if answer.status_code == 201:
                        assert answer.json()["index"] == len(accepted)
                        accepted.append(storage.read_entries(len(accepted), len(accepted) + 1)[0])
                    elif answer.status_code == 200:
                        assert answer.json()["index"] < len(accepted)
                    elif answer.json()["reason"] not in CLOCK_READ:
                        assert _replay_refuses(log, storage, accepted, body), (ACTIONS[step], answer.json())
                    assert list(storage.read_entries(0, log.size)) == accepted
            reopened = Log.open(storage, ORIGIN, BOARD, PARTIES, clock)
            assert (reopened.size, reopened.root()) == (log.size, log.root())
            assert reopened.audit().ok, reopened.audit().problems
        finally:
            storage.close()
        assert cli_main(["audit", "--db", db, "--origin", ORIGIN, "--parties", str(parties), "--allow-pending", "--json"]) == 0  # no witness cosigned: nothing is final yet


def test_a_phase_in_parts_is_accepted_as_its_replay_accepts_it() -> None:
    """The same property on fixed sequences of part events (spec §5.1), which random draws
    rarely put in an order the board accepts: an overlapping part, a part of another count, the
    right part 2, a repeat, and a part before its file or its predecessor."""
    first = ACTIONS.index(_upload(PARTS[0]))
    uploads, (one, two, overlapping, other_count) = list(range(first, first + 4)), range(first + 4, first + 8)
    inner = test_what_the_board_accepts_is_what_its_replay_accepts.hypothesis.inner_test  # type: ignore[attr-defined]
    inner([0, *uploads, one, overlapping, other_count, two, two, overlapping])
    inner([0, two, *uploads, two, one, two])
