"""Exact inspection planning: how many items to inspect to catch a falsified declaration.

An inspector draws a uniform sample of ``n`` items *without replacement* from a
declared population of ``N`` items, of which ``M`` are falsified. The sample detects
the falsification if it holds at least one falsified item, which happens with the
hypergeometric probability

    P(n) = 1 − C(N−M, n) / C(N, n) = 1 − C(N−n, M) / C(N, M).

(The two ratios are equal: both are the chance that the ``n`` sampled items and the
``M`` falsified items are disjoint.) :func:`detection_probability` returns P(n) as an
exact :class:`~fractions.Fraction`, and :func:`minimal_sample` the smallest ``n`` with
P(n) ≥ a target P, decided with integer comparisons only, so no rounding can move the
answer by one — which a float calculation can do exactly when P(n) equals the target.
:func:`approximate_sample` is the usual textbook estimate N(1 − (1 − P)^(1/M)), in
floating point, reported beside the exact answer.

Inputs are read exactly: probabilities and goal quantities may be given as
:class:`~fractions.Fraction`, :class:`~decimal.Decimal`, ``int``, a string such as
``"0.95"`` or ``"19/20"``, or a ``float``, which is read as the decimal it prints as
(``0.95`` means 95/100, not the binary double nearest to it). Counts are ``int`` or a
string of decimal digits. Every impossible input raises :class:`ValueError` whose
message begins with the parameter's CLI name (``population``, ``falsified``,
``detection``, ``goal-quantity``, ``item-size``, ``sample``).

Like :mod:`unveil.core`, this module does no I/O, reads no clock and uses no randomness.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "ExactNumber",
    "Count",
    "Plan",
    "approximate_sample",
    "detection_probability",
    "falsified_from_goal",
    "minimal_sample",
    "plan",
]

#: A number read exactly; a ``float`` is read as the decimal ``str()`` prints for it.
ExactNumber = Fraction | Decimal | str | float | int
#: A count of items: an ``int``, or a string of decimal digits.
Count = int | str

_INTEGER = re.compile(r"[+-]?[0-9]+")


# --- reading inputs ------------------------------------------------------------------


def _count(value: object, name: str) -> int:
    """``value`` as an ``int``; anything that is not a whole number raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        try:
            return int(value.strip())
        except ValueError:  # more digits than int() will convert
            raise ValueError(f"{name} is too large") from None
    raise ValueError(f"{name} must be an integer, got {value!r}")


