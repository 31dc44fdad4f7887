"""unveil.material: every formula against a hand computation (docs/material.md, spec §13).

Φ and its quantiles are recomputed here from :func:`math.erf` and bisection, independently of
scipy, so a wrong scipy call would show.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from unveil.errors import MalformedInputError
from unveil.material import Measured, category_inputs, compare, detection_probability, estimate, from_range, min_loss, threshold
from unveil.material.accountancy import evaluate, page_statistic, protracted
from unveil.material.history import DEFAULT_YIELD, DEFAULT_YIELD_SIGMA, Operation
from unveil.material.normal import Normal
from unveil.material.page import maxima


def Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def z(p: float) -> float:
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if Phi(mid) < p else (lo, mid)
    return (lo + hi) / 2


# --- one test -------------------------------------------------------------------------------


def test_compare_a_declaration_with_an_estimate_by_hand() -> None:
    out = compare(Normal(30, 1), Normal(27, 2), 0.05)
    assert out["difference"] == 3 and out["sigma"] == pytest.approx(math.sqrt(5))
    assert out["z"] == pytest.approx(3 / math.sqrt(5))  # 1.342 < z₀.₉₇₅ = 1.960
    assert out["consistent"] is True and out["alpha"] == 0.05
    assert compare(Normal(30, 1), Normal(27, 2), 0.2)["consistent"] is False  # 1.342 > z₀.₉ = 1.282
    assert compare(Normal(27, 1), Normal(30, 2), 0.05)["z"] == pytest.approx(-3 / math.sqrt(5))


def test_a_range_stands_for_a_normal_with_95_percent_inside() -> None:
    n = from_range(40, 55, "--estimate-range")
    assert n.mean == 47.5 and n.sigma == pytest.approx(15 / (2 * z(0.975)))
    assert Phi((55 - n.mean) / n.sigma) - Phi((40 - n.mean) / n.sigma) == pytest.approx(0.95)
    with pytest.raises(MalformedInputError, match="ends below"):
        from_range(5, 4, "--declared-range")


def test_quantities_whose_difference_overflows_are_refused() -> None:
    with pytest.raises(MalformedInputError, match="too large"):
        compare(Normal(1e308, 1), Normal(-1e308, 1), 0.05)
    with pytest.raises(MalformedInputError, match="overflows"):
        min_loss(1e308, 0.05, 0.99)


def test_exact_quantities_on_both_sides_are_refused() -> None:
    with pytest.raises(MalformedInputError, match="σ = 0"):
        compare(Normal(1, 0), Normal(1, 0), 0.05)


def test_detection_probability_and_min_loss_by_hand() -> None:
    assert detection_probability(8, 3, 0.05) == pytest.approx(Phi(8 / 3 - z(0.95)))
    assert detection_probability(8, 3, 0.05) == pytest.approx(0.84657, abs=1e-5)
    assert min_loss(3, 0.05, 0.95) == pytest.approx(3 * 2 * z(0.95)) == pytest.approx(9.8691, abs=1e-4)
    for sigma, alpha, p in [(0.3, 0.05, 0.5), (2.0, 0.01, 0.9), (1.0, 0.1, 0.99)]:
        assert detection_probability(min_loss(sigma, alpha, p), sigma, alpha) == pytest.approx(p)
    assert detection_probability(0, 1, 0.05) == pytest.approx(0.05)  # no loss: the false-alarm rate


@pytest.mark.parametrize("call", [
    lambda: detection_probability(8, -1, 0.05), lambda: detection_probability(8, 0, 0.05),
    lambda: detection_probability(math.nan, 1, 0.05), lambda: detection_probability(8, math.inf, 0.05),
    lambda: detection_probability(8, 1, 1.5), lambda: min_loss(1, 0.05, 1.0), lambda: min_loss(-1, 0.05, 0.5),
], ids=["negative-sigma", "zero-sigma", "nan-loss", "infinite-sigma", "alpha-over-1", "certain-detection", "negative-sigma-min-loss"])
def test_out_of_range_values_are_refused_naming_the_option(call: object) -> None:
    with pytest.raises(MalformedInputError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.where in ("--sigma", "--loss", "--alpha", "--detection")


# --- production history ---------------------------------------------------------------------


def test_production_estimate_with_a_reactors_yield_error_correlated_across_its_rows() -> None:
    ops = [
        Operation("R1", "1990", 7000, 350, DEFAULT_YIELD, DEFAULT_YIELD_SIGMA),
        Operation("R1", "1991", 6000, 300, DEFAULT_YIELD, DEFAULT_YIELD_SIGMA),
        Operation("R2", "1991", 1000, 0, 0.5, 0.1),
    ]
    found, reactors = estimate(ops)
    grams = 7000 * 0.9 + 6000 * 0.9 + 1000 * 0.5  # 12 200 g
    # R1's yield error: (7000 + 6000) · 0.05 = 650 g, one error; R2's: 1000 · 0.1 = 100 g;
    # energy errors, independent: 0.9 · 350 = 315 g and 0.9 · 300 = 270 g.
    variance = 650**2 + 100**2 + 315**2 + 270**2
    assert found.mean == pytest.approx(grams / 1000) == pytest.approx(12.2)
    assert found.sigma == pytest.approx(math.sqrt(variance) / 1000)
    independent = math.sqrt((7000 * 0.05) ** 2 + (6000 * 0.05) ** 2 + 100**2 + 315**2 + 270**2) / 1000
    assert found.sigma > independent  # correlation within a reactor widens the interval
    assert [r["reactor"] for r in reactors] == ["R1", "R2"] and reactors[0]["kg"] == pytest.approx(11.7)


# --- material balance -----------------------------------------------------------------------


def rows(*spec: tuple[str, str, float, float, float]) -> list[Measured]:
    return [Measured(period, "plutonium", kind, q, r, s, n + 2) for n, (period, kind, q, r, s) in enumerate(spec)]


WORKED = rows(
    ("1", "begin", 100, 0.3, 0.2), ("1", "receipt", 50, 0.1, 0.4), ("1", "shipment", 20, 0.1, 0.2), ("1", "end", 129, 0.3, 0.25),
    ("2", "receipt", 40, 0.1, 0.3), ("2", "end", 168.5, 0.2, 0.25),
)


def test_sigma_muf_of_a_worked_example_with_correlated_errors() -> None:
    """Two periods; period 1's end is period 2's begin (one measurement). By hand:

    MUF₁ = 100 + 50 − 20 − 129 = 1;  MUF₂ = 129 + 40 − 168.5 = 0.5.
    Var MUF₁: random 0.3² + 0.1² + 0.1² + 0.3² = 0.20; systematic, one error per kind:
      inventory (begin +0.2, end −0.25) → (0.2 − 0.25)² = 0.0025; receipt 0.4² = 0.16;
      shipment 0.2² = 0.04 → 0.4025.
    Var MUF₂: random 0.3² + 0.1² + 0.2² = 0.14; inventory (+0.25 − 0.25)² = 0; receipt 0.3² = 0.09
      → 0.23.
    Cov: the shared inventory, −1 in MUF₁ and +1 in MUF₂: −0.3² = −0.09 (random); the receipts'
      systematic error, 0.4 · 0.3 = 0.12; inventory systematic −0.05 · 0 = 0 → 0.03.
    Cumulative: 1.5 kg, variance 0.4025 + 0.23 + 2 · 0.03 = 0.6925.
    """
    (data,) = category_inputs(WORKED)
    ev = evaluate(data, 0.5)
    assert ev.muf.tolist() == pytest.approx([1.0, 0.5])
    assert ev.covariance == pytest.approx(np.array([[0.4025, 0.03], [0.03, 0.23]]))
    cum, sigma = ev.cumulative
    assert cum == pytest.approx(1.5) and sigma == pytest.approx(math.sqrt(0.6925))
    # SITMUF: the first MUF standardised; the second less its prediction from the first
    first = 1.0 / math.sqrt(0.4025)
    second = (0.5 - 0.03 / 0.4025 * 1.0) / math.sqrt(0.23 - 0.03**2 / 0.4025)
    assert ev.sitmuf.tolist() == pytest.approx([first, second])


def test_the_covariance_is_j_sigma_j_transposed() -> None:
    """evaluate's structured product equals J Σ Jᵀ with Σ built in full."""
    from unveil.material.accountancy import design

    (data,) = category_inputs(WORKED)
    jacobian, x, sigma = design(data)
    assert sigma.shape == (6, 6) and jacobian.shape == (2, 6)  # period 1's end is period 2's begin: 6 rows, not 7
    assert evaluate(data, 0.5).covariance == pytest.approx(jacobian @ sigma @ jacobian.T, abs=1e-15)
    assert (jacobian @ x).tolist() == pytest.approx([1.0, 0.5])


