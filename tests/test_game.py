"""The sequential inspection game and the deterrence threshold (unveil.simulation.game,
docs/regimes.md): hand-computed cases, the recursion against its closed form, and each
strategy checked as an equilibrium of the whole game."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unveil.simulation.game import MAX_PERIODS, deterrence, dresher_value, inspection_game, solve_stage


def test_two_periods_one_inspection_by_hand() -> None:
    """N=2, M=1. Stage game (payoff to the inspectee): inspect/legal leaves 1 period, 0
    inspections: v(1,0) = 1; pass/legal leaves 1 period, 1 inspection: v(1,1) = 0.
    [[1, −1], [0, 1]] has no saddle point; the inspector's p makes the inspectee indifferent:
    p·1 + (1−p)·0 = −p + (1−p) → p = 1/3; the inspectee's q: (1−q)·1 − q = (1−q)·0 + q → q = 1/3;
    value p·1 = 1/3."""
    game = inspection_game(2, 1)
    assert (game.value, game.violate, game.inspect) == (F(1, 3), F(1, 3), F(1, 3))
    assert game.stage == (F(1), F(-1), F(0), F(1))


def test_three_periods_one_inspection_by_hand() -> None:
    """N=3, M=1: stage [[v(2,0), −1], [v(2,1), 1]] = [[1, −1], [1/3, 1]]; p = (1 − 1/3)/(1 + 1 + 1 − 1/3)
    = 1/4, q = (1 − 1/3)/(8/3) = 1/4, value (1·1 + 1/3)/(8/3) = 1/2."""
    game = inspection_game(3, 1)
    assert (game.value, game.violate, game.inspect) == (F(1, 2), F(1, 4), F(1, 4))


def test_five_periods_two_inspections_is_three_eighths() -> None:
    """The issue's example value: v(5,2) = C(4,2)/(C(5,0)+C(5,1)+C(5,2)) = 6/16."""
    game = inspection_game("5", "2")
    assert game.to_json() == {
        "periods": 5, "inspections": 2, "value": "3/8", "violate": "9/64", "inspect": "5/16", "value_float": 0.375,
        "stage": {"inspect_legal": "3/5", "inspect_violate": "-1", "pass_legal": "3/11", "pass_violate": "1"}}


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_boundaries_no_inspection_is_worth_1_and_enough_inspections_0(n: int) -> None:
    none = inspection_game(n, 0)
    assert (none.value, none.violate, none.inspect, none.stage) == (1, 1, 0, None)
    for m in (n, n + 1, 10**9):
        enough = inspection_game(n, m)
        assert (enough.value, enough.violate, enough.inspect, enough.inspections) == (0, 0, 1, m)


def test_the_recursion_equals_dreshers_closed_form() -> None:
    for n in range(1, 41):
        for m in range(n + 2):
            assert inspection_game(n, m).value == dresher_value(n, m), (n, m)
    assert inspection_game(MAX_PERIODS, MAX_PERIODS // 2).value == dresher_value(MAX_PERIODS, MAX_PERIODS // 2)


def _best_reply_values(n: int, m: int) -> tuple[F, F]:
    """What the inspectee gets at best against the inspector's computed strategy in every
    period, and what the inspector concedes at least against the inspectee's: computed by
    backward induction over the whole game (the one-shot deviation principle), independent of
    the stage solver."""
    inspectee_best: dict[tuple[int, int], F] = {}
    inspector_best: dict[tuple[int, int], F] = {}
    for periods in range(0, n + 1):
        for left in range(0, m + 1):
            if periods == 0:
                inspectee_best[periods, left] = inspector_best[periods, left] = F(0)
                continue
            game = inspection_game(periods, left)
            p, q = game.inspect, game.violate
            after_inspect = (periods - 1, left - 1) if left else None
            legal_vs_p = (1 - p) * inspectee_best[periods - 1, left] + (p * inspectee_best[after_inspect] if after_inspect else 0)
            inspectee_best[periods, left] = max(legal_vs_p, p * -1 + (1 - p) * 1)
            pass_vs_q = (1 - q) * inspector_best[periods - 1, left] + q * 1
            options = [pass_vs_q]
            if after_inspect:
                options.append((1 - q) * inspector_best[after_inspect] + q * -1)
            inspector_best[periods, left] = min(options)
    return inspectee_best[n, m], inspector_best[n, m]


@pytest.mark.parametrize(("n", "m"), [(n, m) for n in range(1, 9) for m in range(0, n + 2)])
def test_the_strategies_are_an_equilibrium_of_the_whole_game(n: int, m: int) -> None:
    """Neither side gains by deviating in any period: the inspectee's best reply to the
    inspector's strategy earns exactly the value, and so does the inspector's to the inspectee's."""
    value = inspection_game(n, m).value
    assert _best_reply_values(n, m) == (value, value)


@given(st.integers(2, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n - 1))))
def test_the_value_solves_the_stage_game(nm: tuple[int, int]) -> None:
    """v(n,m) is the value of [[v(n−1,m−1), −1], [v(n−1,m), 1]], and the first-period
    probabilities make the other side indifferent (a fully mixed equilibrium)."""
    n, m = nm
    game = inspection_game(n, m)
    a, b, c, d = dresher_value(n - 1, m - 1), F(-1), dresher_value(n - 1, m), F(1)
    assert game.stage == (a, b, c, d)
    p, q = game.inspect, game.violate
    assert 0 < p < 1 and 0 < q < 1
    assert p * a + (1 - p) * c == p * b + (1 - p) * d == game.value  # the inspectee is indifferent
    assert (1 - q) * a + q * b == (1 - q) * c + q * d == game.value  # so is the inspector


