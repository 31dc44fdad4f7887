"""The board's HTTP API (spec §7) over one :class:`~unveil.board.log.Log`: :func:`create_app`.

Endpoints (JSON unless said otherwise; every error is ``{"error": str, "reason": str}``, plus
``"problems"`` when a reveal file was checked):

=============================== ==================================================================
``POST /entries``               a signed event envelope (JSON). 201 ``{"index", "checkpoint"}`` for
                                a new entry, 200 for a byte-identical repeat; a refusal carries
                                the status of its reason (400 malformed, 403 author or role, 409
                                conflict, 422 protocol: :data:`unveil.api.errors.STATUS`)
``PUT /bundles/{sha256}``       the exact bytes of a reveal file (any content type). 201 stored, 200
                                already held, 400 if the body's SHA-256 is not ``{sha256}`` or it is
                                not a signed reveal bundle
``GET /bundles/{sha256}``       those bytes (``application/octet-stream``); 404 if absent
``GET /checkpoint``             ``text/plain``: the latest checkpoint note, every stored witness
                                cosignature appended
``POST /cosignatures``          ``{"checkpoint": <checkpoint body>, "line": <signature line>}``:
                                200 ``{"ok", "size", "time"}``; 400/403/404/422 as
                                :meth:`Log.add_cosignature` refuses
``GET /checkpoints/cosigned``   ``{"cosigned": [{"witness", "size", "note"}]}``: each registered
                                witness's largest cosigned checkpoint (:meth:`Log.cosigned`)
``GET /entries/{index}``        the entry: the envelope as JSON, its exact logged bytes (JCS); 404
                                outside the log
``GET /entries?start=&end=``    ``{"entries": [{"index", "entry"}, …]}`` for ``start ≤ index < end``
                                (``end`` optional). At most :data:`PAGE_MAX` entries, and never past
                                the log's size: a reader continues from the last index + 1. 400 if
                                ``start`` is not in ``[0, size]`` or ``end < start``
``GET /proofs/inclusion``       ``?index=&size=``: ``{"proof": [b64 hashes]}``, RFC 9162 audit path
``GET /proofs/consistency``     ``?from=&to=``: ``{"proof": [b64 hashes]}`` (spec §7 rules)
``GET /healthz``                ``{"ok": true, "size": n}``
``GET /openapi.json``           this API's OpenAPI document
=============================== ==================================================================

Request bodies larger than ``max_body`` are refused with 413 before they are read whole: a
``Content-Length`` above the limit at once, otherwise while the body streams in (cosignature
bodies are capped at 64 KiB). JSON bodies are read with the project's strict I-JSON reader
(:func:`unveil.core.jsonparse.loads`: duplicate names, bad UTF-8, lone surrogates, … → 400).

**Group commit.** ``POST /entries`` is answered ahead of FastAPI's router by a bare ASGI
handler (:class:`_EntriesFastPath`; the FastAPI route documents it and gives the same answers).
The body goes to one of ``verifiers`` threads for :meth:`Log.prepare` (strict parse, shape,
signature checks: the costly part, and Ed25519 releases the GIL, so requests are verified in
parallel and off the event loop), then ``(prepared, future)`` goes on the event loop's
:class:`asyncio.Queue`. A single writer task drains up to ``batch_max`` pending submissions,
hands them to :meth:`Log.submit_many` on the one writer thread (a dedicated single-thread
executor, so the event loop never blocks and the Log is written from one thread only), and
resolves each future with its :class:`Receipt` or :class:`~unveil.errors.BoardRefused`: one storage transaction
and one checkpoint signature per batch. The writer is started when a submission arrives and
exits when the queue is empty (so no task outlives its event loop: without a lifespan,
Starlette's ``TestClient`` runs each request on a loop of its own; each loop then has a writer
of its own, and the lock below still serialises them). A storage failure fails every request
of the batch with 503 (:class:`Log` keeps all rows of a batch or none).

**Reads.** Every other call into the Log or its storage (checkpoint, entries, proofs, bundles,
cosignatures) runs in a worker thread under one ``threading.Lock`` that the writer also holds
for each batch: :class:`~unveil.board.tree.AppendOnlyTree` is not safe to read while it grows,
and :class:`~unveil.board.log.LogStorage` promises no thread safety. A read therefore waits at
most one batch commit; the event loop never waits. ``GET /healthz`` reads ``Log.size`` (one
attribute) without the lock.
"""

