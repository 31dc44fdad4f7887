"""What a report reads of the boards a workspace follows: its mirror of each board's log
(``unveil sync``), read only, nothing fetched (spec §7, §8, §9, §12).

:func:`log_facts` gathers, for one escrow, the ``reveal.published`` and
``verification.recorded`` entries (with their authors, times and finality under the quorum
as of the workspace's last sync), the ``inspection.reported``, ``discrepancy.raised`` and
``.resolved`` entries, the
draws (``selection.drawn``) and the agreement and its obligations' states
(:func:`unveil.agreements.obligations.obligation_states` over the logged obligation events,
effective times as the board takes them: the running maximum of entry times). An author is the
name of the key that signed the entry (spec §6: a vkey begins with its key name); the board
checked the signatures when it logged them, and ``unveil audit`` re-checks them.
"""

from __future__ import annotations

from typing import Any

from unveil.board import events as ev
from unveil.board.finality import final_size, lowered
from unveil.core.encoding import unix_time
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError
from unveil.store import witness_db
from unveil.workspace.workspace import Workspace

__all__ = ["log_facts"]


def _author(doc: dict[str, Any]) -> str:
    signatures = doc.get("signatures") or [{}]
    return str(signatures[0].get("vkey", "?")).split("+", 1)[0]


def _empty() -> dict[str, Any]:
    return {"boards": [], "reveals": [], "verifications": [], "discrepancies": [], "inspections": [], "draws": [], "agreement": None}


def log_facts(ws: Workspace, escrow_id: str) -> dict[str, Any]:
    """The board facts about ``escrow_id`` from every board this workspace mirrors (in the
    order of their origins); each fact carries ``origin``, ``index``, ``time``, ``author`` and
    ``final`` (whether the quorum had cosigned it at the last sync)."""
    facts = _empty()
    with ws.connect() as db:
        if not witness_db.has_tables(db):
            return facts
        boards = []
        for origin in witness_db.cosigned_origins(db):
            rows = witness_db.quorum(db, origin)
            members = [name for name, *_ in rows]
            final = final_size({name: size for name, _, size, _ in rows}, members, lowered(len(members), None))
            boards.append((origin, final, list(witness_db.mirror_entries(db, origin))))
    for origin, final, entries in boards:
        facts["boards"].append({"origin": origin, "size": len(entries), "final_size": final})
        _read_log(facts, origin, final, entries, escrow_id)
    return facts


def _read_log(facts: dict[str, Any], origin: str, final: int, entries: list[bytes], escrow_id: str) -> None:
    latest = 0
    agreement_doc: dict[str, Any] | None = None
    signed: dict[str, str] = {}
    obligation_events: list[tuple[str, str, str, int, int, str | None]] = []
    reveal_times: dict[str, int] = {}
    for index, entry in enumerate(entries):
        try:
            doc = loads(entry, source=f"entry {index}")
            statement = doc["statement"]
            kind, body, time = statement["kind"], statement["body"], statement["time"]
        except (MalformedInputError, KeyError, TypeError):
            continue
        latest = max(latest, unix_time(time) or 0)
        if statement.get("escrow_id") != escrow_id or type(body) is not dict:
            continue
        fact = {"origin": origin, "index": index, "time": time, "author": _author(doc), "final": index < final}
        if kind == ev.REVEAL_PUBLISHED:
            facts["reveals"].append({**fact, "phase": body.get("phase"), "sha256": body.get("sha256"), "openings": body.get("openings")})
            reveal_times.setdefault(str(body.get("phase")), latest)
        elif kind == ev.VERIFICATION_RECORDED:
            facts["verifications"].append({**fact, "phase": body.get("phase"), "sha256": body.get("sha256"), "valid": body.get("valid"),
                                           "problems": len(body.get("problems") or [])})
        elif kind == ev.DISCREPANCY_RAISED:
            facts["discrepancies"].append({**fact, "id": body.get("id"), "cell": body.get("cell"), "detail": body.get("detail"),
                                           "resolved": None})
        elif kind == ev.INSPECTION_REPORTED:
            facts["inspections"].append({**fact, "phase": body.get("phase"), "cell": body.get("cell"), "site_id": body.get("site_id"),
                                         "outcome": body.get("outcome"), "detail": body.get("detail"), "context": body.get("context")})
        elif kind == ev.DISCREPANCY_RESOLVED:
            for raised in facts["discrepancies"]:
                if raised["origin"] == origin and raised["id"] == body.get("id"):
                    raised["resolved"] = body.get("resolution") or "resolved"
        elif kind == ev.SELECTION_DRAWN:
            facts["draws"].append({**fact, "context": body.get("context"), "n": body.get("n"), "seed": body.get("seed"),
                                   "selection": list(body.get("selection") or [])})
        elif kind == ev.AGREEMENT_PUBLISHED and agreement_doc is None:
            agreement_doc = {**fact, "doc": body.get("agreement")}
        elif kind == ev.AGREEMENT_SIGNED:
            signed.setdefault(fact["author"], time)
        elif kind.startswith("obligation."):
            obligation_events.append((kind.removeprefix("obligation."), str(body.get("obligation")), fact["author"], index, latest,
                                      body.get("reason")))
    if agreement_doc is not None and facts["agreement"] is None:
        facts["agreement"] = _agreement(agreement_doc, signed, obligation_events, reveal_times, latest)


def _agreement(published: dict[str, Any], signed: dict[str, str], events: list[tuple[str, str, str, int, int, str | None]],
               reveal_times: dict[str, int], latest: int) -> dict[str, Any]:
    """The agreement's obligations' states at the log's newest effective time, from the logged
    obligation events (the items' clock is not replayed here: a ``move-items`` obligation is
    verified by the parties' verdicts only; ``unveil agreement status`` replays everything)."""
    from unveil.agreements.model import parse_agreement
    from unveil.agreements.obligations import ObligationEvent, ObligationLog, obligation_states, rfc3339

    try:
        agreement = parse_agreement(published["doc"], None)
    except MalformedInputError as exc:
        return {"id": None, "origin": published["origin"], "index": published["index"], "final": published["final"], "parties": [],
                "signed_by": sorted(signed), "at": None, "error": str(exc), "obligations": []}
    by_obligation: dict[str, list[ObligationEvent]] = {}
    for kind, obligation, author, index, time, reason in events:
        by_obligation.setdefault(obligation, []).append(ObligationEvent(kind, obligation, author, index, time, reason))
    states = obligation_states(ObligationLog(agreement, by_obligation, reveal_times, None), latest)
    return {
        "id": agreement.id, "origin": published["origin"], "index": published["index"], "final": published["final"],
        "parties": list(agreement.parties), "signed_by": sorted(signed), "at": rfc3339(latest) if latest else None, "error": None,
        "obligations": [{"id": s.id, "party": s.party, "state": s.state, "due": None if s.due is None else rfc3339(s.due)}
                        for s in states.values()],
    }
