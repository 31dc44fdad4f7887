"""Connections that end (spec §11, :mod:`unveil.api.connections`), against a live uvicorn with
the board's configuration, for both HTTP protocols uvicorn has (httptools and h11): a client
that connects and says nothing, stops mid-headers or mid-body, or trickles its request a byte
at a time is disconnected; one that the board keeps busy, or that talks at a normal pace, is
not; ``unveil serve --idle-timeout`` sets the limit."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tests.board_fixtures import ORIGIN
from tests.test_api import board_files, new_log, publish, publish_now  # noqa: F401  (board_files: a fixture)
from unveil.api.app import create_app
from unveil.api.connections import LINGER, protocol_class
from unveil.api.serve import uvicorn_config

IDLE = 1.0
REQUEST = 3.0


class Live:
    """The board's app under uvicorn with the board's config, on a free port, in a thread."""

    def __init__(self, app: Any, base: type[Any] | None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn_config(app, idle_timeout=IDLE, request_timeout=REQUEST, loop="asyncio")
        if base is not None:
            config.http = protocol_class(IDLE, REQUEST, base)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Live:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def connect(self) -> socket.socket:
        client = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        client.settimeout(10)
        return client


@pytest.fixture(params=[HttpToolsProtocol, H11Protocol], ids=["httptools", "h11"])
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    log, _ = new_log()
    with Live(create_app(log), request.param) as server:
        yield server


def closed_after(client: socket.socket, send: list[bytes] = (), pause: float = 0.0) -> tuple[float, bytes]:  # type: ignore[assignment]
    """Send each of ``send`` (``pause`` seconds apart, while the server lets it), then read until
    the server closes: (seconds from the first send to the close, what the server answered)."""
    started = time.monotonic()
    answer = b""
    try:
        for chunk in send:
            client.sendall(chunk)
            time.sleep(pause)
        while True:
            data = client.recv(65536)
            if not data:
                break
            answer += data
    except (BrokenPipeError, ConnectionResetError):
        pass
    return time.monotonic() - started, answer


def read_response(client: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length (its status line, headers and body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += client.recv(65536)
    assert len(body) == length
    return head + b"\r\n\r\n" + body


def test_a_client_that_says_nothing_is_disconnected(live: Live) -> None:
    with live.connect() as client:
        seconds, answer = closed_after(client)
    assert answer == b"" and IDLE * 0.8 <= seconds < IDLE + 2


def test_a_client_that_stops_mid_headers_is_disconnected(live: Live) -> None:
    with live.connect() as client:
        seconds, answer = closed_after(client, [b"POST /entries HTTP/1.1\r\nHost: x\r\n"])
    assert answer == b"" and seconds < IDLE + 2


def test_a_client_that_stops_mid_body_is_disconnected_and_nothing_is_logged(live: Live) -> None:
    body = json.dumps(publish()).encode()
    head = b"POST /entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with live.connect() as client:
        seconds, answer = closed_after(client, [head + body[:100]])
    assert answer == b"" and seconds < IDLE + 2
    assert httpx.get(f"http://127.0.0.1:{live.port}/healthz").json()["size"] == 0


def test_a_trickling_client_is_disconnected_at_the_request_timeout(live: Live) -> None:
    body = json.dumps(publish()).encode()
    head = b"POST /entries HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    request = head + body
    with live.connect() as client:
        seconds, answer = closed_after(client, [request[i : i + 1] for i in range(len(request))], pause=IDLE / 5)
    assert answer == b"" and REQUEST * 0.8 <= seconds < REQUEST + 2  # never idle, but too slow


def test_a_patient_keep_alive_client_is_served_then_let_go(live: Live) -> None:
    body = json.dumps(publish()).encode()
    request = b"POST /entries HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with live.connect() as client:
        for expected in (b"201", b"200"):  # two requests on one connection, each in two parts, under the idle limit
            client.sendall(request[:50])
            time.sleep(IDLE / 2)
            client.sendall(request[50:])
            assert read_response(client).split(b" ")[1] == expected
            time.sleep(IDLE / 2)
        seconds, _ = closed_after(client)  # then idle: let go
    assert seconds < IDLE + 2


def test_a_client_waiting_for_a_slow_board_is_not_idle() -> None:
    log, _ = new_log()
    submit_many = log.submit_many

    def slow(docs: Any) -> Any:
        time.sleep(3 * IDLE)
        return submit_many(docs)

    log.submit_many = slow  # type: ignore[method-assign]
    with Live(create_app(log), None) as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
        answer = http.post("/entries", json=publish())
    assert answer.status_code == 201 and answer.json()["index"] == 0


def test_a_refused_oversized_body_gets_its_answer_not_a_reset(live: Live) -> None:
    """The board answers 413 before reading a body it will not take and closes lingering: the
    client, still sending, reads the whole answer (closed at once, the unread bytes make the
    kernel reset the connection, which destroys the answer half the time on loopback)."""
    refused = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{live.port}", timeout=30) as http:
        for _ in range(20):
            declared = http.post("/entries", content=b" " * (8 << 20))
            chunked = http.post("/entries", content=(b" " * 65536 for _ in range(64)))
            refused += [declared.json()["reason"], chunked.json()["reason"]] == ["entry-too-large"] * 2
    assert refused == 20


def test_a_client_that_goes_on_sending_after_a_refusal_is_let_go(live: Live) -> None:
    """Lingering is bounded: a client that never stops sending is closed after LINGER seconds."""
    head = b"POST /entries HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (1 << 40)
    with live.connect() as client:
        client.sendall(head)
        answer, started = b"", time.monotonic()
        try:
            while time.monotonic() - started < 30:
                client.sendall(b" " * 65536)
                client.setblocking(False)
                try:
                    answer += client.recv(65536)
                except BlockingIOError:
                    pass
                client.setblocking(True)
        except (BrokenPipeError, ConnectionResetError):
            pass
        seconds = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413") and seconds < LINGER + 3


def test_unveil_serve_takes_idle_timeout(tmp_path: Path, board_files: tuple[Path, Path]) -> None:  # noqa: F811
    key, parties = board_files
    args = [sys.executable, "-m", "unveil.cli.main", "serve", "--db", f"sqlite:///{tmp_path / 'board.db'}", "--origin", ORIGIN,
            "--key", str(key), "--parties", str(parties), "--port", "0", "--json", "--idle-timeout", "1", "--purge-after", "60"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line, process.stderr.read() if process.stderr else ""
        host, port = json.loads(line)["url"].removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.settimeout(10)
            seconds, answer = closed_after(client, [b"GET /healthz HTTP/1.1\r\n"])
        assert answer == b"" and 0.8 <= seconds < 4
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=10) as http:
            assert http.post("/entries", json=publish_now()).status_code == 201
    finally:
        process.terminate()
        process.wait(20)


@pytest.mark.parametrize("option", ["--idle-timeout", "--request-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_unveil_serve_refuses_timeouts_that_are_not_positive(board_files: tuple[Path, Path], option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from unveil.cli.main import main as cli_main

    key, parties = board_files
    code = cli_main(["serve", "--db", "sqlite://", "--origin", ORIGIN, "--key", str(key), "--parties", str(parties), option, value])
    assert code == 2 and "positive number of seconds" in capsys.readouterr().err