def test_errors_treated_as_independent_would_give_another_sigma() -> None:
    """The systematic errors are correlated: the receipts' two systematic errors add, not in quadrature."""
    (data,) = category_inputs(WORKED)
    _, sigma = evaluate(data, 0.5).cumulative
    independent = math.sqrt(0.16 + 0.0025 + 0.4**2 + 0.3**2 + 0.2**2 + 0.2**2 + 0.25**2)
    assert sigma != pytest.approx(independent)


def test_both_inventories_given_are_two_measurements() -> None:
    both = [*WORKED[:4], Measured("2", "plutonium", "begin", 129.2, 0.3, 0.25, 9), *WORKED[4:]]
    (data,) = category_inputs(both)
    ev = evaluate(data, 0.5)
    assert ev.muf.tolist() == pytest.approx([1.0, 0.7])
    # random: the end of 1 and the begin of 2 are separate errors: no −0.09 any more
    assert ev.covariance[0, 1] == pytest.approx(0.12 + (0.2 - 0.25) * (0.25 - 0.25))


def test_sitmuf_whitens_the_muf_covariance() -> None:
    (data,) = category_inputs(WORKED)
    ev = evaluate(data, 0.5)
    inverse = np.linalg.inv(ev.cholesky)
    assert inverse @ ev.covariance @ inverse.T == pytest.approx(np.eye(2))