import asyncio
import hashlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from unveil import __version__
from unveil.api.errors import Disconnected, install_error_handlers, json_bytes, refusal_body, status_of
from unveil.board.log import Log, Prepared, Receipt
from unveil.core.encoding import b64encode
from unveil.core.jsonparse import loads
from unveil.core.notes import Checkpoint
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["PAGE_MAX", "create_app"]

log_ = logging.getLogger("unveil.api")

PAGE_MAX = 1000
"""The most entries one ``GET /entries`` returns."""

COSIGNATURE_MAX = 64 * 1024
"""The largest ``POST /cosignatures`` body (a checkpoint body and one line are < 1 KiB)."""

SHA256_PATTERN = "^[0-9a-f]{64}$"

T = TypeVar("T")


# --- response shapes (for the OpenAPI document) ------------------------------------------------


class ProblemBody(BaseModel):
    index: int | None = Field(description="The opening's index, or null for the whole file.")
    reason: str
    detail: str


class ErrorBody(BaseModel):
    error: str = Field(description="What is wrong, for a person.")
    reason: str = Field(description="A stable code (unveil.board.protocol, or this module's).")
    problems: list[ProblemBody] | None = Field(default=None, description="A reveal file's problems, when one was checked.")


class SubmitReceipt(BaseModel):
    index: int = Field(description="The entry's index in the log.")
    checkpoint: str = Field(description="A board-signed checkpoint note whose tree includes the entry.")


class BundleStored(BaseModel):
    sha256: str


class CosignatureStored(BaseModel):
    ok: bool
    size: int = Field(description="The cosigned checkpoint's tree size.")
    time: int = Field(description="The cosignature's time (unix seconds).")


class CosignedCheckpoint(BaseModel):
    witness: str = Field(description="The witness's name (a registered party).")
    size: int = Field(description="The largest checkpoint size it cosigned on this board.")
    note: str = Field(description="The board-signed checkpoint note of that size, followed by the witness's cosignature line.")


class CosignedList(BaseModel):
    cosigned: list[CosignedCheckpoint]


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
_BINARY = {"type": "string", "format": "binary"}

