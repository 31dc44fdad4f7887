"""The sequential inspection game and the deterrence threshold, in exact arithmetic (
the model and its sources: docs/regimes.md).

**The inspection game** (Dresher 1962; the recursive form of von Stengel, "Recursive inspection
games", Mathematics of Operations Research 41(3), 2016, and of Avenhaus, von Stengel and Zamir,
"Inspection games", Handbook of Game Theory vol. 3, ch. 51, 2002). Over ``n`` periods an
inspector has ``m`` inspections; the inspectee may violate in at most one period and sees, after
each period, whether it was inspected. Zero-sum payoffs to the inspectee: +1 for a violation
the period is not inspected (the game ends), −1 for a violation in an inspected period (caught;
the game ends), 0 if it never violates. In each period the players play the 2×2 stage game
(rows: the inspector inspects or passes; columns: the inspectee acts legally or violates)::

                legal            violate
    inspect     v(n−1, m−1)      −1
    pass        v(n−1, m)        +1

with v(n, 0) = 1 for n ≥ 1 (no inspection left: the inspectee violates now, undetected) and
v(0, m) = 0 (no period left, no violation); hence v(n, m) = 0 for m ≥ n (the inspector can
inspect every period). For 1 ≤ m < n the stage game has no saddle point (v(n−1, m−1) >
v(n−1, m)) and its value is (a·d − b·c)/(a + d − b − c), here

    v(n, m) = (v(n−1, m−1) + v(n−1, m)) / (v(n−1, m−1) − v(n−1, m) + 2),

which :func:`inspection_game` computes row by row with :class:`~fractions.Fraction`. The
recursion's known solution v(n, m) = C(n−1, m) / Σ_{i=0..m} C(n, i) (:func:`dresher_value`,
the same sources) is checked against it in tests/test_game.py, e.g. v(2, 1) = 1/3.

First-period strategies: in the mixed case each player's unique optimal probability makes the
other indifferent. At m = 0 the inspectee violates at once (``violate`` 1; violating in any
later period is as good) and the inspector cannot inspect; at m ≥ n the inspector inspects
(``inspect`` 1; any probability ≥ 1/2 holds the value too) and the inspectee stays legal.

**Deterrence** (inspector leadership; Avenhaus, von Stengel and Zamir 2002; Avenhaus and Canty,
*Compliance Quantified*, 1996). The inspectee gains D from an undetected violation and pays the
sanction B when it is detected (probability β); with false alarms it pays F whenever a
compliant inspectee is wrongly accused (probability A). Compliance is a best reply when
−A·F ≥ (1 − β)·D − β·B, that is when β ≥ (D + A·F) / (B + D) (:func:`deterrence`); without
false alarms D / (B + D). A threshold above 1 means no detection probability deters.

Inputs are read exactly (``"0.05"`` is 1/20, as in :mod:`unveil.analytics.planning`); every
impossible input raises :class:`ValueError` whose message begins with the option's CLI name
(``periods``, ``inspections``, ``gain``, ``sanction``, ``false-alarm``, ``false-alarm-cost``,
``detection``). No I/O, no clock, no randomness.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = ["MAX_PERIODS", "Deterrence", "InspectionGame", "StageSolution", "deterrence", "dresher_value", "inspection_game", "solve_stage"]

#: The most periods :func:`inspection_game` takes: the recursion fills up to N × min(M, N)
#: fractions whose terms grow to about N·log10(2) digits (N = 500: about a second at worst).
MAX_PERIODS = 500

_INTEGER = re.compile(r"[0-9]+")


def _text(value: Fraction) -> str:
    """``"p/q"``, or ``"p"`` for an integer (``"1/3"``, ``"0"``, ``"-1"``)."""
    return str(value)


# --- the stage game ------------------------------------------------------------------


@dataclass(frozen=True)
class StageSolution:
    """A solved 2×2 zero-sum game (payoffs to the column player, who maximizes): its value
    and optimal probabilities of the first row (``row``) and of the second column (``column``)."""

    value: Fraction
    row: Fraction
    column: Fraction


def solve_stage(a: Fraction, b: Fraction, c: Fraction, d: Fraction) -> StageSolution:
    """Solve the game [[a, b], [c, d]]: rows for the minimizer (inspect, pass), columns for the
    maximizer (legal, violate). A saddle point gives pure strategies; otherwise each side's
    probability makes the other indifferent between its two actions."""
    lower = max(min(a, c), min(b, d))  # what the maximizer guarantees with a pure column
    upper = min(max(a, b), max(c, d))  # what the minimizer guarantees with a pure row
    if lower == upper:
        column = Fraction(0) if min(a, c) >= min(b, d) else Fraction(1)
        row = Fraction(1) if max(a, b) <= max(c, d) else Fraction(0)
        return StageSolution(lower, row, column)
    denominator = a + d - b - c
    return StageSolution(
        value=(a * d - b * c) / denominator,
        row=(d - c) / denominator,
        column=(a - c) / denominator,
    )


# --- the inspection game -------------------------------------------------------------


def _count(value: object, name: str, least: int, most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, str):
        if not (value.isascii() and _INTEGER.fullmatch(value.strip())) or len(value.strip()) > 12:
            raise ValueError(f"{name} must be a whole number of at most 12 digits, got {value[:40]!r}")
        value = int(value.strip())
    if value < least or (most is not None and value > most):
        bound = f"between {least} and {most}" if most is not None else f"at least {least}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


@dataclass(frozen=True)
class InspectionGame:
    """The solved game for ``periods`` and ``inspections``: its value (to the inspectee), the
    first period's optimal probabilities, and that period's stage game."""

    periods: int
    inspections: int
    value: Fraction
    violate: Fraction
    inspect: Fraction
    stage: tuple[Fraction, Fraction, Fraction, Fraction] | None  # (inspect-legal, inspect-violate, pass-legal, pass-violate)

    def to_json(self) -> dict[str, object]:
        """Exact fractions as ``"p/q"`` strings, ``value_float`` beside them."""
        stage = None
        if self.stage is not None:
            names = ("inspect_legal", "inspect_violate", "pass_legal", "pass_violate")
            stage = {name: _text(x) for name, x in zip(names, self.stage, strict=True)}
        return {"periods": self.periods, "inspections": self.inspections, "value": _text(self.value),
                "violate": _text(self.violate), "inspect": _text(self.inspect),
                "value_float": float(self.value), "stage": stage}


def _values_before(n: int, m: int) -> list[Fraction]:
    """v(n − 1, j) for j = m − 1 and m by the recursion (the entries the first period looks
    up; 1 ≤ m < n). Row ``r`` is filled only where a later row reads it: j ≥ m − n + r."""
    row = [Fraction(0)] * (m + 1)  # v(0, j) = 0
    for periods in range(1, n):
        new = row[:]
        for j in range(max(0, m - n + periods), min(m, periods - 1) + 1):
            if j == 0:
                new[0] = Fraction(1)  # v(periods, 0) = 1
            else:
                x, y = row[j - 1], row[j]
                new[j] = (x + y) / (x - y + 2)
        for j in range(max(periods, 0), m + 1):
            new[j] = Fraction(0)  # v(periods, j) = 0 for j ≥ periods
        row = new
    return row


def inspection_game(periods: int | str, inspections: int | str) -> InspectionGame:
    """Value and first-period optimal strategies of the game (module docstring) by the
    recursion in exact arithmetic. Raises ValueError naming ``periods`` or ``inspections``."""
    n = _count(periods, "periods", 1, MAX_PERIODS)
    m = _count(inspections, "inspections", 0)
    if m == 0:
        return InspectionGame(n, m, Fraction(1), Fraction(1), Fraction(0), None)
    if m >= n:  # v(n − 1, m − 1) = v(n − 1, m) = 0
        stage = (Fraction(0), Fraction(-1), Fraction(0), Fraction(1))
    else:
        before = _values_before(n, m)
        stage = (before[m - 1], Fraction(-1), before[m], Fraction(1))
    solved = solve_stage(*stage)
    return InspectionGame(n, m, solved.value, solved.column, solved.row, stage)


def dresher_value(periods: int, inspections: int) -> Fraction:
    """The recursion's closed form C(n−1, m) / Σ_{i=0..m} C(n, i) (0 for m ≥ n, 1 for m = 0)."""
    n, m = periods, inspections
    if m >= n:
        return Fraction(0)
    return Fraction(math.comb(n - 1, m), sum(math.comb(n, i) for i in range(m + 1)))


