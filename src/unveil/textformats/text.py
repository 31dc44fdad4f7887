"""The text of an input file, and where in it a problem lies.

Every reader (declarations, intelligence) takes the same first steps: the format from the file
name, a size limit, strict UTF-8 (spec §0; a CSV file may start with the byte order mark that
spreadsheets write), and a refusal of a blank file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from unveil.core.jsonparse import decode_utf8
from unveil.errors import Location, MalformedInputError
from unveil.textformats.coordinates import POINT

BOM = b"\xef\xbb\xbf"


def format_of(source: str, extensions: Mapping[str, str]) -> str:
    """The format a file name's extension names, or MalformedInputError listing the known ones."""
    lowered = source.lower()
    for extension, fmt in extensions.items():
        if lowered.endswith(extension):
            return fmt
    raise MalformedInputError(
        f"cannot tell the format from the file name; use one of {', '.join(sorted(extensions))}", source=source
    )


def input_text(data: bytes, *, source: str, fmt: str, max_bytes: int) -> str:
    """The text of an input file of format ``fmt``: at most ``max_bytes``, strict UTF-8 without
    a byte order mark (skipped for ``csv``: spreadsheets write one, and the bytes are never
    committed), not blank. Raises :class:`MalformedInputError` naming ``source``."""
    if len(data) > max_bytes:
        raise MalformedInputError(f"is {len(data)} bytes, over the limit of {max_bytes}", source=source)
    if fmt == "csv" and data.startswith(BOM):
        data = data[len(BOM):]
    text = decode_utf8(data, source=source)
    if not text.strip():
        raise MalformedInputError("is empty", source=source)
    return text


def csv_cell(line: int, column: str) -> Location:
    """A CSV cell: ``line 3, column lat``; ``columns lat/lon`` for a point's two columns."""
    return Location(line=line, label="columns" if column == POINT else "column", path=(column,))


@contextmanager
def located(location: Location) -> Iterator[None]:
    """Place a :class:`MalformedInputError` raised inside (say by a :mod:`unveil.core.shape`
    check, which names JSON paths) at ``location`` instead."""
    try:
        yield
    except MalformedInputError as exc:
        raise MalformedInputError(exc.message, where=location) from None


def document_text(path: str | Path, max_bytes: int) -> tuple[str, bool]:
    """The text of a JSON-or-YAML document file and whether it is YAML (``.yaml``/``.yml``; by
    content otherwise: a file starting with ``{`` is JSON): at most ``max_bytes``, strict UTF-8,
    not blank (spec §0). Reads at most ``max_bytes + 1`` bytes. Raises
    :class:`MalformedInputError` naming the file."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise MalformedInputError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if len(data) > max_bytes:
        raise MalformedInputError(f"is over the limit of {max_bytes} bytes", source=source)
    text = decode_utf8(data, source=source)
    if not text.strip():
        raise MalformedInputError("is empty", source=source)
    suffix = Path(source).suffix.lower()
    return text, suffix in (".yaml", ".yml") or (suffix != ".json" and not text.lstrip().startswith("{"))
