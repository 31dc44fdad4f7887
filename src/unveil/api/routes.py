"""The board API's routes (spec §11): plain functions over the app's :class:`~unveil.api.board.Board`.

Each route reads its request, calls the board and answers; errors are raised as
:class:`~unveil.errors.BoardRefused` or :class:`~unveil.errors.MalformedInputError` and answered
by :mod:`unveil.api.errors`. ``POST /entries`` is normally taken by the fast path
(:mod:`unveil.api.fastpath`); its route here documents it and answers alike.

=============================== ==================================================================
``POST /entries``               a signed event envelope (JSON, ≤ 1 MiB). 201 ``{"index",
                                "checkpoint"}`` for a new entry, 200 for a byte-identical repeat
``PUT /bundles/{sha256}``       the exact bytes of a reveal file, signed by a registered party
                                (:mod:`unveil.api.uploads`). 201 stored, 200 already held
``GET /bundles/{sha256}``       those bytes (``application/octet-stream``); 404 if absent
``PUT /cells/{sha256}``         the exact bytes of a published escrow's ``cells.txt``
                                (:mod:`unveil.board.cells`). 201 stored, 200 already held
``GET /cells/{sha256}``         those bytes (``text/plain``); 404 ``cells-missing`` if absent
``GET /checkpoint``             ``text/plain``: the latest checkpoint note, every stored witness
                                cosignature appended
``POST /cosignatures``          ``{"checkpoint": <checkpoint body>, "line": <signature line>}``:
                                200 ``{"ok", "size", "time"}``
``GET /checkpoints/cosigned``   ``{"cosigned": [{"witness", "size", "note"}]}``: each registered
                                witness's largest cosigned checkpoint, with its line
``GET /entries/{index}``        the entry: its exact logged bytes (JCS); 404 outside the log
``GET /entries?start=&end=``    ``{"entries": [{"index", "entry"}, …]}`` for ``start ≤ index <
                                end``: at most 1000 entries and 8 MiB, never past the log's size;
                                a reader continues from the last index + 1
``GET /proofs/inclusion``       ``?index=&size=``: ``{"proof": [b64 hashes]}``, RFC 9162 audit path
``GET /proofs/consistency``     ``?from=&to=``: ``{"proof": [b64 hashes]}`` (spec §7 rules)
``GET /healthz``                ``{"ok": true, "size": n}``
=============================== ==================================================================
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from unveil.api.board import PAGE_MAX, Board
from unveil.api.bodies import read_body
from unveil.api.fastpath import answer_entry
from unveil.api.schemas import (
    BINARY,
    COSIGNATURE_SCHEMA,
    ENVELOPE_SCHEMA,
    SHA256_PATTERN,
    BundleStored,
    CellsStored,
    CosignatureStored,
    CosignedList,
    EntryPage,
    Health,
    ProofBody,
    SubmitReceipt,
    error_responses,
)
from unveil.core.encoding import b64encode
from unveil.core.jsonparse import loads
from unveil.core.notes import Checkpoint
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["COSIGNATURE_MAX", "router"]

COSIGNATURE_MAX = 64 * 1024
"""The largest ``POST /cosignatures`` body (a checkpoint body and one line are < 1 KiB)."""


def the_board(request: Request) -> Board:
    """The app's board (``app.state.board``, set by :func:`unveil.api.app.create_app`)."""
    board: Board = request.app.state.board
    return board


BoardDep = Annotated[Board, Depends(the_board)]
Sha256 = Annotated[str, Path(pattern=SHA256_PATTERN, description="SHA-256 of the file, lowercase hex.")]

router = APIRouter()


