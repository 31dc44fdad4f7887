"""One error tree for the whole project.

``UnveilError``
├── ``MalformedInputError``  an input cannot be read as its format (CLI exit 2)
├── ``VerificationError``    a well-formed input failed verification (CLI exit 1);
│                            carries every :class:`Problem` found
└── ``MissingExtraError``    a command needs an optional extra that is not installed
                             (CLI exit 2); names the extra to install

Each edge maps these once: the CLI to exit codes, the API to HTTP statuses.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnveilError(Exception):
    """Base of every error unveil raises on purpose."""


class MalformedInputError(UnveilError):
    """An input cannot be read as its format (spec §0 parse rules, unknown field, wrong type).

    ``source`` names the file (or other origin) and ``where`` the line, feature or field,
    so the message tells a person exactly what to fix.
    """

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None):
        self.message = message
        self.source = source
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        return ": ".join([*parts, self.message])

    def within(self, source: str) -> MalformedInputError:
        """The same error, attributed to ``source`` if it has no source yet."""
        if self.source is not None:
            return self
        return MalformedInputError(self.message, source=source, where=self.where)


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
