"""Board events: the log's entries (spec §7).

An event is a signed statement (spec §6) whose statement is exactly
``{"type": "unveil/event/v1", "kind", "escrow_id", "time", "body"}``; the log entry is
``JCS(envelope)``. ``escrow_id`` is an id naming the escrow the event is about, ``time`` the
author's claimed time (spec §0 format). :func:`parse_event` checks the shape only
(:class:`~unveil.errors.MalformedInputError`); who may write what, and in which order, is
:mod:`unveil.board.protocol`'s.

Bodies (every object has exactly the fields shown; ``hex`` is 64 lowercase hex digits):

====================== ============================ ==============================================
kind                   author                       body
====================== ============================ ==============================================
escrow.published       the escrow's ``host``        ``{"escrow": <signed escrow>}`` (spec §7)
escrow.accepted        an inspector                 ``{"cells_sha256": hex, "root": hex}`` (§7)
reveal.published       the escrow's ``host``        ``{"phase": id, "sha256": hex, "openings": int ≥ 1}``,
                                                    plus ``"part": int, "parts": int`` for a part of
                                                    a phase (spec §5.1: 1 ≤ part ≤ parts, parts ≥ 2)
coin.committed         a party of the draw          ``{"context": id, "commitment": hex,
                                                    "population_sha256": hex, "n": int ≥ 1,
                                                    "population": [id…]}``; ``population`` (the
                                                    context's first commitment only) is at least
                                                    one id, strictly ascending, with ``n`` ≤ its
                                                    length and ``population_sha256`` its hash
                                                    (spec §7, §8)
coin.revealed          a party of the draw          ``{"context": id, "r": hex}`` (§7, §8)
selection.drawn        any party                    ``{"context": id, "population_sha256": hex,
                                                    "n": int ≥ 1, "seed": hex, "selection": [id…]}``
                                                    (length ``n``, no repeats; spec §7, §8)
verification.recorded  an inspector or observer     ``{"phase": id, "sha256": hex, "valid": bool,
                       (project-defined)            "problems": [{"index": int | null,
                                                    "reason": str}]}``: the outcome of checking
                                                    the reveal file with that SHA-256; ``valid``
                                                    true requires ``problems`` to be empty
discrepancy.raised     an inspector                 ``{"id": id, "phase": id, "cell": str,
                       (project-defined)            "detail": str, "intel": <signed reveal bundle
                                                    of the inspector's intel escrow> | null}``
                                                    (spec §9: the opened intel cell proves the
                                                    suspicion predates the reveal)
discrepancy.resolved   the inspector that raised it ``{"id": id, "resolution": str}``
                       (project-defined)
inspection.reported    an inspector                 ``{"phase": id, "cell": str, "site_id": id | null,
                       (project-defined)            "outcome": one of :data:`OUTCOMES`, "detail": str
                                                    (≤ 1,000 characters), "context": id | null}``
agreement.published    one of the agreement's       ``{"agreement": <agreement document>}``, valid
                       parties                      by spec §12 (:mod:`unveil.agreements.model`)
agreement.signed       each of its parties          ``{"agreement": id, "sha256": hex}``
obligation.claimed     the obligor                  ``{"agreement": id, "obligation": id,
                                                    "evidence": [evidence]}`` (:func:`evidence`)
obligation.verified    a party but the obligor      ``{"agreement": id, "obligation": id}``
obligation.disputed    a party but the obligor      ``{"agreement": id, "obligation": id,
                                                    "reason": str}`` (non-empty, ≤ 1,000 characters)
obligation.withdrawn   a standing dispute's author  ``{"agreement": id, "obligation": id}``
item.moved             the escrow's host            ``{"serial": id, "to": step id, "site": id |
                                                    null, "evidence": [evidence]}`` (spec §12)
item.witnessed         an inspecting party of the   ``{"serial": id, "step": step id}`` (§12)
                       agreement
access.requested       an inspecting party of the   ``{"id": id, "site": id | null, "cell": str |
                       agreement                    null}``, exactly one not null (§12)
access.granted         the escrow's host            ``{"id": id}`` (§12)
access.refused         the escrow's host            ``{"id": id, "reason": str}`` (§12)
====================== ============================ ==============================================

An evidence (spec §12) is exactly one of ``{"entry": int ≥ 0}``, ``{"sha256": hex}`` or
``{"text": str}``; at most 64 of them. Evidence texts, a refusal's ``reason`` and a requested
``cell`` are non-empty strings of at most 1,000 characters.

It is one module, past 400 lines, because the table above and the shape checks that enforce
it (``_BODIES``) are read together: every kind a board accepts is defined here and nowhere else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unveil.agreements.model import parse_agreement
from unveil.core import shape
from unveil.core.encoding import is_hex32, is_id, is_integer_token, is_time
from unveil.core.envelope import parse_signed
from unveil.core.escrow import parse_escrow
from unveil.core.jcs import canonicalize
from unveil.core.keys import SigningKey
from unveil.core.reveal import parse_reveal
from unveil.core.selection import population_sha256
from unveil.core.statements import open_signed, sign_statement
from unveil.errors import CanonicalizationError, MalformedInputError

__all__ = [
    "DEADLINE_PREFIXES", "EVENT_TYPE", "KINDS", "MAX_ENTRY_BYTES", "MAX_EVIDENCE", "MAX_TEXT", "OUTCOMES", "Event", "evidence", "make_event",
    "parse_event", "short_text", "starts_or_answers_a_deadline",
]

EVENT_TYPE = "unveil/event/v1"
MAX_ENTRY_BYTES = 1_048_576
"""An entry, ``JCS(envelope)``, is at most 1 MiB (spec §7)."""
_FIELDS = ("type", "kind", "escrow_id", "time", "body")

ESCROW_PUBLISHED = "escrow.published"
ESCROW_ACCEPTED = "escrow.accepted"
REVEAL_PUBLISHED = "reveal.published"
COIN_COMMITTED = "coin.committed"
COIN_REVEALED = "coin.revealed"
SELECTION_DRAWN = "selection.drawn"
VERIFICATION_RECORDED = "verification.recorded"
DISCREPANCY_RAISED = "discrepancy.raised"
DISCREPANCY_RESOLVED = "discrepancy.resolved"
INSPECTION_REPORTED = "inspection.reported"
OUTCOMES = ("confirmed", "not-found", "discrepancy", "refused")
"""The outcomes of an ``inspection.reported`` (spec §7)."""
AGREEMENT_PUBLISHED = "agreement.published"
AGREEMENT_SIGNED = "agreement.signed"
OBLIGATION_CLAIMED = "obligation.claimed"
OBLIGATION_VERIFIED = "obligation.verified"
OBLIGATION_DISPUTED = "obligation.disputed"
OBLIGATION_WITHDRAWN = "obligation.withdrawn"

MAX_EVIDENCE = 64
"""An event carries at most this many evidence objects (spec §12)."""
MAX_TEXT = 1000
"""Evidence texts and reasons of spec §12 are at most this many characters."""
ITEM_MOVED = "item.moved"
ITEM_WITNESSED = "item.witnessed"
ACCESS_REQUESTED = "access.requested"
ACCESS_GRANTED = "access.granted"
ACCESS_REFUSED = "access.refused"

DEADLINE_PREFIXES = ("obligation.", "item.", "access.")
"""Kinds that start or answer a deadline (spec §12): refused when dated more than 300 s before
the board's clock (``time-stale``)."""


