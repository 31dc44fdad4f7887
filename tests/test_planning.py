"""Exact inspection planning (unveil.analytics.planning)."""

from __future__ import annotations

import json
import math
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unveil.analytics import (
    Plan,
    approximate_sample,
    detection_probability,
    falsified_from_goal,
    minimal_sample,
    plan,
)


def brute_probability(N: int, M: int, n: int) -> Fraction:
    """1 − C(N−M, n)/C(N, n), straight from the definition."""
    return 1 - Fraction(math.comb(N - M, n), math.comb(N, n))


def brute_minimal(N: int, M: int, P: Fraction) -> int:
    return next(n for n in range(N + 1) if brute_probability(N, M, n) >= P)


# --- hand-computed values ------------------------------------------------------------


@pytest.mark.parametrize("n", range(11))
def test_one_falsified_item_in_ten_is_found_with_probability_n_over_ten(n: int) -> None:
    assert detection_probability(10, 1, n) == Fraction(n, 10)


def test_hand_computed_two_in_ten_sample_three() -> None:
    # 1 − C(8,3)/C(10,3) = 1 − 56/120 = 8/15
    result = detection_probability(10, 2, 3)
    assert isinstance(result, Fraction) and result == Fraction(8, 15)


def test_hand_computed_edges() -> None:
    assert detection_probability(10, 2, 0) == 0
    assert detection_probability(10, 2, 8) == 1 - Fraction(1, 45)  # 1 − C(8,8)/C(10,8)
    assert detection_probability(10, 2, 9) == 1
    assert detection_probability(1, 1, 1) == 1
    assert detection_probability(10, 10, 1) == 1


def test_minimal_sample_hundred_five_ninety_five_matches_brute_force() -> None:
    expected = brute_minimal(100, 5, Fraction("0.95"))
    assert expected == 45  # computed independently with math.comb
    assert minimal_sample(100, 5, "0.95") == expected
    assert minimal_sample(100, 5, Fraction(19, 20)) == expected
    assert minimal_sample(100, 5, 0.95) == expected
    assert brute_probability(100, 5, 44) < Fraction("0.95") <= brute_probability(100, 5, 45)


def test_minimal_sample_is_at_least_one() -> None:
    assert minimal_sample(10, 1, Fraction(1, 10**30)) == 1
    assert minimal_sample(1, 1, "0.5") == 1


# --- exactness at the boundary -------------------------------------------------------


@pytest.mark.parametrize(
    ("N", "M", "P", "n"),
    [
        (10, 1, "0.3", 3),
        (10, 1, "0.1", 1),
        (10, 1, "0.2", 2),
        (5, 1, "0.2", 1),
        (10, 2, "0.2", 1),
        (16, 2, "0.45", 4),
        (20, 9, "0.45", 1),
        (25, 1, "0.08", 2),
    ],
)
def test_target_reached_exactly_is_enough(N: int, M: int, P: str, n: int) -> None:
    target = Fraction(P)
    assert detection_probability(N, M, n) == target  # the sample hits the target exactly
    assert detection_probability(N, M, n - 1) < target
    assert minimal_sample(N, M, P) == n
    assert minimal_sample(N, M, float(P)) == n  # a float means the decimal it prints as
    assert plan(N, M, P).n == n


def test_float_arithmetic_would_flip_these_boundaries() -> None:
    """The cases above are not vacuous: naive float evaluation answers one more."""

    def float_minimal(N: int, M: int, P: float) -> int:
        return next(n for n in range(N + 1) if 1 - math.comb(N - M, n) / math.comb(N, n) >= P)

    assert float_minimal(10, 1, 0.1) == 2 and minimal_sample(10, 1, 0.1) == 1
    assert float_minimal(16, 2, 0.45) == 5 and minimal_sample(16, 2, 0.45) == 4
    assert float_minimal(25, 1, 0.08) == 3 and minimal_sample(25, 1, 0.08) == 2


def test_just_above_an_exact_value_needs_one_more() -> None:
    assert minimal_sample(10, 1, Fraction(3, 10) + Fraction(1, 10**40)) == 4
    assert minimal_sample(10, 1, Fraction(3, 10) - Fraction(1, 10**40)) == 3


@pytest.mark.parametrize(("N", "M"), [(1, 1), (10, 1), (10, 3), (10, 10), (100, 5), (1000, 999)])
def test_certain_detection_needs_n_minus_m_plus_one(N: int, M: int) -> None:
    assert minimal_sample(N, M, 1) == N - M + 1
    assert minimal_sample(N, M, "1") == N - M + 1
    assert detection_probability(N, M, N - M + 1) == 1
    if N - M >= 1:
        assert detection_probability(N, M, N - M) < 1
    assert plan(N, M, "1.0").detection_probability == 1


# --- cross-checks against brute force --------------------------------------------------


