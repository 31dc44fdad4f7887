"""A party's side of a coin draw (spec §8), against a board (spec §7).

- :func:`commit_coin` draws ``r``, stores it in the workspace (table ``coins``, its queries in
  :mod:`unveil.store.workspace_queries`) *before* anything leaves the machine, then logs
  ``coin.committed``. The inspecting party's first commitment of a context logs the
  population and ``n``; every other commitment names the logged ones, so the population and
  ``n`` are fixed before any coin (spec §8).
- :func:`reveal_coin` logs ``coin.revealed`` once every draw party's commitment is on the
  board (spec §8: nobody reveals earlier).
- :func:`draw` reads the context's transcript from the board
  (:func:`unveil.workspace.transcript.read_transcript`), keeps the reveals that count (final
  ones, spec §7: every quorum member, or K of them, cosigned a checkpoint covering them),
  applies the refusal rules and, when every party's reveal counts, logs ``selection.drawn``
  computed from the logged population.

The draw parties are, by this project's agreement, every registered host and inspector
(:meth:`unveil.board.parties.Parties.draw_parties`); the inspecting party of a context is the
inspector whose commitment opened it. "Refused by the deadline" is the caller's judgement:
with ``deadline_passed`` false, a missing commitment or reveal, or a reveal not final yet, means
*wait* (:class:`~unveil.errors.DrawWaiting`); with it true, a missing reveal is a refusal, and
so is one that is not final unless a checkpoint cosigned by its own party covers it (spec §8):
withholding a cosignature blocks nothing.

Local refusals raise :class:`~unveil.errors.DrawRefused` (``reason`` code, CLI exit 1), and
"not yet" :class:`~unveil.errors.DrawWaiting`; the board's refusals raise
:class:`~unveil.errors.BoardError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from unveil.core.encoding import format_time, is_id
from unveil.core.reasons import Reason
from unveil.errors import DrawRefused, DrawWaiting, MalformedInputError
from unveil.store import workspace_queries as q
from unveil.store.workspace_db import transaction
from unveil.workspace.transcript import Transcript, read_transcript

if TYPE_CHECKING:
    from unveil.board.finality import CosignedClaim
    from unveil.board.parties import Parties, Party
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["Transcript", "check_population", "commit_coin", "draw", "read_population", "read_transcript", "reveal_coin"]


def _check_context(context: str, where: str = "--context") -> None:
    if not is_id(context):
        raise MalformedInputError(f"{str(context)[:80]!r} is not an id (spec §0)", where=where)


def _me(ws: Workspace, parties: Parties) -> Party:
    me = parties.by_vkey(ws.vkey)
    if me is None or me not in parties.draw_parties():
        raise DrawRefused(Reason.NOT_A_DRAW_PARTY, f"{ws.name}'s statement key is not a registered host or inspector: it takes no part in draws")
    return me


def _event(ws: Workspace, kind: str, escrow_id: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    from unveil.board.events import make_event

    return make_event(kind, escrow_id, format_time(now), body, [ws.statement_key()])


def _post(ws: Workspace, client: BoardClient, kind: str, escrow_id: str, body: dict[str, Any], now: datetime) -> int:
    return client.submit(_event(ws, kind, escrow_id, body, now)).index


# --- the population ------------------------------------------------------------------------


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


def check_population(population: Sequence[str], n: int) -> tuple[list[str], str]:
    """``population`` sorted (unique ids, at least one) and its ``population_sha256`` (hex),
    with ``n`` in [1, its length] (spec §8); :class:`MalformedInputError` naming the option."""
    from unveil.core import selection

    members = sorted(population, key=lambda s: s.encode("utf-8", "surrogatepass"))  # a lone surrogate: refused as no id below
    if not members:
        raise MalformedInputError("the population is empty: a draw needs at least one id", where="--population")
    if len(set(members)) != len(members):
        raise MalformedInputError("the population repeats an id", where="--population")
    try:
        selection.check_population(members)
    except MalformedInputError as exc:
        raise MalformedInputError(exc.message, where="--population") from None
    if type(n) is not int or not 1 <= n <= len(members):
        raise MalformedInputError(f"n must be in [1, {len(members)}] (the population size), got {n!r}", where="--n")
    return members, selection.population_sha256(members).hex()


def _fits(ws: Workspace, escrow_id: str, body: dict[str, Any], now: datetime) -> None:
    """Refuse a first commitment whose entry would exceed an entry's 1 MiB (spec §7), saying
    how large the largest population is (the commitment's hex is of fixed length: the
    placeholder measures the same)."""
    from unveil.board.events import COIN_COMMITTED, MAX_ENTRY_BYTES, parse_event
    from unveil.core.jcs import canonicalize

    size = len(parse_event(_event(ws, COIN_COMMITTED, escrow_id, body, now)).entry)
    if size <= MAX_ENTRY_BYTES:
        return
    members = body["population"]
    budget = MAX_ENTRY_BYTES - (size - len(canonicalize(members)))  # bytes left for the JSON array of ids
    per_id = (len(canonicalize(members)) - 1) / len(members)  # an id's characters, quotes and comma, on average
    longest = f"{(budget - 1) // 67:,} ids of 64 characters (the longest)"
    largest = longest if per_id == 67 else f"{int((budget - 1) // per_id):,} ids as long as these on average, or {longest}"
    raise MalformedInputError(
        f"its {len(members):,} ids make a coin.committed entry of {size:,} bytes; an entry is at most"
        f" {MAX_ENTRY_BYTES:,} bytes (spec §7), so the largest population is {largest}",
        where="--population",
    )


# --- coins ---------------------------------------------------------------------------------


def _population_body(
    transcript: Transcript, me: Party, parties: Parties, context: str, given: tuple[list[str], str, int] | None,
) -> dict[str, Any]:
    """The population fields of this party's commitment: the logged ones (checked against
    ``given``), or, as the context's inspecting party, ``given`` with the population inline."""
    from unveil.board.parties import INSPECTOR

    if transcript.population is None:
        if me.role != INSPECTOR:
            inspectors = [p.name for p in parties.draw_parties() if p.role == INSPECTOR] or ["an inspecting party (none is registered)"]
            raise DrawWaiting("commit", inspectors,
                              f"no population is logged in context {context!r} yet; the inspecting party logs it and n first (spec §8)")
        if given is None:
            raise MalformedInputError("the inspecting party fixes the draw: give --population FILE and --n N (spec §8)", where="--population")
        members, sha, n = given
        return {"population_sha256": sha, "n": n, "population": members}
    if me.role == INSPECTOR and given is None:
        raise MalformedInputError("an inspecting party states what it draws from: give --population FILE and --n N (spec §8)", where="--population")
    if given is not None and (given[1], given[2]) != (transcript.population_sha256, transcript.n):
        raise DrawRefused(
            Reason.POPULATION_MISMATCH,
            f"context {context!r} draws n = {transcript.n} of a logged population of {len(transcript.population)} ids"
            f" (population_sha256 {transcript.population_sha256}); --population and --n give n = {given[2]} of"
            f" {len(given[0])} ids ({given[1]}): nothing was committed",
        )
    return {"population_sha256": transcript.population_sha256, "n": transcript.n}


