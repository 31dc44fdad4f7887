"""``unveil material balance --workspace W [--flows FILE] [--uncertainties FILE]``: inventories
from the declarations a workspace recorded, phase by phase; flows between them; the default
uncertainty table and a file that overrides it (spec §13)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.workflow_fixtures import cli
from unveil.core import cells as cell_file
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.verify import check_bundle
from unveil.workspace import host
from unveil.workspace.records import record_verification
from unveil.workspace.workspace import create

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FLOWS = "period,category,kind,quantity,sigma_random,sigma_systematic\ndecl-1,plutonium,shipment,0.5,,\ndecl-1,heu,receipt,0.2,0.01,0.005\n"


def _site(site_id: str, kind: str, pu: float, heu: float | None = None) -> dict[str, object]:
    items: list[dict[str, object]] = [] if heu is None else [{"category": "heu", "quantity": heu, "unit": "kg"}]
    return {"id": site_id, "kind": kind, "items": [*items, {"category": "plutonium", "quantity": pu, "unit": "kg"}]}


def declarations(tmp: Path, inventories: list[tuple[float, float]], *, last_complete: bool = True) -> Path:
    """An inspector workspace that verified one list-grid declaration a quarter (cells A, B, C;
    plutonium at A and C, 2 kg of HEU at A), each opened in two phases; the last one's second
    phase is missing unless ``last_complete``."""
    host_ws, inspector = create(tmp / "host", "host", "Host"), create(tmp / "inspector", "inspector", "Inspector")
    for n, (pu_a, pu_c) in enumerate(inventories):
        escrow_id, out, when = f"decl-{n}", tmp / f"decl-{n}", T0 + timedelta(days=90 * n)
        out.mkdir()
        contents = {"A": {"cell": "A", "sites": [_site("S-1", "reprocessing", pu_a, 2.0)]},
                    "C": {"cell": "C", "sites": [_site("S-2", "weapons-storage", pu_c)]}}
        host.commit(host_ws, escrow_id=escrow_id, cells=["A", "B", "C"], resolution=None, contents=contents, out=out, now=when)
        escrow_json, cells_txt = (out / "escrow.json").read_bytes(), (out / "cells.txt").read_bytes()
        phases = [("p1", [0]), ("p2", [1, 2])]
        if n == len(inventories) - 1 and not last_complete:
            phases = phases[:1]
        for k, (phase, indices) in enumerate(phases):
            path = out / f"{phase}.json"
            host.reveal(host_ws, escrow_id=escrow_id, phase=phase, indices=indices, out=path, now=when + timedelta(hours=k))
            bundle = path.read_bytes()
            report = check_bundle(parse_signed(loads(escrow_json)), parse_signed(loads(bundle)), cell_file.read(cells_txt),
                                  leaves=None, trusted=[host_ws.vkey])
            assert report.valid
            record_verification(inspector, report, [], escrow_json=escrow_json, cells_txt=cells_txt, bundle=bundle, leaves=None,
                                territory_geojson=None, now=when + timedelta(hours=k))
    return tmp / "inspector"


def test_inventories_come_from_the_recorded_declarations_phase_by_phase(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = declarations(tmp_path, [(10, 4.5), (9.5, 4.4), (9.0, 4.2)], last_complete=False)
    (tmp_path / "flows.csv").write_text(FLOWS)
    code, out = cli(capsys, "material", "balance", "--workspace", str(ws), "--flows", str(tmp_path / "flows.csv"), "--trials", "2000")
    assert code == 0, out
    found = {d["escrow_id"]: d for d in out["declarations"]}
    assert found["decl-0"]["inventory_kg"] == {"heu": 2, "plutonium": 14.5} and found["decl-0"]["complete"] is True
    assert [p["opened_kg"] for p in found["decl-0"]["phases"]] == [{"heu": 2, "plutonium": 10}, {"plutonium": 4.5}]
    assert found["decl-2"]["complete"] is False and found["decl-2"]["inventory_kg"] == {"heu": 2, "plutonium": 9}
    pu = [p for p in out["periods"] if p["category"] == "plutonium"]
    assert [p["period"] for p in pu] == ["decl-1"]  # the incomplete declaration closes no period yet
    assert pu[0]["muf"] == pytest.approx(14.5 - 0.5 - 13.9)
    # σ by the default table: 0.5 % random, 0.3 % systematic of each quantity; the two
    # inventories' systematic errors are one error (the same kind), the shipment's its own
    r, s = 0.005, 0.003
    variance = (r * 14.5) ** 2 + (r * 0.5) ** 2 + (r * 13.9) ** 2 + (s * 14.5 - s * 13.9) ** 2 + (s * 0.5) ** 2
    assert pu[0]["sigma_muf"] == pytest.approx(math.sqrt(variance))
    heu = [p for p in out["periods"] if p["category"] == "heu"]
    assert heu[0]["muf"] == pytest.approx(0.2) and heu[0]["sigma_muf"] == pytest.approx(math.sqrt(2 * (r * 2) ** 2 + 0.01**2 + 0.005**2))
    assert {(u["category"], u["kind"]) for u in out["uncertainties"]} >= {("plutonium", "inventory"), ("heu", "shipment")}


def test_an_uncertainty_file_overrides_the_default_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = declarations(tmp_path, [(10, 4.5), (9.5, 4.4)])
    table = tmp_path / "u.csv"
    table.write_text("category,kind,relative_random,relative_systematic\nplutonium,inventory,0.01,0\n")
    code, out = cli(capsys, "material", "balance", "--workspace", str(ws), "--uncertainties", str(table), "--trials", "2000")
    assert code == 0
    pu = next(p for p in out["periods"] if p["category"] == "plutonium")
    assert pu["muf"] == pytest.approx(0.6) and pu["sigma_muf"] == pytest.approx(math.hypot(0.01 * 14.5, 0.01 * 13.9))


@pytest.mark.parametrize("flows, named", [
    ("period,category,kind,quantity,sigma_random,sigma_systematic\ndecl-9,plutonium,shipment,0.5,,\n", "line 2, column period"),
    ("period,category,kind,quantity,sigma_random,sigma_systematic\ndecl-1,plutonium,end,0.5,,\n", "line 2, column kind"),
    ("period,category,kind,quantity,sigma_random,sigma_systematic\ndecl-1,tritium,receipt,0.5,,\n", "no uncertainty for tritium receipt"),
    ("period,category,kind,quantity,sigma_random,sigma_systematic\ndecl-1,plutonium,receipt,nan,,\n", "line 2, column quantity"),
], ids=["unknown-period", "inventory-in-flows", "no-default-sigma", "nan"])
def test_bad_flows_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, flows: str, named: str) -> None:
    ws = declarations(tmp_path, [(10, 4.5), (9.5, 4.4)])
    (tmp_path / "flows.csv").write_text(flows)
    code, out = cli(capsys, "material", "balance", "--workspace", str(ws), "--flows", str(tmp_path / "flows.csv"), "--trials", "1000")
    assert code == 2 and named in out["error"] and "flows.csv" in out["error"], out["error"]


def test_one_complete_declaration_is_no_balance(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = declarations(tmp_path, [(10, 4.5), (9.5, 4.4)], last_complete=False)
    code, out = cli(capsys, "material", "balance", "--workspace", str(ws))
    assert code == 2 and "this workspace has 1 of 2" in out["error"]
    code, out = cli(capsys, "material", "balance", "--workspace", str(tmp_path / "nowhere"))
    assert code == 2 and "not an unveil workspace" in out["error"]


def test_bad_uncertainty_tables_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = declarations(tmp_path, [(10, 4.5), (9.5, 4.4)])
    table = tmp_path / "u.csv"
    for text, named in [("category,kind,relative_random,relative_systematic\nplutonium,inventory,-0.01,0\n", "line 2, column relative_random"),
                        ("category,kind,relative_random,relative_systematic\nplutonium,begin,0.01,0\n", "line 2, column kind"),
                        ("category,kind,relative_random\nplutonium,inventory,0.01\n", "missing column")]:
        table.write_text(text)
        code, out = cli(capsys, "material", "balance", "--workspace", str(ws), "--uncertainties", str(table))
        assert code == 2 and named in out["error"] and str(table) in out["error"], out["error"]


def test_the_demo_stage_tests_exampleland_and_catches_the_hidden_diversion(tmp_path: Path) -> None:
    """The demo's material stage on its own: 48 kg declared (what the demo's inspector opens)
    against the invented history (49.41 ± 2.85 kg); the 2025 balance hides 0.1 kg a month
    from April: no alarm before April, Page's and the cumulative test alarm."""
    import io

    from rich.console import Console

    from unveil import exercise
    from unveil.cli import demo_material

    result = demo_material.run(tmp_path, 48)
    c = result["compare"]
    assert c["estimate"]["mean"] == pytest.approx(54900 * 0.9 / 1000)  # Σ energy · 0.9 g/MWd
    assert c["declared"]["sigma"] == pytest.approx(48 * math.hypot(0.005, 0.003)) and c["consistent"] is True
    assert demo_material.expected(result)
    periods = result["balance"]["periods"]
    assert not any(p["alarm"] for p in periods if p["period"] < "2025-04-01")
    assert result["balance"]["cumulative"][0]["muf"] == pytest.approx(0.9, abs=0.1)  # the 0.9 kg taken
    assert (tmp_path / "material" / exercise.BALANCE_FILE).read_bytes() == exercise.balance_bytes()
    buffer = io.StringIO()
    demo_material.show(Console(file=buffer, width=1000), result)
    text = buffer.getvalue()
    assert "48.00 ± 0.28 kg" in text and "alarms from 2025-" in text and "kg" in text and "%" in text
    # a declaration far from the history is not consistent, and the demo would say so
    assert not demo_material.expected(demo_material.run(tmp_path, 30))