def test_exhaustive_small_grid_with_every_boundary_target() -> None:
    for N in range(1, 13):
        for M in range(1, N + 1):
            values = [brute_probability(N, M, n) for n in range(N + 1)]
            for n, value in enumerate(values):
                assert detection_probability(N, M, n) == value
            targets = {v for v in values if v > 0}
            targets |= {v + Fraction(1, 10**9) for v in targets if v < 1}
            targets |= {v - Fraction(1, 10**9) for v in targets}
            for target in targets:
                assert minimal_sample(N, M, target) == brute_minimal(N, M, target), (N, M, target)


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, int, Fraction]:
    N = draw(st.integers(1, 40))
    M = draw(st.integers(1, N))
    if draw(st.booleans()):  # a target one of the samples reaches exactly
        n = draw(st.integers(1, N))
        P = brute_probability(N, M, n)
    else:
        denominator = draw(st.integers(1, 10**6))
        P = Fraction(draw(st.integers(1, denominator)), denominator)
    return N, M, P


@settings(max_examples=300, deadline=None)
@given(cases())
def test_minimal_sample_matches_brute_force(case: tuple[int, int, Fraction]) -> None:
    N, M, P = case
    n = minimal_sample(N, M, P)
    assert n == brute_minimal(N, M, P)
    assert detection_probability(N, M, n) >= P
    assert n == 0 or detection_probability(N, M, n - 1) < P
    result = plan(N, M, P)
    assert (result.n, result.detection_probability) == (n, brute_probability(N, M, n))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000).flatmap(lambda N: st.tuples(st.just(N), st.integers(1, N), st.integers(0, N))))
def test_detection_probability_equals_the_definition(case: tuple[int, int, int]) -> None:
    N, M, n = case
    assert detection_probability(N, M, n) == brute_probability(N, M, n)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60).flatmap(lambda N: st.tuples(st.just(N), st.integers(1, N))))
def test_detection_probability_is_monotone(case: tuple[int, int]) -> None:
    N, M = case
    values = [detection_probability(N, M, n) for n in range(N + 1)]
    certain = N - M + 1
    assert values[0] == 0
    assert all(a < b for a, b in pairwise(values[: certain + 1]))
    assert all(v == 1 for v in values[certain:])


# --- goal quantity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("Q", "X", "M"),
    [
        (8, 3, 3),
        (9, 3, 3),
        (10, 3, 4),
        ("8", "0.5", 16),
        ("0.3", "0.1", 3),
        (0.3, 0.1, 3),
        ("2.1", "0.7", 3),
        (2.1, 0.7, 3),
        (Decimal("2.1"), Decimal("0.7"), 3),
        (Fraction(7, 3), Fraction(1, 3), 7),
        ("1e3", "7", 143),
        ("0.0000001", "1", 1),
    ],
)
def test_falsified_from_goal_is_an_exact_ceiling(Q: object, X: object, M: int) -> None:
    assert falsified_from_goal(Q, X) == M  # type: ignore[arg-type]


def test_goal_rounding_where_floats_go_wrong() -> None:
    assert math.ceil(2.1 / 0.7) == 4  # 3.0000000000000004 in binary floating point
    assert falsified_from_goal("2.1", "0.7") == 3
    assert falsified_from_goal(2.1, 0.7) == 3


# --- approximation ---------------------------------------------------------------------


def test_approximation_formula() -> None:
    assert math.isclose(approximate_sample(100, 5, "0.95"), 100 * (1 - 0.05 ** (1 / 5)), rel_tol=1e-12)
    assert math.isclose(approximate_sample(100, 5, "0.95"), 45.07197283469411, rel_tol=1e-12)
    assert approximate_sample(10, 1, "0.3") == pytest.approx(3.0, rel=1e-12)
    assert approximate_sample(100, 5, 1) == 100.0
    assert isinstance(approximate_sample(100, 5, "0.95"), float)


@pytest.mark.parametrize("P", ["1e-12", "0.5", "0.9", "0.99999999999999999999", "0.999", Fraction(1, 3)])
def test_approximation_keeps_precision_at_both_ends(P: str | Fraction) -> None:
    N, M = 1_000_000, 7
    target = Fraction(P)
    with localcontext() as context:
        context.prec = 60
        remainder = Decimal(1 - target.numerator / Decimal(target.denominator))
        expected = Decimal(N) * (1 - remainder ** (Decimal(1) / Decimal(M)))
    assert math.isclose(approximate_sample(N, M, P), float(expected), rel_tol=1e-12)


def test_approximation_with_one_minus_p_below_float_range() -> None:
    value = approximate_sample(10**6, 10**5, 1 - Fraction(1, 10**1000))
    # ln(1 − P) = −1000·ln 10, so the estimate is N(1 − 10^(−1000/M))
    assert math.isclose(value, 10**6 * -math.expm1(-1000 * math.log(10) / 10**5), rel_tol=1e-12)


# --- plan and JSON ---------------------------------------------------------------------


