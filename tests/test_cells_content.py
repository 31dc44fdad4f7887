"""cells.txt (spec §1) and cell content rules (spec §2, §10)."""

from __future__ import annotations

import h3
import pytest

from unveil.core import cells
from unveil.core.content import DeclarationIndex, GridRules, check_shape, content_problems, earlier_phase_problems
from unveil.core.vocabulary import V1
from unveil.errors import MalformedInputError

H3_CELLS = sorted(h3.cell_to_children(h3.latlng_to_cell(45.0, 10.0, 5), 7))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbfa\n", "byte order mark"),
        (b"a\r\nb\r\n", "carriage return"),
        (b"a\nb", "does not end"),
        (b"a\n\xc3\xa9\n", "non-ASCII"),
    ],
    ids=["empty", "bom", "crlf", "no-final-newline", "non-ascii"],
)
def test_cell_file_format_errors(data: bytes, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message):
        cells.read(data, source="cells.txt")


def test_cell_file_round_trip_and_hash() -> None:
    data = cells.render(H3_CELLS)
    parsed = cells.read(data)
    assert parsed.cells == tuple(H3_CELLS) and cells.render(parsed.cells) == data
    import hashlib

    assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    assert cells.problems(parsed, "h3", 7) == []


@pytest.mark.parametrize(
    ("lines", "system", "resolution", "message"),
    [
        (["b", "a"], "list", None, "line 2"),
        (["a", "a"], "list", None, "line 2"),
        (["a b"], "list", None, "not a cell id"),
        (["x" * 65], "list", None, "longer than 64"),
        ([H3_CELLS[1], H3_CELLS[0]], "h3", 7, "line 2"),
        ([H3_CELLS[0].upper()], "h3", 7, "hex H3"),
        ([h3.cell_to_parent(H3_CELLS[0], 6)], "h3", 7, "resolution 7"),
        ([H3_CELLS[0][:-1] + "e"], "h3", 7, "not a valid H3 cell"),
    ],
    ids=["unsorted", "repeated", "bad-id", "too-long", "h3-unsorted", "uppercase", "wrong-resolution", "invalid-h3"],
)
def test_cell_list_problems(lines: list[str], system: str, resolution: int | None, message: str) -> None:
    found = cells.problems(cells.CellList(tuple(lines), ""), system, resolution)
    assert found and message in " ".join(found)


CELL = H3_CELLS[3]
GRID = GridRules("h3", 7)


def site(**overrides: object) -> dict:
    lat, lon = h3.cell_to_latlng(CELL)
    base = {"id": "S-1", "kind": "reactor", "lat": lat, "lon": lon, "items": []}
    base.update(overrides)
    return base


def reasons(content: dict, vocabulary=V1) -> list[str]:  # type: ignore[no-untyped-def]  # test helper
    check_shape(content, "content")
    return [r for r, _ in content_problems(content, CELL, GRID, vocabulary)]


def test_valid_content_has_no_problems() -> None:
    items = [{"category": "heu", "quantity": 41.5, "unit": "kg", "type": "90%"},
             {"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-1", "W-2"]}]
    assert reasons({"cell": CELL, "sites": [site(items=items), site(id="S-2", name="Annex")]}) == []


@pytest.mark.parametrize(
    ("sites", "reason"),
    [
        ([site(id="S-2"), site(id="S-1")], "site-order"),
        ([site(id="S 1")], "site-id-invalid"),
        ([site(kind="bunker")], "kind-unknown"),
        ([site(name="")], "field-empty"),
        ([site(lat=91.0)], "coordinates-out-of-range"),
        ([{k: v for k, v in site().items() if k != "lat"}], "coordinates-missing"),
        ([site(lat=0.0, lon=0.0)], "site-outside-cell"),
        ([site(items=[{"category": "missile", "quantity": 1, "unit": "count"}, {"category": "launcher", "quantity": 1, "unit": "count"}])], "item-order"),
        ([site(items=[{"category": "uranium", "quantity": 1, "unit": "kg"}])], "category-unknown"),
        ([site(items=[{"category": "heu", "quantity": 1, "unit": "g"}])], "unit-mismatch"),
        ([site(items=[{"category": "heu", "quantity": -1, "unit": "kg"}])], "quantity-invalid"),
        ([site(items=[{"category": "warhead", "quantity": 1.5, "unit": "count"}])], "quantity-invalid"),
        ([site(items=[{"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-1"]}])], "serials-mismatch"),
        ([site(items=[{"category": "heu", "quantity": 1, "unit": "kg", "serials": ["W-1"]}])], "serials-mismatch"),
        ([site(items=[{"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-2", "W-1"]}])], "serials-order"),
        ([site(items=[{"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W 1"]}])], "serial-invalid"),
    ],
)
def test_each_rule(sites: list[dict], reason: str) -> None:
    assert reason in reasons({"cell": CELL, "sites": sites})


