"""The CSV files of material accountancy (spec §13): strict reading, every problem placed at
its file, line and column.

A file is UTF-8 (a leading byte order mark skipped), at most :data:`MAX_BYTES`, with a header
row naming exactly the expected columns (any order); blank lines are skipped. Numbers follow
the JSON number grammar (:func:`unveil.textformats.numbers.text_number`), so ``NaN``,
``inf`` and ``1e400`` are refused, as are negative values where the spec says ``≥ 0``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from unveil.errors import Location, MalformedInputError
from unveil.textformats.numbers import text_number
from unveil.textformats.text import csv_cell, input_text

MAX_BYTES = 16 << 20
"""The largest file read (16 MiB): far above a real balance (1000 periods of a few rows)."""

MAX_VALUE = 1e12
"""The largest number a cell may hold (kg, MWd, g/MWd): far above any real quantity, far below
where sums and variances of a thousand periods could overflow."""
ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its 1-based ``line`` and its cells by column name."""

    line: int
    cells: dict[str, str]

    def at(self, column: str) -> Location:
        return csv_cell(self.line, column)

    def ident(self, column: str) -> str:
        """A §0 id (1–64 of ``[A-Za-z0-9._:-]``)."""
        text = self.cells[column]
        if not ID.fullmatch(text):
            what = "is required" if text == "" else f"{text[:40]!r} is not an id (1 to 64 of A-Z a-z 0-9 . _ : -)"
            raise MalformedInputError(f"{column} {what}", where=self.at(column))
        return text

    def number(self, column: str, *, blank: float | None = None) -> float:
        """A finite, non-negative number; ``blank`` (when given) stands for an empty cell."""
        text = self.cells[column]
        if text == "" and blank is not None:
            return blank
        value = float(text_number(text, self.at(column), column))
        if value < 0:
            raise MalformedInputError(f"{column} {text} is negative", where=self.at(column))
        if value > MAX_VALUE:
            raise MalformedInputError(f"{column} {text[:24]} is over the limit of {MAX_VALUE:g}", where=self.at(column))
        return value


def read_rows(data: bytes, *, source: str, columns: Iterable[str]) -> list[Row]:
    """The data rows of a spec §13 CSV file whose header names exactly ``columns``."""
    wanted = list(columns)
    text = input_text(data, source=source, fmt="csv", max_bytes=MAX_BYTES)
    try:
        return _rows(text, wanted)
    except MalformedInputError as exc:
        raise exc.within(source) from None


def _rows(text: str, wanted: list[str]) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    last = 0
    try:
        for record in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                _check_header(header, wanted, line)
                continue
            if len(record) != len(header):
                raise MalformedInputError(f"{len(record)} fields, the header has {len(header)}", where=Location(line=line))
            rows.append(Row(line, {name: cell.strip() for name, cell in zip(header, record, strict=True)}))
    except csv.Error as exc:
        raise MalformedInputError(f"not CSV: {exc}", where=Location(line=reader.line_num)) from None
    if header is None:
        raise MalformedInputError("no header row")
    if not rows:
        raise MalformedInputError("no data rows", where=Location(line=1, note="header"))
    return rows


def _check_header(header: list[str], wanted: list[str], line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise MalformedInputError(f"column {name!r} appears twice", where=Location(line=line, note="header"))
        if name not in wanted:
            raise MalformedInputError(f"unknown column {name[:40]!r} (expected {', '.join(wanted)})",
                                      where=Location(line=line, note="header"))
        seen.add(name)
    missing = [name for name in wanted if name not in seen]
    if missing:
        raise MalformedInputError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
                                  where=Location(line=line, note="header"))
