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
- Acceptance is replay (spec §7: a board never accepts an entry a replay of its log would
  refuse): :meth:`Log.prepare` reads every submission through the strict parser, as the audit
  reads the entry it becomes, and the protocol's checks are the audit's.
  Only the time checks (:meth:`Log._check_time`, ``time-future`` and ``time-out-of-range``)
  read a clock, and an audit does not repeat them.
- Checkpoints are C2SP tlog-checkpoint notes (origin, size, b64 root) signed by the board key
  (type 0x01, named ``origin``); :meth:`Log.checkpoint` appends every stored witness
  cosignature of the current checkpoint as extra signature lines; :meth:`Log.cosigned` gives
  each witness's largest cosigned checkpoint (spec §11).
- Reveal files (spec §11): :meth:`Log.store_bundle` keeps one with its upload time;
  :meth:`Log.purge_bundles` deletes those no entry names once they are older than a period.
  A published escrow's ``cells.txt`` (:meth:`Log.put_cells`) is kept beside them, never purged.

Not thread-safe for concurrent writers beyond the internal lock: one process owns a board.

It is one module, past 400 lines, because :class:`Log` is the one door to a board's log: every
submission, read, proof and cosignature goes through it, so the order of its checks can be
read in one place.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from unveil.board.audit import AuditReport, audit, check_checkpoint, replay
from unveil.board.cells import check_cells, committing
from unveil.board.events import Event, parse_event, starts_or_answers_a_deadline
from unveil.board.parties import Parties, Party
from unveil.board.protocol import BoardState, FileVerdict, VerdictJob, run_verdict_job
from unveil.board.storage import LogStorage, MemoryStorage
from unveil.board.tree import AppendOnlyTree
from unveil.board.uploads import check_upload
from unveil.core.encoding import unix_time
from unveil.core.escrow import Escrow
from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.merkle import leaf_hash
from unveil.core.notes import Checkpoint, assemble_note, open_note, parse_signature_line, sign_note, verify_cosignature, verify_note
from unveil.core.reasons import Reason
from unveil.errors import BoardRefused, CanonicalizationError, MalformedInputError, VerificationError

__all__ = ["MAX_AGE", "MAX_SKEW", "Log", "LogStorage", "MemoryStorage", "Prepared", "Receipt"]

MAX_SKEW = 300
"""Seconds an event's ``time`` may lie after the board's clock (spec §7, ``time-future``)."""

MAX_AGE = 24 * 3600
"""Seconds an event's ``time`` may lie before the board's clock (spec §7, ``time-out-of-range``)."""


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


