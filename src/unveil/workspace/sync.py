"""A party syncs with a board (spec §7): :func:`sync`.

1. **Check.** Fetch the board's latest checkpoint and, from the last checkpoint this workspace
   cosigned, the consistency proof; the witness (:class:`unveil.board.witness.Witness`) checks
   the board's signature and that the new checkpoint extends the last one.
2. **Mirror.** Fetch the entries beyond the workspace's mirror and check that mirror and new
   entries hash to the checkpoint's root (``mirror-root-mismatch`` otherwise).
3. **Witness.** Cosign, or refuse; a refusal of a checkpoint the board signed is kept as
   evidence (table ``witness_evidence``). Steps 1–3 are one workspace transaction.
4. **Post** the cosignature, only after that transaction committed: a cosignature never
   leaves before the witness has recorded it. A board that does not register this party's
   witness key gets nothing; the cosignature stays local.
5. **Finality.** Fetch each witness's largest cosigned checkpoint (``GET
   /checkpoints/cosigned``), verify each against the mirror (:func:`unveil.board.finality.finality`,
   asking the board for a consistency proof for one beyond it), and keep what each quorum
   member cosigned (table ``board_quorum``, for ``unveil status``); the final size is reported.

The board key given must be the board registered in the parties file. The board's failures
raise :class:`~unveil.errors.BoardError`; a refusal is a result (:attr:`Synced.refusal`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unveil.board.finality import CosignedClaim, Finality, finality, quorum_members, quorum_size
from unveil.board.parties import Parties
from unveil.board.tree import AppendOnlyTree
from unveil.board.witness import Cosignature, Witness, WitnessRefusal, board_key, read_checkpoint
from unveil.core.keys import VerifierKey
from unveil.core.merkle import leaf_hash
from unveil.core.reasons import Reason
from unveil.errors import BoardError, MalformedInputError
from unveil.store import witness_db
from unveil.store.workspace_db import transaction
from unveil.workspace.witness_store import WorkspaceWitnessStore

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

__all__ = ["Synced", "board_finality", "final_size_of", "registered_board", "sync"]


@dataclass(frozen=True)
class Synced:
    """What a sync did: the board's checkpoint (``size``, ``root``; ``None`` if it sent no
    checkpoint note), the entries newly mirrored, whether the cosignature was posted, the
    witness's ``refusal`` (or ``None``), a ``remark`` for a person, and the ``finality`` of
    the mirrored log (``None`` after a refusal)."""

    origin: str
    size: int | None
    root: bytes | None
    new_entries: int
    cosigned: bool
    refusal: WitnessRefusal | None
    remark: str | None
    finality: Finality | None

    def to_json(self) -> dict[str, Any]:
        final = self.finality
        return {
            "size": self.size,
            "root": self.root.hex() if self.root is not None else None,
            "new_entries": self.new_entries,
            "cosigned": self.cosigned,
            "refused": str(self.refusal) if self.refusal is not None else None,
            "final_size": final.final_size if final is not None else None,
            "finality": final.to_json() if final is not None else None,
        }


def registered_board(parties: Parties, board_vkey: str) -> VerifierKey:
    """The board key given (``--board-key``), once checked to be the board ``parties`` registers."""
    key = board_key(board_vkey)
    if key.vkey != parties.board.vkey:
        raise MalformedInputError(
            f"the board key {key.vkey[:120]} is not the board the parties file registers ({parties.board.vkey})", where="--board-key"
        )
    return key


def _mirror_tree(db: sqlite3.Connection, origin: str) -> AppendOnlyTree:
    tree = AppendOnlyTree()
    for entry in witness_db.mirror_entries(db, origin):
        tree.append(leaf_hash(entry))
    return tree


def _witness(
    db: sqlite3.Connection, client: BoardClient, witness: Witness, key: VerifierKey
) -> tuple[int | None, bytes | None, int, Cosignature | WitnessRefusal, AppendOnlyTree]:
    """Steps 1–3 inside the caller's transaction: ``(size, root, new entries, verdict, tree)``."""
    origin = key.name
    store = witness.store
    note = client.checkpoint()
    seen = read_checkpoint(note)
    size, root = (seen.size, seen.root) if seen is not None else (None, None)  # reported even if refused
    last = store.last(origin)
    proof: list[bytes] = []
    if seen is not None and last is not None and 1 <= last.size < seen.size:
        proof = client.consistency_proof(last.size, seen.size)
    tree = _mirror_tree(db, origin)
    verdict = witness.check(note, key, proof)
    if isinstance(verdict, WitnessRefusal):
        if verdict.evidence:
            store.add_evidence(verdict, witness.recorded())
        return size, root, 0, verdict, tree
    have = tree.size
    fetched = client.entries(have, verdict.size) if verdict.size > have else []
    for entry in fetched:
        tree.append(leaf_hash(entry))
    if tree.size != verdict.size or tree.root() != verdict.root:
        mirrored = f"the first {have} entries this workspace mirrored and the {len(fetched)} new ones" if have else f"the {len(fetched)} entries served"
        refusal = WitnessRefusal(
            Reason.MIRROR_ROOT_MISMATCH,
            f"{mirrored} hash to {tree.root().hex()}, but the board's signed checkpoint of size {verdict.size} has root "
            f"{verdict.root.hex()}: the board is showing something else",
            note, origin, last.note if last else None, tuple(proof), evidence=True,
        )
        store.add_evidence(refusal, witness.recorded())
        return size, root, 0, refusal, tree
    witness_db.mirror_append(db, origin, have, fetched)
    return size, root, len(fetched), witness.consider(note, key, proof), tree