# --- deterrence ----------------------------------------------------------------------


def _number(value: object, name: str) -> Fraction:
    """``value`` read exactly: Fraction, int, Decimal, a float as the decimal it prints, or a
    string such as ``"0.05"`` or ``"1/20"``."""
    if not isinstance(value, bool):
        try:
            if isinstance(value, (Fraction, int)):
                return Fraction(value)
            if isinstance(value, Decimal) and value.is_finite():
                return Fraction(value)
            if isinstance(value, float) and math.isfinite(value):
                return Fraction(str(value))
            if isinstance(value, str) and value.isascii() and len(value) <= 100:
                return Fraction(value.strip())
        except (ValueError, ZeroDivisionError, ArithmeticError):
            pass
    raise ValueError(f"{name} must be a finite number such as 0.05 or 1/20, got {str(value)[:40]!r}")


@dataclass(frozen=True)
class Deterrence:
    """The detection probability above which complying is the inspectee's best reply, and,
    given a regime's detection probability, whether the regime reaches it."""

    gain: Fraction
    sanction: Fraction
    false_alarm: Fraction
    false_alarm_cost: Fraction
    threshold: Fraction
    detection: Fraction | None = None

    @property
    def deterrable(self) -> bool:
        """Some detection probability (at most 1) deters."""
        return self.threshold <= 1

    @property
    def deters(self) -> bool | None:
        """The regime's detection probability reaches the threshold (None without one)."""
        return None if self.detection is None else self.detection >= self.threshold

    def to_json(self) -> dict[str, object]:
        return {"threshold": _text(self.threshold), "threshold_float": float(self.threshold),
                "deterrable": self.deterrable, "gain": _text(self.gain), "sanction": _text(self.sanction),
                "false_alarm": _text(self.false_alarm), "false_alarm_cost": _text(self.false_alarm_cost),
                "detection": None if self.detection is None else _text(self.detection), "deters": self.deters}


