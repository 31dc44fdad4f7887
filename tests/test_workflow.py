"""The host and inspector workflow end to end through the CLI, on a small made-up
territory: init → commit → reveal → verify (recorded, coverage checked) → status."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.workflow_fixtures import CSV, RES, TERRITORY, cli
from unveil.cli.main import main


def snapshot(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    (tmp_path / "territory.geojson").write_text(json.dumps(TERRITORY))
    (tmp_path / "declaration.csv").write_text(CSV)
    code, host = cli(capsys, "init", "--workspace", str(tmp_path / "host"), "--role", "host", "--name", "Host")
    assert code == 0
    code, inspector = cli(capsys, "init", "--workspace", str(tmp_path / "inspector"), "--role", "inspector", "--name", "Inspector")
    assert code == 0
    return {"dir": tmp_path, "host": host, "inspector": inspector}


def commit_args(d: Path, **overrides: str) -> list[str]:
    args = {"--workspace": str(d / "host"), "--escrow-id": "test-1", "--territory": str(d / "territory.geojson"),
            "--territory-filter": "name=Testland", "--resolution": str(RES), "--declaration": str(d / "declaration.csv"),
            "--out": str(d / "out"), "--public-totals": "warhead", "--sealed-totals": "plutonium,heu"}
    args.update(overrides)
    return ["commit", *[x for kv in args.items() for x in kv]]


def test_init_makes_keys_private_and_prints_its_keys(setup: dict[str, Any]) -> None:
    host = setup["host"]
    assert host["name"] == "Host" and host["role"] == "host"
    assert host["vkey"].startswith("Host+") and host["witness_vkey"].startswith("Host+") and host["vkey"] != host["witness_vkey"]
    for key in (setup["dir"] / "host" / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_init_refuses_an_existing_workspace(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(setup["dir"] / "host")
    code, out = cli(capsys, "init", "--workspace", str(setup["dir"] / "host"), "--role", "host", "--name", "Other")
    assert code == 2 and "already exists" in out["error"]
    assert snapshot(setup["dir"] / "host") == before


def test_commit_reveal_verify_status_end_to_end(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    code, committed = cli(capsys, *commit_args(d))
    assert code == 0, committed
    cells = (d / "out" / "cells.txt").read_text().split()
    assert committed["cells"] == len(cells) and committed["non_empty"] == 3
    assert cells == sorted(cells) and all(h3.get_resolution(c) == RES for c in cells)

    parent = h3.cell_to_parent(h3.latlng_to_cell(45.30, 10.20, RES), 4)
    code, first = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "phase-1",
                      "--region", parent, "--out", str(d / "out" / "reveal-phase-1.json"))
    assert code == 0 and first["openings"] > 0 and first["reopened"] == []
    verify = ["verify", str(d / "out" / "reveal-phase-1.json"), "--escrow", str(d / "out" / "escrow.json"),
              "--cells", str(d / "out" / "cells.txt"), "--trust", setup["host"]["vkey"], "--workspace", str(d / "inspector"),
              "--territory", str(d / "territory.geojson"), "--territory-filter", "name=Testland"]
    code, report = cli(capsys, *verify)
    assert code == 0 and report["valid"] and report["recorded"]

    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert code == 0
    assert st["escrow_id"] == "test-1" and st["cells"] == len(cells) and st["opened"] == first["openings"]
    assert st["totals"]["warhead"] == {"declared": 3, "opened": 3} and st["reconciled"] is None
    assert [p["phase"] for p in st["phases"]] == ["phase-1"]

    code, rest = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "final",
                     "--bbox", "9.9,44.9,10.8,45.6", "--open-totals", "--out", str(d / "out" / "reveal-final.json"))
    assert code == 0 and rest["openings"] == len(cells) and len(rest["reopened"]) == first["openings"]
    verify[1] = str(d / "out" / "reveal-final.json")
    code, report = cli(capsys, *verify)
    assert code == 0, report
    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"), "--escrow-id", "test-1")
    assert st["opened"] == len(cells) and st["reconciled"] is True
    assert st["totals"]["plutonium"] == {"declared": 4.5, "opened": 4.5} and st["totals"]["heu"]["declared"] == 10.25
    code, host_status = cli(capsys, "status", "--workspace", str(d / "host"))
    assert host_status["reconciled"] is True and host_status["own"] is True


def test_master_secret_stays_in_the_host_workspace(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1",
               "--bbox", "9.9,44.9,10.8,45.6", "--out", str(d / "out" / "reveal-p1.json"))[0] == 0
    secret = sqlite3.connect(d / "host" / "workspace.db").execute("SELECT master_secret FROM secrets").fetchone()[0]
    assert len(secret) == 32
    for path in (d / "out").iterdir():
        data = path.read_bytes()
        assert secret not in data and secret.hex().encode() not in data
    assert stat.S_IMODE((d / "host" / "workspace.db").stat().st_mode) == 0o600


def test_reveal_of_an_already_opened_cell_is_flagged(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    cell = h3.latlng_to_cell(45.30, 10.20, RES)
    (d / "one.txt").write_text(cell + "\n")
    args = ["reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--cells", str(d / "one.txt")]
    assert cli(capsys, *args, "--phase", "a", "--out", str(d / "a.json"))[1]["reopened"] == []
    assert cli(capsys, *args, "--phase", "b", "--out", str(d / "b.json"))[1]["reopened"] == [cell]


def test_verify_catches_a_cell_list_that_misses_part_of_the_territory(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p",
               "--bbox", "9.9,44.9,10.8,45.6", "--out", str(d / "p.json"))[0] == 0
    bigger = json.loads(json.dumps(TERRITORY))
    bigger["features"][0]["geometry"]["coordinates"][0][1] = [10.9, 45.05]  # the agreed territory reaches further east
    (d / "agreed.geojson").write_text(json.dumps(bigger))
    code, report = cli(capsys, "verify", str(d / "p.json"), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"),
                       "--territory", str(d / "agreed.geojson"), "--territory-filter", "name=Testland")
    assert code == 1 and {p["reason"] for p in report["problems"]} == {"coverage-missing"}


BAD_CSV = {
    "not-utf8": (b"site_id,kind,lat,lon\nS-\xff,other,45.2,10.2\n", "UTF-8"),
    "empty": (b"", "empty"),
    "outside-territory": (b"site_id,kind,lat,lon\nS-1,other,46.5,10.2\n", "outside"),
    "swapped-lat-lon": (b"site_id,kind,lat,lon\nS-1,other,10.2,45.2\n", "swap"),
    "duplicate-site": (b"site_id,kind,lat,lon\nS-1,other,45.2,10.2\nS-1,reactor,45.3,10.3\n", "S-1"),
    "nan": (b"site_id,kind,lat,lon,category,quantity,unit\nS-1,other,45.2,10.2,heu,nan,kg\n", "quantity"),
    "negative": (b"site_id,kind,lat,lon,category,quantity,unit\nS-1,other,45.2,10.2,heu,-1,kg\n", "quantity"),
    "serials": (b"site_id,kind,lat,lon,category,quantity,unit,serials\nS-1,other,45.2,10.2,warhead,2,count,W-1\n", "serial"),
    "unknown-kind": (b"site_id,kind,lat,lon\nS-1,bunker,45.2,10.2\n", "kind"),
    "unknown-category": (b"site_id,kind,lat,lon,category,quantity,unit\nS-1,other,45.2,10.2,uranium,1,kg\n", "categor"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_declarations_exit_2_and_change_nothing(setup: dict[str, Any], capsys: pytest.CaptureFixture[str], case: str) -> None:
    d = setup["dir"]
    data, needle = BAD_CSV[case]
    (d / "bad.csv").write_bytes(data)
    before = snapshot(d / "host", d / "out")
    code, out = cli(capsys, *commit_args(d, **{"--declaration": str(d / "bad.csv")}))
    assert code == 2
    assert "bad.csv" in out["error"] and needle.lower() in out["error"].lower(), out["error"]
    assert snapshot(d / "host", d / "out") == before


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"--escrow-id": "bad id"}, "--escrow-id"),
        ({"--resolution": "16"}, "--resolution"),
        ({"--territory-filter": "name=Nowhere"}, "Nowhere"),
        ({"--territory": "/nonexistent.geojson"}, "not found"),
        ({"--public-totals": "warhead,,heu"}, "--public-totals"),
    ],
    ids=["escrow-id", "resolution", "filter-matches-nothing", "missing-territory", "empty-category"],
)
def test_bad_commit_options_exit_2_and_change_nothing(setup: dict[str, Any], capsys: pytest.CaptureFixture[str], overrides: dict[str, str], needle: str) -> None:
    d = setup["dir"]
    before = snapshot(d / "host", d / "out")
    code, out = cli(capsys, *commit_args(d, **overrides))
    assert code == 2 and needle in out["error"], out
    assert snapshot(d / "host", d / "out") == before


def test_commit_twice_with_one_id_is_refused(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    before = snapshot(d / "host", d / "out")
    code, out = cli(capsys, *commit_args(d))
    assert code == 2 and "already exists" in out["error"]
    assert snapshot(d / "host", d / "out") == before


def test_commands_check_the_workspace_role(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    code, out = cli(capsys, *commit_args(d, **{"--workspace": str(d / "inspector")}))
    assert code == 2 and "host workspace" in out["error"]


def test_reveal_errors_exit_2_and_change_nothing(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    before = snapshot(d / "host", d / "out")
    base = ["reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p", "--out", str(d / "out" / "r.json")]
    for extra, needle in (
        (["--bbox", "10,45,9,46"], "--bbox"),
        (["--region", "zzz"], "zzz"),
        (["--region", "85283473fffffff", "--bbox", "9.9,44.9,10.8,45.6"], "exactly one"),
        ([], "exactly one"),
    ):
        code, out = cli(capsys, *base, *extra)
        assert code == 2 and needle in out["error"], (extra, out)
    assert snapshot(d / "host", d / "out") == before


def test_export_round_trips_a_declaration_through_geojson_and_csv(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from unveil.declaration import read_declaration

    d = setup["dir"]
    code, out = cli(capsys, "export", "--declaration", str(d / "declaration.csv"), "--to", "geojson", "--out", str(d / "decl.geojson"),
                    "--territory", str(d / "territory.geojson"), "--territory-filter", "name=Testland")
    assert code == 0 and out["sites"] == 3
    assert cli(capsys, "export", "--declaration", str(d / "decl.geojson"), "--to", "csv", "--out", str(d / "back.csv"))[0] == 0
    original = read_declaration((d / "declaration.csv").read_bytes(), source="declaration.csv")
    assert read_declaration((d / "back.csv").read_bytes(), source="back.csv") == original
    assert read_declaration((d / "decl.geojson").read_bytes(), source="decl.geojson") == original
    code, out = cli(capsys, "export", "--declaration", str(d / "declaration.csv"), "--to", "kml", "--out", str(d / "x.kml"))
    assert code == 2 and "--to" in out["error"] and not (d / "x.kml").exists()


def test_passphrase_protected_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "territory.geojson").write_text(json.dumps(TERRITORY))
    (tmp_path / "declaration.csv").write_text(CSV)
    monkeypatch.setenv("HOST_PASS", "correct horse battery staple")
    code, _ = cli(capsys, "init", "--workspace", str(tmp_path / "host"), "--role", "host", "--name", "Host", "--passphrase-env", "HOST_PASS")
    assert code == 0
    assert b"ENCRYPTED" in (tmp_path / "host" / "keys" / "statement.pem").read_bytes()
    monkeypatch.delenv("UNVEIL_PASSPHRASE", raising=False)
    before = snapshot(tmp_path / "host")
    code, out = cli(capsys, *commit_args(tmp_path))
    assert code == 2 and "UNVEIL_PASSPHRASE" in out["error"]
    monkeypatch.setenv("UNVEIL_PASSPHRASE", "wrong")
    code, out = cli(capsys, *commit_args(tmp_path))
    assert code == 2 and "passphrase" in out["error"]
    assert snapshot(tmp_path / "host") == before
    monkeypatch.setenv("UNVEIL_PASSPHRASE", "correct horse battery staple")
    assert cli(capsys, *commit_args(tmp_path))[0] == 0
    code, out = cli(capsys, "init", "--workspace", str(tmp_path / "other"), "--role", "host", "--name", "X", "--passphrase-env", "UNSET_VAR_XYZ")
    assert code == 2 and "UNSET_VAR_XYZ" in out["error"] and not (tmp_path / "other").exists()


def test_inspector_notices_two_stories(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The host shows two different bundles for one phase, or another escrow under a known id."""
    import sqlite3

    from unveil.core import cells as cell_file
    from unveil.core.build import reveal_statement
    from unveil.core.escrow import parse_escrow
    from unveil.core.jsonparse import loads
    from unveil.core.statements import sign_statement
    from unveil.escrowing import open_cells
    from unveil.workspace.workspace import open_workspace

    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "phase-1",
               "--bbox", "9.9,44.9,10.3,45.6", "--out", str(d / "out" / "p1.json"))[0] == 0
    verify = ["verify", "BUNDLE", "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"),
              "--trust", setup["host"]["vkey"], "--workspace", str(d / "inspector")]
    verify[1] = str(d / "out" / "p1.json")
    assert cli(capsys, *verify)[0] == 0
    assert cli(capsys, *verify)[0] == 0  # the same bundle again is no conflict

    # A second, equally valid bundle under the same phase name, from the host's own secret.
    db = sqlite3.connect(d / "host" / "workspace.db")
    secret, leaves, cells_txt, escrow_json = db.execute(
        "SELECT s.master_secret, t.leaves_bin, e.cells_txt, e.escrow_json"
        " FROM secrets s JOIN escrows e USING (escrow_id) JOIN escrow_trees t USING (escrow_id)").fetchone()
    cells = cell_file.read(cells_txt).cells
    openings, proof = open_cells(secret, "test-1", cells, {}, leaves, [len(cells) - 1])
    other = reveal_statement(escrow=parse_escrow(loads(escrow_json)["statement"]), phase="phase-1", openings=openings, proof=proof)
    (d / "other.json").write_text(json.dumps(sign_statement(other, [open_workspace(d / "host").statement_key()])))
    verify[1] = str(d / "other.json")
    code, report = cli(capsys, *verify)
    assert code == 1 and {p["reason"] for p in report["problems"]} == {"phase-conflict"}

    # Another escrow under the same id, from another host workspace.
    assert cli(capsys, "init", "--workspace", str(d / "host2"), "--role", "host", "--name", "Host")[0] == 0
    assert cli(capsys, *commit_args(d, **{"--workspace": str(d / "host2"), "--out": str(d / "out2")}))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host2"), "--escrow-id", "test-1", "--phase", "phase-9",
               "--bbox", "9.9,44.9,10.3,45.6", "--out", str(d / "out2" / "p9.json"))[0] == 0
    code, report = cli(capsys, "verify", str(d / "out2" / "p9.json"), "--escrow", str(d / "out2" / "escrow.json"),
                       "--cells", str(d / "out2" / "cells.txt"), "--workspace", str(d / "inspector"))
    # the other host workspace signs with another key under the name Host: not the key pinned here
    assert code == 1 and {p["reason"] for p in report["problems"]} == {"escrow-conflict", "escrow-signature-untrusted", "signature-untrusted"}


