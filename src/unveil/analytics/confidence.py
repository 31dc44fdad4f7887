"""Confidence after each phase that no undeclared site remains (model: docs/confidence.md).

Two independent sources of undeclared sites are modelled:

* **Suspects** known to intelligence. Suspect ``s`` is a real undeclared site with prior
  probability ``c`` (0 < c ≤ 1); its current probability ``p_s`` depends on its state:

  ============================  ======================================================
  state                         p_s
  ============================  ======================================================
  ``sealed``                    c (alias ``unopened-uninspected``: nothing seen yet)
  ``opened``                    c (cell opened, no declared site, not inspected)
  ``declared``                  0 (a declared site accounts for it)
  ``cleared``                   c(1−d) / (c(1−d) + (1−c)), inspected with detection d,
                                nothing found (Bayes' rule)
  ``found``                     1 (an inspection found it: a known undeclared site)
  ``resolved``                  0 (a found site since brought under the declaration)
  ============================  ======================================================

* **Background** sites intelligence does not know: a Poisson number with mean λ spread
  uniformly over the ``cells`` cells of the territory. Inspecting a cell with detection
  probability d and finding nothing thins that cell's mean by the factor (1 − d); an
  opened but uninspected cell is thinned by (1 − ``open_credit``), default 0. Hence

      λ' = λ · (1 − a),  a = (Σ_inspected d_i + open_credit · (#opened − #inspected)) / cells,

  and P(no unknown site) = exp(−λ').

P(no undeclared site remains) = Π_s (1 − p_s) · exp(−λ'). Everything except the
exponential is exact (:class:`~fractions.Fraction`); the exponential alone is a float.
Numbers are read as in :mod:`unveil.analytics.planning` (a ``float`` means the decimal it
prints as). Impossible inputs raise :class:`ValueError` whose message begins with the
field's name (``suspects[id].prior``, ``inspected[0]``, ``open_credit`` …).

No I/O, no clock, no randomness.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

from unveil.analytics.planning import ExactNumber, _count, _exact

__all__ = [
    "STATES",
    "ConfidenceResult",
    "Evidence",
    "PhaseEvidence",
    "Suspect",
    "confidence",
    "over_phases",
    "posterior_after_miss",
]

#: Accepted suspect states (``unopened-uninspected`` is an alias of ``sealed``).
STATES = frozenset(
    {"sealed", "unopened-uninspected", "opened", "declared", "cleared", "found", "resolved"}
)


def _probability(value: object, name: str) -> Fraction:
    number = _exact(value, name)
    if not 0 <= number <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return number


def posterior_after_miss(prior: ExactNumber, detection: ExactNumber) -> Fraction:
    """P(real | an inspection with detection probability d found nothing)
    = c(1−d) / (c(1−d) + (1−c)). Raises ValueError if c = d = 1 (a certain site certainly
    missed: the evidence is impossible under the model)."""
    c = _exact(prior, "prior")
    d = _probability(detection, "detection")
    if not 0 < c <= 1:
        raise ValueError(f"prior must be greater than 0 and at most 1, got {prior!r}")
    missed = c * (1 - d)
    denominator = missed + (1 - c)
    if denominator == 0:
        raise ValueError("detection 1 contradicts prior 1: a certain site cannot be missed")
    return missed / denominator


@dataclass(frozen=True)
class Suspect:
    """One intelligence suspect: prior ``prior`` and state; ``detection`` only for
    ``cleared`` (the combined detection probability of every inspection of it so far:
    independent inspections d₁, d₂ combine to 1 − (1−d₁)(1−d₂))."""

    prior: ExactNumber
    state: str = "sealed"
    detection: ExactNumber | None = None

    def probability(self, name: str = "suspect") -> Fraction:
        """p_s: the probability that this suspect is a real undeclared site now."""
        prior = _exact(self.prior, f"{name}.prior")
        if not 0 < prior <= 1:
            raise ValueError(f"{name}.prior must be greater than 0 and at most 1, got {self.prior!r}")
        if self.state not in STATES:
            raise ValueError(f"{name}.state must be one of {sorted(STATES)}, got {self.state!r}")
        if self.state == "cleared":
            if self.detection is None:
                raise ValueError(f"{name}.detection is required for a cleared suspect")
            detection = _probability(self.detection, f"{name}.detection")
            try:
                return posterior_after_miss(prior, detection)
            except ValueError as error:
                raise ValueError(f"{name}.detection: {error}") from None
        if self.detection is not None:
            raise ValueError(f"{name}.detection applies only to a cleared suspect, not {self.state!r}")
        if self.state in ("declared", "resolved"):
            return Fraction(0)
        if self.state == "found":
            return Fraction(1)
        return prior  # sealed, unopened-uninspected, opened


@dataclass(frozen=True)
class PhaseEvidence:
    """The cumulative evidence after one phase (a snapshot, not an increment).

    ``suspects`` maps suspect id → :class:`Suspect`; ``cells`` is the number of cells of
    the territory; ``background`` is λ, the expected number of sites intelligence does
    not know; ``opened_cells`` counts opened cells (inspected ones included);
    ``inspected`` holds one combined detection probability per inspected cell (each an
    opened cell, each listed once); ``open_credit`` is the thinning credited to an
    opened, uninspected cell. Fields are validated and stored as exact values.
    """

    suspects: Mapping[Hashable, Suspect] = field(default_factory=dict)
    cells: int = 1
    background: ExactNumber = Fraction(0)
    opened_cells: int = 0
    inspected: Sequence[ExactNumber] = ()
    open_credit: ExactNumber = Fraction(0)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.suspects, Mapping):
            raise ValueError(f"suspects must be a mapping of id to Suspect, got {self.suspects!r}")
        suspects = {}
        for key, suspect in self.suspects.items():
            if not isinstance(suspect, Suspect):
                raise ValueError(f"suspects[{key!r}] must be a Suspect, got {suspect!r}")
            suspect.probability(f"suspects[{key!r}]")  # validates
            suspects[key] = Suspect(
                _exact(suspect.prior, "prior"),
                "sealed" if suspect.state == "unopened-uninspected" else suspect.state,
                None if suspect.detection is None else _exact(suspect.detection, "detection"),
            )
        set_(self, "suspects", suspects)
        cells = _count(self.cells, "cells")
        if cells < 1:
            raise ValueError(f"cells must be at least 1, got {cells}")
        set_(self, "cells", cells)
        background = _exact(self.background, "background")
        if background < 0:
            raise ValueError(f"background must be at least 0, got {self.background!r}")
        set_(self, "background", background)
        if isinstance(self.inspected, str | bytes) or not isinstance(self.inspected, Sequence):
            raise ValueError(f"inspected must be a sequence of probabilities, got {self.inspected!r}")
        inspected = tuple(_probability(d, f"inspected[{i}]") for i, d in enumerate(self.inspected))
        set_(self, "inspected", inspected)
        opened = _count(self.opened_cells, "opened_cells")
        if not len(self.inspected) <= opened <= cells:
            raise ValueError(
                f"opened_cells must be between the number of inspected cells ({len(self.inspected)})"
                f" and cells ({cells}), got {opened}"
            )
        set_(self, "opened_cells", opened)
        set_(self, "open_credit", _probability(self.open_credit, "open_credit"))

    def background_remaining(self) -> Fraction:
        """λ' = λ(1 − a), exactly."""
        opened_only = self.opened_cells - len(self.inspected)
        # __post_init__ stored every number as a Fraction
        inspected, credit = cast("Sequence[Fraction]", self.inspected), cast(Fraction, self.open_credit)
        covered = (sum(inspected, Fraction(0)) + credit * opened_only) / self.cells
        return cast(Fraction, self.background) * (1 - covered)


