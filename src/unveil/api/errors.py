"""The board API's edge for errors: every reason code becomes its HTTP status here, once.

Every error answer is ``{"error": str, "reason": str}``, plus ``"problems"`` when a reveal
file was checked (spec §11). :data:`STATUS` is the one table from a refusal's reason to its
status (422, a protocol refusal, for any reason not in it); :data:`HEADERS` adds the headers a
reason calls for (``Connection: close`` when the request body may be left unread, so the
connection cannot carry on mid-body; ``Retry-After`` when busy). :func:`install_error_handlers`
maps the rest (unreadable input, a parameter FastAPI could not parse, Starlette's 404 and 405).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, MalformedInputError, Problem

__all__ = ["HEADERS", "STATUS", "Disconnected", "error_content", "headers_of", "install_error_handlers", "json_bytes", "refusal_body", "status_of"]

PROTOCOL_STATUS = 422
"""The status of a refusal whose reason is not in :data:`STATUS`: the protocol refused it."""

STATUS: Mapping[str, int] = MappingProxyType(
    {
        # the request cannot be read, or names something outside the log
        Reason.MALFORMED: 400,
        Reason.DISCONNECTED: 400,
        Reason.SHA256_MISMATCH: 400,
        Reason.RANGE_INVALID: 400,
        Reason.UPLOAD_UNSIGNED: 400,
        # author or role
        Reason.AUTHOR_UNKNOWN: 403,
        Reason.SIGNATURE_INVALID: 403,
        Reason.ROLE_NOT_ALLOWED: 403,
        Reason.WITNESS_UNKNOWN: 403,
        # not here
        Reason.CHECKPOINT_UNKNOWN: 404,
        Reason.NOT_FOUND: 404,
        Reason.BUNDLE_UNKNOWN: 404,
        Reason.ENTRY_UNKNOWN: 404,
        Reason.CELLS_UNKNOWN: 404,
        Reason.CELLS_MISSING: 404,
        Reason.ESCROW_MISSING: 404,
        Reason.METHOD_NOT_ALLOWED: 405,
        # conflicts with the log
        Reason.STATEMENT_CONFLICT: 409,
        Reason.STATEMENT_DUPLICATE: 409,
        Reason.ESCROW_DUPLICATE: 409,
        Reason.ACCEPTANCE_REPEAT: 409,
        Reason.PHASE_DUPLICATE: 409,
        Reason.COIN_REPEAT: 409,
        Reason.SELECTION_DUPLICATE: 409,
        Reason.DISCREPANCY_DUPLICATE: 409,
        Reason.DISCREPANCY_REPEAT: 409,
        Reason.INSPECTION_DUPLICATE: 409,
        Reason.AGREEMENT_DUPLICATE: 409,
        Reason.AGREEMENT_SIGN_REPEAT: 409,
        Reason.OBLIGATION_SETTLED: 409,
        Reason.ACCESS_DUPLICATE: 409,
        Reason.ACCESS_ANSWERED: 409,
        # too large
        Reason.BODY_TOO_LARGE: 413,
        Reason.ENTRY_TOO_LARGE: 413,
        # the board cannot take it now
        Reason.STORAGE_FAILURE: 503,
        Reason.UPLOADS_BUSY: 503,
    }
)
"""Statuses other than :data:`PROTOCOL_STATUS`, by reason."""

_CLOSE = {"connection": "close"}
HEADERS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        Reason.BODY_TOO_LARGE: _CLOSE,
        Reason.ENTRY_TOO_LARGE: _CLOSE,
        Reason.UPLOADS_BUSY: {**_CLOSE, "retry-after": "2"},
    }
)
"""Headers an answer with this reason carries, besides the content type."""

_HTTP_REASONS = {404: Reason.NOT_FOUND, 405: Reason.METHOD_NOT_ALLOWED}


class Disconnected(Exception):
    """The client went away before its request body was complete: nothing to answer (control
    flow inside this package; it never reaches a user)."""


def status_of(reason: str) -> int:
    """The HTTP status of a refusal with ``reason``."""
    return STATUS.get(reason, PROTOCOL_STATUS)


def headers_of(reason: str) -> Mapping[str, str]:
    """The extra headers of an answer with ``reason`` (:data:`HEADERS`)."""
    return HEADERS.get(reason, {})


def error_content(reason: str, message: str, problems: Sequence[Problem] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {"error": message, "reason": str(reason)}
    if problems:
        content["problems"] = [p.to_json() for p in problems]
    return content


def refusal_body(refused: BoardRefused) -> dict[str, Any]:
    return error_content(refused.reason, refused.message, refused.problems)


def json_bytes(content: Any) -> bytes:
    """What Starlette's :class:`JSONResponse` sends for ``content``, byte for byte."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def _error(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_content(reason, message), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error the app's routes raise as ``{"error", "reason"[, "problems"]}``."""

    @app.exception_handler(BoardRefused)
    async def refused(_: Request, exc: BoardRefused) -> JSONResponse:
        return JSONResponse(refusal_body(exc), status_code=status_of(exc.reason), headers=dict(headers_of(exc.reason)) or None)

    @app.exception_handler(Disconnected)
    async def disconnected(_: Request, exc: Disconnected) -> JSONResponse:
        return _error(status_of(Reason.DISCONNECTED), Reason.DISCONNECTED, "the client went away before its request body was complete")

    @app.exception_handler(MalformedInputError)
    async def malformed(_: Request, exc: MalformedInputError) -> JSONResponse:
        return _error(status_of(Reason.MALFORMED), Reason.MALFORMED, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return _error(status_of(Reason.MALFORMED), Reason.MALFORMED, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = _HTTP_REASONS.get(exc.status_code, f"http-{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the first matching route's methods only
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return _error(exc.status_code, reason, str(exc.detail), headers=headers or None)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)
