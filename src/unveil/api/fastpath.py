"""``POST /entries`` answered in bare ASGI, ahead of FastAPI's router: the board's hot path.

Routing, dependency solving and the request and response objects cost more than the log's own
work per event, so :class:`EntriesFastPath` takes ``POST /entries`` before the router and passes
every other request on. :func:`answer_entry` is the one implementation both it and the
documented route (:func:`unveil.api.routes.post_entry`) answer with, so the two give the same
statuses, headers and bodies (a test holds them equal, byte for byte).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from unveil.api.board import Board
from unveil.api.bodies import content_length, receive_body
from unveil.api.errors import Disconnected, headers_of, json_bytes, refusal_body, status_of
from unveil.board.protocol import ENTRY_MAX
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["EntriesFastPath", "answer_entry"]

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""``(status, extra headers, JSON body)``."""


def _refused(refusal: BoardRefused) -> Answer:
    headers = [(name.encode(), value.encode()) for name, value in headers_of(refusal.reason).items()]
    return status_of(refusal.reason), headers, json_bytes(refusal_body(refusal))


async def answer_entry(board: Board, declared: str | None, receive: Receive) -> Answer:
    """``POST /entries`` (spec §11): the body, at most :data:`~unveil.board.protocol.ENTRY_MAX`
    bytes (``entry-too-large``, 413, refused before it is read whole), submitted to the board.
    Raises :class:`Disconnected` if the client went away mid-body."""
    try:
        body = await receive_body(declared, receive, ENTRY_MAX, Reason.ENTRY_TOO_LARGE)
        result = await board.submit(body)
    except BoardRefused as refused:
        return _refused(refused)
    if isinstance(result, BoardRefused):
        return _refused(result)
    return (201 if result.created else 200), [], json_bytes({"index": result.index, "checkpoint": result.checkpoint_note})


class EntriesFastPath:
    """ASGI middleware: ``POST /entries`` by :func:`answer_entry`, anything else to ``app``."""

    def __init__(self, app: ASGIApp, board: Board):
        self.app, self.board = app, board

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/entries" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            status, extra, body = await answer_entry(self.board, content_length(scope["headers"]), receive)
        except Disconnected:
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
