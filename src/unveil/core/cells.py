"""The cell list file ``cells.txt`` (spec §1).

A continental escrow's ``cells.txt`` is tens of millions of lines. When every line takes 16
bytes (an h3 grid's 15 hex digits and ``\\n``) the list is read lazily
(:class:`FixedWidthCells`: a line is decoded when asked for) and checked with whole-array numpy
passes over blocks of the file (:func:`unveil.core.h3cells.h3_blocks`), so neither reading nor checking makes a
Python string per cell; any failure is then named by the plain line-by-line checks.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from unveil.errors import MalformedInputError

_ID_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
HEX_BYTES = b"0123456789abcdef"


@dataclass(frozen=True)
class CellList:
    """The cells of an escrow in committed order, with the SHA-256 of the exact file bytes;
    ``data`` keeps those bytes when the lines all take 16 bytes (``cells`` is then lazy)."""

    cells: Sequence[str]
    sha256: str
    data: bytes | None = None

    def __len__(self) -> int:
        return len(self.cells)


def render(cells: list[str] | tuple[str, ...]) -> bytes:
    """The bytes of ``cells.txt``: one id per line, each ending in ``\\n``."""
    return ("\n".join(cells) + "\n").encode("ascii")


H3_LINE = 16
"""Bytes of one line of an h3 grid's ``cells.txt``: 15 hex digits and ``\\n``."""


class FixedWidthCells(Sequence[str]):
    """The cells of a ``cells.txt`` whose lines all take ``width`` bytes (an h3 grid's: 16),
    read one at a time through ``read(lo, hi)`` (the file's bytes lo..hi-1): a sorted sequence
    that ``bisect`` searches in O(log N) reads, without holding the file."""

    def __init__(self, read: Callable[[int, int], bytes], count: int, width: int = H3_LINE):
        self._read, self._count, self._width = read, count, width

    def __len__(self) -> int:
        return self._count

    @property
    def width(self) -> int:
        return self._width

    def read_bytes(self, lo: int, hi: int) -> bytes:
        """The file's bytes ``lo .. hi-1``."""
        return self._read(lo, hi)

    def __iter__(self) -> Iterator[str]:
        step = 1 << 16
        for lo in range(0, self._count, step):
            yield from self[lo : lo + step]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list, FixedWidthCells)):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by value, as a list

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            lo, hi, step = index.indices(self._count)
            if step != 1:
                return [self[i] for i in range(lo, hi, step)]
            text = self._read(lo * self._width, hi * self._width).decode("ascii") if hi > lo else ""
            return text.split("\n")[:-1]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"cell index {index} not in [0, {self._count})")
        start = index * self._width
        return self._read(start, start + self._width - 1).decode("ascii")


def read(data: bytes, *, source: str = "cells.txt") -> CellList:
    """Split ``cells.txt`` into lines; raise MalformedInputError if it is not such a file.

    Only the line structure is checked here; :func:`problems` checks ids and order. A file whose
    lines all take 16 bytes is read lazily (see the module docstring).
    """
    if not data:
        raise MalformedInputError("is empty: a cell list has at least one line", source=source)
    if data.startswith(b"\xef\xbb\xbf"):
        raise MalformedInputError("starts with a byte order mark", source=source)
    if b"\r" in data:
        line = data[: data.index(b"\r")].count(b"\n") + 1
        raise MalformedInputError("carriage return (lines end in \\n only)", source=source, where=f"line {line}")
    if not data.endswith(b"\n"):
        lines = data.count(b"\n") + 1
        raise MalformedInputError("the last line does not end in \\n", source=source, where=f"line {lines}")
    if not data.isascii():
        try:
            data.decode("ascii")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise MalformedInputError("non-ASCII byte: cell ids are ASCII", source=source, where=f"line {line}") from None
    digest = hashlib.sha256(data).hexdigest()
    count = len(data) // H3_LINE
    if len(data) == H3_LINE * count and data.count(b"\n") == count and data[H3_LINE - 1 :: H3_LINE].count(b"\n") == count:
        return CellList(FixedWidthCells(_slicer(data), count), digest, data)
    return CellList(tuple(data[:-1].decode("ascii").split("\n")), digest)


def _slicer(data: bytes) -> Callable[[int, int], bytes]:
    return lambda lo, hi: data[lo:hi]


def problems(cell_list: CellList, system: str, resolution: int | None) -> list[str]:
    """Every way the list breaks §1: an id that is not one, a wrong resolution, bad order.

    An h3 list read lazily is first checked in whole-array passes (:func:`unveil.core.h3cells.h3_list_ok`); only a
    list that fails them is split into strings, to name the first bad line as always.
    """
    data = cell_list.data
    if data is not None and system == "h3" and resolution is not None and 0 <= resolution <= 15:
        from unveil.core.h3cells import h3_list_ok  # numpy: imported when needed, as h3 is

        if h3_list_ok(data, resolution):
            return []
    cells: Sequence[str] = cell_list.cells if data is None else tuple(data[:-1].decode("ascii").split("\n"))
    out: list[str] = []
    joined = "\n".join(cells).encode("ascii")
    allowed = HEX_BYTES if system == "h3" else _ID_BYTES
    if joined.translate(None, allowed + b"\n") or b"\n\n" in joined or not cells[0] or not cells[-1]:
        bad = next(i for i, c in enumerate(cells) if not c or c.encode("ascii").translate(None, allowed))
        out.append(f"line {bad + 1}: {cells[bad][:80]!r} is not a {'lowercase hex H3 cell' if system == 'h3' else 'cell id'}")
    elif system == "list":
        if max(map(len, cells)) > 64:
            bad = next(i for i, c in enumerate(cells) if len(c) > 64)
            out.append(f"line {bad + 1}: cell id longer than 64 characters")
    else:
        out.extend(_h3_problems(cells, resolution))
    if not all(map(operator.lt, cells, cells[1:])):
        bad = next(i for i in range(1, len(cells)) if not cells[i - 1] < cells[i])
        out.append(f"line {bad + 1}: {cells[bad][:80]!r} does not sort strictly after the line before it")
    return out


def _h3_problems(cells: Sequence[str], resolution: int | None) -> list[str]:
    import h3  # imported here: only h3 grids need it, and it slows CLI start-up

    if min(map(len, cells)) != 15 or max(map(len, cells)) != 15:
        bad = next(i for i, c in enumerate(cells) if len(c) != 15)
        return [f"line {bad + 1}: {cells[bad][:80]!r} is not 15 hex digits"]
    if not all(map(h3.is_valid_cell, cells)):
        bad = next(i for i, c in enumerate(cells) if not h3.is_valid_cell(c))
        return [f"line {bad + 1}: {cells[bad]!r} is not a valid H3 cell"]
    # The resolution is the second hex digit of a 15-digit H3 v4 cell index.
    digit = format(resolution, "x") if resolution is not None and 0 <= resolution <= 15 else None
    if digit is None or any(c[1] != digit for c in cells):
        bad = next((i for i, c in enumerate(cells) if c[1] != digit), 0)
        return [f"line {bad + 1}: {cells[bad]!r} is not at resolution {resolution}"]
    return []

