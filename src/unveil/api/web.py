"""The board's public page (spec §11): ``GET /`` and ``GET /static/{path}``, read-only.

The files come from :mod:`unveil.webui` (its whitelist, read once at start-up: a path not in it
is 404 ``not-found``, so nothing outside ``static/`` can be asked for, whatever the path spells).
Every answer carries strict headers (:data:`PAGE_HEADERS`): a Content-Security-Policy that lets
the page load scripts, styles, images and data from the board's own origin only (no inline
script or style, no frames, no forms), ``nosniff``, no referrer. Answers carry an ``ETag`` (the
file's SHA-256) and ``Cache-Control: no-cache``: a browser revalidates and gets 304 when the
file has not changed. Text files are compressed once a process and sent gzipped to a browser
that accepts it (``Content-Encoding: gzip``, its own ``ETag``; the page's 0.84 MB become 0.20 MB).
The routes are not in the OpenAPI document (it describes the JSON API).
"""

from __future__ import annotations

import functools
import gzip
import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from unveil.core.reasons import Reason
from unveil.errors import BoardRefused
from unveil.webui import Asset, assets

__all__ = ["CONTENT_SECURITY_POLICY", "PAGE_HEADERS", "web_router"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The page's policy: its own origin only, no inline script or style, not framed."""

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
"""Headers of every page and static answer."""


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


@functools.cache
def _served() -> tuple[dict[str, Asset], dict[str, str], dict[str, bytes]]:
    """The files, their SHA-256 and their gzipped bytes: read and compressed once a process."""
    files = assets()
    etags = {path: hashlib.sha256(asset.body).hexdigest() for path, asset in files.items()}
    zipped = {path: gzip.compress(asset.body, compresslevel=6, mtime=0) for path, asset in files.items() if asset.media_type != "image/png"}
    return files, etags, zipped


def web_router() -> APIRouter:
    """The page's routes over the webui package's files."""
    files, etags, zipped = _served()
    router = APIRouter()

    def answer(request: Request, path: str) -> Response:
        asset: Asset | None = files.get(path)
        if asset is None:
            raise BoardRefused(Reason.NOT_FOUND, "no such file on the board's page")
        gzipped = path in zipped and _accepts_gzip(request)
        etag = f'"{etags[path]}{"-gzip" if gzipped else ""}"'
        headers = {**PAGE_HEADERS, "ETag": etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if gzipped:
            return Response(zipped[path], media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    @router.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        return answer(request, "index.html")

    @router.get("/static/{path:path}", include_in_schema=False)
    async def static(request: Request, path: str) -> Response:
        return answer(request, path)

    return router