def starts_or_answers_a_deadline(kind: str) -> bool:
    """Whether events of ``kind`` start or answer a deadline (spec §12, ``time-stale``)."""
    return kind.startswith(DEADLINE_PREFIXES)


@dataclass(frozen=True)
class Event:
    """A parsed event.

    ``entry`` is ``JCS(envelope)``, the bytes the log holds; ``statement_sha256`` is
    ``SHA256(JCS(statement))``: two envelopes with the same statement are "the same
    statement" whatever their signatures (idempotency and conflicts, :mod:`.log`).
    """

    kind: str
    escrow_id: str
    time: str
    body: dict[str, Any]
    statement: dict[str, Any]
    signatures: tuple[dict[str, str], ...]
    entry: bytes
    statement_sha256: bytes
    statement_jcs: bytes = b""
    """``JCS(statement)``, kept so signatures are checked without canonicalizing again."""

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "signatures": list(self.signatures)}


# --- body shapes ---------------------------------------------------------------------------


def _id(body: dict[str, Any], name: str, where: str) -> str:
    value = shape.string(body, name, where)
    if not is_id(value):
        raise MalformedInputError(f"{value[:80]!r} is not an id (spec §0)", where=f"{where}.{name}")
    return value


def _hex(body: dict[str, Any], name: str, where: str) -> str:
    value = shape.string(body, name, where)
    if not is_hex32(value):
        raise MalformedInputError("expected 64 lowercase hex digits", where=f"{where}.{name}")
    return value


