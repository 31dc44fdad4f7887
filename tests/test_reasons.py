"""Reason codes: one enumeration (unveil.core.reasons.Reason), used everywhere, serialized plain."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import httpx
import pytest

from unveil.api.errors import PROTOCOL_STATUS, STATUS, status_of
from unveil.board import protocol
from unveil.core import reasons
from unveil.core.jcs import canonicalize
from unveil.core.reasons import Group, Reason
from unveil.errors import BoardError, BoardRefused, DrawRefused, Problem
from unveil.store.board_client import BoardClient

SRC = Path(__file__).resolve().parent.parent / "src" / "unveil"

WORDS = {
    "kind": "a content field (sites, suspects, events) as well as the truth test's mismatch reason",
    "quantity": "an item field as well as the truth test's mismatch reason",
    "incomplete": "a report status (unveil.core.verify.INCOMPLETE) as well as a bundle-level reason",
    "waiting": "the JSON field naming whom a draw waits for, beside its reason",
    "not-found": "an inspection's outcome (spec §7 inspection.reported) as well as the API's 404 reason",
    "fork": "a multiprocessing start method as well as the reason for two inconsistent board-signed checkpoints",
}
"""Codes that are also ordinary words of the code base: the scan below cannot tell a use as a
code from a use as a field name or status, so it does not look for them."""


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def literal_codes(source: str, name: str = "<source>") -> list[tuple[int, str]]:
    """``(line, code)`` of every string constant in ``source`` that is a reason code (docstrings
    and :data:`WORDS` aside)."""
    codes = {str(r) for r in Reason} - set(WORDS)
    tree = ast.parse(source, name)
    docs = _docstrings(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes and id(node) not in docs
    )


def test_no_reason_code_is_a_string_literal_outside_the_enumeration() -> None:
    """Every code is written ``Reason.X`` (mistyped, it fails mypy and at first use), never as
    a string a typo could change silently."""
    found = [
        f"{path.relative_to(SRC)}:{line}: {code!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "core" / "reasons.py"
        for line, code in literal_codes(path.read_text(), str(path))
    ]
    assert found == []


def test_the_scan_finds_literal_codes_and_skips_docstrings() -> None:
    source = '''"""Refuses with ``coin-repeat``."""
def f():
    """Raises coin-repeat."""
    raise BoardRefused("coin-repeat", "again")
x = {"kind": 1, "site": "escrow-invalid"}
'''
    assert literal_codes(source) == [(4, "coin-repeat"), (5, "escrow-invalid")]


def test_words_are_codes() -> None:
    assert set(WORDS) <= {str(r) for r in Reason}


def test_codes_are_unique_lowercase_and_described() -> None:
    values = [str(r) for r in Reason]
    assert len(values) == len(set(values))
    for reason in Reason:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(reason)), reason
        assert isinstance(reason.group, Group) and reason.description.strip(), reason
        assert reason == str(reason) and type(str(reason)) is str and type(reason.value) is str


def test_published_tables_are_derived_from_the_enumeration() -> None:
    assert reasons.BUNDLE_LEVEL == {str(r): r.description for r in Reason if r.group is Group.BUNDLE}
    assert set(reasons.PUBLISHED) == set(reasons.BUNDLE_LEVEL) | set(reasons.OPENING_LEVEL) | set(reasons.WARNINGS) | set(reasons.NOTES)
    assert set(reasons.ALL) == {str(r) for r in Reason}
    assert all(type(code) is str for code in reasons.ALL)
    with pytest.raises(TypeError):
        reasons.BUNDLE_LEVEL["new-code"] = "x"  # type: ignore[index]


def _protocol_table() -> dict[str, int]:
    doc = protocol.__doc__ or ""
    rows = re.findall(r"^([a-z][a-z0-9-]+) +(\d{3}) ", doc, flags=re.M)
    assert len(rows) > 30
    return {reason: int(status) for reason, status in rows}


def test_protocol_docstring_lists_each_refusal_with_the_status_the_api_answers() -> None:
    table = _protocol_table()
    for reason, status in table.items():
        assert Reason(reason) == reason  # every listed code is a member
        assert status_of(reason) == status, reason
    assert all(status != PROTOCOL_STATUS for status in STATUS.values())
    assert all(isinstance(reason, Reason) for reason in STATUS)


def test_serialized_reasons_are_plain_strings() -> None:
    problem = Problem(3, Reason.CELL_MISMATCH, "x")
    doc = problem.to_json()
    assert type(doc["reason"]) is str and doc["reason"] == "cell-mismatch"
    assert canonicalize(doc) == b'{"detail":"x","index":3,"reason":"cell-mismatch"}'
    refused = BoardRefused(Reason.BUNDLE_INVALID, "bad", problems=[problem])
    body = refused.to_json()
    assert type(body["reason"]) is str and body["problems"] == [doc]
    assert str(refused) == "bundle-invalid: bad" and str(DrawRefused(Reason.COIN_REPEAT, "again")) == "coin-repeat: again"
    assert json.dumps(BoardError(0, Reason.UNREACHABLE, "down").to_json())


def test_a_boards_unknown_reason_stays_a_plain_string() -> None:
    """A hostile or newer board may answer any code: the client keeps it as it came."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "no", "reason": "from-the-future", "problems": [{"reason": "also-new"}]})

    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://board") as http:
        client = BoardClient(http)
        with pytest.raises(BoardError) as info:
            client.checkpoint()
    error = info.value
    assert (error.status, error.reason, type(error.reason)) == (422, "from-the-future", str)
    assert error.to_json()["problems"] == [{"reason": "also-new"}]
