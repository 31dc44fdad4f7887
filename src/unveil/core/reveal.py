"""Reveal bundles (spec §5), whole or one numbered part of a phase (spec §5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import eq, itemgetter
from typing import Any, NamedTuple

from unveil.core import content as content_rules
from unveil.core import shape
from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.errors import MalformedInputError

REVEAL_TYPE = "unveil/reveal/v1"
_REQUIRED = ("type", "escrow_id", "root", "tree_size", "phase", "openings", "proof")
_OPENING_KEYS = frozenset({"index", "cell", "salt", "content"})
PART_MAX_BYTES = 16 * 2**20
"""The largest file of a part of a phase (spec §5.1: 16 MiB, the board's request body limit)."""


class Opening(NamedTuple):
    """One opened cell (a named tuple: bundles hold 10^5 of them, built fast)."""

    index: int  # type: ignore[assignment]  # the spec's field name; shadows tuple.index, never called on an Opening
    cell: str
    salt: str
    content: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "cell": self.cell, "salt": self.salt, "content": self.content}


@dataclass(frozen=True)
class TotalsOpening:
    """The opened sealed totals: ``{"salt": hex, "content": totals}`` (spec §4)."""

    salt: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Reveal:
    """A parsed reveal bundle; ``statement`` keeps the exact JSON that was signed."""

    statement: dict[str, Any]
    escrow_id: str
    root: str
    tree_size: int
    phase: str
    openings: tuple[Opening, ...]
    proof: tuple[str, ...]
    totals: TotalsOpening | None
    part: int | None = None  # spec §5.1: this bundle is part ``part`` of ``parts``; None: the whole phase
    parts: int | None = None

    def part_name(self) -> str:
        """``"part k of n"`` for a part, ``""`` for a whole phase."""
        return f"part {self.part} of {self.parts}" if self.part is not None else ""


def _openings_at_once(raws: list[Any], content_keys: frozenset[str], body: str, where: str) -> list[Opening] | None:
    """All openings in whole-list passes when every one has exactly the expected shape (the
    usual bundle); ``None`` otherwise. Contents that hold something get the full shape check."""
    if not raws or set(map(type, raws)) != {dict} or not all(map(eq, map(dict.keys, raws), repeat(_OPENING_KEYS))):
        return None
    indices = list(map(itemgetter("index"), raws))
    cells = list(map(itemgetter("cell"), raws))
    salts = list(map(itemgetter("salt"), raws))
    contents = list(map(itemgetter("content"), raws))
    if (
        set(map(type, indices)) != {int}
        or min(indices) < -MAX_SAFE_INTEGER
        or max(indices) > MAX_SAFE_INTEGER
        or set(map(type, cells)) != {str}
        or set(map(type, salts)) != {str}
        or set(map(type, contents)) != {dict}
        or not all(map(eq, map(dict.keys, contents), repeat(content_keys)))
        or set(map(type, map(itemgetter("cell"), contents))) != {str}
        or set(map(type, map(itemgetter(body), contents))) != {list}
    ):
        return None
    check = content_rules.check_intel_shape if body == "suspects" else content_rules.check_shape
    for n, content in enumerate(contents):
        if content[body]:
            check(content, f"{where}.openings[{n}].content")
    return list(map(Opening._make, zip(indices, cells, salts, contents, strict=True)))


def parse_reveal(statement: Any, where: str = "statement", *, intel: bool = False) -> Reveal:
    """Read a reveal bundle's shape, down to every opening's content; raise MalformedInputError.

    ``intel`` reads the contents of an intelligence escrow (``suspects``, spec §9).
    """
    body = "suspects" if intel else "sites"
    content_keys = frozenset({"cell", body})
    check_content = content_rules.check_intel_shape if intel else content_rules.check_shape
    shape.fields(statement, where, _REQUIRED, ("totals", "part", "parts"))
    kind = shape.string(statement, "type", where)
    if kind != REVEAL_TYPE:
        raise MalformedInputError(f"type is {kind!r}, not {REVEAL_TYPE!r}", where=f"{where}.type")
    raws = shape.array(statement, "openings", where)
    openings = _openings_at_once(raws, content_keys, body, where)
    if openings is None:  # something is off: field by field, naming exactly what is wrong
        openings = []
        for i, raw in enumerate(raws):
            at = f"{where}.openings[{i}]"
            shape.fields(raw, at, ("index", "cell", "salt", "content"))
            check_content(raw["content"], f"{at}.content")
            openings.append(Opening(shape.integer(raw, "index", at), shape.string(raw, "cell", at), shape.string(raw, "salt", at), raw["content"]))
    tree_size = shape.integer(statement, "tree_size", where)
    part, parts = _part(statement, tree_size, where)
    totals = None
    if "totals" in statement:
        if part is not None and part != 1:
            raise MalformedInputError(f"only part 1 of a phase may open the totals; this is part {part}", where=f"{where}.totals")
        at = f"{where}.totals"
        shape.fields(statement["totals"], at, ("salt", "content"))
        from unveil.core.escrow import parse_totals_shape

        totals = TotalsOpening(shape.string(statement["totals"], "salt", at), parse_totals_shape(statement["totals"]["content"], f"{at}.content"))
    return Reveal(
        statement=statement,
        escrow_id=shape.string(statement, "escrow_id", where),
        root=shape.string(statement, "root", where),
        tree_size=tree_size,
        phase=shape.string(statement, "phase", where),
        openings=tuple(openings),
        proof=tuple(shape.strings(statement, "proof", where)),
        totals=totals,
        part=part,
        parts=parts,
    )


def _part(statement: dict[str, Any], tree_size: int, where: str) -> tuple[int | None, int | None]:
    """Spec §5.1: ``part`` and ``parts`` together or not at all, 2 ≤ parts ≤ tree_size,
    1 ≤ part ≤ parts."""
    has_part, has_parts = "part" in statement, "parts" in statement
    if not has_part and not has_parts:
        return None, None
    if has_part != has_parts:
        missing = "parts" if has_part else "part"
        raise MalformedInputError(f"a part of a phase has both part and parts (spec §5.1); {missing} is missing", where=f"{where}.{missing}")
    part, parts = shape.integer(statement, "part", where), shape.integer(statement, "parts", where)
    if parts < 2:
        raise MalformedInputError(f"parts is {parts}; a phase in parts has at least 2 (one part is a whole phase, without part fields; spec §5.1)",
                                  where=f"{where}.parts")
    if parts > tree_size:
        raise MalformedInputError(f"parts is {parts}, more than the escrow's {tree_size} cells (spec §5.1)", where=f"{where}.parts")
    if not 1 <= part <= parts:
        raise MalformedInputError(f"part is {part}, outside 1..{parts} (spec §5.1)", where=f"{where}.part")
    return part, parts