def deterrence(gain: object, sanction: object, false_alarm: object = 0, false_alarm_cost: object = 0,
               detection: object | None = None) -> Deterrence:
    """The threshold (D + A·F) / (B + D) (module docstring). ``gain`` D > 0, ``sanction`` B ≥ 0,
    ``false_alarm`` A in [0, 1], ``false_alarm_cost`` F ≥ 0, ``detection`` (a regime's detection
    probability) in [0, 1]. Raises ValueError naming the parameter."""
    d, b = _number(gain, "gain"), _number(sanction, "sanction")
    a, f = _number(false_alarm, "false-alarm"), _number(false_alarm_cost, "false-alarm-cost")
    if d <= 0:
        raise ValueError(f"gain must be greater than 0, got {gain!r}")
    if b < 0:
        raise ValueError(f"sanction must be at least 0, got {sanction!r}")
    if not 0 <= a <= 1:
        raise ValueError(f"false-alarm must be a probability in [0, 1], got {false_alarm!r}")
    if f < 0:
        raise ValueError(f"false-alarm-cost must be at least 0, got {false_alarm_cost!r}")
    beta = None
    if detection is not None:
        beta = _number(detection, "detection")
        if not 0 <= beta <= 1:
            raise ValueError(f"detection must be a probability in [0, 1], got {detection!r}")
    return Deterrence(d, b, a, f, (d + a * f) / (b + d), beta)
