"""One error tree for the whole project: every exception unveil raises on purpose.

::

    UnveilError
    ├── MalformedInputError      an input cannot be read as its format; names the source and
    │   │                        where in it (file, line, field)
    │   └── CanonicalizationError  a value has no JCS form (spec §0, RFC 8785)
    ├── VerificationError        a well-formed input failed verification; carries every
    │                            :class:`Problem` found
    ├── BoardRefused             the board refuses an event, a cosignature, a range or a
    │                            request: ``reason``, ``message``, ``problems``
    ├── BoardError               talking to a board failed (client side): the board refused,
    │                            could not be reached, or answered nonsense
    ├── DrawError                this workspace will not take a draw step now (spec §8)
    │   ├── DrawRefused          a refusal with a ``reason`` (a second commitment, …)
    │   └── DrawWaiting          not yet: named parties have not committed or revealed
    └── MissingExtraError        a command needs an optional extra that is not installed;
                                 names the extra to install

Each edge maps these once: the command line to exit codes (:mod:`unveil.cli.exits`), the
board's HTTP API to statuses (:mod:`unveil.api.errors`, by ``reason``). Every ``reason`` the
project emits is a member of :class:`unveil.core.reasons.Reason`; reasons that arrive from
outside (a board's answer, an event body) stay plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from unveil.core.reasons import Reason


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


class CanonicalizationError(MalformedInputError):
    """The value has no JCS form (a lone surrogate, a non-finite or out-of-range number)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an artifact is not valid.

    ``index`` is the opening's (or entry's) index, or ``None`` for an artifact-level problem;
    ``reason`` is a stable code (:class:`~unveil.core.reasons.Reason`), serialized as its
    plain string.
    """

    index: int | None
    reason: Reason
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "reason": str(self.reason), "detail": self.detail}

    def __str__(self) -> str:
        where = "bundle" if self.index is None else f"opening {self.index}"
        return f"{where}: {self.reason}: {self.detail}"


class VerificationError(UnveilError):
    """Verification failed; ``problems`` lists every reason found (at least one)."""

    def __init__(self, problems: Sequence[Problem]):
        if not problems:
            raise ValueError("VerificationError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def because(cls, reason: Reason, detail: str, index: int | None = None) -> VerificationError:
        return cls([Problem(index, reason, detail)])

    @property
    def reasons(self) -> set[str]:
        return {str(p.reason) for p in self.problems}


class BoardRefused(UnveilError):
    """The board refuses an event, a cosignature, a range or a request (spec §7).

    ``reason`` is a code listed in :mod:`unveil.board.protocol` (or :mod:`unveil.api.app`
    for the API's own), ``message`` the detail for a person, ``problems`` the verifier's
    findings when a reveal file was checked. The HTTP status is the API's business
    (:func:`unveil.api.errors.status_of`).
    """

    def __init__(self, reason: Reason, message: str, *, problems: Sequence[Problem] = ()):
        self.reason = reason
        self.message = message
        self.problems = tuple(problems)
        super().__init__(f"{reason}: {message}")

    def to_json(self) -> dict[str, object]:
        return {"reason": str(self.reason), "message": self.message, "problems": [p.to_json() for p in self.problems]}


class BoardError(UnveilError):
    """A request to a board failed: it refused, could not be reached, or answered nonsense.

    ``status`` is the HTTP status (0: no answer); ``reason`` the board's code as it sent it
    (a plain string: a board may be another implementation) or this client's
    (``unreachable``, ``response-invalid``, ``http-error``); ``message`` the detail;
    ``problems`` the board's problem objects as it sent them.
    """

    def __init__(self, status: int, reason: str, message: str, *, problems: Sequence[dict[str, Any]] = ()):
        self.status = status
        self.reason = reason
        self.message = message
        self.problems = tuple(problems)
        where = f"HTTP {status}" if status else "no answer"
        super().__init__(f"board: {reason} ({where}): {message}")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": str(self.reason), "message": self.message, "problems": list(self.problems)}


class DrawError(UnveilError):
    """This workspace will not take a step of a coin draw now (spec §8)."""


class DrawRefused(DrawError):
    """This workspace will not do it (``reason``: ``coin-repeat``, ``coin-missing``,
    ``not-a-draw-party``, ``selection-conflict``, ``checkpoint-invalid``,
    ``population-mismatch``, ``context-mismatch``)."""

    def __init__(self, reason: Reason, message: str):
        self.reason, self.message = reason, message
        super().__init__(f"{reason}: {message}")


class DrawWaiting(DrawError):
    """Not yet: the named parties have not committed (or revealed) in the context; ``why``,
    when given, says why this step waits for them."""

    def __init__(self, step: str, names: Sequence[str], why: str = ""):
        self.step, self.names = step, list(names)
        super().__init__(f"waiting for {', '.join(self.names)} to {step}" + (f": {why}" if why else ""))


class MissingExtraError(UnveilError):
    """A command needs packages of an optional extra that is not installed.

    ``extra`` is the extra's name in ``pyproject.toml`` (``board``, ``geo``, ``analytics``) and
    ``module`` the import that failed; the message says what to install.
    """

    def __init__(self, extra: str, module: str):
        self.extra = extra
        self.module = module
        super().__init__(
            f"this needs the optional '{extra}' packages ({module} is not installed): pip install 'unveil[{extra}]'"
        )
