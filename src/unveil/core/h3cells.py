"""Whole-array checks of an h3 ``cells.txt`` whose lines all take 16 bytes (spec §1): the
lines as ``uint64`` values block by block, and h3's validity rules on whole arrays, so a list
of tens of millions of cells is checked without a Python string per cell.

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from unveil.core.cells import H3_LINE

_BLOCK_LINES = 1 << 16
PENTAGON_BASE_CELLS = (4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117)
"""The 12 H3 base cells that are pentagons (tested against ``h3.get_pentagons``)."""
_PENTAGON = np.zeros(128, dtype=bool)
_PENTAGON[list(PENTAGON_BASE_CELLS)] = True


_NIBBLES = bytes(range(10)).join([b"\x10" * 48, b"\x10" * 39]) + bytes(range(10, 16)) + b"\x10" * 153
_INVALID = np.array([0x1010101010101010, 0x0010101010101010], dtype=np.uint64)  # not the 16th byte: the newline, which read() checks


def h3_values(lines: bytes | memoryview) -> np.ndarray:
    """The ``uint64`` values of 16-byte lines of 15 hex digits (and ``\\n``, which
    :func:`unveil.core.cells.read` checks); ``ValueError`` if a digit is not ``0-9a-f``. One ``bytes.translate`` pass turns each character into its
    nibble (anything else into ``0x10``); then eight nibbles at a time in each 64-bit word
    (SIMD within a register): a check for ``0x10``, and adjacent nibbles, bytes and halves pack."""
    u = np.uint64
    x = np.frombuffer(bytes(lines).translate(_NIBBLES), dtype="<u8").reshape(-1, 2)  # digits 0-7; 8-14 and the newline
    if bool(np.any(x & _INVALID)):
        raise ValueError("a line holds a character that is not a lowercase hex digit")
    x = x & u(0x0F0F0F0F0F0F0F0F)  # the newline's marker off
    x = ((x << u(4)) | (x >> u(8))) & u(0x00FF00FF00FF00FF)  # 16-bit lanes: two digits a byte
    x = ((x << u(8)) | (x >> u(16))) & u(0x0000FFFF0000FFFF)  # 32-bit lanes: four digits
    x = ((x << u(16)) | (x >> u(32))) & u(0xFFFFFFFF)  # eight digits, first one highest
    values: np.ndarray = (x[:, 0] << u(28)) | (x[:, 1] >> u(4))
    return values


def h3_blocks(data: bytes, block_lines: int = _BLOCK_LINES) -> Iterator[np.ndarray]:
    """:func:`h3_values` of a ``cells.txt`` of 16-byte lines, ``block_lines`` lines at a time
    (a block small enough for the cache, so the passes over it stay fast)."""
    count = len(data) // H3_LINE
    view = memoryview(data)
    for lo in range(0, count, block_lines):
        yield h3_values(view[lo * H3_LINE : min(count, lo + block_lines) * H3_LINE])


def h3_valid(values: np.ndarray, resolution: int) -> bool:
    """Whether every value is a valid H3 cell index at ``resolution`` (the rules of h3's
    ``isValidCell``, checked on whole arrays; tested against it)."""
    u = np.uint64
    unused = (1 << (3 * (15 - resolution))) - 1  # digits past the resolution: all 7
    head = 0x80 | resolution  # high bit 0, mode 1 (a cell), reserved bits 0, the resolution
    if bool(np.any((values & u((0xFFF << 52) | unused)) != u((head << 52) | unused))):
        return False
    top = values >> u(45)  # the head, then the base cell
    if int(top.max()) >= (head << 7) + 122:  # base cells are 0..121
        return False
    low = u(sum(1 << (3 * (15 - r)) for r in range(1, resolution + 1)))
    if resolution and bool(np.any(values & (values >> u(1)) & (values >> u(2)) & low)):  # a used digit is 7
        return False
    pentagonal = values[_PENTAGON[top & u(0x7F)]]
    if len(pentagonal):
        found = np.zeros(len(pentagonal), dtype=bool)
        for r in range(1, resolution + 1):
            digit = (pentagonal >> u(3 * (15 - r))) & u(7)
            if bool(np.any(~found & (digit == u(1)))):  # first non-zero digit on the deleted K axis
                return False
            found |= digit != u(0)
    return True


def h3_list_ok(data: bytes, resolution: int) -> bool:
    """Whether a ``cells.txt`` of 16-byte lines holds valid H3 cells at ``resolution``, strictly
    ascending: :func:`problems` would find nothing (block by block, bounded memory)."""
    previous: np.uint64 | None = None
    try:
        for values in h3_blocks(data):
            if previous is not None and not values[0] > previous:
                return False
            if not bool(np.all(values[1:] > values[:-1])) or not h3_valid(values, resolution):
                return False
            previous = values[-1]
    except ValueError:
        return False
    return True


def locate(values: np.ndarray, count: int, read: Callable[[int, int], bytes], first: int, last: int) -> np.ndarray:
    """Where each of ``values`` (ascending ``uint64`` ids) is among lines ``first .. last-1``
    of a ``cells.txt`` of 16-byte lines read through ``read(lo, hi)`` (its bytes lo..hi-1):
    an index, or -1 if absent. Reads that range block by block, each searched in one numpy call,
    rather than a binary search of the file per value."""
    found = np.full(len(values), -1, dtype=np.int64)
    if not len(values) or first >= last:
        return found
    done = 0
    for lo in range(first, min(last, count), _BLOCK_LINES):
        hi = min(last, count, lo + _BLOCK_LINES)
        block = h3_values(read(lo * H3_LINE, hi * H3_LINE))
        cut = done + int(np.searchsorted(values[done:], block[-1], side="right"))
        part = values[done:cut]
        at = np.minimum(np.searchsorted(block, part), len(block) - 1)
        hit = block[at] == part
        found[done:cut][hit] = lo + at[hit]
        done = cut
        if done == len(values):
            break
    return found
