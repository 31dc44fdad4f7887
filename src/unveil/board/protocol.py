"""What the board accepts, in which order, from whom (spec §6–§9): :class:`BoardState`.

The state is in memory and rebuilt by replaying the log's entries; :meth:`BoardState.check`
refuses an event (raising :class:`~unveil.errors.BoardRefused`) without changing anything, and
:meth:`BoardState.apply` records an accepted one.

Roles (``PARTIES.json``, :mod:`.parties`):

====================================== ========================================================
kind                                   may be written by
====================================== ========================================================
escrow.published, reveal.published     the party named in the escrow's ``host``, with role host
                                       (``purpose: declaration``) or inspector (``purpose:
                                       intel``, spec §9: the inspector seals its own holdings)
escrow.accepted                        an inspector (once per inspector and escrow)
verification.recorded                  an inspector or an observer
discrepancy.raised                     an inspector
discrepancy.resolved                   the inspector that raised it
inspection.reported                    an inspector (:mod:`.inspections`)
coin.committed, coin.revealed          a party of the draw: by this project's agreement every
                                       registered host and inspector (spec §8); a context's
                                       first commitment is an inspector's (the inspecting
                                       party), carrying the population
selection.drawn                        any registered party
agreement.published, agreement.signed  a party of the agreement (spec §12, :mod:`.agreements`)
obligation.claimed                     the obligor
obligation.verified, .disputed         a party of the agreement other than the obligor
obligation.withdrawn                   the author of a standing dispute
item.moved, access.granted,            the escrow's host, once the escrow's agreement is signed
access.refused                         by all its parties (spec §12; :mod:`.custody`)
item.witnessed, access.requested       an inspector among the agreement's parties, idem
====================================== ========================================================

The coin draws' checks and state (one :class:`~unveil.board.coins.Draw` per context) are
:mod:`unveil.board.coins`'; those of verifications and discrepancies, and what the state keeps
of each phase's reveal file (its cells, the ids it declared), :mod:`unveil.board.reveals`';
those of agreements and obligations (spec §12; one
:class:`~unveil.board.agreements.AgreementRecord` per escrow, :meth:`BoardState.agreement_of`),
:mod:`unveil.board.agreements`'; those of items and access requests (one
:class:`~unveil.agreements.custody.Custody` and one :class:`~unveil.agreements.access.AccessBook`
per escrow with an agreement, :meth:`BoardState.custody_of`, :meth:`BoardState.access_of`),
:mod:`unveil.board.custody`'; this module dispatches to them.

Reason codes (``BoardRefused.reason``) and the HTTP status the API answers with (its one table,
:data:`unveil.api.errors.STATUS`; a test holds this table and that one equal):

========================= ====== =================================================================
reason                    status meaning
========================= ====== =================================================================
malformed                 400    the envelope is not an event (spec §0, §7 shapes; :mod:`.log`)
author-unknown            403    no signature by a registered statement key (:mod:`.log`)
signature-invalid         403    a signature by a registered key does not verify
author-ambiguous          422    several registered parties signed: an event has one author
role-not-allowed          403    the author's role (or name) may not write this kind here
time-future               422    the event's time is more than 300 s after the board's clock (:mod:`.log`)
time-out-of-range         422    the event's time is more than 24 h before the board's clock (:mod:`.log`)
entry-too-large           413    the entry, ``JCS(envelope)``, is over :data:`ENTRY_MAX` bytes (spec §7)
statement-conflict        409    the same statement is logged under other signatures (:mod:`.log`)
statement-duplicate       409    the same statement is already logged
escrow-unknown            422    ``escrow_id`` names no published escrow
escrow-duplicate          409    an escrow with this id is already published
escrow-invalid            422    the escrow breaks a spec §4 rule, names another id than the
                                 event, or (intel) does not shadow a published declaration
                                 escrow with the same ``cells_sha256`` (spec §9)
escrow-signature-invalid  422    the escrow is not validly signed by the host's registered key
acceptance-mismatch       422    ``escrow.accepted`` names another ``cells_sha256`` or ``root``
acceptance-repeat         409    this inspector already accepted this escrow
phase-duplicate           409    a reveal of this phase of this escrow is already logged (for a
                                 phase in parts, spec §5.1: this part, or the phase in the other form)
parts-mismatch            422    a part names another ``parts`` than the phase's logged parts
part-order                422    a part is logged before the part right below it
part-overlap              422    a part's first index is not above the last of the part below it
bundle-missing            422    the board holds no reveal file with ``body.sha256``
bundle-invalid            422    the reveal file fails its checks against the published escrow
                                 (spec §5, §6), or its phase or opening count differs from the body
site-id-duplicate         422    the reveal file (or a discrepancy's intel bundle) repeats an id
serial-duplicate          422    of an earlier phase of the escrow in another cell (spec §5 "One
suspect-id-duplicate      422    declaration across phases"); the problems name that phase
verification-mismatch     422    ``verification.recorded`` names a file other than the logged
                                 ``reveal.published`` of that escrow and phase (or none is logged)
phase-unknown             422    ``discrepancy.raised`` names a phase the escrow has not revealed
cell-not-opened           422    ``discrepancy.raised`` names a cell that phase's bundle did not open
inspection-duplicate      409    ``inspection.reported`` repeats a logged report's escrow, cell, site
                                 and context (:mod:`.inspections`)
site-unknown              422    ``inspection.reported`` names a site no opened bundle declared in
                                 the cell
coin-early                422    ``coin.revealed`` before every draw party's commitment (spec §8)
coin-repeat               409    a second commitment, or reveal, by one party in one context
coin-mismatch             422    ``r`` does not open the party's commitment (spec §8)
context-mismatch          422    the context's earlier events name another escrow
selection-early           422    ``selection.drawn`` before every draw party's reveal
selection-invalid         422    the seed is not ``draw_seed(context, reveals)`` of the log
selection-duplicate       409    this context's selection is already logged
selection-mismatch        422    ``selection.drawn`` names another ``population_sha256`` or ``n``
                                 than the context's logged ones, or another selection than spec
                                 §8 computes from that population, ``n`` and the seed
population-missing        422    a context's first ``coin.committed`` is not an inspector's
                                 carrying the population (spec §8): nobody commits before the
                                 inspecting party has fixed the population and ``n``
population-mismatch       422    a later ``coin.committed`` carries a population, or names another
                                 ``population_sha256`` or ``n`` than the context's first one
discrepancy-duplicate     409    a discrepancy with this id is already raised for this escrow
discrepancy-unknown       422    ``discrepancy.resolved`` names no raised discrepancy
discrepancy-repeat        409    the discrepancy is already resolved
intel-invalid             422    the discrepancy's intel bundle is not a valid opening of the
                                 raiser's published intel escrow shadowing this escrow, or does
                                 not open ``cell``
party-unknown             422    an agreement names a party that is not registered (spec §12)
agreement-duplicate       409    the escrow already has an agreement, or the id is another's
agreement-unknown         422    no agreement with this id governs the event's escrow
agreement-mismatch        422    ``agreement.signed`` names another hash than the agreement's
agreement-sign-repeat     409    this party already signed the agreement
agreement-unsigned        422    not every party has signed the escrow's agreement yet
obligation-unknown        422    the agreement has no such obligation
obligation-settled        409    a claim of a verified obligation, or a verification or dispute of
                                 one the log verified
obligation-unclaimed      422    a verification or dispute of an obligation nobody claimed
dispute-unknown           422    ``obligation.withdrawn`` without a standing dispute by its author
evidence-invalid          422    an ``entry`` evidence names no earlier entry
time-stale                422    an ``obligation.*``, ``item.*`` or ``access.*`` event dated more
                                 than 300 s before the board's clock (:mod:`.log`, spec §12)
custody-gap               422    ``item.*`` names a serial no opened cell of the escrow declares
                                 (:mod:`.custody`, spec §12)
step-unknown              422    ``item.*`` names a step the agreement does not have
step-skipped              422    ``item.moved`` to a step beyond the one right after the item's
step-invalid              422    ``item.moved`` to a step not later than the item's current one
step-mismatch             422    ``item.witnessed`` of a step other than the item's current one
access-duplicate          409    an access request with this id is already logged for the escrow
access-target-unknown     422    ``access.requested`` names a site of no opened cell
access-unknown            422    ``access.granted`` / ``access.refused`` names no logged request
access-answered           409    the request is already granted or refused
access-expired            422    a grant after the request's refusal deadline (it counts as refused)
range-invalid             400    a proof or entry range outside the log (:mod:`.log`)
checkpoint-unknown        404    a cosigned body is not a checkpoint this board signed (:mod:`.log`)
witness-unknown           403    the cosignature's key name is no registered witness (:mod:`.log`)
cosignature-invalid       422    the cosignature does not verify under the witness key (:mod:`.log`)
========================= ====== =================================================================

What the board does not check, and readers must: the board has no ``cells.txt``, so a
reveal bundle it accepts is "incomplete" (spec §1) — that each opened cell is the right line
of ``cells.txt``, and that the cells cover the territory, is the inspector's check
(``escrow.accepted`` records it). Replayed without the reveal files (``bundle_lookup``
``None``), the checks that read them are skipped: the bundle's, its repeated ids and
``cell-not-opened``.

Derived state every view of a discrepancy shows (:meth:`BoardState.discrepancy_views`, the
audit's report): ``intel_predates_reveal``, whether the raiser's intel escrow was published
before the phase's ``reveal.published`` (``null`` without intel; spec §7).

It is one module, past 400 lines, because the rules above and the checks that enforce them
are read together: each ``_check_*`` method is the rule of its kind, and the tables at its end
say which check and which change of state each kind has.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unveil.board import agreements, coins, custody, inspections, reveals
from unveil.board import events as ev
from unveil.board.coins import Draw
from unveil.board.reveals import Discrepancy, Opened, Parted, Scanned, refuse_repeats, repeated, scan
from unveil.core.encoding import unix_time
from unveil.core.envelope import SignedStatement, parse_signed
from unveil.core.escrow import Escrow, escrow_problems, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.reasons import Reason
from unveil.core.reveal import PART_MAX_BYTES
from unveil.core.statements import check_signatures
from unveil.core.verify import check_bundle
from unveil.core.vocabulary import lookup
from unveil.errors import BoardRefused, MalformedInputError, Problem

if TYPE_CHECKING:
    from unveil.agreements.access import AccessBook
    from unveil.agreements.custody import Custody
    from unveil.agreements.obligations import ItemClock
    from unveil.board.agreements import AgreementRecord
    from unveil.board.events import Event
    from unveil.board.parties import Parties, Party

__all__ = ["ENTRY_MAX", "BoardState", "BundleLookup", "FileVerdict", "VerdictJob", "file_verdict", "run_verdict_job"]

BundleLookup = Callable[[str], "bytes | None"]

ENTRY_MAX = 1 << 20
"""The largest entry, ``JCS(envelope)``, in bytes (spec §7: 1 MiB)."""


@dataclass
class PublishedEscrow:
    """An escrow as the log holds it; ``index`` is its ``escrow.published`` entry."""

    escrow: Escrow
    signed: SignedStatement
    index: int


@dataclass(frozen=True)
class FileVerdict:
    """What checking a reveal file against its published escrow found: a pure function of the
    escrow, the file's bytes and the key trusted for the host (spec §5, §6), so it may be
    computed ahead of the check that uses it (:meth:`BoardState.precheck_reveal`).
    ``unreadable`` is the reader's message for a file that cannot be read; otherwise
    ``problems`` are the verifier's and ``phase``, ``openings``, ``scanned`` what it reveals."""

    unreadable: str | None
    problems: tuple[Problem, ...] = ()
    phase: str = ""
    openings: int = 0
    scanned: Scanned | None = None
    part: int | None = None  # spec §5.1, as the file says
    parts: int | None = None


