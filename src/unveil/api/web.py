"""The board's public page (spec §11): ``GET /`` and ``GET /static/{path}``, read-only.

The files come from :mod:`unveil.webui` (its whitelist, read once at start-up: a path not in it
is 404 ``not-found``, so nothing outside ``static/`` can be asked for, whatever the path spells).
Every answer carries strict headers (:data:`PAGE_HEADERS`): a Content-Security-Policy that lets
the page load scripts, styles, images and data from the board's own origin only (no inline
script or style, no frames, no forms), ``nosniff``, no referrer. Answers carry an ``ETag`` (the
file's SHA-256) and ``Cache-Control: no-cache``: a browser revalidates and gets 304 when the
file has not changed. The routes are not in the OpenAPI document (it describes the JSON API).
"""

from __future__ import annotations

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


def web_router() -> APIRouter:
    """The page's routes over the webui package's files (read now, once)."""
    files = assets()
    etags = {path: f'"{hashlib.sha256(asset.body).hexdigest()}"' for path, asset in files.items()}
    router = APIRouter()

    def answer(request: Request, path: str) -> Response:
        asset: Asset | None = files.get(path)
        if asset is None:
            raise BoardRefused(Reason.NOT_FOUND, "no such file on the board's page")
        headers = {**PAGE_HEADERS, "ETag": etags[path]}
        if request.headers.get("if-none-match") == etags[path]:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    @router.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        return answer(request, "index.html")

    @router.get("/static/{path:path}", include_in_schema=False)
    async def static(request: Request, path: str) -> Response:
        return answer(request, path)

    return router
