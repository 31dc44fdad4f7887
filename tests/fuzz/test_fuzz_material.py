"""Fuzzing material accountancy's files (spec §13): any bytes and any change of the
Exampleland balance or production history give an evaluation with finite numbers, or a
MalformedInputError naming the file and where in it."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import NUMBER_TEXTS, ODD_STRINGS, fuzz, mutated_csv, outcome
from unveil.errors import MalformedInputError
from unveil.material import balance, estimate, read_balance, read_history

EXERCISE = Path(__file__).resolve().parents[2] / "src" / "unveil" / "exercise"
BALANCE = (EXERCISE / "plutonium-balance.csv").read_bytes()
HISTORY = (EXERCISE / "production-history.csv").read_bytes()
CELLS = [*ODD_STRINGS, *NUMBER_TEXTS, "begin", "end", "receipt", "shipment", "heu", "plutonium", "2025-01-01", "2024-12-01",
         "0", "1", "0.0", "-0.1", "1e-300", ""]


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def evaluate(data: bytes, source: str) -> dict:
    return balance(read_balance(data, source=source), trials=500)


@fuzz(40)
@given(st.binary(max_size=120) | mutated_csv(BALANCE, CELLS))
def test_any_bytes_and_mutated_balances(data: bytes) -> None:
    result = outcome(evaluate, data, "b.csv", names="b.csv")
    if isinstance(result, MalformedInputError):
        return
    assert _finite(result), "an evaluation printed a NaN or an infinity"
    json.dumps(result, allow_nan=False)


@fuzz(30)
@given(st.binary(max_size=120) | mutated_csv(HISTORY, CELLS))
def test_any_bytes_and_mutated_histories(data: bytes) -> None:
    result = outcome(lambda d: estimate(read_history(d, source="h.csv")), data, names="h.csv")
    if not isinstance(result, MalformedInputError):
        produced, reactors = result
        assert math.isfinite(produced.mean) and math.isfinite(produced.sigma) and produced.sigma >= 0 and reactors


def test_the_seeds_evaluate() -> None:
    assert evaluate(BALANCE, "b.csv")["cumulative"][0]["alarm"] is True
    assert estimate(read_history(HISTORY, source="h.csv"))[0].mean > 0
