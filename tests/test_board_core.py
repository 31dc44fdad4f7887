"""The board's core (spec §6–§8): tree, events, parties, protocol, log, audit."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.api.errors import status_of
from unveil.board.audit import audit
from unveil.board.events import KINDS, make_event, parse_event
from unveil.board.log import Log, MemoryStorage
from unveil.board.parties import read_parties
from unveil.board.tree import AppendOnlyTree
from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.encoding import b64decode, b64encode
from unveil.core.escrow import Grid, parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.keys import STATEMENT_KEY, WITNESS_KEY, SigningKey, VerifierKey
from unveil.core.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from unveil.core.notes import Checkpoint, assemble_note, cosign, open_note, sign_note, verify_note
from unveil.core.selection import coin_commitment, draw_seed, population_sha256, select
from unveil.core.statements import sign_statement
from unveil.errors import BoardRefused, MalformedInputError, VerificationError
from unveil.escrowing import commit_cells, open_cells

# --- fixtures: keys, parties, a real escrow and bundles -------------------------------------


def _key(name: str, key_type: int = STATEMENT_KEY, label: str = "") -> SigningKey:
    return SigningKey.generate(name, key_type, hashlib.sha256(f"board tests {name} {key_type} {label}".encode()).digest())


ORIGIN = "board.example"
BOARD = _key(ORIGIN)
HOST = _key("Host")
INSPECTOR = _key("Inspector")
OBSERVER = _key("Observer")
INSPECTOR_W = _key("Inspector", WITNESS_KEY)
OBSERVER_W = _key("Observer", WITNESS_KEY)
MALLORY = _key("Mallory")  # registered nowhere
IMPOSTOR_HOST = _key("Host", label="impostor")  # a key under the host's name, not registered
IMPOSTOR_W = _key("Inspector", WITNESS_KEY, label="impostor")
MALLORY_W = _key("Mallory", WITNESS_KEY)

PARTIES_DOC = [
    {"name": ORIGIN, "role": "board", "vkey": BOARD.vkey, "witness_vkey": None},
    {"name": "Host", "role": "host", "vkey": HOST.vkey, "witness_vkey": None},
    {"name": "Inspector", "role": "inspector", "vkey": INSPECTOR.vkey, "witness_vkey": INSPECTOR_W.vkey},
    {"name": "Observer", "role": "observer", "vkey": OBSERVER.vkey, "witness_vkey": OBSERVER_W.vkey},
]
PARTIES = read_parties(json.dumps(PARTIES_DOC).encode())

T = "2019-01-18T15:00:00Z"
NOW = int(datetime(2019, 1, 18, 16, 0, tzinfo=timezone.utc).timestamp())
ESCROW_ID = "board-test-1"
CELLS = [f"depot-{i:02d}" for i in range(1, 9)]
CONTENTS: dict[str, dict[str, Any]] = {
    "depot-02": {"cell": "depot-02", "sites": [{"id": "D-2", "kind": "weapons-storage", "items": [
        {"category": "warhead", "quantity": 4, "unit": "count"}]}]},
    "depot-07": {"cell": "depot-07", "sites": [{"id": "D-7", "kind": "other", "items": []}]},
}
INTEL: dict[str, dict[str, Any]] = {
    "depot-07": {"cell": "depot-07", "suspects": [
        {"id": "Q-1", "kind": "weapons-storage", "lat": 10.0, "lon": 20.0, "radius_m": 500, "confidence": 0.8}]},
}


class Escrowed:
    """A real escrow: commit with unveil.escrowing, sign, open cells into signed bundles."""

    def __init__(self, escrow_id: str, signer: SigningKey, contents: dict[str, dict[str, Any]], *,
                 shadows: str | None = None, created: str = T, host: str | None = None):
        self.escrow_id, self.contents, self.intel = escrow_id, contents, shadows is not None
        self.secret = hashlib.sha256(b"board tests master " + escrow_id.encode()).digest()
        self.commitment = commit_cells(self.secret, escrow_id, CELLS, contents, workers=1, intel=self.intel)
        cells_txt = cell_file.render(CELLS)
        grid = Grid("list", len(CELLS), hashlib.sha256(cells_txt).hexdigest())
        self.statement = escrow_statement(
            escrow_id=escrow_id, host=host or signer.name, created=created, grid=grid, root=self.commitment.root,
            purpose="intel" if self.intel else "declaration", shadows=shadows,
        )
        self.signer = signer
        self.signed = sign_statement(self.statement, [signer])

    def bundle(self, phase: str, indices: list[int]) -> dict[str, Any]:
        openings, proof = open_cells(self.secret, self.escrow_id, CELLS, self.contents, self.commitment.leaves, indices, intel=self.intel)
        statement = reveal_statement(escrow=parse_escrow(self.statement), phase=phase, openings=openings, proof=proof)
        return sign_statement(statement, [self.signer])


DECL = Escrowed(ESCROW_ID, HOST, CONTENTS)


def event(kind: str, body: dict[str, Any], key: SigningKey = HOST, escrow_id: str = ESCROW_ID, time: str = T) -> dict[str, Any]:
    return make_event(kind, escrow_id, time, body, [key])


def publish(escrowed: Escrowed = DECL, key: SigningKey | None = None) -> dict[str, Any]:
    return event("escrow.published", {"escrow": escrowed.signed}, key or escrowed.signer, escrowed.escrow_id)


def file_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def reveal_event(log: Log, bundle: dict[str, Any], phase: str = "phase-1", openings: int | None = None) -> dict[str, Any]:
    data = file_bytes(bundle)
    sha = log.put_bundle(data)
    count = len(bundle["statement"]["openings"]) if openings is None else openings
    return event("reveal.published", {"phase": phase, "sha256": sha, "openings": count})


def new_log(storage: MemoryStorage | None = None, **kwargs: Any) -> tuple[Log, MemoryStorage]:
    storage = storage if storage is not None else MemoryStorage()
    return Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW, **kwargs), storage


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def board(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Log, Any]]:
    """A log with one published escrow, over each storage: every protocol test runs on the
    in-memory reference, on SQLite and on PostgreSQL (skipped, or failed under CI=true, when
    no PostgreSQL answers; see tests/board_fixtures.py)."""
    if request.param == "memory":
        log, storage = new_log()
        assert log.submit(publish()).index == 0
        yield log, storage
        return
    from unveil.store.board_db import open_storage

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'board.db'}"
        cleanup = None
    else:
        import secrets

        from tests.board_fixtures import pg_execute, postgres_url

        base = postgres_url()
        schema = "unveil_core_" + secrets.token_hex(6)
        url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
        cleanup = (base, schema)
    storage = open_storage(url)
    try:
        log, _ = new_log(storage)
        assert log.submit(publish()).index == 0
        yield log, storage
    finally:
        storage.close()
        if cleanup:
            pg_execute(cleanup[0], f'DROP SCHEMA IF EXISTS "{cleanup[1]}" CASCADE')


def refused(log: Log, doc: Any) -> BoardRefused:
    with pytest.raises(BoardRefused) as info:
        log.submit(doc)
    return info.value


# --- tree ------------------------------------------------------------------------------------


def _leaf_hashes(n: int, salt: int) -> list[bytes]:
    return [leaf_hash(f"entry {salt} {i}".encode()) for i in range(n)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=0, max_value=70), salt=st.integers(min_value=0, max_value=10**6))
def test_tree_matches_reference_for_every_prefix(n: int, salt: int) -> None:
    hashes = _leaf_hashes(n, salt)
    tree = AppendOnlyTree()
    for i, h in enumerate(hashes):
        assert tree.append(h) == i
        assert tree.root() == MerkleTree.from_leaf_hashes(b"".join(hashes[: i + 1])).root
    assert tree.size == n
    reference = MerkleTree.from_leaf_hashes(b"".join(hashes))
    assert AppendOnlyTree.from_leaf_hashes(b"".join(hashes)).root() == reference.root
    for size in range(0, n + 1):
        prefix = MerkleTree.from_leaf_hashes(b"".join(hashes[:size]))
        root = tree.root(size)
        assert root == prefix.root
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == reference.inclusion_proof(index, size)
            verify_inclusion(index, size, hashes[index], proof, root)
        for size1 in range(1, size + 1):
            proof = tree.consistency_proof(size1, size)
            assert proof == reference.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, tree.root(size1), root)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=1, max_value=300), cut=st.integers(min_value=0, max_value=300), salt=st.integers(0, 10**6))
def test_tree_rebuild_leaf_access_and_truncate(n: int, cut: int, salt: int) -> None:
    hashes = _leaf_hashes(n, salt)
    tree = AppendOnlyTree.from_leaf_hashes(b"".join(hashes))
    assert [tree.leaf_hash_at(i) for i in range(n)] == hashes
    cut = min(cut, n)
    tree.truncate(cut)
    assert tree.size == cut and tree.root() == MerkleTree.from_leaf_hashes(b"".join(hashes[:cut])).root
    for h in hashes[cut:]:  # growing again gives the same tree
        tree.append(h)
    assert tree.root() == MerkleTree.from_leaf_hashes(b"".join(hashes)).root


def test_tree_refuses_out_of_range_proofs() -> None:
    tree = AppendOnlyTree.from_leaf_hashes(b"".join(_leaf_hashes(5, 0)))
    assert tree.consistency_proof(3, 3) == []
    for call in (
        lambda: tree.consistency_proof(0, 3),  # spec §7: size1 = 0 proves nothing
        lambda: tree.consistency_proof(4, 3),
        lambda: tree.consistency_proof(1, 6),
        lambda: tree.inclusion_proof(5, 5),
        lambda: tree.inclusion_proof(0, 0),
        lambda: tree.root(6),
        lambda: tree.append(b"short"),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(IndexError):
        tree.leaf_hash_at(5)


# --- events ----------------------------------------------------------------------------------

GOOD_BODIES: dict[str, dict[str, Any]] = {
    "escrow.published": {"escrow": DECL.signed},
    "escrow.accepted": {"cells_sha256": "a" * 64, "root": "b" * 64},
    "reveal.published": {"phase": "phase-1", "sha256": "c" * 64, "openings": 3},
    "coin.committed": {"context": "phase-2:inspect", "commitment": "d" * 64, "population_sha256": population_sha256(["S-1", "S-3"]).hex(),
                       "n": 1, "population": ["S-1", "S-3"]},
    "coin.revealed": {"context": "phase-2:inspect", "r": "e" * 64},
    "selection.drawn": {"context": "phase-2:inspect", "population_sha256": "f" * 64, "n": 2, "seed": "0" * 64, "selection": ["S-1", "S-3"]},
    "verification.recorded": {"phase": "phase-1", "sha256": "c" * 64, "valid": False, "problems": [{"index": 3, "reason": "cell-mismatch"}, {"index": None, "reason": "proof-root-mismatch"}]},
    "discrepancy.raised": {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "a site we know of", "intel": None},
    "discrepancy.resolved": {"id": "D-1", "resolution": "explained"},
    "inspection.reported": {"phase": "phase-1", "cell": "depot-02", "site_id": "D-2", "outcome": "confirmed", "detail": "", "context": None},
    "agreement.published": {"agreement": {"id": "A-1", "escrow": ESCROW_ID, "start": T, "parties": ["Host", "Inspector"],
                                          "access": {"delayed": "P1D", "refused": "P2D"}, "obligations": []}},
    "agreement.signed": {"agreement": "A-1", "sha256": "a" * 64},
    "obligation.claimed": {"agreement": "A-1", "obligation": "O-1", "evidence": [{"entry": 3}, {"sha256": "b" * 64}, {"text": "done"}]},
    "obligation.verified": {"agreement": "A-1", "obligation": "O-1"},
    "obligation.disputed": {"agreement": "A-1", "obligation": "O-1", "reason": "not seen"},
    "obligation.withdrawn": {"agreement": "A-1", "obligation": "O-1"},
    "item.moved": {"serial": "W-1", "to": "verified", "site": None, "evidence": [{"entry": 2}, {"text": "sealed"}]},
    "item.witnessed": {"serial": "W-1", "step": "verified"},
    "access.requested": {"id": "AR-1", "site": None, "cell": "depot-07"},
    "access.granted": {"id": "AR-1"},
    "access.refused": {"id": "AR-1", "reason": "not today"},
}


ACCEPTED = {"cells_sha256": DECL.statement["grid"]["cells_sha256"], "root": DECL.statement["root"]}
"""An inspector's acceptance of the test escrow: an event the protocol takes right after it is published."""