def _exact(value: object, name: str) -> Fraction:
    """``value`` as an exact Fraction (see the module docstring for what is accepted)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        if isinstance(value, Fraction):
            return value
        if isinstance(value, int):
            return Fraction(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError
            return Fraction(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError
            return Fraction(str(value))
        if isinstance(value, str):
            return Fraction(value.strip())
    except (ValueError, ZeroDivisionError, ArithmeticError):
        pass
    raise ValueError(f"{name} must be a finite number, got {value!r}")


def _population(N: object) -> int:
    population = _count(N, "population")
    if population < 1:
        raise ValueError(f"population must be at least 1, got {population}")
    return population


def _falsified(M: object, population: int) -> int:
    falsified = _count(M, "falsified")
    if not 1 <= falsified <= population:
        raise ValueError(
            f"falsified must be between 1 and the population ({population}), got {falsified}"
        )
    return falsified


def _detection(P: object) -> Fraction:
    target = _exact(P, "detection")
    if not 0 < target <= 1:
        raise ValueError(f"detection must be greater than 0 and at most 1, got {P!r}")
    return target


def _inputs(N: object, M: object, P: object) -> tuple[int, int, Fraction]:
    population = _population(N)
    return population, _falsified(M, population), _detection(P)


# --- exact probabilities -------------------------------------------------------------


def _miss(N: int, M: int, n: int) -> tuple[int, int]:
    """(a, b) with a/b the chance a sample of ``n`` holds no falsified item.

    Uses whichever of C(N−M, n)/C(N, n) and C(N−n, M)/C(N, M) has the smaller lower
    index, so the cost grows with min(M, n), not with N: N = 10⁶ and M = 10 is cheap
    for every n. ``math.comb`` returns 0 when the lower index exceeds the upper.
    """
    if n >= M:
        return math.comb(N - n, M), math.comb(N, M)
    return math.comb(N - M, n), math.comb(N, n)


def detection_probability(N: Count, M: Count, n: Count) -> Fraction:
    """Exact chance that a uniform sample of ``n`` of ``N`` items (without replacement)
    contains at least one of the ``M`` falsified items: 1 − C(N−M, n)/C(N, n).

    Requires 1 ≤ N, 1 ≤ M ≤ N and 0 ≤ n ≤ N; otherwise raises ValueError naming the
    parameter (``population``, ``falsified``, ``sample``).
    """
    population = _population(N)
    falsified = _falsified(M, population)
    sample = _count(n, "sample")
    if not 0 <= sample <= population:
        raise ValueError(f"sample must be between 0 and the population ({population}), got {sample}")
    miss, total = _miss(population, falsified, sample)
    return Fraction(total - miss, total)


def minimal_sample(N: Count, M: Count, P: ExactNumber) -> int:
    """The smallest sample size ``n`` in [0, N] whose exact detection probability is at
    least ``P`` (a sample that reaches P exactly counts).

    ``P`` is read exactly — ``"0.95"``, ``Fraction(19, 20)`` and the float ``0.95`` all
    mean 95/100 — and must satisfy 0 < P ≤ 1; ``M`` must satisfy 1 ≤ M ≤ N. P = 1 needs
    n = N − M + 1 (every smaller sample can miss all ``M``). Detection probability
    increases with ``n``, so the search doubles ``n`` until the target is reached and
    then bisects, comparing integers only; its cost grows with the answer, not with N.
    """
    population, falsified, target = _inputs(N, M, P)
    always = population - falsified + 1  # the smallest n with detection probability 1
    if target == 1:
        return always
    p, q = target.numerator, target.denominator

    def reaches(n: int) -> bool:
        miss, total = _miss(population, falsified, n)
        # 1 − miss/total ≥ p/q  ⇔  (total − miss)·q ≥ p·total   (total > 0, q > 0)
        return (total - miss) * q >= p * total

    low, high = 0, 1  # invariant: low does not reach the target (P > 0 = P(0))
    while not reaches(high):
        low, high = high, min(2 * high, always)
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def falsified_from_goal(Q: ExactNumber, X: ExactNumber) -> int:
    """Items that must be falsified to divert a goal quantity ``Q`` in items of size
    ``X``: M = ⌈Q/X⌉, computed exactly (``"0.3"`` / ``"0.1"`` is exactly 3, not the
    4 that float division gives). Both must be finite and greater than 0; a float is
    read as the decimal it prints as.
    """
    quantity = _exact(Q, "goal-quantity")
    if quantity <= 0:
        raise ValueError(f"goal-quantity must be greater than 0, got {Q!r}")
    size = _exact(X, "item-size")
    if size <= 0:
        raise ValueError(f"item-size must be greater than 0, got {X!r}")
    return math.ceil(quantity / size)


def approximate_sample(N: Count, M: Count, P: ExactNumber) -> float:
    """The usual approximation N(1 − (1 − P)^(1/M)) to the sample size, unrounded.

    This is a floating-point estimate (the binomial approximation to sampling without
    replacement), reported for comparison only; :func:`minimal_sample` is the exact
    answer. Inputs are validated as for :func:`minimal_sample`. It is evaluated as
    −N·expm1(ln(1 − P)/M) so that P close to 0 or to 1 keeps its precision; P = 1
    gives N.
    """
    population, falsified, target = _inputs(N, M, P)
    remainder = 1 - target
    if remainder == 0:
        return float(population)
    if target <= Fraction(1, 2):
        log_remainder = math.log1p(-float(target))
    else:  # 1 − P may underflow a float: take logs of its (exact) integer parts
        log_remainder = math.log(remainder.numerator) - math.log(remainder.denominator)
    return -population * math.expm1(log_remainder / falsified)


# --- the plan ------------------------------------------------------------------------


def _integer_text(value: int) -> str:
    """Decimal digits of ``value``, however long (str() refuses past 4300 digits)."""
    return str(Decimal(value))


@dataclass(frozen=True)
class Plan:
    """An inspection plan: the exact minimal sample and its detection probability."""

    population: int
    falsified: int
    detection_target: Fraction
    n: int
    detection_probability: Fraction
    approximation: float

    def to_json(self) -> dict[str, object]:
        """JSON-ready summary; ``detection_probability_exact`` is always ``"p/q"``."""
        exact = self.detection_probability
        return {
            "population": self.population,
            "falsified": self.falsified,
            "detection_target": float(self.detection_target),
            "n": self.n,
            "detection_probability": float(exact),
            "detection_probability_exact": (
                f"{_integer_text(exact.numerator)}/{_integer_text(exact.denominator)}"
            ),
            "approximation": self.approximation,
        }


def plan(N: Count, M: Count, P: ExactNumber) -> Plan:
    """The minimal sample for detecting ``M`` falsified items among ``N`` with
    probability at least ``P``, with its exact probability and the usual approximation.
    Raises ValueError naming the parameter for impossible inputs.
    """
    population, falsified, target = _inputs(N, M, P)
    n = minimal_sample(population, falsified, target)
    return Plan(
        population=population,
        falsified=falsified,
        detection_target=target,
        n=n,
        detection_probability=detection_probability(population, falsified, n),
        approximation=approximate_sample(population, falsified, target),
    )