@router.post(
    "/entries",
    status_code=201,
    response_model=SubmitReceipt,
    summary="Submit a signed event",
    responses={
        200: {"model": SubmitReceipt, "description": "Already logged, byte for byte"},
        201: {"description": "Logged"},
        **error_responses(400, 403, 409, 413, 422, 503),
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": ENVELOPE_SCHEMA}}}},
)
async def post_entry(request: Request, board: BoardDep) -> Response:
    status, extra, body = await answer_entry(board, request.headers.get("content-length"), request.receive)
    headers = {name.decode(): value.decode() for name, value in extra}
    return Response(body, status_code=status, media_type="application/json", headers=headers or None)


@router.put(
    "/bundles/{sha256}",
    status_code=201,
    response_model=BundleStored,
    summary="Store a reveal file signed by a registered party",
    responses={200: {"model": BundleStored, "description": "Already held"}, 201: {"description": "Stored"}, **error_responses(400, 413, 503)},
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": BINARY}}}},
)
async def put_bundle(request: Request, sha256: Sha256, board: BoardDep) -> Response:
    with board.uploads.admitted():
        data = await read_body(request, request.app.state.max_bundle)
        actual = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
        if actual != sha256:
            raise BoardRefused(Reason.SHA256_MISMATCH, f"the body's SHA-256 is {actual}, not {sha256}")
        if await board.has_bundle(sha256):  # the same bytes were checked when they were stored
            return JSONResponse({"sha256": sha256}, status_code=200)
        await board.uploads.check(data, board.log.statement_vkeys)
        created = await board.store_bundle(sha256, data)
    return JSONResponse({"sha256": sha256}, status_code=201 if created else 200)


@router.get(
    "/bundles/{sha256}",
    response_class=Response,
    summary="A reveal file's exact bytes",
    responses={200: {"content": {"application/octet-stream": {"schema": BINARY}}, "description": "The file"}, **error_responses(400, 404)},
)
async def get_bundle(sha256: Sha256, board: BoardDep) -> Response:
    data = await board.bundle(sha256)
    if data is None:
        raise BoardRefused(Reason.BUNDLE_UNKNOWN, f"the board holds no reveal file {sha256}")
    return Response(data, media_type="application/octet-stream")


@router.put(
    "/cells/{sha256}",
    status_code=201,
    response_model=CellsStored,
    summary="Store the cells.txt a published escrow commits to",
    responses={200: {"model": CellsStored, "description": "Already held"}, 201: {"description": "Stored"}, **error_responses(400, 404, 413, 422, 503)},
    openapi_extra={"requestBody": {"required": True, "content": {"text/plain": {"schema": BINARY}}}},
)
async def put_cells(request: Request, sha256: Sha256, board: BoardDep) -> Response:
    with board.uploads.admitted():
        data = await read_body(request, request.app.state.max_bundle)
        escrows = await anyio.to_thread.run_sync(board.log.cells_escrows, sha256)
        ids = [e.escrow_id for e in escrows]
        if escrows and await board.has_bundle(sha256):
            actual = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
            if actual != sha256:
                raise BoardRefused(Reason.SHA256_MISMATCH, f"the body's SHA-256 is {actual}, not {sha256}")
            return JSONResponse({"sha256": sha256, "escrow_ids": ids}, status_code=200)
        created = await anyio.to_thread.run_sync(board.log.put_cells, sha256, data)
    return JSONResponse({"sha256": sha256, "escrow_ids": ids}, status_code=201 if created else 200)


@router.get(
    "/cells/{sha256}",
    response_class=Response,
    summary="A published escrow's cells.txt",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The file"}, **error_responses(400, 404)},
)
async def get_cells(sha256: Sha256, board: BoardDep) -> Response:
    escrows = await anyio.to_thread.run_sync(board.log.cells_escrows, sha256)
    data = await board.bundle(sha256) if escrows else None
    if data is None:
        raise BoardRefused(Reason.CELLS_MISSING, f"the board holds no cells.txt {sha256}")
    return Response(data, media_type="text/plain; charset=us-ascii")


@router.get("/checkpoint", response_class=PlainTextResponse, summary="The latest checkpoint, cosigned")
async def get_checkpoint(board: BoardDep) -> PlainTextResponse:
    return PlainTextResponse(await board.checkpoint())


@router.post(
    "/cosignatures",
    response_model=CosignatureStored,
    summary="Add a witness cosignature",
    responses=error_responses(400, 403, 404, 413, 422),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": COSIGNATURE_SCHEMA}}}},
)
async def post_cosignature(request: Request, board: BoardDep) -> JSONResponse:
    limit = min(request.app.state.max_bundle, COSIGNATURE_MAX)
    doc = loads(await read_body(request, limit), source="cosignature")  # ≤ 64 KiB: parsed inline
    if type(doc) is not dict or set(doc) != {"checkpoint", "line"} or not all(type(v) is str for v in doc.values()):
        raise BoardRefused(Reason.MALFORMED, 'expected {"checkpoint": string, "line": string}')
    time = await board.add_cosignature(doc["checkpoint"], doc["line"])
    size = Checkpoint.parse(doc["checkpoint"]).size  # it parsed: the log accepted it
    return JSONResponse({"ok": True, "size": size, "time": time})


@router.get("/checkpoints/cosigned", response_model=CosignedList, summary="Each witness's largest cosigned checkpoint")
async def get_cosigned(board: BoardDep) -> JSONResponse:
    found = await board.cosigned()
    return JSONResponse({"cosigned": [{"witness": witness, "size": size, "note": note} for witness, size, note in found]})


@router.get(
    "/entries/{index}",
    response_class=Response,
    summary="One entry",
    responses={200: {"content": {"application/json": {"schema": ENVELOPE_SCHEMA}}, "description": "The envelope (its logged JCS bytes)"}, **error_responses(400, 404)},
)
async def get_entry(index: Annotated[int, Path(ge=0, description="The entry's index.")], board: BoardDep) -> Response:
    return Response(await board.entry(index), media_type="application/json")


@router.get("/entries", response_model=EntryPage, summary=f"Entries start .. end-1 (at most {PAGE_MAX}, and 8 MiB)", responses=error_responses(400))
async def get_entries(
    board: BoardDep,
    start: Annotated[int, Query(ge=0, description="The first index.")],
    end: Annotated[int | None, Query(ge=0, description=f"One past the last index (default and cap: start + {PAGE_MAX}, and the log's size).")] = None,
) -> Response:
    entries = await board.page(start, end)
    items = b",".join(b'{"index":%d,"entry":%s}' % (start + i, entry) for i, entry in enumerate(entries))
    return Response(b'{"entries":[' + items + b"]}", media_type="application/json")


def _proof(hashes: list[bytes]) -> JSONResponse:
    return JSONResponse({"proof": [b64encode(h) for h in hashes]})


@router.get("/proofs/inclusion", response_model=ProofBody, summary="RFC 9162 inclusion proof", responses=error_responses(400))
async def get_inclusion(
    board: BoardDep,
    index: Annotated[int, Query(ge=0, description="The entry's index.")],
    size: Annotated[int, Query(ge=1, description="The tree size (a checkpoint's).")],
) -> JSONResponse:
    return _proof(await board.inclusion_proof(index, size))


@router.get("/proofs/consistency", response_model=ProofBody, summary="RFC 9162 consistency proof", responses=error_responses(400))
async def get_consistency(
    board: BoardDep,
    size1: Annotated[int, Query(alias="from", ge=1, description="The earlier tree size.")],
    size2: Annotated[int, Query(alias="to", ge=1, description="The later tree size.")],
) -> JSONResponse:
    return _proof(await board.consistency_proof(size1, size2))


@router.get("/healthz", response_model=Health, summary="Liveness and log size")
async def healthz(board: BoardDep) -> JSONResponse:
    return JSONResponse({"ok": True, "size": board.size})

