"""The agreement document (spec §12): its fields, its strict reading and its hash.

An agreement is a JSON object (a YAML file is read by the strict YAML loader into the same
JSON value, spec §0): ``id``, ``escrow``, ``start``, ``parties``, ``steps`` (optional),
``access`` and ``obligations``, each checked here by every rule of spec §12's tables. Errors
are :class:`~unveil.errors.MalformedInputError` naming the field
(``obligations[2].after[0]``; in a YAML file also the line and column). Unknown fields are
refused everywhere, and so is a target field the obligation's action does not take (a
``phase`` on a ``close-site``): nobody can read into an agreement what its checks ignore.

Which parties are registered, that ``escrow`` names a published declaration escrow and that a
``category`` belongs to that escrow's vocabulary (:func:`check_categories`) are the board's
checks: this module knows nothing of a board.

The agreement's hash (:func:`agreement_sha256`) is SHA-256 of JCS of the document, so a YAML
copy and a JSON copy of the same agreement have the same hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from unveil.core import shape
from unveil.core.encoding import is_id, unix_time
from unveil.core.jcs import canonicalize
from unveil.core.keys import key_name_problem
from unveil.core.vocabulary import Vocabulary
from unveil.errors import MalformedInputError

__all__ = [
    "ACTIONS", "DEFAULT_STEPS", "MAX_DURATION", "MAX_EVIDENCE_TEXT", "MAX_OBLIGATIONS", "AccessDeadlines", "Agreement",
    "Obligation", "RuleBroken", "agreement_of", "agreement_sha256", "check_categories", "parse_agreement", "parse_duration",
]

DEFAULT_STEPS = ("declared", "verified", "separated", "stored", "dismantled", "disposed")
"""The item lifecycle when an agreement names none (spec §12)."""

ACTIONS = ("reveal-phase", "close-site", "disable-site", "move-items", "grant-access", "other")
"""An obligation's ``action`` (spec §12)."""

MAX_OBLIGATIONS = 1000
MAX_EVIDENCE_TEXT = 1000
"""Descriptions, evidence texts and reasons are at most this many characters (spec §12)."""
MAX_DURATION = 36_500 * 86_400
"""The longest duration, in seconds: 36,500 days (spec §12)."""

_TARGETS = ("phase", "site", "serials", "category", "count", "step")
_TAKES: dict[str, frozenset[str]] = {
    "reveal-phase": frozenset({"phase"}),
    "close-site": frozenset({"site"}),
    "disable-site": frozenset({"site"}),
    "move-items": frozenset({"serials", "category", "count", "step"}),
    "grant-access": frozenset({"site"}),
    "other": frozenset(),
}
"""The target fields each action takes (spec §12's obligation table); any other is refused."""

_DURATION = re.compile(r"P(?:([1-9][0-9]{0,5})D)?(?:T([1-9][0-9]{0,6})H)?")


@dataclass(frozen=True)
class AccessDeadlines:
    """After how many seconds an unanswered access request is ``delayed``, and ``refused``."""

    delayed: int
    refused: int


@dataclass(frozen=True)
class Obligation:
    """One obligation of an agreement (spec §12); ``due`` in seconds, counted from the
    agreement's ``start`` or, with ``after``, from the latest verified time of those."""

    id: str
    party: str
    action: str
    due: int
    after: tuple[str, ...] = ()
    description: str | None = None
    phase: str | None = None
    site: str | None = None
    serials: tuple[str, ...] | None = None
    category: str | None = None
    count: int | None = None
    step: str | None = None


@dataclass(frozen=True)
class Agreement:
    """A parsed agreement (spec §12); ``start`` in unix seconds, ``start_text`` as written."""

    id: str
    escrow: str
    start: int
    start_text: str
    parties: tuple[str, ...]
    steps: tuple[str, ...]
    access: AccessDeadlines
    obligations: tuple[Obligation, ...]

    def obligation(self, obligation_id: str) -> Obligation | None:
        """The obligation with this id, or ``None``."""
        for found in self.obligations:
            if found.id == obligation_id:
                return found
        return None


FieldPath = tuple[str | int, ...]


