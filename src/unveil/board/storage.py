"""Where a board's log lives (spec §7, §11): the :class:`LogStorage` protocol that
:class:`~unveil.board.log.Log` writes through, and :class:`MemoryStorage`, for tests and tools.
SQLite and PostgreSQL storage is :class:`unveil.store.board_db.BoardStorage`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Protocol

__all__ = ["LogStorage", "MemoryStorage"]


class LogStorage(Protocol):
    """What :class:`~unveil.board.log.Log` needs from storage. Entries are ``(index, entry bytes)`` rows,
    indices ``0, 1, 2, …`` with no gap; bundles are reveal files keyed by their SHA-256 hex.

    Crash safety: :meth:`append_entries` is one transaction (all rows or none). The checkpoint
    of a batch is saved by a separate :meth:`save_checkpoint` call; if the process dies in
    between, :meth:`~unveil.board.log.Log.open` re-signs the checkpoint (Ed25519 is deterministic: the same bytes)
    and saves it, so ``save_checkpoint`` must accept a repeat of the same ``(size, note)``.
    """

    def load_entries(self) -> Iterable[tuple[int, bytes]]:
        """Every entry, in index order (streamed: the log may be large)."""
        ...

    def read_entries(self, start: int, end: int, max_bytes: int | None = None) -> Sequence[bytes]:
        """Entries ``start .. end-1`` (the caller checks ``0 <= start <= end <= size``); with
        ``max_bytes``, only as many as fit in that many bytes, and always the first."""
        ...

    def append_entries(self, rows: Sequence[tuple[int, bytes]], checkpoint: tuple[int, str] | None = None) -> None:
        """Append ``rows`` (consecutive indices from the current size) and, when given, save the
        board-signed ``checkpoint`` ``(size, note)`` covering them: all in one transaction."""
        ...

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        """The stored reveal file whose SHA-256 is ``sha256_hex``, or ``None``."""
        ...

    def has_bundle(self, sha256_hex: str) -> bool:
        """Whether a reveal file is held under ``sha256_hex`` (without reading it)."""
        ...

    def put_bundle(self, sha256_hex: str, data: bytes, uploaded: int = 0) -> bool:
        """Store a reveal file uploaded at unix time ``uploaded``, unless one is held under
        ``sha256_hex`` (then nothing changes); True if it was stored."""
        ...

    def purge_bundles(self, before: int, keep: Collection[str]) -> int:
        """Delete every reveal file uploaded before ``before`` whose SHA-256 is not in ``keep``;
        return how many."""
        ...

    def save_checkpoint(self, size: int, note: str) -> None:
        """Store the board-signed checkpoint note of ``size`` (upsert)."""
        ...

    def get_checkpoint(self, size: int) -> str | None:
        """The board-signed note of ``size`` (without cosignatures), or ``None``."""
        ...

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """``(size, note)`` of the largest stored size, or ``None``."""
        ...

    def load_checkpoints(self) -> Iterable[tuple[int, str]]:
        """Every stored ``(size, note)``, by size (for :meth:`Log.audit`)."""
        ...

    def add_cosignature(self, size: int, witness: str, line: str) -> None:
        """Store ``witness``'s cosignature line on the checkpoint of ``size``, replacing any
        earlier line of that witness for that size."""
        ...

    def cosignatures(self, size: int) -> Sequence[str]:
        """The cosignature lines of the checkpoint of ``size`` (one per witness)."""
        ...

    def latest_cosignatures(self) -> Sequence[tuple[str, int, str, str]]:
        """For each witness that cosigned, its largest cosigned size: ``(witness, size, the
        board's note of that size, the witness's line)``, by witness name."""
        ...


class MemoryStorage:
    """:class:`LogStorage` in memory, for tests and tools."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.bundles: dict[str, bytes] = {}
        self.uploaded: dict[str, int] = {}
        self.checkpoints: dict[int, str] = {}
        self.cosigs: dict[int, dict[str, str]] = {}

    def load_entries(self) -> Iterator[tuple[int, bytes]]:
        return iter(list(enumerate(self.entries)))

    def read_entries(self, start: int, end: int, max_bytes: int | None = None) -> list[bytes]:
        rows = self.entries[start:end]
        if max_bytes is None:
            return rows
        total = 0
        for count, entry in enumerate(rows):
            total += len(entry)
            if total > max_bytes and count:
                return rows[:count]
        return rows

    def append_entries(self, rows: Sequence[tuple[int, bytes]], checkpoint: tuple[int, str] | None = None) -> None:
        for offset, (index, _) in enumerate(rows):
            if index != len(self.entries) + offset:
                raise ValueError(f"row index {index} does not follow the log (size {len(self.entries) + offset})")
        self.entries.extend(entry for _, entry in rows)
        if checkpoint is not None:
            self.save_checkpoint(*checkpoint)

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        return self.bundles.get(sha256_hex)

    def has_bundle(self, sha256_hex: str) -> bool:
        return sha256_hex in self.bundles

    def put_bundle(self, sha256_hex: str, data: bytes, uploaded: int = 0) -> bool:
        if sha256_hex in self.bundles:
            return False
        self.uploaded[sha256_hex] = uploaded
        self.bundles[sha256_hex] = data
        return True

    def purge_bundles(self, before: int, keep: Collection[str]) -> int:
        doomed = [sha for sha, when in list(self.uploaded.items()) if when < before and sha not in keep]
        for sha in doomed:
            self.bundles.pop(sha, None)
            self.uploaded.pop(sha, None)
        return len(doomed)

    def save_checkpoint(self, size: int, note: str) -> None:
        self.checkpoints[size] = note

    def get_checkpoint(self, size: int) -> str | None:
        return self.checkpoints.get(size)

    def latest_checkpoint(self) -> tuple[int, str] | None:
        if not self.checkpoints:
            return None
        size = max(self.checkpoints)
        return size, self.checkpoints[size]

    def load_checkpoints(self) -> list[tuple[int, str]]:
        return sorted(self.checkpoints.items())

    def add_cosignature(self, size: int, witness: str, line: str) -> None:
        self.cosigs.setdefault(size, {})[witness] = line

    def cosignatures(self, size: int) -> list[str]:
        return [line for _, line in sorted(self.cosigs.get(size, {}).items())]

    def latest_cosignatures(self) -> list[tuple[str, int, str, str]]:
        latest: dict[str, int] = {}
        for size, lines in self.cosigs.items():
            for witness in lines:
                latest[witness] = max(size, latest.get(witness, size))
        return [(w, size, self.checkpoints[size], self.cosigs[size][w]) for w, size in sorted(latest.items()) if size in self.checkpoints]