def test_page_statistic_by_hand() -> None:
    assert page_statistic(np.array([1.5, -0.2, 2.0, -3.0]), 0.5).tolist() == pytest.approx([1.0, 0.3, 1.8, 0.0])


@pytest.mark.parametrize("spec, message", [
    ((("1", "receipt", 1, 0.1, 0), ("1", "end", 1, 0.1, 0)), "no begin"),
    ((("1", "begin", 1, 0.1, 0), ("1", "receipt", 1, 0.1, 0)), "no end"),
    ((("1", "begin", 1, 0, 0), ("1", "end", 1, 0, 0)), "singular"),
], ids=["first-begin-missing", "last-end-missing", "no-uncertainty"])
def test_balances_that_cannot_be_evaluated_are_refused(spec: tuple, message: str) -> None:
    (data,) = category_inputs(rows(*spec))
    with pytest.raises(MalformedInputError, match=message):
        evaluate(data, 0.5)


# --- Page's threshold -----------------------------------------------------------------------


def test_threshold_for_one_period_is_the_normal_quantile_less_k() -> None:
    """One period: S₁ = max(0, Z − k) > h exactly when Z > h + k, so h = z₁₋A − k."""
    h, se = threshold(1, 0.5, 0.05, trials=200_000, seed=1)
    assert se > 0 and abs(h - (z(0.95) - 0.5)) < 4 * se


def test_threshold_for_two_periods_against_numerical_integration() -> None:
    """P(no alarm over two periods) = ∫ φ(z) P(max(0, z − k) + Z₂ − k ≤ h) dz over z ≤ h + k."""
    from scipy.integrate import quad

    k = 0.5

    def no_alarm(h: float) -> float:
        return float(quad(lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi) * Phi(h + k - max(0.0, x - k)), -12, h + k)[0])

    # bisection for the h with false alarm 0.05
    lo, hi = 0.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 1 - no_alarm(mid) > 0.05 else (lo, mid)
    exact = (lo + hi) / 2
    assert 1.0 < exact < 2.5
    h, se = threshold(2, k, 0.05, trials=200_000, seed=7)
    assert abs(h - exact) < 4 * se


def test_threshold_is_reproducible_and_its_false_alarm_rate_checks_out_on_fresh_draws() -> None:
    first = threshold(12, 0.5, 0.05, trials=50_000, seed=42)
    assert threshold(12, 0.5, 0.05, trials=50_000, seed=42) == first
    h, se = first
    other, _ = threshold(12, 0.5, 0.05, trials=50_000, seed=43)
    assert other != h and abs(other - h) < 6 * se
    # an independent, plain-loop Monte Carlo of the false-alarm rate at h (another generator)
    rng = np.random.default_rng(2026)
    draws = rng.standard_normal((20_000, 12))
    alarms = 0
    for row in draws:
        s = 0.0
        for value in row:
            s = max(0.0, s + value - 0.5)
            if s > h:
                alarms += 1
                break
    rate = alarms / len(draws)
    assert abs(rate - 0.05) < 4 * math.sqrt(0.05 * 0.95 / len(draws))


