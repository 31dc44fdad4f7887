"""The board's read-only views (spec §11 "Views"): ``GET /view/…`` and their cache.

:class:`Views` keeps one :class:`~unveil.board.view.BoardView` of the board's log and feeds it
the entries appended since it last looked, read under the board's lock a page at a time (the
lock is held no longer than a ``GET /entries`` holds it); everything else runs in a worker
thread under the views' own lock, never the writer's. The answers that cost most (a
100,000-cell ``cells`` view, ``sites``) are kept, as JSON bytes, until the log grows or a
cosignature changes the final size.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from unveil.api.board import PAGE_MAX, Board
from unveil.api.errors import json_bytes
from unveil.api.schemas import error_responses
from unveil.board.view import BoardView, final_size_of
from unveil.core.encoding import is_id
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["Views", "view_router"]

_KEPT = 16
"""Answers kept per log size and final size."""


class Views:
    """The views of one board (see the module docstring)."""

    def __init__(self, board: Board):
        self.board = board
        self.view = BoardView(board.log.parties, board.log.origin)
        self._lock = threading.Lock()
        self._kept: dict[tuple[Any, ...], bytes] = {}
        self._kept_at: tuple[int, int] = (-1, -1)

    def _catch_up(self) -> tuple[int, dict[str, int], tuple[int, str] | None]:
        """Fold the new entries; the final size, each witness's cosigned size, the latest
        checkpoint ``(size, root hex)`` of the folded log. Under the views' lock."""
        log, view = self.board.log, self.view
        while view.size < log.size:
            view.extend(self.board.run_locked(self._page, view.size))
        size = view.size
        cosigned = {witness: n for witness, n, _ in self.board.run_locked(log.cosigned)}
        latest = (size, self.board.run_locked(log.root, size).hex()) if size else None
        return min(size, final_size_of(log.parties, cosigned)), cosigned, latest  # a cosignature may already be past what was folded

    def _page(self, start: int) -> list[bytes]:
        """Entries from ``start``, at most a page (called under the board's lock)."""
        log = self.board.log
        return log.entries(start, min(log.size, start + PAGE_MAX))

    def answer(self, name: str, *args: Any) -> bytes:
        """The JSON bytes of view ``name`` (a worker thread calls this)."""
        log = self.board.log
        with self._lock:
            final, cosigned, latest = self._catch_up()
            at = (self.view.size, final)
            if at != self._kept_at:
                self._kept, self._kept_at = {}, at
            key = (name, *args)
            kept = self._kept.get(key)
            if kept is not None:
                return kept
            view = self.view
            if name == "summary":
                doc = view.summary(final, log.has_bundle)
            elif name == "cells":
                record = view.record_of(args[0])
                data = view.cells_json(args[0], log.get_bundle(record.escrow.grid.cells_sha256), log.get_bundle)
                self._keep(key, data)
                return data
            elif name == "sites":
                doc = view.sites(args[0], log.get_bundle)
            elif name == "events":
                doc = view.events(args[0], final)
            elif name == "log":
                doc = view.log(args[0], args[1], final)
            elif name == "checkpoints":
                doc = view.checkpoints(latest, cosigned, final)
            else:
                doc = view.agreements(final, log.get_bundle)
            data = json_bytes(doc)
            if name == "sites":
                self._keep(key, data)
            return data

    def _keep(self, key: tuple[Any, ...], data: bytes) -> None:
        if len(self._kept) < _KEPT:
            self._kept[key] = data

    async def respond(self, name: str, *args: Any) -> Response:
        data = await anyio.to_thread.run_sync(self.answer, name, *args)
        return Response(data, media_type="application/json")


def _views(request: Request) -> Views:
    """The app's views (``app.state.views``, set by :func:`unveil.api.app.create_app`)."""
    views: Views = request.app.state.views
    return views


def _escrow_id(value: str) -> str:
    if not is_id(value):
        raise BoardRefused(Reason.MALFORMED, f"{value[:80]!r} is not an escrow id (spec §0)")
    return value


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ViewSummary(_Open):
    origin: str
    size: int
    final_size: int
    quorum: list[str]
    escrows: list[dict[str, Any]]


class ViewCells(_Open):
    escrow_id: str
    resolution: int | None
    steps: list[str]
    cells: list[list[Any]]


class ViewSites(_Open):
    escrow_id: str
    sites: list[dict[str, Any]]


class ViewEvents(_Open):
    escrow_id: str
    inspections: list[dict[str, Any]]
    discrepancies: list[dict[str, Any]]


class ViewLog(_Open):
    size: int
    final_size: int
    entries: list[dict[str, Any]]


class ViewCheckpoints(_Open):
    latest: dict[str, Any] | None
    final_size: int
    witnesses: list[dict[str, Any]]


class ViewAgreements(_Open):
    agreements: list[dict[str, Any]]
    draws: list[dict[str, Any]]


view_router = APIRouter()
EscrowId = Annotated[str, Path(description="The escrow's id (spec §0).")]


@view_router.get("/view/summary", response_model=ViewSummary, summary="Every escrow, its steps and counts")
async def view_summary(request: Request) -> Response:
    return await _views(request).respond("summary")


@view_router.get("/view/escrows/{escrow_id}/cells", response_model=ViewCells, summary="Every committed cell and the step of each state",
                 responses=error_responses(400, 404))
async def view_cells(request: Request, escrow_id: EscrowId) -> Response:
    return await _views(request).respond("cells", _escrow_id(escrow_id))


@view_router.get("/view/escrows/{escrow_id}/sites", response_model=ViewSites, summary="The revealed sites", responses=error_responses(400, 404))
async def view_sites(request: Request, escrow_id: EscrowId) -> Response:
    return await _views(request).respond("sites", _escrow_id(escrow_id))


@view_router.get("/view/escrows/{escrow_id}/events", response_model=ViewEvents, summary="Inspections and discrepancies",
                 responses=error_responses(400, 404))
async def view_events(request: Request, escrow_id: EscrowId) -> Response:
    return await _views(request).respond("events", _escrow_id(escrow_id))


@view_router.get("/view/log", response_model=ViewLog, summary=f"Entries start .. end-1 for people (at most {PAGE_MAX})", responses=error_responses(400))
async def view_log(
    request: Request,
    start: Annotated[int, Query(ge=0, description="The first index.")] = 0,
    end: Annotated[int | None, Query(ge=0, description=f"One past the last index (default and cap: start + {PAGE_MAX}, and the log's size).")] = None,
) -> Response:
    return await _views(request).respond("log", start, end)


@view_router.get("/view/checkpoints", response_model=ViewCheckpoints, summary="The latest checkpoint, its cosigners and the final size")
async def view_checkpoints(request: Request) -> Response:
    return await _views(request).respond("checkpoints")


@view_router.get("/view/agreements", response_model=ViewAgreements, summary="Agreements, obligations, item counts and draws")
async def view_agreements(request: Request) -> Response:
    return await _views(request).respond("agreements")
