"""Group commit: many ``POST /entries`` in one storage transaction and one checkpoint (spec §7).

A :class:`GroupCommit` is the queue and drain task of one event loop. A submission (an event
:meth:`~unveil.board.log.Log.prepare` already parsed and verified) goes on the loop's
:class:`asyncio.Queue` with a future; one drain task takes up to ``batch_max`` pending
submissions at a time and hands them to ``commit`` — :meth:`unveil.api.board.Board.commit`, the
only writer, which appends them on the board's one writer thread under the board's lock — then
resolves each future with its :class:`~unveil.board.log.Receipt` or
:class:`~unveil.errors.BoardRefused`. A storage failure fails every submission of the batch
with ``storage-failure`` (503): the log keeps all rows of a batch or none.

The task starts when a submission arrives and ends when the queue is empty, so no task outlives
its loop. Without a lifespan, Starlette's ``TestClient`` runs each request on a loop of its
own: :class:`LoopWriters` gives each loop its own queue, and the board's lock still serialises
their batches.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence

from unveil.board.log import Prepared, Receipt
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["Commit", "GroupCommit", "LoopWriters"]

log_ = logging.getLogger("unveil.api")

Result = Receipt | BoardRefused
Commit = Callable[[Sequence[Prepared]], Awaitable[list[Result]]]
"""Appends a batch (off the event loop) and returns one result per submission."""


class GroupCommit:
    """The group-commit queue and drain task of one event loop."""

    def __init__(self, commit: Commit, batch_max: int):
        self._commit = commit
        self._batch_max = batch_max
        self._queue: asyncio.Queue[tuple[Prepared, asyncio.Future[Result]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def submit(self, prepared: Prepared) -> Result:
        """Queue one prepared submission; its receipt or refusal once its batch is written."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.put_nowait((prepared, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain(), name="unveil-board-writer")
        return await future

    async def _drain(self) -> None:
        # The emptiness check and the task's end happen in one step of the loop: a submission
        # queued after the check finds the task done and starts a new one.
        while not self._queue.empty():
            batch: list[tuple[Prepared, asyncio.Future[Result]]] = []
            while len(batch) < self._batch_max and not self._queue.empty():
                prepared, future = self._queue.get_nowait()
                if not future.done():  # its request was cancelled: nothing was promised
                    batch.append((prepared, future))
            if not batch:
                continue
            try:
                results = await self._commit([prepared for prepared, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001  # every request of the batch learns of it
                log_.exception("board write failed")
                failure = BoardRefused(Reason.STORAGE_FAILURE, f"the board could not write: {type(exc).__name__}")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


class LoopWriters:
    """One :class:`GroupCommit` per running event loop (forgotten with its loop)."""

    def __init__(self, commit: Commit, batch_max: int):
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self._commit, self._batch_max = commit, batch_max
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def current(self) -> GroupCommit:
        """The running loop's writer."""
        loop = asyncio.get_running_loop()
        with self._lock:
            writer = self._writers.get(loop)
            if writer is None:
                writer = self._writers[loop] = GroupCommit(self._commit, self._batch_max)
        return writer

    async def drain(self) -> None:
        """Wait for the running loop's writer to finish its queue (at shutdown)."""
        writer = self._writers.get(asyncio.get_running_loop())
        if writer is not None and writer.task is not None and not writer.task.done():
            await asyncio.shield(writer.task)
