"""``unveil ui``: a party's private view behind a token and a Host-header check, on loopback
only; and the public board (``unveil serve``) serving nothing private."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_report import SCRIPT, demo, small  # noqa: F401  (fixtures)
from unveil.web.app import COOKIE, create_app
from unveil.workspace.workspace import open_workspace

TOKEN = "t0ken-" + "x" * 40
PORT = 5555


def _call(app: Any, path: str, *, host: str | None = f"127.0.0.1:{PORT}", headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
          query: str = "", method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One raw ASGI request (no client normalises the path): status, headers, body."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    if host is not None:
        raw.insert(0, (b"host", host.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "", "headers": raw,
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", PORT)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def _app(ws_path: Path, escrow_id: str | None = None) -> Any:
    from unveil.workspace.report import choose_escrow

    ws = open_workspace(ws_path)
    return create_app(ws, choose_escrow(ws, escrow_id), TOKEN, lambda: PORT)


BEARER = [("authorization", f"Bearer {TOKEN}")]


def test_the_token_is_required_and_set_as_a_strict_cookie(small: dict[str, Any]) -> None:  # noqa: F811
    app = _app(small["ws"])
    assert _call(app, "/")[0] == 401
    assert _call(app, "/api/view")[0] == 401
    for headers in ([("authorization", "Bearer wrong")], [("cookie", f"{COOKIE}=wrong")], [("authorization", f"Bearer {TOKEN}x")],
                    [("cookie", f"{COOKIE}={TOKEN[:-1]}")], [("authorization", "Bearer ")]):
        status, _, body = _call(app, "/api/view", headers=headers)
        assert status in (401, 403) and TOKEN.encode() not in body
    assert _call(app, "/", query="token=wrong")[0] == 403
    assert _call(app, "/api/view", query=f"token={TOKEN}")[0] == 403  # the token in a URL only opens the page
    status, headers, _ = _call(app, "/", query=f"token={TOKEN}")
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, headers, body = _call(app, "/", headers=[("cookie", f"other=1; {COOKIE}={TOKEN}")])
    assert status == 200 and b"Your whole declaration" in body
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert _call(app, "/", headers=[("cookie", "%%% not a cookie ;;; =")])[0] == 401


@pytest.mark.parametrize("host", ["evil.example:5555", "127.0.0.1:5556", "localhost", "127.0.0.1", "127.0.0.1.evil.example:5555",
                                  "[::1]:5555", None, ""])
def test_a_foreign_host_header_is_refused_even_with_the_token(small: dict[str, Any], host: str | None) -> None:  # noqa: F811
    """DNS rebinding: a page of another site that resolves to 127.0.0.1 still names its own host."""
    app = _app(small["ws"])
    status, _, body = _call(app, "/", host=host, headers=BEARER)
    assert status == 421 and b"declaration" not in body
    assert _call(app, "/", host=f"127.0.0.1:{PORT}", headers=[*BEARER, ("host", "evil.example")])[0] == 421  # two Host headers
    assert _call(app, "/", host=f"LOCALHOST:{PORT}", headers=BEARER)[0] == 200


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/../../errors.py",
                                  "/static//etc/passwd", "/static/../static/../__init__.py", "/static/", "/static/nope.css",
                                  "/static/" + "a/" * 2000 + "x.css"])
def test_static_routes_serve_only_their_own_assets(small: dict[str, Any], path: str) -> None:  # noqa: F811
    app = _app(small["ws"])
    status, _, body = _call(app, path, headers=BEARER)
    assert status == 404 and b"import" not in body and b"root:" not in body
    status, headers, body = _call(app, "/static/private.css", headers=BEARER)
    assert status == 200 and headers["content-type"].startswith("text/css") and b".private" in body
    assert _call(app, "/static/private.css")[0] == 401


def test_the_host_sees_its_sealed_declaration_and_the_page_escapes_it(small: dict[str, Any]) -> None:  # noqa: F811
    app = _app(small["ws"])
    status, _, body = _call(app, "/api/view", headers=BEARER)
    view = json.loads(body)
    assert status == 200 and view["party"]["role"] == "host"
    sealed = {s["name"] for s in view["private"]["declaration"] if s["sealed"]}
    assert sealed == {"Sealed Secret Plant"} and view["private"]["obligations"] == []
    status, _, page = _call(app, "/", headers=BEARER)
    html = page.decode()
    assert "Sealed Secret Plant" in html and "&lt;script&gt;" in html and SCRIPT not in html
    assert "your declared sites still sealed after each phase are drawn as hollow circles" in html
    from unveil.workspace.report import gather
    from unveil.workspace.report_render import render_html

    report_html, _ = render_html(gather(open_workspace(small["ws"]), None))
    maps = re.findall(r'src="(data:image/png;base64,[^"]+)"', html)
    assert maps and re.findall(r'src="(data:image/png;base64,[^"]+)"', report_html) != maps  # the sealed sites are drawn in private only
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#|/static/)', html) and "<script" not in html


def test_the_inspector_sees_its_intelligence_truth_tests_and_confidence(demo: Path) -> None:  # noqa: F811
    app = _app(demo / "workspaces" / "inspector")
    status, _, body = _call(app, "/api/view", headers=BEARER)
    view = json.loads(body)
    assert status == 200 and view["private"]["declaration"] is None
    inspector = view["inspector"]
    assert len(inspector["suspects"]) == 8 and [t["phase"] for t in inspector["truth"]] == ["phase-1", "phase-2", "phase-3", "final"]
    assert len(inspector["confidence"]) == 4 and inspector["suspect_inspections"]
    assert {o["party"] for o in view["private"]["obligations"]} == {"Inspectorate"}
    html = _call(app, "/", headers=BEARER)[2].decode()
    assert "Your sealed intelligence" in html and "Truth test per phase" in html and "Confidence per phase" in html


def test_ui_refuses_an_escrow_the_workspace_does_not_hold(small: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from tests.workflow_fixtures import cli

    code, out = cli(capsys, "ui", "--workspace", str(small["ws"]), "--escrow-id", "other", "--port", "0")
    assert code == 2 and "no escrow 'other'" in out["error"] and "test-1" in out["error"]


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_ui_listens_on_loopback_only(small: dict[str, Any]) -> None:  # noqa: F811
    server = subprocess.Popen([sys.executable, "-m", "unveil.cli.main", "ui", "--workspace", str(small["ws"]), "--port", "0", "--json"],
                              stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(server.stdout.readline())  # type: ignore[union-attr]  # stdout is a pipe
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{40,})", started["url"])
        assert match is not None and started["escrow_id"] == "test-1"
        port = int(match.group(1))
        listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:] if line.split()[3] == "0A"]
        ours = [local for _, local, *_ in listening if int(local.split(":")[1], 16) == port]
        assert ours == ["0100007F:" + f"{port:04X}"]  # 127.0.0.1, and nothing else on that port
        assert not any(int(line[1].split(":")[1], 16) == port for line in
                       (row.split() for row in Path("/proc/net/tcp6").read_text().splitlines()[1:]) if line[3] == "0A")
        import httpx

        response = httpx.get(started["url"], follow_redirects=True)
        assert response.status_code == 200 and "Your whole declaration" in response.text
        other = _non_loopback_address()
        if other is not None:
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://{other}:{port}/", timeout=3)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_public_board_serves_nothing_private(demo: Path) -> None:  # noqa: F811
    """Every GET route of `unveil serve` over the demo's board: no master secret, no private key,
    no suspect the inspector kept sealed, no local inspection record."""
    from starlette.testclient import TestClient

    from unveil.api.app import create_app as board_app
    from unveil.api.serve import open_board

    secrets: list[str] = []
    for name in ("host", "inspector"):
        db = sqlite3.connect(demo / "workspaces" / name / "workspace.db")
        secrets += [bytes(r).hex() for (r,) in db.execute("SELECT master_secret FROM secrets")]
        for pem in (demo / "workspaces" / name / "keys").glob("*.pem"):
            secrets += [line for line in pem.read_text().splitlines() if line and not line.startswith("-----")]
    inspector = sqlite3.connect(demo / "workspaces" / "inspector" / "workspace.db")
    suspects = {row[0] for row in inspector.execute("SELECT id FROM suspects")}
    opened_intel = {s["id"] for (text,) in inspector.execute("SELECT content_json FROM opened WHERE escrow_id LIKE '%-intel'")
                    for s in json.loads(text).get("suspects", [])}
    sealed = sorted(suspects - opened_intel)
    assert len(secrets) >= 6 and len(sealed) >= 4 and opened_intel
    local_details = [detail for (detail,) in inspector.execute("SELECT DISTINCT detail FROM inspections") if len(detail) > 20]

    origin = json.loads((demo / "parties.json").read_text())[0]["name"]
    log, storage = open_board(f"sqlite:///{demo / 'board.db'}", origin, demo / "workspaces" / "board" / "keys" / "statement.pem",
                              demo / "parties.json")
    try:
        app = board_app(log)
        with TestClient(app) as client:
            size = client.get("/healthz").json()["size"]
            entries = [json.loads(e) if isinstance(e, str) else e for e in client.get(f"/entries?start=0&end={size}").json()["entries"]]
            text_entries = json.dumps(entries)
            shas = set(re.findall(r'"(?:sha256|cells_sha256)": "([0-9a-f]{64})"', text_entries))
            escrows = set(re.findall(r'"escrow_id": "([\w.-]+)"', text_entries))
            fill = {"sha256": sorted(shas), "index": [str(i) for i in range(size)], "escrow_id": sorted(escrows)}
            fetched, seen = 0, []
            for route in app.routes:
                if "GET" not in getattr(route, "methods", set()):
                    continue
                paths = [route.path]
                for param in re.findall(r"{(\w+)(?::\w+)?}", route.path):
                    paths = [re.sub(r"{" + param + r"(?::\w+)?}", value, p) for p in paths for value in fill.get(param, ["x"])]
                for path in paths:
                    body = client.get(path, params={"start": 0, "end": size, "size": size, "first": 0, "second": size, "index": 0}).text
                    fetched += 1
                    seen.append(body)
                    leaked = [s for s in secrets if s in body] + [s for s in sealed if f'"{s}"' in body] + [d for d in local_details if d in body]
                    assert leaked == [], f"GET {path} serves private data"
            assert fetched > size  # every entry, every file, every route
            assert all(any(f'"{s}"' in body for body in seen) for s in opened_intel)  # the probe finds what the board does publish
    finally:
        storage.close()


def test_the_private_page_in_chromium_opens_on_the_last_phase_and_switches_phases(demo: Path) -> None:  # noqa: F811
    """The token URL sets the cookie and leaves the address bar clean; the timeline shows one
    map at a time (no script: the page has none); nothing is asked of another origin."""
    from playwright.sync_api import sync_playwright

    from tests.web_fixtures import CHROMIUM_ARGS, chromium_or_skip

    browser_path = chromium_or_skip()
    server = subprocess.Popen([sys.executable, "-m", "unveil.cli.main", "ui", "--workspace", str(demo / "workspaces" / "inspector"),
                               "--json"], stdout=subprocess.PIPE, text=True)
    artifacts = Path(__file__).resolve().parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        url = json.loads(server.stdout.readline())["url"]  # type: ignore[union-attr]  # stdout is a pipe
        origin = url.split("/?")[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                requested: list[str] = []
                page.on("request", lambda r: requested.append(r.url))
                page.goto(url)
                assert page.url == origin + "/" and "token" not in page.url
                assert page.locator("text=Your sealed intelligence").is_visible()
                visible = [page.locator(f".timeline .step-{i}").is_visible() for i in range(4)]
                assert visible == [False, False, False, True]  # the page opens on the last phase
                page.click("label[for=step-0]")
                assert [page.locator(f".timeline .step-{i}").is_visible() for i in range(4)] == [True, False, False, False]
                assert page.locator(".timeline .step-0").get_attribute("data-phase") == "phase-1"
                page.locator("#maps").scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / "private-view.png"))
                assert all(r.startswith(origin + "/") or r.startswith("data:") for r in requested), requested
                other = browser.new_page()
                response = other.goto(origin + "/")  # a fresh context, no cookie
                assert response is not None and response.status == 401
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_ui_on_a_port_in_use_is_exit_2(small: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from tests.workflow_fixtures import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out = cli(capsys, "ui", "--workspace", str(small["ws"]), "--port", str(port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in out["error"] and "--port" in out["error"]


def test_a_workspace_that_no_longer_holds_the_escrow_is_409_not_a_traceback(small: dict[str, Any]) -> None:  # noqa: F811
    app = create_app(open_workspace(small["ws"]), "gone-escrow", TOKEN, lambda: PORT)
    for path in ("/", "/api/view"):
        status, headers, body = _call(app, path, headers=BEARER)
        assert status == 409 and "no escrow 'gone-escrow'" in json.loads(body)["error"]
        assert headers["x-frame-options"] == "DENY"
