"""Audit a whole board log offline (spec §6, §7): the log as a board serves it
(:func:`audit_board`) or as its database holds it (:func:`audit_database`), re-verified by
:func:`unveil.board.audit.audit` with every entry's finality.

From a board: each witness's largest cosigned checkpoint (``GET /checkpoints/cosigned``) is
read first, then the latest checkpoint and every entry up to it, and the reveal files the
entries name; an honest board's latest checkpoint is then at least every cosigned one. From a
database: the entries, every stored checkpoint with its cosignature lines, each witness's
largest cosignature, and the reveal files. Either way nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from unveil.board import events as ev
from unveil.board.audit import AuditReport, audit
from unveil.board.finality import Claim, CosignedClaim, quorum_size
from unveil.board.parties import Parties
from unveil.board.witness import read_checkpoint
from unveil.errors import MalformedInputError

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient

__all__ = ["audit_board", "audit_database", "reveal_shas"]


def reveal_shas(entries: Iterable[bytes]) -> list[str]:
    """The ``sha256`` of every ``reveal.published`` entry that parses (others: the audit reports them)."""
    from unveil.core.encoding import is_hex32
    from unveil.core.jsonparse import loads

    found: list[str] = []
    for entry in entries:
        try:
            statement = loads(entry).get("statement")
            if statement.get("kind") == ev.REVEAL_PUBLISHED and is_hex32(statement["body"]["sha256"]):
                found.append(statement["body"]["sha256"])
        except (MalformedInputError, AttributeError, KeyError, TypeError):
            continue
    return list(dict.fromkeys(found))


def audit_board(
    client: BoardClient, parties: Parties, origin: str, *, quorum: int | None = None, allow_pending: bool = False
) -> AuditReport:
    """Audit the log the board at ``client`` serves."""
    quorum_size(parties, quorum)  # a bad --quorum is refused before anything is fetched
    claims: list[CosignedClaim] = list(client.cosigned())
    note = client.checkpoint()
    checkpoint = read_checkpoint(note)
    entries = client.entries(0, checkpoint.size) if checkpoint is not None else []
    bundles: dict[str, bytes] = {}
    for sha in reveal_shas(entries):
        data = client.get_bundle(sha)
        if data is not None:
            bundles[sha] = data
    return audit(entries, parties, origin, [note], bundles=bundles.get, cosigned=claims, quorum=quorum,
                 allow_pending=allow_pending, prove=client.consistency_proof)


def audit_database(url: str, parties: Parties, origin: str, *, quorum: int | None = None, allow_pending: bool = False) -> AuditReport:
    """Audit the board database at ``url`` (``sqlite:///PATH`` or ``postgresql://…``); an
    unreadable database is :class:`MalformedInputError` (``--db``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from unveil.store.board_db import open_storage

    quorum_size(parties, quorum)
    try:
        storage = open_storage(url, create=False)
        try:
            entries: list[bytes] = []
            for expected, (index, entry) in enumerate(storage.load_entries()):
                if index != expected:
                    raise MalformedInputError(f"the database has entry {index} where {expected} was due", where="--db")
                entries.append(bytes(entry))
            notes = [note + "".join(line if line.endswith("\n") else line + "\n" for line in storage.cosignatures(size))
                     for size, note in storage.load_checkpoints()]
            claims: list[CosignedClaim] = []
            for witness, size, note, line in storage.latest_cosignatures():
                claims.append(Claim(witness, note + (line if line.endswith("\n") else line + "\n"), size))
            bundles: dict[str, bytes] = {}
            for sha in reveal_shas(entries):
                data = storage.get_bundle(sha)
                if data is not None:
                    bundles[sha] = bytes(data)
        finally:
            storage.close()
    except SQLAlchemyError as exc:
        raise MalformedInputError(f"cannot read the board database: {str(exc).splitlines()[0]}", where="--db") from None
    return audit(entries, parties, origin, notes, bundles=bundles.get, cosigned=claims, quorum=quorum, allow_pending=allow_pending)