def test_every_kind_has_a_good_body_that_parses() -> None:
    assert set(GOOD_BODIES) == set(KINDS)
    for kind, body in GOOD_BODIES.items():
        doc = make_event(kind, ESCROW_ID, T, body, [HOST])
        parsed = parse_event(doc)
        assert (parsed.kind, parsed.escrow_id, parsed.time, parsed.body) == (kind, ESCROW_ID, T, body)
        assert parsed.entry == canonicalize(doc)
        assert parsed.statement_sha256 == hashlib.sha256(canonicalize(doc["statement"])).digest()


def _statement(kind: str = "reveal.published") -> dict[str, Any]:
    return {"type": "unveil/event/v1", "kind": kind, "escrow_id": ESCROW_ID, "time": T, "body": copy.deepcopy(GOOD_BODIES[kind])}


def _with(path: str, value: Any, kind: str = "reveal.published") -> dict[str, Any]:
    statement = _statement(kind)
    target = statement
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return statement


_DELETE = object()

SHAPE_ERRORS = [
    ("unknown statement field", _with("extra", 1), "statement"),
    ("missing body", _with("body", _DELETE), "statement"),
    ("wrong type", _with("type", "unveil/escrow/v1"), "statement.type"),
    ("unknown kind", _with("kind", "escrow.deleted"), "statement.kind"),
    ("escrow_id not an id", _with("escrow_id", "no spaces allowed"), "statement.escrow_id"),
    ("escrow_id not a string", _with("escrow_id", 7), "statement.escrow_id"),
    ("time with a space", _with("time", "2019-01-18 15:00:00Z"), "statement.time"),
    ("time second 60", _with("time", "2019-01-18T15:00:60Z"), "statement.time"),
    ("time not a date", _with("time", "2019-02-30T15:00:00Z"), "statement.time"),
    ("time hour 24", _with("time", "2019-01-18T24:00:00Z"), "statement.time"),
    ("time in non-ASCII digits", _with("time", "\u0662\u0660\u0661\u0669-01-18T15:00:00Z"), "statement.time"),
    ("unknown body field", _with("body.extra", 1), "statement.body"),
    ("missing body field", _with("body.openings", _DELETE), "statement.body"),
    ("openings a string", _with("body.openings", "3"), "statement.body.openings"),
    ("openings a float", _with("body.openings", 3.0), "statement.body.openings"),
    ("openings zero", _with("body.openings", 0), "statement.body.openings"),
    ("openings a boolean", _with("body.openings", True), "statement.body.openings"),
    ("uppercase hex", _with("body.sha256", "C" * 64), "statement.body.sha256"),
    ("short hex", _with("body.sha256", "c" * 63), "statement.body.sha256"),
    ("phase not an id", _with("body.phase", ""), "statement.body.phase"),
    ("body not an object", _with("body", []), "statement.body"),
    ("accepted root not hex", _with("body.root", "x" * 64, "escrow.accepted"), "statement.body.root"),
    ("coin context not an id", _with("body.context", "a b", "coin.committed"), "statement.body.context"),
    ("coin r missing", _with("body.r", _DELETE, "coin.revealed"), "statement.body"),
    ("commitment without population_sha256", _with("body.population_sha256", _DELETE, "coin.committed"), "statement.body"),
    ("commitment without n", _with("body.n", _DELETE, "coin.committed"), "statement.body"),
    ("commitment n zero", _with("body.n", 0, "coin.committed"), "statement.body.n"),
    ("commitment n above the population", _with("body.n", 3, "coin.committed"), "statement.body.n"),
    ("population unsorted", _with("body.population", ["S-3", "S-1"], "coin.committed"), "statement.body.population[1]"),
    ("population repeats", _with("body.population", ["S-1", "S-1"], "coin.committed"), "statement.body.population[1]"),
    ("population empty", _with("body.population", [], "coin.committed"), "statement.body.population"),
    ("population member not an id", _with("body.population", ["S-1", "S 3"], "coin.committed"), "statement.body.population[1]"),
    ("population member not a string", _with("body.population", ["S-1", 3], "coin.committed"), "statement.body.population[1]"),
    ("population not an array", _with("body.population", "S-1\nS-3\n", "coin.committed"), "statement.body.population"),
    ("population_sha256 of another population", _with("body.population_sha256", "f" * 64, "coin.committed"), "statement.body.population_sha256"),
    ("selection length differs from n", _with("body.n", 3, "selection.drawn"), "statement.body.selection"),
    ("selection repeats", _with("body.selection", ["S-1", "S-1"], "selection.drawn"), "statement.body.selection[1]"),
    ("selection member not an id", _with("body.selection", ["S-1", "S 3"], "selection.drawn"), "statement.body.selection[1]"),
    ("negative n", _with("body.n", -1, "selection.drawn"), "statement.body.n"),
    ("selection n zero", _with("body.n", 0, "selection.drawn"), "statement.body.n"),
    ("verification valid with problems", _with("body.valid", True, "verification.recorded"), "statement.body.valid"),
    ("verification valid not a boolean", _with("body.valid", 0, "verification.recorded"), "statement.body.valid"),
    ("verification problem with extra field", _with("body.problems", [{"index": 1, "reason": "x", "detail": "y"}], "verification.recorded"), "statement.body.problems[0]"),
    ("verification problem index a string", _with("body.problems", [{"index": "1", "reason": "x"}], "verification.recorded"), "statement.body.problems[0].index"),
    ("discrepancy intel not a signed statement", _with("body.intel", {"statement": {}}, "discrepancy.raised"), "statement.body.intel"),
    ("discrepancy cell empty", _with("body.cell", "", "discrepancy.raised"), "statement.body.cell"),
    ("resolution not a string", _with("body.resolution", None, "discrepancy.resolved"), "statement.body.resolution"),
    ("escrow not a signed statement", _with("body.escrow", DECL.statement, "escrow.published"), "statement.body.escrow"),
]


