"""The board behind the API: every read and write of the log goes through one :class:`Board`,
under its one lock (spec §7, §11).

**The lock.** :class:`Board` holds one ``threading.Lock``. The one writer thread holds it for
each batch it appends (:meth:`Board.commit`, fed by :mod:`unveil.api.writer`); every read of
the log (checkpoint, entries, proofs, cosigned checkpoints), every cosignature and every purge
of reveal files run in a worker thread under it (:meth:`Board._locked`): the tree is not safe
to read while it grows, and :class:`~unveil.board.storage.LogStorage` promises no thread safety.
A read waits at most one batch commit; the event loop never waits for the lock.

Outside the lock, by design: :meth:`Log.prepare <unveil.board.log.Log.prepare>` (parsing and
signature checks, thread-safe, on the verifier threads), :meth:`Log.precheck
<unveil.board.log.Log.precheck>` (the check of the reveal file a ``reveal.published`` names, run
on the :class:`~unveil.api.checker.Checker`, in a process of its own, so a 16 MiB reveal holds
neither the writer nor this process's interpreter), the log's size (one attribute), and
reveal files (``GET``, the held test and storing: no entry depends on a file until an entry
names it, and a purge, under the lock, spares every file an entry names and every file uploaded
within its period). The large bodies are never parsed under it (:mod:`unveil.api.uploads`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio.to_thread

from unveil.api.checker import CheckerFailed
from unveil.api.uploads import Uploads
from unveil.api.writer import LoopWriters
from unveil.board.events import REVEAL_PUBLISHED
from unveil.board.log import Log, Prepared, Receipt
from unveil.board.protocol import run_verdict_job
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["PAGE_BYTES", "PAGE_MAX", "PURGE_AFTER", "Board"]

T = TypeVar("T")

log_ = logging.getLogger("unveil.api")

PAGE_MAX = 1000
"""The most entries one ``GET /entries`` returns (spec §11)."""

PAGE_BYTES = 8 * 2**20
"""The largest ``GET /entries`` answer, in bytes (spec §11: 8 MiB)."""

_ROW_OVERHEAD = len(b'{"index":9007199254740991,"entry":},')
"""The most a page adds around one entry."""

PURGE_AFTER = 3600
"""Seconds after its upload that a reveal file no entry names may be deleted (spec §11)."""


class Board:
    """The log of one board and what serves it: one lock, one writer thread, verifier threads,
    a group-commit queue per event loop, upload admission (see the module docstring).

    ``purge_after``: seconds after which a reveal file no entry names is deleted (``None``:
    never), checked before each new file is stored."""

    def __init__(self, log: Log, *, batch_max: int = 256, verifiers: int = 2, purge_after: int | None = PURGE_AFTER, uploads: Uploads | None = None):
        if verifiers < 1:
            raise ValueError("verifiers must be at least 1")
        if purge_after is not None and purge_after < 0:
            raise ValueError("purge_after must be at least 0")
        self.log = log
        self.purge_after = purge_after
        self.uploads = uploads if uploads is not None else Uploads()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unveil-board-writer")
        self._verifiers = ThreadPoolExecutor(max_workers=verifiers, thread_name_prefix="unveil-board-verify")
        self._files = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unveil-board-files")  # one reveal file at a time
        self.writers = LoopWriters(self._commit_off_loop, batch_max)

    # --- entries -----------------------------------------------------------------------------

    async def submit(self, body: bytes) -> Receipt | BoardRefused:
        """``POST /entries``: parse and verify on a verifier thread, then append with the
        running loop's group commit; the receipt, or the refusal of the event."""
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(self._verifiers, self.log.prepare, body)
        if prepared.event is None:
            assert prepared.refusal is not None  # a Prepared without an event carries its refusal
            return prepared.refusal
        if prepared.event.kind == REVEAL_PUBLISHED:  # its file is checked here, not under the writer
            await loop.run_in_executor(self._files, self._precheck, prepared)
        return await self.writers.current().submit(prepared)

    def _precheck(self, prepared: Prepared) -> None:
        """On the files thread: :meth:`Log.precheck <unveil.board.log.Log.precheck>`, its check
        run on the checker. If the checker fails, the writer checks the file itself."""
        job = self.log.verdict_job(prepared)
        if job is None:
            return
        try:
            verdict = self.uploads.checker.run(run_verdict_job, job)
        except CheckerFailed:
            log_.exception("the reveal checker process died; the writer checks the file")
            return
        self.log.keep_verdict(job, verdict)

    def commit(self, batch: Sequence[Prepared]) -> list[Receipt | BoardRefused]:
        """On the writer thread: append one batch, under the lock."""
        with self._lock:
            return self.log.submit_many(batch)

    async def _commit_off_loop(self, batch: Sequence[Prepared]) -> list[Receipt | BoardRefused]:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.commit, batch)

    @property
    def size(self) -> int:
        """The log's size (one attribute: read without the lock)."""
        return self.log.size

    async def entry(self, index: int) -> bytes:
        """Entry ``index``; ``entry-unknown`` outside the log."""

        def one() -> bytes:
            size = self.log.size
            if not 0 <= index < size:
                raise BoardRefused(Reason.ENTRY_UNKNOWN, f"entry {index} is not in the log (size {size})")
            return self.log.entries(index, index + 1)[0]

        return await self._locked(one)

    async def page(self, start: int, end: int | None) -> list[bytes]:
        """Entries from ``start``, before ``end`` (default: the log's size): at most
        :data:`PAGE_MAX` of them and what fits in a :data:`PAGE_BYTES` answer, at least one if
        any is in range. ``range-invalid`` if ``start`` is not in ``[0, size]`` or ``end <
        start``."""
        count, budget = PAGE_MAX, PAGE_BYTES - 16 - PAGE_MAX * _ROW_OVERHEAD  # read when called: tests lower them

        def rows() -> list[bytes]:
            size = self.log.size
            if not 0 <= start <= size:
                raise BoardRefused(Reason.RANGE_INVALID, f"start {start} is not within [0, {size}]")
            if end is not None and end < start:
                raise BoardRefused(Reason.RANGE_INVALID, f"end {end} is before start {start}")
            stop = min(size, start + count, size if end is None else end)
            return self.log.entries(start, stop, max_bytes=budget)

        return await self._locked(rows)

    # --- checkpoints and proofs ------------------------------------------------------------

    async def checkpoint(self) -> str:
        """The latest checkpoint note with every stored cosignature."""
        return await self._locked(self.log.checkpoint)

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return await self._locked(self.log.inclusion_proof, index, size)

    async def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return await self._locked(self.log.consistency_proof, size1, size2)

    async def add_cosignature(self, body: str, line: str) -> int:
        """Store a registered witness's cosignature; its time."""
        return await self._locked(self.log.add_cosignature, body, line)

    async def cosigned(self) -> list[tuple[str, int, str]]:
        """Each registered witness's largest cosigned checkpoint (spec §11)."""
        return await self._locked(self.log.cosigned)

    # --- reveal files (outside the lock, but the purge) -----------------------------------

    async def bundle(self, sha256_hex: str) -> bytes | None:
        return await anyio.to_thread.run_sync(self.log.get_bundle, sha256_hex)

    async def has_bundle(self, sha256_hex: str) -> bool:
        return await anyio.to_thread.run_sync(self.log.has_bundle, sha256_hex)

    async def store_bundle(self, sha256_hex: str, data: bytes) -> bool:
        """Store a checked reveal file (False: held already), after purging the expired ones."""
        await self.purge()
        return await anyio.to_thread.run_sync(self.log.store_bundle, sha256_hex, data)

    async def purge(self) -> int:
        """Delete the reveal files no entry names, uploaded more than ``purge_after`` ago."""
        if self.purge_after is None:
            return 0
        return await self._locked(self.log.purge_bundles, self.purge_after)

    # --- the lock ----------------------------------------------------------------------------

    def run_locked(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` under the lock, in the calling (worker) thread: for readers of the log
        that already run off the event loop (:mod:`unveil.api.views`)."""
        with self._lock:
            return fn(*args)

    async def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, under the lock."""

        def locked() -> T:
            with self._lock:
                return fn(*args)

        return await anyio.to_thread.run_sync(locked)
