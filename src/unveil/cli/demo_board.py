"""The demo's public board (issue 4): publish the whole exercise to a board the demo starts
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


def publish_all(out: Path, host_ws: Any, inspector_ws: Any, phases: list[Path]) -> dict[str, Any]:
    from unveil.cli import board_cmd
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
    server = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", "0", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            raise RuntimeError(f"the board did not start: {server.stderr.read() if server.stderr else ''}")
        url = json.loads(line)["url"]
        steps = []

        def step(label: str, call: Any, *args: Any) -> None:
            code, result = _quiet(call, *args)
            steps.append({"step": label, "exit": code, "result": result})
            if code != 0:
                raise RuntimeError(f"{label} failed: {result}")

        step("escrow.published", board_cmd.publish, host_ws.path, url, out / "escrow.json", None, None, None, None, True)
        step("escrow.accepted", board_cmd.publish, inspector_ws.path, url, None, None, None, out / "escrow.json", out / "cells.txt", True)
        for path in phases:
            step(f"reveal.published {path.name}", board_cmd.publish, host_ws.path, url, None, path, None, None, None, True)
            step(f"verification.recorded {path.name}", board_cmd.publish, inspector_ws.path, url, None, None, path, None, None, True)
        for ws in (host_ws, inspector_ws, observer_ws):
            step(f"sync and cosign ({ws.name})", board_cmd.sync, ws.path, url, board_ws.vkey, True)
        import httpx

        checkpoint = httpx.get(f"{url}/checkpoint", timeout=10).text
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    cosigned_by = _cosigners(checkpoint, [host_ws, inspector_ws, observer_ws])
    published = [s for s in steps if s["result"] and "index" in s["result"]]
    return {"origin": ORIGIN, "entries": len(published), "checkpoint": checkpoint,
            "cosigned_by": cosigned_by, "board_db": str(db), "parties": str(out / "parties.json"), "serve_sh": str(serve_sh),
            "steps": [{"step": s["step"], "exit": s["exit"]} for s in steps]}


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


