"""A workspace's witness memory: :class:`WorkspaceWitnessStore`, the
:class:`unveil.board.witness.WitnessStore` of a party's workspace database (spec §7).

Call within a transaction (:func:`unveil.store.workspace_db.transaction`) after
:func:`unveil.store.witness_db.ensure_tables`; the SQL is in :mod:`unveil.store.witness_db`.
"""

from __future__ import annotations

import sqlite3

from unveil.board.witness import LastCosigned, WitnessRefusal
from unveil.core.encoding import b64encode
from unveil.store import witness_db


class WorkspaceWitnessStore:
    """:class:`~unveil.board.witness.WitnessStore` over a workspace database connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def last(self, origin: str) -> LastCosigned | None:
        found = witness_db.last_cosigned(self.db, origin)
        return None if found is None else LastCosigned(origin, *found)

    def save(self, state: LastCosigned) -> None:
        witness_db.save_cosigned(self.db, state.origin, state.size, state.root, state.note, state.line, state.board_vkey)

    def add_evidence(self, refusal: WitnessRefusal, recorded: str) -> None:
        witness_db.add_evidence(
            self.db, origin=refusal.origin, previous_note=refusal.previous_note, new_note=refusal.new_note,
            proof_b64=[b64encode(h) for h in refusal.proof], reason=f"{refusal.reason}: {refusal.message}", recorded=recorded,
        )

    def evidence(self, origin: str | None = None) -> list[dict[str, object]]:
        """Every evidence row (of ``origin``, or all), oldest first."""
        return witness_db.evidence(self.db, origin)