def test_plan_fields_and_json() -> None:
    result = plan(100, 5, "0.95")
    assert result == Plan(
        population=100,
        falsified=5,
        detection_target=Fraction(19, 20),
        n=45,
        detection_probability=brute_probability(100, 5, 45),
        approximation=approximate_sample(100, 5, "0.95"),
    )
    document = result.to_json()
    assert set(document) == {
        "population",
        "falsified",
        "detection_target",
        "n",
        "detection_probability",
        "detection_probability_exact",
        "approximation",
    }
    assert document["population"] == 100 and document["falsified"] == 5 and document["n"] == 45
    assert type(document["n"]) is int
    assert document["detection_target"] == 0.95
    assert document["detection_probability"] == float(brute_probability(100, 5, 45))
    assert Fraction(document["detection_probability_exact"]) == brute_probability(100, 5, 45)  # type: ignore[arg-type]
    assert document["approximation"] == result.approximation
    assert json.loads(json.dumps(document)) == document
    with pytest.raises(AttributeError):
        result.n = 1  # type: ignore[misc]


def test_exact_probability_is_always_p_over_q() -> None:
    assert plan(10, 1, "0.3").to_json()["detection_probability_exact"] == "3/10"
    assert plan(10, 3, 1).to_json()["detection_probability_exact"] == "1/1"


def test_exact_probability_longer_than_the_int_to_str_limit() -> None:
    result = plan(10**6, 2000, "0.98")
    text = result.to_json()["detection_probability_exact"]
    assert isinstance(text, str)
    numerator, denominator = text.split("/")
    assert len(denominator) > 4300  # beyond sys.get_int_max_str_digits() by default
    assert Decimal(numerator) == Decimal(result.detection_probability.numerator)
    assert Decimal(denominator) == Decimal(result.detection_probability.denominator)


def test_large_population_finishes() -> None:
    N, M = 1_000_000, 10
    result = plan(N, M, "0.99")
    n = result.n
    assert detection_probability(N, M, n) >= Fraction("0.99") > detection_probability(N, M, n - 1)
    assert abs(result.approximation - n) < 5
    assert minimal_sample(N, M, 0.99) == n


# --- invalid input ---------------------------------------------------------------------

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    ("N", "M", "P", "parameter"),
    [
        (0, 1, "0.5", "population"),
        (-5, 1, "0.5", "population"),
        (10.0, 1, "0.5", "population"),
        (1.5, 1, "0.5", "population"),
        ("ten", 1, "0.5", "population"),
        (True, 1, "0.5", "population"),
        (None, 1, "0.5", "population"),
        (NAN, 1, "0.5", "population"),
        (10, 0, "0.5", "falsified"),
        (10, -1, "0.5", "falsified"),
        (10, 11, "0.5", "falsified"),
        (10, 2.5, "0.5", "falsified"),
        (10, "1.5", "0.5", "falsified"),
        (10, NAN, "0.5", "falsified"),
        (10, 1, 0, "detection"),
        (10, 1, "0", "detection"),
        (10, 1, -0.1, "detection"),
        (10, 1, 1.01, "detection"),
        (10, 1, "1.0000000000000000000001", "detection"),
        (10, 1, Fraction(-1, 2), "detection"),
        (10, 1, NAN, "detection"),
        (10, 1, INF, "detection"),
        (10, 1, "nan", "detection"),
        (10, 1, Decimal("NaN"), "detection"),
        (10, 1, Decimal("Infinity"), "detection"),
        (10, 1, "abc", "detection"),
        (10, 1, "1/0", "detection"),
        (10, 1, True, "detection"),
        (10, 1, None, "detection"),
    ],
)
def test_invalid_plan_inputs_name_the_parameter(N: object, M: object, P: object, parameter: str) -> None:
    for function in (minimal_sample, plan, approximate_sample):
        with pytest.raises(ValueError, match=rf"^{parameter}\b"):
            function(N, M, P)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("N", "M", "n", "parameter"),
    [
        (0, 1, 0, "population"),
        (10, 0, 1, "falsified"),
        (10, 11, 1, "falsified"),
        (10, 1, -1, "sample"),
        (10, 1, 11, "sample"),
        (10, 1, 2.0, "sample"),
    ],
)
def test_invalid_probability_inputs_name_the_parameter(N: object, M: object, n: object, parameter: str) -> None:
    with pytest.raises(ValueError, match=rf"^{parameter}\b"):
        detection_probability(N, M, n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("Q", "X", "parameter"),
    [
        (0, 1, "goal-quantity"),
        ("-1", 1, "goal-quantity"),
        (NAN, 1, "goal-quantity"),
        (INF, 1, "goal-quantity"),
        ("lots", 1, "goal-quantity"),
        (None, 1, "goal-quantity"),
        (8, 0, "item-size"),
        (8, "-0.5", "item-size"),
        (8, NAN, "item-size"),
        (8, Decimal("NaN"), "item-size"),
        (8, "", "item-size"),
    ],
)
def test_invalid_goal_inputs_name_the_parameter(Q: object, X: object, parameter: str) -> None:
    with pytest.raises(ValueError, match=rf"^{parameter}\b"):
        falsified_from_goal(Q, X)  # type: ignore[arg-type]


def test_counts_given_as_digit_strings_are_accepted() -> None:
    assert minimal_sample("100", " 5 ", "0.95") == 45
    assert detection_probability("10", "2", "3") == Fraction(8, 15)
