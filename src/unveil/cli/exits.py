"""The exit codes of ``unveil``: the one table, and the one mapping from errors to it.

==== =============== =========================================================================
code name            meaning
==== =============== =========================================================================
0    ``OK``          valid / done
1    ``INVALID``     verification failed (every problem listed), the board refused, a draw
                     step was refused or must wait, the witness refused
2    ``MALFORMED``   an input cannot be read as its format (names the file, line or field),
                     the command line is wrong, or the command needs an extra not installed
130  ``INTERRUPTED`` interrupted (Ctrl-C)
==== =============== =========================================================================

:func:`exit_code` maps an error of the tree (:mod:`unveil.errors`) to its code; commands run
in :func:`unveil.cli.edge.run`, which applies it.
"""

from __future__ import annotations

from enum import IntEnum

from unveil.errors import BoardError, BoardRefused, DrawError, MalformedInputError, MissingExtraError, UnveilError, VerificationError

__all__ = ["ExitCode", "exit_code"]


class ExitCode(IntEnum):
    OK = 0
    INVALID = 1
    MALFORMED = 2
    INTERRUPTED = 130


_BY_ERROR: tuple[tuple[type[UnveilError], ExitCode], ...] = (
    (MalformedInputError, ExitCode.MALFORMED),
    (VerificationError, ExitCode.INVALID),
    (BoardRefused, ExitCode.INVALID),
    (BoardError, ExitCode.INVALID),
    (DrawError, ExitCode.INVALID),
    (MissingExtraError, ExitCode.MALFORMED),
)


def exit_code(error: UnveilError) -> ExitCode:
    """The exit code of ``error``: the first class of :data:`_BY_ERROR` it is an instance of;
    any other error of the tree is a command that cannot be carried out as asked (2)."""
    for kind, code in _BY_ERROR:
        if isinstance(error, kind):
            return code
    return ExitCode.MALFORMED