def _text(body: dict[str, Any], name: str, where: str) -> str:
    value = shape.string(body, name, where)
    if not value:
        raise MalformedInputError("expected a non-empty string", where=f"{where}.{name}")
    return value


def _at_least(body: dict[str, Any], name: str, where: str, least: int) -> int:
    value = shape.integer(body, name, where)
    if value < least:
        raise MalformedInputError(f"{value} is below {least}", where=f"{where}.{name}")
    return value


def _id_or_null(body: dict[str, Any], name: str, where: str) -> str | None:
    return None if body[name] is None else _id(body, name, where)


def _escrow_published(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("escrow",))
    signed = parse_signed(body["escrow"], f"{where}.escrow")
    parse_escrow(signed.statement, f"{where}.escrow.statement")


def _escrow_accepted(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("cells_sha256", "root"))
    _hex(body, "cells_sha256", where)
    _hex(body, "root", where)


def _reveal_published(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("phase", "sha256", "openings"), ("part", "parts"))
    _id(body, "phase", where)
    _hex(body, "sha256", where)
    _at_least(body, "openings", where, 1)
    if "part" in body or "parts" in body:  # spec §5.1: both or neither
        for name in ("part", "parts"):
            if name not in body:
                raise MalformedInputError(f"a part of a phase names both part and parts; {name} is missing", where=f"{where}.{name}")
        parts = _at_least(body, "parts", where, 2)
        part = _at_least(body, "part", where, 1)
        if part > parts:
            raise MalformedInputError(f"part {part} is beyond parts {parts}", where=f"{where}.part")


def _population(body: dict[str, Any], where: str) -> None:
    """A logged population (spec §8): ids, strictly ascending by UTF-8 bytes, at least one,
    ``n`` at most its length, ``population_sha256`` its hash."""
    members = shape.strings(body, "population", where)
    if not members:
        raise MalformedInputError("a population holds at least one id", where=f"{where}.population")
    previous = ""
    for i, member in enumerate(members):
        if not is_id(member):
            raise MalformedInputError(f"{member[:80]!r} is not an id (spec §0)", where=f"{where}.population[{i}]")
        if i and member.encode() <= previous.encode():
            what = "repeats" if member == previous else "comes after"
            raise MalformedInputError(f"{member!r} {what} {previous!r}: ids are strictly ascending (spec §8)", where=f"{where}.population[{i}]")
        previous = member
    if body["n"] > len(members):
        raise MalformedInputError(f"{body['n']} is more than the population's {len(members)} ids", where=f"{where}.n")
    if population_sha256(members).hex() != body["population_sha256"]:
        raise MalformedInputError("is not the SHA-256 of the population (spec §8)", where=f"{where}.population_sha256")


def _coin_committed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("context", "commitment", "population_sha256", "n"), ("population",))
    _id(body, "context", where)
    _hex(body, "commitment", where)
    _hex(body, "population_sha256", where)
    _at_least(body, "n", where, 1)
    if "population" in body:
        _population(body, where)


def _coin_revealed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("context", "r"))
    _id(body, "context", where)
    _hex(body, "r", where)


def _selection_drawn(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("context", "population_sha256", "n", "seed", "selection"))
    _id(body, "context", where)
    _hex(body, "population_sha256", where)
    n = _at_least(body, "n", where, 1)
    _hex(body, "seed", where)
    selection = shape.strings(body, "selection", where)
    if len(selection) != n:
        raise MalformedInputError(f"holds {len(selection)} ids, n is {n}", where=f"{where}.selection")
    seen: set[str] = set()
    for i, member in enumerate(selection):
        if not is_id(member):
            raise MalformedInputError(f"{member[:80]!r} is not an id", where=f"{where}.selection[{i}]")
        if member in seen:
            raise MalformedInputError(f"{member!r} is repeated", where=f"{where}.selection[{i}]")
        seen.add(member)