@pytest.mark.parametrize(("statement", "where"), [(s, w) for _, s, w in SHAPE_ERRORS], ids=[n for n, _, _ in SHAPE_ERRORS])
def test_event_shape_errors(statement: dict[str, Any], where: str) -> None:
    doc = sign_statement(statement, [HOST]) if isinstance(statement.get("body"), dict) or "body" not in statement else {
        "statement": statement, "signatures": []}
    with pytest.raises(MalformedInputError) as info:
        parse_event(doc)
    assert info.value.where is not None and info.value.where.startswith(where), str(info.value)


def test_event_envelope_shape_errors() -> None:
    good = make_event("reveal.published", ESCROW_ID, T, GOOD_BODIES["reveal.published"], [HOST])
    for doc in ({**good, "extra": 1}, {"statement": good["statement"]}, {**good, "signatures": [{"vkey": HOST.vkey}]}, [good]):
        with pytest.raises(MalformedInputError):
            parse_event(doc)
    with pytest.raises(MalformedInputError):  # make_event checks what it signs
        make_event("reveal.published", ESCROW_ID, T, {"phase": "p"}, [HOST])


# --- parties ---------------------------------------------------------------------------------


def test_parties_read_and_lookup() -> None:
    assert [p.name for p in PARTIES] == [ORIGIN, "Host", "Inspector", "Observer"]
    assert PARTIES.board.vkey == BOARD.vkey
    assert [p.name for p in PARTIES.witnesses()] == ["Inspector", "Observer"]
    assert [p.name for p in PARTIES.draw_parties()] == ["Host", "Inspector"]
    host = PARTIES.author_of(parse_event(event("verification.recorded", GOOD_BODIES["verification.recorded"], HOST)))
    assert host is not None and host.name == "Host"
    assert PARTIES.author_of(parse_event(event("selection.drawn", GOOD_BODIES["selection.drawn"], MALLORY))) is None