@given(st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=20), min_size=4, max_size=4))
def test_the_stage_solver_finds_an_equilibrium_of_any_2x2_game(entries: list[F]) -> None:
    a, b, c, d = entries
    solved = solve_stage(a, b, c, d)
    p, q = solved.row, solved.column
    assert 0 <= p <= 1 and 0 <= q <= 1
    # The column player (maximizer) gets at most the value against p, whatever it plays...
    assert max(p * a + (1 - p) * c, p * b + (1 - p) * d) == solved.value
    # ... and at least the value with q, whatever the row player does.
    assert min((1 - q) * a + q * b, (1 - q) * c + q * d) == solved.value


@pytest.mark.parametrize(("periods", "inspections", "name"), [
    (0, 1, "periods"), (-3, 1, "periods"), (MAX_PERIODS + 1, 1, "periods"), ("1.5", 1, "periods"), ("abc", 1, "periods"),
    ("\u0665", 1, "periods"), ("9" * 5000, 1, "periods"), (True, 1, "periods"), (3.0, 1, "periods"),
    (5, -1, "inspections"), (5, "", "inspections"), (5, "1e3", "inspections"), (5, None, "inspections"),
])
def test_bad_game_inputs_name_the_parameter(periods: object, inspections: object, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must"):
        inspection_game(periods, inspections)  # type: ignore[arg-type]


# --- deterrence ----------------------------------------------------------------------


def test_the_threshold_without_false_alarms_is_d_over_b_plus_d() -> None:
    result = deterrence("1", "3")
    assert result.threshold == F(1, 4) and result.deterrable and result.deters is None
    assert deterrence(2, 0).threshold == 1  # no sanction: only certain detection deters


def test_the_threshold_with_false_alarms() -> None:
    """D = 1, B = 3, A = 0.05, F = 2: (1 + 0.05·2)/(3 + 1) = 11/40."""
    assert deterrence("1", "3", "0.05", "2").threshold == F(11, 40)
    assert deterrence("1", "3", "0.05", "0").threshold == F(1, 4)


@given(st.fractions(min_value=F(1, 100), max_value=100), st.fractions(min_value=0, max_value=100),
       st.fractions(min_value=0, max_value=1), st.fractions(min_value=0, max_value=100))
def test_at_the_threshold_complying_and_violating_pay_the_same(gain: F, sanction: F, alarm: F, cost: F) -> None:
    """The threshold is where the inspectee's payoffs cross: complying pays −A·F, violating
    (1 − β)·D − β·B; above it complying is strictly better, below it violating."""
    result = deterrence(gain, sanction, alarm, cost)
    beta = result.threshold

    def violate(b: F) -> F:
        return (1 - b) * gain - b * sanction

    comply = -alarm * cost
    assert violate(beta) == comply
    assert violate(beta + F(1, 1000)) < comply < violate(beta - F(1, 1000))
    assert result.deterrable == (beta <= 1)


def test_a_regimes_detection_probability_deters_or_not() -> None:
    assert deterrence(1, 3, detection="0.25").deters is True  # at the threshold compliance is a best reply
    assert deterrence(1, 3, detection="0.24").deters is False
    costly = deterrence(1, 1, "0.5", "4")  # (1 + 2)/2 = 3/2: false alarms cost more than any sanction saves
    assert costly.threshold == F(3, 2) and not costly.deterrable
    assert deterrence(1, 1, "0.5", "4", detection=1).deters is False
    assert deterrence(1, 3, "1/20", "2", "0.3").to_json() == {
        "threshold": "11/40", "threshold_float": 0.275, "deterrable": True, "gain": "1", "sanction": "3",
        "false_alarm": "1/20", "false_alarm_cost": "2", "detection": "3/10", "deters": True}


@pytest.mark.parametrize(("args", "name"), [
    (("0", "1"), "gain"), (("-1", "1"), "gain"), (("x", "1"), "gain"), (("nan", "1"), "gain"), (("inf", "1"), "gain"),
    ((float("nan"), "1"), "gain"), (("1", "-0.1"), "sanction"), (("1", "1/0"), "sanction"), (("1", True), "sanction"),
    (("1", "1", "1.01"), "false-alarm"), (("1", "1", "-0.01"), "false-alarm"), (("1", "1", "0.1", "-2"), "false-alarm-cost"),
    (("1", "1", "0.1", "1" * 200), "false-alarm-cost"), (("1", "1", "0", "0", "2"), "detection"),
    (("1", "1", "0", "0", "-0.5"), "detection"), (("1", "1", "0", "0", []), "detection"),
])
def test_bad_deterrence_inputs_name_the_parameter(args: tuple[object, ...], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must"):
        deterrence(*args)
