"""The published vectors (tests/vectors/): the tamper suite, one vector per kind of mutation.

Every mutated bundle except ``bad-signature`` is re-signed by the host, so the semantic check,
not the signature, must catch it. Expected reasons were written by hand in generate.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unveil.core import cells as cell_file
from unveil.core import reasons
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.verify import check_bundle

VECTORS = Path(__file__).resolve().parent / "vectors"
EXPECTED: list[dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text())["vectors"]


def run_vector(vector: dict[str, Any]) -> tuple[str, set[tuple[int | None, str]]]:
    escrow = parse_signed(loads((VECTORS / vector["escrow"]).read_bytes()))
    bundle = parse_signed(loads((VECTORS / vector["bundle"]).read_bytes()))
    cells = cell_file.read((VECTORS / vector["cells"]).read_bytes()) if vector["cells"] else None
    leaves = (VECTORS / vector["leaves"]).read_bytes() if vector["leaves"] else None
    report = check_bundle(escrow, bundle, cells, leaves=leaves, trusted=vector["trust"])
    return report.status, {(p.index, p.reason) for p in report.problems}


@pytest.mark.parametrize("vector", EXPECTED, ids=[v["name"] for v in EXPECTED])
def test_vector_verdict(vector: dict[str, Any]) -> None:
    status, problems = run_vector(vector)
    assert problems == {(p["index"], p["reason"]) for p in vector["problems"]}
    assert status == vector["status"]


def test_tamper_suite_covers_every_mutation_kind() -> None:
    names = {v["name"] for v in EXPECTED}
    for kind in (
        "salt-bit-flipped", "content-field-changed", "quantity-changed", "index-changed", "cells-swapped",
        "proof-hash-changed", "proof-hash-dropped", "proof-hash-added", "proof-hashes-reordered",
        "root-changed", "tree-size-changed", "escrow-id-changed", "opening-duplicated", "openings-unsorted",
        "site-outside-cell", "serials-disagree-with-quantity", "kind-outside-vocabulary",
        "category-outside-vocabulary", "bad-signature",
    ):
        assert kind in names
    assert any(v["valid"] for v in EXPECTED)


def test_readme_lists_every_reason_code() -> None:
    readme = (VECTORS / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, flags=re.M))
    assert listed == set(reasons.PUBLISHED)


def test_vectors_use_only_registered_reasons() -> None:
    for vector in EXPECTED:
        for problem in vector["problems"]:
            assert problem["reason"] in reasons.PUBLISHED, (vector["name"], problem)


def test_generator_reproduces_the_published_bytes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(VECTORS / "generate.py"), str(tmp_path)], check=True)
    published = sorted(p.relative_to(VECTORS) for p in VECTORS.rglob("*") if p.is_file() and p.suffix in {".json", ".txt", ".bin"})
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert published == fresh
    for rel in published:
        assert (VECTORS / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