def _as_bytes(doc: Any) -> bytes:
    """A submission's bytes: as sent, or the JCS form of parsed JSON."""
    if isinstance(doc, (bytes, bytearray)):
        return bytes(doc)
    if isinstance(doc, str):
        return doc.encode("utf-8", "surrogatepass")
    try:
        return canonicalize(doc)
    except (CanonicalizationError, RecursionError) as exc:  # RecursionError: nested far beyond spec §0's 64
        raise MalformedInputError(f"the event has no canonical form: {type(exc).__name__}: {exc}") from None


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
        max_age: int | None,
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
        self._max_age = max_age
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
        max_skew: int | None = MAX_SKEW,
        max_age: int | None = MAX_AGE,
    ) -> Log:
        """Replay ``storage`` (every entry re-verified) and return the log.

        ``check_bundles=False`` skips re-checking stored reveal files on replay (faster start;
        they were checked when accepted). ``max_skew``, ``max_age``: refuse events whose
        ``time`` is more than this many seconds after, or before, ``now()`` (``None``: never;
        spec §7 fixes 300 s and 24 h). Raises
        :class:`VerificationError` listing every problem if the stored log does not replay.
        """
        log = cls(storage, origin, key, parties, now, check_bundles=check_bundles, max_skew=max_skew, max_age=max_age)
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

    def entries(self, start: int, end: int, max_bytes: int | None = None) -> list[bytes]:
        """Entries ``start .. end-1`` (``BoardRefused("range-invalid")`` outside ``[0, size]``);
        with ``max_bytes``, only the first ones that fit in it (at least one)."""
        if type(start) is not int or type(end) is not int or not 0 <= start <= end <= self.size:
            raise BoardRefused(Reason.RANGE_INVALID, f"entries [{start}, {end}) are not within [0, {self.size}]")
        return list(self._storage.read_entries(start, end, max_bytes))

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

    @property
    def statement_vkeys(self) -> list[str]:
        """Every registered statement key: whose signature makes an upload storable (spec §11)."""
        return [party.vkey for party in self.parties]

    def put_bundle(self, data: bytes) -> str:
        """Check an uploaded reveal file (:func:`~unveil.board.uploads.check_upload`) and store
        it; return its SHA-256 hex, which ``reveal.published`` names. Raises
        :class:`MalformedInputError` or :class:`BoardRefused` (``upload-unsigned``)."""
        check_upload(data, self.statement_vkeys)
        sha = hashlib.sha256(data).hexdigest()
        self.store_bundle(sha, data)
        return sha

    def has_bundle(self, sha256_hex: str) -> bool:
        """Whether the board holds the reveal file with this SHA-256 (without reading it)."""
        return self._storage.has_bundle(sha256_hex)

    def store_bundle(self, sha256_hex: str, data: bytes) -> bool:
        """Store a reveal file that passed :func:`~unveil.board.uploads.check_upload` (a server
        runs that check elsewhere), stamped with the board's clock; False if it was held
        already (its upload time stays). Needs no lock: no entry depends on it until one names
        it, and :meth:`purge_bundles` spares what was uploaded within its period."""
        return self._storage.put_bundle(sha256_hex, data, self._now())

    def cells_escrows(self, sha256_hex: str) -> list[Escrow]:
        """The published escrows committing to the ``cells.txt`` with this SHA-256 (spec §11)."""
        with self._lock:
            return committing((p.escrow for p in self._state.escrows.values()), sha256_hex)

    def put_cells(self, sha256_hex: str, data: bytes) -> bool:
        """Check an uploaded ``cells.txt`` (:func:`~unveil.board.cells.check_cells`) and store
        it beside the reveal files; False if it was held already. Never purged."""
        check_cells(self.cells_escrows(sha256_hex), sha256_hex, data)
        return self._storage.put_bundle(sha256_hex, data, self._now())

    def purge_bundles(self, period: int) -> int:
        """Delete the reveal files uploaded more than ``period`` seconds ago that no entry
        names (spec §11); return how many. Under the log's lock, so no entry naming one is
        accepted meanwhile: a file an entry names is never deleted."""
        with self._lock:
            keep = self._state.logged_bundles() | {p.escrow.grid.cells_sha256 for p in self._state.escrows.values()}
            return self._storage.purge_bundles(self._now() - period, keep)

    def cosigned(self) -> list[tuple[str, int, str]]:
        """For each registered witness that cosigned here, its largest cosigned checkpoint:
        ``(witness, size, the board's note of that size followed by the witness's line)``
        (spec §11 ``GET /checkpoints/cosigned``)."""
        found = []
        for witness, size, note, line in self._storage.latest_cosignatures():
            party = self.parties.by_name(witness)
            if party is not None and party.witness_vkey is not None:
                found.append((witness, size, note + (line if line.endswith("\n") else line + "\n")))
        return found

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
        server runs it for many requests at once and hands :meth:`submit_many` the results.

        The event is read as a replay reads its entry: through the strict parser (parsed JSON is
        canonicalized and parsed again from those bytes), whose limits (spec §0: nesting ≤ 64, no
        number whose JCS form is an integer token beyond ±(2^53−1)) make the entry's JCS form
        read back to the same values."""
        try:
            event = parse_event(loads(_as_bytes(doc), source="event"))
        except MalformedInputError as exc:
            return Prepared(None, None, BoardRefused(Reason.MALFORMED, str(exc)))
        try:
            return Prepared(event, self.parties.author_of(event), None)
        except BoardRefused as refused:
            return Prepared(event, None, refused)

    def precheck(self, prepared: Prepared) -> bool:
        """Check ahead the reveal file that a prepared ``reveal.published`` names
        (:meth:`BoardState.precheck_reveal`): the costly part of such an event (parsing and
        verifying a bundle of up to 16 MiB), which would otherwise run under the writer and hold
        every other submission back. Thread-safe; the outcome of :meth:`submit_many` is the same
        with or without it. True if a verdict was kept."""
        job = self.verdict_job(prepared)
        if job is None:
            return False
        self.keep_verdict(job, run_verdict_job(job))
        return True

    def verdict_job(self, prepared: Prepared) -> VerdictJob | None:
        """The first half of :meth:`precheck`: the inputs of the file check (read from storage),
        for a caller that runs :func:`~unveil.board.protocol.run_verdict_job` elsewhere and
        hands the verdict to :meth:`keep_verdict`. None when there is nothing to check ahead."""
        event, author = prepared.event, prepared.author
        if event is None or author is None or prepared.refusal is not None or not self._check_bundles:
            return None
        return self._state.verdict_job(event, author, self._storage.get_bundle)

    def keep_verdict(self, job: VerdictJob, verdict: FileVerdict) -> None:
        """The second half of :meth:`precheck` (:meth:`BoardState.keep_verdict`)."""
        self._state.keep_verdict(job, verdict)

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
        """The checks that read the board's clock (spec §7, §12); an audit does not repeat them."""
        if self._max_skew is None and self._max_age is None:
            return
        now = self._now()
        when = unix_time(event.time) or 0  # parse_event checked the format
        if self._max_skew is not None and when > now + self._max_skew:
            raise BoardRefused(Reason.TIME_FUTURE, f"time {event.time} is more than {self._max_skew} s after the board's clock")
        if self._max_age is not None and when < now - self._max_age:
            raise BoardRefused(Reason.TIME_OUT_OF_RANGE, f"time {event.time} is more than {self._max_age} s before the board's clock")
        if self._max_skew is not None and starts_or_answers_a_deadline(event.kind) and when < now - self._max_skew:
            raise BoardRefused(Reason.TIME_STALE, f"time {event.time} is more than {self._max_skew} s before the board's clock: a {event.kind} starts or answers a deadline and cannot be backdated (spec §12)")

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
