"""Request bodies read with a bound (spec §11): never more than a limit in memory, a body over
it refused (413) before it is read whole, a client gone mid-body noticed.

How long a body may take is the connection's business (:mod:`unveil.api.connections` closes a
connection whose client stops or trickles), not this module's.
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import Receive

from unveil.api.errors import Disconnected
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["read_body", "receive_body"]


def content_length(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The Content-Length header of an ASGI scope's ``headers``, if any."""
    return next((value.decode("latin-1") for name, value in headers if name == b"content-length"), None)


async def read_body(request: Request, limit: int, too_large: Reason = Reason.BODY_TOO_LARGE) -> bytes:
    """The request body (see :func:`receive_body`)."""
    return await receive_body(request.headers.get("content-length"), request.receive, limit, too_large)


async def receive_body(declared: str | None, receive: Receive, limit: int, too_large: Reason = Reason.BODY_TOO_LARGE) -> bytes:
    """The body on bare ASGI, ``declared`` being the Content-Length header (if any). Raises
    :class:`BoardRefused`: ``malformed`` for a Content-Length that is not a decimal number,
    ``too_large`` (413) for a body over ``limit`` bytes, at once when it is declared, else as
    soon as the bytes received pass it; :class:`Disconnected` if the client went away."""
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # str.isdigit alone admits "²" and "١"
            raise BoardRefused(Reason.MALFORMED, "Content-Length is not a number")
        digits = declared.lstrip("0") or "0"
        if len(digits) > 18 or int(digits) > limit:  # int() refuses 4300 digits and more
            raise BoardRefused(too_large, f"the body is {declared[:40]} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BoardRefused(too_large, f"the body exceeds the limit of {limit} bytes")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