def _verification_recorded(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("phase", "sha256", "valid", "problems"))
    _id(body, "phase", where)
    _hex(body, "sha256", where)
    if type(body["valid"]) is not bool:
        raise MalformedInputError(f"expected a boolean, found {shape.json_type(body['valid'])}", where=f"{where}.valid")
    problems = shape.array(body, "problems", where)
    for i, problem in enumerate(problems):
        at = f"{where}.problems[{i}]"
        shape.fields(problem, at, ("index", "reason"))
        if problem["index"] is not None and not is_integer_token(problem["index"]):
            raise MalformedInputError("expected an integer or null", where=f"{at}.index")
        _text(problem, "reason", at)
    if body["valid"] and problems:
        raise MalformedInputError("valid is true but problems are listed", where=f"{where}.valid")


def _discrepancy_raised(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("id", "phase", "cell", "detail", "intel"))
    _id(body, "id", where)
    _id(body, "phase", where)
    _text(body, "cell", where)
    shape.string(body, "detail", where)
    if body["intel"] is not None:
        signed = parse_signed(body["intel"], f"{where}.intel")
        parse_reveal(signed.statement, f"{where}.intel.statement", intel=True)


def _discrepancy_resolved(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("id", "resolution"))
    _id(body, "id", where)
    shape.string(body, "resolution", where)


def _inspection_reported(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("phase", "cell", "site_id", "outcome", "detail", "context"))
    _id(body, "phase", where)
    cell = _text(body, "cell", where)
    if len(cell) > 64:
        raise MalformedInputError(f"is {len(cell)} characters; a cell id is at most 64", where=f"{where}.cell")
    _id_or_null(body, "site_id", where)
    if shape.string(body, "outcome", where) not in OUTCOMES:
        raise MalformedInputError(f"{body['outcome'][:40]!r} is not one of {', '.join(OUTCOMES)}", where=f"{where}.outcome")
    detail = shape.string(body, "detail", where)
    if len(detail) > MAX_TEXT:
        raise MalformedInputError(f"is {len(detail)} characters; at most {MAX_TEXT} (spec §7)", where=f"{where}.detail")
    _id_or_null(body, "context", where)


def short_text(body: dict[str, Any], name: str, where: str) -> str:
    """A spec §12 reason or text: non-empty, at most :data:`MAX_TEXT` characters."""
    value = _text(body, name, where)
    if len(value) > MAX_TEXT:
        raise MalformedInputError(f"is {len(value)} characters; at most {MAX_TEXT} (spec §12)", where=f"{where}.{name}")
    return value


def evidence(body: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    """A spec §12 evidence list: at most :data:`MAX_EVIDENCE` objects, each with exactly one of
    ``{"entry": integer ≥ 0}`` (an earlier entry of the log: the protocol checks it is),
    ``{"sha256": hex}`` or ``{"text": non-empty string of at most 1,000 characters}``."""
    items = shape.array(body, name, where)
    if len(items) > MAX_EVIDENCE:
        raise MalformedInputError(f"holds {len(items)} evidence objects; at most {MAX_EVIDENCE} (spec §12)", where=f"{where}.{name}")
    for i, item in enumerate(items):
        at = f"{where}.{name}[{i}]"
        if type(item) is not dict or len(item) != 1 or next(iter(item)) not in ("entry", "sha256", "text"):
            raise MalformedInputError('an evidence is an object with exactly one of "entry", "sha256" or "text"', where=at)
        if "entry" in item:
            _at_least(item, "entry", at, 0)
        elif "sha256" in item:
            _hex(item, "sha256", at)
        else:
            short_text(item, "text", at)
    return items


def _agreement_published(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("agreement",))
    parse_agreement(body["agreement"], None, at=f"{where}.agreement")


def _agreement_signed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("agreement", "sha256"))
    _id(body, "agreement", where)
    _hex(body, "sha256", where)


def _obligation_claimed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("agreement", "obligation", "evidence"))
    _id(body, "agreement", where)
    _id(body, "obligation", where)
    evidence(body, "evidence", where)


def _obligation_verdict(body: dict[str, Any], where: str) -> None:
    """``obligation.verified`` and ``obligation.withdrawn``."""
    shape.fields(body, where, ("agreement", "obligation"))
    _id(body, "agreement", where)
    _id(body, "obligation", where)


def _obligation_disputed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("agreement", "obligation", "reason"))
    _id(body, "agreement", where)
    _id(body, "obligation", where)
    short_text(body, "reason", where)


def _item_moved(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("serial", "to", "site", "evidence"))
    _id(body, "serial", where)
    _id(body, "to", where)
    _id_or_null(body, "site", where)
    evidence(body, "evidence", where)


