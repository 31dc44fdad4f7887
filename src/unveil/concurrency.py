"""Run one piece of independent work beside the caller, on another core.

The core stays pure: it may take waiters (``unveil verify``'s private fast path hands the
verifier one), and never starts processes. A runner turns a job
into a waiter for ``job()``'s result (see :data:`Runner`): :func:`inline` runs the job at
once; :func:`forked` runs it in a forked child process, which sees the parent's memory as it
was (no pickling of large inputs) and sends back only the result. Only the command-line edge
chooses :func:`forked`.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, TypeVar

T = TypeVar("T")
Runner = Callable[[Callable[[], T]], Callable[[], T]]

_JOB: Callable[[], object] | None = None


def inline(job: Callable[[], T]) -> Callable[[], T]:
    """Run ``job`` now; the waiter returns its result (or raises its exception)."""
    try:
        result = job()
    except BaseException as exc:  # noqa: BLE001  # re-raised, unchanged, when the caller waits
        error = exc  # ``exc`` itself is unbound when the except block ends

        def fail() -> T:
            raise error

        return fail
    return lambda: result


def _run_job() -> object:
    assert _JOB is not None  # set by forked() just before the child is forked
    return _JOB()


def forked(job: Callable[[], T]) -> Callable[[], T]:
    """Run ``job`` in a forked child process; the waiter returns its (pickled) result.

    Falls back to :func:`inline` where ``fork`` is not available.
    """
    global _JOB
    if "fork" not in multiprocessing.get_all_start_methods():
        return inline(job)
    _JOB = job
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = pool.submit(_run_job)  # the child is forked here, seeing _JOB
    finally:
        _JOB = None

    def wait() -> T:
        try:
            return future.result()  # type: ignore[return-value]  # the job's own result type
        finally:
            pool.shutdown()

    return wait


def fork_map(job: Callable[..., T], calls: list[tuple[object, ...]], workers: int,
             done: Callable[[int, T], None] | None = None) -> list[T]:
    """``[job(*args) for args in calls]``, run on ``workers`` forked processes (in the caller
    when ``workers`` is 1 or ``fork`` is not available); ``done(index, result)`` is called as
    each call finishes, in whatever order they finish. The results come back in call order."""
    results: list[T | None] = [None] * len(calls)
    if workers <= 1 or len(calls) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for index, args in enumerate(calls):
            results[index] = job(*args)
            if done is not None:
                done(index, results[index])  # type: ignore[arg-type]  # just set
        return results  # type: ignore[return-value]  # every slot set
    from concurrent.futures import as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {pool.submit(job, *args): index for index, args in enumerate(calls)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if done is not None:
                done(index, results[index])  # type: ignore[arg-type]  # just set
    return results  # type: ignore[return-value]  # every slot set