def test_maxima_are_vectorised_the_same_as_one_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cumulative-sum form of Page's recursion gives the recursion's values, shift included."""
    shift = np.array([0.0, 1.0, -0.5, 2.0, 0.3])
    tops = maxima(5, 0.5, 300, seed=3, shift=shift)
    draws = np.random.Generator(np.random.PCG64(3)).standard_normal((300, 5))
    expected = []
    for row in draws:
        s = top = 0.0
        for value, m in zip(row, shift, strict=True):
            s = max(0.0, s + value + m - 0.5)
            top = max(top, s)
        expected.append(top)
    assert tops.tolist() == pytest.approx(expected, abs=1e-9)
    from unveil.material import page

    monkeypatch.setattr(page, "CHUNK_VALUES", 35)  # 7 trials a chunk: the same draws, in the same order
    assert maxima(5, 0.5, 300, seed=3, shift=shift).tolist() == tops.tolist()


@pytest.mark.parametrize("args, where", [
    ((0, 0.5, 0.05), "--periods"), ((5, -1.0, 0.05), "--k"), ((5, math.nan, 0.05), "--k"), ((5, 0.5, 0.0), "--false-alarm"),
])
def test_threshold_refuses_bad_options(args: tuple, where: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        threshold(*args, trials=1000)
    assert caught.value.where == where


# --- protracted diversion -------------------------------------------------------------------


def independent_periods(n: int) -> list[Measured]:
    """n periods whose MUFs are independent with σ = 1 kg: each period's own begin and end,
    no systematic error (begin σ² + end σ² = 1)."""
    found = []
    for t in range(1, n + 1):
        found += [Measured(str(t), "plutonium", "begin", 10, math.sqrt(0.5), 0, 0),
                  Measured(str(t), "plutonium", "end", 10, math.sqrt(0.5), 0, 0)]
    return found


def test_protracted_diversion_by_hand_and_the_stronger_test_named() -> None:
    (data,) = category_inputs(independent_periods(10))
    ev = evaluate(data, 0.5)
    out = protracted(ev, 5.0, 0.05, 3.0, 0.5, trials=2000, seed=0)
    cumulative = Phi(5 / math.sqrt(10) - z(0.95))  # ≈ 0.474
    each = 1 - 0.95 ** (1 / 10)
    per_period = 1 - Phi(z(1 - each) - 0.5) ** 10  # ≈ 0.177
    assert out["cumulative_detection"] == pytest.approx(cumulative, abs=1e-9)
    assert out["per_period_detection"] == pytest.approx(per_period, abs=1e-9)
    assert out["per_period_alpha"] == pytest.approx(each)
    assert out["stronger"] == "cumulative" and cumulative > per_period
    # a loss taken in one period: per-period tests are the stronger (still at α = 0.05 in all)
    (data,) = category_inputs(independent_periods(2))
    one = protracted(evaluate(data, 0.5), 4.0, 0.05, 3.0, 0.5, trials=2000, seed=0)
    assert one["stronger"] in ("cumulative", "per-period")
    stronger = max(("cumulative", one["cumulative_detection"]), ("per-period", one["per_period_detection"]), key=lambda x: x[1])
    assert one["stronger"] == stronger[0]


def test_page_false_alarm_in_the_protracted_comparison_matches_its_threshold() -> None:
    (data,) = category_inputs(independent_periods(6))
    ev = evaluate(data, 0.5)
    h, _ = threshold(6, 0.5, 0.05, trials=50_000, seed=5)
    out = protracted(ev, 3.0, 0.05, h, 0.5, trials=20_000, seed=9)
    assert abs(out["page_false_alarm"] - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 20_000)
    assert 0.05 < out["page_detection"] < 1


def test_the_detection_curve_starts_at_the_false_alarm_rate_and_rises() -> None:
    """With no loss both tests alarm at their total false-alarm rate α; more loss, more detection."""
    from unveil.material.accountancy import curve

    (data,) = category_inputs(WORKED)
    points = curve(evaluate(data, 0.5), 0.05, 3.0, points=7)
    assert points[0]["loss"] == 0 and points[-1]["loss"] == 3.0
    assert points[0]["cumulative_detection"] == pytest.approx(0.05) and points[0]["per_period_detection"] == pytest.approx(0.05)
    for key in ("cumulative_detection", "per_period_detection"):
        values = [p[key] for p in points]
        assert values == sorted(values) and values[-1] > 0.5


def test_the_muf_covariance_matches_a_simulation_of_the_error_model() -> None:
    """An independent check of J Σ Jᵀ: draw the measurement errors as the model states them
    (each row's random error its own, one systematic error per measurement kind shared by its
    rows, period 1's end being period 2's begin) and compare the MUFs' sample covariance."""
    rng = np.random.default_rng(11)
    trials = 400_000
    eps = {name: rng.standard_normal(trials) for name in ("b1", "r1", "s1", "e1", "r2", "e2")}
    shared = {kind: rng.standard_normal(trials) for kind in ("inventory", "receipt", "shipment")}

    def measured(name: str, value: float, sigma_r: float, sigma_s: float, kind: str) -> np.ndarray:
        return value + sigma_r * eps[name] + sigma_s * shared[kind]

    b1 = measured("b1", 100, 0.3, 0.2, "inventory")
    r1 = measured("r1", 50, 0.1, 0.4, "receipt")
    s1 = measured("s1", 20, 0.1, 0.2, "shipment")
    e1 = measured("e1", 129, 0.3, 0.25, "inventory")
    r2 = measured("r2", 40, 0.1, 0.3, "receipt")
    e2 = measured("e2", 168.5, 0.2, 0.25, "inventory")
    sample = np.cov(np.vstack([b1 + r1 - s1 - e1, e1 + r2 - e2]))
    (data,) = category_inputs(WORKED)
    assert sample == pytest.approx(evaluate(data, 0.5).covariance, abs=0.003)  # ≥ 3 standard errors; seeded
