"""Reason codes: every stable code unveil emits, as one enumeration (:class:`Reason`).

A code names why something is not valid or was refused: a bundle or opening the verifier
rejects (spec §1–§6, §9, §10), a signed note (§7), an event, cosignature or request the board
refuses, an audit's or a witness's finding, a client's failure talking to a board, a draw step
a workspace will not take. Each member is its code (a :class:`str`, so comparisons with plain
strings hold), with a :attr:`~Reason.group` and a :attr:`~Reason.description`.

Serialized output always carries the plain string (``str(reason)``). Codes that arrive from
outside (a board's answer, an event body written by another implementation) stay plain
strings: an unknown code never fails a parse.

``tests/vectors/README.md`` lists the verifier's codes (:data:`BUNDLE_LEVEL`,
:data:`OPENING_LEVEL`, :data:`WARNINGS`, :data:`NOTES`, derived from the enumeration) for
other implementations; a test keeps the two in step. ``index`` is the opening's index for
opening-level codes, null for bundle-level.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum, unique
from types import MappingProxyType

__all__ = ["ALL", "BUNDLE_LEVEL", "NOTES", "OPENING_LEVEL", "PUBLISHED", "WARNINGS", "Group", "Reason"]


class Group(Enum):
    """Where a code is emitted (a code used in several places has the group it is listed under)."""

    BUNDLE = "bundle-level verification (index null)"
    OPENING = "opening-level verification (index: the opening's)"
    WARNING = "verification warnings, never failures"
    NOTE = "signed notes and cosignatures (spec §7)"
    BOARD = "the board's refusals of events, cosignatures and ranges"
    API = "the board API's refusals of requests"
    AUDIT = "an offline audit of a log"
    WITNESS = "a witness's refusals to cosign, and a party's comparison of checkpoints"
    CLIENT = "a client's failures talking to a board"
    STATUS = "the problems an agreement's status reports (spec §12)"
    DRAW = "a workspace's refusals of a draw step"
    WORKSPACE = "a party's tools about its own files"
    TRUTH_TEST = "the truth test's mismatch reasons"


@unique
class Reason(StrEnum):
    """Every stable reason code, with its group and what it means."""

    _value_: str
    group: Group
    description: str

    def __new__(cls, value: str, group: Group, description: str) -> Reason:
        member = str.__new__(cls, value)
        member._value_ = value
        member.group = group
        member.description = description
        return member

    # bundle-level (tests/vectors/README.md)
    ESCROW_INVALID = "escrow-invalid", Group.BUNDLE, "the escrow statement breaks a §4 value rule (purpose, ids, time, hex, sizes, shadows)"
    ESCROW_SIGNATURE_INVALID = "escrow-signature-invalid", Group.BUNDLE, "a signature on the escrow by a trusted key does not verify (§6)"
    ESCROW_SIGNATURE_UNTRUSTED = "escrow-signature-untrusted", Group.BUNDLE, "no signature on the escrow verifies under a key trusted for its host (§6)"
    SIGNATURE_INVALID = "signature-invalid", Group.BUNDLE, "a signature on the bundle by a trusted key does not verify (§6)"
    SIGNATURE_UNTRUSTED = "signature-untrusted", Group.BUNDLE, "no signature on the bundle verifies under a key trusted for the host (§6)"
    ESCROW_ID_MISMATCH = "escrow-id-mismatch", Group.BUNDLE, "the bundle's escrow_id is not the escrow's (§5)"
    ROOT_MISMATCH = "root-mismatch", Group.BUNDLE, "the bundle's root is not the escrow's root (§5)"
    TREE_SIZE_MISMATCH = "tree-size-mismatch", Group.BUNDLE, "the bundle's tree_size is not the escrow's (§5)"
    PHASE_INVALID = "phase-invalid", Group.BUNDLE, "the bundle's phase is not an id (§0)"
    CELLS_SHA256_MISMATCH = "cells-sha256-mismatch", Group.BUNDLE, "SHA-256 of cells.txt is not the escrow's grid.cells_sha256 (§1)"
    CELL_COUNT_MISMATCH = "cell-count-mismatch", Group.BUNDLE, "cells.txt does not have grid.cell_count lines (§1)"
    CELLS_INVALID = "cells-invalid", Group.BUNDLE, "cells.txt holds a bad id, an H3 cell at another resolution, or is not strictly ascending (§1)"
    LEAVES_INVALID = "leaves-invalid", Group.BUNDLE, "leaves.bin is not 32·N bytes (§3)"
    LEAVES_ROOT_MISMATCH = "leaves-root-mismatch", Group.BUNDLE, "the Merkle root of leaves.bin is not the escrow's root (§3)"
    OPENINGS_EMPTY = "openings-empty", Group.BUNDLE, "the bundle opens no cell (§5)"
    PROOF_MALFORMED = "proof-malformed", Group.BUNDLE, "a proof hash is not 64 lowercase hex digits, or the proof's preconditions fail (§5)"
    PROOF_HASH_COUNT = "proof-hash-count", Group.BUNDLE, "the multiproof has too few hashes, or hashes left unused (§5)"
    PROOF_ROOT_MISMATCH = "proof-root-mismatch", Group.BUNDLE, "the root recomputed from openings and multiproof is not the escrow's root (§5)"
    PROOF_UNCHECKED = "proof-unchecked", Group.BUNDLE, "the multiproof could not be checked because an opening's leaf could not be computed (§5)"
    TOTALS_INVALID = "totals-invalid", Group.BUNDLE, "a totals entry breaks §2's quantity or unit rules, or names a category outside the vocabulary (§4)"
    TOTALS_UNSEALED = "totals-unsealed", Group.BUNDLE, "the bundle opens totals but the escrow has no sealed_totals (§4)"
    TOTALS_MISMATCH = "totals-mismatch", Group.BUNDLE, "the opened totals do not hash to the escrow's sealed_totals (§4)"
    TOTALS_DISAGREE = "totals-disagree", Group.BUNDLE, "public and sealed totals name a category with different values (§4)"
    TOTALS_SUM_MISMATCH = "totals-sum-mismatch", Group.BUNDLE, "every cell is open and a category's exact sum differs from its total (§4)"
    INCOMPLETE = "incomplete", Group.BUNDLE, "no cells.txt was supplied: the bundle cannot be called valid (§1)"
    COVERAGE_MISSING = "coverage-missing", Group.BUNDLE, "cells of the agreed territory, computed by the reader, are missing from cells.txt (§1)"
    ESCROW_CONFLICT = "escrow-conflict", Group.BUNDLE, "the reader's workspace holds another statement under the same escrow id"
    PHASE_CONFLICT = "phase-conflict", Group.BUNDLE, "the reader verified another statement under this phase before: the host showed two versions"
    PART_TOO_LARGE = "part-too-large", Group.BUNDLE, "a part of a phase is a file over 16 MiB (§5.1)"
    PARTS_MISMATCH = "parts-mismatch", Group.BUNDLE, "parts of one phase name different phases or numbers of parts (§5.1)"
    PART_OVERLAP = "part-overlap", Group.BUNDLE, "a part's first index is not above the previous part's last: parts overlap or are out of order (§5.1)"
    PART_DUPLICATE = "part-duplicate", Group.BUNDLE, "a part of a phase is given twice (§5.1)"
    PART_MISSING = "part-missing", Group.BUNDLE, "a part of a phase given in parts is absent: the phase is incomplete (§5.1)"

    # opening-level (tests/vectors/README.md)
    OPENINGS_ORDER = "openings-order", Group.OPENING, "openings are not strictly ascending by index: a repeat or an out-of-order opening (§5)"
    INDEX_OUT_OF_RANGE = "index-out-of-range", Group.OPENING, "the index is outside [0, tree_size) (§5)"
    CELL_MISMATCH = "cell-mismatch", Group.OPENING, "the opening's cell is not line `index` of cells.txt (§5)"
    CONTENT_CELL_MISMATCH = "content-cell-mismatch", Group.OPENING, "content.cell is not the opened cell (§2)"
    SALT_INVALID = "salt-invalid", Group.OPENING, "the salt is not 64 lowercase hex digits (§0)"
    LEAF_MISMATCH = "leaf-mismatch", Group.OPENING, "the recomputed leaf differs from leaves.bin at this index (§3)"
    SITE_ID_INVALID = "site-id-invalid", Group.OPENING, "a site id is not an id (§0)"
    SITE_ORDER = "site-order", Group.OPENING, "sites are not strictly ascending by id (§2)"
    SITE_ID_DUPLICATE = "site-id-duplicate", Group.OPENING, "a site id is declared in two cells (§2)"
    KIND_UNKNOWN = "kind-unknown", Group.OPENING, "a site kind is not in the vocabulary (§10)"
    FIELD_EMPTY = "field-empty", Group.OPENING, "an optional name or type is an empty string (§2)"
    COORDINATES_MISSING = "coordinates-missing", Group.OPENING, "lat/lon missing on an h3 grid, or only one of them given (§2)"
    COORDINATES_OUT_OF_RANGE = "coordinates-out-of-range", Group.OPENING, "lat outside [-90, 90] or lon outside [-180, 180] (§2)"
    SITE_OUTSIDE_CELL = "site-outside-cell", Group.OPENING, "the site's (or suspect's) point lies in another H3 cell than the opened cell (§2, §9)"
    ITEM_ORDER = "item-order", Group.OPENING, "items are not strictly ascending by (category, type) (§2)"
    CATEGORY_UNKNOWN = "category-unknown", Group.OPENING, "an item category is not in the vocabulary (§10)"
    UNIT_MISMATCH = "unit-mismatch", Group.OPENING, "an item's unit is not the vocabulary's unit for its category (§10)"
    QUANTITY_INVALID = "quantity-invalid", Group.OPENING, "a quantity is negative, or not whole for a count (§2)"
    SERIALS_MISMATCH = "serials-mismatch", Group.OPENING, "serials on a non-count item, or a serial count that differs from the quantity (§2)"
    SERIAL_INVALID = "serial-invalid", Group.OPENING, "a serial is not an id (§2)"
    SERIALS_ORDER = "serials-order", Group.OPENING, "serials are not strictly ascending (§2)"
    SERIAL_DUPLICATE = "serial-duplicate", Group.OPENING, "a serial is declared twice in the declaration (§2)"
    SUSPECT_ID_INVALID = "suspect-id-invalid", Group.OPENING, "an intelligence suspect's id is not an id (§9)"
    SUSPECT_ORDER = "suspect-order", Group.OPENING, "suspects are not strictly ascending by id (§9)"
    SUSPECT_ID_DUPLICATE = "suspect-id-duplicate", Group.OPENING, "a suspect id appears in two cells of an intelligence escrow (§9)"
    RADIUS_INVALID = "radius-invalid", Group.OPENING, "a suspect's radius_m is not greater than 0 (§9)"
    CONFIDENCE_INVALID = "confidence-invalid", Group.OPENING, "a suspect's confidence is outside (0, 1] (§9)"

    # warnings: reported, never failures (tests/vectors/README.md)
    VOCABULARY_UNKNOWN = "vocabulary-unknown", Group.WARNING, "the escrow names a vocabulary this reader does not know: its checks were skipped (§10)"

    # signed notes and cosignatures (tests/vectors/README.md)
    NOTE_SIGNATURE_INVALID = "note-signature-invalid", Group.NOTE, "a signed note carries a signature by a known key that does not verify (§7)"
    NOTE_SIGNATURE_UNTRUSTED = "note-signature-untrusted", Group.NOTE, "no signature on a signed note verifies under a given key (§7)"
    COSIGNATURE_INVALID = "cosignature-invalid", Group.NOTE, "a witness cosignature line does not verify for the checkpoint (§7)"

    # the board refuses an event, a cosignature or a range (unveil.board.protocol, .log)
    MALFORMED = "malformed", Group.BOARD, "the envelope, cosignature or request is not what it must be (spec §0, §7 shapes)"
    AUTHOR_UNKNOWN = "author-unknown", Group.BOARD, "no signature by a registered statement key"
    AUTHOR_AMBIGUOUS = "author-ambiguous", Group.BOARD, "several registered parties signed: an event has one author"
    ROLE_NOT_ALLOWED = "role-not-allowed", Group.BOARD, "the author's role (or name) may not write this kind here"
    TIME_FUTURE = "time-future", Group.BOARD, "the event's time is more than 300 s after the board's clock (spec §7)"
    TIME_OUT_OF_RANGE = "time-out-of-range", Group.BOARD, "the event's time is more than 24 hours before the board's clock (spec §7)"
    TIME_STALE = "time-stale", Group.BOARD, "an event that starts or answers a deadline is dated more than 300 s before the board's clock (spec §12)"
    ENTRY_TOO_LARGE = "entry-too-large", Group.BOARD, "the event (its JCS envelope, or the request body) is over 1 MiB (spec §7)"
    STATEMENT_CONFLICT = "statement-conflict", Group.BOARD, "the same statement is logged under other signatures"
    STATEMENT_DUPLICATE = "statement-duplicate", Group.BOARD, "the same statement is already logged"
    ESCROW_UNKNOWN = "escrow-unknown", Group.BOARD, "escrow_id names no published escrow"
    ESCROW_DUPLICATE = "escrow-duplicate", Group.BOARD, "an escrow with this id is already published"
    ACCEPTANCE_MISMATCH = "acceptance-mismatch", Group.BOARD, "escrow.accepted names another cells_sha256 or root"
    ACCEPTANCE_REPEAT = "acceptance-repeat", Group.BOARD, "this inspector already accepted this escrow"
    PHASE_DUPLICATE = "phase-duplicate", Group.BOARD, "a reveal of this phase (or of this part of it) of this escrow is already logged"
    PART_ORDER = "part-order", Group.BOARD, "a part of a phase is logged before the part right below it (spec §5.1, §7)"
    BUNDLE_MISSING = "bundle-missing", Group.BOARD, "the board holds no reveal file with body.sha256"
    BUNDLE_INVALID = "bundle-invalid", Group.BOARD, "the reveal file fails its checks against the published escrow, or its phase or opening count differs from the body"
    COIN_EARLY = "coin-early", Group.BOARD, "coin.revealed before every draw party's commitment (spec §8)"
    COIN_REPEAT = "coin-repeat", Group.BOARD, "a second commitment, or reveal, by one party in one context (spec §8)"
    COIN_MISMATCH = "coin-mismatch", Group.BOARD, "r does not open the party's commitment (spec §8)"
    CONTEXT_MISMATCH = "context-mismatch", Group.BOARD, "the context's earlier events name another escrow"
    SELECTION_EARLY = "selection-early", Group.BOARD, "selection.drawn before every draw party's reveal"
    SELECTION_INVALID = "selection-invalid", Group.BOARD, "the seed is not draw_seed(context, reveals) of the log (spec §8)"
    SELECTION_DUPLICATE = "selection-duplicate", Group.BOARD, "this context's selection is already logged"
    SELECTION_MISMATCH = "selection-mismatch", Group.BOARD, "selection.drawn names another population_sha256 or n than the context's logged ones, or another selection than spec §8 computes from them and the seed"
    POPULATION_MISSING = "population-missing", Group.BOARD, "the context's first coin.committed is not an inspecting party's carrying the population, so no party can commit yet (spec §8)"
    POPULATION_MISMATCH = "population-mismatch", Group.BOARD, "a later coin.committed carries a population, or names another population_sha256 or n than the context's first commitment (spec §8)"
    DISCREPANCY_DUPLICATE = "discrepancy-duplicate", Group.BOARD, "a discrepancy with this id is already raised for this escrow"
    DISCREPANCY_UNKNOWN = "discrepancy-unknown", Group.BOARD, "discrepancy.resolved names no raised discrepancy"
    DISCREPANCY_REPEAT = "discrepancy-repeat", Group.BOARD, "the discrepancy is already resolved"
    VERIFICATION_MISMATCH = "verification-mismatch", Group.BOARD, "verification.recorded names a file other than the logged reveal.published of that escrow and phase (spec §7)"
    PHASE_UNKNOWN = "phase-unknown", Group.BOARD, "discrepancy.raised names a phase the escrow has not revealed (spec §7)"
    CELL_NOT_OPENED = "cell-not-opened", Group.BOARD, "discrepancy.raised names a cell that the phase's bundle did not open (spec §7)"
    INSPECTION_DUPLICATE = "inspection-duplicate", Group.BOARD, "inspection.reported repeats the escrow, cell, site and context of a logged report (spec §7)"
    SITE_UNKNOWN = "site-unknown", Group.BOARD, "inspection.reported names a site that the phase's bundle did not declare in the cell (spec §7)"
    INTEL_INVALID = "intel-invalid", Group.BOARD, "the discrepancy's intel bundle is not a valid opening of the raiser's intel escrow shadowing this escrow, or does not open the cell (spec §9)"
    RANGE_INVALID = "range-invalid", Group.BOARD, "a proof or entry range outside the log"
    CHECKPOINT_UNKNOWN = "checkpoint-unknown", Group.BOARD, "a cosigned body is not a checkpoint this board signed"
    WITNESS_UNKNOWN = "witness-unknown", Group.BOARD, "the cosignature's key name is no registered witness"
    CUSTODY_GAP = "custody-gap", Group.BOARD, "item.moved or item.witnessed names a serial declared in no opened cell of the escrow (spec §12)"
    STEP_UNKNOWN = "step-unknown", Group.BOARD, "item.moved or item.witnessed names a step the agreement does not have (spec §12)"
    STEP_SKIPPED = "step-skipped", Group.BOARD, "item.moved skips a step: an item moves to the step right after its current one (spec §12)"
    STEP_INVALID = "step-invalid", Group.BOARD, "item.moved names a step that is not later than the item's current one (spec §12)"
    STEP_MISMATCH = "step-mismatch", Group.BOARD, "item.witnessed names a step other than the item's current one (spec §12)"
    ACCESS_DUPLICATE = "access-duplicate", Group.BOARD, "access.requested repeats the id of an earlier request of the escrow (spec §12)"
    ACCESS_UNKNOWN = "access-unknown", Group.BOARD, "access.granted or access.refused names no logged request (spec §12)"
    ACCESS_ANSWERED = "access-answered", Group.BOARD, "access.granted or access.refused answers a request already answered (spec §12)"
    ACCESS_EXPIRED = "access-expired", Group.BOARD, "access.granted after the request's refusal deadline: it already counts as refused (spec §12)"
    ACCESS_TARGET_UNKNOWN = "access-target-unknown", Group.BOARD, "access.requested names a site of no opened cell, or a cell not in the escrow's cell list (spec §12)"

    # the board refuses an agreement or obligation event (unveil.board.agreements, spec §12)
    PARTY_UNKNOWN = "party-unknown", Group.BOARD, "an agreement names a party that is not registered on the board (spec §12)"
    AGREEMENT_DUPLICATE = "agreement-duplicate", Group.BOARD, "the escrow already has an agreement, or another escrow's agreement has this id (spec §12)"
    AGREEMENT_UNKNOWN = "agreement-unknown", Group.BOARD, "no agreement with this id governs the event's escrow (spec §12)"
    AGREEMENT_MISMATCH = "agreement-mismatch", Group.BOARD, "agreement.signed names another hash than the published agreement's (spec §12)"
    AGREEMENT_SIGN_REPEAT = "agreement-sign-repeat", Group.BOARD, "this party already signed the agreement (spec §12)"
    AGREEMENT_UNSIGNED = "agreement-unsigned", Group.BOARD, "not every party of the escrow's agreement has signed it yet: nothing under it is accepted (spec §12)"
    OBLIGATION_UNKNOWN = "obligation-unknown", Group.BOARD, "the agreement has no obligation with this id (spec §12)"
    OBLIGATION_SETTLED = "obligation-settled", Group.BOARD, "the obligation is verified already (a claim), or verified by the log (a verification or dispute; spec §12)"
    OBLIGATION_UNCLAIMED = "obligation-unclaimed", Group.BOARD, "a verification or dispute of an obligation nobody claimed (spec §12)"
    DISPUTE_UNKNOWN = "dispute-unknown", Group.BOARD, "obligation.withdrawn without a standing dispute by its author (spec §12)"
    EVIDENCE_INVALID = "evidence-invalid", Group.BOARD, "an entry evidence names no earlier entry of the log (spec §12)"

    # the board's HTTP API refuses a request (unveil.api)
    DISCONNECTED = "disconnected", Group.API, "the client went away before its request body was complete"
    BODY_TOO_LARGE = "body-too-large", Group.API, "the request body is over the board's limit"
    SHA256_MISMATCH = "sha256-mismatch", Group.API, "an uploaded reveal file's SHA-256 is not the one in its URL"
    UPLOAD_UNSIGNED = "upload-unsigned", Group.API, "an uploaded reveal file has no valid signature by a registered party's statement key, or a failing one (spec §11)"
    UPLOADS_BUSY = "uploads-busy", Group.API, "the board is checking as many uploads as it queues: retry later"
    BUNDLE_UNKNOWN = "bundle-unknown", Group.API, "the board holds no reveal file with that SHA-256"
    ENTRY_UNKNOWN = "entry-unknown", Group.API, "no entry with that index is in the log"
    CELLS_UNKNOWN = "cells-unknown", Group.API, "no published escrow commits to a cells.txt with that SHA-256 (spec §11)"
    CELLS_MISSING = "cells-missing", Group.API, "the board holds no cells.txt with that SHA-256, or none of that escrow (spec §11)"
    ESCROW_MISSING = "escrow-missing", Group.API, "a view names an escrow that is not published on this board (spec §11)"
    NOT_FOUND = "not-found", Group.API, "no such endpoint"
    METHOD_NOT_ALLOWED = "method-not-allowed", Group.API, "the endpoint does not take this HTTP method"
    STORAGE_FAILURE = "storage-failure", Group.API, "the board could not write: nothing of the batch was kept"

    # an audit of a log, offline (unveil.board.audit)
    ENTRY_MALFORMED = "entry-malformed", Group.AUDIT, "the entry is not I-JSON, or not an event (spec §0, §7)"
    ENTRY_NOT_CANONICAL = "entry-not-canonical", Group.AUDIT, "the entry is not JCS of its own JSON (spec §7)"
    ENTRY_INDEX_GAP = "entry-index-gap", Group.AUDIT, "storage returned the log's entries with an index missing"
    CHECKPOINT_MALFORMED = "checkpoint-malformed", Group.AUDIT, "a checkpoint is not a signed C2SP checkpoint note (spec §7)"
    CHECKPOINT_ORIGIN = "checkpoint-origin", Group.AUDIT, "a checkpoint's origin is not the board's"
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint-signature-invalid", Group.AUDIT, "the board's signature on a checkpoint is missing or fails, or a registered witness's cosignature fails"
    CHECKPOINT_BEYOND_LOG = "checkpoint-beyond-log", Group.AUDIT, "a checkpoint's size exceeds the entries given: entries are missing"
    CHECKPOINT_ROOT_MISMATCH = "checkpoint-root-mismatch", Group.AUDIT, "a checkpoint's root differs from the recomputed tree at its size"
    QUORUM_MISSING = "quorum-missing", Group.AUDIT, "an entry is not final: not every quorum member (K of them, when lowered) cosigned a checkpoint that includes it (spec §7)"

    # problems an agreement's status reports (unveil.agreements; spec §12 "Problems")
    UNWITNESSED_TRANSITION = "unwitnessed-transition", Group.STATUS, "an item moved out of a step no inspecting party witnessed it at (spec §12)"
    ACCESS_DELAYED = "access-delayed", Group.STATUS, "an access request is unanswered past the agreement's delay deadline (spec §12)"
    ACCESS_REFUSED = "access-refused", Group.STATUS, "an access request was refused, or is unanswered past the refusal deadline (spec §12)"

    # a witness refuses to cosign, or compares checkpoints (unveil.board.witness, unveil.workspace.sync, .checkpoints)
    CHECKPOINT_ROLLBACK = "checkpoint-rollback", Group.WITNESS, "the checkpoint is smaller than the last one this witness cosigned"
    CHECKPOINT_INCONSISTENT = "checkpoint-inconsistent", Group.WITNESS, "the consistency proof fails: the board shows different logs (a fork)"
    MIRROR_ROOT_MISMATCH = "mirror-root-mismatch", Group.WITNESS, "the entries the board serves do not hash to its signed checkpoint's root"
    FORK = "fork", Group.WITNESS, "two checkpoints signed by the board's key are not consistent: the board showed two logs (spec §7)"
    MIRROR_BEHIND = "mirror-behind", Group.WITNESS, "a checkpoint lies beyond this workspace's mirror: sync first, or ask the board for a consistency proof"

    # a client's request to a board failed (unveil.store.board_client)
    UNREACHABLE = "unreachable", Group.CLIENT, "no HTTP answer from the board (connection refused, DNS, timeout)"
    RESPONSE_INVALID = "response-invalid", Group.CLIENT, "the board answered something the client cannot accept"
    HTTP_ERROR = "http-error", Group.CLIENT, "an error status without the board's {\"error\", \"reason\"} body"

    # the problems an agreement's status reports (unveil.agreements, spec §12)
    CLAIMED_LATE = "claimed-late", Group.STATUS, "the obligation's latest claim came after its due time (spec §12)"

    # this workspace will not take a draw step (unveil.workspace.coins)
    NOT_A_DRAW_PARTY = "not-a-draw-party", Group.DRAW, "this workspace's key is not a registered host or inspector: it takes no part in draws"
    COIN_MISSING = "coin-missing", Group.DRAW, "this workspace has no commitment on the board in the context"
    SELECTION_CONFLICT = "selection-conflict", Group.DRAW, "the board already logs another selection for the context"
    CHECKPOINT_INVALID = "checkpoint-invalid", Group.DRAW, "the board's entries or checkpoint are not signed by the board, or do not hash to its root"
    WAITING = "waiting", Group.DRAW, "a draw party has not committed or revealed yet"

    # a party's own tools about its files (unveil publish)
    CELLS_MISMATCH = "cells-mismatch", Group.WORKSPACE, "cells.txt is not the escrow's cell list (publish --accept)"

    # the truth test's mismatch reasons (unveil.inspection.truthtest)
    MISMATCH_KIND = "kind", Group.TRUTH_TEST, "a suspect's kind is not the paired site's kind"
    MISMATCH_QUANTITY = "quantity", Group.TRUTH_TEST, "the paired site's total of a category lies outside the suspect's estimate"


def _table(group: Group) -> Mapping[str, str]:
    return MappingProxyType({str(r): r.description for r in Reason if r.group is group})


BUNDLE_LEVEL = _table(Group.BUNDLE)
OPENING_LEVEL = _table(Group.OPENING)
WARNINGS = _table(Group.WARNING)
NOTES = _table(Group.NOTE)

PUBLISHED: Mapping[str, str] = MappingProxyType({**BUNDLE_LEVEL, **OPENING_LEVEL, **WARNINGS, **NOTES})
"""The codes ``tests/vectors/README.md`` lists: the verifier's and the signed notes'."""

ALL: Mapping[str, str] = MappingProxyType({str(r): r.description for r in Reason})
"""Every code, with what it means."""
