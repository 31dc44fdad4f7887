"""The board API's shapes for its OpenAPI document (spec §11): response models, request body
schemas, the error responses of each operation, and :func:`published`, which makes FastAPI's
document say what the API does (400 :class:`ErrorBody` for bad parameters, never 422)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "BINARY",
    "COSIGNATURE_SCHEMA",
    "ENVELOPE_SCHEMA",
    "SHA256_PATTERN",
    "BundleStored",
    "CellsStored",
    "Cosigned",
    "CosignedList",
    "CosignatureStored",
    "EntryPage",
    "ErrorBody",
    "Health",
    "ProofBody",
    "SubmitReceipt",
    "error_responses",
    "published",
]

SHA256_PATTERN = "^[0-9a-f]{64}$"


class ProblemBody(BaseModel):
    index: int | None = Field(description="The opening's index, or null for the whole file.")
    reason: str
    detail: str


class ErrorBody(BaseModel):
    error: str = Field(description="What is wrong, for a person.")
    reason: str = Field(description="A stable code (unveil.core.reasons.Reason).")
    problems: list[ProblemBody] | None = Field(default=None, description="A reveal file's problems, when one was checked.")


class SubmitReceipt(BaseModel):
    index: int = Field(description="The entry's index in the log.")
    checkpoint: str = Field(description="A board-signed checkpoint note whose tree includes the entry.")


class BundleStored(BaseModel):
    sha256: str


class CellsStored(BaseModel):
    sha256: str
    escrow_ids: list[str] = Field(description="The published escrows that commit to this cells.txt.")


class CosignatureStored(BaseModel):
    ok: bool
    size: int = Field(description="The cosigned checkpoint's tree size.")
    time: int = Field(description="The cosignature's time (unix seconds).")


class Cosigned(BaseModel):
    witness: str = Field(description="The witness's key name (a registered party).")
    size: int = Field(description="The largest tree size this witness cosigned on this board.")
    note: str = Field(description="The board-signed checkpoint note of that size, followed by the witness's cosignature line.")


class CosignedList(BaseModel):
    cosigned: list[Cosigned]


class IndexedEntry(BaseModel):
    index: int
    entry: dict[str, Any] = Field(description="The signed event envelope.")


class EntryPage(BaseModel):
    entries: list[IndexedEntry]


class ProofBody(BaseModel):
    proof: list[str] = Field(description="32-byte hashes, standard base64 with padding.")


class Health(BaseModel):
    ok: bool
    size: int


_SIGNATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["vkey", "sig"],
    "properties": {"vkey": {"type": "string"}, "sig": {"type": "string"}},
    "additionalProperties": False,
}
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A signed event envelope (spec §6, §7).",
    "required": ["statement", "signatures"],
    "properties": {
        "statement": {
            "type": "object",
            "required": ["type", "kind", "escrow_id", "time", "body"],
            "properties": {
                "type": {"type": "string"},
                "kind": {"type": "string"},
                "escrow_id": {"type": "string"},
                "time": {"type": "string"},
                "body": {"type": "object"},
            },
            "additionalProperties": False,
        },
        "signatures": {"type": "array", "items": _SIGNATURE_SCHEMA},
    },
    "additionalProperties": False,
}
COSIGNATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["checkpoint", "line"],
    "properties": {
        "checkpoint": {"type": "string", "description": "The checkpoint body (origin, size, root lines)."},
        "line": {"type": "string", "description": "The witness's signature line."},
    },
    "additionalProperties": False,
}
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

_DESCRIPTIONS = {
    400: "Malformed request (bad JSON, parameter or range; an unsigned reveal file)",
    403: "Refused: author or role",
    404: "Not found",
    409: "Refused: conflicts with the log",
    413: "Too large (a request body, an entry over 1 MiB)",
    422: "Refused by the protocol",
    503: "The board could not write (storage failure), or is checking as many uploads as it takes",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of an operation: ``{status: ErrorBody}``."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def published(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document, made accurate: parameter errors are 400 :class:`ErrorBody` here
    (see :func:`unveil.api.errors.install_error_handlers`), never FastAPI's 422
    ``HTTPValidationError``; an optional query parameter is a plain integer (absent, not null)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            default_422 = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if default_422.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
            for parameter in operation.get("parameters", []):
                any_of = parameter.get("schema", {}).get("anyOf")
                if any_of and {"type": "null"} in any_of and len(any_of) == 2:
                    (kept,) = [s for s in any_of if s != {"type": "null"}]
                    rest = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
                    parameter["schema"] = {**kept, **rest}
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
