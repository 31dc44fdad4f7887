"""The demo's public board: publish the whole exercise to a board the demo starts
itself, and end with a checkpoint cosigned by host, inspector and an observer.

Runs the real server (`unveil serve` over SQLite, as a subprocess on a free loopback port) and
the real client commands (`publish`, `sync`), so the demo exercises what users run. Leaves
``OUT/board.db``, ``OUT/parties.json``, the board's workspace and ``OUT/serve.sh``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ORIGIN = "exampleland-board"


def _quiet(call: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    """Run a CLI implementation with --json, capturing what it prints."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = call(*args, **kwargs)
    text = buffer.getvalue().strip().splitlines()
    return code, json.loads(text[-1]) if text else None


class BoardSession:
    """A running demo board: its URL, the board's and observer's workspaces, and the steps run."""

    def __init__(self, out: Path, url: str, host_ws: Any, inspector_ws: Any, board_ws: Any, observer_ws: Any,
                 serve_sh: Path, db: Path) -> None:
        self.out, self.url, self.host_ws, self.inspector_ws = out, url, host_ws, inspector_ws
        self.board_ws, self.observer_ws, self.serve_sh, self.db = board_ws, observer_ws, serve_sh, db
        self.steps: list[dict[str, Any]] = []
        self.command: list[str] = []
        self.server: subprocess.Popen[str] | None = None

    def restart(self, clock_offset: int) -> None:
        """Stop the board and start it again over the same database, its clock ``clock_offset``
        seconds ahead (``unveil serve --unsafe-clock-offset``): how the exercise lets a day pass."""
        if self.server is not None:
            _stop(self.server)
        self.server, self.url = _start(self.command, clock_offset)

    def step(self, label: str, call: Any, *args: Any) -> Any:
        code, result = _quiet(call, *args)
        self.steps.append({"step": label, "exit": code, "result": result})
        if code != 0:
            raise RuntimeError(f"{label} failed: {result}")
        return result

    def record(self, label: str, result: Any) -> None:
        """A step run through the services directly (coins, draws, discrepancies)."""
        self.steps.append({"step": label, "exit": 0, "result": result})

    def parties(self) -> Any:
        from unveil.board.parties import read_parties

        path = self.out / "parties.json"
        return read_parties(path.read_bytes(), source=str(path))

    def client(self) -> Any:
        from unveil.workspace.boards import connect

        return connect(self.url)

    def publish_escrow(self) -> None:
        from unveil.cli import board_cmd

        out = self.out
        self.step("escrow.published", board_cmd.publish, self.host_ws.path, self.url, out / "escrow.json", None, None, None, None, True)
        self.step("escrow.accepted", board_cmd.publish, self.inspector_ws.path, self.url, None, None, None,
                  out / "escrow.json", out / "cells.txt", True)

    def publish_intel_escrow(self, path: Path) -> None:
        from unveil.cli import board_cmd

        self.step("escrow.published (intel)", board_cmd.publish, self.inspector_ws.path, self.url, path, None, None, None, None, True)

    def publish_phase(self, path: Path) -> None:
        from unveil.cli import board_cmd

        self.step(f"reveal.published {path.name}", board_cmd.publish, self.host_ws.path, self.url, None, path, None, None, None, True)
        self.step(f"verification.recorded {path.name}", board_cmd.publish, self.inspector_ws.path, self.url, None, None, path, None, None, True)

    def cosign(self, why: str = "") -> dict[str, Any]:
        """Host, inspector and observer each sync and cosign (the quorum: what the board holds
        becomes final, spec §7); the last sync's result."""
        from unveil.cli import board_cmd

        synced: dict[str, Any] = {}
        for ws in (self.host_ws, self.inspector_ws, self.observer_ws):
            synced = self.step(f"sync and cosign ({ws.name}){why}", board_cmd.sync, ws.path, self.url, self.board_ws.vkey,
                               self.out / "parties.json", None, True)
        return synced

    def finish(self) -> dict[str, Any]:
        """Every party syncs and cosigns; the board's summary (as :func:`publish_all` returns it)."""
        import httpx

        synced = self.cosign()
        checkpoint = httpx.get(f"{self.url}/checkpoint", timeout=10).text
        cosigned_by = _cosigners(checkpoint, [self.host_ws, self.inspector_ws, self.observer_ws])
        published = [s for s in self.steps if s["result"] and "index" in s["result"]]
        return {"origin": ORIGIN, "entries": len(published), "checkpoint": checkpoint,
                "cosigned_by": cosigned_by, "final_size": synced["final_size"], "board_db": str(self.db), "parties": str(self.out / "parties.json"),
                "serve_sh": str(self.serve_sh), "steps": [{"step": s["step"], "exit": s["exit"]} for s in self.steps]}


