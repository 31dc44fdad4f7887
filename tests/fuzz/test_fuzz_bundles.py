"""Fuzzing signed statements, escrows, reveal bundles and the bundle verifier (spec §1–§6) on
mutations of the published test vectors (tests/vectors/).

Robustness: every reader returns its value or a MalformedInputError naming the field, and
:func:`check_bundle` a report. Semantics: a vector's result survives any re-layout of its
files, and no change to what was signed, to cells.txt or to leaves.bin leaves a valid bundle
valid, even when the host signs the changed statement again (binding, spec §3, §5).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import dump, fuzz, json_values, mutated_bytes, mutated_text, mutated_value, outcome
from unveil.core import cells as cell_file
from unveil.core.envelope import parse_signed
from unveil.core.escrow import parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.reveal import parse_reveal
from unveil.core.statements import check_signatures, sign_statement, statement_message, trusted_signers
from unveil.core.verify import BundleReport, check_bundle
from unveil.errors import MalformedInputError

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SIGNERS = {
    key.vkey: key
    for key in (
        SigningKey.generate(name, STATEMENT_KEY, hashlib.sha256(f"unveil vectors: {label} statement key".encode()).digest())
        for name, label in (("Host", "host"), ("Inspector", "inspector"))
    )
}
"""The vectors' signing keys (tests/vectors/generate.py derives them from these fixed seeds)."""


@dataclass(frozen=True)
class Vector:
    name: str
    escrow: Any
    bundle: Any
    cells: bytes | None
    leaves: bytes | None
    trust: tuple[str, ...]
    status: str
    problems: tuple[tuple[int | None, str], ...]


def _problems(pairs: Any) -> tuple[tuple[int | None, str], ...]:
    return tuple(sorted(pairs, key=lambda p: (-1 if p[0] is None else p[0], str(p[1]))))


def _vectors() -> list[Vector]:
    found = []
    for v in json.loads((VECTORS / "expected.json").read_text())["vectors"]:
        def raw(key: str) -> bytes | None:
            return (VECTORS / v[key]).read_bytes() if v[key] else None

        found.append(Vector(
            v["name"], loads(raw("escrow")), loads(raw("bundle")), raw("cells"), raw("leaves"), tuple(v["trust"]),
            v["status"], _problems((p["index"], p["reason"]) for p in v["problems"])))
    return found


ALL = _vectors()
VALID = [v for v in ALL if v.status == "valid"]
assert {SIGNERS[k].vkey for v in ALL for k in v.trust} <= set(SIGNERS)


def check(escrow: Any, bundle: Any, cells: bytes | None, leaves: bytes | None, trust: tuple[str, ...] | None) -> BundleReport | MalformedInputError:
    """The verifier's path from parsed JSON to a report, as the command line takes it."""
    def run() -> BundleReport:
        cell_list = cell_file.read(cells, source="cells.txt") if cells is not None else None
        return check_bundle(parse_signed(escrow, "escrow"), parse_signed(bundle, "bundle"), cell_list, leaves=leaves, trusted=trust)

    result = outcome(run)
    if isinstance(result, BundleReport):
        assert result.status in ("valid", "invalid", "incomplete")
        assert result.valid == (not result.problems and cells is not None)
        json.dumps(result.to_json())  # what --json prints
        for problem in (*result.problems, *result.warnings):
            assert problem.reason and str(problem)
    return result


# --- readers ---------------------------------------------------------------------------------


@fuzz(30)
@given(st.sampled_from([doc for v in ALL for doc in (v.escrow, v.bundle)]).flatmap(mutated_value))
def test_parse_signed_on_mutated_envelopes(doc: Any) -> None:
    outcome(parse_signed, doc, "bundle", where=True)


@fuzz(30)
@given(json_values)
def test_parse_signed_on_any_json(doc: Any) -> None:
    outcome(parse_signed, doc, "$", where=True)


@fuzz(30)
@given(st.sampled_from(sorted({json.dumps(v.escrow["statement"]) for v in ALL})).map(json.loads).flatmap(mutated_value))
def test_parse_escrow_on_mutated_statements(statement: Any) -> None:
    outcome(parse_escrow, statement, "escrow.statement", where=True)


@fuzz(30)
@given(st.sampled_from(ALL).flatmap(lambda v: st.tuples(mutated_value(v.bundle["statement"]), st.just(v.escrow["statement"]["purpose"] == "intel"))))
def test_parse_reveal_on_mutated_statements(case: tuple[Any, bool]) -> None:
    statement, intel = case
    outcome(parse_reveal, statement, "bundle.statement", intel=intel, where=True)
    outcome(parse_reveal, statement, "bundle.statement", intel=not intel, where=True)


@fuzz(30)
@given(st.sampled_from(ALL).flatmap(lambda v: st.tuples(mutated_value(v.bundle), st.sampled_from([*SIGNERS, "Host+00000000+AQ", ""]))))
def test_signature_checks_on_mutated_envelopes(case: tuple[Any, str]) -> None:
    """Spec §6: a statement's signatures are classified, or the envelope is malformed."""
    doc, vkey = case
    outcome(trusted_signers, doc, "Host")
    if type(doc) is dict and "statement" in doc and "signatures" in doc:
        result = outcome(check_signatures, doc["statement"], doc["signatures"], [vkey], "Host")
        if not isinstance(result, MalformedInputError):
            assert set(result.trusted_valid) | set(result.trusted_failed) <= {vkey}
            assert result.valid == (bool(result.trusted_valid) and not result.trusted_failed)
    outcome(statement_message, doc)


