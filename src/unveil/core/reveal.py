"""Reveal bundles (spec §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unveil.core import content as content_rules
from unveil.core import shape
from unveil.errors import MalformedInputError

REVEAL_TYPE = "unveil/reveal/v1"
_REQUIRED = ("type", "escrow_id", "root", "tree_size", "phase", "openings", "proof")


@dataclass(frozen=True)
class Opening:
    index: int
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


def parse_reveal(statement: Any, where: str = "statement") -> Reveal:
    """Read a reveal bundle's shape, down to every opening's content; raise MalformedInputError."""
    shape.fields(statement, where, _REQUIRED, ("totals",))
    kind = shape.string(statement, "type", where)
    if kind != REVEAL_TYPE:
        raise MalformedInputError(f"type is {kind!r}, not {REVEAL_TYPE!r}", where=f"{where}.type")
    openings = []
    for i, raw in enumerate(shape.array(statement, "openings", where)):
        at = f"{where}.openings[{i}]"
        shape.fields(raw, at, ("index", "cell", "salt", "content"))
        content = raw["content"]
        content_rules.check_shape(content, f"{at}.content")
        openings.append(
            Opening(shape.integer(raw, "index", at), shape.string(raw, "cell", at), shape.string(raw, "salt", at), content)
        )
    totals = None
    if "totals" in statement:
        at = f"{where}.totals"
        shape.fields(statement["totals"], at, ("salt", "content"))
        from unveil.core.escrow import parse_totals_shape

        totals = TotalsOpening(shape.string(statement["totals"], "salt", at), parse_totals_shape(statement["totals"]["content"], f"{at}.content"))
    return Reveal(
        statement=statement,
        escrow_id=shape.string(statement, "escrow_id", where),
        root=shape.string(statement, "root", where),
        tree_size=shape.integer(statement, "tree_size", where),
        phase=shape.string(statement, "phase", where),
        openings=tuple(openings),
        proof=tuple(shape.strings(statement, "proof", where)),
        totals=totals,
    )
