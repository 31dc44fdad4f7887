"""The one edge every ``unveil`` command runs in: an error becomes its exit code here.

A command's action reads its options and files, calls one service and returns a :class:`Done`:
the JSON result (printed with ``--json``), the printer for a person, and the exit code (from
:class:`~unveil.cli.exits.ExitCode`: ``INVALID`` for a check that failed without an error,
e.g. an invalid bundle or a refused checkpoint). An error of the tree (:mod:`unveil.errors`)
is printed as ``{"error": message, …}`` (:func:`failure_json`; a command may add to the
shape) or as ``error: message`` for a person, and exits with :func:`~unveil.cli.exits.exit_code`.
A ``MemoryError`` (which the commands' own limits should forestall) is reported as unreadable
input (exit 2), never as a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unveil.cli.exits import ExitCode, exit_code
from unveil.core.reasons import Reason
from unveil.errors import BoardError, BoardRefused, DrawRefused, DrawWaiting, MalformedInputError, UnveilError, VerificationError

__all__ = ["Done", "failure_json", "run"]


@dataclass(frozen=True)
class Done:
    """What a command did: ``result`` for ``--json`` (``None``: print nothing), ``show`` for a
    person, and the exit code."""

    result: dict[str, Any] | None
    show: Callable[[], None]
    code: ExitCode = ExitCode.OK


def failure_json(error: UnveilError) -> dict[str, Any]:
    """``{"error": message}`` plus what ``error`` carries: a board's ``status``, ``reason``,
    ``message`` and ``problems``; a verification's ``problems``; a draw's ``reason`` (and
    for a wait, ``step`` and the ``waiting`` names)."""
    doc: dict[str, Any] = {"error": str(error)}
    if isinstance(error, (BoardError, BoardRefused)):
        doc.update(error.to_json())
    elif isinstance(error, VerificationError):
        doc["problems"] = [p.to_json() for p in error.problems]
    elif isinstance(error, DrawWaiting):
        doc.update({"reason": str(Reason.WAITING), "step": error.step, "waiting": error.names})
    elif isinstance(error, DrawRefused):
        doc.update({"reason": str(error.reason), "message": error.message})
    return doc


def _print_json(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def run(as_json: bool, action: Callable[[], Done], *, failure: Callable[[UnveilError], dict[str, Any]] = failure_json) -> int:
    """Run ``action`` and print its outcome; the exit code. ``failure`` shapes an error's JSON
    (its ``"error"`` is also what a person reads)."""
    try:
        try:
            done = action()
        except MemoryError:  # the guards (e.g. --max-cells) should refuse first; never a traceback
            raise MalformedInputError(
                "the input needs more memory than this machine has: nothing was recorded (give smaller inputs, a coarser"
                " resolution, or a --max-cells limit)") from None
    except UnveilError as error:
        doc = failure(error)
        if as_json:
            _print_json(doc)
        else:
            from unveil.cli.output import error as print_error

            print_error(doc["error"])
        return exit_code(error)
    if as_json:
        if done.result is not None:
            _print_json(done.result)
    else:
        done.show()
    return done.code