class RuleBroken(Exception):
    """A rule broken at ``path`` (member names and array indexes from the document's root):
    :func:`agreement_of` raises it, so a reader can place it (a YAML file's line)."""

    def __init__(self, message: str, path: FieldPath):
        super().__init__(message)
        self.message = message
        self.path = path


def _text(path: FieldPath) -> str:
    return "".join(f"[{step}]" if type(step) is int else f".{step}" for step in path).removeprefix(".")


def parse_duration(text: object, where: str | None = None) -> int:
    """Seconds of a spec §12 duration: ``P``n``D``, ``PT``n``H`` or ``P``n``DT``m``H`` (n, m
    decimal integers of at least 1, without sign or leading zeros; at most 36,500 days in all).
    :class:`MalformedInputError` at ``where`` otherwise."""
    match = _DURATION.fullmatch(text) if type(text) is str else None
    if match is None or (match.group(1) is None and match.group(2) is None):
        shown = repr(text[:40]) if type(text) is str else shape.json_type(text)
        raise MalformedInputError(f"{shown} is not a duration of days and hours (P30D, PT36H, P1DT2H; spec §12)", where=where)
    seconds = int(match.group(1) or 0) * 86_400 + int(match.group(2) or 0) * 3_600
    if seconds > MAX_DURATION:
        raise MalformedInputError(f"{text!r} is longer than 36,500 days (spec §12)", where=where)
    return seconds


# --- the rules ---------------------------------------------------------------------------------