def file_verdict(published: PublishedEscrow, data: bytes, sha: str, vkey: str) -> FileVerdict:
    """Check the reveal file ``data`` (SHA-256 ``sha``) against ``published`` under ``vkey``."""
    try:
        bundle = parse_signed(loads(data, source=f"reveal file {sha[:16]}"), "bundle")
        report = check_bundle(published.signed, bundle, None, trusted=[vkey])
    except MalformedInputError as exc:
        return FileVerdict(str(exc))
    reveal = report.reveal
    problems = report.problems
    if reveal.part is not None and len(data) > PART_MAX_BYTES:  # spec §5.1, whatever this board's upload limit
        problems += (Problem(None, Reason.PART_TOO_LARGE, f"part {reveal.part} is {len(data)} bytes; a part is at most {PART_MAX_BYTES}"),)
    return FileVerdict(None, tuple(problems), reveal.phase, len(reveal.openings), scan(reveal), reveal.part, reveal.parts)


_VerdictKey = tuple[str, int, str, str]  # (escrow id, its escrow.published entry, file SHA-256, trusted vkey)
_VERDICTS_KEPT = 8


@dataclass(frozen=True)
class VerdictJob:
    """Everything the check of one reveal file needs (:func:`file_verdict`'s arguments) and the
    key its verdict is kept under: plain data, so the check may run in another process."""

    key: _VerdictKey
    published: PublishedEscrow
    data: bytes
    sha: str
    vkey: str