def _parties_with(index: int, field: str, value: Any) -> bytes:
    doc = copy.deepcopy(PARTIES_DOC)
    if value is _DELETE:
        del doc[index][field]
    else:
        doc[index][field] = value
    return json.dumps(doc).encode()


PARTY_ERRORS = [
    ("[1]: unknown field 'x'", _parties_with(1, "x", 1)),
    ("[1]: missing required field 'witness_vkey'", _parties_with(1, "witness_vkey", _DELETE)),
    ("[2].role", _parties_with(2, "role", "spy")),
    ("[2].name", _parties_with(2, "name", "Host")),
    ("[1].vkey", _parties_with(1, "vkey", "Host+00000000+AAAA")),
    ("[1].vkey", _parties_with(1, "vkey", INSPECTOR.vkey)),  # named Inspector, not Host
    ("[2].vkey", _parties_with(2, "vkey", INSPECTOR_W.vkey)),  # a witness key as statement key
    ("[2].witness_vkey", _parties_with(2, "witness_vkey", INSPECTOR.vkey)),  # a statement key as witness key
    ("[3].witness_vkey", _parties_with(3, "witness_vkey", INSPECTOR_W.vkey)),  # named Inspector
    ("exactly one party has role board", _parties_with(1, "role", "board")),
    ("exactly one party has role board", _parties_with(0, "role", "observer")),
    ("[1].name", _parties_with(1, "name", 5)),
]


@pytest.mark.parametrize(("fragment", "data"), PARTY_ERRORS)
def test_parties_errors_name_index_and_field(fragment: str, data: bytes) -> None:
    with pytest.raises(MalformedInputError) as info:
        read_parties(data, "PARTIES.json")
    assert str(info.value).startswith("PARTIES.json: ")
    assert fragment in str(info.value)


def test_parties_refuse_a_shared_public_key() -> None:
    twin = SigningKey.from_private_bytes("Twin", STATEMENT_KEY, HOST.private_bytes())
    doc = [*PARTIES_DOC, {"name": "Twin", "role": "observer", "vkey": twin.vkey, "witness_vkey": None}]
    with pytest.raises(MalformedInputError, match=r"\[4\]\.vkey"):
        read_parties(json.dumps(doc).encode())


# --- log: accept, idempotency, conflicts, signatures ------------------------------------------


def test_submit_returns_receipts_with_checkpoints_that_prove_inclusion(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    receipt = log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1, 2])))
    assert (receipt.index, receipt.created, log.size) == (1, True, 2)
    board_key = VerifierKey.parse(BOARD.vkey)
    assert verify_note(receipt.checkpoint_note, [board_key]) == [board_key]
    checkpoint = Checkpoint.parse(open_note(receipt.checkpoint_note)[0])
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 2, log.root())
    entry = log.entries(1, 2)[0]
    verify_inclusion(1, 2, leaf_hash(entry), log.inclusion_proof(1, 2), checkpoint.root)
    assert list(storage.read_entries(0, 2)) == log.entries(0, 2)
    assert storage.get_checkpoint(2) == receipt.checkpoint_note
    verify_consistency(1, 2, log.consistency_proof(1, 2), log.root(1), log.root(2))


