"""The inspector's workspace against a host that tells two stories across phases or keys
(unveil.workspace.inspector): one declaration across phases (spec §5), the host key pinned per
escrow (spec §6), a bundle that differs from the board's logged one, and a workspace made by
the previous schema."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h3
import pytest

from tests.test_workflow import commit_args, snapshot
from tests.workflow_fixtures import CSV, RES, TERRITORY, cli
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.statements import sign_statement
from unveil.workspace.workspace import open_workspace

NOW = datetime(2019, 1, 18, 15, 0, tzinfo=timezone.utc)
NORTH, SOUTH = (45.30, 10.20), (45.10, 10.50)  # two cells of Testland, far apart


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    (tmp_path / "territory.geojson").write_text(json.dumps(TERRITORY))
    (tmp_path / "declaration.csv").write_text(CSV)
    code, host = cli(capsys, "init", "--workspace", str(tmp_path / "host"), "--role", "host", "--name", "Host")
    assert code == 0
    assert cli(capsys, "init", "--workspace", str(tmp_path / "inspector"), "--role", "inspector", "--name", "Inspector")[0] == 0
    return {"dir": tmp_path, "host": host}


def site(cell: str, lat_lon: tuple[float, float], site_id: str, serials: list[str]) -> dict[str, Any]:
    return {"id": site_id, "kind": "weapons-storage", "lat": lat_lon[0], "lon": lat_lon[1],
            "items": [{"category": "warhead", "quantity": len(serials), "unit": "count", "serials": serials}]}


def cheating_host(d: Path, north: dict[str, Any], south: dict[str, Any]) -> tuple[str, str]:
    """A host that commits one warhead serial (or site id) twice, in two cells: the CLI's
    declaration reader refuses that, so it commits the contents through the service directly.
    Public total: 3 warheads, as if the repeated serial were two warheads."""
    from unveil.geo.territory import read_territory
    from unveil.workspace import host

    land = read_territory((d / "territory.geojson").read_bytes(), source="t", filter="name=Testland")
    a, b = h3.latlng_to_cell(*NORTH, RES), h3.latlng_to_cell(*SOUTH, RES)
    contents = {a: {"cell": a, "sites": [north]}, b: {"cell": b, "sites": [south]}}
    host.commit(open_workspace(d / "host"), escrow_id="test-1", cells=land.cells(RES), resolution=RES, contents=contents,
                out=d / "out", now=NOW, public_totals={"warhead": {"quantity": 3, "unit": "count"}})
    return a, b


def reveal_cells(d: Path, capsys: pytest.CaptureFixture[str], phase: str, *cells: str) -> Path:
    (d / f"{phase}.txt").write_text("".join(c + "\n" for c in cells))
    out = d / "out" / f"reveal-{phase}.json"
    code, result = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", phase,
                       "--cells", str(d / f"{phase}.txt"), "--out", str(out))
    assert code == 0, result
    return out


def verify_args(d: Path, bundle: Path, *extra: str) -> list[str]:
    return ["verify", str(bundle), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"),
            "--workspace", str(d / "inspector"), *extra]


# --- one declaration across phases (spec §5) --------------------------------------------------


@pytest.mark.parametrize("repeated", ["serial", "site-id"])
def test_an_id_repeated_in_a_later_phase_is_caught_naming_the_earlier_phase(ws: dict[str, Any], capsys: pytest.CaptureFixture[str], repeated: str) -> None:
    d, key = ws["dir"], ws["host"]["vkey"]
    if repeated == "serial":
        north, south = site("", NORTH, "S-1", ["W-1", "W-2"]), site("", SOUTH, "S-2", ["W-1"])
    else:
        north, south = site("", NORTH, "S-1", ["W-1", "W-2"]), site("", SOUTH, "S-1", ["W-3"])
    a, b = cheating_host(d, north, south)
    first = reveal_cells(d, capsys, "phase-1", a)
    code, report = cli(capsys, *verify_args(d, first, "--trust", key))
    assert code == 0, report
    second = reveal_cells(d, capsys, "phase-2", b)
    code, report = cli(capsys, *verify_args(d, second))
    reason = "serial-duplicate" if repeated == "serial" else "site-id-duplicate"
    assert code == 1 and [p["reason"] for p in report["problems"]] == [reason]
    problem = report["problems"][0]
    assert problem["index"] is not None and "'phase-1'" in problem["detail"], problem
    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert [p["phase"] for p in st["phases"]] == ["phase-1"] and st["problems"] == []  # the bad phase was not recorded
    # the same cell opened again in a later phase is no duplicate
    again = reveal_cells(d, capsys, "phase-3", a)
    assert cli(capsys, *verify_args(d, again))[0] == 0
    # one bundle opening both cells: the verifier's own check, without any workspace
    both = reveal_cells(d, capsys, "phase-4", a, b)
    code, report = cli(capsys, "verify", str(both), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"))
    assert code == 1 and reason in {p["reason"] for p in report["problems"]}


def test_status_lists_a_repeated_serial_recorded_before_the_check_existed(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """A workspace that recorded both phases (as the previous version did) reports the repeat
    under "problems" and does not call the doubled total reconciled."""
    from unveil.core import cells as cell_file
    from unveil.core.envelope import parse_signed
    from unveil.core.jsonparse import loads
    from unveil.core.verify import check_bundle
    from unveil.workspace.records import record_verification

    d = ws["dir"]
    a, b = cheating_host(d, site("", NORTH, "S-1", ["W-1", "W-2"]), site("", SOUTH, "S-2", ["W-1"]))
    escrow_json, cells_txt = (d / "out" / "escrow.json").read_bytes(), (d / "out" / "cells.txt").read_bytes()
    inspector = open_workspace(d / "inspector")
    cells = cell_file.read(cells_txt)
    others = [c for c in cells.cells if c not in (a, b)]
    for n, (phase, opened) in enumerate((("phase-1", [a]), ("phase-2", [b]), ("final", others))):
        bundle = reveal_cells(d, capsys, phase, *opened).read_bytes()
        report = check_bundle(parse_signed(loads(escrow_json)), parse_signed(loads(bundle)), cells)
        assert report.valid
        record_verification(inspector, report, [], escrow_json=escrow_json, cells_txt=cells_txt, bundle=bundle, leaves=None,
                            territory_geojson=None, now=NOW.replace(minute=n))
    code, st = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert code == 0 and st["opened"] == st["cells"]
    assert st["totals"]["warhead"] == {"declared": 3, "opened": 3}  # the numbers agree…
    assert st["reconciled"] is False  # …but one warhead is counted twice
    assert [(p["phase"], p["reason"]) for p in st["problems"]] == [("phase-2", "serial-duplicate")]
    assert "'phase-1'" in st["problems"][0]["detail"] and st["problems"][0]["index"] == cells.cells.index(b)
    from unveil.cli.main import main

    assert main(["status", "--workspace", str(d / "inspector")]) == 0  # for a person
    printed = capsys.readouterr().out
    assert "serial-duplicate" in printed and "NOT reconciled" in printed and "problems" in printed
    code, own = cli(capsys, "status", "--workspace", str(d / "host"))  # the host's own records show it too
    assert code == 0 and own["problems"] == st["problems"] and own["reconciled"] is False


# --- the host key pinned per escrow (spec §6) -------------------------------------------------


def impostor_files(d: Path) -> tuple[Path, Path]:
    """The host's own escrow and phase-1 bundle, re-signed by another key under the name Host."""
    impostor = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"impostor").digest())
    (d / "forged").mkdir()
    for name in ("escrow.json", "reveal-p1.json"):
        doc = json.loads((d / "out" / name).read_text())
        (d / "forged" / name).write_text(json.dumps(sign_statement(doc["statement"], [impostor])))
    return d / "forged" / "escrow.json", d / "forged" / "reveal-p1.json"


