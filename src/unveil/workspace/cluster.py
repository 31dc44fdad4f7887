"""The regime simulator's chunks on an existing Dask distributed cluster (
``unveil simulate --scheduler tcp://HOST:PORT``). The cluster runs the very chunks a local run
runs, each with its own stream, so the answer is the local one for the same seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unveil.errors import MalformedInputError

__all__ = ["run_on_cluster"]

CONNECT_TIMEOUT = "10s"


def run_on_cluster(address: str, regime: Any, streams: list[Any], sizes: list[int],
                   progress: Callable[[int], None] | None = None) -> list[Any]:
    """Each chunk's counts, computed on the Dask cluster whose scheduler is at ``address``, in chunk order."""
    from dask.distributed import Client  # dask[distributed], the declared dependency

    from unveil.simulation.montecarlo import run_chunk

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise MalformedInputError(f"cannot reach the Dask scheduler at {address[:200]!r}: {exc}", where="--scheduler") from None
    try:
        futures = client.map(run_chunk, [regime] * len(sizes), streams, sizes, pure=False)
        results: list[Any] = []
        for future, size in zip(futures, sizes, strict=True):  # in chunk order: the bar may lag, never lead
            results.append(future.result())
            if progress is not None:
                progress(size)
        return results
    finally:
        client.close()