def test_identical_repeat_is_idempotent(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    doc = event("escrow.accepted", ACCEPTED, INSPECTOR)
    first = log.submit(doc)
    again = log.submit(json.dumps(doc).encode())  # the same envelope, other JSON bytes
    assert (first.index, first.created) == (1, True)
    assert (again.index, again.created) == (1, False)
    assert log.size == 2 and len(list(storage.load_entries())) == 2


def test_same_statement_with_other_signatures_is_a_conflict(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    doc = event("escrow.accepted", ACCEPTED, INSPECTOR)
    log.submit(doc)
    also = sign_statement(doc["statement"], [INSPECTOR, MALLORY])
    error = refused(log, also)
    assert (error.reason, status_of(error.reason)) == ("statement-conflict", 409)
    assert log.size == 2


def test_forged_signature_by_a_registered_key_is_refused(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    doc = event("verification.recorded", GOOD_BODIES["verification.recorded"], INSPECTOR)
    other = event("verification.recorded", {**GOOD_BODIES["verification.recorded"], "phase": "phase-9"}, INSPECTOR)
    doc["signatures"][0]["sig"] = other["signatures"][0]["sig"]  # a real signature, on another statement
    error = refused(log, doc)
    assert (error.reason, status_of(error.reason)) == ("signature-invalid", 403)


def test_prepared_submissions_are_judged_as_unprepared_ones() -> None:
    """Log.prepare (parse and signatures, run by the server on other threads) then submit_many
    gives the same results, in the same order of checks, as submit_many on the raw envelopes:
    a repeat is judged by its bytes before its signatures, a forgery is still refused."""
    doc = event("escrow.accepted", ACCEPTED, INSPECTOR)
    forged_repeat = copy.deepcopy(doc)
    forged_repeat["signatures"][0]["sig"] = b64encode(b"\x01" * 64)
    forged_new = event("escrow.accepted", {**ACCEPTED, "root": "9" * 64}, INSPECTOR)
    forged_new["signatures"][0]["sig"] = doc["signatures"][0]["sig"]
    stranger = event("escrow.accepted", {**ACCEPTED, "root": "8" * 64}, MALLORY)
    docs = [publish(), doc, json.dumps(doc).encode(), forged_repeat, forged_new, stranger, b"{", {"statement": 1}]

    def outcomes(log: Log, items: list[Any]) -> list[Any]:
        return [(r.reason, status_of(r.reason)) if isinstance(r, BoardRefused) else (r.index, r.created) for r in log.submit_many(items)]

    raw_log, raw_storage = new_log()
    prepared_log, prepared_storage = new_log()
    expected = outcomes(raw_log, docs)
    assert outcomes(prepared_log, [prepared_log.prepare(d) for d in docs]) == expected
    assert expected == [(0, True), (1, True), (1, False), ("statement-conflict", 409), ("signature-invalid", 403),
                        ("author-unknown", 403), ("malformed", 400), ("malformed", 400)]
    assert raw_storage.entries == prepared_storage.entries and raw_log.checkpoint() == prepared_log.checkpoint()


def test_unregistered_key_is_refused(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    for key in (MALLORY, IMPOSTOR_HOST):
        error = refused(log, event("verification.recorded", GOOD_BODIES["verification.recorded"], key))
        assert (error.reason, status_of(error.reason)) == ("author-unknown", 403)


def test_two_registered_authors_are_ambiguous(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    doc = make_event("verification.recorded", ESCROW_ID, T, GOOD_BODIES["verification.recorded"], [INSPECTOR, OBSERVER])
    assert refused(log, doc).reason == "author-ambiguous"


def test_malformed_and_future_events_are_refused(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    error = refused(log, {"statement": {}, "signatures": []})
    assert (error.reason, status_of(error.reason)) == ("malformed", 400)
    assert refused(log, b"{not json").reason == "malformed"
    late = event("escrow.accepted", ACCEPTED, INSPECTOR, time="2019-01-18T16:06:00Z")
    assert refused(log, late).reason == "time-future"
    assert log.submit(event("escrow.accepted", ACCEPTED, INSPECTOR, time="2019-01-18T16:04:00Z")).created


# --- protocol refusals -----------------------------------------------------------------------


def test_role_refusals(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    cases = [
        event("coin.committed", GOOD_BODIES["coin.committed"], OBSERVER),  # observers are no draw party
        event("escrow.accepted", GOOD_BODIES["escrow.accepted"], HOST),  # only inspectors accept
        event("discrepancy.raised", GOOD_BODIES["discrepancy.raised"], OBSERVER),
        event("verification.recorded", GOOD_BODIES["verification.recorded"], BOARD),
        publish(Escrowed("board-test-2", INSPECTOR, CONTENTS)),  # a declaration sealed by an inspector
        publish(Escrowed("board-test-3", HOST, CONTENTS, host="Inspector"), key=INSPECTOR),  # names another host
        event("reveal.published", GOOD_BODIES["reveal.published"], INSPECTOR),  # not the escrow's host
    ]
    for doc in cases:
        error = refused(log, doc)
        assert (error.reason, status_of(error.reason)) == ("role-not-allowed", 403), doc["statement"]["kind"]
    assert log.size == 1


def test_unknown_and_duplicate_escrow(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    error = refused(log, event("reveal.published", GOOD_BODIES["reveal.published"], escrow_id="never-published"))
    assert (error.reason, status_of(error.reason)) == ("escrow-unknown", 422)
    assert refused(log, event("escrow.accepted", GOOD_BODIES["escrow.accepted"], INSPECTOR, escrow_id="never-published")).reason == "escrow-unknown"
    again = Escrowed(ESCROW_ID, HOST, CONTENTS, created="2019-01-19T15:00:00Z")  # another statement, same id
    error = refused(log, publish(again))
    assert (error.reason, status_of(error.reason)) == ("escrow-duplicate", 409)


def test_escrow_must_be_signed_by_the_registered_host_key() -> None:
    log, _ = new_log()
    forged = Escrowed("board-test-9", IMPOSTOR_HOST, CONTENTS)  # signed under the name Host, other key
    error = refused(log, publish(forged, key=HOST))
    assert error.reason == "escrow-signature-invalid"
    mismatched = event("escrow.published", {"escrow": DECL.signed}, HOST, escrow_id="another-id")
    assert refused(log, mismatched).reason == "escrow-invalid"
    assert log.size == 0


def test_bundle_missing_invalid_and_valid(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    bundle = DECL.bundle("phase-1", [1, 2])
    sha = hashlib.sha256(file_bytes(bundle)).hexdigest()
    error = refused(log, event("reveal.published", {"phase": "phase-1", "sha256": sha, "openings": 2}))
    assert (error.reason, status_of(error.reason)) == ("bundle-missing", 422)

    tampered = copy.deepcopy(bundle)
    tampered["statement"]["openings"][0]["content"]["sites"][0]["items"][0]["quantity"] = 3
    tampered = sign_statement(tampered["statement"], [HOST])  # the host's signature is fine; the proof is not
    error = refused(log, reveal_event(log, tampered))
    assert error.reason == "bundle-invalid"
    assert "proof-root-mismatch" in {p.reason for p in error.problems}

    assert refused(log, reveal_event(log, bundle, openings=3)).reason == "bundle-invalid"  # count differs
    assert refused(log, reveal_event(log, bundle, phase="phase-2")).reason == "bundle-invalid"  # phase differs
    by_impostor = file_bytes(sign_statement(bundle["statement"], [IMPOSTOR_HOST]))
    with pytest.raises(BoardRefused, match="upload-unsigned"):  # not stored (spec §11)
        log.put_bundle(by_impostor)
    impostor_sha = hashlib.sha256(by_impostor).hexdigest()
    storage.put_bundle(impostor_sha, by_impostor)  # held all the same (say, stored before that rule): still refused
    impostor_reveal = event("reveal.published", {"phase": "phase-1", "sha256": impostor_sha, "openings": 2})
    assert refused(log, impostor_reveal).reason == "bundle-invalid"
    with pytest.raises(MalformedInputError):  # signed by the host, but not a reveal bundle
        log.put_bundle(file_bytes(sign_statement({"type": "unveil/escrow/v1"}, [HOST])))

    assert log.submit(reveal_event(log, bundle)).created
    error = refused(log, reveal_event(log, DECL.bundle("phase-1", [3])))
    assert (error.reason, status_of(error.reason)) == ("phase-duplicate", 409)


def test_escrow_acceptance(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    statement = DECL.statement
    wrong = {"cells_sha256": statement["grid"]["cells_sha256"], "root": "0" * 64}
    assert refused(log, event("escrow.accepted", wrong, INSPECTOR)).reason == "acceptance-mismatch"
    right = {"cells_sha256": statement["grid"]["cells_sha256"], "root": statement["root"]}
    assert log.submit(event("escrow.accepted", right, INSPECTOR)).created
    error = refused(log, event("escrow.accepted", right, INSPECTOR, time="2019-01-18T15:00:01Z"))
    assert (error.reason, status_of(error.reason)) == ("acceptance-repeat", 409)


CONTEXT = "phase-2:inspect"
R_HOST = hashlib.sha256(b"host coin").digest()
R_INSPECTOR = hashlib.sha256(b"inspector coin").digest()
POPULATION = [f"S-{i}" for i in range(1, 10)]
POPULATION_SHA = population_sha256(POPULATION).hex()
N = 3


def commit(key: SigningKey, r: bytes, context: str = CONTEXT, **fields: Any) -> dict[str, Any]:
    """``key``'s commitment: the inspector's carries the population (its first in a context)."""
    body = {"context": context, "commitment": coin_commitment(context, key.vkey, r).hex(), "population_sha256": POPULATION_SHA, "n": N}
    if key is INSPECTOR:
        body["population"] = POPULATION
    return event("coin.committed", {**body, **fields}, key)


def reveal_coin(key: SigningKey, r: bytes, context: str = CONTEXT) -> dict[str, Any]:
    return event("coin.revealed", {"context": context, "r": r.hex()}, key)


def selection(seed: bytes, context: str = CONTEXT, key: SigningKey = OBSERVER, **fields: Any) -> dict[str, Any]:
    """The selection spec §8 computes from the logged population, N and ``seed`` (or ``fields``)."""
    body = {"context": context, "population_sha256": POPULATION_SHA, "n": N, "seed": seed.hex(), "selection": select(POPULATION, N, seed)}
    return event("selection.drawn", {**body, **fields}, key)


SEED = draw_seed(CONTEXT, {HOST.vkey: R_HOST, INSPECTOR.vkey: R_INSPECTOR})


def test_coin_reveal_before_every_commitment_is_refused(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    error = refused(log, reveal_coin(INSPECTOR, R_INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("coin-early", 422)
    assert "Host" in error.message
    assert refused(log, reveal_coin(HOST, R_HOST, context="other-context")).reason == "coin-early"


def test_coin_mismatch_repeat_and_selection(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    log.submit(commit(HOST, R_HOST))
    error = refused(log, commit(HOST, R_INSPECTOR))  # a second commitment: only the first counts
    assert (error.reason, status_of(error.reason)) == ("coin-repeat", 409)
    error = refused(log, commit(INSPECTOR, R_HOST, population=POPULATION[:4], population_sha256=population_sha256(POPULATION[:4]).hex()))
    assert error.reason == "coin-repeat"  # a second first commitment: the population stays the first's
    error = refused(log, reveal_coin(HOST, R_INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("coin-mismatch", 422)
    log.submit(reveal_coin(HOST, R_HOST))
    assert log.submit(reveal_coin(HOST, R_HOST)).created is False  # the same event: idempotent
    later = event("coin.revealed", {"context": CONTEXT, "r": R_HOST.hex()}, HOST, time="2019-01-18T15:00:09Z")
    assert refused(log, later).reason == "coin-repeat"
    seed = draw_seed(CONTEXT, {HOST.vkey: R_HOST, INSPECTOR.vkey: R_INSPECTOR})
    assert refused(log, selection(seed)).reason == "selection-early"
    log.submit(reveal_coin(INSPECTOR, R_INSPECTOR))
    wrong = draw_seed(CONTEXT, {HOST.vkey: R_INSPECTOR, INSPECTOR.vkey: R_HOST})
    error = refused(log, selection(wrong))
    assert (error.reason, status_of(error.reason)) == ("selection-invalid", 422)
    assert log.submit(selection(seed)).created
    elsewhere = Escrowed("board-test-4", HOST, CONTENTS)
    log.submit(publish(elsewhere))
    mixed = event("coin.committed", commit(HOST, R_HOST)["statement"]["body"], HOST, escrow_id="board-test-4")
    assert refused(log, mixed).reason == "context-mismatch"


def test_discrepancies_and_intel(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    intel = Escrowed("intel-1", INSPECTOR, INTEL, shadows=ESCROW_ID)
    assert refused(log, publish(intel, key=HOST)).reason == "role-not-allowed"
    log.submit(publish(intel))  # entry 1, before the reveal
    log.submit(reveal_event(log, DECL.bundle("phase-1", [1, 6])))  # entry 2: depot-02 and depot-07
    opened = intel.bundle("phase-1", [6])  # depot-07
    raised = {"id": "D-1", "phase": "phase-1", "cell": "depot-07", "detail": "suspected store", "intel": opened}
    wrong_cell = {**raised, "cell": "depot-02"}
    assert refused(log, event("discrepancy.raised", wrong_cell, INSPECTOR)).reason == "intel-invalid"
    tampered = copy.deepcopy(opened)
    tampered["statement"]["openings"][0]["content"]["suspects"][0]["confidence"] = 0.9
    tampered = sign_statement(tampered["statement"], [INSPECTOR])
    assert refused(log, event("discrepancy.raised", {**raised, "intel": tampered}, INSPECTOR)).reason == "intel-invalid"
    with pytest.raises(MalformedInputError):  # a declaration bundle has no suspects: not intel
        event("discrepancy.raised", {**raised, "intel": DECL.bundle("phase-1", [6])}, INSPECTOR)
    unpublished = Escrowed("intel-2", INSPECTOR, INTEL, shadows=ESCROW_ID).bundle("phase-1", [6])
    assert refused(log, event("discrepancy.raised", {**raised, "intel": unpublished}, INSPECTOR)).reason == "intel-invalid"
    assert log.submit(event("discrepancy.raised", raised, INSPECTOR)).created
    assert log.state.discrepancy_views() == [{
        "escrow_id": ESCROW_ID, "id": "D-1", "index": 3, "phase": "phase-1", "cell": "depot-07", "raised_by": "Inspector",
        "resolved": False, "intel_escrow": "intel-1", "intel_predates_reveal": True}]
    again = {**raised, "detail": "other words", "intel": None}
    assert refused(log, event("discrepancy.raised", again, INSPECTOR)).reason == "discrepancy-duplicate"
    assert refused(log, event("discrepancy.resolved", {"id": "D-9", "resolution": "x"}, INSPECTOR)).reason == "discrepancy-unknown"
    assert log.submit(event("discrepancy.resolved", {"id": "D-1", "resolution": "inspected"}, INSPECTOR)).created
    error = refused(log, event("discrepancy.resolved", {"id": "D-1", "resolution": "again"}, INSPECTOR))
    assert (error.reason, status_of(error.reason)) == ("discrepancy-repeat", 409)


def test_submit_many_is_one_transaction_and_one_checkpoint(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    calls: list[int] = []
    original = storage.append_entries
    storage.append_entries = lambda rows, **kw: (calls.append(len(rows)), original(rows, **kw))[1]  # type: ignore[method-assign]
    docs = [commit(INSPECTOR, R_INSPECTOR), reveal_coin(INSPECTOR, R_INSPECTOR), commit(HOST, R_HOST), commit(INSPECTOR, R_INSPECTOR),
            reveal_coin(INSPECTOR, R_INSPECTOR)]
    results = log.submit_many(docs)
    assert calls == [3]
    assert [r.reason if isinstance(r, BoardRefused) else (r.index, r.created) for r in results] == [
        (1, True), "coin-early", (2, True), (1, False), (3, True)]
    notes = {r.checkpoint_note for r in results if not isinstance(r, BoardRefused)}
    assert len(notes) == 1 and Checkpoint.parse(open_note(notes.pop())[0]).size == 4
    assert sorted(size for size, _ in storage.load_checkpoints()) == [0, 1, 4]


def test_a_failed_storage_write_keeps_nothing(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    root = log.root()

    def fail(rows: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    original = storage.append_entries
    storage.append_entries = fail  # type: ignore[method-assign]
    with pytest.raises(OSError):
        log.submit(commit(INSPECTOR, R_INSPECTOR))
    assert (log.size, log.root()) == (1, root)
    storage.append_entries = original  # type: ignore[method-assign]
    assert log.submit(commit(INSPECTOR, R_INSPECTOR)).index == 1  # not a "repeat": it was never kept


# --- checkpoints and cosignatures ------------------------------------------------------------


def _body(log: Log) -> str:
    return open_note(log.checkpoint())[0]


def test_cosignatures_from_registered_witnesses_only(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    first_body = _body(log)
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    body = _body(log)
    line = cosign(body, INSPECTOR_W, NOW)
    assert log.add_cosignature(body, line) == NOW
    note = log.checkpoint()
    assert line in note
    keys = [VerifierKey.parse(BOARD.vkey), INSPECTOR_W.verifier, OBSERVER_W.verifier]
    assert verify_note(note, keys) == keys[:2]
    assert log.add_cosignature(first_body, cosign(first_body, OBSERVER_W, NOW)) == NOW  # a past checkpoint

    error = _refused_cosig(log, body, cosign(body, MALLORY_W, NOW))
    assert (error.reason, status_of(error.reason)) == ("witness-unknown", 403)
    assert _refused_cosig(log, body, cosign(body, IMPOSTOR_W, NOW)).reason == "cosignature-invalid"
    assert _refused_cosig(log, body, sign_note(body, INSPECTOR)).reason == "cosignature-invalid"  # 0x01 line
    forged = Checkpoint(ORIGIN, 2, b"\x07" * 32).body()
    assert _refused_cosig(log, forged, cosign(forged, INSPECTOR_W, NOW)).reason == "checkpoint-unknown"
    other_root = Checkpoint(ORIGIN, 1, b"\x07" * 32).body()
    assert _refused_cosig(log, other_root, cosign(other_root, INSPECTOR_W, NOW)).reason == "checkpoint-unknown"
    assert _refused_cosig(log, "not a checkpoint\n", line).reason == "malformed"
    assert log.checkpoint().count("\u2014 ") == 2


def _refused_cosig(log: Log, body: str, line: str) -> BoardRefused:
    with pytest.raises(BoardRefused) as info:
        log.add_cosignature(body, line)
    return info.value


def test_reopened_log_reproduces_root_state_and_checkpoint(board: tuple[Log, MemoryStorage]) -> None:
    log, storage = board
    log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1])))
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    body = _body(log)
    log.add_cosignature(body, cosign(body, INSPECTOR_W, NOW))
    again, _ = new_log(storage)
    assert (again.size, again.root(), again.checkpoint()) == (log.size, log.root(), log.checkpoint())
    assert refused(again, publish(Escrowed(ESCROW_ID, HOST, CONTENTS, created="2019-01-20T00:00:00Z"))).reason == "escrow-duplicate"
    assert refused(again, commit(INSPECTOR, R_HOST)).reason == "coin-repeat"
    assert again.submit(commit(INSPECTOR, R_INSPECTOR)).created is False
    assert again.inclusion_proof(1) == log.inclusion_proof(1)


def _rewrite_entry(storage: Any, index: int, entry: bytes | None) -> None:
    """Change (or, with None, delete) a stored entry behind the log's back, in any backend."""
    if isinstance(storage, MemoryStorage):
        if entry is None:
            del storage.entries[index]
        else:
            storage.entries[index] = entry
        return
    from unveil.store import board_db

    table = board_db.entries
    with storage._engine.begin() as db:  # the test plays a tampering operator: raw SQL access
        if entry is None:
            db.execute(table.delete().where(table.c.idx == index))
        else:
            db.execute(table.update().where(table.c.idx == index).values(entry=entry))


def test_reopening_tampered_storage_fails(board: tuple[Log, Any]) -> None:
    log, storage = board
    log.submit(commit(INSPECTOR, R_INSPECTOR))
    original = log.entries(1, 2)[0]
    _rewrite_entry(storage, 1, original.replace(b"phase-2:inspect", b"phase-3:inspect"))
    with pytest.raises(VerificationError) as info:
        new_log(storage)
    assert {"signature-invalid", "checkpoint-root-mismatch"} <= info.value.reasons
    _rewrite_entry(storage, 1, None)  # truncated below the latest checkpoint
    with pytest.raises(VerificationError) as info:
        new_log(storage)
    assert "checkpoint-beyond-log" in info.value.reasons


def test_board_key_must_match_parties() -> None:
    with pytest.raises(ValueError):
        Log.open(MemoryStorage(), ORIGIN, _key(ORIGIN, label="other"), PARTIES, lambda: NOW)
    with pytest.raises(ValueError):
        Log.open(MemoryStorage(), "other.origin", _key("other.origin"), PARTIES, lambda: NOW)


def test_proof_ranges_are_refused(board: tuple[Log, MemoryStorage]) -> None:
    log, _ = board
    for call in (lambda: log.inclusion_proof(1), lambda: log.consistency_proof(0, 1), lambda: log.entries(0, 2)):
        with pytest.raises(BoardRefused) as info:
            call()
        assert (info.value.reason, status_of(info.value.reason)) == ("range-invalid", 400)


# --- audit -----------------------------------------------------------------------------------


@pytest.fixture
def busy() -> tuple[Log, MemoryStorage]:
    log, storage = new_log()
    log.submit(publish())
    log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1, 2])))
    log.submit_many([commit(INSPECTOR, R_INSPECTOR), commit(HOST, R_HOST)])
    log.submit(reveal_coin(HOST, R_HOST))
    log.submit(reveal_coin(INSPECTOR, R_INSPECTOR))
    log.submit(selection(SEED))
    body = _body(log)
    log.add_cosignature(body, cosign(body, OBSERVER_W, NOW))
    return log, storage


def _notes(storage: MemoryStorage, log: Log) -> list[str]:
    return [note for _, note in storage.load_checkpoints()] + [log.checkpoint()]


def test_audit_passes_on_a_good_log(busy: tuple[Log, MemoryStorage]) -> None:
    log, storage = busy
    report = audit(storage.entries, PARTIES, ORIGIN, _notes(storage, log), bundles=storage.get_bundle)
    assert report.ok, report.problems
    assert (report.size, report.root, report.checkpoints_checked, report.bundles_checked) == (7, log.root(), 8, True)
    assert log.audit().ok
    assert audit(storage.entries, PARTIES, ORIGIN, []).bundles_checked is False


def test_audit_flags_truncated_entries(busy: tuple[Log, MemoryStorage]) -> None:
    log, storage = busy
    report = audit(storage.entries[:-1], PARTIES, ORIGIN, _notes(storage, log))
    assert not report.ok
    assert {p.reason for p in report.problems} == {"checkpoint-beyond-log"}


def test_audit_flags_a_tampered_entry(busy: tuple[Log, MemoryStorage]) -> None:
    log, storage = busy
    entries = list(storage.entries)
    doc = json.loads(entries[4])
    doc["statement"]["time"] = "2019-01-18T15:00:01Z"
    entries[4] = canonicalize(doc)
    report = audit(entries, PARTIES, ORIGIN, _notes(storage, log))
    reasons = {(p.index, p.reason) for p in report.problems}
    assert (4, "signature-invalid") in reasons
    assert (None, "checkpoint-root-mismatch") in reasons
    assert (6, "selection-early") in reasons  # the replay goes on without the refused entry
    entries = list(storage.entries)
    entries[2] = entries[2] + b" "
    assert (2, "entry-not-canonical") in {(p.index, p.reason) for p in audit(entries, PARTIES, ORIGIN, []).problems}
    entries[2] = b"\xff"
    assert (2, "entry-malformed") in {(p.index, p.reason) for p in audit(entries, PARTIES, ORIGIN, []).problems}


def test_audit_flags_reordered_entries(busy: tuple[Log, MemoryStorage]) -> None:
    _, storage = busy
    entries = list(storage.entries)
    entries[4], entries[2] = entries[2], entries[4]  # a coin reveal before the commitments
    report = audit(entries, PARTIES, ORIGIN, [])
    assert (2, "coin-early") in {(p.index, p.reason) for p in report.problems}


def test_audit_flags_a_checkpoint_whose_root_does_not_match(busy: tuple[Log, MemoryStorage]) -> None:
    log, storage = busy
    lying = Checkpoint(ORIGIN, 5, log.root(4)).body()
    note = assemble_note(lying, [sign_note(lying, BOARD)])
    report = audit(storage.entries, PARTIES, ORIGIN, [note])
    assert [p.reason for p in report.problems] == ["checkpoint-root-mismatch"]
    by_other = Checkpoint(ORIGIN, 5, log.root(5)).body()
    note = assemble_note(by_other, [sign_note(by_other, _key(ORIGIN, label="other"))])
    assert [p.reason for p in audit(storage.entries, PARTIES, ORIGIN, [note]).problems] == ["checkpoint-signature-invalid"]
    note = log.checkpoint()
    last = note.splitlines()[-1]  # the observer's cosignature
    payload = bytearray(b64decode(last.rsplit(" ", 1)[1]))
    payload[-1] ^= 1
    bad_cosig = note.replace(last, last.rsplit(" ", 1)[0] + " " + b64encode(bytes(payload)))
    assert "checkpoint-signature-invalid" in {p.reason for p in audit(storage.entries, PARTIES, ORIGIN, [bad_cosig]).problems}


def test_bundle_changed_in_storage_is_caught_on_replay(busy: tuple[Log, MemoryStorage]) -> None:
    _, storage = busy
    sha = next(iter(storage.bundles))
    storage.bundles[sha] = storage.bundles[sha].replace(b'"phase-1"', b'"phase-7"')
    with pytest.raises(VerificationError) as info:
        new_log(storage)
    assert "bundle-invalid" in info.value.reasons
    assert new_log(storage, check_bundles=False)[0].size == 7


def test_every_event_kind_has_its_check_and_its_effect() -> None:
    """The protocol dispatches through explicit tables: a kind the events module accepts but the
    protocol does not know would otherwise fail only when the first such event arrives."""
    from unveil.board import protocol
    from unveil.board.events import KINDS

    assert set(protocol._CHECKS) | {"escrow.published"} == set(KINDS)
    assert set(protocol._APPLY) == set(KINDS)