def commit_coin(
    ws: Workspace, client: BoardClient, context: str, escrow_id: str, now: datetime,
    random: Callable[[int], bytes] = os.urandom, *, parties: Parties,
    population: Sequence[str] | None = None, n: int | None = None,
) -> dict[str, Any]:
    """Draw ``r``, keep it (one transaction), then log ``coin.committed`` (spec §8).

    The inspecting party (an inspector workspace) gives ``population`` and ``n``: the
    context's first commitment logs them, a later one names them and must match the logged
    ones (``population-mismatch``). A host gives them optionally, checked against the log; it
    commits to the logged population's hash and ``n``, and waits (:class:`DrawWaiting`) while
    none is logged. A context this workspace already committed in is refused
    (``coin-repeat``), unless the earlier post never reached the board (the same ``r`` is
    committed again) or reached it unacknowledged (its entry is recorded)."""
    from unveil.board import events as ev
    from unveil.core.selection import coin_commitment

    _check_context(context)
    me = _me(ws, parties)
    if (population is None) != (n is None):
        raise MalformedInputError("--population and --n go together", where="--population" if population is None else "--n")
    given = None
    if population is not None and n is not None:
        members, sha = check_population(population, n)
        given = (members, sha, n)
    with ws.connect() as db, transaction(db):
        row = q.coin(db, context)
    if row is not None and row.committed_index is not None:
        raise DrawRefused(Reason.COIN_REPEAT, f"{ws.name} already committed in context {context!r} (entry {row.committed_index}): only the first counts")
    transcript = read_transcript(client, parties, context, escrow_id)
    if me.vkey in transcript.commitments:
        index = transcript.entries[(ev.COIN_COMMITTED, me.vkey)]
        if row is None or coin_commitment(context, me.vkey, row.r) != transcript.commitments[me.vkey]:
            raise DrawRefused(Reason.COIN_REPEAT, f"the board holds another commitment by {ws.name} in context {context!r} (entry {index}): only the first counts")
        _record(ws, q.set_coin_committed, context, index)  # an earlier post got through unacknowledged
        return {"context": context, "commitment": transcript.commitments[me.vkey].hex(), "index": index,
                "population_sha256": transcript.population_sha256, "n": transcript.n}
    body = {"context": context, "commitment": "0" * 64, **_population_body(transcript, me, parties, context, given)}
    if "population" in body:
        _fits(ws, escrow_id, body, now)
    with ws.connect() as db, transaction(db):
        row = q.coin(db, context)
        if row is None:
            r = random(32)
            if len(r) != 32:
                raise ValueError("random(32) must return 32 bytes")
            q.insert_coin(db, context, r)
        else:
            r = row.r  # stored, but the post never got through: post the same commitment
    body["commitment"] = coin_commitment(context, ws.vkey, r).hex()
    index = _post(ws, client, ev.COIN_COMMITTED, escrow_id, body, now)
    _record(ws, q.set_coin_committed, context, index)
    return {"context": context, "commitment": body["commitment"], "index": index,
            "population_sha256": body["population_sha256"], "n": body["n"]}


