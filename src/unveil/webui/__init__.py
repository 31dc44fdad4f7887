"""The board's public web page (spec §11, ``GET /`` and ``GET /static/{path}``): static files only.

``static/`` holds ``index.html``, ``app.js`` (the page; ``cells.js``: the cells and their H3
hierarchy; ``tables.js``: the tables; plain JavaScript modules, no build step), ``app.css`` and
``vendor/`` (Leaflet, h3-js, Natural Earth land, each with its licence; listed with their
SHA-256 in ``static/vendor/README.md``). The page reads the board's read-only
``/view/…`` endpoints and nothing else; it never asks another origin for anything.

:func:`assets` gives every file the board may serve, by its path under ``static/``, with its
media type: the whitelist the API serves from (nothing outside it can be asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["MEDIA_TYPES", "Asset", "assets", "static_root"]

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".md": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
"""Media type by file suffix (``LICENSE``, ``NOTICE``: no suffix, plain text)."""


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes and media type."""

    body: bytes
    media_type: str


def static_root() -> Traversable:
    """The ``static/`` directory of the installed package."""
    return files(__name__) / "static"


def _walk(node: Traversable, prefix: str) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for child in node.iterdir():
        path = f"{prefix}{child.name}"
        if child.is_dir():
            found.update(_walk(child, f"{path}/"))
        elif not child.name.startswith("."):
            suffix = child.name[child.name.rfind("."):] if "." in child.name else ""
            if suffix in MEDIA_TYPES:
                found[path] = Asset(child.read_bytes(), MEDIA_TYPES[suffix])
    return found


def assets() -> dict[str, Asset]:
    """Every servable file under ``static/`` by its relative path (``app.js``,
    ``vendor/leaflet/leaflet.js``, …), read once; files of an unknown type are left out."""
    return _walk(static_root(), "")
