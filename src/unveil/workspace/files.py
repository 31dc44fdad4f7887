"""Writing a command's output files all-or-nothing."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping


@contextmanager
def staged(out: Path, files: Mapping[str, bytes]) -> Iterator[None]:
    """Write ``files`` into ``out`` as hidden temporaries; when the body succeeds, rename each
    into place; if anything fails, remove them, leaving ``out`` as it was."""
    with staged_stream(out) as write:
        for name, data in files.items():
            write(name, data)
        yield


@contextmanager
def staged_stream(out: Path) -> Iterator[Callable[[str, bytes], None]]:
    """:func:`staged` for files that come one at a time (the parts of a phase, each written and
    dropped before the next is built): the context gives ``write(name, data)``, which writes a
    hidden temporary at once; all are renamed into place when the body succeeds, and removed
    if anything fails, leaving ``out`` as it was."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    temps: dict[str, Path] = {}

    def write(name: str, data: bytes) -> None:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
        temps[name] = Path(temp)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)

    try:
        yield write
    except BaseException:
        for path in temps.values():
            path.unlink(missing_ok=True)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    for name, path in temps.items():
        os.replace(path, out / name)
