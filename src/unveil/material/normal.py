"""One-test statistics under normal errors: a declared stock against an independent estimate,
a balance test's detection probability, and the smallest loss it detects (docs/material.md).

Φ and its quantiles are :mod:`scipy.stats` (the ``analytics`` extra). Every function is pure;
a value out of range raises :class:`~unveil.errors.MalformedInputError` naming the option.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy.stats import norm

from unveil.errors import MalformedInputError

Z975 = float(norm.ppf(0.975))
"""z₀.₉₇₅ ≈ 1.959964: a range LO..HI is read as a 95 % interval of a normal."""


@dataclass(frozen=True, slots=True)
class Normal:
    """A quantity known as a normal: ``mean`` ± ``sigma`` (kg)."""

    mean: float
    sigma: float

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "sigma": self.sigma}


def quantile(p: float) -> float:
    """z_p, the standard normal's p-quantile."""
    return float(norm.ppf(p))


def phi(x: float) -> float:
    """Φ(x), the standard normal's distribution function."""
    return float(norm.cdf(x))


def check_probability(value: float, where: str) -> float:
    """``value`` if it lies strictly between 0 and 1."""
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise MalformedInputError(f"{value} is not a probability strictly between 0 and 1", where=where)
    return value


def check_sigma(value: float, where: str) -> float:
    """``value`` if it is a finite standard deviation (≥ 0)."""
    if not math.isfinite(value) or value < 0:
        raise MalformedInputError(f"{value} is not a standard deviation (finite, ≥ 0)", where=where)
    return value


def check_quantity(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise MalformedInputError(f"{value} is not a finite number", where=where)
    return value


def from_range(lo: float, hi: float, where: str) -> Normal:
    """The normal a range LO..HI stands for: mean (LO+HI)/2, σ = (HI−LO)/(2·z₀.₉₇₅)."""
    check_quantity(lo, where)
    check_quantity(hi, where)
    if hi < lo:
        raise MalformedInputError(f"the range {lo}..{hi} ends below its start", where=where)
    return Normal((lo + hi) / 2, (hi - lo) / (2 * Z975))


def parse_range(text: str, where: str) -> Normal:
    """``LO..HI`` (JSON numbers) as :func:`from_range`."""
    from unveil.textformats.numbers import text_number

    lo, sep, hi = text.partition("..")
    if not sep:
        raise MalformedInputError(f"{text[:40]!r} is not a range LO..HI", where=where)
    return from_range(float(text_number(lo, where, "LO")), float(text_number(hi, where, "HI")), where)


def compare(declared: Normal, estimate: Normal, alpha: float) -> dict[str, Any]:
    """The two-sided test of a declaration against an estimate: difference D − E, its σ =
    √(σ_D² + σ_E²), z = difference / σ, consistent when |D − E| ≤ z₁₋α/2 · σ."""
    check_probability(alpha, "--alpha")
    sigma = math.hypot(declared.sigma, estimate.sigma)
    if sigma == 0:
        raise MalformedInputError("both quantities are exact (σ = 0): give an uncertainty", where="--declared-sigma")
    difference = declared.mean - estimate.mean
    if not (math.isfinite(difference) and math.isfinite(sigma)):
        raise MalformedInputError("the quantities are too large to compare (the difference overflows)", where="--declared")
    z = difference / sigma
    critical = quantile(1 - alpha / 2)
    return {"difference": difference, "sigma": sigma, "z": z, "consistent": abs(z) <= critical, "alpha": alpha,
            "critical_z": critical, "declared": declared.to_json(), "estimate": estimate.to_json(), "unit": "kg"}


def detection_probability(loss: float, sigma: float, alpha: float) -> float:
    """Φ(L/σ − z₁₋α): the probability that one one-sided balance test at false-alarm rate α
    alarms when ``loss`` is missing and the MUF has standard deviation ``sigma``."""
    check_quantity(loss, "--loss")
    check_probability(alpha, "--alpha")
    if check_sigma(sigma, "--sigma") == 0:
        raise MalformedInputError("σ must be above 0", where="--sigma")
    return phi(loss / sigma - quantile(1 - alpha))


def min_loss(sigma: float, alpha: float, detection: float) -> float:
    """The smallest loss detected with probability ``detection``: σ · (z₁₋α + z_P)."""
    check_sigma(sigma, "--sigma")
    check_probability(alpha, "--alpha")
    check_probability(detection, "--detection")
    loss = sigma * (quantile(1 - alpha) + quantile(detection))
    if not math.isfinite(loss):
        raise MalformedInputError(f"σ = {sigma} is too large: the loss overflows", where="--sigma")
    return loss
