"""A party's side of a coin draw (spec §8) and of its findings, against a board (spec §7).

- :func:`commit_coin` draws ``r``, stores it in the workspace (table ``coins``) *before*
  anything leaves the machine, then logs ``coin.committed``.
- :func:`reveal_coin` logs ``coin.revealed`` once every draw party's commitment is on the
  board (spec §8: nobody reveals earlier).
- :func:`draw` reads the context's transcript from the board, applies the refusal rules and,
  when every party revealed, logs ``selection.drawn``.
- :func:`raise_discrepancy`, :func:`resolve_discrepancy` log findings;
  :func:`inspect_report` keeps per-site inspection results locally (table ``inspections``).

The draw parties are, by this project's agreement, every registered host and inspector
(:meth:`unveil.board.parties.Parties.draw_parties`). "Refused by the deadline" is the caller's
judgement: with ``deadline_passed`` false, a missing commitment or reveal means *wait*
(:class:`~unveil.errors.DrawWaiting`); with it true, it is a refusal.

Local refusals raise :class:`~unveil.errors.DrawRefused` (``reason`` code, CLI exit 1), and
"not yet" :class:`~unveil.errors.DrawWaiting`; the board's refusals raise
:class:`~unveil.errors.BoardError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from unveil.core.encoding import format_time, is_id
from unveil.core.reasons import Reason
from unveil.errors import DrawRefused, DrawWaiting, MalformedInputError, UnveilError
from unveil.store.workspace_db import transaction

if TYPE_CHECKING:
    from unveil.board.events import Event
    from unveil.board.parties import Parties, Party
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = [
    "Transcript", "commit_coin", "draw", "inspect_report", "raise_discrepancy",
    "read_population", "read_transcript", "resolve_discrepancy", "reveal_coin",
]

COINS_TABLE = """CREATE TABLE IF NOT EXISTS coins (
    context TEXT PRIMARY KEY, r BLOB NOT NULL, committed_index INTEGER, revealed_index INTEGER
)"""
INSPECTIONS_TABLE = """CREATE TABLE IF NOT EXISTS inspections (
    escrow_id TEXT NOT NULL, phase TEXT NOT NULL, site TEXT NOT NULL, result TEXT NOT NULL,
    detail TEXT NOT NULL, recorded TEXT NOT NULL, PRIMARY KEY (escrow_id, phase, site)
)"""
SUSPECT_INSPECTIONS_TABLE = """CREATE TABLE IF NOT EXISTS suspect_inspections (
    escrow_id TEXT NOT NULL, phase TEXT NOT NULL, suspect TEXT NOT NULL, result TEXT NOT NULL,
    detection TEXT NOT NULL, PRIMARY KEY (escrow_id, phase, suspect)
)"""
RESULTS = ("consistent", "discrepancy")
SUSPECT_RESULTS = ("nothing-found", "found")


def _check_context(context: str, where: str = "--context") -> None:
    if not is_id(context):
        raise MalformedInputError(f"{str(context)[:80]!r} is not an id (spec §0)", where=where)


def _ensure(db: Any) -> None:
    db.execute(COINS_TABLE)
    db.execute(INSPECTIONS_TABLE)
    db.execute(SUSPECT_INSPECTIONS_TABLE)


def _me(ws: Workspace, parties: Parties) -> Party:
    me = parties.by_vkey(ws.vkey)
    if me is None or me not in parties.draw_parties():
        raise DrawRefused(Reason.NOT_A_DRAW_PARTY, f"{ws.name}'s statement key is not a registered host or inspector: it takes no part in draws")
    return me


def _post(ws: Workspace, client: BoardClient, kind: str, escrow_id: str, body: dict[str, Any], now: datetime) -> int:
    from unveil.board.events import make_event

    envelope = make_event(kind, escrow_id, format_time(now), body, [ws.statement_key()])
    return client.submit(envelope).index


# --- the board's transcript ----------------------------------------------------------------


@dataclass
class Transcript:
    """One context's coin events on the board, first per party only (spec §8), keyed by vkey."""

    commitments: dict[str, bytes] = field(default_factory=dict)
    reveals: dict[str, bytes] = field(default_factory=dict)
    early_reveal: bool = False  # a reveal logged before every party's commitment: void
    selection: dict[str, Any] | None = None
    selection_index: int | None = None


