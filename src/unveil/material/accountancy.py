"""Material balance evaluation (spec §13, docs/material.md): MUF and its covariance, SITMUF,
Page's test on SITMUF, the cumulative MUF, and protracted diversion.

For one category over periods t = 1…n: MUF_t = B_t + R_t − S_t − E_t. The measured rows x
(a period's ``end`` and the next ``begin`` are one row when the file gives only one) have
covariance Σ = diag(σ_random²) + Σ_k s_k s_kᵀ, where s_k holds the systematic σ of the rows of
measurement kind k (inventory, receipt, shipment) and 0 elsewhere: random errors independent,
systematic errors fully correlated within a kind. With J the n × m matrix of each row's sign in
each MUF, MUF = J x and Cov(MUF) = J Σ Jᵀ.

SITMUF (Picard's standardized independent transformed MUF): with the Cholesky factor
Cov(MUF) = L Lᵀ, SITMUF = L⁻¹ MUF. Its t-th value is MUF_t less its best prediction from the
earlier MUFs, over that prediction's error σ; with no loss the SITMUFs are independent standard
normals, so Page's CUSUM S_t = max(0, S_{t−1} + SITMUF_t − k), alarming when S_t > h, has the
false-alarm rate its threshold was set for (:mod:`unveil.material.page`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import solve_triangular
from scipy.stats import norm

from unveil.errors import Location, MalformedInputError
from unveil.material.balance import MEASUREMENT_KIND, CategoryInput, Measured
from unveil.material.normal import check_probability, phi, quantile
from unveil.material.page import maxima

SIGN = {"begin": 1.0, "receipt": 1.0, "shipment": -1.0, "end": -1.0}


@dataclass(frozen=True)
class Evaluation:
    """One category's MUF, its covariance (kg²), SITMUF and Page's statistic."""

    category: str
    periods: tuple[str, ...]
    muf: np.ndarray
    covariance: np.ndarray
    cholesky: np.ndarray
    sitmuf: np.ndarray
    page: np.ndarray

    @property
    def sigma_muf(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    @property
    def cumulative(self) -> tuple[float, float]:
        """Σ MUF_t and its σ, √(1ᵀ Cov 1) (kg)."""
        ones = np.ones(len(self.periods))
        return float(self.muf.sum()), math.sqrt(max(float(ones @ self.covariance @ ones), 0.0))


def design(data: CategoryInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(J, x, Σ): each measured row's sign in each period's MUF, the rows' values, their
    covariance. Linked inventories share one column of J."""
    jacobian, x, random, systematic = _parts(data)
    sigma = np.diag(random ** 2)
    for s in systematic:
        sigma += np.outer(s, s)
    return jacobian, x, sigma


def muf_covariance(jacobian: np.ndarray, random: np.ndarray, systematic: list[np.ndarray]) -> np.ndarray:
    """J Σ Jᵀ for Σ = diag(random²) + Σ_k s_k s_kᵀ, without forming Σ (rows × rows):
    (J · random²) Jᵀ + Σ_k (J s_k)(J s_k)ᵀ."""
    covariance = (jacobian * random ** 2) @ jacobian.T
    for s in systematic:
        js = jacobian @ s
        covariance += np.outer(js, js)
    return covariance


