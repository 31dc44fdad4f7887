"""Quorum and finality (spec §7): the pure rule (unveil.board.finality), hostile cosigned
checkpoints, ``GET /checkpoints/cosigned`` (the board's route and ``BoardClient.cosigned``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from unveil.api.app import create_app
from unveil.board.finality import Claim, credit, final_size, finality, quorum_members, quorum_size
from unveil.board.log import MemoryStorage
from unveil.board.parties import read_parties
from unveil.board.tree import AppendOnlyTree
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey
from unveil.core.merkle import leaf_hash
from unveil.core.notes import Checkpoint, assemble_note, cosign, open_note, sign_note
from unveil.errors import BoardError, MalformedInputError, VerificationError
from unveil.store.board_client import COSIGNED_MAX, BoardClient

ORIGIN = "finality.example"


def key(name: str, key_type: int = STATEMENT_KEY, label: str = "") -> SigningKey:
    return SigningKey.generate(name, key_type, hashlib.sha256(f"finality {name} {key_type} {label}".encode()).digest())


BOARD, BOARD_W = key(ORIGIN), key(ORIGIN, WITNESS_KEY)  # this board registers a witness key of its own
HOST, HOST_W = key("Host"), key("Host", WITNESS_KEY)
INSPECTOR, INSPECTOR_W = key("Inspector"), key("Inspector", WITNESS_KEY)
OBSERVER, OBSERVER_W = key("Observer"), key("Observer", WITNESS_KEY)
MALLORY_W = key("Mallory", WITNESS_KEY)  # registered nowhere
FORGED_BOARD = key(ORIGIN, label="forged")  # the board's name, another key
IMPOSTOR_W = key("Host", WITNESS_KEY, label="impostor")  # the host's name, another witness key

PARTIES = read_parties(json.dumps([
    {"name": ORIGIN, "role": "board", "vkey": BOARD.vkey, "witness_vkey": BOARD_W.vkey},
    {"name": "Host", "role": "host", "vkey": HOST.vkey, "witness_vkey": HOST_W.vkey},
    {"name": "Inspector", "role": "inspector", "vkey": INSPECTOR.vkey, "witness_vkey": INSPECTOR_W.vkey},
    {"name": "Observer", "role": "observer", "vkey": OBSERVER.vkey, "witness_vkey": OBSERVER_W.vkey},
]).encode())
ENTRIES = [f"entry {i}".encode() for i in range(10)]


def tree_of(entries: list[bytes]) -> AppendOnlyTree:
    tree = AppendOnlyTree()
    for entry in entries:
        tree.append(leaf_hash(entry))
    return tree


TREE = tree_of(ENTRIES[:6])  # the reader holds 6 entries
FULL = tree_of(ENTRIES)


def note(size: int, entries: list[bytes] = ENTRIES, signer: SigningKey = BOARD) -> str:
    body = Checkpoint(ORIGIN, size, tree_of(entries[:size]).root()).body()
    return assemble_note(body, [sign_note(body, signer)])


def cosigned(witness: SigningKey, size: int, entries: list[bytes] = ENTRIES, signer: SigningKey = BOARD, name: str | None = None) -> Claim:
    text = note(size, entries, signer)
    return Claim(name or witness.name, text + cosign(open_note(text)[0], witness, 1_700_000_000), size)


def reason_of(claim: Claim, **kwargs: Any) -> str:
    with pytest.raises(VerificationError) as info:
        credit(claim, PARTIES, TREE, **kwargs)
    return str(info.value.problems[0].reason)


# --- the rule ---------------------------------------------------------------------------------


def test_the_quorum_is_every_witness_but_the_board() -> None:
    assert [p.name for p in quorum_members(PARTIES)] == ["Host", "Inspector", "Observer"]
    assert quorum_size(PARTIES, None) == 3 and quorum_size(PARTIES, 2) == 2
    for bad in (0, 4, -1, True, 2.0):
        with pytest.raises(MalformedInputError) as info:
            quorum_size(PARTIES, bad)  # type: ignore[arg-type]  # hostile values
        assert info.value.where == "--quorum"


def test_final_size_is_the_kth_largest_cosigned_size() -> None:
    members = ["Host", "Inspector", "Observer"]
    credited = {"Host": 3, "Inspector": 6, "Observer": 5}
    assert [final_size(credited, members, k) for k in (3, 2, 1)] == [3, 5, 6]
    assert final_size({"Inspector": 6}, members, 3) == 0  # a member that cosigned nothing holds everything back
    assert final_size({"Inspector": 6, "Mallory": 9}, members, 1) == 6  # only members count
    assert final_size(credited, [], 0) == 0


def test_finality_of_an_honest_log() -> None:
    claims = [cosigned(HOST_W, 4), cosigned(INSPECTOR_W, 6), cosigned(OBSERVER_W, 5), cosigned(HOST_W, 2)]
    found = finality(PARTIES, claims, TREE)
    assert (found.size, found.final_size, found.pending, found.quorum) == (6, 4, 2, 3)
    assert dict(found.credited) == {"Host": 4, "Inspector": 6, "Observer": 5} and not found.problems
    assert found.short_of(5) == ["Host"] and found.notes["Host"] == claims[0].note  # the largest claim is kept
    assert finality(PARTIES, claims, TREE, quorum=2).final_size == 5
    assert finality(PARTIES, claims[1:3], TREE).final_size == 0  # the host cosigned nothing: nothing is final
    assert found.to_json() == {"size": 6, "final_size": 4, "pending": 2, "quorum": 3, "members": ["Host", "Inspector", "Observer"],
                               "cosigned": {"Host": 4, "Inspector": 6, "Observer": 5}, "ignored": []}


def test_a_board_without_witnesses_has_nothing_final() -> None:
    lonely = read_parties(json.dumps([
        {"name": ORIGIN, "role": "board", "vkey": BOARD.vkey, "witness_vkey": BOARD_W.vkey},
        {"name": "Host", "role": "host", "vkey": HOST.vkey, "witness_vkey": None},
    ]).encode())
    found = finality(lonely, [cosigned(BOARD_W, 6)], TREE)
    assert (found.final_size, found.quorum, found.members) == (0, 0, ())
    with pytest.raises(MalformedInputError):
        quorum_size(lonely, 1)


# --- hostile cosigned checkpoints ---------------------------------------------------------------


def test_a_cosignature_by_an_unregistered_witness_counts_for_nothing() -> None:
    assert reason_of(cosigned(MALLORY_W, 6)) == "witness-unknown"
    found = finality(PARTIES, [cosigned(MALLORY_W, 6), cosigned(HOST_W, 6), cosigned(INSPECTOR_W, 6)], TREE)
    assert found.final_size == 0 and [p.reason for p in found.problems] == ["witness-unknown"]


def test_a_cosignature_by_the_boards_own_key_counts_for_nothing() -> None:
    assert reason_of(cosigned(BOARD_W, 6)) == "witness-unknown"  # the board is no witness of its own log
    assert reason_of(cosigned(BOARD_W, 6, name="Host")) == "cosignature-invalid"  # its line, passed off as the host's
    board_line = note(6).split("\n\n", 1)[1]
    assert reason_of(Claim("Host", note(6) + board_line, 6)) == "cosignature-invalid"  # the board's note signature again
    found = finality(PARTIES, [cosigned(BOARD_W, 6), cosigned(INSPECTOR_W, 6), cosigned(OBSERVER_W, 6)], TREE)
    assert found.final_size == 0 and "finality.example" not in found.credited
    assert not found.problems  # a registered witness key of the board's own: not counted, and no fault of the log


def test_a_cosignature_by_an_impostor_under_a_registered_name_counts_for_nothing() -> None:
    assert reason_of(cosigned(IMPOSTOR_W, 6)) == "cosignature-invalid"
    claim = cosigned(HOST_W, 6)
    line = claim.note.rsplit("\u2014 Host ", 1)[1]
    flipped = line[:10] + ("A" if line[10] != "A" else "B") + line[11:]  # one payload character changed
    assert reason_of(Claim("Host", claim.note.replace(line, flipped), 6)) == "cosignature-invalid"


def test_a_cosignature_on_a_checkpoint_the_board_never_signed_counts_for_nothing() -> None:
    assert reason_of(cosigned(HOST_W, 6, signer=FORGED_BOARD)) == "checkpoint-signature-invalid"
    signatures = note(6).split("\n\n", 1)[1]
    body = Checkpoint(ORIGIN, 6, b"\x07" * 32).body()  # the board's signature line under another body
    forged = body + "\n" + signatures + cosign(body, HOST_W, 1)
    assert reason_of(Claim("Host", forged, 6)) == "checkpoint-signature-invalid"
    unsigned = Checkpoint(ORIGIN, 6, TREE.root()).body()
    assert reason_of(Claim("Host", unsigned + "\n" + cosign(unsigned, HOST_W, 1), 6)) == "checkpoint-signature-invalid"


def test_a_stale_cosignature_counts_only_for_its_size() -> None:
    claims = [cosigned(HOST_W, 2), cosigned(INSPECTOR_W, 6), cosigned(OBSERVER_W, 6)]
    found = finality(PARTIES, claims, TREE)
    assert found.final_size == 2 and found.short_of(3) == ["Host"] and not found.problems


def test_a_cosignature_on_another_log_is_a_fork_not_a_vote() -> None:
    other = ENTRIES[:4] + [b"only on the other copy", b"and this"]
    assert reason_of(cosigned(HOST_W, 6, entries=other)) == "checkpoint-root-mismatch"
    assert credit(cosigned(HOST_W, 4, entries=other), PARTIES, TREE) == 4  # the common prefix is the same log


def test_a_cosignature_beyond_the_readers_tree_needs_a_consistency_proof() -> None:
    claim = cosigned(HOST_W, 9)
    assert reason_of(claim) == "checkpoint-beyond-log"
    assert credit(claim, PARTIES, TREE, prove=FULL.consistency_proof) == 6  # covers what the reader holds, no more
    forked = tree_of(ENTRIES[:5] + [b"x", b"y", b"z", b"w"])
    lie = cosigned(HOST_W, 9, entries=ENTRIES[:5] + [b"x", b"y", b"z", b"w"])
    assert reason_of(lie, prove=forked.consistency_proof) == "checkpoint-inconsistent"

    def unreachable(size1: int, size2: int) -> list[bytes]:
        raise BoardError(0, "unreachable", "no answer")

    assert reason_of(claim, prove=unreachable) == "checkpoint-beyond-log"
    assert credit(claim, PARTIES, tree_of([]), prove=unreachable) == 0  # an empty reader holds nothing to vouch for


@pytest.mark.parametrize(("claim", "reason"), [
    (Claim("Host", "not a note"), "checkpoint-malformed"),
    (Claim("Host", "[" * 100 + "]" * 100), "checkpoint-malformed"),
    (Claim("Host", note(6) + "\u2014 Host !!!\n"), "checkpoint-malformed"),
    (Claim("Host", cosigned(HOST_W, 6).note, 5), "checkpoint-malformed"),  # the size claimed beside it differs
    (Claim("Host", note(6).replace(ORIGIN, "other.example", 1)), "checkpoint-origin"),
    (Claim("Nobody", cosigned(HOST_W, 6).note, 6), "witness-unknown"),
])
def test_malformed_claims(claim: Claim, reason: str) -> None:
    assert reason_of(claim) == reason


# --- GET /checkpoints/cosigned ------------------------------------------------------------------


def test_the_board_serves_each_witness_largest_cosigned_checkpoint() -> None:
    from tests import board_fixtures as fx

    log = fx.open_log(MemoryStorage())
    client = BoardClient(TestClient(create_app(log)))
    assert client.cosigned() == []
    fx.publish_with_phase(log)  # entries 0 and 1: the escrow and the phase the verifications name
    notes = {log.size: open_note(log.checkpoint())[0]}
    for i in range(2):
        log.submit(fx.verification(i))
        notes[log.size] = open_note(log.checkpoint())[0]
    for witness, size in ((fx.INSPECTOR_W, 2), (fx.INSPECTOR_W, 4), (fx.OBSERVER_W, 3), (fx.INSPECTOR_W, 3)):
        log.add_cosignature(notes[size], cosign(notes[size], witness, 1_700_000_000 + size))
    rows = client.cosigned()
    assert [(r.witness, r.size) for r in rows] == [("Inspector", 4), ("Observer", 3)]
    assert all(r.note.startswith(notes[r.size] + "\n") for r in rows)
    found = finality(fx.PARTIES, rows, tree_of(log.entries(0, 4)))
    assert dict(found.credited) == {"Inspector": 4, "Observer": 3} and found.final_size == 3 and not found.problems
    assert finality(fx.PARTIES, rows, tree_of(log.entries(0, 4)), quorum=1).final_size == 4


def answering(payload: Any) -> BoardClient:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return BoardClient(httpx.Client(base_url="http://board", transport=httpx.MockTransport(lambda request: httpx.Response(200, content=content))))


@pytest.mark.parametrize("payload", [
    [], {"cosigned": {}}, {"cosigned": [], "more": 1}, {"cosigned": [1]},
    {"cosigned": [{"witness": "Host", "size": 1}]},
    {"cosigned": [{"witness": "Host", "size": 1, "note": "n", "extra": 0}]},
    {"cosigned": [{"witness": "Host", "size": -1, "note": "n"}]},
    {"cosigned": [{"witness": "Host", "size": 1.0, "note": "n"}]},
    {"cosigned": [{"witness": 7, "size": 1, "note": "n"}]},
    {"cosigned": [{"witness": "Host", "size": 1, "note": "n"}, {"witness": "Host", "size": 2, "note": "n"}]},
    {"cosigned": [{"witness": f"W{i}", "size": 1, "note": "n"} for i in range(COSIGNED_MAX + 1)]},
    b'{"cosigned": ' + b"[" * 70 + b"]" * 70 + b"}",
    b'{"cosigned": [], "cosigned": []}',
    b"\xff",
], ids=lambda p: str(p)[:40])
def test_a_malformed_cosigned_answer_is_response_invalid(payload: Any) -> None:
    with pytest.raises(BoardError) as info:
        answering(payload).cosigned()
    assert info.value.reason == "response-invalid"
