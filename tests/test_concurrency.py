"""unveil.concurrency: the runners (inline, and forked on another core) the command line uses."""

from __future__ import annotations

import os

import pytest

from unveil.concurrency import forked, inline


def test_inline_returns_the_result_and_reraises_the_error() -> None:
    assert inline(lambda: 41 + 1)() == 42

    def boom() -> int:
        raise ValueError("from the job")

    wait = inline(boom)
    with pytest.raises(ValueError, match="from the job"):
        wait()


def test_forked_runs_in_another_process_and_returns_its_result() -> None:
    big = list(range(100_000))  # seen by the child through fork, not pickled
    wait = forked(lambda: (os.getpid(), sum(big)))
    pid, total = wait()
    assert pid != os.getpid() and total == sum(big)


def test_forked_reraises_the_jobs_error() -> None:
    def boom() -> int:
        raise KeyError("lost")

    with pytest.raises(KeyError):
        forked(boom)()


def _square_pid(x: int) -> tuple[int, int]:
    import os

    return x * x, os.getpid()


def test_fork_map_returns_results_in_call_order_and_reports_each() -> None:
    import os

    from unveil.concurrency import fork_map

    seen: list[int] = []
    results = fork_map(_square_pid, [(i,) for i in range(8)], 2, lambda index, _: seen.append(index))
    assert [r[0] for r in results] == [i * i for i in range(8)] and sorted(seen) == list(range(8))
    assert all(pid != os.getpid() for _, pid in results)
    inline = fork_map(_square_pid, [(3,)], 4)
    assert inline == [(9, os.getpid())]
