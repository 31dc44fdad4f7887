"""Fuzzing cell lists (spec §1), region selectors (``--region``, ``--cells``, ``--bbox``) and
populations (spec §8): any input gives a value or a MalformedInputError; cell lists round trip.
"""

from __future__ import annotations

from pathlib import Path

import h3
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import TOKENS, fuzz, mutated_bytes, mutated_str, outcome
from unveil.core import cells as cell_file
from unveil.geo.regions import select_indices
from unveil.geo.territory import bbox
from unveil.workspace.coins import read_population

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
H3_CELLS = (VECTORS / "h3/cells.txt").read_bytes()
LIST_CELLS = (VECTORS / "list/cells.txt").read_bytes()
COMMITTED = cell_file.read(H3_CELLS).cells
RESOLUTION = h3.get_resolution(COMMITTED[0])
CELL_TOKENS = [*TOKENS, b"\n", b"\n\n", b"861f8d6cfffffff\n", b"861F8D6CFFFFFFF", b"c-001\n", b"x" * 65]


def read_and_check(data: bytes) -> None:
    cell_list = outcome(cell_file.read, data, source="cells.txt", where=False)
    if isinstance(cell_list, cell_file.CellList):
        assert cell_file.render(cell_list.cells) == data  # the file is exactly its lines
        for system, resolution in (("h3", RESOLUTION), ("h3", None), ("h3", 16), ("h3", -1), ("list", None)):
            problems = cell_file.problems(cell_list, system, resolution)
            assert all(isinstance(p, str) and p.startswith("line ") for p in problems)


@fuzz(50)
@given(st.binary(max_size=120) | st.sampled_from([H3_CELLS, LIST_CELLS]).flatmap(lambda seed: mutated_bytes(seed, tokens=CELL_TOKENS)))
def test_cell_lists(data: bytes) -> None:
    read_and_check(data)


@fuzz(25)
@given(st.lists(st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True), min_size=1, max_size=20, unique=True))
def test_cell_lists_render_and_read_back(cells: list[str]) -> None:
    ordered = sorted(cells)
    cell_list = cell_file.read(cell_file.render(ordered))
    assert list(cell_list.cells) == ordered
    assert cell_file.problems(cell_list, "list", None) == []


@fuzz(30)
@given(st.lists(st.sampled_from(COMMITTED) | st.sampled_from([h3.cell_to_parent(COMMITTED[0], r) for r in range(RESOLUTION + 1)]).flatmap(lambda c: st.just(c) | mutated_str(c)) | st.text(max_size=20), max_size=4))
def test_region_parents_and_cell_lists(selectors: list[str]) -> None:
    for option in ("parents", "cell_list"):
        indices = outcome(select_indices, COMMITTED, RESOLUTION, **{option: selectors})
        if isinstance(indices, list):
            assert indices == sorted(set(indices)) and all(0 <= i < len(COMMITTED) for i in indices)


@fuzz(50)
@given(st.lists(st.sampled_from(["10.0", "45.0", "10.5", "45.3", "-180", "180", "90", "-90.5", "1e400", "nan", "", " ", ",", "1e-400", "0x1", "١٢"]) | st.text(max_size=6), max_size=6).map(",".join) | st.text(max_size=30))
def test_bbox_option(text: str) -> None:
    box = outcome(bbox, text, names="--bbox")
    if not isinstance(box, Exception):
        indices = outcome(select_indices, COMMITTED, RESOLUTION, bbox=box)
        assert isinstance(indices, Exception) or indices == sorted(set(indices))


@fuzz(30)
@given(st.text(st.characters(codec=None), max_size=80) | st.lists(st.sampled_from(["S-1", "S-2", "s-1", "S-1 ", "\u00e9", "x" * 65, "", "\r", "\n", "\x85", "\u2028"]), max_size=8).map("\n".join))
def test_populations(text: str) -> None:
    ids = outcome(read_population, text, "population.txt", names="population.txt")
    if isinstance(ids, list):
        assert ids == sorted(set(ids), key=str.encode)
