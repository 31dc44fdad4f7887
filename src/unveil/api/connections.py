"""Connections that end (spec §11): the board closes a connection whose client keeps it waiting.

uvicorn closes an idle keep-alive connection after a response, but not one that never sends a
request, stops in the middle of its headers or body, or trickles them a byte at a time: each
would hold a socket (and, mid-body, a request) for as long as the client likes.
:func:`protocol_class` gives uvicorn's HTTP protocol a watch that closes the connection when

- the board waits for the client (no request yet, or one whose headers or body are still
  coming) and no byte has arrived for ``idle_timeout`` seconds (spec §11: 10 by default); or
- one request's headers and body, from its first byte, take longer than ``request_timeout``
  seconds to arrive (a trickle that is never idle).

While the board works on a complete request, or holds the client back itself (uvicorn stops
reading a body the app has not taken yet), the client is not idle. A closed connection gets no
answer; a request still reading its body sees the client go (``disconnected``).

A connection closed with a request body left unread (a body refused as too large, 413) is
closed *lingering* (RFC 9112 §9.6): the board sends its answer and a FIN, then reads and drops
what the client still sends until the client closes, for at most ``LINGER`` seconds. Closed at
once, the unread bytes would make the kernel reset the connection, and a reset may destroy the
answer in the client's buffers before it is read: the client would see "connection reset"
instead of the reason it was refused.

The watch is one timer per connection, re-armed for the next deadline when it fires (no work
per received chunk but a clock read). It relies on uvicorn protocol internals pinned by
``tests/test_private_apis.py``: ``loop``, ``transport``, ``flow.read_paused``, ``cycle`` with
``more_body`` and ``response_complete``, and ``on_response_complete``; lingering wraps the
``transport`` the protocol is given.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from typing import Any

__all__ = ["IDLE_TIMEOUT", "LINGER", "REQUEST_TIMEOUT", "protocol_class"]

IDLE_TIMEOUT = 10.0
"""Seconds a client may keep the board waiting without sending a byte (spec §11)."""

REQUEST_TIMEOUT = 60.0
"""Seconds one request's headers and body may take to arrive, from its first byte."""

LINGER = 2.0
"""Seconds a connection closed with a request body left unread goes on reading and dropping
what the client sends, so that the client reads the answer before the connection is reset."""


class _LingeringTransport:
    """The transport uvicorn's protocol sees: as the real one, except that :meth:`close` with a
    request body left unread half-closes and lingers (module docstring)."""

    def __init__(self, transport: asyncio.Transport, body_unread: Callable[[], bool], loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._body_unread = body_unread
        self._loop = loop
        self._closing = False
        self.lingering = False
        self._timer: asyncio.TimerHandle | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        real = self._transport
        if real.is_closing() or not self._body_unread() or not real.can_write_eof():
            real.close()
            return
        self.lingering = True
        real.write_eof()  # the answer already written goes first, then the FIN
        if not real.is_reading():
            real.resume_reading()
        self._timer = self._loop.call_later(LINGER, real.close)

    def abort(self) -> None:
        self._closing = True
        self.stop()
        self._transport.abort()

    def stop(self) -> None:
        """The connection is gone: no timer left behind."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _uvicorn_protocol() -> type[asyncio.Protocol]:
    """The protocol ``http="auto"`` picks: httptools when installed, else h11."""
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


def protocol_class(idle_timeout: float = IDLE_TIMEOUT, request_timeout: float = REQUEST_TIMEOUT, base: type[Any] | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (``base``, default as ``http="auto"``) with the watch described
    in the module docstring; pass it as ``uvicorn.Config(http=...)``."""
    if not (0 < idle_timeout < float("inf") and 0 < request_timeout < float("inf")):
        raise ValueError("the timeouts must be positive")
    parent: type[Any] = base if base is not None else _uvicorn_protocol()

    class WatchedConnection(parent):  # type: ignore[misc,valid-type]
        _watch: asyncio.TimerHandle | None = None
        _last_byte = 0.0
        _request_began: float | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            lingering = _LingeringTransport(transport, self._body_unread, self.loop)  # type: ignore[arg-type]
            super().connection_made(lingering)
            self._last_byte = self.loop.time()
            self._arm(idle_timeout)

        def _body_unread(self) -> bool:
            cycle = self.cycle
            return cycle is not None and bool(cycle.more_body)

        def data_received(self, data: bytes) -> None:
            if self.transport.lingering:
                return  # dropped: the connection is closing (module docstring)
            self._last_byte = now = self.loop.time()
            if self._request_began is None:
                self._request_began = now
            super().data_received(data)

        def on_response_complete(self) -> None:
            self._request_began = None  # the next byte begins the next request
            self._last_byte = self.loop.time()  # idle from the answer on
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self.transport.stop()
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None
            super().connection_lost(exc)

        def _arm(self, delay: float) -> None:
            self._watch = self.loop.call_later(max(delay, 0.01), self._look)

        def _look(self) -> None:
            self._watch = None
            if self.transport is None or self.transport.is_closing():
                return
            now = self.loop.time()
            cycle = self.cycle
            board_busy = cycle is not None and not cycle.response_complete and not cycle.more_body
            if board_busy or self.flow.read_paused:  # the client waits for the board, not the reverse
                self._last_byte = now
                if board_busy:
                    self._request_began = None
                self._arm(idle_timeout)
                return
            deadline = self._last_byte + idle_timeout
            if self._request_began is not None:
                deadline = min(deadline, self._request_began + request_timeout)
            if now >= deadline:
                self.transport.close()
                return
            self._arm(deadline - now)

    WatchedConnection.__name__ = WatchedConnection.__qualname__ = f"Watched{parent.__name__}"
    return WatchedConnection