def _parts(data: CategoryInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """J, x, the rows' random σ and one vector of systematic σ a measurement kind."""
    n = len(data.periods)
    columns: list[Measured] = []
    index: dict[tuple[int, str], int] = {}
    for t, rows in enumerate(data.rows):
        for kind in ("begin", "receipt", "shipment", "end"):
            if kind in rows:
                index[t, kind] = len(columns)
                columns.append(rows[kind])
    for t, rows in enumerate(data.rows):
        if "begin" not in rows:
            if t == 0 or (t - 1, "end") not in index:
                raise _missing(data, t, "begin", "the previous period's end")
            index[t, "begin"] = index[t - 1, "end"]
        if "end" not in rows:
            if t + 1 >= n or "begin" not in data.rows[t + 1]:
                raise _missing(data, t, "end", "the next period's begin")
            index[t, "end"] = index[t + 1, "begin"]
    jacobian = np.zeros((n, len(columns)))
    for (t, kind), column in index.items():
        jacobian[t, column] += SIGN[kind]
    x = np.array([m.quantity for m in columns], dtype=float)
    random = np.array([m.sigma_random for m in columns], dtype=float)
    systematic = [np.array([m.sigma_systematic if MEASUREMENT_KIND[m.kind] == kind else 0.0 for m in columns], dtype=float)
                  for kind in ("inventory", "receipt", "shipment")]
    return jacobian, x, random, systematic


def _missing(data: CategoryInput, t: int, kind: str, instead: str) -> MalformedInputError:
    first = min(m.line for m in data.rows[t].values())
    source = next(iter(data.rows[t].values())).source or None
    return MalformedInputError(f"period {data.periods[t]}, category {data.category}: no {kind} row, nor {instead}",
                               source=source, where=Location(line=first, label="column", path=("kind",)) if first else None)


def evaluate(data: CategoryInput, k: float) -> Evaluation:
    """MUF, Cov(MUF) = J Σ Jᵀ, SITMUF and Page's statistic for one category."""
    jacobian, x, random, systematic = _parts(data)
    muf = jacobian @ x
    covariance = muf_covariance(jacobian, random, systematic)
    if not (np.all(np.isfinite(muf)) and np.all(np.isfinite(covariance))):
        raise MalformedInputError(f"category {data.category}: quantities or σ too large to combine")
    try:
        cholesky = np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        raise MalformedInputError(
            f"category {data.category}: the MUF covariance is singular (a period's MUF has no uncertainty of its own): "
            "give its measurements a random σ above 0") from None
    sitmuf = solve_triangular(cholesky, muf, lower=True)
    return Evaluation(data.category, data.periods, muf, covariance, cholesky, sitmuf, page_statistic(sitmuf, k))


def page_statistic(sitmuf: np.ndarray, k: float) -> np.ndarray:
    """Page's CUSUM S_t = max(0, S_{t−1} + SITMUF_t − k), S_0 = 0."""
    out = np.empty(len(sitmuf))
    s = 0.0
    for t, value in enumerate(sitmuf):
        s = max(0.0, s + float(value) - k)
        out[t] = s
    return out


def exact_detection(ev: Evaluation, loss: float, alpha: float) -> tuple[float, float, np.ndarray]:
    """(cumulative, per-period, SITMUF shift) for ``loss`` taken evenly over the periods: the
    cumulative test Φ(L/σ_cum − z₁₋α); per-period tests on SITMUF, each at α' = 1 − (1 − α)^{1/n},
    1 − Π_t Φ(z₁₋α' − m_t) with m = L⁻¹ (L/n, …, L/n) the loss's shift of SITMUF."""
    n = len(ev.periods)
    _, sigma_cum = ev.cumulative
    cumulative = phi(loss / sigma_cum - quantile(1 - alpha))
    shift = solve_triangular(ev.cholesky, np.full(n, loss / n), lower=True)
    critical = quantile(1 - (1 - (1 - alpha) ** (1 / n)))
    miss = float(np.prod(norm.cdf(critical - shift)))
    return cumulative, 1 - miss, shift


def curve(ev: Evaluation, alpha: float, top: float, points: int = 21) -> list[dict[str, float]]:
    """Both tests' detection probabilities for losses from 0 to ``top`` kg (the plot's curve)."""
    found = []
    for loss in np.linspace(0.0, top, points):
        cumulative, per_period, _ = exact_detection(ev, float(loss), alpha)
        found.append({"loss": float(loss), "cumulative_detection": cumulative, "per_period_detection": per_period})
    return found


def protracted(ev: Evaluation, loss: float, alpha: float, h: float, k: float, *, trials: int, seed: int) -> dict[str, Any]:
    """A total ``loss`` (kg) taken evenly over the periods: the detection probability of one
    one-sided test on the cumulative MUF at α, of per-period tests on SITMUF at the same total
    false-alarm rate α (each at 1 − (1 − α)^{1/n}: the SITMUFs are independent), and of Page's
    test with threshold ``h`` (Monte Carlo, with its own false-alarm rate); ``stronger`` names
    the test with the higher detection probability of the first two (``equal`` within 10⁻⁹)."""
    check_probability(alpha, "--alpha")
    n = len(ev.periods)
    cumulative, per_period, shift = exact_detection(ev, loss, alpha)
    each = 1 - (1 - alpha) ** (1 / n)
    # draws of their own (seeds + 1, + 2), not those the threshold h was estimated from
    page_false = maxima(n, k, trials, seed + 1) > h
    page_alarm = maxima(n, k, trials, seed + 2, shift) > h
    return {
        "category": ev.category, "loss": loss, "periods": n, "alpha": alpha, "cumulative_detection": cumulative,
        "per_period_detection": per_period, "per_period_alpha": each,
        "page_detection": float(page_alarm.mean()), "page_false_alarm": float(page_false.mean()), "page_trials": trials,
        "stronger": "equal" if abs(cumulative - per_period) < 1e-9 else "cumulative" if cumulative > per_period else "per-period",
    }

