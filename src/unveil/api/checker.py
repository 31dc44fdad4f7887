"""Reveal files checked away from the board's interpreter (spec §11): one at a time, each in a
process of its own.

Checking a reveal file of up to 16 MiB (a strict parse, a canonicalization, signatures, for a
``reveal.published`` every opening and the multiproof) holds a Python interpreter for up to a
second. Run in one of the board's threads, it would hold the interpreter lock from the event
loop, the verifier threads and the writer, and every other submission would wait. So
:meth:`Checker.run` runs such a check in **a process of its own**, one check at a time (the
others wait their turn, so reveal files use at most one core), and is called from a worker
thread, never from the event loop.

Each check's process is forked from a fork server that preloads only the checking code (a few
milliseconds; ``spawn`` where there is no fork server) and is gone when the check ends, so the
board holds no process between checks and a check that dies takes nothing else with it: it
raises :class:`CheckerFailed`, and each caller says what that means for its request.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["CHECKER_MODULES", "Checker", "CheckerFailed"]

T = TypeVar("T")

CHECKER_MODULES = ("unveil.board.uploads", "unveil.board.protocol")
"""What the fork server preloads: the modules whose functions :meth:`Checker.run` is given."""


class CheckerFailed(Exception):
    """The checker process died before it answered (control flow inside this package)."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(CHECKER_MODULES))  # applies when the fork server starts
        return context
    return multiprocessing.get_context("spawn")


class Checker:
    """Runs checks in a process of their own, one at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._one_at_a_time = threading.Lock()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a fresh process, after the checks before it; blocks (call it from a
        worker thread). ``fn`` is a module-level function of :data:`CHECKER_MODULES`, its
        arguments and result picklable. Raises :class:`CheckerFailed` if the process dies."""
        with self._one_at_a_time:
            try:
                with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
                    return pool.submit(fn, *args).result()
            except BrokenProcessPool as exc:
                raise CheckerFailed("the checker process died") from exc