def test_a_failure_inside_the_commit_transaction_leaves_everything_as_it_was(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """An interruption after the files are staged and the rows inserted, before COMMIT."""
    from contextlib import contextmanager
    from datetime import datetime, timezone

    from unveil.workspace import host
    from unveil.workspace.workspace import open_workspace

    class Interrupted(Exception):
        pass

    real = host.transaction

    @contextmanager
    def interrupted(db):  # type: ignore[no-untyped-def]  # wraps the real transaction
        with real(db):
            yield db
            raise Interrupted

    d = setup["dir"]
    before = snapshot(d / "host")
    monkeypatch.setattr(host, "transaction", interrupted)
    with pytest.raises(Interrupted):
        host.commit(open_workspace(d / "host"), escrow_id="e-1", cells=["a", "b"], resolution=None, contents={},
                    out=d / "fresh-out", now=datetime.now(timezone.utc))
    assert snapshot(d / "host") == before
    assert not (d / "fresh-out").exists()


def test_an_invalid_verification_is_recorded_with_its_problems(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p",
               "--bbox", "9.9,44.9,10.8,45.6", "--out", str(d / "p.json"))[0] == 0
    doc = json.loads((d / "p.json").read_text())
    doc["statement"]["phase"] = "other"  # breaks the signature
    (d / "bad.json").write_text(json.dumps(doc))
    code, _ = cli(capsys, "verify", str(d / "bad.json"), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"),
                  "--trust", setup["host"]["vkey"], "--workspace", str(d / "inspector"))
    assert code == 1
    status, report = sqlite3.connect(d / "inspector" / "workspace.db").execute("SELECT status, report_json FROM verifications").fetchone()
    assert status == "invalid"
    assert {p["reason"] for p in json.loads(report)["problems"]} == {"signature-invalid"}


def test_accept_records_an_escrow_before_any_reveal(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    base = ["accept", "--workspace", str(d / "inspector"), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt")]
    agreed = ["--territory", str(d / "territory.geojson"), "--territory-filter", "name=Testland"]
    stranger = setup["inspector"]["vkey"]  # a real key, but not the host's
    before = snapshot(d / "inspector")
    code, out = cli(capsys, *base, "--trust", stranger)
    assert code == 1 and out["valid"] is False and out["status"] == "invalid" and out["escrow_id"] == "test-1"
    assert [(p["index"], p["reason"]) for p in out["problems"]] == [(None, "escrow-signature-untrusted")]
    (d / "short.txt").write_bytes(b"".join((d / "out" / "cells.txt").read_bytes().splitlines(keepends=True)[1:]))
    code, out = cli(capsys, *base[:-1], str(d / "short.txt"), "--trust", setup["host"]["vkey"])
    assert code == 1 and {p["reason"] for p in out["problems"]} == {"cells-sha256-mismatch", "cell-count-mismatch"}
    assert snapshot(d / "inspector") == before
    code, out = cli(capsys, *base, "--trust", setup["host"]["vkey"], *agreed)
    assert code == 0 and out["escrow_id"] == "test-1" and out["coverage_checked"] is True
    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert st["escrow_id"] == "test-1" and st["opened"] == 0 and st["coverage_checked"] is True and st["phases"] == []


def test_accept_lists_every_problem_and_records_nothing(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """A received escrow that fails a check is "invalid" (exit 1), with every problem as a
    reason code, as ``verify`` reports a bundle; the workspace is left as it was."""
    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    doc = json.loads((d / "out" / "escrow.json").read_text())
    sig = doc["signatures"][0]["sig"]
    doc["signatures"][0]["sig"] = ("B" if sig[0] != "B" else "C") + sig[1:]  # a signature by the host's key that fails
    (d / "bad-escrow.json").write_text(json.dumps(doc))
    bigger = json.loads(json.dumps(TERRITORY))
    bigger["features"][0]["geometry"]["coordinates"][0][1] = [10.9, 45.05]  # the agreed territory reaches further east
    (d / "agreed.geojson").write_text(json.dumps(bigger))
    (d / "short.txt").write_bytes(b"".join((d / "out" / "cells.txt").read_bytes().splitlines(keepends=True)[1:]))
    before = snapshot(d / "inspector")
    args = ["accept", "--workspace", str(d / "inspector"), "--escrow", str(d / "bad-escrow.json"), "--cells", str(d / "short.txt"),
            "--trust", setup["host"]["vkey"], "--territory", str(d / "agreed.geojson"), "--territory-filter", "name=Testland"]
    code, out = cli(capsys, *args)
    assert code == 1 and out["valid"] is False and out["status"] == "invalid" and out["host_key_pinned"] is True
    assert [p["reason"] for p in out["problems"]] == [
        "escrow-signature-invalid", "cells-sha256-mismatch", "cell-count-mismatch", "coverage-missing"]
    assert all(p["index"] is None and p["detail"] for p in out["problems"]) and out["warnings"] == []
    assert snapshot(d / "inspector") == before
    assert main(args) == 1  # for a person: the verdict and a table of reasons
    printed = capsys.readouterr().out
    assert "INVALID" in printed and "escrow-signature-invalid" in printed and "coverage-missing" in printed
    code, out = cli(capsys, *args[:7], "--trust", "not-a-key")
    assert code == 2 and "--trust" in out["error"]  # a key that cannot be read is bad input
    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert code == 2 and "no escrow" in st["error"]  # nothing was accepted


def test_verify_and_accept_read_each_input_once(setup: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What a workspace records (escrow, cells, bundle, territory) is the bytes that were checked:
    each file is read once, so a file swapped between two reads cannot be recorded unchecked."""
    import unveil.cli.files as files
    import unveil.cli.verify_cmd as verify_cmd
    import unveil.cli.workflow_cmd as workflow_cmd

    d = setup["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    parent = h3.cell_to_parent(h3.latlng_to_cell(45.30, 10.20, RES), 4)
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "phase-1",
               "--region", parent, "--out", str(d / "out" / "reveal-phase-1.json"))[0] == 0
    reads: list[str] = []
    original = files.read_bytes

    def counting(path: Path, what: str) -> bytes:
        reads.append(Path(path).name)
        return original(path, what)

    for module in (files, verify_cmd, workflow_cmd):
        monkeypatch.setattr(module, "read_bytes", counting)
    agreed = ["--territory", str(d / "territory.geojson"), "--territory-filter", "name=Testland"]
    code, out = cli(capsys, "accept", "--workspace", str(d / "inspector"), "--escrow", str(d / "out" / "escrow.json"),
                    "--cells", str(d / "out" / "cells.txt"), "--trust", setup["host"]["vkey"], *agreed)
    assert code == 0, out
    assert sorted(reads) == ["cells.txt", "escrow.json", "territory.geojson"]
    reads.clear()
    code, report = cli(capsys, "verify", str(d / "out" / "reveal-phase-1.json"), "--escrow", str(d / "out" / "escrow.json"),
                       "--cells", str(d / "out" / "cells.txt"), "--trust", setup["host"]["vkey"], "--workspace", str(d / "inspector"), *agreed)
    assert code == 0 and report["recorded"], report
    assert sorted(reads) == ["cells.txt", "escrow.json", "reveal-phase-1.json", "territory.geojson"]


def test_commit_reads_each_input_once(setup: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The territory the host's workspace records is the one its cells were computed from: read
    once, parsed and recorded from the same bytes."""
    import sqlite3

    import unveil.cli.files as files
    import unveil.cli.workflow_cmd as workflow_cmd

    d = setup["dir"]
    reads: list[str] = []
    original = files.read_bytes

    def counting(path: Path, what: str) -> bytes:
        reads.append(Path(path).name)
        data = original(path, what)
        if Path(path).name == "territory.geojson":  # the file changes after this read: too late to matter
            Path(path).write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}))
        return data

    for module in (files, workflow_cmd):
        monkeypatch.setattr(module, "read_bytes", counting)
    territory = (d / "territory.geojson").read_bytes()
    code, out = cli(capsys, *commit_args(d))
    assert code == 0, out
    assert sorted(reads) == ["declaration.csv", "territory.geojson"]
    recorded, = sqlite3.connect(d / "host" / "workspace.db").execute("SELECT territory_geojson FROM escrows").fetchone()
    assert recorded == territory
    assert out["cells"] == len((d / "out" / "cells.txt").read_text().split()) > 50  # Testland's cells, not the swapped file's
