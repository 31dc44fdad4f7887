"""What of an escrow's board events is not final yet (spec §7), from a workspace's own records:
the mirror of each board it syncs with and what each quorum member had cosigned at its last
sync (:func:`board_status`). Reads only; nothing is fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unveil.board import events as ev
from unveil.board.finality import final_size, lowered
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError
from unveil.store import witness_db

if TYPE_CHECKING:
    from unveil.workspace.workspace import Workspace

__all__ = ["board_status"]


def _events(entries: list[bytes], escrow_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """``(index, kind, body)`` of the mirrored entries about ``escrow_id`` (the board accepted
    them; an entry that does not read as an event is skipped)."""
    found = []
    for index, entry in enumerate(entries):
        try:
            statement = loads(entry, source=f"entry {index}")["statement"]
            if statement["escrow_id"] == escrow_id and type(statement["kind"]) is str and type(statement["body"]) is dict:
                found.append((index, statement["kind"], statement["body"]))
        except (MalformedInputError, KeyError, TypeError):
            continue
    return found


def board_status(ws: Workspace, escrow_id: str, phases: list[dict[str, Any]], quorum: int | None = None) -> list[dict[str, Any]]:
    """For each board this workspace syncs with: its mirrored size, its final size under the
    quorum (K = ``quorum``, default the whole quorum as of the last sync) and every event of
    ``escrow_id`` beyond it (``pending``). Each of ``phases`` (``{"phase", "sha256", …}``)
    gains ``entry`` (the index of its ``reveal.published``) and ``final`` (``None``: not on a
    board this workspace mirrors)."""
    boards = []
    for phase in phases:
        phase.setdefault("entry", None)
        phase.setdefault("final", None)
    with ws.connect() as db:
        if not witness_db.has_tables(db):
            return []
        for origin in witness_db.cosigned_origins(db):
            rows = witness_db.quorum(db, origin)
            members = [name for name, *_ in rows]
            k = lowered(len(members), quorum)
            final = final_size({name: size for name, _, size, _ in rows}, members, k)
            entries = list(witness_db.mirror_entries(db, origin))
            events = _events(entries, escrow_id)
            for index, kind, body in events:
                if kind != ev.REVEAL_PUBLISHED:
                    continue
                for phase in phases:
                    if phase["entry"] is None and body.get("phase") == phase["phase"] and body.get("sha256") == phase["sha256"]:
                        phase["entry"], phase["final"] = index, index < final
            boards.append({
                "origin": origin, "size": len(entries), "final_size": final, "quorum": k,
                "cosigned": {name: size for name, _, size, _ in rows},
                "pending": [{"index": index, "kind": kind} for index, kind, _ in events if index >= final],
            })
    return boards
