"""What the fuzz properties found, each kept as a named test with its minimal input."""

from __future__ import annotations

import copy
import gc
import json

import pytest

from unveil.core.jcs import canonicalize
from unveil.core.jsonparse import loads
from unveil.errors import MalformedInputError

# --- doubles that JCS writes as integer tokens beyond ±(2^53−1) (spec §0) ---------------------


@pytest.mark.parametrize("token", ["1e16", "-1e16", "9007199254740992.0", "9.99e20", "123456789012345678901.5"])
def test_a_double_whose_jcs_form_is_an_unreadable_integer_is_refused(token: str) -> None:
    """Found by test_fuzz_json: ``1e16`` read, but its JCS form ``10000000000000000`` did not."""
    with pytest.raises(MalformedInputError, match="beyond ±\\(2\\^53−1\\) once written in JCS form"):
        loads(f'{{"quantity": {token}}}', source="in.json")


@pytest.mark.parametrize("token", ["9007199254740991.0", "1e21", "-1e21", "1.5e300", "0.5"])
def test_doubles_whose_jcs_form_reads_back_are_kept(token: str) -> None:
    value = loads(f"[{token}]")
    assert loads(canonicalize(value)) == value


def test_a_host_cannot_publish_an_event_that_stops_the_board_from_reopening() -> None:
    """Before the fix the board accepted an escrow with totals 4e16, stored ``JCS(event)``
    (``40000000000000000``), and could then never reopen: replaying its own entry failed."""
    from tests.test_board_core import BOARD, DECL, HOST, NOW, ORIGIN, PARTIES, event
    from unveil.board.log import Log, MemoryStorage
    from unveil.core.statements import sign_statement
    from unveil.errors import BoardRefused

    storage = MemoryStorage()
    log = Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW)
    statement = copy.deepcopy(DECL.statement)
    statement["totals"] = {"warhead": {"quantity": 4.0, "unit": "count"}}
    text = json.dumps(event("escrow.published", {"escrow": sign_statement(statement, [HOST])})).replace("4.0", "4e16")
    with pytest.raises(BoardRefused) as caught:
        log.submit(text.encode())
    assert caught.value.reason == "malformed" and "4e16" in str(caught.value)
    assert Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW).size == 0  # still opens


def test_text_cells_refuse_such_doubles_too() -> None:
    """CSV declarations and intelligence read numbers as the JSON grammar: same rule (§0)."""
    from unveil.textformats.numbers import text_number

    with pytest.raises(MalformedInputError, match="line 2, column quantity: quantity 1e16 is an integer beyond"):
        text_number("1e16", "line 2, column quantity", "quantity")
    assert text_number("1e21", "line 2", "quantity") == 1e21


# --- populations (spec §8) ---------------------------------------------------------------------


def test_a_population_with_a_lone_surrogate_is_refused_not_a_unicode_error() -> None:
    """Found by test_fuzz_cells: sorting by UTF-8 bytes raised UnicodeEncodeError."""
    from unveil.workspace.coins import read_population

    with pytest.raises(MalformedInputError, match="population.txt: population\\[0\\] '\\\\ud800' is not an id"):
        read_population("\ud800", "population.txt")



# --- integers of 4300 digits and more: int() refuses to convert them (ValueError) -------------


def test_a_checkpoint_size_of_5000_digits_is_malformed() -> None:
    """Found by test_fuzz_notes (spec §7: the size is at most 2^63−1)."""
    from unveil.core.notes import Checkpoint

    with pytest.raises(MalformedInputError, match="exceeds 2\\^63−1"):
        Checkpoint.parse("board.example\n" + "9" * 5000 + "\n" + "A" * 43 + "=\n")


@pytest.mark.parametrize("source", ["d.csv", "d.yaml"])
def test_a_declared_quantity_of_5000_digits_is_malformed(source: str) -> None:
    """Found by test_fuzz_declarations (spec §0: integers within ±(2^53−1))."""
    from unveil.declaration import read_declaration

    huge = "9" * 5000
    data = (f"site_id,kind,lat,lon,category,quantity,unit\nS-1,other,1,1,warhead,{huge},count\n" if source == "d.csv" else
            f"sites:\n- {{id: S-1, kind: other, lat: 1, lon: 1, items: [{{category: warhead, unit: count, quantity: {huge}}}]}}\n")
    with pytest.raises(MalformedInputError, match=f"{source}: line 2.* 9{{24}}… is outside ±"):
        read_declaration(data.encode(), source=source)


def test_an_intelligence_estimate_of_5000_digits_is_malformed() -> None:
    from unveil.inspection.intel import read_intel

    data = f"id,kind,lat,lon,radius_m,confidence,min:warhead\nX-1,other,1,1,500,0.5,{'9' * 5000}\n"
    with pytest.raises(MalformedInputError, match="i.csv: line 2, column min:warhead: min:warhead 9+… is outside"):
        read_intel(data.encode(), source="i.csv")


@pytest.mark.parametrize("declared", ["9" * 5000, "0" * 5000 + "1"])
def test_a_content_length_of_5000_digits_is_answered_not_raised(declared: str) -> None:
    import asyncio

    from unveil.api.bodies import receive_body
    from unveil.api.errors import status_of
    from unveil.errors import BoardRefused

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    if declared.startswith("9"):
        with pytest.raises(BoardRefused) as caught:
            asyncio.run(receive_body(declared, receive, 1024))
        assert status_of(caught.value.reason) == 413
    else:
        assert asyncio.run(receive_body(declared, receive, 1024)) == b"{}"