def test_content_cell_must_be_the_opened_cell() -> None:
    assert "content-cell-mismatch" in reasons({"cell": H3_CELLS[4], "sites": []})


def test_unknown_vocabulary_skips_only_vocabulary_checks() -> None:
    content = {"cell": CELL, "sites": [site(kind="bunker", items=[{"category": "x", "quantity": 1.5, "unit": "count"}])]}
    assert reasons(content, vocabulary=None) == ["quantity-invalid"]


def test_list_grid_needs_no_coordinates_but_both_or_none() -> None:
    content = {"cell": "depot-1", "sites": [{"id": "D", "kind": "other", "items": [], "lat": 1.0}]}
    check_shape(content, "c")
    assert [r for r, _ in content_problems(content, "depot-1", GridRules("list"), V1)] == ["coordinates-missing"]
    content["sites"][0].pop("lat")
    assert content_problems(content, "depot-1", GridRules("list"), V1) == []


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ({"cell": CELL}, "missing required field 'sites'"),
        ({"cell": CELL, "sites": [], "note": 1}, "unknown field 'note'"),
        ({"cell": CELL, "sites": [site(lat="1")]}, "content.sites[0].lat"),
        ({"cell": CELL, "sites": [site(items=[{"category": "heu", "quantity": True, "unit": "kg"}])]}, "items[0].quantity"),
        ({"cell": CELL, "sites": [site(ext=[])]}, "content.sites[0].ext"),
    ],
    ids=["missing", "unknown", "lat-string", "quantity-bool", "ext-array"],
)
def test_shape_errors_name_the_field(content: dict, where: str) -> None:
    with pytest.raises(MalformedInputError, match=__import__("re").escape(where)):
        check_shape(content, "content")


def test_declaration_index_finds_duplicates_across_cells_but_not_reopenings() -> None:
    index = DeclarationIndex()
    a = {"cell": "a", "sites": [{"id": "S", "kind": "other", "items": [{"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W"]}]}]}
    assert index.add(a) == []
    assert index.add(a) == []  # the same cell opened again
    b = {"cell": "b", "sites": [{"id": "S", "kind": "other", "items": []}, {"id": "T", "kind": "other", "items": [{"category": "warhead", "quantity": 1, "unit": "count", "serials": ["W"]}]}]}
    assert sorted(r for r, _ in index.add(b)) == ["serial-duplicate", "site-id-duplicate"]


def test_ids_of_a_bundle_against_earlier_phases() -> None:
    """Spec §5 "One declaration across phases": the pure check names the opening and the
    earlier phase, leaves the earlier ids unchanged, and takes a cell opened again as itself."""
    def content(cell: str, site: str, serials: list[str]) -> dict:  # type: ignore[type-arg]
        return {"cell": cell, "sites": [{"id": site, "kind": "other", "items": [
            {"category": "warhead", "quantity": len(serials), "unit": "count", "serials": serials}]}]}

    earlier = DeclarationIndex()
    assert earlier.add(content("c-1", "S-1", ["W-1", "W-2"]), "phase-1") == []
    assert earlier.add({"cell": "c-9", "suspects": [{"id": "Q-1"}]}, "challenge") == []
    before = (dict(earlier.sites), dict(earlier.serials))
    found = earlier_phase_problems(earlier, [
        (4, content("c-1", "S-1", ["W-1", "W-2"])),  # the same cell again: no repeat
        (7, content("c-2", "S-2", ["W-2"])),  # W-2 again, in another cell
        (8, content("c-3", "S-1", [])),  # S-1 again, in another cell
        (9, {"cell": "c-4", "suspects": [{"id": "Q-1"}]}),
        (10, {"cell": "c-5", "sites": []}),
    ])
    assert [(i, str(r)) for i, r, _ in found] == [(7, "serial-duplicate"), (8, "site-id-duplicate"), (9, "suspect-id-duplicate")]
    assert all("'phase-1'" in d for _, _, d in found[:2]) and "'challenge'" in found[2][2]
    assert (earlier.sites, earlier.serials) == before
    assert earlier_phase_problems(DeclarationIndex(), [(7, content("c-2", "S-2", ["W-2"]))]) == []
