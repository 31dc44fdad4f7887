"""`make demo` runs `unveil demo`: the built-in exercise end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unveil.cli.main import main


def test_demo_runs_the_exercise_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fictional"] is True and summary["as_expected"] is True
    assert [b["verdict"] for b in summary["bundles"]] == ["valid", "invalid", "valid", "valid", "valid"]
    tampered = summary["bundles"][1]
    assert "tamper" in tampered["bundle"] and "leaf-mismatch" in tampered["reasons"]
    assert summary["reconciled"] is True and summary["coverage_missing"] == 0
    assert summary["totals"]["warhead"] == {"declared": 30, "opened": 30}
    names = {p.name for p in tmp_path.iterdir()}
    assert {"escrow.json", "cells.txt", "leaves.bin", "reveal-phase-1.json", "reveal-phase-2.json",
            "reveal-phase-3.json", "reveal-final.json", "reveal-phase-1-tampered.json"} <= names
    assert summary["seconds"] < 60
    # Running it again over the same folder starts afresh.
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0


def test_demo_board_is_cosigned_and_serve_sh_serves_it_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    import httpx

    out = tmp_path / "demo-out"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    board = json.loads(capsys.readouterr().out)["board"]
    assert sorted(board["cosigned_by"]) == ["Exampleland", "Inspectorate", "Observer"]
    assert all(step["exit"] == 0 for step in board["steps"])
    from unveil.core.notes import Checkpoint, open_note

    assert board["final_size"] == Checkpoint.parse(open_note(board["checkpoint"])[0]).size > 0  # the whole quorum cosigned it
    assert {p.name for p in out.iterdir()} >= {"board.db", "parties.json", "serve.sh"}
    assert (out / "workspaces" / "board" / "keys" / "statement.pem").exists()
    server = subprocess.Popen([str(out / "serve.sh"), "--port", "0", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["url"]  # type: ignore[union-attr]  # stdout is a pipe
        assert httpx.get(f"{url}/checkpoint").text == board["checkpoint"]
        # the board's views (spec §11) hold every state a cell can have, at some step
        escrow = httpx.get(f"{url}/view/summary").json()["escrows"][0]
        assert escrow["cells_held"] and escrow["inspections"] > 0 and escrow["discrepancies"] > 0
        rows = httpx.get(f"{url}/view/escrows/{escrow['escrow_id']}/cells").json()["cells"]
        assert any(r[1] == -1 or r[1] > 0 for r in rows)  # sealed at step 0
        assert all(max(r[2], r[3]) == -1 or r[1] != -1 for r in rows)  # inspected or contested only once opened
        assert any(r[2] >= 0 for r in rows) and any(r[3] >= 0 for r in rows)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_inspector_finds_hidden_sites_clears_false_lead_and_draws_fairly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Intelligence sealed before the reveals; phase 2 exposes hidden site H-01,
    the false lead X-06 is cleared, H-02 is found in the final phase; every routine draw
    recomputes with ``unveil select`` from the coins revealed on the board."""
    import subprocess

    from unveil import exercise
    from unveil.board.events import parse_event
    from unveil.board.parties import read_parties
    from unveil.core.jsonparse import loads
    from unveil.core.selection import population_sha256
    from unveil.store.board_client import BoardClient

    out = tmp_path / "demo-out"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["as_expected"] is True
    inspector = summary["inspector"]
    assert inspector["sealed"]["late"] is False and inspector["sealed"]["suspects"] == 8
    phases = {p["phase"]: p for p in inspector["phases"]}
    assert list(phases) == ["phase-1", "phase-2", "phase-3", "final"]
    assert {(h["site"], h["phase"]) for h in inspector["hidden_found"]} == {("H-01", "phase-2"), ("H-02", "final")}
    assert exercise.HIDDEN_SITES == ("H-01", "H-02")
    assert inspector["false_leads_cleared"] == [{"suspect": "X-06", "phase": "phase-1"}]
    assert "X-06" in phases["phase-1"]["undeclared"] and "X-08" in phases["final"]["undeclared"]
    assert [f["site"] for f in phases["phase-2"]["found"]] == ["H-01"]
    assert all(f["discrepancy_index"] is not None for p in phases.values() for f in p["found"])
    # confidence after each phase; a found undeclared site makes it 0 from then on
    assert [c["phase"] for c in inspector["confidence"]] == list(phases)
    assert inspector["confidence"][0]["probability"] > 0
    assert all(c["probability"] == 0 for c in inspector["confidence"][1:])
    # routine inspections: everything drawn is consistent with the ground truth
    assert all(r["result"] == "consistent" for p in phases.values() for r in p["inspected"])
    assert sorted(summary["board"]["cosigned_by"]) == ["Exampleland", "Inspectorate", "Observer"]
    assert all(step["exit"] == 0 for step in summary["board"]["steps"])

    # Every draw recomputes offline from the coins revealed on the board.
    parties = read_parties((out / "parties.json").read_bytes())
    server = subprocess.Popen([str(out / "serve.sh"), "--port", "0", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["url"]  # type: ignore[union-attr]  # stdout is a pipe
        with BoardClient(url) as client:
            size = int(client.checkpoint().split("\n")[1])
            events = [parse_event(loads(entry)) for entry in client.entries(0, size)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    kinds = [e.kind for e in events]
    assert kinds.count("escrow.published") == 2 and kinds.count("discrepancy.raised") == 2
    for phase in phases.values():
        draw = phase["draw"]
        assert draw["status"] == "drawn" and len(draw["selection"]) == draw["n"] <= len(draw["population"])
        reveals = []
        for event in events:
            if event.kind == "coin.revealed" and event.body["context"] == draw["context"]:
                author = parties.author_of(event)
                assert author is not None
                reveals += ["--reveal", author.vkey, event.body["r"]]
        assert len(reveals) == 6  # host and inspector
        # the inspector's first commitment fixed the population and n before any coin (spec §8)
        committed = [e for e in events if e.kind == "coin.committed" and e.body["context"] == draw["context"]]
        assert [parties.author_of(e).role for e in committed] == ["inspector", "host"]  # type: ignore[union-attr]
        assert committed[0].body["population"] == draw["population"] and "population" not in committed[1].body
        assert {(e.body["population_sha256"], e.body["n"]) for e in committed} == {(population_sha256(draw["population"]).hex(), draw["n"])}
        drawn = [e.body for e in events if e.kind == "selection.drawn" and e.body["context"] == draw["context"]]
        assert [d["selection"] for d in drawn] == [draw["selection"]]
        population = tmp_path / f"population-{phase['phase']}.txt"
        population.write_text("\n".join(draw["population"]) + "\n")
        assert main(["select", "--context", draw["context"], "--population", str(population), "--n", str(draw["n"]),
                     *reveals, "--json"]) == 0
        selected = json.loads(capsys.readouterr().out)
        assert selected["seed"] == draw["seed"] and selected["selection"] == draw["selection"]


def test_demo_plays_the_agreement_action_for_action_and_the_cli_reads_the_same_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's sequence (spec §12): freeze ↔ relief, warheads to disposed, an access request
    answered a day late, an obligation overdue 45 days on with its reward withheld; then
    `unveil agreement status` on the demo's board, served again, reads the same state from the
    log alone, now and with --at."""
    import subprocess

    out = tmp_path / "demo-out"
    assert main(["demo", "--out", str(out), "--json"]) == 0
    agreement = json.loads(capsys.readouterr().out)["agreement"]
    later = {o["id"]: o["state"] for o in agreement["later"]["obligations"]}
    assert later == {"close-enrichment": "verified", "sanctions-relief-1": "verified", "eliminate-warheads": "verified",
                     "sanctions-relief-2": "disputed", "disable-test-site": "overdue", "lift-embargo": "withheld"}
    assert {o["id"]: o["state"] for o in agreement["now"]["obligations"]}["disable-test-site"] == "due"
    assert {a["id"]: a["state"] for a in agreement["later"]["access"]} == {"access-1": "granted-late", "access-2": "refused"}
    assert agreement["now"]["items"]["disposed"] == 3 and sum(agreement["now"]["items"].values()) == 30
    assert [p["serial"] for p in agreement["later"]["problems"] if p["reason"] == "unwitnessed-transition"] == ["W-003"]
    assert (out / "agreement.yaml").is_file()
    server = subprocess.Popen([str(out / "serve.sh"), "--port", "0", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["url"]  # type: ignore[union-attr]  # stdout is a pipe
        for view, at in (("now", []), ("later", ["--at", agreement["later"]["at"]])):
            code = main(["agreement", "status", "--board", url, "--agreement", str(out / "agreement.yaml"),
                         "--parties", str(out / "parties.json"), *at, "--json"])
            assert code == 0
            printed = json.loads(capsys.readouterr().out)
            assert printed["obligations"] == agreement[view]["obligations"] and printed["access"] == agreement[view]["access"]
            assert printed["items"] == agreement[view]["items"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_compares_two_regimes_for_exampleland(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12: phased reveals leave a blind spot until the last phase; cued challenges close it."""
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    regimes = json.loads(capsys.readouterr().out)["regimes"]
    blind, cued = regimes["phased-reveals"], regimes["intel-cued"]
    assert [p["detection_probability"] for p in blind["phases"][:3]] == [0.0, 0.0, 0.0]
    assert [p["exact"] for p in blind["phases"][:3]] == [0.0, 0.0, 0.0] and 0 < blind["phases"][3]["exact"] < 0.05
    assert cued["phases"][0]["exact"] == pytest.approx(1 - (1 - 0.5 * 0.9) ** 2)
    assert abs(cued["phases"][0]["detection_probability"] - cued["phases"][0]["exact"]) < 0.01
    assert sorted(p.name for p in (tmp_path / "regimes").iterdir()) == ["intel-cued.json", "phased-reveals.json"]
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert "intel-cued: phase-1" in capsys.readouterr().out