def _events(client: BoardClient, parties: Parties) -> list[tuple[int, Event, Party]]:
    """Every entry of the board with its registered author, checked against the board's signed
    checkpoint (entries that fail to parse or have no registered author are skipped: the
    board's audit reports them)."""
    from unveil.board.events import parse_event
    from unveil.board.witness import read_checkpoint
    from unveil.core.jsonparse import loads
    from unveil.core.notes import verify_note

    note = client.checkpoint()
    try:
        verify_note(note, [parties.board.statement_key])
    except UnveilError as exc:
        raise DrawRefused(Reason.CHECKPOINT_INVALID, f"the board's checkpoint is not signed by {parties.board.name}: {exc}") from None
    checkpoint = read_checkpoint(note)
    size = checkpoint.size if checkpoint is not None else 0
    entries = client.entries(0, size) if size else []
    # The entries must be the log the board signed: same count, same RFC 9162 root (§7).
    from unveil.core.merkle import EMPTY_ROOT, leaf_hash, root_from_leaf_hashes

    root = root_from_leaf_hashes(b"".join(map(leaf_hash, entries))) if entries else EMPTY_ROOT
    if checkpoint is None or len(entries) != size or root != checkpoint.root:
        raise DrawRefused(Reason.CHECKPOINT_INVALID, "the board's entries do not hash to the root of its signed checkpoint")
    out = []
    for index, entry in enumerate(entries):
        try:
            event = parse_event(loads(entry, source=f"entry {index}"))
            author = parties.author_of(event)
        except UnveilError:
            continue
        if author is not None:
            out.append((index, event, author))
    return out


def read_transcript(client: BoardClient, parties: Parties, context: str, escrow_id: str) -> Transcript:
    """The context's commitments, reveals and selection, as the board's log holds them."""
    from unveil.board import events as ev

    draw_keys = {p.vkey for p in parties.draw_parties()}
    found = Transcript()
    for index, event, author in _events(client, parties):
        if event.escrow_id != escrow_id or event.body.get("context") != context:
            continue
        if event.kind == ev.COIN_COMMITTED and author.vkey in draw_keys:
            found.commitments.setdefault(author.vkey, bytes.fromhex(event.body["commitment"]))
        elif event.kind == ev.COIN_REVEALED and author.vkey in draw_keys:
            if not draw_keys <= set(found.commitments):
                found.early_reveal = True
            found.reveals.setdefault(author.vkey, bytes.fromhex(event.body["r"]))
        elif event.kind == ev.SELECTION_DRAWN and found.selection is None:
            found.selection, found.selection_index = dict(event.body), index
    return found


# --- coins ---------------------------------------------------------------------------------


def commit_coin(
    ws: Workspace, client: BoardClient, context: str, escrow_id: str, now: datetime,
    random: Callable[[int], bytes] = os.urandom, *, parties: Parties | None = None,
) -> dict[str, Any]:
    """Draw ``r``, keep it (one transaction), then log ``coin.committed``. A context this
    workspace already committed in is refused (``coin-repeat``), unless the earlier post never
    reached the board, in which case the same commitment is posted again."""
    from unveil.board import events as ev
    from unveil.core.selection import coin_commitment

    _check_context(context)
    if parties is not None:
        _me(ws, parties)
    else:
        ws.require_role("host", "inspector")
    with ws.connect() as db, transaction(db):
        _ensure(db)
        row = db.execute("SELECT r, committed_index FROM coins WHERE context = ?", (context,)).fetchone()
        if row is not None and row[1] is not None:
            raise DrawRefused(Reason.COIN_REPEAT, f"{ws.name} already committed in context {context!r} (entry {row[1]}): only the first counts")
        if row is None:
            r = random(32)
            if len(r) != 32:
                raise ValueError("random(32) must return 32 bytes")
            db.execute("INSERT INTO coins (context, r) VALUES (?, ?)", (context, r))
        else:
            r = bytes(row[0])  # stored, but the post never got through: post the same commitment
    commitment = coin_commitment(context, ws.vkey, r).hex()
    index = _post(ws, client, ev.COIN_COMMITTED, escrow_id, {"context": context, "commitment": commitment}, now)
    with ws.connect() as db, transaction(db):
        db.execute("UPDATE coins SET committed_index = ? WHERE context = ?", (index, context))
    return {"context": context, "commitment": commitment, "index": index}