def host_with_a_phase(d: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, *commit_args(d))[0] == 0
    assert cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1",
               "--bbox", "9.9,44.9,10.3,45.6", "--out", str(d / "out" / "reveal-p1.json"))[0] == 0


@pytest.mark.parametrize("first", ["accept --trust", "verify --trust", "accept (trust on first use)"])
def test_a_key_pinned_once_is_the_trust_for_the_escrow(ws: dict[str, Any], capsys: pytest.CaptureFixture[str], first: str) -> None:
    d, key = ws["dir"], ws["host"]["vkey"]
    host_with_a_phase(d, capsys)
    files = ["--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt")]
    if first == "verify --trust":
        code, out = cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json", "--trust", key))
        assert code == 0 and out["host_key_pinned"] is True
    else:
        code, out = cli(capsys, "accept", "--workspace", str(d / "inspector"), *files, *(["--trust", key] if "--trust" in first else []))
        assert code == 0 and out["host_key_pinned"] is ("--trust" in first)
    pinned = "on first use" not in first
    escrow, bundle = impostor_files(d)
    before = snapshot(d / "inspector")
    forged = ["verify", str(bundle), "--escrow", str(escrow), "--cells", str(d / "out" / "cells.txt"), "--workspace", str(d / "inspector")]
    code, report = cli(capsys, *forged)
    assert code == 1 and {p["reason"] for p in report["problems"]} == {"escrow-signature-untrusted", "signature-untrusted"}
    assert report["host_key_pinned"] is pinned
    if pinned:  # naming the impostor's key does not re-pin the escrow
        impostor = json.loads(escrow.read_text())["signatures"][0]["vkey"]
        code, out = cli(capsys, *forged, "--trust", impostor)
        assert code == 2 and "--trust" in out["error"] and "pinned" in out["error"]
        code, out = cli(capsys, "accept", "--workspace", str(d / "inspector"), "--escrow", str(escrow), "--cells", str(d / "out" / "cells.txt"),
                        "--trust", impostor)
        assert code == 2 and "pinned" in out["error"]
    # the genuine files still verify, with or without naming the pinned key
    code, report = cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json"))
    assert code == 0 and report["host_key_pinned"] is pinned
    if pinned:
        assert cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json", "--trust", key))[0] == 0
    rows = sqlite3.connect(d / "inspector" / "workspace.db").execute("SELECT escrow_id, vkey FROM pinned_keys").fetchall()
    assert rows == ([("test-1", key)] if pinned else [])
    assert snapshot(d / "inspector") != before  # the refusals were recorded as invalid verifications


