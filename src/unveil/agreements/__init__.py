"""Agreements between the parties of a declaration escrow (spec §12): who owes what, by when,
after what (action for action).

- :mod:`~unveil.agreements.model`: the agreement document (JSON or YAML), its strict reading
  (:func:`parse_agreement`), durations and the agreement's hash;
- :mod:`~unveil.agreements.files`: agreement files, JSON or YAML (:func:`read_agreement`);
- :mod:`~unveil.agreements.obligations`: the state of every obligation at a time, from the
  obligation events of a log (pure: the board, an audit and ``status`` share it);
- :mod:`~unveil.agreements.custody`: every declared item's step, its moves and witnesses, counts
  per step and category at a time (:class:`~unveil.agreements.custody.Custody`);
- :mod:`~unveil.agreements.access`: access requests, answers and their states at a time
  (:class:`~unveil.agreements.access.AccessBook`).

A pure library: it knows nothing of boards, storage or commands; which parties are registered
is the board's check. Importing it imports no YAML reader (that is the ``geo`` extra's, and a
verifier-only install reads logs that hold agreements): :mod:`~unveil.agreements.files` is
imported by the commands that read agreement files.
"""

from unveil.agreements.model import (
    ACTIONS,
    DEFAULT_STEPS,
    AccessDeadlines,
    Agreement,
    Obligation,
    agreement_sha256,
    check_categories,
    parse_agreement,
    parse_duration,
)

__all__ = [
    "ACTIONS", "DEFAULT_STEPS", "AccessDeadlines", "Agreement", "Obligation", "agreement_sha256", "check_categories",
    "parse_agreement", "parse_duration",
]