def run_verdict_job(job: VerdictJob) -> FileVerdict:
    """:func:`file_verdict` of ``job`` (a module-level function, so a process pool can call it)."""
    return file_verdict(job.published, job.data, job.sha, job.vkey)


_ROLES: dict[str, tuple[str, ...] | None] = {
    ev.ESCROW_PUBLISHED: ("host", "inspector"),  # narrowed by the escrow's purpose and host
    ev.REVEAL_PUBLISHED: ("host", "inspector"),  # idem
    ev.ESCROW_ACCEPTED: ("inspector",),
    ev.VERIFICATION_RECORDED: ("inspector", "observer"),
    ev.DISCREPANCY_RAISED: ("inspector",),
    ev.DISCREPANCY_RESOLVED: ("inspector",),
    ev.INSPECTION_REPORTED: ("inspector",),
    ev.COIN_COMMITTED: ("host", "inspector"),
    ev.COIN_REVEALED: ("host", "inspector"),
    ev.SELECTION_DRAWN: None,  # any party
    ev.AGREEMENT_PUBLISHED: None,  # a party of the agreement (.agreements)
    ev.AGREEMENT_SIGNED: None,  # idem
    ev.OBLIGATION_CLAIMED: None,  # the obligor (.agreements)
    ev.OBLIGATION_VERIFIED: None,  # a party of the agreement other than the obligor
    ev.OBLIGATION_DISPUTED: None,  # idem
    ev.OBLIGATION_WITHDRAWN: None,  # the author of a standing dispute
    ev.ITEM_MOVED: ("host",),  # narrowed to the escrow's host (board.custody)
    ev.ITEM_WITNESSED: ("inspector",),  # narrowed to the agreement's inspecting parties
    ev.ACCESS_REQUESTED: ("inspector",),  # idem
    ev.ACCESS_GRANTED: ("host",),  # narrowed to the escrow's host
    ev.ACCESS_REFUSED: ("host",),  # idem
}


