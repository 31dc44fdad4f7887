"""``unveil report``: the self-contained HTML report of one escrow from a workspace, its PDF by
the system Chromium, and hostile inputs (names with markup, huge names, unknown escrows,
unwritable outputs, a missing renderer)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.workflow_fixtures import CSV, RES, TERRITORY, cli
from unveil.workspace.report_render import aggregate
from unveil.workspace.workspace import open_workspace

SCRIPT = "<script>alert('x')</script>"
HUGE = "N" * 20_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in exercise run once: host and inspector workspaces following a board."""
    import contextlib
    import io

    from unveil.cli.main import main

    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--out", str(out), "--json"]) == 0
    summary = json.loads(printed.getvalue())
    assert summary["report"]["html"] == str(out / "report.html") and summary["as_expected"] is True
    return out


@pytest.fixture
def small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A host workspace with one phase revealed; one site named with markup, one with a huge name,
    one (sealed) whose name must not reach the report."""
    d = tmp_path
    (d / "territory.geojson").write_text(json.dumps(TERRITORY))
    csv = CSV.replace("North depot", SCRIPT).replace(",Lab,", f",{HUGE},").replace("S-2,enrichment,,", "S-2,enrichment,Sealed Secret Plant,")
    (d / "declaration.csv").write_text(csv)
    assert cli(capsys, "init", "--workspace", str(d / "host"), "--role", "host", "--name", "Host")[0] == 0
    code, out = cli(capsys, "commit", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--territory", str(d / "territory.geojson"),
                    "--territory-filter", "name=Testland", "--resolution", str(RES), "--declaration", str(d / "declaration.csv"),
                    "--out", str(d / "out"), "--public-totals", "warhead")
    assert code == 0, out
    opened = sorted({h3.latlng_to_cell(45.30, 10.20, RES), h3.latlng_to_cell(45.20, 10.30, RES)})
    (d / "cells.txt").write_text("\n".join(opened) + "\n")
    code, out = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "phase-1",
                    "--cells", str(d / "cells.txt"), "--out", str(d / "out" / "reveal-phase-1.json"))
    assert code == 0, out
    return {"dir": d, "ws": d / "host"}


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def _no_requests(html: str) -> None:
    """Nothing in the document makes a browser fetch anything."""
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', html), "an attribute points outside the document"
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html


def test_inspector_report_holds_every_section(demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, result = cli(capsys, "report", "--workspace", str(demo / "workspaces" / "inspector"), "--out", str(tmp_path / "r.html"))
    assert code == 0, result
    html = (tmp_path / "r.html").read_text()
    _no_requests(html)
    assert result["phases"] == ["phase-1", "phase-2", "phase-3", "final"] and result["drawn_resolution"] == 6
    images = _images(html)
    assert len(images) == 5 and all(i.startswith(b"\x89PNG") for i in images)  # a map per phase and the confidence plot
    for section in ("Map per phase", "Reveals and verifications", "Totals against declared totals", "Truth test per phase",
                    "Inspections and draws", "Confidence per phase", "Agreement", "exampleland-freeze-and-eliminate"):
        assert section in html
    assert "reconciled</span>: every declared total" in html
    assert html.count(".routine.") >= 4  # the four draws' contexts
    assert "undeclared-X-04" in html and "undeclared-X-08" in html  # both discrepancies
    status_json = json.loads((demo / "parties.json").read_text())
    assert status_json  # the demo's board is registered
    # the cell counts per phase: the last step has every cell out of sealed, counts add up to the escrow's cells
    counts = re.findall(r"after ([\w-]+): (\d+) sealed, (\d+) opened, (\d+) inspected, (\d+) discrepancy \(cells\)", html)
    assert [c[0] for c in counts] == result["phases"]
    assert all(sum(int(n) for n in c[1:]) == result["cells"] for c in counts)
    assert counts[-1][1] == "0" and int(counts[-1][4]) == 2 and int(counts[0][4]) == 0
    assert [int(c[1]) for c in counts] == sorted((int(c[1]) for c in counts), reverse=True)


def test_the_demo_ends_with_the_inspectors_report(demo: Path) -> None:
    from unveil.workspace.report_pdf import chromium_path

    html = (demo / "report.html").read_text()
    _no_requests(html)
    assert "Truth test per phase" in html and len(_images(html)) == 5
    assert (demo / "report.pdf").is_file() == chromium_path().is_file()


@pytest.mark.parametrize("party", ["host", "inspector"])
def test_cell_states_are_the_board_views(demo: Path, party: str) -> None:
    """The report's cell rows, from a workspace's mirror, equal the board's own view of them
    (spec §11), step for step."""
    import hashlib

    from unveil.board.parties import read_parties
    from unveil.board.view import BoardView
    from unveil.store import witness_db
    from unveil.workspace.report import gather

    ws = open_workspace(demo / "workspaces" / party)
    data = gather(ws, None)
    parties = read_parties((demo / "parties.json").read_bytes())
    with ws.connect() as db:
        (origin,) = witness_db.cosigned_origins(db)
        entries = list(witness_db.mirror_entries(db, origin))
    files = {hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes() for p in demo.glob("reveal-*.json")}
    view = BoardView(parties, origin)
    view.extend(entries)
    board = view.cells(data["escrow"]["escrow_id"], (demo / "cells.txt").read_bytes(), files.get)
    assert board["steps"] == [p["phase"] for p in data["phases"]]
    assert [list(row) for row in board["cells"]] == data["cells"]
    assert sum(1 for row in data["cells"] if row[2] >= 0) > 10 and sum(1 for row in data["cells"] if row[3] >= 0) == 2


def test_host_report_has_no_inspector_sections(demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, result = cli(capsys, "report", "--workspace", str(demo / "workspaces" / "host"), "--out", str(tmp_path / "h.html"))
    assert code == 0, result
    html = (tmp_path / "h.html").read_text()
    _no_requests(html)
    assert "Truth test per phase" not in html and "suspect (own intelligence)" not in html and "Confidence per phase" not in html
    assert len(_images(html)) == 4


def test_markup_in_names_renders_as_text_and_sealed_sites_stay_out(small: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    out = small["dir"] / "report.html"
    code, result = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(out))
    assert code == 0, result
    html = out.read_text()
    _no_requests(html)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert HUGE not in html and "N" * 300 + "…" in html  # clipped, the rest elided
    assert "Sealed Secret Plant" not in html  # S-2 is in a cell phase-1 did not open
    assert result["phases"] == ["phase-1"] and "not yet: cells remain sealed" in html
    assert '<td>warhead</td><td class="num">3 count</td><td class="num">3 count</td>' in html  # every total carries its unit


def test_without_escrow_id_it_picks_the_one_declaration(demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The inspector holds its own intel escrow too: the default is the declaration; an unknown
    id is exit 2 naming the escrows it holds, and nothing is written."""
    ws = demo / "workspaces" / "inspector"
    code, out = cli(capsys, "report", "--workspace", str(ws), "--escrow-id", "nope<b>", "--out", str(tmp_path / "x.html"))
    assert code == 2 and "no escrow 'nope<b>'" in out["error"] and "--escrow-id" in out["error"]
    assert "-intel" in out["error"]  # the choices are named
    assert not (tmp_path / "x.html").exists()
    intel = re.search(r"(exampleland-[\d-]+-intel)", out["error"])
    assert intel is not None
    code, result = cli(capsys, "report", "--workspace", str(ws), "--escrow-id", intel.group(1), "--out", str(tmp_path / "i.html"))
    assert code == 0 and result["escrow_id"] == intel.group(1)


