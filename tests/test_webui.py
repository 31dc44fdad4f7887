"""The board's public page over HTTP (spec §11 ``GET /``, ``GET /static/{path}``): its files,
its strict headers, hostile paths, and the vendored libraries (each listed with its version,
source, licence and SHA-256 in ``static/vendor/README.md``). The page in a real browser:
tests/test_web_board.py."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.test_api import seeded_log
from unveil.api.app import create_app
from unveil.api.web import CONTENT_SECURITY_POLICY
from unveil.webui import assets, static_root

REPO = Path(__file__).resolve().parent.parent
STATIC = REPO / "src" / "unveil" / "webui" / "static"
VENDOR = STATIC / "vendor"
OWN_FILES = ["index.html", "app.js", "cells.js", "tables.js", "app.css", "favicon.svg"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    log, _ = seeded_log()
    return TestClient(create_app(log))


def test_the_page_is_served_at_the_root_with_strict_headers(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.content == (STATIC / "index.html").read_bytes()
    csp = answer.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp and "http" not in csp and "*" not in csp and "data:" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(("path", "media_type"), [
    ("app.js", "text/javascript; charset=utf-8"),
    ("app.css", "text/css; charset=utf-8"),
    ("vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8"),
    ("vendor/h3-js/h3-js.es.js", "text/javascript; charset=utf-8"),
    ("vendor/natural-earth/land-110m.geojson", "application/geo+json"),
    ("vendor/leaflet/images/layers.png", "image/png"),
    ("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
])
def test_static_files_are_served_with_their_type_and_revalidated(client: TestClient, path: str, media_type: str) -> None:
    answer = client.get(f"/static/{path}", headers={"Accept-Encoding": "identity"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == media_type
    assert answer.content == (STATIC / path).read_bytes()
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    etag = answer.headers["etag"]
    assert etag == f'"{hashlib.sha256(answer.content).hexdigest()}"'
    again = client.get(f"/static/{path}", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert client.get(f"/static/{path}", headers={"If-None-Match": '"0"', "Accept-Encoding": "identity"}).status_code == 200


@pytest.mark.parametrize(("accept", "zipped"), [("gzip", True), ("br, gzip;q=0.8", True), ("GZIP", True), ("gzip;q=0", False),
                                                ("identity", False), ("", False), ("deflate, br", False)])
def test_text_files_are_gzipped_for_a_browser_that_accepts_it(client: TestClient, accept: str, zipped: bool) -> None:

    raw = client.get("/static/vendor/h3-js/h3-js.es.js", headers={"Accept-Encoding": accept})
    body = (STATIC / "vendor/h3-js/h3-js.es.js").read_bytes()
    assert raw.headers.get("content-encoding") == ("gzip" if zipped else None)
    assert raw.headers["vary"] == "Accept-Encoding"
    assert raw.content == body  # httpx decodes what it was sent
    assert raw.headers["etag"].endswith('-gzip"') == zipped
    if zipped:
        assert int(raw.headers["content-length"]) < len(body) // 3
        assert client.get("/static/vendor/h3-js/h3-js.es.js", headers={"Accept-Encoding": accept, "If-None-Match": raw.headers["etag"]}).status_code == 304
    png = client.get("/static/vendor/leaflet/images/layers.png", headers={"Accept-Encoding": accept})
    assert "content-encoding" not in png.headers  # already compressed


def test_the_package_ships_the_page() -> None:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["unveil"]
    assert "webui/static/**/*" in data


@pytest.mark.parametrize("path", [
    "/static/../pyproject.toml",
    "/static/%2e%2e/%2e%2e/api/app.py",
    "/static/..%2f..%2fapi%2fapp.py",
    "/static/vendor/../../__init__.py",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/vendor",
    "/static/vendor/",
    "/static/",
    "/static/app.js%00.png",
    "/static/app.js/",
    "/static/APP.JS",
    "/static/vendor\\leaflet\\leaflet.js",
    "/static/" + "a/" * 2000 + "app.js",
    "/static/.hidden",
    "/index.html",
    "/static/__init__.py",
])
def test_hostile_paths_are_404_and_reveal_nothing(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404, answer.text[:200]
    assert answer.json()["reason"] == "not-found"
    assert b"import" not in answer.content and b"root:" not in answer.content


def test_the_page_is_read_only(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, "/").status_code == 405
        assert client.request(method, "/static/app.js").status_code == 405


def test_the_page_is_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, Any]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def test_the_page_has_no_inline_script_or_style_and_names_no_other_origin() -> None:
    markup = _Markup()
    markup.feed((STATIC / "index.html").read_text())
    tags = [tag for tag, _ in markup.found]
    assert "style" not in tags and markup.script_text == ""
    assert all("style" not in attrs and not any(a.startswith("on") for a in attrs) for _, attrs in markup.found)
    linked = [attrs.get("src") or attrs.get("href") for tag, attrs in markup.found if tag in ("script", "link")]
    assert linked and all(url and url.startswith("static/") for url in linked)
    served = assets()
    assert all(url.removeprefix("static/") in served for url in linked if url)
    for name in OWN_FILES:
        text = (STATIC / name).read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), f"{name} names another origin"
        assert "innerHTML" not in text and "eval(" not in text and "new Function" not in text


def test_every_served_file_is_in_the_package_and_nothing_else() -> None:
    served = assets()
    on_disk = {str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert set(served) == on_disk  # every file has a known type, so the package serves all of them
    assert served["index.html"].media_type.startswith("text/html")
    assert static_root().joinpath("index.html").is_file()


def _vendor_table() -> list[dict[str, str]]:
    rows = []
    for line in (VENDOR / "README.md").read_text().splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[0-9a-f]{64}", cells[5]):
            rows.append(dict(zip(["file", "library", "version", "source", "licence", "sha256"], cells, strict=True)))
    return rows


def test_vendored_files_match_their_listed_hashes_and_every_library_has_its_licence() -> None:
    rows = _vendor_table()
    listed = {row["file"] for row in rows}
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "README.md"}
    assert listed == on_disk, f"unlisted: {on_disk - listed}; missing: {listed - on_disk}"
    for row in rows:
        assert hashlib.sha256((VENDOR / row["file"]).read_bytes()).hexdigest() == row["sha256"], row["file"]
        assert row["source"].startswith("https://") and row["licence"]
    for library in {p.relative_to(VENDOR).parts[0] for p in VENDOR.rglob("*") if p.is_file() and p.name != "README.md"}:
        assert any(p.name.startswith("LICENSE") for p in (VENDOR / library).iterdir()), f"{library} has no licence file"


def _land_module() -> Any:
    spec = importlib.util.spec_from_file_location("land_geojson", REPO / "tools" / "land_geojson.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_land_conversion_decodes_delta_arcs_and_reversed_arcs() -> None:
    land = _land_module()
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
        "arcs": [[[0, 0], [2, 0], [0, 4]], [[2, 4], [-2, 0], [0, -4]]],  # (10,20)→(11,20)→(11,21); (11,21)→(10,21)→(10,20)
        "objects": {"land": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, 1]]},
            {"type": "MultiPolygon", "arcs": [[[~1, ~0]]]},
        ]}},
    }
    doc = land.to_geojson(topology)
    polygons = doc["features"][0]["geometry"]["coordinates"]
    assert polygons[0] == [[[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]]]
    assert polygons[1] == [[[10, 20], [10, 21], [11, 21], [11, 20], [10, 20]]]  # the same ring, reversed


def test_the_vendored_land_is_closed_rings_in_range() -> None:
    import json

    doc = json.loads((VENDOR / "natural-earth" / "land-110m.geojson").read_text())
    polygons = doc["features"][0]["geometry"]["coordinates"]
    assert len(polygons) > 100
    for polygon in polygons:
        for ring in polygon:
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)
