"""``unveil ui``: serve a party's private view (:mod:`.app`) on 127.0.0.1 only, until
interrupted. The address is not an option: the view holds what the workspace keeps private."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from unveil.errors import MalformedInputError

__all__ = ["LOOPBACK", "listen", "serve_private"]

LOOPBACK = "127.0.0.1"


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port); exit 2 when it cannot be."""
    if not 0 <= port <= 65535:
        raise MalformedInputError(f"{port} is not a port (0-65535)", where="--port")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise MalformedInputError(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror or exc}", where="--port") from None
    return sock


def serve_private(workspace: Path, escrow_id: str | None, port: int, announce: Callable[[str, str], None]) -> None:
    """Open the workspace, choose the escrow (as ``unveil report`` does), bind 127.0.0.1, call
    ``announce(url_with_token, escrow_id)`` and serve until interrupted."""
    import uvicorn

    from unveil.web.app import create_app
    from unveil.workspace.report import choose_escrow
    from unveil.workspace.workspace import open_workspace

    ws = open_workspace(workspace)
    chosen = choose_escrow(ws, escrow_id)
    token = secrets.token_urlsafe(32)
    sock = listen(port)
    try:
        bound = sock.getsockname()[1]
        app = create_app(ws, chosen, token, lambda: bound)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False, lifespan="off",
                                               server_header=False, date_header=False))
        announce(f"http://{LOOPBACK}:{bound}/?token={token}", chosen)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
    finally:
        sock.close()
