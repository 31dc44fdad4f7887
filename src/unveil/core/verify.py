"""The reveal-bundle verifier (spec §1–§6): every check, every problem.

:func:`check_bundle` computes first and compares after, and collects **every** problem
(opening index and reason) rather than stopping at the first; :func:`verify_bundle` is the
strict form that returns nothing or raises one :class:`~unveil.errors.VerificationError`.
Reason codes are listed, with what each means, in ``tests/vectors/README.md``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Collection

from unveil.core import cells as cell_rules
from unveil.core import content as content_rules
from unveil.core.commitments import leaves_of, sealed_totals
from unveil.core.encoding import hex32_packed, is_hex32, is_id
from unveil.core.envelope import SignedStatement
from unveil.core.escrow import Escrow, escrow_problems, parse_escrow, totals_problems
from unveil.core.merkle import hash_leaves, leaf_hash, root_from_leaf_hashes
from unveil.core.multiproof import verify_packed_multiproof
from unveil.core.quantities import exact, exact_sum, render
from unveil.core.reasons import Reason
from unveil.core.reveal import Opening, Reveal, parse_reveal
from unveil.core.statements import check_signatures, trusted_signers
from unveil.core.vocabulary import Vocabulary, lookup
from unveil.errors import Problem, VerificationError

VALID, INVALID, INCOMPLETE = "valid", "invalid", "incomplete"


@dataclass(frozen=True)
class BundleReport:
    """The outcome of checking one reveal bundle against its escrow."""

    escrow: Escrow
    reveal: Reveal
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    host_key_pinned: bool
    complete: bool  # cells.txt was supplied

    @property
    def status(self) -> str:
        if self.problems:
            return INVALID
        return VALID if self.complete else INCOMPLETE

    @property
    def valid(self) -> bool:
        return self.status == VALID

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "valid": self.valid,
            "status": self.status,
            "host_key_pinned": self.host_key_pinned,
            "escrow_id": self.escrow.escrow_id,
            "phase": self.reveal.phase,
            "openings": len(self.reveal.openings),
            "problems": [p.to_json() for p in self.problems],
            "warnings": [w.to_json() for w in self.warnings],
        }
        if self.reveal.part is not None:  # spec §5.1: a part, checked alone
            doc["part"], doc["parts"] = self.reveal.part, self.reveal.parts
        return doc


@dataclass(frozen=True)
class EscrowReport:
    """The outcome of checking a received escrow before any reveal (:func:`check_escrow`)."""

    escrow: Escrow
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    host_key_pinned: bool

    @property
    def status(self) -> str:
        return INVALID if self.problems else VALID

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class _Findings:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(self, reason: Reason, detail: str, index: int | None = None) -> None:
        self.problems.append(Problem(index, reason, detail))


def check_bundle(
    escrow_signed: SignedStatement,
    reveal_signed: SignedStatement,
    cells: cell_rules.CellList | None,
    *,
    leaves: bytes | None = None,
    trusted: Collection[str] | None = None,
) -> BundleReport:
    """Check a signed reveal bundle against its signed escrow (spec §1–§6): every check, always.

    ``trusted`` are whole vkey strings trusted for the host (spec §6). ``None`` trusts the
    keys that validly signed the escrow under the host's name: a convenience reported as
    ``host_key_pinned = False``. Malformed input raises MalformedInputError first.
    """
    return _check_bundle_with(escrow_signed, reveal_signed, cells, leaves=leaves, trusted=trusted, independent=None)


def _check_bundle_with(
    escrow_signed: SignedStatement,
    reveal_signed: SignedStatement,
    cells: cell_rules.CellList | None,
    *,
    leaves: bytes | None,
    trusted: Collection[str] | None,
    independent: Callable[[], list[Problem]] | None,
) -> BundleReport:
    """:func:`check_bundle`, with the checks that do not read the openings (signatures and
    cells.txt, :func:`_signature_and_cell_problems`) taken from ``independent()`` when given.

    Private to ``unveil verify``, which computes them in a forked process from the same bytes
    (:func:`unveil.cli.verify_cmd._check_forked`; a test holds its reports equal to
    :func:`check_bundle`'s on the whole tamper suite). A waiter over other inputs would stand
    in for these inputs' signature checks: never pass one from elsewhere.
    """
    escrow = parse_escrow(escrow_signed.statement, "escrow.statement")
    reveal = parse_reveal(reveal_signed.statement, "bundle.statement", intel=escrow.purpose == "intel")
    pinned = trusted is not None
    if independent is None:
        independent = _independent_checks(escrow, escrow_signed, reveal_signed, cells, trusted).copy

    found = _Findings()
    vocabulary = lookup(escrow.vocabulary)
    if vocabulary is None:
        found.warnings.append(_vocabulary_unknown(escrow))
    found.problems.extend(escrow_problems(escrow, vocabulary))
    if reveal.escrow_id != escrow.escrow_id:
        found.add(Reason.ESCROW_ID_MISMATCH, f"bundle escrow_id {reveal.escrow_id!r} is not the escrow's {escrow.escrow_id!r}")
    if reveal.root != escrow.root:
        found.add(Reason.ROOT_MISMATCH, f"bundle root {reveal.root[:64]!r} is not the escrow's root {escrow.root}")
    if reveal.tree_size != escrow.tree_size:
        found.add(Reason.TREE_SIZE_MISMATCH, f"bundle tree_size {reveal.tree_size} is not the escrow's {escrow.tree_size}")
    if not is_id(reveal.phase):
        found.add(Reason.PHASE_INVALID, f"phase {reveal.phase[:80]!r} is not an id")
    known_leaves = _check_leaves(escrow, leaves, found) if leaves is not None else None
    openings = _check_order(reveal, escrow.tree_size, found)
    opened = _check_openings(escrow, openings, cells, known_leaves, vocabulary, found)
    _check_proof(escrow, reveal, opened, found)
    _check_totals(escrow, reveal, openings, vocabulary, found)
    problems = independent() + found.problems
    return BundleReport(escrow, reveal, tuple(problems), tuple(found.warnings), pinned, cells is not None)


def _signature_and_cell_problems(
    escrow_signed: SignedStatement, reveal_signed: SignedStatement, cells: cell_rules.CellList | None, trusted: Collection[str] | None
) -> list[Problem]:
    """The problems :func:`check_bundle` finds in the signatures and cells.txt (the rest of
    the bundle unread), for :func:`_check_bundle_with`'s ``independent``."""
    return _independent_checks(parse_escrow(escrow_signed.statement, "escrow.statement"), escrow_signed, reveal_signed, cells, trusted)


def _independent_checks(
    escrow: Escrow,
    escrow_signed: SignedStatement,
    reveal_signed: SignedStatement,
    cells: cell_rules.CellList | None,
    trusted: Collection[str] | None,
) -> list[Problem]:
    """Signatures on escrow and bundle (spec §6), and the cell list against the escrow (§1).
    ``trusted`` ``None`` trusts the keys that validly signed the escrow under the host's name."""
    trust = list(trusted) if trusted is not None else trusted_signers(escrow_signed.to_json(), escrow.host)
    problems = check_signatures(escrow.statement, list(escrow_signed.signatures), trust, escrow.host).problems(escrow=True)
    problems += check_signatures(reveal_signed.statement, list(reveal_signed.signatures), trust, escrow.host).problems()
    if cells is not None:
        found = _Findings()
        _check_cells(escrow, cells, found)
        problems += found.problems
    return problems


def check_escrow(escrow_signed: SignedStatement, cells: cell_rules.CellList, *, trusted: Collection[str] | None = None) -> EscrowReport:
    """Check a signed escrow and its cell list before any reveal (spec §1, §4, §6): the
    signatures (``escrow-signature-invalid``, ``escrow-signature-untrusted``), the §4 value
    rules (``escrow-invalid``, ``totals-invalid``) and ``cells`` against the escrow
    (``cells-sha256-mismatch``, ``cell-count-mismatch``, ``cells-invalid``); every problem.

    ``trusted`` as for :func:`check_bundle`. Malformed input raises MalformedInputError first.
    """
    escrow = parse_escrow(escrow_signed.statement, "escrow.statement")
    trust = list(trusted) if trusted is not None else trusted_signers(escrow_signed.to_json(), escrow.host)
    found = _Findings(check_signatures(escrow.statement, list(escrow_signed.signatures), trust, escrow.host).problems(escrow=True))
    vocabulary = lookup(escrow.vocabulary)
    if vocabulary is None:
        found.warnings.append(_vocabulary_unknown(escrow))
    found.problems.extend(escrow_problems(escrow, vocabulary))
    _check_cells(escrow, cells, found)
    return EscrowReport(escrow, tuple(found.problems), tuple(found.warnings), trusted is not None)


def _vocabulary_unknown(escrow: Escrow) -> Problem:
    return Problem(None, Reason.VOCABULARY_UNKNOWN, f"vocabulary {escrow.vocabulary!r} is not known here: its checks were skipped (spec §10)")


def verify_bundle(
    escrow_signed: SignedStatement,
    reveal_signed: SignedStatement,
    cells: cell_rules.CellList | None,
    *,
    leaves: bytes | None = None,
    trusted: Collection[str] | None = None,
) -> None:
    """Return nothing if the bundle is valid; raise one VerificationError listing every problem."""
    report = check_bundle(escrow_signed, reveal_signed, cells, leaves=leaves, trusted=trusted)
    if report.problems:
        raise VerificationError(report.problems)
    if not report.complete:
        raise VerificationError.because(Reason.INCOMPLETE, "cells.txt is needed to call a bundle valid (spec §1)")


def _check_cells(escrow: Escrow, cells: cell_rules.CellList, found: _Findings) -> None:
    if cells.sha256 != escrow.grid.cells_sha256:
        found.add(Reason.CELLS_SHA256_MISMATCH, f"SHA-256 of cells.txt is {cells.sha256}, the escrow commits to {escrow.grid.cells_sha256}")
    if len(cells) != escrow.grid.cell_count:
        found.add(Reason.CELL_COUNT_MISMATCH, f"cells.txt has {len(cells)} lines, the escrow says {escrow.grid.cell_count}")
    for text in cell_rules.problems(cells, escrow.grid.system, escrow.grid.resolution):
        found.add(Reason.CELLS_INVALID, text)


def _check_leaves(escrow: Escrow, leaves: bytes, found: _Findings) -> bytes | None:
    if len(leaves) != 32 * escrow.tree_size:
        found.add(Reason.LEAVES_INVALID, f"leaves.bin has {len(leaves)} bytes, expected 32 × {escrow.tree_size}")
        return None
    root = root_from_leaf_hashes(hash_leaves(leaves))
    if root.hex() != escrow.root:
        found.add(Reason.LEAVES_ROOT_MISMATCH, f"the Merkle root of leaves.bin is {root.hex()}, not the escrow's root")
        return None
    return leaves


def _check_order(reveal: Reveal, tree_size: int, found: _Findings) -> list[Opening]:
    """Openings usable for the proof: in range, first of each index, in index order."""
    if not reveal.openings:
        found.add(Reason.OPENINGS_EMPTY, "a bundle opens at least one cell")
        return []
    usable: dict[int, Opening] = {}
    previous: int | None = None
    for opening in reveal.openings:
        i = opening.index
        if previous is not None and i <= previous:
            what = "repeats" if i == previous or i in usable else "comes after"
            found.add(Reason.OPENINGS_ORDER, f"index {i} {what} index {previous}: openings must be strictly ascending", i)
        previous = i
        if not 0 <= i < tree_size:
            found.add(Reason.INDEX_OUT_OF_RANGE, f"index {i} is outside [0, {tree_size})", i)
        elif i not in usable:
            usable[i] = opening
    return [usable[i] for i in sorted(usable)]


def _check_openings(
    escrow: Escrow,
    openings: list[Opening],
    cells: cell_rules.CellList | None,
    known_leaves: bytes | None,
    vocabulary: Vocabulary | None,
    found: _Findings,
) -> tuple[list[int], bytes] | None:
    """Every per-opening check; for the proof, the indices and their leaf hashes concatenated,
    or None if a leaf cannot be computed. Whole-list passes first; slow per-opening scans name
    failures."""
    if not openings:
        return [], b""
    add = found.add
    indices = [o.index for o in openings]
    cells_opened = [o.cell for o in openings]
    contents = [o.content for o in openings]
    if cells is not None:
        cell_ids = cells.cells
        expected = [cell_ids[i] if i < len(cell_ids) else None for i in indices]
        if expected != cells_opened:
            for i, want, cell in zip(indices, expected, cells_opened, strict=True):
                if want is not None and want != cell:
                    add(Reason.CELL_MISMATCH, f"cell {cell[:80]!r} is not line {i} of cells.txt ({want})", i)
    _check_contents(escrow, openings, vocabulary, found)
    salts = _salts(openings, found)
    if salts is None:
        return None
    values = leaves_of(salts, contents)
    if known_leaves is not None:
        stored = [known_leaves[32 * i : 32 * i + 32] for i in indices]
        if stored != values:
            for i, stored_leaf, value in zip(indices, stored, values, strict=True):
                if stored_leaf != value:
                    add(Reason.LEAF_MISMATCH, f"the recomputed leaf differs from leaves.bin entry {i}", i)
    return indices, b"".join(map(leaf_hash, values))


def _check_contents(escrow: Escrow, openings: list[Opening], vocabulary: Vocabulary | None, found: _Findings) -> None:
    """§2 (or §9) rules for every opening with something in it, and uniqueness across them."""
    intel = escrow.purpose == "intel"
    body = "suspects" if intel else "sites"
    rules = content_rules.intel_problems if intel else content_rules.content_problems
    grid = content_rules.GridRules(escrow.grid.system, escrow.grid.resolution)
    index = content_rules.DeclarationIndex()
    for i, cell, _, content in openings:
        if content[body] or content["cell"] != cell:
            for reason, detail in rules(content, cell, grid, vocabulary):
                found.add(reason, detail, i)
            for reason, detail in index.add(content):
                found.add(reason, detail, i)


def _salts(openings: list[Opening], found: _Findings) -> list[bytes] | None:
    """Every salt as bytes, or None (each bad one reported) if any is not 64 lowercase hex."""
    raw = hex32_packed([o.salt for o in openings])
    if raw is None:
        for o in openings:
            if not is_hex32(o.salt):
                found.add(Reason.SALT_INVALID, "salt is not 64 lowercase hex digits", o.index)
        return None
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def _check_proof(escrow: Escrow, reveal: Reveal, opened: tuple[list[int], bytes] | None, found: _Findings) -> None:
    if opened is None or not opened[0] or not is_hex32(escrow.root) or escrow.tree_size < 1:
        if opened is None:
            found.add(Reason.PROOF_UNCHECKED, "the multiproof could not be checked: an opening's leaf could not be computed")
        return
    hashes = hex32_packed(reveal.proof)
    if hashes is None:
        bad = next(n for n, h in enumerate(reveal.proof) if not is_hex32(h))
        found.add(Reason.PROOF_MALFORMED, f"proof hash {bad} is not 64 lowercase hex digits")
        return
    indices, leaf_hashes = opened
    try:
        verify_packed_multiproof(escrow.tree_size, indices, leaf_hashes, hashes, bytes.fromhex(escrow.root))
    except VerificationError as exc:
        found.problems.extend(exc.problems)


def _check_totals(escrow: Escrow, reveal: Reveal, openings: list[Opening], vocabulary: Vocabulary | None, found: _Findings) -> None:
    constrained: dict[str, dict[str, object]] = dict(escrow.totals or {})
    if reveal.totals is not None:
        opened = reveal.totals
        if escrow.sealed_totals is None:
            found.add(Reason.TOTALS_UNSEALED, "the bundle opens totals but the escrow has no sealed_totals")
        elif not is_hex32(opened.salt):
            found.add(Reason.TOTALS_MISMATCH, "totals.salt is not 64 lowercase hex digits")
        elif sealed_totals(bytes.fromhex(opened.salt), opened.content).hex() != escrow.sealed_totals:
            found.add(Reason.TOTALS_MISMATCH, "the opened totals do not match the escrow's sealed_totals")
        for text in totals_problems(opened.content, vocabulary, "opened totals"):
            found.add(Reason.TOTALS_INVALID, text)
        for category, entry in opened.content.items():
            public = constrained.get(category)
            if public is not None and (exact(public["quantity"]) != exact(entry["quantity"]) or public["unit"] != entry["unit"]):  # type: ignore[arg-type]  # shape-checked number
                found.add(Reason.TOTALS_DISAGREE, f"public and sealed totals disagree on {category!r}")
            constrained.setdefault(category, entry)
    if constrained and len(openings) == escrow.tree_size:
        sums: dict[str, list[int | float]] = defaultdict(list)
        for opening in openings:
            for site in opening.content.get("sites", ()):
                for item in site["items"]:
                    sums[item["category"]].append(item["quantity"])
        for category, entry in sorted(constrained.items()):
            declared: Decimal = exact(entry["quantity"])  # type: ignore[arg-type]  # shape-checked number
            total = exact_sum(sums.get(category, []))
            if total != declared:
                found.add(Reason.TOTALS_SUM_MISMATCH, f"{category}: opened sites hold {render(total)}, the total is {render(declared)}")