def test_a_workspace_with_no_escrow_or_several_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "init", "--workspace", str(tmp_path / "ws"), "--role", "inspector", "--name", "I")[0] == 0
    code, out = cli(capsys, "report", "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "r.html"))
    assert code == 2 and "no declaration escrow" in out["error"]
    code, out = cli(capsys, "report", "--workspace", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html"))
    assert code == 2 and "not an unveil workspace" in out["error"]


@pytest.mark.parametrize("where", ["file/r.html", "missing/r.html", "adir"])
def test_an_unwritable_output_is_exit_2_before_any_work(small: dict[str, Any], capsys: pytest.CaptureFixture[str], where: str) -> None:
    d = small["dir"]
    (d / "file").write_text("a file, not a folder")
    (d / "adir").mkdir()
    code, out = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(d / where))
    assert code == 2 and "--out" in out["error"] and str(d / where) in out["error"]
    assert (d / "file").read_text() == "a file, not a folder" and list((d / "adir").iterdir()) == []
    code, out = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(d / "ok.html"), "--pdf", str(d / where))
    assert code == 2 and "--pdf" in out["error"] and not (d / "ok.html").exists()


def test_a_missing_browser_or_extra_is_exit_2_naming_it(small: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    d = small["dir"]
    monkeypatch.setenv("UNVEIL_CHROMIUM", str(d / "no-chromium"))
    code, out = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(d / "r.html"), "--pdf", str(d / "r.pdf"))
    assert code == 2 and "Chromium" in out["error"] and "no-chromium" in out["error"]
    assert not (d / "r.html").exists() and not (d / "r.pdf").exists()
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "playwright" else real(name, *a))
    code, out = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(d / "r.html"), "--pdf", str(d / "r.pdf"))
    assert code == 2 and "pdf" in out["error"] and "playwright" in out["error"]


