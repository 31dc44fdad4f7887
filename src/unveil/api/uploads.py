"""Reveal-file uploads that cannot stall the board (spec §11): few at once, checked elsewhere.

``PUT /bundles/{sha256}`` takes up to the upload limit (16 MiB by default), and checking one
(:func:`unveil.board.uploads.check_upload`: a strict parse, a canonicalization, a signature
check) holds the interpreter for up to half a second per 16 MiB. So:

- :meth:`Uploads.admitted` admits at most ``slots`` uploads at a time, from the first byte of
  the body to the answer; one more is refused at once (``uploads-busy``, 503, ``Retry-After``)
  before its body is read. Memory held by uploads is at most ``slots`` bodies.
- :meth:`Uploads.check` first runs the cheap test in a worker thread
  (:func:`~unveil.board.uploads.names_a_registered_key`: a file that names no registered key is
  refused without being parsed), then the full check on the board's
  :class:`~unveil.api.checker.Checker`: in a process of its own, one file at a time, so the
  board's event loop, verifier threads and writer thread never wait for a parse.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import anyio.to_thread

from unveil.api.checker import Checker, CheckerFailed
from unveil.board.uploads import names_a_registered_key, upload_refusal
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, MalformedInputError

__all__ = ["Uploads"]

log_ = logging.getLogger("unveil.api")


class Uploads:
    """Admission and checking of reveal-file uploads (see the module docstring)."""

    def __init__(self, slots: int = 2, checker: Checker | None = None):
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.checker = checker if checker is not None else Checker()
        self._active = 0
        self._lock = threading.Lock()

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """One upload's turn; :class:`BoardRefused` (``uploads-busy``) if ``slots`` are taken."""
        with self._lock:
            if self._active >= self.slots:
                raise BoardRefused(Reason.UPLOADS_BUSY, f"the board is taking {self.slots} uploads already: retry shortly")
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    async def check(self, data: bytes, vkeys: Sequence[str]) -> None:
        """Refuse ``data`` unless it is storable (spec §11): :class:`BoardRefused`
        (``upload-unsigned``) or :class:`MalformedInputError`."""
        keys = list(vkeys)
        if not await anyio.to_thread.run_sync(names_a_registered_key, data, keys):
            raise BoardRefused(Reason.UPLOAD_UNSIGNED, "the file names no registered statement key: it carries no registered party's signature")
        refusal = await anyio.to_thread.run_sync(self._in_process, data, keys)
        if refusal is None:
            return
        reason, message = refusal  # check_upload refuses with upload-unsigned or as malformed
        if reason == Reason.UPLOAD_UNSIGNED:
            raise BoardRefused(Reason.UPLOAD_UNSIGNED, message)
        raise MalformedInputError(message)

    def _in_process(self, data: bytes, vkeys: list[str]) -> tuple[str, str] | None:
        """In a worker thread: the full check on the checker (a process of its own)."""
        try:
            return self.checker.run(upload_refusal, data, vkeys)
        except CheckerFailed:
            log_.exception("the upload checker process died")
            raise BoardRefused(Reason.STORAGE_FAILURE, "the board could not check the file: its checker process failed") from None