def reveal_coin(ws: Workspace, client: BoardClient, context: str, escrow_id: str, now: datetime, *, parties: Parties) -> dict[str, Any]:
    """Log ``coin.revealed`` once every draw party's commitment is on the board (else
    :class:`DrawWaiting`)."""
    from unveil.board import events as ev

    _check_context(context)
    _me(ws, parties)
    with ws.connect() as db, transaction(db):
        _ensure(db)
        row = db.execute("SELECT r, committed_index, revealed_index FROM coins WHERE context = ?", (context,)).fetchone()
    if row is None or row[1] is None:
        raise DrawRefused(Reason.COIN_MISSING, f"{ws.name} has no commitment on the board in context {context!r}: run 'unveil coin commit' first")
    if row[2] is not None:
        raise DrawRefused(Reason.COIN_REPEAT, f"{ws.name} already revealed in context {context!r} (entry {row[2]}): only the first counts")
    transcript = read_transcript(client, parties, context, escrow_id)
    missing = [p.name for p in parties.draw_parties() if p.vkey not in transcript.commitments]
    if missing:
        raise DrawWaiting("commit", missing)
    r = bytes(row[0])
    index = _post(ws, client, ev.COIN_REVEALED, escrow_id, {"context": context, "r": r.hex()}, now)
    with ws.connect() as db, transaction(db):
        db.execute("UPDATE coins SET revealed_index = ? WHERE context = ?", (index, context))
    return {"context": context, "r": r.hex(), "index": index}


# --- the draw ------------------------------------------------------------------------------


def read_population(text: str, source: str = "population") -> list[str]:
    """Ids one per line (blank lines ignored), as ``unveil select`` reads them: unique ids,
    returned sorted by UTF-8 bytes."""
    from unveil.core.selection import check_population

    ids = [line.strip() for line in text.splitlines() if line.strip()]
    seen: set[str] = set()
    for member in ids:
        if member in seen:
            raise MalformedInputError(f"duplicate id {member!r}", source=source)
        seen.add(member)
    ids.sort(key=lambda s: s.encode("utf-8", "surrogatepass"))  # a lone surrogate is then refused as no id
    try:
        check_population(ids)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    return ids


