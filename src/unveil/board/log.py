"""The board's log (spec §7): events in, entries, checkpoints, proofs and cosignatures out.

:class:`Log` ties the event shapes (:mod:`.events`), authors (:mod:`.parties`), protocol
(:mod:`.protocol`) and tree (:mod:`.tree`) together over an injected :class:`LogStorage`. It
does no I/O of its own and reads no clock: ``now()`` (unix seconds) is passed in.

- :meth:`Log.open` replays every stored entry through the same checks as a fresh
  :func:`~unveil.board.audit.audit` and raises :class:`~unveil.errors.VerificationError` if the
  stored log is not one the board could have written; it also checks the latest stored
  checkpoint against the replayed tree, then (re)signs the checkpoint of the current size.
- :meth:`Log.submit` / :meth:`Log.submit_many`: a byte-identical repeat of a logged entry
  returns its index (``created=False``); the same statement under other signatures is refused
  (``statement-conflict``, 409); anything else is checked, appended, and the batch ends in one
  new checkpoint, signed by the board key. Costs per event: one parse, the signature checks,
  O(log n) tree hashes; per batch: one storage transaction and one signature.
- Checkpoints are C2SP tlog-checkpoint notes (origin, size, b64 root) signed by the board key
  (type 0x01, named ``origin``); :meth:`Log.checkpoint` appends every stored witness
  cosignature of the current checkpoint as extra signature lines.

Not thread-safe for concurrent writers beyond the internal lock: one process owns a board.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from unveil.board.audit import AuditReport, audit, check_checkpoint, replay
from unveil.board.events import Event, parse_event
from unveil.board.parties import Parties, Party
from unveil.board.protocol import BoardState
from unveil.board.tree import AppendOnlyTree
from unveil.core.encoding import unix_time
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.merkle import leaf_hash
from unveil.core.notes import Checkpoint, assemble_note, open_note, parse_signature_line, sign_note, verify_cosignature, verify_note
from unveil.core.reasons import Reason
from unveil.core.reveal import REVEAL_TYPE
from unveil.errors import BoardRefused, MalformedInputError, VerificationError

__all__ = ["Log", "LogStorage", "MemoryStorage", "Prepared", "Receipt"]


class LogStorage(Protocol):
    """What :class:`Log` needs from storage. Entries are ``(index, entry bytes)`` rows,
    indices ``0, 1, 2, …`` with no gap; bundles are reveal files keyed by their SHA-256 hex.

    Crash safety: :meth:`append_entries` is one transaction (all rows or none). The checkpoint
    of a batch is saved by a separate :meth:`save_checkpoint` call; if the process dies in
    between, :meth:`Log.open` re-signs the checkpoint (Ed25519 is deterministic: the same bytes)
    and saves it, so ``save_checkpoint`` must accept a repeat of the same ``(size, note)``.
    """

    def load_entries(self) -> Iterable[tuple[int, bytes]]:
        """Every entry, in index order (streamed: the log may be large)."""
        ...

    def read_entries(self, start: int, end: int) -> Sequence[bytes]:
        """Entries ``start .. end-1`` (the caller checks ``0 <= start <= end <= size``)."""
        ...

    def append_entries(self, rows: Sequence[tuple[int, bytes]], checkpoint: tuple[int, str] | None = None) -> None:
        """Append ``rows`` (consecutive indices from the current size) and, when given, save the
        board-signed ``checkpoint`` ``(size, note)`` covering them: all in one transaction."""
        ...

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        """The stored reveal file whose SHA-256 is ``sha256_hex``, or ``None``."""
        ...

    def put_bundle(self, sha256_hex: str, data: bytes) -> None:
        """Store a reveal file (a repeat of the same bytes is a no-op)."""
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

    def latest_cosignatures(self) -> Sequence[tuple[str, int, str, str]]:
        """For each witness that cosigned, its largest cosigned size: ``(witness, size, the
        board's note of that size, the witness's line)``, by witness name."""
        ...

    def cosignatures(self, size: int) -> Sequence[str]:
        """The cosignature lines of the checkpoint of ``size`` (one per witness)."""
        ...


class MemoryStorage:
    """:class:`LogStorage` in memory, for tests and tools."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.bundles: dict[str, bytes] = {}
        self.checkpoints: dict[int, str] = {}
        self.cosigs: dict[int, dict[str, str]] = {}

    def load_entries(self) -> Iterator[tuple[int, bytes]]:
        return iter(list(enumerate(self.entries)))

    def read_entries(self, start: int, end: int) -> list[bytes]:
        return self.entries[start:end]

    def append_entries(self, rows: Sequence[tuple[int, bytes]], checkpoint: tuple[int, str] | None = None) -> None:
        for offset, (index, _) in enumerate(rows):
            if index != len(self.entries) + offset:
                raise ValueError(f"row index {index} does not follow the log (size {len(self.entries) + offset})")
        self.entries.extend(entry for _, entry in rows)
        if checkpoint is not None:
            self.save_checkpoint(*checkpoint)

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        return self.bundles.get(sha256_hex)

    def put_bundle(self, sha256_hex: str, data: bytes) -> None:
        self.bundles[sha256_hex] = data

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
        return list(self.cosigs.get(size, {}).values())

    def latest_cosignatures(self) -> list[tuple[str, int, str, str]]:
        latest: dict[str, int] = {}
        for size, lines in self.cosigs.items():
            for witness in lines:
                latest[witness] = max(size, latest.get(witness, size))
        return [(w, size, self.checkpoints[size], self.cosigs[size][w]) for w, size in sorted(latest.items()) if size in self.checkpoints]