_DESCRIPTIONS = {
    400: "Malformed request (bad JSON, parameter or range)",
    403: "Refused: author or role",
    404: "Not found",
    409: "Refused: conflicts with the log",
    413: "Request body too large",
    422: "Refused by the protocol",
    503: "The board could not write (storage failure)",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


# --- bodies ----------------------------------------------------------------------------------


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) one over ``limit`` bytes without reading it whole."""
    return await _receive_body(request.headers.get("content-length"), request.receive, limit)


async def _receive_body(declared: str | None, receive: Receive, limit: int) -> bytes:
    """:func:`_read_body` on bare ASGI: ``declared`` is the Content-Length header, if any."""
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # str.isdigit alone admits "²" and "١"
            raise BoardRefused(Reason.MALFORMED, "Content-Length is not a number")
        digits = declared.lstrip("0") or "0"
        if len(digits) > 18 or int(digits) > limit:  # int() refuses 4300+ digits
            raise BoardRefused(Reason.BODY_TOO_LARGE, f"the body is {declared[:40]} bytes; the limit is {limit}")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        body += message.get("body", b"")
        if len(body) > limit:
            raise BoardRefused(Reason.BODY_TOO_LARGE, f"the body exceeds the limit of {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)


# --- the board: one log, one lock, one writer per event loop ---------------------------------


class _Writer:
    """The group-commit queue and writer task of one event loop."""

    def __init__(self, board: "_Board"):
        self.board = board
        self.queue: asyncio.Queue[tuple[Prepared, asyncio.Future[Receipt | BoardRefused]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def submit(self, doc: Prepared) -> Receipt | BoardRefused:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Receipt | BoardRefused] = loop.create_future()
        self.queue.put_nowait((doc, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain(), name="unveil-board-writer")
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        # The emptiness check and the task's end happen in one step of the loop: a document
        # queued after the check finds the task done and starts a new one.
        while not self.queue.empty():
            batch: list[tuple[Prepared, asyncio.Future[Receipt | BoardRefused]]] = []
            while len(batch) < self.board.batch_max and not self.queue.empty():
                doc, future = self.queue.get_nowait()
                if not future.done():  # its request was cancelled: nothing was promised
                    batch.append((doc, future))
            if not batch:
                continue
            docs = [doc for doc, _ in batch]
            try:
                results = await loop.run_in_executor(self.board.executor, self.board.commit, docs)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001  # every request of the batch learns of it
                log_.exception("board write failed")
                failure = BoardRefused(Reason.STORAGE_FAILURE, f"the board could not write: {type(exc).__name__}")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


class _Board:
    def __init__(self, log: Log, batch_max: int, verifiers: int):
        if batch_max < 1 or verifiers < 1:
            raise ValueError("batch_max and verifiers must be at least 1")
        self.log = log
        self.batch_max = batch_max
        self.gate = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unveil-board-writer")
        self.verifiers = ThreadPoolExecutor(max_workers=verifiers, thread_name_prefix="unveil-board-verify")
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer] = weakref.WeakKeyDictionary()
        self._writers_lock = threading.Lock()

    def commit(self, docs: list[Prepared]) -> list[Receipt | BoardRefused]:
        """On the writer thread: one batch, under the lock."""
        with self.gate:
            return self.log.submit_many(docs)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, under the lock."""

        def locked() -> T:
            with self.gate:
                return fn(*args)

        return await anyio.to_thread.run_sync(locked)

    def writer(self) -> _Writer:
        loop = asyncio.get_running_loop()
        with self._writers_lock:
            writer = self._writers.get(loop)
            if writer is None:
                writer = self._writers[loop] = _Writer(self)
        return writer

    async def submit_entry(self, declared: str | None, receive: Receive, max_body: int) -> tuple[int, bytes]:
        """``POST /entries``: ``(status, JSON body)``. Parsing and signature checks run on the
        verifier threads (:meth:`Log.prepare`, many requests at once), then the writer appends.
        Raises :class:`BoardRefused` (the request itself), :class:`Disconnected`; the log's
        refusal of the event is answered."""
        body = await _receive_body(declared, receive, max_body)
        prepared = await asyncio.get_running_loop().run_in_executor(self.verifiers, self.log.prepare, body)
        result = await self.writer().submit(prepared) if prepared.event is not None else prepared.refusal
        if isinstance(result, BoardRefused):
            return status_of(result.reason), json_bytes(refusal_body(result))
        assert result is not None  # a Prepared without an event carries its refusal
        return (201 if result.created else 200), json_bytes({"index": result.index, "checkpoint": result.checkpoint_note})

    async def drain(self) -> None:
        """Wait for this loop's writer to finish its queue (at shutdown)."""
        writer = self._writers.get(asyncio.get_running_loop())
        if writer is not None and writer.task is not None and not writer.task.done():
            await asyncio.shield(writer.task)


# --- the application -------------------------------------------------------------------------


