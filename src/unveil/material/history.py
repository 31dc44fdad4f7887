"""Plutonium an operating history could have made: the production estimate and its σ (spec
§13 "Production history", docs/material.md).

Each row is one reactor and period: thermal energy E (MWd) ± σ_E and a plutonium yield y (g
per MWd) ± σ_y. The estimate is Σ E·y (grams, reported in kg). Energy errors are taken as
independent row by row (operating records, graphite samples); a reactor's yield error is one
error of its physics, fully correlated across that reactor's rows, so the variance is
Σ_r (Σ_{i∈r} E_i σ_y,i)² + Σ_i (y_i σ_E,i)².

Default yield: :data:`DEFAULT_YIELD` ± :data:`DEFAULT_YIELD_SIGMA` g per MWd, for a low-burnup,
natural-uranium, graphite-moderated production reactor. The nuclear-archaeology literature
puts such reactors' production at roughly 0.8–1 g of plutonium per MWd (S. Fetter, "Nuclear
archaeology: verifying declarations of fissile-material production", Science & Global
Security 3 (1993) 237–259; D. Albright, F. Berkhout and W. Walker, *Plutonium and Highly
Enriched Uranium 1996*, SIPRI / Oxford University Press, 1997); we take that range as a 95 %
interval: 0.9 ± 0.05 g/MWd. A reactor of another kind needs its own yield in the file.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from unveil.errors import MalformedInputError
from unveil.material.csvfile import read_rows
from unveil.material.normal import Normal

DEFAULT_YIELD = 0.9
"""g of plutonium per MWd (thermal) of a low-burnup natural-uranium graphite reactor."""
DEFAULT_YIELD_SIGMA = 0.05
"""Its standard deviation (g/MWd): 0.8–1.0 g/MWd read as a 95 % interval."""
COLUMNS = ("reactor", "period", "energy_mwd", "energy_sigma_mwd", "g_per_mwd", "g_per_mwd_sigma")


@dataclass(frozen=True, slots=True)
class Operation:
    """One reactor's period of operation."""

    reactor: str
    period: str
    energy_mwd: float
    energy_sigma_mwd: float
    g_per_mwd: float
    g_per_mwd_sigma: float


def read_history(data: bytes, *, source: str) -> list[Operation]:
    """The rows of a production history file; MalformedInputError naming file, line, column."""
    found: list[Operation] = []
    seen: dict[tuple[str, str], int] = {}
    for row in read_rows(data, source=source, columns=COLUMNS):
        try:
            reactor, period = row.ident("reactor"), row.ident("period")
            if (reactor, period) in seen:
                raise MalformedInputError(f"reactor {reactor} period {period} appears twice (first on line {seen[reactor, period]})",
                                          where=row.at("period"))
            seen[reactor, period] = row.line
            found.append(Operation(
                reactor, period, row.number("energy_mwd"), row.number("energy_sigma_mwd", blank=0.0),
                row.number("g_per_mwd", blank=DEFAULT_YIELD), row.number("g_per_mwd_sigma", blank=DEFAULT_YIELD_SIGMA)))
        except MalformedInputError as exc:
            raise exc.within(source) from None
    return found


def estimate(operations: list[Operation]) -> tuple[Normal, list[dict[str, Any]]]:
    """The plutonium estimate (kg) with its σ, and each reactor's share (kg)."""
    if not operations:
        raise MalformedInputError("the history has no rows")
    grams = 0.0
    yield_error: dict[str, float] = defaultdict(float)  # Σ_i E_i σ_y,i per reactor (g): one error a reactor
    energy_variance = 0.0
    per_reactor: dict[str, float] = defaultdict(float)
    for op in operations:
        made = op.energy_mwd * op.g_per_mwd
        grams += made
        per_reactor[op.reactor] += made
        yield_error[op.reactor] += op.energy_mwd * op.g_per_mwd_sigma
        energy_variance += (op.g_per_mwd * op.energy_sigma_mwd) ** 2
    variance = sum(e * e for e in yield_error.values()) + energy_variance
    if not math.isfinite(grams) or not math.isfinite(variance):
        raise MalformedInputError("the history's totals overflow: energies and yields are too large")
    reactors = [{"reactor": r, "kg": per_reactor[r] / 1000, "yield_sigma_kg": yield_error[r] / 1000} for r in sorted(per_reactor)]
    return Normal(grams / 1000, math.sqrt(variance) / 1000), reactors