@contextlib.contextmanager
def board_running(out: Path, host_ws: Any, inspector_ws: Any) -> Iterator[BoardSession]:
    """Start the demo's board (``unveil serve`` as a subprocess on a free loopback port) and
    yield a :class:`BoardSession`; the server is stopped on leaving."""
    from unveil.workspace.workspace import create

    board_ws = create(out / "workspaces" / "board", "board", ORIGIN)
    observer_ws = create(out / "workspaces" / "observer", "observer", "Observer")
    parties = [w.to_json() for w in (board_ws, host_ws, inspector_ws, observer_ws)]
    (out / "parties.json").write_text(json.dumps(parties, indent=1) + "\n")
    db = out / "board.db"
    db.unlink(missing_ok=True)
    key = board_ws.path / "keys" / "statement.pem"
    command = [sys.executable, "-m", "unveil.cli.main", "serve", "--db", f"sqlite:///{db}", "--origin", ORIGIN,
               "--key", str(key), "--parties", str(out / "parties.json")]
    serve_sh = out / "serve.sh"
    serve_sh.write_text(
        "#!/bin/sh\n# Serves the demo's board again; extra arguments are passed on (e.g. --port 8123).\n"
        f'cd "$(dirname "$0")/.." && exec {shlex.join([str(Path(sys.executable).with_name("unveil")), *command[3:]])} "$@"\n'
    )
    serve_sh.chmod(0o755)
    server, url = _start(command)
    session = BoardSession(out, url, host_ws, inspector_ws, board_ws, observer_ws, serve_sh, db)
    session.command, session.server = command, server
    try:
        yield session
    finally:
        if session.server is not None:
            _stop(session.server)


def _start(command: list[str], clock_offset: int = 0) -> tuple[subprocess.Popen[str], str]:
    """``unveil serve`` on a free loopback port: the process and its URL, once it listens."""
    offset = ["--unsafe-clock-offset", str(clock_offset)] if clock_offset else []
    server = subprocess.Popen([*command, *offset, "--host", "127.0.0.1", "--port", "0", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline() if server.stdout else ""
    if not line:
        _stop(server)
        raise RuntimeError(f"the board did not start: {server.stderr.read() if server.stderr else ''}")
    return server, json.loads(line)["url"]


def _stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def publish_all(out: Path, host_ws: Any, inspector_ws: Any, phases: list[Path]) -> dict[str, Any]:
    """Start a board, publish the escrow and every phase, and end with a cosigned checkpoint."""
    with board_running(out, host_ws, inspector_ws) as board:
        board.publish_escrow()
        for path in phases:
            board.publish_phase(path)
        return board.finish()


def _cosigners(note: str, workspaces: list[Any]) -> list[str]:
    """Names whose witness cosignature on the note's checkpoint verifies."""
    from unveil.core.keys import VerifierKey
    from unveil.core.notes import open_note, verify_cosignature

    body, _ = open_note(note)
    lines = [line for line in note.split("\n\n", 1)[1].splitlines() if line]
    names = []
    for ws in workspaces:
        key = VerifierKey.parse(ws.witness_vkey)
        for line in lines:
            with contextlib.suppress(Exception):
                verify_cosignature(body, line, key)
                names.append(ws.name)
                break
    return names