#: Short name for :class:`PhaseEvidence`.
Evidence = PhaseEvidence


@dataclass(frozen=True)
class ConfidenceResult:
    """P(no undeclared site remains) = ``exact_part`` · exp(−``background_expected``)."""

    probability: float
    exact_part: Fraction  # Π (1 − p_s) over suspects
    background_expected: float  # λ'
    per_suspect: dict[Hashable, Fraction]  # p_s


def confidence(evidence: PhaseEvidence) -> ConfidenceResult:
    """P(no undeclared site remains) after the phase described by ``evidence``."""
    if not isinstance(evidence, PhaseEvidence):
        raise ValueError(f"evidence must be a PhaseEvidence, got {evidence!r}")
    per_suspect = {key: s.probability(f"suspects[{key!r}]") for key, s in evidence.suspects.items()}
    exact_part = Fraction(1)
    for p in per_suspect.values():
        exact_part *= 1 - p
    remaining = evidence.background_remaining()
    return ConfidenceResult(
        probability=float(exact_part) * math.exp(-float(remaining)),
        exact_part=exact_part,
        background_expected=float(remaining),
        per_suspect=per_suspect,
    )


def over_phases(phases: Sequence[PhaseEvidence]) -> list[ConfidenceResult]:
    """:func:`confidence` after each phase, checking that the snapshots are consistent:
    a ``found`` suspect stays ``found`` until ``resolved``, only a found suspect can be
    ``resolved``, and an opened suspect's cell is never sealed again."""
    states: dict[Hashable, str] = {}
    for n, phase in enumerate(phases):
        if not isinstance(phase, PhaseEvidence):
            raise ValueError(f"phases[{n}] must be a PhaseEvidence, got {phase!r}")
        for key, suspect in phase.suspects.items():
            before, now = states.get(key), suspect.state
            name = f"phases[{n}].suspects[{key!r}].state"
            if before == "found" and now not in ("found", "resolved"):
                raise ValueError(f"{name}: a found suspect can only stay found or be resolved, got {now!r}")
            if now == "resolved" and before not in ("found", "resolved"):
                raise ValueError(f"{name}: only a found suspect can be resolved")
            if before not in (None, "sealed") and now == "sealed":
                raise ValueError(f"{name}: an opened cell cannot be sealed again (was {before!r})")
            states[key] = now
    return [confidence(phase) for phase in phases]
