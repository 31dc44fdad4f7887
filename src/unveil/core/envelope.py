"""The signed-statement envelope (spec §6): ``{"statement": {…}, "signatures": [{"vkey", "sig"}]}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unveil.core import shape


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
    signatures = shape.array(doc, "signatures", where)
    for i, signature in enumerate(signatures):
        at = f"{where}.signatures[{i}]"
        shape.fields(signature, at, ("vkey", "sig"))
        shape.string(signature, "vkey", at)
        shape.string(signature, "sig", at)
    return SignedStatement(statement, tuple(signatures))
