"""RFC 6962 / RFC 9162 probes from transparency-dev/merkle (``../shared/vectors/rfc6962``).

A conforming verifier errs exactly when a probe's ``wantErr`` is true (vectors README), under
the spec §7 conventions: size1 = 0 fails, equal sizes need an empty proof and equal roots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED, shared_path
from unveil.core.encoding import b64decode
from unveil.core.merkle import MerkleTree, leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion
from unveil.errors import VerificationError

VECTORS = SHARED / "vectors" / "rfc6962"
PROBE_COUNT = 196  # 98 inclusion + 98 consistency files (vectors README, transparency-dev testdata)

# RFC 6962 test leaves and the roots of their first n (vectors README).
RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
RFC6962_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def _probe_files() -> list[Path]:
    """Every probe file, or none when ../shared is absent (``test_vectors_present`` reports it)."""
    if not VECTORS.is_dir():
        return []
    return sorted(VECTORS.rglob("*.json"))


def _rel(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [b64decode(v) for v in values or []]


def _run_probe(probe: dict) -> None:
    if "leafIdx" in probe:
        verify_inclusion(
            probe["leafIdx"],
            probe["treeSize"],
            b64decode(probe["leafHash"]),
            _b64_list(probe["proof"]),
            b64decode(probe["root"]),
        )
    else:
        verify_consistency(
            probe["size1"],
            probe["size2"],
            _b64_list(probe["proof"]),
            b64decode(probe["root1"]),
            b64decode(probe["root2"]),
        )


def test_vectors_present() -> None:
    root = shared_path("vectors", "rfc6962")
    files = sorted(root.rglob("*.json"))
    assert len(files) == PROBE_COUNT
    assert sum(1 for f in files if _rel(f).startswith("inclusion/")) == PROBE_COUNT // 2
    assert sum(1 for f in files if _rel(f).startswith("consistency/")) == PROBE_COUNT // 2


@pytest.mark.parametrize("path", _probe_files(), ids=_rel)
def test_probe(path: Path) -> None:
    probe = json.loads(path.read_text(encoding="utf-8"))
    if probe["wantErr"]:
        with pytest.raises(VerificationError) as caught:
            _run_probe(probe)
        assert caught.value.reasons <= {"proof-malformed", "proof-root-mismatch"}
    else:
        _run_probe(probe)


def test_equal_sizes_compare_roots_byte_for_byte() -> None:
    """Spec §7: equal sizes need an empty proof and root1 = root2, byte for byte."""
    verify_consistency(3, 3, [], b"\x07" * 32, b"\x07" * 32)
    with pytest.raises(VerificationError) as caught:
        verify_consistency(3, 3, [], b"\x07" * 32, b"\x07" * 31 + b"\x08")
    assert caught.value.reasons == {"proof-root-mismatch"}
    with pytest.raises(VerificationError) as caught:
        verify_consistency(3, 3, [b"\x07" * 32], b"\x07" * 32, b"\x07" * 32)
    assert caught.value.reasons == {"proof-malformed"}


@pytest.mark.parametrize("size", sorted(RFC6962_ROOTS))
def test_known_rfc6962_roots(size: int) -> None:
    entries = [bytes.fromhex(h) for h in RFC6962_LEAVES[:size]]
    want = RFC6962_ROOTS[size]
    assert MerkleTree.from_entries(entries).root.hex() == want
    assert root_from_leaf_hashes(b"".join(leaf_hash(e) for e in entries)).hex() == want


def test_known_roots_are_consistent_with_each_other() -> None:
    tree = MerkleTree.from_entries([bytes.fromhex(h) for h in RFC6962_LEAVES])
    for size1 in range(1, 9):
        for size2 in range(size1, 9):
            verify_consistency(
                size1,
                size2,
                tree.consistency_proof(size1, size2),
                bytes.fromhex(RFC6962_ROOTS[size1]),
                bytes.fromhex(RFC6962_ROOTS[size2]),
            )