def _record(ws: Workspace, note: Callable[[Any, str, int], None], context: str, index: int) -> None:
    """Note the entry index of this workspace's commitment or reveal in ``context`` (``note``:
    :func:`~unveil.store.workspace_queries.set_coin_committed` or ``set_coin_revealed``)."""
    with ws.connect() as db, transaction(db):
        note(db, context, index)


def reveal_coin(ws: Workspace, client: BoardClient, context: str, escrow_id: str, now: datetime, *, parties: Parties) -> dict[str, Any]:
    """Log ``coin.revealed`` once every draw party's commitment is on the board (else
    :class:`DrawWaiting`)."""
    from unveil.board import events as ev

    _check_context(context)
    _me(ws, parties)
    with ws.connect() as db, transaction(db):
        row = q.coin(db, context)
    if row is None or row.committed_index is None:
        raise DrawRefused(Reason.COIN_MISSING, f"{ws.name} has no commitment on the board in context {context!r}: run 'unveil coin commit' first")
    if row.revealed_index is not None:
        raise DrawRefused(Reason.COIN_REPEAT, f"{ws.name} already revealed in context {context!r} (entry {row.revealed_index}): only the first counts")
    transcript = read_transcript(client, parties, context, escrow_id)
    missing = [p.name for p in parties.draw_parties() if p.vkey not in transcript.commitments]
    if missing:
        raise DrawWaiting("commit", missing)
    r = row.r
    index = _post(ws, client, ev.COIN_REVEALED, escrow_id, {"context": context, "r": r.hex()}, now)
    _record(ws, q.set_coin_revealed, context, index)
    return {"context": context, "r": r.hex(), "index": index}


# --- the draw ------------------------------------------------------------------------------


