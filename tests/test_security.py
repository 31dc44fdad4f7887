"""The security properties stated in docs/security.md, one test (at least) each."""

from __future__ import annotations

import base64
import hashlib
import pickle
from pathlib import Path

import pytest

from unveil.core.commitments import Salter, leaf, leaves_for
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.merkle import MerkleTree, hash_leaves, leaf_hash, root_from_leaf_hashes
from unveil.core.multiproof import verify_multiproof
from unveil.errors import VerificationError
from unveil.escrowing import commit_cells, open_cells

SECRET = hashlib.sha256(b"security test secret").digest()
CELLS = [f"c-{i:03d}" for i in range(37)]
SITE = {"cell": "c-004", "sites": [{"id": "S-1", "kind": "weapons-storage", "items": [{"category": "warhead", "quantity": 3, "unit": "count"}]}]}


def committed(contents: dict) -> tuple[bytes, bytes]:
    c = commit_cells(SECRET, "esc", CELLS, contents, workers=1)
    return c.leaves, c.root


def test_binding_a_cell_cannot_be_opened_to_other_content() -> None:
    leaves, root = committed({"c-004": SITE})
    tree = MerkleTree.from_leaf_hashes(hash_leaves(leaves))
    proof = tree.multiproof([4])
    salt = Salter(SECRET, "esc").salt("c-004")
    verify_multiproof(len(CELLS), [(4, leaf_hash(leaf(salt, SITE)))], proof, root)  # the honest opening
    lie = {"cell": "c-004", "sites": [{**SITE["sites"][0], "items": [{"category": "warhead", "quantity": 2, "unit": "count"}]}]}
    for content in (lie, {"cell": "c-004", "sites": []}):
        with pytest.raises(VerificationError) as caught:
            verify_multiproof(len(CELLS), [(4, leaf_hash(leaf(salt, content)))], proof, root)
        assert caught.value.reasons == {"proof-root-mismatch"}


def test_binding_a_cell_cannot_move_or_be_left_out() -> None:
    leaves, root = committed({"c-004": SITE})
    tree = MerkleTree.from_leaf_hashes(hash_leaves(leaves))
    moved = leaves[5 * 32 : 6 * 32]  # cell 5's leaf presented as cell 4's
    with pytest.raises(VerificationError):
        verify_multiproof(len(CELLS), [(4, leaf_hash(moved))], tree.multiproof([4]), root)
    without_last = root_from_leaf_hashes(hash_leaves(leaves[:-32]))
    assert without_last != root


def test_hiding_openings_do_not_depend_on_unopened_cells() -> None:
    leaves_a, root_a = committed({"c-004": SITE})
    leaves_b, root_b = committed({})  # the same declaration with cell c-004 empty
    assert root_a != root_b
    opened = [0, 1, 2, 20, 30]
    openings_a, _ = open_cells(SECRET, "esc", CELLS, {"c-004": SITE}, leaves_a, opened)
    openings_b, _ = open_cells(SECRET, "esc", CELLS, {}, leaves_b, opened)
    assert openings_a == openings_b  # nothing in the openings tells the two declarations apart


def test_hiding_a_bundle_carries_no_salt_of_an_unopened_cell() -> None:
    leaves, _ = committed({"c-004": SITE})
    openings, proof = open_cells(SECRET, "esc", CELLS, {"c-004": SITE}, leaves, [3, 5])
    text = repr(openings) + "".join(h.hex() for h in proof)
    salter = Salter(SECRET, "esc")
    for i, cell in enumerate(CELLS):
        assert (salter.salt(cell).hex() in text) == (i in (3, 5))


def test_hiding_salts_are_keyed_per_escrow_and_cell() -> None:
    a, b = Salter(SECRET, "esc"), Salter(SECRET, "esc-2")
    salts = {a.salt(c) for c in CELLS} | {b.salt(c) for c in CELLS}
    assert len(salts) == 2 * len(CELLS)
    other = Salter(hashlib.sha256(b"another secret").digest(), "esc")
    assert all(other.salt(c) != a.salt(c) for c in CELLS)
    # An empty cell's leaf cannot be recomputed from public data without its salt.
    public_guess = hashlib.sha256(b"unveil/v1/cell\x00" + b'{"cell":"c-000","sites":[]}').digest()
    assert leaves_for(a, ["c-000"], {}) != public_guess


def test_master_secret_never_in_artifacts(tmp_path: Path) -> None:
    """The demo's published files carry neither the escrow's master secret nor a private key."""
    import sqlite3

    from cryptography.hazmat.primitives import serialization

    from unveil.cli import demo_cmd

    assert demo_cmd.run(tmp_path, as_json=True) == 0
    host = tmp_path / "workspaces" / "host"
    (secret,) = sqlite3.connect(host / "workspace.db").execute("SELECT master_secret FROM secrets").fetchone()
    seeds = []
    for pem in (host / "keys").iterdir():
        key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        seeds.append(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))
    published = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.name for p in published} >= {"escrow.json", "cells.txt", "leaves.bin", "reveal-final.json"}
    for value in (secret, *seeds):
        assert len(value) == 32
        forms = [value, value.hex().encode(), base64.b64encode(value)[:40]]
        for path in published:
            data = path.read_bytes()
            assert not any(form in data for form in forms), path.name


def test_secret_objects_do_not_print_secrets() -> None:
    key = SigningKey.generate("Host", STATEMENT_KEY, SECRET)
    salter = Salter(SECRET, "esc")
    for text in (repr(key), str(key), repr(salter)):
        assert SECRET.hex() not in text and key.private_bytes().hex() not in text
    with pytest.raises(TypeError):
        pickle.dumps(key)
