"""The signed-statement envelope (spec §6): ``{"statement": {…}, "signatures": [{"vkey", "sig"}]}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unveil.core import shape
from unveil.errors import MalformedInputError


@dataclass(frozen=True)
class SignedStatement:
    statement: dict[str, Any]
    signatures: tuple[dict[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "signatures": list(self.signatures)}


def parse_signed(doc: Any, where: str = "$") -> SignedStatement:
    """Read a signed statement's shape; every signature object has exactly ``vkey`` and ``sig``."""
    shape.fields(doc, where, ("statement", "signatures"))
    statement = shape.obj(doc, "statement", where)
    return SignedStatement(statement, tuple(signature_objects(doc["signatures"], f"{where}.signatures")))


def signature_objects(signatures: Any, where: str = "signatures") -> list[dict[str, str]]:
    """A list of signature objects with exactly the string fields ``vkey`` and ``sig`` (§6)."""
    if type(signatures) is not list:
        raise MalformedInputError(f"expected an array, found {shape.json_type(signatures)}", where=where)
    for i, signature in enumerate(signatures):
        at = f"{where}[{i}]"
        shape.fields(signature, at, ("vkey", "sig"))
        shape.string(signature, "vkey", at)
        shape.string(signature, "sig", at)
    return signatures
