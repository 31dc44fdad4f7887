"""Docs examples run as tests: every ```python block in README.md and docs/*.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCKS = [
    pytest.param(block, id=f"{doc.name}-{n}")
    for doc in DOCS
    for n, block in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S))
]


def test_there_are_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS)
def test_example_runs(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    exec(compile(block, "<docs example>", "exec"), {})  # noqa: S102  # running the docs' own examples is the point


def test_every_test_named_in_the_security_docs_exists() -> None:
    """docs/security.md names the test that catches each attack: each name must be a test."""
    text = (REPO / "docs" / "security.md").read_text()
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text))  # globs (``test_bad_*``) are left out
    assert len(named) > 30
    missing = [f"{path}::{name}" for path, name in sorted(named)
               if not re.search(rf"^(async )?def {name}\(", (REPO / path).read_text(), flags=re.M)]
    assert missing == []