# --- the verifier --------------------------------------------------------------------------


@st.composite
def mutated_case(draw: st.DrawFn) -> tuple[Vector, Any, Any, bytes | None, bytes | None, tuple[str, ...]]:
    """A vector with one or two of its inputs mutated (as JSON, as text, as bytes)."""
    v = draw(st.sampled_from(ALL))
    escrow, bundle, cells, leaves, trust = v.escrow, v.bundle, v.cells, v.leaves, v.trust
    for target in draw(st.sets(st.sampled_from(["escrow", "bundle", "bundle", "bundle", "cells", "leaves", "trust"]), min_size=1, max_size=2)):
        if target in ("escrow", "bundle"):
            doc = escrow if target == "escrow" else bundle
            if draw(st.booleans()):
                doc = draw(mutated_value(doc))
            else:
                parsed = outcome(loads, draw(mutated_text(doc)))
                if isinstance(parsed, MalformedInputError):
                    continue
                doc = parsed
            escrow, bundle = (doc, bundle) if target == "escrow" else (escrow, doc)
        elif target == "cells" and cells is not None:
            cells = draw(mutated_bytes(cells))
        elif target == "leaves" and leaves is not None:
            leaves = draw(mutated_bytes(leaves) | st.just(leaves[:-32]) | st.just(leaves + leaves[:32]))
        elif target == "trust":
            trust = draw(st.sampled_from([(), tuple(SIGNERS), ("x",), trust + trust]))
    return v, escrow, bundle, cells, leaves, trust


@fuzz(30)
@given(mutated_case())
def test_check_bundle_on_mutated_vectors(case: tuple[Vector, Any, Any, bytes | None, bytes | None, tuple[str, ...]]) -> None:
    v, escrow, bundle, cells, leaves, trust = case
    report = check(escrow, bundle, cells, leaves, trust)
    if not isinstance(report, BundleReport) or v.status != "valid" or trust != v.trust:
        return
    signed_same = all(
        type(doc) is dict and type(doc.get("statement")) is dict and canonicalize(doc["statement"]) == canonicalize(original["statement"])
        for doc, original in ((escrow, v.escrow), (bundle, v.bundle))
    )
    if not signed_same or cells != v.cells or leaves != v.leaves:
        assert not report.valid, "a change to what was signed, to cells.txt or to leaves.bin kept the bundle valid"


def _shuffled(value: Any, rng: random.Random) -> Any:
    if type(value) is dict:
        keys = list(value)
        rng.shuffle(keys)
        return {k: _shuffled(value[k], rng) for k in keys}
    if type(value) is list:
        return [_shuffled(item, rng) for item in value]
    return value


@fuzz(15)
@given(st.sampled_from(ALL), st.randoms(use_true_random=False), st.sampled_from([None, 0, 1, 4]), st.booleans())
def test_every_vector_keeps_its_result_in_any_layout(v: Vector, rng: random.Random, indent: int | None, ascii: bool) -> None:
    """Member order, white space and escapes are not part of what is signed (spec §0, §6)."""
    escrow, bundle = (loads(dump(_shuffled(doc, rng), indent=indent, ascii=ascii).encode()) for doc in (v.escrow, v.bundle))
    report = check(escrow, bundle, v.cells, v.leaves, v.trust)
    assert isinstance(report, BundleReport)
    assert report.status == v.status
    assert _problems((p.index, p.reason) for p in report.problems) == v.problems


@fuzz(30)
@given(st.sampled_from(VALID).flatmap(lambda v: st.tuples(st.just(v), mutated_value(v.bundle["statement"]))))
def test_a_re_signed_changed_bundle_is_not_valid(case: tuple[Vector, Any]) -> None:
    """Binding (spec §3, §5): the host signing a changed bundle does not make it valid, unless
    the change is only its phase label or leaves the JCS form as it was."""
    v, statement = case
    signer = SIGNERS[v.trust[0]]
    try:
        statement_message(statement)
    except MalformedInputError:
        return  # not a JSON object, or no JCS form: nothing to sign
    bundle = sign_statement(statement, [signer])
    report = check(v.escrow, bundle, v.cells, v.leaves, v.trust)
    if isinstance(report, BundleReport) and report.valid:
        def unlabelled(s: dict[str, Any]) -> bytes:
            return canonicalize({k: x for k, x in s.items() if k != "phase"})

        assert unlabelled(statement) == unlabelled(v.bundle["statement"])


@fuzz(15)
@given(st.sampled_from(VALID).flatmap(lambda v: st.tuples(st.just(v), mutated_value(v.escrow["statement"]))))
def test_a_re_signed_changed_escrow_is_not_valid(case: tuple[Vector, Any]) -> None:
    """The escrow binds its root, tree size, grid and totals: re-signed with a change to any of
    them, a valid bundle fails."""
    v, statement = case
    try:
        statement_message(statement)
    except MalformedInputError:
        return
    escrow = sign_statement(statement, [SIGNERS[v.trust[0]]])
    report = check(escrow, v.bundle, v.cells, v.leaves, v.trust)
    if isinstance(report, BundleReport) and report.valid:
        kept = ("created", "vocabulary", "totals", "sealed_totals", "shadows")  # not bound by these openings
        def bound(s: dict[str, Any]) -> bytes:
            return canonicalize({k: x for k, x in s.items() if k not in kept})

        assert bound(statement) == bound(copy.deepcopy(v.escrow["statement"]))