def draw(
    client: BoardClient, parties: Parties, context: str, escrow_id: str, population: Sequence[str], n: int,
    ws: Workspace, now: datetime, *, deadline_passed: bool = False,
) -> dict[str, Any]:
    """The draw of ``context`` from the board's transcript (spec §8).

    Returns ``{"seed": hex | None, "selection": [ids], "status", "index"}``: ``drawn`` (every
    party revealed a value opening its commitment; ``selection.drawn`` is logged, or found
    already logged with the same result: ``index`` is its entry), ``void`` (an inspector
    refused, or a reveal came before every commitment: nothing is inspected), or
    ``host-refused`` (every member of the population is inspected). Missing commitments or
    reveals raise :class:`DrawWaiting` unless ``deadline_passed``.
    """
    from unveil.board import events as ev
    from unveil.board.parties import INSPECTOR
    from unveil.core.selection import (
        check_population,
        coin_commitment,
        draw_seed,
        population_sha256,
        select,
    )

    _check_context(context)
    members = sorted(population, key=lambda s: s.encode("utf-8"))
    if len(set(members)) != len(members):
        raise MalformedInputError("the population repeats an id", where="--population")
    if type(n) is not int or not 0 <= n <= len(members):
        raise MalformedInputError(f"n must be in [0, {len(members)}] (the population size), got {n!r}", where="--n")
    check_population(members)  # ids, unique, sorted: before anything is fetched
    transcript = read_transcript(client, parties, context, escrow_id)
    draw_parties = parties.draw_parties()
    if not draw_parties:
        raise MalformedInputError("no host or inspector is registered: a draw has no parties", where="--parties")
    if not deadline_passed:
        not_committed = [p.name for p in draw_parties if p.vkey not in transcript.commitments]
        if not_committed:
            raise DrawWaiting("commit", not_committed)
        not_revealed = [p.name for p in draw_parties if p.vkey not in transcript.reveals]
        if not_revealed:
            raise DrawWaiting("reveal", not_revealed)
    uncommitted = [p for p in draw_parties if p.vkey not in transcript.commitments]
    # with a commitment missing nobody could reveal (spec §8): only the non-committers refused
    refused = uncommitted or [
        p for p in draw_parties
        if p.vkey not in transcript.reveals
        or coin_commitment(context, p.vkey, transcript.reveals[p.vkey]) != transcript.commitments[p.vkey]
    ]
    result: dict[str, Any] = {"context": context, "seed": None, "selection": [], "status": "void", "index": None,
                              "refused": [p.name for p in refused]}
    if transcript.early_reveal or any(p.role == INSPECTOR for p in refused):
        return result
    if refused:  # only hosts refused: every member is inspected
        return {**result, "selection": list(members), "status": "host-refused"}
    seed = draw_seed(context, {p.vkey: transcript.reveals[p.vkey] for p in draw_parties})
    chosen = select(members, n, seed)
    body = {"context": context, "population_sha256": population_sha256(members).hex(), "n": n, "seed": seed.hex(), "selection": chosen}
    if transcript.selection is not None:
        if transcript.selection != body:
            raise DrawRefused(
                Reason.SELECTION_CONFLICT,
                f"entry {transcript.selection_index} already logs another selection for context {context!r}"
                " (a different population or n?)",
            )
        index = transcript.selection_index
    else:
        index = _post(ws, client, ev.SELECTION_DRAWN, escrow_id, body, now)
    return {**result, "seed": seed.hex(), "selection": chosen, "status": "drawn", "index": index}


# --- findings ------------------------------------------------------------------------------


def raise_discrepancy(
    ws: Workspace, client: BoardClient, escrow_id: str, id: str, phase: str, cell: str, detail: str,
    intel_bundle: bytes | None, now: datetime,
) -> dict[str, Any]:
    """Log ``discrepancy.raised``; ``intel_bundle`` (the exact bytes of a signed reveal bundle
    of the inspector's intel escrow, spec §9) is embedded as its JSON object, or ``null``."""
    from unveil.board import events as ev
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.reveal import parse_reveal

    ws.require_role("inspector")
    _check_context(id, "--id")
    _check_context(phase, "--phase")
    if not cell:
        raise MalformedInputError("the cell is empty", where="--cell")
    intel = None
    if intel_bundle is not None:
        intel = loads(intel_bundle, source="intel bundle")
        signed = parse_signed(intel, "intel bundle")
        reveal = parse_reveal(signed.statement, "intel bundle.statement", intel=True)
        if cell not in {o.cell for o in reveal.openings}:
            raise MalformedInputError(f"the intel bundle does not open cell {cell[:80]!r}", where="--intel-bundle")
    body = {"id": id, "phase": phase, "cell": cell, "detail": detail, "intel": intel}
    index = _post(ws, client, ev.DISCREPANCY_RAISED, escrow_id, body, now)
    return {"id": id, "phase": phase, "cell": cell, "intel": intel is not None, "index": index}


def resolve_discrepancy(ws: Workspace, client: BoardClient, escrow_id: str, id: str, resolution: str, now: datetime) -> dict[str, Any]:
    """Log ``discrepancy.resolved`` (only the inspector that raised it may)."""
    from unveil.board import events as ev

    ws.require_role("inspector")
    _check_context(id, "--id")
    index = _post(ws, client, ev.DISCREPANCY_RESOLVED, escrow_id, {"id": id, "resolution": resolution}, now)
    return {"id": id, "resolution": resolution, "index": index}