class _EntriesFastPath:
    """``POST /entries`` answered in bare ASGI, ahead of FastAPI's router; every other request
    goes on to ``app``. The board's hot path: routing, dependency solving, the request and
    response objects cost more than the log's own work per event. It gives the same answers
    as the documented route (a test holds the two equal, byte for byte)."""

    def __init__(self, app: ASGIApp, board: "_Board", max_body: int):
        self.app, self.board, self.max_body = app, board, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/entries" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"content-length"), None)
        try:
            status, body = await self.board.submit_entry(declared, receive, self.max_body)
        except BoardRefused as exc:
            status, body = status_of(exc.reason), json_bytes(refusal_body(exc))
        except Disconnected:
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def create_app(log: Log, *, max_body: int = 16 * 2**20, batch_max: int = 256, verifiers: int = 2, fast_path: bool = True) -> FastAPI:
    """The board's API over ``log`` (see the module docstring). ``max_body``: the largest
    request body accepted (bytes); ``batch_max``: the most events committed in one batch;
    ``verifiers``: threads parsing and verifying submissions; ``fast_path=False`` serves
    ``POST /entries`` through FastAPI's router only (for the test that compares the two)."""
    board = _Board(log, batch_max, verifiers)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await board.drain()

    app = FastAPI(
        title=f"unveil board {log.origin}",
        version=__version__,
        description="The public log of unveil events, checkpoints, proofs and reveal files (spec §7).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.board = board
    install_error_handlers(app)

    @app.post(
        "/entries",
        status_code=201,
        response_model=SubmitReceipt,
        summary="Submit a signed event",
        responses={
            200: {"model": SubmitReceipt, "description": "Already logged, byte for byte"},
            201: {"description": "Logged"},
            **_errors(400, 403, 409, 413, 422, 503),
        },
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": ENVELOPE_SCHEMA}}}},
    )
    async def post_entry(request: Request) -> Response:
        status, body = await board.submit_entry(request.headers.get("content-length"), request.receive, max_body)
        return Response(body, status_code=status, media_type="application/json")

    if fast_path:
        app.add_middleware(_EntriesFastPath, board=board, max_body=max_body)

    def store_bundle(data: bytes, sha256: str) -> bool:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise BoardRefused(Reason.SHA256_MISMATCH, f"the body's SHA-256 is {actual}, not {sha256}")
        with board.gate:
            if board.log.get_bundle(sha256) is not None:
                return False
            log.put_bundle(data)  # MalformedInputError (400) unless a signed reveal bundle
            return True

    Sha256 = Annotated[str, Path(pattern=SHA256_PATTERN, description="SHA-256 of the file, lowercase hex.")]

    @app.put(
        "/bundles/{sha256}",
        status_code=201,
        response_model=BundleStored,
        summary="Store a reveal file",
        responses={200: {"model": BundleStored, "description": "Already held"}, 201: {"description": "Stored"}, **_errors(400, 413)},
        openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": _BINARY}}}},
    )
    async def put_bundle(request: Request, sha256: Sha256) -> Response:
        data = await _read_body(request, max_body)
        created = await anyio.to_thread.run_sync(store_bundle, data, sha256)
        return JSONResponse({"sha256": sha256}, status_code=201 if created else 200)

    @app.get(
        "/bundles/{sha256}",
        response_class=Response,
        summary="A reveal file's exact bytes",
        responses={200: {"content": {"application/octet-stream": {"schema": _BINARY}}, "description": "The file"}, **_errors(400, 404)},
    )
    async def get_bundle(sha256: Sha256) -> Response:
        data = await board.read(board.log.get_bundle, sha256)
        if data is None:
            raise BoardRefused(Reason.BUNDLE_UNKNOWN, f"the board holds no reveal file {sha256}")
        return Response(data, media_type="application/octet-stream")

    @app.get("/checkpoint", response_class=PlainTextResponse, summary="The latest checkpoint, cosigned")
    async def get_checkpoint() -> PlainTextResponse:
        return PlainTextResponse(await board.read(log.checkpoint))

    @app.post(
        "/cosignatures",
        response_model=CosignatureStored,
        summary="Add a witness cosignature",
        responses=_errors(400, 403, 404, 413, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["checkpoint", "line"],
                            "properties": {
                                "checkpoint": {"type": "string", "description": "The checkpoint body (origin, size, root lines)."},
                                "line": {"type": "string", "description": "The witness's signature line."},
                            },
                            "additionalProperties": False,
                        }
                    }
                },
            }
        },
    )
    async def post_cosignature(request: Request) -> JSONResponse:
        doc = loads(await _read_body(request, min(max_body, COSIGNATURE_MAX)), source="cosignature")  # ≤ 64 KiB: inline
        if type(doc) is not dict or set(doc) != {"checkpoint", "line"} or not all(type(v) is str for v in doc.values()):
            raise BoardRefused(Reason.MALFORMED, 'expected {"checkpoint": string, "line": string}')
        time = await board.read(log.add_cosignature, doc["checkpoint"], doc["line"])
        size = Checkpoint.parse(doc["checkpoint"]).size  # it parsed: the log accepted it
        return JSONResponse({"ok": True, "size": size, "time": time})

    @app.get("/checkpoints/cosigned", response_model=CosignedList, summary="Each witness's largest cosigned checkpoint")
    async def get_cosigned() -> JSONResponse:
        rows = await board.read(log.cosigned)
        return JSONResponse({"cosigned": [{"witness": w, "size": size, "note": note} for w, size, note in rows]})

    def one_entry(index: int) -> bytes:
        with board.gate:
            size = log.size
            if not 0 <= index < size:
                raise BoardRefused(Reason.ENTRY_UNKNOWN, f"entry {index} is not in the log (size {size})")
            return log.entries(index, index + 1)[0]

    @app.get(
        "/entries/{index}",
        response_class=Response,
        summary="One entry",
        responses={200: {"content": {"application/json": {"schema": ENVELOPE_SCHEMA}}, "description": "The envelope (its logged JCS bytes)"}, **_errors(400, 404)},
    )
    async def get_entry(index: Annotated[int, Path(ge=0, description="The entry's index.")]) -> Response:
        entry = await anyio.to_thread.run_sync(one_entry, index)
        return Response(entry, media_type="application/json")

    def page(start: int, end: int | None) -> tuple[int, list[bytes]]:
        with board.gate:
            size = log.size
            if not 0 <= start <= size:
                raise BoardRefused(Reason.RANGE_INVALID, f"start {start} is not within [0, {size}]")
            if end is not None and end < start:
                raise BoardRefused(Reason.RANGE_INVALID, f"end {end} is before start {start}")
            stop = min(size, start + PAGE_MAX, size if end is None else end)
            return start, log.entries(start, stop)

    @app.get(
        "/entries",
        response_model=EntryPage,
        summary=f"Entries start .. end-1 (at most {PAGE_MAX})",
        responses=_errors(400),
    )
    async def get_entries(
        start: Annotated[int, Query(ge=0, description="The first index.")],
        end: Annotated[int | None, Query(ge=0, description=f"One past the last index (default and cap: start + {PAGE_MAX}, and the log's size).")] = None,
    ) -> Response:
        first, entries = await anyio.to_thread.run_sync(page, start, end)
        items = b",".join(b'{"index":%d,"entry":%s}' % (first + i, entry) for i, entry in enumerate(entries))
        return Response(b'{"entries":[' + items + b"]}", media_type="application/json")

    def proof(hashes: list[bytes]) -> JSONResponse:
        return JSONResponse({"proof": [b64encode(h) for h in hashes]})

    @app.get("/proofs/inclusion", response_model=ProofBody, summary="RFC 9162 inclusion proof", responses=_errors(400))
    async def get_inclusion(
        index: Annotated[int, Query(ge=0, description="The entry's index.")],
        size: Annotated[int, Query(ge=1, description="The tree size (a checkpoint's).")],
    ) -> JSONResponse:
        return proof(await board.read(log.inclusion_proof, index, size))

    @app.get("/proofs/consistency", response_model=ProofBody, summary="RFC 9162 consistency proof", responses=_errors(400))
    async def get_consistency(
        size1: Annotated[int, Query(alias="from", ge=1, description="The earlier tree size.")],
        size2: Annotated[int, Query(alias="to", ge=1, description="The later tree size.")],
    ) -> JSONResponse:
        return proof(await board.read(log.consistency_proof, size1, size2))

    @app.get("/healthz", response_model=Health, summary="Liveness and log size")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True, "size": log.size})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _published(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _published(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document, made accurate: parameter errors are 400 :class:`ErrorBody` here
    (see :func:`unveil.api.errors.install_error_handlers`), never FastAPI's 422 ``HTTPValidationError``; an
    optional query parameter is a plain integer (absent, not null)."""
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