def _sealer_role(escrow: Escrow) -> str:
    return "inspector" if escrow.purpose == "intel" else "host"


def _summary(problems: tuple[Problem, ...] | list[Problem]) -> str:
    shown = "; ".join(str(p) for p in list(problems)[:5])
    more = len(problems) - 5
    return shown + (f"; and {more} more" if more > 0 else "")


class BoardState:
    """Everything the protocol needs to know about the log so far (spec §7–§9)."""

    def __init__(self, parties: Parties):
        self.parties = parties
        self.size = 0
        self.latest_time = 0  # the effective time of the last entry (spec §12): the latest time so far, unix seconds
        self.statements: dict[bytes, int] = {}  # SHA256(JCS(statement)) -> entry index
        self.escrows: dict[str, PublishedEscrow] = {}
        self.reveals: dict[tuple[str, str], str] = {}  # (escrow_id, phase) -> sha256 of the file of a phase in one file
        self.parted: dict[tuple[str, str], Parted] = {}  # (escrow_id, phase) -> its logged parts (spec §5.1, .reveals)
        self.completed_times: dict[tuple[str, str], int] = {}  # (escrow_id, phase) -> effective time it became complete (§5.1, §12)
        self.acceptances: set[tuple[str, str]] = set()  # (escrow_id, inspector name)
        self.draws: dict[str, Draw] = {}  # context -> draw
        self.discrepancies: dict[tuple[str, str], Discrepancy] = {}  # (escrow_id, id)
        self.inspections: dict[inspections.InspectionKey, int] = {}  # (escrow_id, cell, site, context) -> entry (.inspections)
        self.opened: dict[str, Opened] = {}  # escrow_id -> its phases and the ids they declared (.reveals)
        self.reveal_times: dict[tuple[str, str], int] = {}  # (escrow_id, phase) -> effective time of its (latest part's) reveal (§12)
        self.agreements: dict[str, AgreementRecord] = {}  # escrow_id -> its agreement (.agreements)
        self.agreement_ids: dict[str, str] = {}  # agreement id -> the escrow it governs
        self.item_clocks: dict[str, ItemClock] = {}  # escrow_id -> when its items reached each step (custody, spec §12)
        self.custody: dict[str, custody.Tracked] = {}  # escrow_id -> its items under its agreement (.custody_of)
        self.access: dict[str, AccessBook] = {}  # escrow_id -> its access requests (.access_of)
        self._scanned: tuple[bytes, Scanned] | None = None  # what the last reveal check read, for apply
        self._verdicts: OrderedDict[_VerdictKey, FileVerdict] = OrderedDict()  # checked ahead, taken by the check
        self._verdicts_lock = threading.Lock()

    # --- checks --------------------------------------------------------------------------

    def check(self, event: Event, author: Party, bundle_lookup: BundleLookup | None) -> None:
        """Raise :class:`BoardRefused` unless ``event`` by ``author`` may be appended now.

        ``bundle_lookup(sha256_hex)`` returns the reveal file the board holds, or ``None``.
        Passing ``None`` instead of a function skips the reveal-file checks (an offline audit
        without the files); everything else is still checked. Changes nothing.
        """
        if len(event.entry) > ENTRY_MAX:
            raise BoardRefused(Reason.ENTRY_TOO_LARGE, f"the entry is {len(event.entry)} bytes; at most {ENTRY_MAX} (spec §7)")
        if event.statement_sha256 in self.statements:
            index = self.statements[event.statement_sha256]
            raise BoardRefused(Reason.STATEMENT_DUPLICATE, f"the same statement is already entry {index}")
        allowed = _ROLES[event.kind]
        if allowed is not None and author.role not in allowed:
            raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"a {author.role} ({author.name}) may not write {event.kind}")
        if event.kind == ev.ESCROW_PUBLISHED:
            self._check_escrow(event, author)
            return
        published = self.escrows.get(event.escrow_id)
        if published is None:
            raise BoardRefused(Reason.ESCROW_UNKNOWN, f"no escrow {event.escrow_id!r} is published on this board")
        if event.kind.startswith("obligation.") and bundle_lookup is not None:
            custody.custody_of(self, event.escrow_id, bundle_lookup)  # the items' clock reads every opened cell first
        _CHECKS[event.kind](self, event, author, published, bundle_lookup)

    def _check_escrow(self, event: Event, author: Party) -> None:
        signed = parse_signed(event.body["escrow"], "body.escrow")
        escrow = parse_escrow(signed.statement, "body.escrow.statement")
        if author.name != escrow.host or author.role != _sealer_role(escrow):
            raise BoardRefused(
                Reason.ROLE_NOT_ALLOWED,
                f"{author.name} ({author.role}) may not publish an escrow sealed by {escrow.host[:80]!r}"
                f" with purpose {escrow.purpose[:20]!r}",
            )
        if escrow.escrow_id != event.escrow_id:
            raise BoardRefused(Reason.ESCROW_INVALID, f"the escrow's id {escrow.escrow_id[:80]!r} is not the event's {event.escrow_id!r}")
        if escrow.escrow_id in self.escrows:
            raise BoardRefused(Reason.ESCROW_DUPLICATE, f"escrow {escrow.escrow_id!r} is already entry {self.escrows[escrow.escrow_id].index}")
        problems = escrow_problems(escrow, lookup(escrow.vocabulary))
        if problems:
            raise BoardRefused(Reason.ESCROW_INVALID, _summary(problems), problems=tuple(problems))
        signatures = check_signatures(signed.statement, list(signed.signatures), [author.vkey], escrow.host)
        if not signatures.valid:
            found = tuple(signatures.problems(escrow=True))
            raise BoardRefused(Reason.ESCROW_SIGNATURE_INVALID, f"not validly signed by {author.vkey}: {_summary(found)}", problems=found)
        if escrow.purpose == "intel":
            target = self.escrows.get(escrow.shadows or "")
            if target is None or target.escrow.purpose != "declaration":
                raise BoardRefused(Reason.ESCROW_INVALID, f"an intel escrow shadows a published declaration escrow; {escrow.shadows!r} is not one")
            if target.escrow.grid.cells_sha256 != escrow.grid.cells_sha256:
                raise BoardRefused(Reason.ESCROW_INVALID, "an intel escrow has the same cells_sha256 as the escrow it shadows (spec §9)")

    def _check_escrow_accepted(self, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
        if (event.escrow_id, author.name) in self.acceptances:
            raise BoardRefused(Reason.ACCEPTANCE_REPEAT, f"{author.name} already accepted escrow {event.escrow_id!r}")
        escrow = published.escrow
        if event.body["cells_sha256"] != escrow.grid.cells_sha256 or event.body["root"] != escrow.root:
            raise BoardRefused(Reason.ACCEPTANCE_MISMATCH, "cells_sha256 and root must be the published escrow's")

    def _check_reveal_published(self, event: Event, author: Party, published: PublishedEscrow, bundles: BundleLookup | None) -> None:
        escrow = published.escrow
        if author.name != escrow.host or author.role != _sealer_role(escrow):
            raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"only {escrow.host!r} reveals escrow {escrow.escrow_id!r}")
        phase, sha = event.body["phase"], event.body["sha256"]
        reveals.check_part(self, event.escrow_id, event.body, bundles)
        if bundles is None:
            return
        key = (event.escrow_id, published.index, sha, author.vkey)
        with self._verdicts_lock:
            verdict = self._verdicts.pop(key, None)
        if verdict is None:
            data = bundles(sha)
            if data is None:
                raise BoardRefused(Reason.BUNDLE_MISSING, f"the board holds no reveal file with SHA-256 {sha}: upload it first")
            if hashlib.sha256(data).hexdigest() != sha:
                raise BoardRefused(Reason.BUNDLE_INVALID, f"the stored file is not the one with SHA-256 {sha}")
            verdict = file_verdict(published, data, sha, author.vkey)
        if verdict.unreadable is not None:
            raise BoardRefused(Reason.BUNDLE_INVALID, f"the reveal file cannot be read: {verdict.unreadable}")
        if verdict.problems:
            raise BoardRefused(Reason.BUNDLE_INVALID, _summary(verdict.problems), problems=verdict.problems)
        if verdict.phase != phase or verdict.openings != event.body["openings"]:
            raise BoardRefused(
                Reason.BUNDLE_INVALID,
                f"the file reveals phase {verdict.phase[:80]!r} with {verdict.openings} openings;"
                f" the event says {phase!r} with {event.body['openings']}",
            )
        if (verdict.part, verdict.parts) != (event.body.get("part"), event.body.get("parts")):
            said = f"part {event.body['part']} of {event.body['parts']}" if "part" in event.body else "the whole phase"
            holds = f"part {verdict.part} of {verdict.parts}" if verdict.part is not None else "the whole phase"
            raise BoardRefused(Reason.BUNDLE_INVALID, f"the file holds {holds}; the event says {said} (spec §5.1)")
        scanned = verdict.scanned
        assert scanned is not None  # a readable file's verdict carries its scan
        if verdict.part is not None:
            reveals.check_part_overlap(self, event.escrow_id, phase, verdict.part, scanned, bundles)
        refuse_repeats(repeated(self.opened.get(event.escrow_id), scanned, bundles), "the reveal file")
        self._scanned = (event.statement_sha256, scanned)  # a cache of the file just read: apply records it

    def _check_discrepancy_resolved(self, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
        found = self.discrepancies.get((event.escrow_id, event.body["id"]))
        if found is None:
            raise BoardRefused(Reason.DISCREPANCY_UNKNOWN, f"no discrepancy {event.body['id']!r} was raised for escrow {event.escrow_id!r}")
        if found.raised_by != author.name:
            raise BoardRefused(Reason.ROLE_NOT_ALLOWED, f"only {found.raised_by} resolves the discrepancy it raised")
        if found.resolved:
            raise BoardRefused(Reason.DISCREPANCY_REPEAT, f"discrepancy {event.body['id']!r} is already resolved")

    def precheck_reveal(self, event: Event, author: Party, bundles: BundleLookup) -> bool:
        """Check the reveal file a ``reveal.published`` names ahead of :meth:`check`, and keep the
        verdict for it (thread-safe; the costly part of such an event, so a server runs it off
        the writer, which then only takes the verdict). Only a pure function of the published
        escrow, the file and the author's key is kept, so the check's outcome is the same with
        or without it. False when there is nothing to check yet (no such escrow, no such file).
        The two halves, :meth:`verdict_job` and :meth:`keep_verdict`, let a server run the
        check itself elsewhere (in another process, away from this one's interpreter lock)."""
        job = self.verdict_job(event, author, bundles)
        if job is None:
            return False
        self.keep_verdict(job, run_verdict_job(job))
        return True

    def verdict_job(self, event: Event, author: Party, bundles: BundleLookup) -> VerdictJob | None:
        """What checking ahead the reveal file of ``event`` needs, or None when there is nothing
        to check yet (not a ``reveal.published``, no such escrow, no such file). Thread-safe."""
        if event.kind != ev.REVEAL_PUBLISHED:
            return None
        published = self.escrows.get(event.escrow_id)
        sha = event.body["sha256"]
        data = bundles(sha) if published is not None else None
        if published is None or data is None or hashlib.sha256(data).hexdigest() != sha:
            return None
        return VerdictJob((event.escrow_id, published.index, sha, author.vkey), published, data, sha, author.vkey)

    def keep_verdict(self, job: VerdictJob, verdict: FileVerdict) -> None:
        """Keep ``verdict`` (:func:`run_verdict_job` of ``job``, run anywhere) for the check of
        the event that names the file. Thread-safe; at most a few are kept, the oldest dropped."""
        with self._verdicts_lock:
            self._verdicts[job.key] = verdict
            while len(self._verdicts) > _VERDICTS_KEPT:
                self._verdicts.popitem(last=False)

    # --- recording -------------------------------------------------------------------------

    def apply(self, event: Event, author: Party, index: int | None = None) -> int:
        """Record ``event`` (already :meth:`check`-ed) as entry ``index`` (default: the next
        one; an audit passes it, as refused entries still take their place); return it."""
        index = self.size if index is None else index
        # The entry's effective time (spec §12), which each _APPLY reads as latest_time.
        self.latest_time = self.effective_time(event)
        _APPLY[event.kind](self, event, author, index)
        self.statements[event.statement_sha256] = index
        self.size = index + 1
        return index

    def effective_time(self, event: Event) -> int:
        """The effective time ``event`` has (spec §12) as the next entry: the latest of its own
        ``time`` and every earlier entry's. During :meth:`apply` it is :attr:`latest_time`."""
        return max(self.latest_time, unix_time(event.time) or 0)  # parse_event checked the format

    def _apply_escrow_published(self, event: Event, author: Party, index: int) -> None:
        signed = parse_signed(event.body["escrow"], "body.escrow")
        self.escrows[event.escrow_id] = PublishedEscrow(parse_escrow(signed.statement), signed, index)

    def _apply_escrow_accepted(self, event: Event, author: Party, index: int) -> None:
        self.acceptances.add((event.escrow_id, author.name))

    def _apply_reveal_published(self, event: Event, author: Party, index: int) -> None:
        key = (event.escrow_id, event.body["phase"])
        scanned, self._scanned = self._scanned, None
        read = scanned[1] if scanned is not None and scanned[0] == event.statement_sha256 else None
        self.reveal_times[key] = self.latest_time
        if "part" in event.body:  # spec §5.1: one part; the phase is complete with its last
            parted = self.parted.setdefault(key, Parted(event.body["parts"]))
            parted.files[event.body["part"]] = event.body["sha256"]
            parted.entries[event.body["part"]] = index
            parted.last = read.last if read is not None else None
            if parted.complete:
                self.completed_times[key] = self.latest_time
        else:
            self.reveals[key] = event.body["sha256"]
            self.completed_times[key] = self.latest_time
        self.opened_escrow(event.escrow_id).record(event.body["phase"], event.body["sha256"], index, read)

    def logged_bundles(self) -> set[str]:
        """The SHA-256 of every reveal file the log names (each phase's file, or its parts)."""
        return set(self.reveals.values()) | {sha for parted in self.parted.values() for sha in parted.files.values()}

    def opened_escrow(self, escrow_id: str) -> Opened:
        """What the log holds of the phases of published escrow ``escrow_id`` (made on first use)."""
        if escrow_id not in self.opened:
            self.opened[escrow_id] = Opened(intel=self.escrows[escrow_id].escrow.purpose == "intel")
        return self.opened[escrow_id]

    def _apply_verification_recorded(self, event: Event, author: Party, index: int) -> None:
        return None  # nothing later depends on it

    def custody_of(self, escrow_id: str, bundles: BundleLookup | None = None) -> Custody | None:
        """The items of ``escrow_id`` and their steps (spec §12), ``None`` while it has no
        agreement; the reveal files not read yet are read with ``bundles`` when given."""
        return custody.custody_of(self, escrow_id, bundles)

    def access_of(self, escrow_id: str) -> AccessBook | None:
        """The access requests of ``escrow_id`` (spec §12), ``None`` while it has no agreement."""
        return custody.access_of(self, escrow_id)

    def discrepancy_views(self) -> list[dict[str, object]]:
        """Every raised discrepancy as every view shows it (spec §7), in log order."""
        ordered = sorted(self.discrepancies.items(), key=lambda item: item[1].index)
        return [d.to_json(escrow_id, id) for (escrow_id, id), d in ordered]

    def _apply_discrepancy_resolved(self, event: Event, author: Party, index: int) -> None:
        self.discrepancies[(event.escrow_id, event.body["id"])].resolved = True

    def agreement_of(self, escrow_id: str) -> AgreementRecord | None:
        """The agreement published for escrow ``escrow_id`` (signed or not), or ``None`` (spec §12)."""
        return self.agreements.get(escrow_id)


_Check = Callable[[BoardState, "Event", "Party", PublishedEscrow, "BundleLookup | None"], None]
_Apply = Callable[[BoardState, "Event", "Party", int], None]

_CHECKS: dict[str, _Check] = {
    ev.ESCROW_ACCEPTED: BoardState._check_escrow_accepted,
    ev.REVEAL_PUBLISHED: BoardState._check_reveal_published,
    ev.VERIFICATION_RECORDED: reveals.check_verification_recorded,
    ev.DISCREPANCY_RAISED: reveals.check_discrepancy_raised,
    ev.DISCREPANCY_RESOLVED: BoardState._check_discrepancy_resolved,
    ev.INSPECTION_REPORTED: inspections.check_inspection_reported,
    ev.COIN_COMMITTED: coins.check_coin_committed,
    ev.COIN_REVEALED: coins.check_coin_revealed,
    ev.SELECTION_DRAWN: coins.check_selection_drawn,
    ev.AGREEMENT_PUBLISHED: agreements.check_agreement_published,
    ev.AGREEMENT_SIGNED: agreements.check_agreement_signed,
    ev.OBLIGATION_CLAIMED: agreements.check_obligation,
    ev.OBLIGATION_VERIFIED: agreements.check_obligation,
    ev.OBLIGATION_DISPUTED: agreements.check_obligation,
    ev.OBLIGATION_WITHDRAWN: agreements.check_obligation,
    ev.ITEM_MOVED: custody.check_item_moved,
    ev.ITEM_WITNESSED: custody.check_item_witnessed,
    ev.ACCESS_REQUESTED: custody.check_access_requested,
    ev.ACCESS_GRANTED: custody.check_access_answered,
    ev.ACCESS_REFUSED: custody.check_access_answered,
}
"""Each kind's protocol check, after the checks every kind shares (escrow.published has its own)."""

_APPLY: dict[str, _Apply] = {
    ev.ESCROW_PUBLISHED: BoardState._apply_escrow_published,
    ev.ESCROW_ACCEPTED: BoardState._apply_escrow_accepted,
    ev.REVEAL_PUBLISHED: BoardState._apply_reveal_published,
    ev.VERIFICATION_RECORDED: BoardState._apply_verification_recorded,
    ev.DISCREPANCY_RAISED: reveals.apply_discrepancy_raised,
    ev.DISCREPANCY_RESOLVED: BoardState._apply_discrepancy_resolved,
    ev.INSPECTION_REPORTED: inspections.apply_inspection_reported,
    ev.COIN_COMMITTED: coins.apply_coin_committed,
    ev.COIN_REVEALED: coins.apply_coin_revealed,
    ev.SELECTION_DRAWN: coins.apply_selection_drawn,
    ev.AGREEMENT_PUBLISHED: agreements.apply_agreement_published,
    ev.AGREEMENT_SIGNED: agreements.apply_agreement_signed,
    ev.OBLIGATION_CLAIMED: agreements.apply_obligation,
    ev.OBLIGATION_VERIFIED: agreements.apply_obligation,
    ev.OBLIGATION_DISPUTED: agreements.apply_obligation,
    ev.OBLIGATION_WITHDRAWN: agreements.apply_obligation,
    ev.ITEM_MOVED: custody.apply_item_moved,
    ev.ITEM_WITNESSED: custody.apply_item_witnessed,
    ev.ACCESS_REQUESTED: custody.apply_access_requested,
    ev.ACCESS_GRANTED: custody.apply_access_answered,
    ev.ACCESS_REFUSED: custody.apply_access_answered,
}
"""How each kind changes the state once accepted."""
