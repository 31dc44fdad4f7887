"""``unveil serve``: open a board (key, parties, database) and run its API under uvicorn.

- :func:`open_board` loads the board's statement key (``WS/keys/statement.pem`` of a
  workspace made with ``unveil init --role board --name ORIGIN``), ``PARTIES.json`` and the
  storage (:func:`unveil.store.board_db.open_storage`, imported only here), checks that the key
  is the one registered for the board, and replays the log (:meth:`Log.open`).
- :func:`serve` binds the socket and listens on it itself (so a busy port is a clear error,
  port 0 picks a free one, and the URL is announced only once a client can connect), runs one
  uvicorn worker (:func:`uvicorn_config`) until SIGINT/SIGTERM, and closes the storage on the
  way out. Reveal files no entry names are purged once at start, and then before each upload
  is stored, ``purge_after`` seconds after their upload (spec §11: one hour by default).
- :func:`uvicorn_config`: the ``asyncio`` loop (uvloop when installed), ``log_level=
  "warning"``, and connections closed when idle for ``idle_timeout`` seconds or slower than
  ``request_timeout`` per request (:mod:`unveil.api.connections`).
"""

from __future__ import annotations

import math
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from unveil.api.board import PURGE_AFTER
from unveil.api.connections import IDLE_TIMEOUT, REQUEST_TIMEOUT, protocol_class
from unveil.board.log import Log
from unveil.board.parties import read_parties
from unveil.core.keys import STATEMENT_KEY
from unveil.errors import MalformedInputError
from unveil.store.keystore import read_private

__all__ = ["open_board", "serve", "uvicorn_config"]

LISTEN_BACKLOG = 2048
"""Pending connections the socket holds (uvicorn's default backlog)."""

Announce = Callable[[str, int], None]
"""Called once the socket listens: ``(url, log size)``."""


def open_board(db_url: str, origin: str, key_path: str | Path, parties_path: str | Path, *, clock_offset: int = 0) -> tuple[Log, Any]:
    """``(log, storage)``; the caller closes the storage. ``clock_offset``: seconds the board's
    clock runs ahead of this machine's (exercises only; the board's operator sets its clock
    anyway, so it gives nobody a power they lack). Raises :class:`MalformedInputError`
    for an unreadable key, parties file or database URL, or a key that is not the board's;
    :class:`~unveil.errors.VerificationError` if the stored log does not replay."""
    key = read_private(Path(key_path), origin, STATEMENT_KEY)
    parties_file = Path(parties_path)
    try:
        data = parties_file.read_bytes()
    except OSError as exc:
        raise MalformedInputError(f"cannot read the file: {exc.strerror}", source=str(parties_file)) from None
    parties = read_parties(data, source=str(parties_file))
    board = parties.board
    if board.name != origin:
        raise MalformedInputError(f"the board is registered as {board.name!r}, not the origin {origin!r}", source=str(parties_file))
    if board.vkey != key.vkey:
        raise MalformedInputError(
            f"this key ({key.vkey}) is not the board's registered key ({board.vkey} in {parties_file})", source=str(key_path)
        )
    storage = _open_storage(db_url)
    try:
        log = Log.open(storage, origin, key, parties, now=lambda: int(time.time()) + clock_offset)
    except BaseException:
        storage.close()
        raise
    return log, storage


def _open_storage(db_url: str) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from unveil.store.board_db import open_storage

    try:
        return open_storage(db_url)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MalformedInputError(f"cannot open the board database: {detail}", source="--db") from None


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            # Listening before the address is announced: a client that connects at once waits
            # in the backlog until uvicorn accepts, instead of being refused.
            sock.listen(LISTEN_BACKLOG)
        except BaseException:
            sock.close()
            raise
    except OSError as exc:
        raise MalformedInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", where="--host/--port") from None
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


def uvicorn_config(app: Any, *, idle_timeout: float = IDLE_TIMEOUT, request_timeout: float = REQUEST_TIMEOUT, loop: str = "auto") -> Any:
    """The ``uvicorn.Config`` the board runs ``app`` under (see the module docstring)."""
    import uvicorn

    return uvicorn.Config(
        app, loop=loop, http=protocol_class(idle_timeout, request_timeout), timeout_keep_alive=max(1, math.ceil(idle_timeout)),  # never before the watch
        workers=1, log_level="warning", lifespan="on", access_log=False, proxy_headers=False,
    )


def serve(
    db_url: str,
    origin: str,
    key_path: str | Path,
    parties_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    request_timeout: float = REQUEST_TIMEOUT,
    purge_after: int = PURGE_AFTER,
    announce: Announce | None = None,
    clock_offset: int = 0,
) -> None:
    """Run the board's API until interrupted (see the module docstring); ``clock_offset``: see
    :func:`open_board`."""
    import uvicorn

    from unveil.api.app import create_app

    for name, seconds in (("--idle-timeout", idle_timeout), ("--request-timeout", request_timeout)):
        if not (math.isfinite(seconds) and seconds > 0):
            raise MalformedInputError(f"{seconds} is not a positive number of seconds", where=name)
    if purge_after < 0:
        raise MalformedInputError("the purge period must be 0 or more seconds", where="--purge-after")
    log, storage = open_board(db_url, origin, key_path, parties_path, clock_offset=clock_offset)
    try:
        log.purge_bundles(purge_after)
        sock = _listen(host, port)
        try:
            app = create_app(log, purge_after=purge_after)
            config = uvicorn_config(app, idle_timeout=idle_timeout, request_timeout=request_timeout)
            server = uvicorn.Server(config)
            if announce is not None:
                announce(_url(sock), log.size)
            with _stopped_by_signals():
                server.run(sockets=[sock])
        finally:
            sock.close()
    finally:
        storage.close()


class _Stop(Exception):
    """SIGTERM, re-raised by uvicorn after its graceful shutdown."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again with the
    previous handlers back; here that second delivery is the clean end of :func:`serve`."""

    def stop(_signum: int, _frame: object) -> None:
        raise _Stop

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        yield
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