def test_a_workspace_of_the_previous_schema_is_migrated_and_keeps_working(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from unveil.store import workspace_db

    d, key = ws["dir"], ws["host"]["vkey"]
    host_with_a_phase(d, capsys)
    old = d / "old"
    (old / "keys").mkdir(parents=True)
    for pem in (d / "inspector" / "keys").iterdir():
        (old / "keys" / pem.name).write_bytes(pem.read_bytes())
    db = sqlite3.connect(old / "workspace.db")
    db.executescript(workspace_db.SCHEMA_V1)  # exactly what version 1 created
    meta = dict(sqlite3.connect(d / "inspector" / "workspace.db").execute("SELECT key, value FROM meta"))
    db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [*((k, v) for k, v in meta.items() if k != "schema_version"), ("schema_version", "1")])
    db.commit()
    db.close()
    code, report = cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json", "--trust", key)[:-2], "--workspace", str(old), "--trust", key)
    assert code == 0 and report["recorded"], report
    db = sqlite3.connect(old / "workspace.db")
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(workspace_db.SCHEMA_VERSION),)
    assert db.execute("SELECT vkey FROM pinned_keys").fetchall() == [(key,)]
    code, st = cli(capsys, "status", "--workspace", str(old))
    assert code == 0 and [p["phase"] for p in st["phases"]] == ["p1"] and st["problems"] == []
    newer = workspace_db.SCHEMA_VERSION + 1
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(newer),))  # a newer version's workspace
    db.commit()
    code, out = cli(capsys, "status", "--workspace", str(old))
    assert code == 2 and f"schema version {newer}" in out["error"]


# --- a bundle that differs from the board's -------------------------------------------------


def test_a_bundle_other_than_the_boards_for_its_phase_is_a_phase_conflict(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The host shows the inspector a bundle for phase p1 that is not the file it logged on the
    board (mirrored in the workspace by unveil sync)."""
    from unveil.board.events import make_event
    from unveil.core.jcs import canonicalize
    from unveil.store import witness_db
    from unveil.store.workspace_db import transaction

    d, key = ws["dir"], ws["host"]["vkey"]
    host_with_a_phase(d, capsys)
    data = (d / "out" / "reveal-p1.json").read_bytes()
    logged = hashlib.sha256(data + b" ").hexdigest()  # the board logs another file as p1
    host_key = open_workspace(d / "host").statement_key()
    event = make_event("reveal.published", "test-1", "2019-01-18T15:00:00Z", {"phase": "p1", "sha256": logged, "openings": 3}, [host_key])
    other = make_event("reveal.published", "test-1", "2019-01-18T15:00:00Z",
                       {"phase": "p2", "sha256": "a" * 64, "openings": 1}, [host_key])  # another phase: no conflict
    with open_workspace(d / "inspector").connect() as db, transaction(db):
        witness_db.ensure_tables(db)
        witness_db.mirror_append(db, "board.example", 0, [canonicalize(other), canonicalize(event)])
    code, report = cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json", "--trust", key))
    assert code == 1 and [p["reason"] for p in report["problems"]] == ["phase-conflict"]
    assert "board.example" in report["problems"][0]["detail"] and logged in report["problems"][0]["detail"]
    honest = make_event("reveal.published", "test-1", "2019-01-18T15:00:01Z",
                        {"phase": "p1", "sha256": hashlib.sha256(data).hexdigest(), "openings": 3}, [host_key])
    with open_workspace(d / "inspector").connect() as db, transaction(db):
        db.execute("DELETE FROM board_entries")
        witness_db.mirror_append(db, "board.example", 0, [canonicalize(other), canonicalize(honest)])
    assert cli(capsys, *verify_args(d, d / "out" / "reveal-p1.json", "--trust", key))[0] == 0
