"""``unveil serve``: run the board's API (:func:`unveil.api.serve.serve`) until interrupted.

Prints where it listens once the socket is bound (``--json``: one JSON line ``{"origin",
"url", "size"}`` on stdout). Exit codes (:mod:`unveil.cli.exits`): 0 a clean shutdown; 2 bad
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


def command(db_url: str, origin: str, key_path: Path, parties_path: Path, host: str, port: int, as_json: bool) -> int:
    def announce(url: str, size: int) -> None:
        if as_json:
            print(json.dumps({"origin": origin, "url": url, "size": size}), flush=True)
        else:
            print(f"unveil board {origin}: {size} entries, serving at {url} (Ctrl-C stops)", flush=True)

    def action() -> Done:
        from unveil.api.serve import serve

        serve(db_url, origin, key_path, parties_path, host, port, announce=announce)
        return Done(None, lambda: None)

    return run(as_json, action, failure=_failure)
