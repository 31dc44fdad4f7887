"""Reading input files at the CLI edge: every failure names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unveil.errors import MalformedInputError

MAX_INPUT_BYTES = 1 << 30  # 1 GiB: far above any real artifact, below this machine's memory


def read_bytes(path: Path, what: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes, or MalformedInputError naming it (missing, a directory, over ``limit``
    bytes)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise MalformedInputError(f"{what} is {size} bytes, over the {limit}-byte limit", source=str(path))
        return path.read_bytes()
    except FileNotFoundError:
        raise MalformedInputError(f"{what} not found", source=str(path)) from None
    except IsADirectoryError:
        raise MalformedInputError(f"{what} is a directory, not a file", source=str(path)) from None
    except PermissionError:
        raise MalformedInputError(f"{what} cannot be read (permission denied)", source=str(path)) from None


def read_json(path: Path, what: str) -> Any:
    from unveil.core.jsonparse import loads

    return loads(read_bytes(path, what), source=str(path))
