"""Salts, leaves, sealed totals (spec §3, §4), each against the spec's formula written out."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from unveil.core.commitments import Salter, content_jcs, contents_jcs, empty_content_jcs, leaf, leaves_for, leaves_of, sealed_totals
from unveil.core.encoding import hex32_packed
from unveil.core.jcs import canonicalize
from unveil.core.merkle import hash_leaves, root_from_leaf_hashes
from unveil.escrowing import commit_cells, leaves_root

K = bytes(range(32))
ids = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)


@given(ids, ids)
def test_salt_is_the_spec_hmac(escrow_id: str, cell: str) -> None:
    expected = hmac.new(K, b"unveil/v1/salt\x00" + escrow_id.encode() + b"\x00" + cell.encode(), hashlib.sha256).digest()
    assert Salter(K, escrow_id).salt(cell) == expected


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=8))
def test_salts_and_hashes_decode_from_lowercase_hex_only(values: list[bytes]) -> None:
    """Salts and proof hashes are 64 lowercase hex digits each (spec §0), decoded in one pass."""
    texts = [v.hex() for v in values]
    assert hex32_packed(texts) == b"".join(values)
    if values:
        for bad in (texts[0].upper(), texts[0][:63], texts[0] + "0", "g" + texts[0][1:], " " + texts[0][1:]):
            if bad != texts[0]:
                assert hex32_packed([*texts[1:], bad]) is None


@given(ids)
def test_empty_content_fast_bytes_equal_jcs(cell: str) -> None:
    content = {"cell": cell, "sites": []}
    assert empty_content_jcs(cell) == content_jcs(content) == canonicalize(content)


def test_leaf_and_sealed_totals_formulas() -> None:
    salt = Salter(K, "esc").salt("86302d037ffffff")
    content = {"cell": "86302d037ffffff", "sites": [{"id": "S-1", "kind": "reactor", "lat": 1.5, "lon": 2.25, "items": []}]}
    assert leaf(salt, content) == hashlib.sha256(b"unveil/v1/cell\x00" + salt + canonicalize(content)).digest()
    totals = {"heu": {"quantity": 41.5, "unit": "kg"}}
    tsalt = Salter(K, "esc").salt("#totals")
    assert sealed_totals(tsalt, totals) == hashlib.sha256(b"unveil/v1/totals\x00" + tsalt + b'{"heu":{"quantity":41.5,"unit":"kg"}}').digest()


def test_parallel_commit_equals_single_core_and_the_plain_formula() -> None:
    cells = [f"cell-{i:06d}" for i in range(150_000)]  # over the parallel threshold, a ragged last chunk
    contents = {"cell-000007": {"cell": "cell-000007", "sites": [{"id": "S", "kind": "other", "items": []}]}}
    parallel = commit_cells(K, "esc", cells, contents, workers=2)
    single = commit_cells(K, "esc", cells, contents, workers=1)
    assert parallel == single
    assert parallel.leaves == leaves_for(Salter(K, "esc"), cells, contents)
    assert parallel.root == root_from_leaf_hashes(hash_leaves(parallel.leaves)) == leaves_root(parallel.leaves, workers=2)
    salt = hmac.new(K, b"unveil/v1/salt\x00esc\x00cell-000007", hashlib.sha256).digest()
    assert parallel.leaves[7 * 32 : 8 * 32] == leaf(salt, contents["cell-000007"])


@given(st.lists(st.one_of(ids, st.text(max_size=5)), max_size=6), st.booleans())
def test_batch_leaves_equal_single_leaves(cells: list[str], with_site: bool) -> None:
    contents = [{"cell": c, "sites": []} for c in cells]
    if with_site and contents:
        contents[0]["sites"] = [{"id": "S", "kind": "other", "items": []}]
    salts = [Salter(K, "esc").salt(c) for c in cells]
    assert leaves_of(salts, contents) == [leaf(s, c) for s, c in zip(salts, contents, strict=True)]
    assert contents_jcs(contents) == [canonicalize(c) for c in contents]