def test_the_pdf_is_printed_by_chromium_and_its_first_page_is_not_blank(small: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    import pypdfium2

    from tests.web_fixtures import chromium_or_skip

    chromium_or_skip()

    d = small["dir"]
    code, result = cli(capsys, "report", "--workspace", str(small["ws"]), "--out", str(d / "r.html"), "--pdf", str(d / "r.pdf"))
    assert code == 0, result
    data = (d / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    pdf = pypdfium2.PdfDocument(data)
    assert len(pdf) >= 2
    image = pdf[0].render(scale=1).to_pil().convert("L")
    dark = sum(image.histogram()[:200])  # pixels darker than light grey
    assert dark > 0.005 * image.width * image.height, "the first page is blank"
    text = pdf[0].get_textpage().get_text_range()
    assert "Verification report" in text and "test-1" in text
    maps = pdf[1].render(scale=0.5).to_pil().convert("RGB")
    assert len(maps.getcolors(maxcolors=1 << 20) or []) > 8  # the map's colours, not a blank page


def test_aggregate_draws_a_big_escrow_at_a_coarser_resolution() -> None:
    parent = h3.latlng_to_cell(45.2, 10.3, 4)
    children = sorted(h3.cell_to_children(parent, 6))  # 49 cells
    rows = [(c, "opened" if i < 30 else "sealed") for i, c in enumerate(children)]
    assert aggregate(rows, 6, limit=100) == (rows, 6)
    drawn, resolution = aggregate(rows, 6, limit=10)
    assert resolution == 5 and len(drawn) <= 10 and {h3.get_resolution(c) for c, _ in drawn} == {5}
    drawn, resolution = aggregate(rows, 6, limit=1)
    assert drawn == [(parent, "opened")] and resolution == 4  # the state most of its cells have
    tie = [(children[0], "sealed"), (children[1], "discrepancy")]
    assert aggregate(tie, 6, limit=1)[0][0][1] == "discrepancy"  # a tie goes to the stronger state


def test_the_pdf_prints_from_inside_a_running_event_loop() -> None:
    """Playwright's sync API refuses a thread with a running loop: the renderer uses its own."""
    import asyncio

    from tests.web_fixtures import chromium_or_skip
    from unveil.workspace.report_pdf import print_pdf

    chromium_or_skip()

    async def inside() -> bytes:
        return print_pdf("<!DOCTYPE html><html><body><h1>inside a loop</h1></body></html>")

    assert asyncio.run(inside()).startswith(b"%PDF-")
