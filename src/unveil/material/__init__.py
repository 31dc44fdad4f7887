"""Fissile material accountancy (docs/material.md, spec §13): a declared stock tested against
an independent estimate (a production history), and material balances over time (MUF, σMUF,
SITMUF, Page's test, the cumulative MUF, protracted diversion), as safeguards practice
evaluates them.

A library beside the core: pure calculations and readers of bytes handed in; no storage, no
clock, no global randomness (Monte Carlo takes its seed). It needs the ``analytics`` extra
(scipy) for Φ and its quantiles.
"""

from __future__ import annotations

from unveil.material.balance import Measured, category_inputs, read_balance
from unveil.material.evaluation import balance
from unveil.material.history import estimate, read_history
from unveil.material.normal import Normal, compare, detection_probability, from_range, min_loss, parse_range
from unveil.material.page import threshold

__all__ = [
    "Measured", "Normal", "balance", "category_inputs", "compare", "detection_probability", "estimate", "from_range",
    "min_loss", "parse_range", "read_balance", "read_history", "threshold",
]