def final_size_of(
    client: BoardClient, parties: Parties, entries: Iterable[bytes] | AppendOnlyTree, *, quorum: int | None = None,
    held: Iterable[CosignedClaim] = (),
) -> Finality:
    """The finality of the log a reader holds (its ``entries`` in order, or their tree) on the
    board at ``client``: each witness's largest cosigned checkpoint (``GET
    /checkpoints/cosigned``, and the cosigned checkpoints the reader ``held`` itself) verified
    against it, with the board's consistency proof for one beyond it. ``Finality.final_size`` is
    the final size; ``Finality.credited[name]`` the size each quorum member vouched for (a draw
    party that has not cosigned its reveal, spec §8)."""
    if isinstance(entries, AppendOnlyTree):
        tree = entries
    else:
        tree = AppendOnlyTree()
        for entry in entries:
            tree.append(leaf_hash(entry))
    return finality(parties, [*client.cosigned(), *held], tree, quorum=quorum, prove=client.consistency_proof)


def board_finality(db: sqlite3.Connection, client: BoardClient, parties: Parties, tree: AppendOnlyTree, quorum: int | None) -> Finality:
    """Step 5: the finality of the mirrored ``tree`` (:func:`final_size_of`); what each quorum
    member cosigned is saved (call inside a transaction)."""
    found = final_size_of(client, parties, tree, quorum=quorum)
    rows = []
    for party in quorum_members(parties):
        assert party.witness_vkey is not None  # quorum members have witness keys
        rows.append((party.name, party.witness_vkey, found.credited.get(party.name, 0), found.notes.get(party.name)))
    witness_db.save_quorum(db, parties.board.name, rows)
    return found


def sync(
    ws: Workspace, client: BoardClient, parties: Parties, board_vkey: str, now: Callable[[], int], *, quorum: int | None = None
) -> Synced:
    """Mirror, check, witness, post, and compute finality (the module's steps); ``now()`` is the
    witness's clock (unix seconds) and ``quorum`` lowers the quorum to K members."""
    key = registered_board(parties, board_vkey)
    quorum_size(parties, quorum)  # a bad --quorum is refused before anything is fetched
    origin = key.name
    witness_key = ws.witness_key()
    with ws.connect() as db:
        with transaction(db):
            witness_db.ensure_tables(db)
            witness = Witness(witness_key, WorkspaceWitnessStore(db), now)
            size, root, new_entries, verdict, tree = _witness(db, client, witness, key)
        posted, remark = False, None
        if isinstance(verdict, Cosignature):
            try:
                client.add_cosignature(verdict.body, verdict.line)
                posted = True
            except BoardError as exc:
                if exc.reason != Reason.WITNESS_UNKNOWN:
                    raise
                remark = f"the board does not register {ws.name}'s witness key: cosignature kept locally, not posted"
        refusal = verdict if isinstance(verdict, WitnessRefusal) else None
        final = None
        if refusal is None:
            with transaction(db):
                final = board_finality(db, client, parties, tree, quorum)
    return Synced(origin, size, root, new_entries, posted, refusal, remark, final)