# --- YAML declarations nest at most 64 deep, as every document does (spec §0) ----------------


def _yaml_with_ext(depth: int, style: str) -> bytes:
    """A declaration whose document nests ``depth`` deep: sites (2), the site (3), ext and
    ``depth - 3`` more levels inside it, in flow (``{a: {a: 1}}``) or block style."""
    inner = depth - 3
    if style == "flow":
        ext = "{a: " * inner + "1" + "}" * inner
        return f"sites: [{{id: S-1, kind: other, lat: 1, lon: 1, items: [], ext: {ext}}}]\n".encode()
    lines = ["sites:", "- id: S-1", "  kind: other", "  lat: 1", "  lon: 1", "  items: []", "  ext:"]
    lines += ["  " * (level + 2) + "a:" for level in range(inner)]
    lines[-1] += " 1"
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("style", ["flow", "block"])
def test_a_yaml_declaration_nesting_65_deep_is_refused(style: str) -> None:
    """Found by test_fuzz_declarations: YAML read documents 300 deep (libyaml stops at 1000)."""
    from unveil.declaration import read_declaration

    assert read_declaration(_yaml_with_ext(64, style), source="d.yaml").sites[0]["ext"]["a"]
    with pytest.raises(MalformedInputError, match="d.yaml: line 1 column .*nest more than 64 deep.*spec §0|d.yaml: line .*nest more than 64 deep"):
        read_declaration(_yaml_with_ext(65, style), source="d.yaml")
    with pytest.raises(MalformedInputError, match="d.yaml: line"):
        read_declaration(_yaml_with_ext(5000, style), source="d.yaml")


# --- territories (GeoJSON, RFC 7946) -----------------------------------------------------------

_POLYGON = {"type": "Polygon", "coordinates": [[[10, 45], [11, 45], [11, 46], [10, 45]]]}


@pytest.mark.parametrize("kind", [[], {}, [["Polygon"]]])
def test_a_territory_whose_type_is_not_a_string_is_malformed(kind: object) -> None:
    """Found by test_fuzz_geo: ``"type": []`` raised TypeError (unhashable type: 'list')."""
    from unveil.geo.territory import read_territory

    with pytest.raises(MalformedInputError, match="t.geojson: type: unknown GeoJSON type"):
        read_territory(json.dumps({**_POLYGON, "type": kind}).encode(), source="t.geojson")
    feature = {"type": "Feature", "properties": None, "geometry": {**_POLYGON, "type": kind}}
    with pytest.raises(MalformedInputError, match="t.geojson: geometry.type: unknown GeoJSON type"):
        read_territory(json.dumps(feature).encode(), source="t.geojson")


@pytest.mark.parametrize("properties", [[], None, "CRS84", 1])
def test_a_territory_crs_whose_properties_are_not_an_object_is_malformed(properties: object) -> None:
    """Found by test_fuzz_geo: ``"crs": {"properties": null}`` raised AttributeError."""
    from unveil.geo.territory import read_territory

    with pytest.raises(MalformedInputError, match="t.geojson: crs: names a coordinate system other than WGS84"):
        read_territory(json.dumps({**_POLYGON, "crs": {"type": "name", "properties": properties}}).encode(), source="t.geojson")


# --- an h3 escrow whose resolution is outside 0..15 (spec §1, §4) -------------------------------


@pytest.mark.parametrize("resolution", [16, -1, 2**53 - 1])
def test_a_bundle_under_an_escrow_with_resolution_outside_0_15_is_invalid_not_an_h3_error(resolution: int, tmp_path) -> None:
    """Found by make fuzz (test_a_re_signed_changed_escrow_is_not_valid): locating a site in
    its cell at resolution 16 raised h3's H3ResDomainError out of check_bundle and verify."""
    from pathlib import Path

    from tests.fuzz.test_fuzz_bundles import SIGNERS
    from unveil.cli.main import main
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.statements import sign_statement
    from unveil.core.verify import check_bundle

    vectors = Path(__file__).resolve().parent.parent / "vectors" / "h3"
    escrow = loads((vectors / "escrow.json").read_bytes())
    host = SIGNERS[escrow["signatures"][0]["vkey"]]
    statement = {**escrow["statement"], "grid": {**escrow["statement"]["grid"], "resolution": resolution}}
    signed = sign_statement(statement, [host])
    bundle = (vectors / "bundles" / "valid.json").read_bytes()
    report = check_bundle(parse_signed(signed), parse_signed(loads(bundle)), cell_file.read((vectors / "cells.txt").read_bytes()), trusted=[host.vkey])
    assert report.status == "invalid"
    assert {p.reason for p in report.problems} >= {"escrow-invalid", "cells-invalid"}
    (tmp_path / "escrow.json").write_text(json.dumps(signed))
    try:
        code = main(["verify", str(vectors / "bundles" / "valid.json"), "--escrow", str(tmp_path / "escrow.json"),
                     "--cells", str(vectors / "cells.txt"), "--trust", host.vkey, "--json"])
    finally:
        gc.enable()  # verify turns the cycle collector off for its own short process
    assert code == 1
