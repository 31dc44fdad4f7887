"""The public board (spec §7, §8): an append-only log of signed events, with checkpoints.

Pure logic — no I/O, no clock (time is passed in); storage is injected (:class:`LogStorage`).

- :mod:`.tree`     :class:`AppendOnlyTree`, the RFC 9162 tree grown one entry at a time
- :mod:`.events`   the event envelope and body shapes (:func:`parse_event`, :func:`make_event`)
- :mod:`.parties`  ``PARTIES.json`` and who wrote an event (:func:`read_parties`)
- :mod:`.protocol` who may write what, in which order (:class:`BoardState`; it raises :class:`~unveil.errors.BoardRefused`)
- :mod:`.reveals`  the reveals, verifications and discrepancies of each escrow, and their rules
- :mod:`.coins`    the coin draws of each context, and their rules (spec §8)
- :mod:`.log`      :class:`Log`: submit, checkpoints, proofs, cosignatures
- :mod:`.audit`    :func:`audit`: recompute a log offline and check its checkpoints
- :mod:`.witness`  :class:`Witness`: cosign a checkpoint only if it extends the last one cosigned
  (its verdict: a :class:`~.witness.Cosignature` or a :class:`~.witness.WitnessRefusal`)
- :mod:`.finality` the quorum and the final size of a log, from each witness's cosigned checkpoints
- :mod:`.inspections` ``inspection.reported``: its rules and state
- :mod:`.cells`    which ``cells.txt`` a board holds (spec §11)
- :mod:`.view`     the read-only views of a log (spec §11), folded entry by entry (:mod:`.summaries`: a line per entry)

Its I/O lives one layer down: the board's database and the HTTP client of a board in
:mod:`unveil.store` (``board_db``, ``board_client``, ``board_entries``), a witness's tables in
:mod:`unveil.store.witness_db`; a party's services over them (publish, sync, audit, checkpoint
files) in :mod:`unveil.workspace`.
"""

from unveil.board.audit import AuditReport, audit
from unveil.board.events import Event, make_event, parse_event
from unveil.board.log import Log, LogStorage, MemoryStorage, Receipt
from unveil.board.parties import Parties, Party, read_parties
from unveil.board.protocol import BoardState
from unveil.board.tree import AppendOnlyTree

__all__ = [
    "AppendOnlyTree",
    "AuditReport",
    "BoardState",
    "Event",
    "Log",
    "LogStorage",
    "MemoryStorage",
    "Parties",
    "Party",
    "Receipt",
    "audit",
    "make_event",
    "parse_event",
    "read_parties",
]
