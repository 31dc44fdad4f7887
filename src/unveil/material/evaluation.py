"""A whole balance file evaluated (spec §13; ``unveil material balance``): per category and
period MUF, σMUF, SITMUF, Page's statistic and alarm; the cumulative MUF, its σ and the
one-sided test at α; Page's thresholds; and the protracted-diversion comparison.

Defaults (docs/material.md): α = :data:`DEFAULT_ALPHA`; k = 0.5; h = Page's threshold for the
category's number of periods at false-alarm rate α (:func:`unveil.material.page.threshold`,
100 000 trials, seed 0), so that Page's test and the cumulative test share α; the loss for the
protracted comparison is one IAEA significant quantity where the category has one
(:data:`SIGNIFICANT_QUANTITY`), else the loss the cumulative test detects with probability
0.95.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from unveil.errors import MalformedInputError
from unveil.material import page
from unveil.material.accountancy import Evaluation, curve, evaluate, protracted
from unveil.material.balance import CategoryInput, Measured, category_inputs
from unveil.material.csvfile import MAX_VALUE
from unveil.material.normal import check_probability, min_loss, quantile

DEFAULT_ALPHA = 0.05
PROTRACTED_TRIALS = 20_000
SIGNIFICANT_QUANTITY = {"plutonium": 8.0, "heu": 25.0}
"""kg: the IAEA significant quantities (IAEA Safeguards Glossary, 2022 edition): 8 kg of
plutonium; 25 kg of U-235 in high-enriched uranium (taken here as 25 kg of the HEU itself,
which overstates the loss a little for 90 % material)."""


def default_loss(category: str, sigma_cumulative: float, alpha: float) -> float:
    """The loss the protracted comparison spreads over the periods, in kg."""
    if category in SIGNIFICANT_QUANTITY:
        return SIGNIFICANT_QUANTITY[category]
    return min_loss(sigma_cumulative, alpha, 0.95)


def balance(rows: Iterable[Measured], *, alpha: float = DEFAULT_ALPHA, k: float = page.DEFAULT_K, h: float | None = None,
            loss: float | None = None, trials: int = page.DEFAULT_TRIALS, seed: int = page.DEFAULT_SEED,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The ``balance --json`` document for ``rows`` (every category of a balance file);
    ``progress(n)`` is called as the default threshold's Monte Carlo trials run."""
    check_probability(alpha, "--alpha")
    page.check_k(k)
    if h is not None and not (math.isfinite(h) and 0 <= h <= MAX_VALUE):
        raise MalformedInputError(f"h = {h} is not a threshold from 0 to {MAX_VALUE:g} (σ)", where="--h")
    if loss is not None and not (math.isfinite(loss) and 0 < loss <= MAX_VALUE):
        raise MalformedInputError(f"loss = {loss} is not a mass above 0 and at most {MAX_VALUE:g} kg", where="--loss")
    thresholds: dict[int, tuple[float, float]] = {}
    periods: list[dict[str, Any]] = []
    cumulative: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    spread: list[dict[str, Any]] = []
    listed = list(rows)
    source = next((m.source for m in listed if m.source), None)
    try:
        for data in category_inputs(listed):
            n = len(data.periods)
            if h is None and n not in thresholds:
                thresholds[n] = page.threshold(n, k, alpha, trials=trials, seed=seed, progress=progress)
            used_h, h_se = (h, 0.0) if h is not None else thresholds[n]
            ev = evaluate(data, k)
            periods += _period_rows(ev, used_h)
            cum, sigma_cum = ev.cumulative
            z = cum / sigma_cum
            cumulative.append({"category": data.category, "muf": cum, "sigma_muf": sigma_cum, "z": z, "alarm": bool(z > quantile(1 - alpha)),
                               "min_loss_95": min_loss(sigma_cum, alpha, 0.95)})
            tests.append({"category": data.category, "periods": n, "k": k, "h": used_h, "h_standard_error": h_se,
                          "h_from": "option" if h is not None else f"Monte Carlo, {trials} trials, seed {seed}"})
            taken = loss if loss is not None else default_loss(data.category, sigma_cum, alpha)
            spread.append({**protracted(ev, taken, alpha, used_h, k, trials=PROTRACTED_TRIALS, seed=seed),
                           "curve": curve(ev, alpha, 2 * min_loss(sigma_cum, alpha, 0.95))})
    except MalformedInputError as exc:
        if source is None or (exc.where or "").startswith("--"):  # an option's error is not the file's
            raise
        raise exc.within(source) from None
    return {"periods": periods, "cumulative": cumulative, "page": tests, "protracted": spread, "alpha": alpha, "unit": "kg"}


def _period_rows(ev: Evaluation, h: float) -> list[dict[str, Any]]:
    sigma = ev.sigma_muf
    return [{"period": period, "category": ev.category, "muf": float(ev.muf[t]), "sigma_muf": float(sigma[t]),
             "sitmuf": float(ev.sitmuf[t]), "page": float(ev.page[t]), "alarm": bool(ev.page[t] > h)}
            for t, period in enumerate(ev.periods)]


__all__ = ["CategoryInput", "DEFAULT_ALPHA", "SIGNIFICANT_QUANTITY", "balance", "default_loss"]