def _item_witnessed(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("serial", "step"))
    _id(body, "serial", where)
    _id(body, "step", where)


def _access_requested(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("id", "site", "cell"))
    _id(body, "id", where)
    site = _id_or_null(body, "site", where)
    cell = None if body["cell"] is None else short_text(body, "cell", where)
    if (site is None) == (cell is None):
        raise MalformedInputError("exactly one of site and cell is not null", where=f"{where}.{'site' if site is None else 'cell'}")


def _access_granted(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("id",))
    _id(body, "id", where)


def _access_refused(body: dict[str, Any], where: str) -> None:
    shape.fields(body, where, ("id", "reason"))
    _id(body, "id", where)
    short_text(body, "reason", where)


_BODIES: dict[str, Callable[[dict[str, Any], str], None]] = {
    ESCROW_PUBLISHED: _escrow_published,
    ESCROW_ACCEPTED: _escrow_accepted,
    REVEAL_PUBLISHED: _reveal_published,
    COIN_COMMITTED: _coin_committed,
    COIN_REVEALED: _coin_revealed,
    SELECTION_DRAWN: _selection_drawn,
    VERIFICATION_RECORDED: _verification_recorded,
    DISCREPANCY_RAISED: _discrepancy_raised,
    DISCREPANCY_RESOLVED: _discrepancy_resolved,
    INSPECTION_REPORTED: _inspection_reported,
    AGREEMENT_PUBLISHED: _agreement_published,
    AGREEMENT_SIGNED: _agreement_signed,
    OBLIGATION_CLAIMED: _obligation_claimed,
    OBLIGATION_VERIFIED: _obligation_verdict,
    OBLIGATION_DISPUTED: _obligation_disputed,
    OBLIGATION_WITHDRAWN: _obligation_verdict,
    ITEM_MOVED: _item_moved,
    ITEM_WITNESSED: _item_witnessed,
    ACCESS_REQUESTED: _access_requested,
    ACCESS_GRANTED: _access_granted,
    ACCESS_REFUSED: _access_refused,
}
KINDS = tuple(_BODIES)
"""Every kind the board accepts; any other is malformed."""


# --- envelope ------------------------------------------------------------------------------


def parse_event(doc: Any) -> Event:
    """Read a signed event envelope's shape (spec §6, §7); :class:`MalformedInputError` names
    the field (``statement.body.phase``, ``signatures[1]``…). Signatures are not verified here."""
    statement, signatures = open_signed(doc)
    where = "statement"
    shape.fields(statement, where, _FIELDS)
    if statement["type"] != EVENT_TYPE:
        raise MalformedInputError(f"type must be {EVENT_TYPE!r}", where=f"{where}.type")
    kind = shape.string(statement, "kind", where)
    check_body = _BODIES.get(kind)
    if check_body is None:
        raise MalformedInputError(f"unknown event kind {kind[:80]!r}", where=f"{where}.kind")
    escrow_id = _id(statement, "escrow_id", where)
    time = shape.string(statement, "time", where)
    if not is_time(time):
        raise MalformedInputError(f"{time[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ (spec §0)", where=f"{where}.time")
    body = shape.obj(statement, "body", where)
    check_body(body, f"{where}.body")
    try:
        statement_jcs = canonicalize(statement)
        # JCS(envelope): its two members sorted, "signatures" before "statement" (RFC 8785).
        entry = b'{"signatures":' + canonicalize(list(signatures)) + b',"statement":' + statement_jcs + b"}"
    except CanonicalizationError as exc:
        raise MalformedInputError(f"the event has no canonical form: {exc}") from None
    return Event(
        kind=kind,
        escrow_id=escrow_id,
        time=time,
        body=body,
        statement=statement,
        signatures=tuple(signatures),
        entry=entry,
        statement_sha256=hashlib.sha256(statement_jcs).digest(),
        statement_jcs=statement_jcs,
    )


def make_event(kind: str, escrow_id: str, time: str, body: dict[str, Any], keys: Sequence[SigningKey]) -> dict[str, Any]:
    """A signed event envelope (signed by each of ``keys``, statement keys), checked by
    :func:`parse_event` before it is returned."""
    statement = {"type": EVENT_TYPE, "kind": kind, "escrow_id": escrow_id, "time": time, "body": body}
    envelope = sign_statement(statement, keys)
    parse_event(envelope)
    return envelope
