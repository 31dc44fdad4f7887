"""``--evidence`` options as spec §12 evidence objects: one reader for every command that logs
evidence (``agreement claim``, ``item move``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from unveil.board import events as ev
from unveil.core.encoding import is_hex32
from unveil.errors import MalformedInputError

__all__ = ["evidence"]


def evidence(items: list[str]) -> list[dict[str, Any]]:
    """``--evidence`` options as spec §12 evidence: ``entry:N`` (an earlier entry of the log),
    ``sha256:HEX`` (a document kept elsewhere), ``file:PATH`` (that document: its SHA-256) or
    ``text:…``; :class:`MalformedInputError` at ``--evidence`` otherwise."""
    found: list[dict[str, Any]] = []
    for item in items:
        kind, _, value = item.partition(":")
        if kind == "entry" and value.isascii() and value.isdigit() and (value == "0" or not value.startswith("0")) and len(value) < 16:
            found.append({"entry": int(value)})
        elif kind == "sha256" and is_hex32(value):
            found.append({"sha256": value})
        elif kind == "file" and value:
            try:
                found.append({"sha256": hashlib.sha256(Path(value).read_bytes()).hexdigest()})
            except OSError as exc:
                raise MalformedInputError(f"cannot read {value!r}: {exc.strerror or exc}", where="--evidence") from None
        elif kind == "text" and value and len(value) <= ev.MAX_TEXT:
            found.append({"text": value})
        else:
            raise MalformedInputError(
                f"{item[:80]!r} is not entry:N, sha256:HEX (64 lowercase hex digits), file:PATH or text:… (1 to {ev.MAX_TEXT} characters)",
                where="--evidence")
    if len(found) > ev.MAX_EVIDENCE:
        raise MalformedInputError(f"{len(found)} evidence options; at most {ev.MAX_EVIDENCE} (spec §12)", where="--evidence")
    return found