def _own_cosignature(ws: Workspace, parties: Parties) -> list[CosignedClaim]:
    """The workspace's latest cosigned checkpoint of the board, as a claim of its own: a board
    that leaves it out of ``GET /checkpoints/cosigned`` cannot make this party's reveal look
    unvouched for to this party (none, if it has cosigned nothing on this board)."""
    from unveil.board.finality import Claim
    from unveil.workspace.checkpoints import export_checkpoint

    try:
        text, _ = export_checkpoint(ws, parties.board.name)
    except MalformedInputError:
        return []
    return [Claim(ws.name, text)]


def _counted_reveals(
    client: BoardClient, parties: Parties, entries: list[bytes], transcript: Transcript, ws: Workspace, context: str,
    quorum: int | None, deadline_passed: bool,
) -> tuple[dict[str, bytes], list[str], int | None]:
    """The reveals the draw acts on (spec §8, "Only final reveals count"), by statement vkey; the
    names of the draw parties whose logged reveal counts for nothing; and the final size
    (``None`` while no reveal is logged: there is nothing to settle).

    A reveal counts once it is final: its entry index is below the final size of the log read
    (:func:`unveil.workspace.sync.final_size_of`, K = ``quorum``; the cosignatures the board lists
    and this workspace's own, :func:`_own_cosignature`). Before the deadline, a logged
    reveal that is not final means wait (:class:`DrawWaiting`, step ``cosign``, naming the
    quorum members that have not cosigned it). Once the deadline has passed, a reveal that is not
    final counts only if a checkpoint its own party cosigned covers it (its credited size is
    above the reveal's index); otherwise that party refuses: nobody blocks a draw by withholding
    a cosignature, and a party that withholds its own vouches for nothing."""
    from unveil.board import events as ev
    from unveil.board.finality import quorum_members
    from unveil.workspace.sync import final_size_of

    logged = {p.vkey: transcript.entries[(ev.COIN_REVEALED, p.vkey)] for p in parties.draw_parties() if p.vkey in transcript.reveals}
    if not logged:
        return {}, [], None
    if not quorum_members(parties) and not deadline_passed:
        raise MalformedInputError(
            "no party but the board has a witness key: nothing on this board is ever final (spec §7), so no coin reveal"
            " counts before the deadline; with --deadline-passed every party refuses (spec §8)", where="--parties")
    found = final_size_of(client, parties, entries, quorum=quorum, held=_own_cosignature(ws, parties))
    if not deadline_passed:
        need = max(logged.values()) + 1
        if found.final_size < need:
            short = found.short_of(need)
            raise DrawWaiting("cosign", short, (
                f"the coin reveals of context {context!r} (entries {', '.join(map(str, sorted(logged.values())))}) are not final:"
                f" the final size is {found.final_size}, and {found.quorum} of the quorum's {len(found.members)} member(s) must"
                f" cosign a checkpoint of size ≥ {need} ({len(found.members) - len(short)} did; spec §7, §8)"))
        return {vkey: transcript.reveals[vkey] for vkey in logged}, [], found.final_size
    counted: dict[str, bytes] = {}
    not_cosigned: list[str] = []
    for party in parties.draw_parties():
        index = logged.get(party.vkey)
        if index is None:
            continue
        if index < found.final_size or found.credited.get(party.name, 0) > index:
            counted[party.vkey] = transcript.reveals[party.vkey]
        else:
            not_cosigned.append(party.name)
    return counted, not_cosigned, found.final_size


