"""``unveil serve``: run the board's API (:func:`unveil.api.serve.serve`) until interrupted.

Prints where it listens once the socket is bound (``--json``: one JSON line ``{"origin",
"url", "size"}`` on stdout). ``--idle-timeout`` and ``--request-timeout`` bound how long a
client may keep a connection waiting (:mod:`unveil.api.connections`); ``--purge-after`` is the
period after which a reveal file no entry names is deleted (spec §11); ``--unsafe-clock-offset``
runs the board's clock ahead, for exercises that show deadlines pass (spec §12) without waiting. Exit codes (:mod:`unveil.cli.exits`): 0 a clean shutdown; 2 bad
input (key, parties file, database URL, address); 1 a stored log that does not replay, every
problem listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from unveil.cli.edge import Done, failure_json, run
from unveil.errors import UnveilError, VerificationError


def _failure(error: UnveilError) -> dict[str, Any]:
    doc = failure_json(error)
    if isinstance(error, VerificationError):
        doc["error"] = f"the stored log does not replay: {error}"
    return doc


def command(
    db_url: str, origin: str, key_path: Path, parties_path: Path, host: str, port: int, as_json: bool, *,
    idle_timeout: float = 10.0, request_timeout: float = 60.0, purge_after: int = 3600, clock_offset: int = 0,
) -> int:
    def announce(url: str, size: int) -> None:
        if as_json:
            print(json.dumps({"origin": origin, "url": url, "size": size}), flush=True)
        else:
            print(f"unveil board {origin}: {size} entries, serving at {url} (Ctrl-C stops)", flush=True)

    def action() -> Done:
        from unveil.api.serve import serve

        serve(db_url, origin, key_path, parties_path, host, port, idle_timeout=idle_timeout,
              request_timeout=request_timeout, purge_after=purge_after, announce=announce, clock_offset=clock_offset)
        return Done(None, lambda: None)

    return run(as_json, action, failure=_failure)
