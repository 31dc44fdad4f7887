"""The private view's ASGI app (docs/guide.md "Your private view").

Every request passes two gates before any route runs (:class:`Gate`):

1. the ``Host`` header must be ``127.0.0.1:PORT`` or ``localhost:PORT`` (the port it listens
   on): a page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name,
   and is refused (421);
2. the token printed at start-up: ``GET /?token=T`` sets it as an ``HttpOnly``,
   ``SameSite=Strict`` cookie and redirects to ``/`` (so the token leaves the address bar);
   after that the cookie, or an ``Authorization: Bearer T`` header, is required (401 without
   one, 403 with a wrong one). Tokens are compared in constant time.

Routes: ``/`` the private page (HTML, no script), ``/api/view`` the same data as JSON (409 with
the reason when the workspace no longer reads as it did),
``/static/NAME`` the page's own assets (a name that leaves the folder is 404). Every response
forbids framing, caching, sniffing and referrers, and carries a content security policy that
allows nothing but this origin's styles and inline images.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from unveil.workspace.workspace import Workspace

__all__ = ["COOKIE", "Gate", "create_app"]

COOKIE = "unveil_ui_token"
STATIC = Path(str(resources.files("unveil.web") / "static"))
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; img-src data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'"),
    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"), (b"cross-origin-resource-policy", b"same-origin"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _reply(send: Send, status: int, body: bytes, kind: bytes = b"application/json", extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *HEADERS, *extra]})
    await send({"type": "http.response.body", "body": body})


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class Gate:
    """The Host-header check and the token (see the module docstring) around ``app``;
    ``port()`` is the port the server listens on (known once bound)."""

    def __init__(self, app: Any, token: str, port: Callable[[], int]):
        self.app, self.token, self.port = app, token, port

    def _allowed_host(self, scope: Scope) -> bool:
        hosts = [v for k, v in scope.get("headers", []) if k == b"host"]
        if len(hosts) != 1:
            return False
        port = self.port()
        return hosts[0].decode("latin-1").lower() in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _good(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode("utf-8", "replace"), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        if not self._allowed_host(scope):
            await _reply(send, 421, _error("this server answers only to 127.0.0.1 or localhost on its own port"))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            if scope["path"] == "/" and scope["method"] == "GET" and len(query["token"]) == 1 and self._good(query["token"][0]):
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()
                await _reply(send, 303, b"", b"text/plain", [(b"location", b"/"), (b"set-cookie", cookie)])
            else:
                await _reply(send, 403, _error("wrong token"))
            return
        presented = None
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        elif "cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:  # a malformed cookie header is no token
                jar = SimpleCookie()
            presented = jar[COOKIE].value if COOKIE in jar else None
        if presented is None:
            await _reply(send, 401, _error("open the URL with the token that 'unveil ui' printed"))
            return
        if not self._good(presented):
            await _reply(send, 403, _error("wrong token"))
            return
        await self.app(scope, receive, send)


def create_app(ws: Workspace, escrow_id: str, token: str, port: Callable[[], int]) -> Gate:
    """The private view of ``escrow_id`` in ``ws`` behind the :class:`Gate`."""
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from unveil.errors import UnveilError
    from unveil.workspace.private_view import private_page, private_view

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(UnveilError)
    def unreadable(_request: Any, exc: UnveilError) -> JSONResponse:
        """The workspace no longer reads as it did at start-up (an escrow gone, a database
        replaced): 409 with the reason, never a traceback."""
        return JSONResponse({"error": str(exc)}, status_code=409, headers=dict((k.decode(), v.decode()) for k, v in HEADERS))
    cache: dict[str, tuple[tuple[int, int], str]] = {}
    rendering = threading.Lock()  # one render at a time: a second request waits for the first's page

    def fingerprint() -> tuple[int, int]:
        stat = ws.db_path.stat()
        return stat.st_mtime_ns, stat.st_size

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        with rendering:
            now = fingerprint()
            held = cache.get("page")
            if held is None or held[0] != now:
                held = (now, private_page(ws, escrow_id))
                cache["page"] = held
        return HTMLResponse(held[1], headers=dict((k.decode(), v.decode()) for k, v in HEADERS))

    @app.get("/api/view")
    def view() -> JSONResponse:
        return JSONResponse(private_view(ws, escrow_id), headers=dict((k.decode(), v.decode()) for k, v in HEADERS))

    @app.get("/static/{name:path}")
    def static(name: str) -> Response:
        root = STATIC.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.suffix not in {".css", ".png", ".svg"}:
            raise HTTPException(status_code=404, detail="no such asset")
        kind = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}[path.suffix]
        return Response(path.read_bytes(), media_type=kind, headers=dict((k.decode(), v.decode()) for k, v in HEADERS))

    return Gate(app, token, port)
