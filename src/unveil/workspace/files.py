"""Writing a command's output files all-or-nothing."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping, Sequence


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


@contextmanager
def staged_streams(out: Path, names: Sequence[str]) -> Iterator[dict[str, BinaryIO]]:
    """:func:`staged` for files written piece by piece: yields an open temporary per name (in
    ``out``, hidden); when the body succeeds each is synced and renamed into place, if anything
    fails (a full disk included) they are removed, leaving ``out`` as it was."""
    created = not out.exists()
    handles: dict[str, BinaryIO] = {}
    temps: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            temps.append(Path(temp))
            handles[name] = os.fdopen(fd, "w+b")
        yield handles
        for handle in handles.values():
            sync(handle)
            os.fchmod(handle.fileno(), 0o644)
            handle.close()
    except BaseException:
        for handle in handles.values():
            try:
                handle.close()
            except OSError:
                pass  # a full disk fails the flush on close too: the file goes anyway
        for path in temps:
            path.unlink(missing_ok=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    for name, path in zip(names, temps, strict=True):
        os.replace(path, out / name)


def sync(handle: BinaryIO) -> None:
    """Flush ``handle`` to the disk (a full disk raises ``OSError`` here, not later)."""
    handle.flush()
    os.fsync(handle.fileno())