@dataclass(frozen=True)
class Prepared:
    """A submission after :meth:`Log.prepare`: the parsed ``event`` (``None`` if malformed),
    its ``author`` (``None`` if no registered key signed it) and the ``refusal`` found so far,
    which :meth:`Log.submit_many` reports after its idempotency check (a byte-identical or
    conflicting repeat is judged first, as for an unprepared document). Made only by
    :meth:`Log.prepare`: ``submit_many`` trusts its ``author``, so never build one by hand."""

    event: Event | None
    author: Party | None
    refusal: BoardRefused | None


@dataclass(frozen=True)
class Receipt:
    """Where an event is: its ``index``, a board-signed checkpoint note that includes it, and
    whether this submission added it (``False``: it was already logged, byte for byte)."""

    index: int
    checkpoint_note: str
    created: bool


def _indexed(rows: Iterable[tuple[int, bytes]]) -> Iterator[bytes]:
    for expected, (index, entry) in enumerate(rows):
        if index != expected:
            raise VerificationError.because(Reason.ENTRY_INDEX_GAP, f"storage returned entry {index} where {expected} was due")
        yield entry


class Log:
    """One board's log. Build with :meth:`open`."""

    def __init__(
        self,
        storage: LogStorage,
        origin: str,
        key: SigningKey,
        parties: Parties,
        now: Callable[[], int],
        *,
        check_bundles: bool,
        max_skew: int | None,
    ):
        """Internal: use :meth:`open`."""
        if key.key_type != STATEMENT_KEY or key.name != origin:
            raise ValueError(f"the board key must be a statement key (0x01) named {origin!r}")
        if parties.board.name != origin or parties.board.vkey != key.vkey:
            raise ValueError(f"PARTIES.json registers {parties.board.vkey} as the board, not {key.vkey}")
        self._storage = storage
        self.origin = origin
        self._key = key
        self.parties = parties
        self._now = now
        self._check_bundles = check_bundles
        self._max_skew = max_skew
        self._lock = threading.RLock()
        self._state = BoardState(parties)
        self._tree = AppendOnlyTree()
        self._note = ""
        self._broken: BaseException | None = None

    @classmethod
    def open(
        cls,
        storage: LogStorage,
        origin: str,
        key: SigningKey,
        parties: Parties,
        now: Callable[[], int],
        *,
        check_bundles: bool = True,
        max_skew: int | None = 300,
    ) -> Log:
        """Replay ``storage`` (every entry re-verified) and return the log.

        ``check_bundles=False`` skips re-checking stored reveal files on replay (faster start;
        they were checked when accepted). ``max_skew``: refuse events whose ``time`` is more
        than this many seconds after ``now()`` (``None``: never). Raises
        :class:`VerificationError` listing every problem if the stored log does not replay.
        """
        log = cls(storage, origin, key, parties, now, check_bundles=check_bundles, max_skew=max_skew)
        log._load()
        return log

    def _load(self) -> None:
        bundles = self._storage.get_bundle if self._check_bundles else None
        state, tree, problems = replay(_indexed(self._storage.load_entries()), self.parties, bundles)
        latest = self._storage.latest_checkpoint()
        if latest is not None:
            problems += check_checkpoint(latest[1], tree, self.parties, self.origin)
        if problems:
            raise VerificationError(problems)
        self._state, self._tree = state, tree
        self._note = self._sign(tree.size)
        if latest is None or latest[0] != tree.size:
            self._storage.save_checkpoint(tree.size, self._note)

    # --- reading -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._tree.size

    def root(self, size: int | None = None) -> bytes:
        return self._tree.root(size)

    @property
    def state(self) -> BoardState:
        """The replayed protocol state (read it; do not change it)."""
        return self._state

    def checkpoint(self) -> str:
        """The latest checkpoint note, with every stored witness cosignature appended."""
        with self._lock:
            note, size = self._note, self._tree.size
        lines = self._storage.cosignatures(size)
        return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def cosigned(self) -> list[tuple[str, int, str]]:
        """For each registered witness that cosigned on this board, its largest cosigned
        checkpoint (spec §11 ``GET /checkpoints/cosigned``): ``(witness, size, note)``, the note
        being the board-signed note of that size followed by the witness's cosignature line."""
        found = []
        for witness, size, note, line in self._storage.latest_cosignatures():
            party = self.parties.by_name(witness)
            if party is not None and party.witness_vkey is not None:
                found.append((witness, size, note + (line if line.endswith("\n") else line + "\n")))
        return found

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``start .. end-1`` (``BoardRefused("range-invalid")`` outside ``[0, size]``)."""
        if type(start) is not int or type(end) is not int or not 0 <= start <= end <= self.size:
            raise BoardRefused(Reason.RANGE_INVALID, f"entries [{start}, {end}) are not within [0, {self.size}]")
        return list(self._storage.read_entries(start, end))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 audit path of entry ``index`` in the tree of ``size`` (default: current)."""
        try:
            return self._tree.inclusion_proof(index, size)
        except ValueError as exc:
            raise BoardRefused(Reason.RANGE_INVALID, str(exc)) from None

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof from ``size1`` to ``size2`` (spec §7 rules)."""
        try:
            return self._tree.consistency_proof(size1, size2)
        except ValueError as exc:
            raise BoardRefused(Reason.RANGE_INVALID, str(exc)) from None

    def audit(self) -> AuditReport:
        """A fresh :func:`~unveil.board.audit.audit` of everything in storage."""
        entries = _indexed(self._storage.load_entries())
        notes = (note for _, note in self._storage.load_checkpoints())
        bundles = self._storage.get_bundle if self._check_bundles else None
        return audit(entries, self.parties, self.origin, notes, bundles=bundles)

    # --- writing -----------------------------------------------------------------------------

    def get_bundle(self, sha256_hex: str) -> bytes | None:
        """The exact bytes of a reveal file the board holds, or None."""
        return self._storage.get_bundle(sha256_hex)

    def put_bundle(self, data: bytes) -> str:
        """Store a reveal file (a signed reveal bundle, spec §5, §6); return its SHA-256 hex,
        which ``reveal.published`` names. :class:`MalformedInputError` if it is not one."""
        doc = loads(data, source="reveal file")
        signed = parse_signed(doc)
        if signed.statement.get("type") != REVEAL_TYPE:
            raise MalformedInputError(f"statement.type must be {REVEAL_TYPE!r}", source="reveal file")
        sha = hashlib.sha256(data).hexdigest()
        self._storage.put_bundle(sha, data)
        return sha

    def submit(self, envelope_doc: Any) -> Receipt:
        """Append one event (a signed envelope, parsed JSON or its bytes); raise :class:`BoardRefused`."""
        result = self.submit_many([envelope_doc])[0]
        if isinstance(result, BoardRefused):
            raise result
        return result

    def submit_many(self, docs: Sequence[Any]) -> list[Receipt | BoardRefused]:
        """Check and append each of ``docs`` (envelopes, or :meth:`prepare`'s results) in
        order (later ones see earlier ones), in one storage transaction and under one new
        checkpoint. Each result is a :class:`Receipt` or the :class:`BoardRefused` for that
        document; a storage failure raises (nothing is kept)."""
        with self._lock:
            self._check_usable()
            start = self._tree.size
            rows: list[tuple[int, bytes]] = []
            outcomes: list[tuple[int, bool] | BoardRefused] = []
            for doc in docs:
                try:
                    outcomes.append(self._accept(doc, rows))
                except BoardRefused as refused:
                    outcomes.append(refused)
            if rows:
                note = self._sign(self._tree.size)
                try:  # entries and their checkpoint in one transaction: one commit per batch
                    self._storage.append_entries(rows, checkpoint=(self._tree.size, note))
                except BaseException:
                    self._recover(start)
                    raise
                self._note = note
            note = self._note
        return [o if isinstance(o, BoardRefused) else Receipt(o[0], note, o[1]) for o in outcomes]

    def _recover(self, size: int) -> None:
        """After a failed write: rebuild everything from storage (it kept all rows or none).
        If that fails too, the log refuses every further write until it is reopened."""
        self._tree.truncate(size)
        try:
            self._load()
        except BaseException as exc:
            self._broken = exc

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise RuntimeError(f"the board log must be reopened after a storage failure: {self._broken}")

    def prepare(self, doc: Any) -> Prepared:
        """The checks of one submission that need no log state: parse the envelope (bytes or
        parsed JSON) and verify its signatures against the registered keys. Thread-safe, and
        the costly part of a submission (an Ed25519 verification, which releases the GIL), so a
        server runs it for many requests at once and hands :meth:`submit_many` the results."""
        try:
            if isinstance(doc, (bytes, bytearray, str)):
                doc = loads(bytes(doc) if isinstance(doc, bytearray) else doc, source="event")
            event = parse_event(doc)
        except MalformedInputError as exc:
            return Prepared(None, None, BoardRefused(Reason.MALFORMED, str(exc)))
        try:
            return Prepared(event, self.parties.author_of(event), None)
        except BoardRefused as refused:
            return Prepared(event, None, refused)

    def _accept(self, doc: Any, rows: list[tuple[int, bytes]]) -> tuple[int, bool]:
        prepared = doc if isinstance(doc, Prepared) else self.prepare(doc)
        event, author = prepared.event, prepared.author
        if event is None:
            raise prepared.refusal  # type: ignore[misc]  # Prepared: no event means a refusal
        existing = self._state.statements.get(event.statement_sha256)
        if existing is not None:  # before the signatures' verdict: a repeat is judged by its bytes
            if self._tree.leaf_hash_at(existing) == leaf_hash(event.entry):
                return existing, False
            raise BoardRefused(Reason.STATEMENT_CONFLICT, f"entry {existing} holds this statement under other signatures")
        if prepared.refusal is not None:
            raise prepared.refusal
        if author is None:
            raise BoardRefused(Reason.AUTHOR_UNKNOWN, "no signature by a registered statement key")
        self._check_time(event)
        self._state.check(event, author, self._storage.get_bundle)
        index = self._state.apply(event, author)
        self._tree.append(leaf_hash(event.entry))
        rows.append((index, event.entry))
        return index, True

    def _check_time(self, event: Event) -> None:
        if self._max_skew is None:
            return
        now = self._now()
        if (unix_time(event.time) or 0) > now + self._max_skew:  # parse_event checked the format
            raise BoardRefused(Reason.TIME_FUTURE, f"time {event.time} is more than {self._max_skew} s after the board's clock")

    def _sign(self, size: int) -> str:
        body = Checkpoint(self.origin, size, self._tree.root(size)).body()
        return assemble_note(body, [sign_note(body, self._key)])

    def add_cosignature(self, body: str, line: str) -> int:
        """Store a registered witness's cosignature (spec §7) on ``body``, the current or an
        earlier checkpoint this board signed; return the cosignature's time.

        Raises :class:`BoardRefused`: ``malformed`` (400), ``checkpoint-unknown`` (404),
        ``witness-unknown`` (403), ``cosignature-invalid`` (422).
        """
        self._check_usable()
        try:
            checkpoint = Checkpoint.parse(body)
            name, _ = parse_signature_line(line)
        except MalformedInputError as exc:
            raise BoardRefused(Reason.MALFORMED, str(exc)) from None
        if not self._signed_body(checkpoint, body):
            raise BoardRefused(Reason.CHECKPOINT_UNKNOWN, f"this board did not sign a checkpoint {checkpoint.origin!r} of size {checkpoint.size} with that root")
        witness = self.parties.by_name(name)
        key = witness.witness_key if witness is not None else None
        if witness is None or key is None:
            raise BoardRefused(Reason.WITNESS_UNKNOWN, f"{name!r} is not a registered witness")
        try:
            time = verify_cosignature(body, line, key)
        except VerificationError as exc:
            raise BoardRefused(Reason.COSIGNATURE_INVALID, str(exc), problems=exc.problems) from None
        self._storage.add_cosignature(checkpoint.size, name, line if line.endswith("\n") else line + "\n")
        return time

    def _signed_body(self, checkpoint: Checkpoint, body: str) -> bool:
        if checkpoint.origin != self.origin:
            return False
        with self._lock:
            size, note = self._tree.size, self._note
        if checkpoint.size == size:
            return open_note(note)[0] == body
        stored = self._storage.get_checkpoint(checkpoint.size) if checkpoint.size < size else None
        if stored is None:
            return False
        try:
            verify_note(stored, [self._key.verifier])
        except (MalformedInputError, VerificationError):
            return False
        return open_note(stored)[0] == body and self._tree.root(checkpoint.size) == checkpoint.root
