"""One error tree for the whole project.

``UnveilError``
├── ``MalformedInputError``  an input cannot be read as its format (CLI exit 2)
└── ``VerificationError``    a well-formed input failed verification (CLI exit 1);
                             carries every :class:`Problem` found

Each edge maps these once: the CLI to exit codes, the API to HTTP statuses.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnveilError(Exception):
    """Base of every error unveil raises on purpose."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an input file something lies, as data; ``str()`` is how a person reads it.

    Every part is optional: ``line`` and ``column`` (1-based) in a text file, with ``note``
    qualifying the line (``"header"``); ``feature``, the 0-based index in a GeoJSON
    FeatureCollection's ``features``; ``path``, the member names and array indexes leading to
    the field, from the line or feature when one is given, else from the document root; and
    ``label``, the word for what the path names there (a CSV ``column``, a GeoJSON
    ``property``, a YAML ``field``). Shown as ``line 3 column 7, field items[0].quantity``,
    ``line 1 (header), column kind``, ``feature 2, property id`` or, from the root,
    ``$.sites[0].lat``.
    """

    line: int | None = None
    column: int | None = None
    feature: int | None = None
    path: tuple[str | int, ...] = ()
    label: str = ""
    note: str = ""

    def __str__(self) -> str:
        steps = "".join(f"[{step}]" if type(step) is int else f".{step}" for step in self.path)
        if self.line is None and self.feature is None:
            return "$" + steps
        parts = []
        if self.line is not None:
            column = f" column {self.column}" if self.column is not None else ""
            parts.append(f"line {self.line}{column}" + (f" ({self.note})" if self.note else ""))
        if self.feature is not None:
            parts.append(f"feature {self.feature}")
        if steps:
            parts.append(" ".join(p for p in (self.label, steps.removeprefix(".")) if p))
        return ", ".join(parts)


class MalformedInputError(UnveilError):
    """An input cannot be read as its format (spec §0 parse rules, unknown field, wrong type).

    ``source`` names the file (or other origin) and ``where`` the line, feature or field,
    so the message tells a person exactly what to fix. ``where`` may be given as a
    :class:`Location`, kept as ``location`` (``where`` is then its text).
    """

    def __init__(self, message: str, *, source: str | None = None, where: str | Location | None = None):
        self.message = message
        self.source = source
        self.location = where if isinstance(where, Location) else None
        self.where = str(where) if where is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        return ": ".join([*parts, self.message])

    def within(self, source: str) -> MalformedInputError:
        """The same error, attributed to ``source`` if it has no source yet."""
        if self.source is not None:
            return self
        return MalformedInputError(self.message, source=source, where=self.location or self.where)


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an artifact is not valid.

    ``index`` is the opening's ``index`` field, or ``None`` for an artifact-level problem;
    ``reason`` is a stable code listed in ``tests/vectors/README.md``.
    """

    index: int | None
    reason: str
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "reason": self.reason, "detail": self.detail}

    def __str__(self) -> str:
        where = "bundle" if self.index is None else f"opening {self.index}"
        return f"{where}: {self.reason}: {self.detail}"


class VerificationError(UnveilError):
    """Verification failed; ``problems`` lists every reason found (at least one)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        if not problems:
            raise ValueError("VerificationError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def because(cls, reason: str, detail: str, index: int | None = None) -> VerificationError:
        return cls([Problem(index, reason, detail)])

    @property
    def reasons(self) -> set[str]:
        return {p.reason for p in self.problems}
