"""The board's HTTP API (spec §11) over one :class:`~unveil.board.log.Log`: :func:`create_app`.

The package, by concern:

- :mod:`.board`       the :class:`~unveil.api.board.Board`: every read and write of the log, under
                      its one lock; the page limits; the purge of reveal files
- :mod:`.writer`      group commit: one writer thread, one transaction and checkpoint per batch
- :mod:`.fastpath`    ``POST /entries`` in bare ASGI, ahead of the router
- :mod:`.routes`      the routes, plain functions over the board
- :mod:`.views`       the read-only ``GET /view/…`` (spec §11 "Views") and their cache
- :mod:`.uploads`     reveal-file uploads: admission, the cheap test
- :mod:`.checker`     reveal files (uploads, ``reveal.published``) checked in a process of their own
- :mod:`.bodies`      request bodies read with a bound
- :mod:`.errors`      reason codes to HTTP statuses (one table), error bodies, handlers
- :mod:`.schemas`     response models and the OpenAPI document's shapes
- :mod:`.connections` the idle and request timeouts of a connection (uvicorn's protocol)
- :mod:`.serve`       ``unveil serve``: open the board and run uvicorn
- :mod:`.web`         the public page (``GET /``, ``/static/…``) from :mod:`unveil.webui`

Limits on what one request can cost: ``POST /entries`` bodies ≤ 1 MiB (``entry-too-large``,
413); ``PUT /bundles`` bodies ≤ ``max_bundle`` (``body-too-large``, 413), at most
``upload_slots`` at once (``uploads-busy``, 503), checked in a separate process; ``POST
/cosignatures`` ≤ 64 KiB; ``GET /entries`` ≤ 1000 entries and 8 MiB; ``PUT /cells`` bodies ≤ ``max_bundle``. Bodies over a limit are
refused before they are read whole. JSON bodies are read with the strict I-JSON reader
(:func:`unveil.core.jsonparse.loads`: ≤ 64 deep, no duplicate names, … → 400).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from unveil import __version__
from unveil.api.board import PURGE_AFTER, Board
from unveil.api.errors import install_error_handlers
from unveil.api.fastpath import EntriesFastPath
from unveil.api.routes import router
from unveil.api.schemas import published
from unveil.api.uploads import Uploads
from unveil.api.views import Views, view_router
from unveil.api.web import web_router
from unveil.board.log import Log

__all__ = ["MAX_BUNDLE", "create_app"]

MAX_BUNDLE = 16 * 2**20
"""The largest reveal file ``PUT /bundles`` takes by default (bytes)."""


def create_app(
    log: Log,
    *,
    max_bundle: int = MAX_BUNDLE,
    batch_max: int = 256,
    verifiers: int = 2,
    upload_slots: int = 2,
    purge_after: int | None = PURGE_AFTER,
    fast_path: bool = True,
) -> FastAPI:
    """The board's API over ``log`` (see the module docstring). ``max_bundle``: the largest
    reveal file accepted (bytes); ``batch_max``: the most events committed in one batch;
    ``verifiers``: threads parsing and verifying submissions; ``upload_slots``: uploads taken at
    once; ``purge_after``: seconds after which a reveal file no entry names is deleted
    (``None``: never); ``fast_path=False`` serves ``POST /entries`` through the router only
    (for the test that compares the two)."""
    board = Board(log, batch_max=batch_max, verifiers=verifiers, purge_after=purge_after, uploads=Uploads(upload_slots))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await board.writers.drain()

    app = FastAPI(
        title=f"unveil board {log.origin}",
        version=__version__,
        description="The public log of unveil events, checkpoints, proofs and reveal files (spec §7, §11).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.board = board
    app.state.max_bundle = max_bundle
    app.state.views = Views(board)
    install_error_handlers(app)
    app.router.routes.extend(web_router().routes)  # the public page (GET /, /static/…)
    app.router.routes.extend(router.routes)  # as routes of the app (include_router would wrap them, and 405's Allow needs them)
    app.router.routes.extend(view_router.routes)
    if fast_path:
        app.add_middleware(EntriesFastPath, board=board)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = published(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
