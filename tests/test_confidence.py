"""Confidence that no undeclared site remains (unveil.analytics.confidence, docs/confidence.md)."""

from __future__ import annotations

import math
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unveil.analytics.confidence import (
    Evidence,
    PhaseEvidence,
    Suspect,
    confidence,
    over_phases,
    posterior_after_miss,
)

# The worked example of docs/confidence.md.
PHASE1 = PhaseEvidence(
    suspects={
        "s1": Suspect(F(3, 5), "cleared", detection=F(1, 2)),
        "s2": Suspect(F(1, 4), "declared"),
        "s3": Suspect(F(1, 2), "opened"),
        "s4": Suspect(F(1, 5), "sealed"),
    },
    cells=10,
    background=F(2, 5),
    opened_cells=4,
    inspected=(F(1, 2), F(3, 4)),
)
PHASE2 = PhaseEvidence(
    suspects={
        "s1": Suspect(F(3, 5), "cleared", detection=F(1, 2)),
        "s2": Suspect(F(1, 4), "declared"),
        "s3": Suspect(F(1, 2), "cleared", detection=F(4, 5)),
        "s4": Suspect(F(1, 5), "declared"),
    },
    cells=10,
    background=F(2, 5),
    opened_cells=6,
    inspected=(F(1, 2), F(3, 4), F(4, 5)),
)


def test_cleared_posterior_by_hand() -> None:
    # c = 3/5, d = 1/2: (3/5 · 1/2) / (3/10 + 2/5) = 3/7
    assert posterior_after_miss(F(3, 5), F(1, 2)) == F(3, 7)
    assert posterior_after_miss(0.6, 0.5) == F(3, 7)  # floats read as printed decimals
    assert posterior_after_miss(F(1, 2), F(4, 5)) == F(1, 6)
    assert posterior_after_miss(1, F(1, 2)) == 1  # a certain site stays certain
    assert posterior_after_miss(F(3, 5), 0) == F(3, 5)


def test_worked_example_phase1() -> None:
    result = confidence(PHASE1)
    assert result.per_suspect == {"s1": F(3, 7), "s2": F(0), "s3": F(1, 2), "s4": F(1, 5)}
    assert result.exact_part == F(4, 7) * 1 * F(1, 2) * F(4, 5) == F(8, 35)
    assert PHASE1.background_remaining() == F(2, 5) * (1 - F(5, 4) / 10) == F(7, 20)
    assert result.background_expected == 0.35
    assert result.probability == pytest.approx(8 / 35 * math.exp(-0.35), rel=1e-15)
    assert round(result.probability, 6) == 0.161072


def test_worked_example_over_phases() -> None:
    first, second = over_phases([PHASE1, PHASE2])
    assert first == confidence(PHASE1)
    assert second.per_suspect == {"s1": F(3, 7), "s2": F(0), "s3": F(1, 6), "s4": F(0)}
    assert second.exact_part == F(10, 21)
    assert PHASE2.background_remaining() == F(159, 500)
    assert round(second.probability, 6) == 0.346478


def test_open_credit() -> None:
    credited = PhaseEvidence(
        cells=10, background=F(2, 5), opened_cells=4, inspected=(F(1, 2), F(3, 4)), open_credit=F(1, 10)
    )
    assert credited.background_remaining() == F(171, 500)
    everything = PhaseEvidence(cells=4, background=3, opened_cells=4, open_credit=1)
    assert confidence(everything).probability == 1.0


def test_found_gives_zero_until_resolved() -> None:
    found = PhaseEvidence(suspects={"x": Suspect(F(1, 10), "found"), "y": Suspect(F(1, 2))})
    assert confidence(found).probability == 0 and confidence(found).exact_part == 0
    resolved = PhaseEvidence(suspects={"x": Suspect(F(1, 10), "resolved"), "y": Suspect(F(1, 2))})
    assert [r.exact_part for r in over_phases([found, resolved])] == [0, F(1, 2)]
    with pytest.raises(ValueError, match=r"^phases\[1\]\.suspects\['x'\]\.state"):
        over_phases([found, PhaseEvidence(suspects={"x": Suspect(F(1, 10), "cleared", F(1, 2))})])
    with pytest.raises(ValueError, match=r"^phases\[0\]\.suspects\['x'\]\.state"):
        over_phases([resolved])


def test_declared_factor_one_and_opening_alone_clears_nothing() -> None:
    assert confidence(PhaseEvidence(suspects={"a": Suspect(1, "declared")})).exact_part == 1
    for state in ("sealed", "unopened-uninspected", "opened"):
        assert confidence(PhaseEvidence(suspects={"a": Suspect(F(2, 3), state)})).exact_part == F(1, 3)


def test_no_background() -> None:
    result = confidence(PhaseEvidence(cells=5, background=0, opened_cells=2, inspected=(F(1, 3),)))
    assert result.background_expected == 0 and result.probability == 1.0
    assert Evidence is PhaseEvidence and confidence(Evidence()).probability == 1.0


probabilities = st.fractions(min_value=0, max_value=1, max_denominator=50)


priors = probabilities.filter(lambda x: x > 0)


@given(c=priors, d1=probabilities, d2=probabilities)
def test_inspecting_more_never_lowers_confidence(c: F, d1: F, d2: F) -> None:
    low, high = sorted((d1, d2))
    if c == 1 and high == 1:
        return  # impossible evidence, rejected (tested below)

    def result(state: str, d: F | None, inspected: tuple[F, ...]) -> float:
        suspect = Suspect(c, state, d)
        evidence = PhaseEvidence({"s": suspect}, cells=3, background=2, opened_cells=2, inspected=inspected)
        return confidence(evidence).probability

    opened = result("opened", None, ())
    weaker = result("cleared", low, (low,))
    stronger = result("cleared", high, (high,))
    more_cells = result("cleared", high, (high, low))
    assert opened <= weaker <= stronger <= more_cells


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"suspects": {"a": Suspect(0)}}, r"suspects\['a'\]\.prior"),
        ({"suspects": {"a": Suspect(F(3, 2))}}, r"suspects\['a'\]\.prior"),
        ({"suspects": {"a": Suspect("x")}}, r"suspects\['a'\]\.prior"),
        ({"suspects": {"a": Suspect(F(1, 2), "gone")}}, r"suspects\['a'\]\.state"),
        ({"suspects": {"a": Suspect(F(1, 2), "cleared")}}, r"suspects\['a'\]\.detection"),
        ({"suspects": {"a": Suspect(F(1, 2), "cleared", 2)}}, r"suspects\['a'\]\.detection"),
        ({"suspects": {"a": Suspect(1, "cleared", 1)}}, r"suspects\['a'\]\.detection"),
        ({"suspects": {"a": Suspect(F(1, 2), "opened", F(1, 2))}}, r"suspects\['a'\]\.detection"),
        ({"suspects": {"a": F(1, 2)}}, r"suspects\['a'\]"),
        ({"cells": 0}, "cells"),
        ({"background": -1}, "background"),
        ({"background": float("nan")}, "background"),
        ({"cells": 3, "opened_cells": 4}, "opened_cells"),
        ({"cells": 3, "opened_cells": 0, "inspected": (F(1, 2),)}, "opened_cells"),
        ({"cells": 3, "opened_cells": 2, "inspected": (F(1, 2), F(-1, 2))}, r"inspected\[1\]"),
        ({"open_credit": F(11, 10)}, "open_credit"),
    ],
)
def test_invalid_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match="^" + field):
        PhaseEvidence(**kwargs)  # type: ignore[arg-type]
