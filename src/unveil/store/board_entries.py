"""The entries in a board's answers (spec §11), as :mod:`unveil.store.board_client` reads them.

An entry may come as the JCS text of its envelope, as b64 of its bytes, or as the parsed
envelope (re-encoded with JCS, which is what the log holds, spec §7): :func:`decode_entry`
takes any of them. :func:`raw_entries` walks a page ``{"entries": [{"index", "entry"}, …]}``
keeping each entry's exact text, so an entry that is not canonical stays visible to an audit
instead of being re-encoded into a canonical one. Anything else raises
:class:`~unveil.errors.BoardError` ``response-invalid`` (:func:`invalid`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from unveil.core.encoding import b64decode
from unveil.core.jcs import canonicalize
from unveil.core.reasons import Reason
from unveil.errors import BoardError, CanonicalizationError

__all__ = ["RawEntry", "decode_entry", "invalid", "raw_entries"]


def invalid(status: int, detail: str) -> BoardError:
    """The error of an answer this client cannot accept (``response-invalid``)."""
    return BoardError(status, Reason.RESPONSE_INVALID, detail)


class RawEntry(str):
    """The exact text of an entry embedded in a page as a JSON object."""


def decode_entry(value: Any, status: int = 200, what: str = "entry") -> bytes:
    """The entry bytes from their JSON form: JCS text, b64 of the bytes, or the envelope."""
    if isinstance(value, RawEntry):
        if value.startswith("{"):
            return value.encode("utf-8")
        value = json.loads(value)  # a string (JCS text or b64) embedded in the page
    if isinstance(value, str):
        if value.startswith("{"):
            return value.encode("utf-8")
        try:
            return b64decode(value)
        except ValueError:
            raise invalid(status, f"{what} is neither JSON text nor base64") from None
    if isinstance(value, dict):
        try:
            return canonicalize(value)
        except CanonicalizationError as exc:
            raise invalid(status, f"{what} has no canonical form: {exc}") from None
    raise invalid(status, f"{what} is not a JSON text, base64 or an object")


class _Scanner:
    """Walks ``{"entries": [{"index": …, "entry": …}, …]}`` keeping each entry's exact text."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0
        self.decoder = json.JSONDecoder()

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n\r":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def value(self) -> tuple[Any, str]:
        self.skip()
        start = self.pos
        value, self.pos = self.decoder.raw_decode(self.text, start)
        return value, self.text[start : self.pos]

    def members(self, on_member: Callable[[str], None]) -> None:
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            name, _ = self.value()
            if not isinstance(name, str):
                raise ValueError("a member name is not a string")
            self.expect(":")
            on_member(name)
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return

    def items(self, on_item: Callable[[], None]) -> None:
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            on_item()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return


def raw_entries(text: str) -> list[tuple[Any, str]] | None:
    """``(index, exact JSON text of "entry")`` of each row of an entries page, in order, so an
    entry that is not canonical stays visible to an audit. ``None`` if the page does not have
    that shape (the caller has parsed it strictly first)."""
    scanner = _Scanner(text)
    rows: list[tuple[Any, str]] = []

    def row() -> None:
        found: dict[str, tuple[Any, str]] = {}

        def member(name: str) -> None:
            found[name] = scanner.value()

        scanner.members(member)
        if "index" not in found or "entry" not in found:
            raise ValueError("a row is not {'index', 'entry'}")
        rows.append((found["index"][0], found["entry"][1]))

    def top(name: str) -> None:
        if name == "entries" and scanner.peek() == "[":
            scanner.items(row)
        else:
            scanner.value()

    try:
        scanner.members(top)
    except (ValueError, IndexError):
        return None
    return rows