def inspect_report(ws: Workspace, escrow_id: str, phase: str, results: Any, now: datetime | None = None) -> dict[str, Any]:
    """Store per-site results ``{"site": id, "result": "consistent"|"discrepancy", "detail":
    str}`` (table ``inspections``) and per-suspect results ``{"suspect": id, "result":
    "nothing-found"|"found", "detection": number in (0, 1]}`` (table ``suspect_inspections``,
    read by :mod:`unveil.workspace.confidence`) for ``(escrow_id, phase)`` in one transaction
    (a site or suspect reported again is replaced). Local record only: nothing is posted.
    The result counts ``suspects``, ``nothing-found`` and ``found`` only when suspects were
    reported."""
    from unveil.core import shape

    _check_context(escrow_id, "--escrow-id")
    _check_context(phase, "--phase")
    if type(results) is not list:
        raise MalformedInputError(f"expected an array, found {shape.json_type(results)}", where="results")
    sites: set[str] = set()
    suspects: set[str] = set()
    rows = []
    suspect_rows = []
    for i, item in enumerate(results):
        where = f"results[{i}]"
        if type(item) is dict and "suspect" in item:
            shape.fields(item, where, ("suspect", "result", "detection"))
            suspect, result = (shape.string(item, name, where) for name in ("suspect", "result"))
            detection = shape.number(item, "detection", where)
            if not is_id(suspect):
                raise MalformedInputError(f"{suspect[:80]!r} is not an id", where=f"{where}.suspect")
            if result not in SUSPECT_RESULTS:
                raise MalformedInputError(f"{result[:40]!r} is not one of {', '.join(SUSPECT_RESULTS)}", where=f"{where}.result")
            if not 0 < detection <= 1:
                raise MalformedInputError(f"detection {detection!r} is outside (0, 1]", where=f"{where}.detection")
            if suspect in suspects:
                raise MalformedInputError(f"suspect {suspect!r} is reported twice", where=f"{where}.suspect")
            suspects.add(suspect)
            # kept as the decimal the number prints as, so the model reads it exactly
            suspect_rows.append((escrow_id, phase, suspect, result, repr(detection)))
            continue
        shape.fields(item, where, ("site", "result", "detail"))
        site, result, detail = (shape.string(item, name, where) for name in ("site", "result", "detail"))
        if not is_id(site):
            raise MalformedInputError(f"{site[:80]!r} is not an id", where=f"{where}.site")
        if result not in RESULTS:
            raise MalformedInputError(f"{result[:40]!r} is not one of {', '.join(RESULTS)}", where=f"{where}.result")
        if site in sites:
            raise MalformedInputError(f"site {site!r} is reported twice", where=f"{where}.site")
        sites.add(site)
        rows.append((escrow_id, phase, site, result, detail))
    recorded = format_time(now) if now is not None else format_time(_utcnow())
    with ws.connect() as db, transaction(db):
        _ensure(db)
        db.executemany(
            "INSERT OR REPLACE INTO inspections (escrow_id, phase, site, result, detail, recorded) VALUES (?, ?, ?, ?, ?, ?)",
            [(*row, recorded) for row in rows],
        )
        db.executemany(
            "INSERT OR REPLACE INTO suspect_inspections (escrow_id, phase, suspect, result, detection) VALUES (?, ?, ?, ?, ?)",
            suspect_rows,
        )
    counts = {r: sum(1 for row in rows if row[3] == r) for r in RESULTS}
    out: dict[str, Any] = {"escrow_id": escrow_id, "phase": phase, "sites": len(rows), **counts}
    if suspect_rows:
        out["suspects"] = len(suspect_rows)
        out.update({r: sum(1 for row in suspect_rows if row[3] == r) for r in SUSPECT_RESULTS})
    return out


def _utcnow() -> datetime:

    return datetime.now(UTC).replace(microsecond=0)