def _fields(value: Any, path: FieldPath, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    try:
        return shape.fields(value, "", required, optional)
    except MalformedInputError as exc:
        raise RuleBroken(exc.message, path) from None


def _string(value: Any, path: FieldPath) -> str:
    if type(value) is not str:
        raise RuleBroken(f"expected a string, found {shape.json_type(value)}", path)
    return value


def _id(value: Any, path: FieldPath) -> str:
    if not is_id(_string(value, path)):
        raise RuleBroken(f"{value[:80]!r} is not an id (1 to 64 characters of A-Z a-z 0-9 . _ : -; spec §0)", path)
    return str(value)


def _array(value: Any, path: FieldPath) -> list[Any]:
    if type(value) is not list:
        raise RuleBroken(f"expected an array, found {shape.json_type(value)}", path)
    return value


def _ids(value: Any, path: FieldPath, *, least: int, what: str) -> tuple[str, ...]:
    """Ids, at least ``least``, no repeats."""
    items = _array(value, path)
    if len(items) < least:
        raise RuleBroken(f"expected at least {least} {what}, found {len(items)}", path)
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        name = _id(item, (*path, i))
        if name in seen:
            raise RuleBroken(f"{name!r} repeats [{seen[name]}]", (*path, i))
        seen[name] = i
    return tuple(items)


def _duration(value: Any, path: FieldPath) -> int:
    try:
        return parse_duration(value)
    except MalformedInputError as exc:
        raise RuleBroken(exc.message, path) from None


def _description(value: Any, path: FieldPath) -> str:
    text = _string(value, path)
    if not text:
        raise RuleBroken("expected a non-empty string", path)
    if len(text) > MAX_EVIDENCE_TEXT:
        raise RuleBroken(f"is {len(text)} characters; at most {MAX_EVIDENCE_TEXT} (spec §12)", path)
    return text


def _parties(value: Any, path: FieldPath) -> tuple[str, ...]:
    items = _array(value, path)
    if len(items) < 2:
        raise RuleBroken(f"an agreement has at least two parties, found {len(items)}", path)
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        problem = key_name_problem(_string(item, (*path, i)))
        if problem is not None:
            raise RuleBroken(f"{problem} (a party is a registered name, spec §6)", (*path, i))
        if item in seen:
            raise RuleBroken(f"{item[:80]!r} repeats [{seen[item]}]", (*path, i))
        seen[item] = i
    return tuple(items)


def _access(value: Any, path: FieldPath) -> AccessDeadlines:
    doc = _fields(value, path, ("delayed", "refused"))
    delayed = _duration(doc["delayed"], (*path, "delayed"))
    refused = _duration(doc["refused"], (*path, "refused"))
    if not delayed < refused:
        raise RuleBroken(f"{doc['refused']!r} is not longer than delayed {doc['delayed']!r}: a request is delayed before it counts as refused", (*path, "refused"))
    return AccessDeadlines(delayed, refused)


def _obligation(value: Any, path: FieldPath, parties: tuple[str, ...], steps: tuple[str, ...]) -> Obligation:
    doc = _fields(value, path, ("id", "party", "action", "due"), ("after", "description", *_TARGETS))
    oid = _id(doc["id"], (*path, "id"))
    party = _string(doc["party"], (*path, "party"))
    if party not in parties:
        raise RuleBroken(f"{party[:80]!r} is not one of the agreement's parties", (*path, "party"))
    action = _string(doc["action"], (*path, "action"))
    if action not in ACTIONS:
        raise RuleBroken(f"{action[:40]!r} is not one of {', '.join(ACTIONS)}", (*path, "action"))
    due = _duration(doc["due"], (*path, "due"))
    for name in _TARGETS:
        if name in doc and name not in _TAKES[action]:
            raise RuleBroken(f"a {action} obligation has no {name!r}", (*path, name))
    after = _ids(doc.get("after", []), (*path, "after"), least=0, what="obligations")
    description = _description(doc["description"], (*path, "description")) if "description" in doc else None
    if action == "other" and description is None:
        raise RuleBroken("missing required field 'description' (an 'other' obligation says what it is)", path)
    phase = site = category = step = None
    serials: tuple[str, ...] | None = None
    count: int | None = None
    if action == "reveal-phase":
        if "phase" not in doc:
            raise RuleBroken("missing required field 'phase'", path)
        phase = _id(doc["phase"], (*path, "phase"))
    elif action in ("close-site", "disable-site") and "site" not in doc:
        raise RuleBroken("missing required field 'site'", path)
    if "site" in doc:
        site = _id(doc["site"], (*path, "site"))
    if action == "move-items":
        if ("serials" in doc) == ("category" in doc or "count" in doc):
            raise RuleBroken("a move-items obligation names either 'serials' or 'category' and 'count'", path)
        if "serials" in doc:
            serials = _ids(doc["serials"], (*path, "serials"), least=1, what="serials")
            for i in range(1, len(serials)):
                if serials[i].encode() <= serials[i - 1].encode():
                    raise RuleBroken(f"{serials[i]!r} comes after {serials[i - 1]!r}: serials are strictly ascending", (*path, "serials", i))
        else:
            for name in ("category", "count"):
                if name not in doc:
                    raise RuleBroken(f"missing required field {name!r}", path)
            category = _id(doc["category"], (*path, "category"))
            count = doc["count"]
            if type(count) is not int or not 1 <= count <= 2**53 - 1:
                raise RuleBroken(f"expected an integer of at least 1, found {count!r}" if type(count) in (int, float)
                           else f"expected an integer, found {shape.json_type(count)}", (*path, "count"))
        if "step" not in doc:
            raise RuleBroken("missing required field 'step'", path)
        step = _string(doc["step"], (*path, "step"))
        if step not in steps[1:]:
            where = "the first step: every item starts there" if step == steps[0] else "not one of the agreement's steps"
            raise RuleBroken(f"{step[:80]!r} is {where}", (*path, "step"))
    return Obligation(oid, party, action, due, after, description, phase, site, serials, category, count, step)


def _check_after(obligations: tuple[Obligation, ...], path: FieldPath) -> None:
    """Every ``after`` names another obligation; no obligation comes after itself, directly or not."""
    index = {o.id: i for i, o in enumerate(obligations)}
    for i, o in enumerate(obligations):
        for j, before in enumerate(o.after):
            if before == o.id:
                raise RuleBroken(f"obligation {o.id!r} cannot come after itself", (*path, i, "after", j))
            if before not in index:
                raise RuleBroken(f"{before!r} is not an obligation of the agreement", (*path, i, "after", j))
    # Depth-first search with an explicit stack: 1,000 obligations never reach the interpreter's limit.
    done: set[str] = set()
    for root in obligations:
        if root.id in done:
            continue
        trail: list[tuple[Obligation, int]] = [(root, 0)]
        on_trail = {root.id}
        while trail:
            node, next_edge = trail[-1]
            if next_edge == len(node.after):
                trail.pop()
                on_trail.discard(node.id)
                done.add(node.id)
                continue
            trail[-1] = (node, next_edge + 1)
            before = node.after[next_edge]
            if before in on_trail:
                cycle = [o.id for o, _ in trail[[o.id for o, _ in trail].index(before):]] + [before]
                shown = " → ".join(list(reversed(cycle))[:8]) + (f" → … ({len(cycle) - 8} more)" if len(cycle) > 8 else "")
                raise RuleBroken(f"obligation {node.id!r} would come after itself: {shown}",
                           (*path, index[node.id], "after", next_edge))
            if before not in done:
                trail.append((obligations[index[before]], 0))
                on_trail.add(before)


def agreement_of(doc: Any) -> Agreement:
    """The agreement ``doc``, every rule of spec §12 checked; :class:`RuleBroken` otherwise."""
    doc = _fields(doc, (), ("id", "escrow", "start", "parties", "access", "obligations"), ("steps",))
    aid = _id(doc["id"], ("id",))
    escrow = _id(doc["escrow"], ("escrow",))
    start_text = _string(doc["start"], ("start",))
    start = unix_time(start_text)
    if start is None:
        raise RuleBroken(f"{start_text[:40]!r} is not a time YYYY-MM-DDTHH:MM:SSZ (spec §0)", ("start",))
    parties = _parties(doc["parties"], ("parties",))
    steps = _ids(doc["steps"], ("steps",), least=2, what="steps") if "steps" in doc else DEFAULT_STEPS
    access = _access(doc["access"], ("access",))
    items = _array(doc["obligations"], ("obligations",))
    if len(items) > MAX_OBLIGATIONS:
        raise RuleBroken(f"holds {len(items)} obligations; at most {MAX_OBLIGATIONS}", ("obligations",))
    obligations: list[Obligation] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        found = _obligation(item, ("obligations", i), parties, steps)
        if found.id in seen:
            raise RuleBroken(f"id {found.id!r} is already obligations[{seen[found.id]}]'s", ("obligations", i, "id"))
        seen[found.id] = i
        obligations.append(found)
    _check_after(tuple(obligations), ("obligations",))
    return Agreement(aid, escrow, start, start_text, parties, steps, access, tuple(obligations))


def parse_agreement(doc: Any, source: str | None = "agreement", *, at: str = "") -> Agreement:
    """The agreement ``doc`` (a parsed JSON value) checked by every rule of spec §12's tables;
    :class:`MalformedInputError` naming ``source`` and the field (``obligations[2].after[0]``,
    prefixed by ``at``: ``statement.body.agreement.obligations[2].after[0]``)."""
    try:
        return agreement_of(doc)
    except RuleBroken as exc:
        where = ".".join(p for p in (at, _text(exc.path)) if p).replace(".[", "[")
        raise MalformedInputError(exc.message, source=source, where=where or None) from None


def check_categories(agreement: Agreement, vocabulary: Vocabulary | None, *, source: str | None = "agreement", at: str = "") -> None:
    """Spec §12: a ``move-items`` obligation's ``category`` is a category of ``vocabulary`` (the
    escrow's) counted in items, the only ones that carry serials (§2). Nothing is checked under
    an unknown vocabulary (``None``, spec §10)."""
    if vocabulary is None:
        return
    for i, obligation in enumerate(agreement.obligations):
        if obligation.category is not None and vocabulary.unit_for(obligation.category) != "count":
            why = "is not a category" if vocabulary.unit_for(obligation.category) is None else "is not counted (no serials)"
            where = ".".join(p for p in (at, f"obligations[{i}].category") if p)
            raise MalformedInputError(f"{obligation.category!r} {why} of vocabulary {vocabulary.name}", source=source, where=where)


def agreement_sha256(doc: Any) -> str:
    """The agreement's hash (spec §12): hex of SHA-256 of JCS of the document."""
    return hashlib.sha256(canonicalize(doc)).hexdigest()