def draw(
    client: BoardClient, parties: Parties, context: str, escrow_id: str, population: Sequence[str] | None, n: int | None,
    ws: Workspace, now: datetime, *, deadline_passed: bool = False, quorum: int | None = None,
) -> dict[str, Any]:
    """The draw of ``context`` from the board's transcript (spec §8), over the population and
    ``n`` its inspecting party logged; ``population`` and ``n``, when given, must be those
    (``population-mismatch``). It acts on final coin reveals only (:func:`_counted_reveals`;
    ``quorum`` lowers the quorum to K members, checked as ``sync`` and ``audit`` check it).

    Returns ``{"seed": hex | None, "selection": [ids], "status", "index", "n",
    "population_sha256", "population_size", "refused", "not_cosigned", "final_size"}``: ``drawn``
    (every party revealed a value opening its commitment, and the reveals count;
    ``selection.drawn`` is logged, or found already logged: ``index`` is its entry), ``void``
    (an inspector refused, or a reveal came before every commitment: nothing is inspected), or
    ``host-refused`` (every member of the population is inspected). ``not_cosigned`` names the
    refusing parties whose reveal is logged but counts for nothing. Missing commitments or
    reveals, and reveals not final, raise :class:`DrawWaiting` unless ``deadline_passed``.
    """
    from unveil.board import events as ev
    from unveil.board.finality import quorum_size
    from unveil.board.parties import INSPECTOR
    from unveil.core.selection import draw_seed, select
    from unveil.workspace.transcript import signed_entries, transcript_of

    _check_context(context)
    if (population is None) != (n is None):
        raise MalformedInputError("--population and --n go together", where="--population" if population is None else "--n")
    given = check_population(population, n) if population is not None and n is not None else None
    draw_parties = parties.draw_parties()
    if not draw_parties:
        raise MalformedInputError("no host or inspector is registered: a draw has no parties", where="--parties")
    quorum_size(parties, quorum)  # a bad --quorum is refused before anything is fetched
    entries = signed_entries(client, parties)
    transcript = transcript_of(entries, parties, context, escrow_id)
    if given is not None and transcript.population is not None and (given[1], n) != (transcript.population_sha256, transcript.n):
        raise DrawRefused(
            Reason.POPULATION_MISMATCH,
            f"context {context!r} draws n = {transcript.n} of the logged population {transcript.population_sha256}"
            f" ({len(transcript.population)} ids); --population and --n give n = {n} of {given[1]} ({len(given[0])} ids)",
        )
    if not deadline_passed:
        not_committed = [p.name for p in draw_parties if p.vkey not in transcript.commitments]
        if not_committed:
            raise DrawWaiting("commit", not_committed)
        not_revealed = [p.name for p in draw_parties if p.vkey not in transcript.reveals]
        if not_revealed:
            raise DrawWaiting("reveal", not_revealed)
    reveals, not_cosigned, final = _counted_reveals(client, parties, entries, transcript, ws, context, quorum, deadline_passed)
    # Without the population nobody else could commit, and with a commitment missing nobody
    # could reveal (spec §8): only the inspectors, or the non-committers, refused. The replayed
    # transcript holds only reveals that open their commitments; of those, only the ones that
    # count (final, or after the deadline vouched for by their own party) are revealed.
    if transcript.population is None:
        refused = [p for p in draw_parties if p.role == INSPECTOR]
    else:
        refused = [p for p in draw_parties if p.vkey not in transcript.commitments] or [
            p for p in draw_parties if p.vkey not in reveals
        ]
    result: dict[str, Any] = {"context": context, "seed": None, "selection": [], "status": "void", "index": None,
                              "refused": [p.name for p in refused], "not_cosigned": not_cosigned, "final_size": final,
                              "n": transcript.n, "population_sha256": transcript.population_sha256,
                              "population_size": len(transcript.population) if transcript.population is not None else None}
    if transcript.early_reveal or any(p.role == INSPECTOR for p in refused) or transcript.population is None:
        return result
    members = list(transcript.population)
    if refused:  # only hosts refused: every member is inspected
        return {**result, "selection": members, "status": "host-refused"}
    assert transcript.n is not None and transcript.population_sha256 is not None
    seed = draw_seed(context, {p.vkey: reveals[p.vkey] for p in draw_parties})
    chosen = select(members, transcript.n, seed)
    body = {"context": context, "population_sha256": transcript.population_sha256, "n": transcript.n,
            "seed": seed.hex(), "selection": chosen}
    if transcript.selection is not None:
        if transcript.selection != body:  # the replay admits only the selection spec §8 computes
            raise DrawRefused(Reason.SELECTION_CONFLICT, f"entry {transcript.selection_index} logs another selection for context {context!r}")
        index = transcript.selection_index
    else:
        index = _post(ws, client, ev.SELECTION_DRAWN, escrow_id, body, now)
    return {**result, "seed": seed.hex(), "selection": chosen, "status": "drawn", "index": index}
