"""The regime simulator: the regime file's strict reading, the Monte Carlo model
against the closed forms and the plain Python loop, and reproducibility by seed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unveil.errors import MalformedInputError
from unveil.simulation.exact import exact_detection
from unveil.simulation.montecarlo import cell_chunk, chunk_sizes, chunk_streams, run_chunk, summarise, wilson
from unveil.simulation.reference import reference_counts
from unveil.simulation.regime import read_regime, regime_of

SE = 4.5
"""Monte Carlo answers must lie within this many standard errors of the exact ones (at a fixed
seed, so the tests are deterministic; 4.5 SE leaves a chance of about 7e-6 per comparison of
failing for a correct model at another seed)."""

BASE: dict[str, Any] = {
    "territory": {"cells": 3249},
    "hidden_sites": {"k": 5, "strategy": "uniform"},
    "phases": [{"opens": 0.25, "inspections": 12, "from": "opened"} for _ in range(4)],
}


def regime(**changes: Any) -> Any:
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return regime_of(doc)


def monte_carlo(r: Any, trials: int, seed: int = 7) -> list[int]:
    sizes = chunk_sizes(trials)
    counts = sum(run_chunk(r, s, n) for s, n in zip(chunk_streams(seed, len(sizes)), sizes, strict=True))
    return [int(c) for c in counts]


def within(counts: list[int], exact: list[float]) -> None:
    trials = sum(counts)
    cumulative = np.cumsum(counts[:-1]) / trials
    for estimate, truth in zip(cumulative, exact, strict=True):
        se = max((truth * (1 - truth) / trials) ** 0.5, 1 / trials)
        assert abs(estimate - truth) <= SE * se, (estimate, truth)


REGIMES = {
    "uniform": {},
    "imperfect": {"detection_probability": 0.6, "intel": {"coverage": 0.4, "detection_probability": 0.7, "phase": 2}},
    "last-phase": {"hidden_sites": {"k": 3, "strategy": "last-phase"}},
    "away": {"hidden_sites": {"k": 2, "strategy": "away-from-intel"}, "intel": {"coverage": 0.9}},
    "cells": {"hidden_sites": {"k": 2, "strategy": {"cells": [5, 900]}}},
    "named-phases": {"phases": [{"opens": 0.3, "inspections": 20}, {"cells": list(range(3000, 3249)), "inspections": 30},
                                {"opens": 0.4, "inspections": 25, "from": "declared"}, {"cells": [7, 8, 9], "inspections": 2, "from": "opened"}],
                     "declared_sites": {"cells": list(range(2000, 2100))}, "hidden_sites": {"k": 3, "strategy": "last-phase"},
                     "intel": {"coverage": 0.2, "detection_probability": 0.5, "phase": 3}},
    "named-uniform": {"phases": [{"cells": list(range(100, 600)), "inspections": 40}, {"opens": 0.5, "inspections": 40, "from": "all"}],
                      "declared_sites": {"count": 50}, "detection_probability": 0.7},
    "mixed-sources": {"phases": [{"opens": 0.1, "inspections": 30, "from": "all"}, {"opens": 0.5, "inspections": 20},
                                 {"opens": 0.2, "inspections": 40, "from": "declared"}],
                      "declared_sites": {"count": 100}, "hidden_sites": {"k": 4}},
}


@pytest.mark.parametrize("name", sorted(REGIMES))
def test_monte_carlo_agrees_with_the_exact_answer(name: str) -> None:
    r = regime(**REGIMES[name])
    exact = exact_detection(r)
    assert exact is not None
    within(monte_carlo(r, 200_000), exact)


@pytest.mark.parametrize("name", sorted(REGIMES))
def test_the_cell_by_cell_draw_agrees_with_the_exact_answer(name: str) -> None:
    r = regime(**REGIMES[name])
    exact = exact_detection(r)
    assert exact is not None
    sizes = chunk_sizes(60_000)
    counts = sum(cell_chunk(r, s, n) for s, n in zip(chunk_streams(5, len(sizes)), sizes, strict=True))
    within([int(c) for c in counts], exact)


def test_a_last_phase_host_is_out_of_reach_until_the_last_phase() -> None:
    r = regime(hidden_sites={"k": 3, "strategy": "last-phase"})
    exact = exact_detection(r)
    assert exact is not None and exact[:3] == [0.0, 0.0, 0.0] and exact[3] > 0.005
    counts = monte_carlo(r, 40_000)
    assert counts[:3] == [0, 0, 0] and counts[3] > 0


def test_the_hypergeometric_case_by_hand() -> None:
    # 10 cells, 1 hidden site, one phase opening all and inspecting 3: found with 3/10.
    r = regime_of({"territory": {"cells": 10}, "hidden_sites": {"k": 1}, "phases": [{"opens": 1, "inspections": 3}]})
    assert exact_detection(r) == [pytest.approx(0.3)]
    # 2 hidden of 10, 3 inspected: 1 − C(8,3)/C(10,3) = 1 − 56/120.
    r2 = regime_of({"territory": {"cells": 10}, "hidden_sites": {"k": 2}, "phases": [{"opens": 1, "inspections": 3}]})
    assert exact_detection(r2) == [pytest.approx(1 - 56 / 120)]


@pytest.mark.parametrize("name", ["uniform", "imperfect", "mixed-sources"])
def test_the_plain_python_loop_agrees_with_the_exact_answer(name: str) -> None:
    r = regime(**REGIMES[name])
    exact = exact_detection(r)
    assert exact is not None
    within(reference_counts(r, 20_000, seed=3), exact)


def test_same_seed_same_answer_and_chunks_are_independent_streams() -> None:
    r = regime(**REGIMES["imperfect"])
    assert monte_carlo(r, 50_000, seed=11) == monte_carlo(r, 50_000, seed=11)
    assert monte_carlo(r, 50_000, seed=11) != monte_carlo(r, 50_000, seed=12)
    sizes = chunk_sizes(50_000)
    streams = chunk_streams(11, len(sizes))
    reversed_sum = sum(run_chunk(r, s, n) for s, n in reversed(list(zip(streams, sizes, strict=True))))
    assert [int(c) for c in reversed_sum] == monte_carlo(r, 50_000, seed=11)


def test_summary_shape_and_wilson() -> None:
    r = regime()
    out = summarise(r, [10, 20, 0, 5, 65], 3, None)
    assert out["trials"] == 100 and out["seed"] == 3 and out["undetected_at_end"] == 0.65
    assert [p["detection_probability"] for p in out["phases"]] == [0.1, 0.3, 0.3, 0.35]
    assert out["phases"][0]["exact"] is None and out["phases"][0]["phase"] == "phase-1"
    assert out["expected_phase_of_detection"] == pytest.approx((10 + 40 + 20) / 35)
    assert summarise(r, [0, 0, 0, 0, 9], 3, None)["expected_phase_of_detection"] is None
    assert wilson(0, 10**6)[0] == 0.0 and wilson(10**6, 10**6)[1] == 1.0 and wilson(0, 10**6)[1] > 0
    lo, hi = wilson(10, 100)
    assert lo == pytest.approx(0.0552, abs=1e-4) and hi == pytest.approx(0.1744, abs=1e-4)


def test_phases_open_floor_fractions_and_the_last_takes_the_rest() -> None:
    r = regime_of({"territory": {"cells": 10}, "hidden_sites": {"k": 1},
                   "phases": [{"opens": 0.35}, {"opens": 0.35, "name": "b"}, {"opens": 0.3}]})
    assert [(p.name, p.count) for p in r.phases] == [("phase-1", 3), ("b", 3), ("phase-3", 4)]
    assert r.cell_arrays()[0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    partial = regime_of({"territory": {"cells": 10}, "hidden_sites": {"k": 1}, "phases": [{"opens": 0.35}, {"opens": 0.35}]})
    assert partial.cell_arrays()[0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]  # 2: never opened


def test_a_phase_may_name_its_cells_and_the_fraction_phases_take_the_others_in_order() -> None:
    r = regime_of({"territory": {"cells": 10}, "hidden_sites": {"k": 1},
                   "phases": [{"opens": 0.3}, {"cells": [0, 9]}, {"opens": 0.5}],
                   "declared_sites": {"cells": [4, 5]}})
    opened_at, declared = r.cell_arrays()
    assert opened_at.tolist() == [1, 0, 0, 0, 2, 2, 2, 2, 2, 1] and declared.tolist() == [False] * 4 + [True] * 2 + [False] * 4
    assert [p.count for p in r.phases] == [3, 2, 5] and r.pool(1) == 5


HOSTILE = [
    ({"extra": 1}, "$.extra"),
    ({"territory": {"cells": 0}}, "territory.cells"),
    ({"territory": {"cells": 10, "cells_file": "x"}}, "territory"),
    ({"territory": {"cells": True}}, "territory.cells"),
    ({"hidden_sites": {"k": 0}}, "hidden_sites.k"),
    ({"hidden_sites": {"k": 2, "strategy": "sneaky"}}, "hidden_sites.strategy"),
    ({"hidden_sites": {"k": 2, "strategy": {"cells": [1, 1]}}}, "hidden_sites.strategy.cells[1]"),
    ({"hidden_sites": {"k": 2, "strategy": {"cells": [1]}}}, "hidden_sites.strategy.cells"),
    ({"hidden_sites": {"k": 1, "strategy": {"cells": [99999]}}}, "hidden_sites.strategy.cells[0]"),
    ({"detection_probability": 1.5}, "detection_probability"),
    ({"detection_probability": "1"}, "detection_probability"),
    ({"phases": []}, "phases"),
    ({"phases": [{"opens": 0.7}, {"opens": 0.4}]}, "phases[1].opens"),
    ({"phases": [{"opens": 0.5, "inspections": -1}]}, "phases[0].inspections"),
    ({"phases": [{"opens": 0.5, "from": "declared"}]}, "phases[0].from"),
    ({"phases": [{"opens": 0.5, "from": "nowhere"}]}, "phases[0].from"),
    ({"phases": [{"opens": 0.001, "inspections": 12}]}, "phases[0].inspections"),
    ({"phases": [{"opens": 0.5, "colour": "red"}]}, "phases[0].colour"),
    ({"phases": [{"opens": 0.5, "name": "a"}, {"opens": 0.5, "name": "a"}]}, "phases[1].name"),
    ({"phases": [{"opens": 0.5}] * 101}, "phases"),
    ({"declared_sites": {"count": 5, "where": "x"}}, "declared_sites.where"),
    ({"declared_sites": {"count": 5, "cells": [1]}}, "declared_sites"),
    ({"declared_sites": {"cells": [1, 1]}}, "declared_sites.cells[1]"),
    ({"phases": [{"opens": 0.5, "cells": [1]}]}, "phases[0]"),
    ({"phases": [{"cells": [1, 2]}, {"cells": [3, 2]}]}, "phases[1].cells[1]"),
    ({"phases": [{"cells": "all"}]}, "phases[0].cells"),
    ({"phases": [{"cells": [-1]}]}, "phases[0].cells[0]"),
    ({"phases": [{"opens": 0.9995}, {"cells": [1, 2, 3, 4]}]}, "phases[1].cells"),
    ({"intel": {"coverage": -0.1}}, "intel.coverage"),
    ({"intel": {"coverage": 0.5, "phase": 9}}, "intel.phase"),
    ({"hidden_sites": {"k": 900, "strategy": "last-phase"}}, "hidden_sites.strategy"),
]


@pytest.mark.parametrize(("change", "where"), HOSTILE)
def test_a_bad_regime_is_refused_naming_the_field(change: dict[str, Any], where: str) -> None:
    doc = copy.deepcopy(BASE)
    doc.update(change)
    with pytest.raises(MalformedInputError) as caught:
        regime_of(doc)
    assert caught.value.where == where.removeprefix("$.")


def test_regime_files_yaml_json_and_cells_file(tmp_path: Path) -> None:
    (tmp_path / "cells.txt").write_text("a\nb\nc\nd\n")
    (tmp_path / "r.yaml").write_text("territory: {cells_file: cells.txt}\nhidden_sites: {k: 1, strategy: {cells: [c]}}\n"
                                      "phases:\n  - {opens: 1, inspections: 2}\n")
    r = read_regime(tmp_path / "r.yaml")
    assert r.cells == 4 and r.hidden_cells == (2,) and exact_detection(r) == [pytest.approx(0.5)]
    (tmp_path / "r.json").write_text(json.dumps(BASE))
    assert read_regime(tmp_path / "r.json").cells == 3249
    for text, where in [("territory: {cells: 1}\nterritory: {cells: 2}\n", "line 2"), ("[1, 2]\n", "must be an object"),
                        ("territory: {cells: 0x10}\n", "line 1")]:
        (tmp_path / "bad.yaml").write_text(text)
        with pytest.raises(MalformedInputError) as caught:
            read_regime(tmp_path / "bad.yaml")
        assert caught.value.source == str(tmp_path / "bad.yaml") and where in str(caught.value)
    (tmp_path / "dup.txt").write_text("a\na\n")
    (tmp_path / "d.json").write_text(json.dumps({**BASE, "territory": {"cells_file": "dup.txt"}}))
    with pytest.raises(MalformedInputError, match="twice"):
        read_regime(tmp_path / "d.json")
    (tmp_path / "big.json").write_bytes(b" " * (2 << 20))
    with pytest.raises(MalformedInputError, match="limit"):
        read_regime(tmp_path / "big.json")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MalformedInputError):
        read_regime(tmp_path / "deep.json")


def test_a_cells_file_names_cells_by_id_in_phases_and_declared_sites(tmp_path: Path) -> None:
    (tmp_path / "cells.txt").write_text("".join(f"c{i:02d}\n" for i in range(20)))
    doc = {"territory": {"cells_file": "cells.txt"}, "hidden_sites": {"k": 2, "strategy": "last-phase"},
           "phases": [{"cells": ["c19", "c18"], "inspections": 2}, {"opens": 0.5, "inspections": 3, "from": "declared"},
                      {"cells": ["c00", "c01", "c02"], "inspections": 4, "from": "all"}],
           "declared_sites": {"cells": ["c05", "c06", "c07"]}}
    (tmp_path / "r.json").write_text(json.dumps(doc))
    r = read_regime(tmp_path / "r.json")
    opened_at, declared = r.cell_arrays()
    assert opened_at.tolist()[:3] == [2, 2, 2] and opened_at.tolist()[18:] == [0, 0] and declared.sum() == 3
    assert r.placement_cells().tolist() == [0, 1, 2]
    exact = exact_detection(r)
    assert exact is not None and exact[:2] == [0.0, 0.0]
    assert exact[2] == pytest.approx(1 - 18 * 17 * 16 * 15 / (20 * 19 * 18 * 17))  # 4 of 20, both hidden missed
    doc["phases"][0]["cells"] = ["c19", "nope"]
    (tmp_path / "r.json").write_text(json.dumps(doc))
    with pytest.raises(MalformedInputError) as caught:
        read_regime(tmp_path / "r.json")
    assert caught.value.where == "phases[0].cells[1]" and caught.value.source == str(tmp_path / "r.json")


def test_a_phase_may_open_a_named_region_of_an_h3_territory(tmp_path: Path) -> None:
    """``region: {parents: [...]}``: every territory cell inside those H3 parents, in cell order,
    but those an earlier phase names; the model and the exact answer follow the region."""
    import h3

    north, south = "851f9213fffffff", "851f9207fffffff"  # two resolution-5 cells
    cells = sorted([*h3.cell_to_children(north, 7), *h3.cell_to_children(south, 7)])
    (tmp_path / "cells.txt").write_text("".join(c + "\n" for c in cells))
    doc: dict[str, Any] = {"territory": {"cells_file": "cells.txt"}, "hidden_sites": {"k": 3, "strategy": "uniform"},
                           "phases": [{"region": {"parents": [south]}, "inspections": 5},
                                      {"opens": 1.0 - 49 / 98, "inspections": 5}]}
    (tmp_path / "r.json").write_text(json.dumps(doc))
    r = read_regime(tmp_path / "r.json")
    opened_at, _ = r.cell_arrays()
    in_south = [i for i, c in enumerate(cells) if h3.cell_to_parent(c, 5) == south]
    assert sorted(np.flatnonzero(opened_at == 0).tolist()) == in_south and len(in_south) == 49
    assert sorted(np.flatnonzero(opened_at == 1).tolist()) == [i for i in range(98) if i not in in_south]
    exact = exact_detection(r)
    assert exact is not None
    within(monte_carlo(r, 200_000), exact)
    for change, where in (
        ({"region": {"parents": ["not-h3"]}, "inspections": 1}, "phases[0].region.parents[0]"),
        ({"region": {"parents": []}, "inspections": 1}, "phases[0].region.parents"),
        ({"region": {"parents": [north], "polygon": 1}, "inspections": 1}, "phases[0].region.polygon"),
        ({"region": {"parents": ["8928308280fffff"]}, "inspections": 1}, "phases[0].region"),  # holds no territory cell
        ({"region": {"parents": [south]}, "opens": 0.1}, "phases[0]"),
    ):
        (tmp_path / "bad.json").write_text(json.dumps({**doc, "phases": [change]}))
        with pytest.raises(MalformedInputError) as caught:
            read_regime(tmp_path / "bad.json")
        assert caught.value.where == where, (change, caught.value)
    listed = {**doc, "territory": {"cells": 98}}
    with pytest.raises(MalformedInputError) as caught:
        regime_of(listed)
    assert caught.value.where == "phases[0].region"
