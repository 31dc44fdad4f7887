"""A phase in numbered parts (spec §5.1): the host writes parts under --max-part-bytes, each
verifies alone, a whole phase verifies as a directory or as its files, and everything hostile
(a missing part, parts that overlap or disagree, a part twice, out-of-range numbers, a
foreign key, an oversized part) is reported with its code; a workspace records parts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_workflow import commit_args, snapshot
from tests.workflow_fixtures import CSV, TERRITORY, cli
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.parts import PartSummary, across_parts, group_by_size, summarize
from unveil.core.reveal import PART_MAX_BYTES, parse_reveal
from unveil.core.statements import sign_statement
from unveil.errors import MalformedInputError
from unveil.workspace.workspace import open_workspace


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A host and an inspector workspace beside the territory and the declaration."""
    (tmp_path / "territory.geojson").write_text(json.dumps(TERRITORY))
    (tmp_path / "declaration.csv").write_text(CSV)
    code, host = cli(capsys, "init", "--workspace", str(tmp_path / "host"), "--role", "host", "--name", "Host")
    assert code == 0
    assert cli(capsys, "init", "--workspace", str(tmp_path / "inspector"), "--role", "inspector", "--name", "Inspector")[0] == 0
    return {"dir": tmp_path, "host": host}


BBOX = "9.9,44.9,10.7,45.6"  # all of Testland: 76 cells at resolution 6
LIMIT = 5000


def reveal_in_parts(d: Path, capsys: pytest.CaptureFixture[str], phase: str = "p1", limit: int = LIMIT, *extra: str) -> dict[str, Any]:
    assert cli(capsys, *commit_args(d))[0] == 0
    code, done = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", phase, "--bbox", BBOX,
                     "--out", str(d / "out" / f"reveal-{phase}.json"), "--max-part-bytes", str(limit), *extra)
    assert code == 0, done
    return dict(done)


def verify(capsys: pytest.CaptureFixture[str], d: Path, *bundles: Path, workspace: bool = False) -> tuple[int, Any]:
    args = ["verify", *map(str, bundles), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt")]
    return cli(capsys, *args, *(["--workspace", str(d / "inspector")] if workspace else []))


def resign(path: Path, change: Any, key: SigningKey, out: Path) -> Path:
    """The bundle at ``path`` with ``change(statement)`` applied, signed by ``key``."""
    statement = json.loads(path.read_text())["statement"]
    change(statement)
    out.write_text(json.dumps(sign_statement(statement, [key]), indent=1))
    return out


def host_key(d: Path) -> SigningKey:
    return open_workspace(d / "host").statement_key()


# --- writing parts ------------------------------------------------------------------------------


def test_a_phase_over_the_limit_is_written_as_parts_each_under_it_and_in_order(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    done = reveal_in_parts(d, capsys)
    paths = [Path(p) for p in done["parts"]]
    n = len(paths)
    assert n >= 2 and not (d / "out" / "reveal-p1.json").exists()
    assert [p.name for p in paths] == [f"reveal-p1.part-{k}-of-{n}.json" for k in range(1, n + 1)]
    last = -1
    total = 0
    for k, path in enumerate(paths, start=1):
        data = path.read_bytes()
        assert len(data) <= LIMIT
        reveal = parse_reveal(parse_signed(loads(data), "$").statement)
        assert (reveal.part, reveal.parts, reveal.phase) == (k, n, "p1")
        assert reveal.openings[0].index > last
        last = reveal.openings[-1].index
        total += len(reveal.openings)
    assert total == done["openings"] == 76


def test_a_phase_that_fits_is_one_file_exactly_as_before(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """No part fields, no part files: the bytes of a single-file reveal do not change."""
    d = ws["dir"]
    done = reveal_in_parts(d, capsys, "p1", PART_MAX_BYTES)
    assert "parts" not in done
    statement = json.loads((d / "out" / "reveal-p1.json").read_text())["statement"]
    assert "part" not in statement and "parts" not in statement
    assert sorted(p.name for p in (d / "out").glob("*.part-*")) == []


@pytest.mark.parametrize("limit", ["0", "100", str(PART_MAX_BYTES + 1)])
def test_an_impossible_part_size_is_refused_and_nothing_is_written(ws: dict[str, Any], capsys: pytest.CaptureFixture[str], limit: str) -> None:
    d = ws["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    before = snapshot(d / "out"), snapshot(d / "host")
    code, out = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1", "--bbox", BBOX,
                    "--out", str(d / "out" / "reveal-p1.json"), "--max-part-bytes", limit)
    assert code == 2 and "--max-part-bytes" in out["error"], out
    assert (snapshot(d / "out"), snapshot(d / "host")) == before


def test_only_part_one_opens_the_totals(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0  # plutonium and heu sealed
    code, done = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1", "--bbox", BBOX,
                     "--out", str(d / "out" / "reveal-p1.json"), "--max-part-bytes", str(LIMIT), "--open-totals")
    assert code == 0, done
    has_totals = ["totals" in json.loads(Path(p).read_text())["statement"] for p in done["parts"]]
    assert has_totals[0] and not any(has_totals[1:])
    assert verify(capsys, d, d / "out")[0] == 0


# --- verifying parts ------------------------------------------------------------------------------


def test_each_part_verifies_alone_and_names_itself(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    code, report = verify(capsys, d, parts[1])
    assert code == 0 and report["valid"] and (report["part"], report["parts"]) == (2, len(parts)), report


def test_a_whole_phase_verifies_from_its_directory_or_its_files(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    code, report = verify(capsys, d, d / "out")
    assert code == 0 and report["valid"] and report["parts"] == len(parts) and report["openings"] == 76, report
    assert [f["file"] for f in report["files"]] == [str(p) for p in parts]
    code, report = verify(capsys, d, *reversed(parts))
    assert code == 0 and report["valid"] and report["problems"] == [], report


def test_a_missing_part_makes_the_phase_incomplete(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    code, report = verify(capsys, d, *parts[1:])
    assert code == 1 and not report["valid"]
    assert [p["reason"] for p in report["problems"]] == ["part-missing"] and "part 1 " in report["problems"][0]["detail"]
    assert all(f["valid"] for f in report["files"])  # each part is still valid alone


def test_a_part_given_twice_is_a_duplicate(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    code, report = verify(capsys, d, *parts, parts[0])
    assert code == 1 and [p["reason"] for p in report["problems"]] == ["part-duplicate"], report


def test_parts_that_overlap_are_refused(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The host re-cuts part 2 to begin with part 1's last cell: each part is still a valid
    bundle alone, but together they overlap."""
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    from unveil.workspace import host as host_service

    first = parse_reveal(json.loads(parts[0].read_text())["statement"])
    second = parse_reveal(json.loads(parts[1].read_text())["statement"])
    indices = [first.openings[-1].index, *(o.index for o in second.openings)]
    tmp = d / "other"
    with open_workspace(d / "host").connect() as db:
        from unveil.store import workspace_queries as q

        row = q.sealed(db, "test-1")
        assert row is not None
        contents = {c: loads(t) for c, t in q.contents(db, "test-1").items()}
    from unveil.core import cells as cell_file
    from unveil.core.build import reveal_statement
    from unveil.core.escrow import parse_escrow
    from unveil.escrowing import open_cells

    escrow = parse_escrow(loads(row.escrow_json)["statement"])
    openings, proof = open_cells(row.master_secret, "test-1", cell_file.read(row.cells_txt).cells, contents, row.leaves, indices)
    statement = reveal_statement(escrow=escrow, phase="p1", openings=openings, proof=proof)
    statement.update({"part": 2, "parts": len(parts)})
    tmp.mkdir()
    forged = tmp / "reveal-p1.part-2-of-x.json"
    forged.write_bytes(host_service.dump(sign_statement(statement, [host_key(d)])))
    assert verify(capsys, d, forged)[0] == 0  # alone, a valid part
    code, report = verify(capsys, d, parts[0], forged, *parts[2:])
    assert code == 1 and [p["reason"] for p in report["problems"]] == ["part-overlap"], report
    assert report["problems"][0]["index"] == first.openings[-1].index


def test_parts_that_disagree_on_their_count_or_phase_are_refused(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    n = len(parts)
    more = resign(parts[1], lambda s: s.update(parts=n + 1), host_key(d), d / "more.json")
    code, report = verify(capsys, d, parts[0], more, *parts[2:])
    assert code == 1 and "parts-mismatch" in [p["reason"] for p in report["problems"]], report
    other = resign(parts[1], lambda s: s.update(phase="p2"), host_key(d), d / "other.json")
    code, report = verify(capsys, d, parts[0], other, *parts[2:])
    assert code == 1 and "parts-mismatch" in [p["reason"] for p in report["problems"]], report


def test_a_part_signed_by_another_key_is_invalid(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    impostor = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"impostor").digest())
    forged = resign(parts[1], lambda s: None, impostor, d / "forged.json")
    code, report = cli(capsys, "verify", str(parts[0]), str(forged), *map(str, parts[2:]), "--escrow", str(d / "out" / "escrow.json"),
                       "--cells", str(d / "out" / "cells.txt"), "--trust", ws["host"]["vkey"])
    assert code == 1 and not report["files"][1]["valid"] and report["files"][0]["valid"], report
    assert any(p["reason"].startswith("signature") for p in report["files"][1]["problems"]), report["files"][1]


@pytest.mark.parametrize(("change", "field"), [
    (lambda s: s.update(part=0), "part"),
    (lambda s: s.update(part=s["parts"] + 1), "part"),
    (lambda s: s.update(parts=1, part=1), "parts"),
    (lambda s: s.pop("parts"), "parts"),
    (lambda s: s.update(parts=10**6), "parts"),  # more parts than the escrow has cells
    (lambda s: s.update(part="2"), "part"),
])
def test_part_numbers_out_of_range_are_malformed(ws: dict[str, Any], capsys: pytest.CaptureFixture[str], change: Any, field: str) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    bad = resign(parts[1], change, host_key(d), d / "bad.json")
    code, out = verify(capsys, d, bad)
    assert code == 2 and field in out["error"] and "bad.json" in out["error"], out


def test_totals_in_a_part_other_than_the_first_are_malformed() -> None:
    statement = {"type": "unveil/reveal/v1", "escrow_id": "e", "root": "00" * 32, "tree_size": 4, "phase": "p", "part": 2, "parts": 2,
                 "openings": [{"index": 0, "cell": "a", "salt": "00" * 32, "content": {"cell": "a", "sites": []}}], "proof": [],
                 "totals": {"salt": "00" * 32, "content": {}}}
    with pytest.raises(MalformedInputError, match="only part 1"):
        parse_reveal(statement)
    statement["part"] = 1
    assert parse_reveal(statement).part == 1


def test_an_oversized_part_is_too_large(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """A part file over 16 MiB (here padded with white space, which changes no signed byte)."""
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    big = d / "big.json"
    big.write_bytes(parts[0].read_bytes() + b" " * (PART_MAX_BYTES + 1))
    code, report = verify(capsys, d, big)
    assert code == 1 and [p["reason"] for p in report["problems"]] == ["part-too-large"], report


# --- a workspace records parts --------------------------------------------------------------------


def test_a_workspace_records_each_part_and_reports_the_phase_complete(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    n = len(parts)
    code, report = verify(capsys, d, parts[0], workspace=True)
    assert code == 0 and report["recorded"], report
    code, status = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert code == 0 and status["phases_in_parts"] == [
        {"phase": "p1", "parts": n, "held": [1], "missing": list(range(2, n + 1)), "complete": False, "final": None}]
    code, report = verify(capsys, d, d / "out", workspace=True)
    assert code == 0 and report["valid"] and report["recorded"], report
    code, status = cli(capsys, "status", "--workspace", str(d / "inspector"))
    assert code == 0 and status["opened"] == 76
    assert [(p["phase"], p["part"], p["parts"]) for p in status["phases"]] == [("p1", k, n) for k in range(1, n + 1)]
    assert status["phases_in_parts"][0]["complete"] and status["phases_in_parts"][0]["missing"] == []
    code, status = cli(capsys, "status", "--workspace", str(d / "host"))  # the host recorded its parts when it wrote them
    assert code == 0 and status["phases_in_parts"][0]["complete"] and status["opened"] == 76


def test_a_workspace_refuses_a_part_that_disagrees_with_the_parts_it_recorded(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    n = len(parts)
    assert verify(capsys, d, parts[0], workspace=True)[0] == 0
    more = resign(parts[1], lambda s: s.update(parts=n + 1), host_key(d), d / "more.json")
    code, report = verify(capsys, d, more, workspace=True)
    assert code == 1 and [p["reason"] for p in report["problems"]] == ["parts-mismatch"], report
    again = resign(parts[0], lambda s: s["openings"].pop(), host_key(d), d / "again.json")  # part 1 again, other contents
    code, report = verify(capsys, d, again, workspace=True)
    assert code == 1 and "phase-conflict" in [p["reason"] for p in report["problems"]], report
    whole = resign(parts[1], lambda s: (s.pop("part"), s.pop("parts")), host_key(d), d / "whole.json")  # the phase as one file
    code, report = verify(capsys, d, whole, workspace=True)
    assert code == 1 and "phase-conflict" in [p["reason"] for p in report["problems"]], report
    assert verify(capsys, d, parts[1], workspace=True)[0] == 0  # the real part 2 still records


def test_an_id_repeated_across_parts_is_a_duplicate() -> None:
    site = {"id": "S-1", "kind": "other", "items": []}
    one = PartSummary("p", 1, 2, 0, 3, ((3, {"cell": "a", "sites": [site]}),))
    two = PartSummary("p", 2, 2, 5, 9, ((7, {"cell": "b", "sites": [site]}),))
    problems = across_parts([one, two])
    assert [(p.index, p.reason) for p in problems] == [(7, "site-id-duplicate")] and "p part 1" in problems[0].detail
    assert across_parts([one, two], ids=False) == []


def test_across_parts_names_missing_parts_without_counting_to_a_huge_parts() -> None:
    one = PartSummary("p", 1, 2**53 - 1, 0, 0, ())
    problems = across_parts([one])
    assert [p.reason for p in problems] == ["part-missing"] and "and 9007199254740970 more" in problems[0].detail


def test_a_single_bundle_is_a_whole_phase_and_needs_nothing_across() -> None:
    statement = {"type": "unveil/reveal/v1", "escrow_id": "e", "root": "00" * 32, "tree_size": 4, "phase": "p",
                 "openings": [{"index": 0, "cell": "a", "salt": "00" * 32, "content": {"cell": "a", "sites": []}}], "proof": []}
    whole = summarize(parse_reveal(statement))
    assert whole.part is None and across_parts([whole]) == []
    assert [p.reason for p in across_parts([whole, whole])] == ["parts-mismatch"]


def test_group_by_size_keeps_runs_under_the_budget() -> None:
    assert group_by_size([3, 3, 3, 3], 6) == [(0, 2), (2, 4)]
    assert group_by_size([7, 1, 1], 6) == [(0, 1), (1, 3)]  # an item over the budget stands alone (the caller refuses it)
    assert group_by_size([], 6) == []


def test_parts_round_trip_and_open_exactly_what_one_file_opens(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """Each part file reads back to its signed statement and is written again to its own
    bytes, and the parts together open exactly the openings that one file of the same cells
    opens."""
    from unveil.workspace.reveal_parts import part_file

    d = ws["dir"]
    parts = [Path(p) for p in reveal_in_parts(d, capsys)["parts"]]
    code, whole = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p2", "--bbox", BBOX,
                      "--out", str(d / "out" / "reveal-p2.json"))
    assert code == 0 and "parts" not in whole and len(whole["reopened"]) == 76
    one = json.loads((d / "out" / "reveal-p2.json").read_text())["statement"]
    joined = []
    for path in parts:
        data = path.read_bytes()
        signed = json.loads(data)
        assert part_file(signed["statement"], [host_key(d)]) == data  # the writer's own form, byte for byte (Ed25519 is deterministic)
        joined += json.loads(data)["statement"]["openings"]
    assert canonical(joined) == canonical(one["openings"])
    assert verify(capsys, d, d / "out" / "reveal-p2.json")[0] == 0


def canonical(value: Any) -> bytes:
    from unveil.core.jcs import canonicalize

    return canonicalize(value)


def test_the_published_part_vectors_make_one_whole_phase() -> None:
    vectors = Path(__file__).resolve().parent / "vectors" / "h3" / "bundles"
    parts = [summarize(parse_reveal(parse_signed(loads((vectors / f"part-{k}-of-2.json").read_bytes()), "$").statement)) for k in (1, 2)]
    assert [(p.part, p.parts) for p in parts] == [(1, 2), (2, 2)]
    assert across_parts(parts) == [] and across_parts(parts[1:])[0].reason == "part-missing"


def test_the_human_reports_name_the_parts(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from tests.workflow_fixtures import unveil

    d = ws["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    code, text = unveil("reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", "p1", "--bbox", BBOX,
                        "--out", str(d / "out" / "reveal-p1.json"), "--max-part-bytes", str(LIMIT))
    n = len(list((d / "out").glob("reveal-p1.part-*")))
    assert code == 0 and f"into {n} parts" in text and f"reveal-p1.part-1-of-{n}.json" in text, text
    parts = sorted((d / "out").glob("reveal-p1.part-*"))
    code, text = unveil("verify", str(parts[0]), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"))
    assert code == 0 and f"part 1 of {n}" in text, text
    code, text = unveil("verify", *map(str, parts[1:]), "--escrow", str(d / "out" / "escrow.json"), "--cells", str(d / "out" / "cells.txt"))
    assert code == 1 and "INVALID" in text and "part-missing" in text, text
    code, text = unveil("status", "--workspace", str(d / "host"))
    assert code == 0 and f"p1 (part 1 of {n})" in text and f"phase p1 in {n} parts: complete" in text, text


def test_a_phase_that_fits_only_one_opening_a_line_is_still_one_file(ws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """No "part 1 of 1" (spec §5.1): a phase too large pretty-printed but not one opening a
    line is one file, written one opening a line."""
    from unveil.workspace.reveal_parts import part_file

    d = ws["dir"]
    assert cli(capsys, *commit_args(d))[0] == 0
    (d / "few.txt").write_text("".join(c + "\n" for c in (d / "out" / "cells.txt").read_text().split()[:6]))

    def reveal(phase: str, *limit: str) -> Any:
        code, done = cli(capsys, "reveal", "--workspace", str(d / "host"), "--escrow-id", "test-1", "--phase", phase, "--cells",
                         str(d / "few.txt"), "--out", str(d / "out" / f"reveal-{phase}.json"), *limit)
        assert code == 0, done
        return done

    reveal("pretty")
    pretty = (d / "out" / "reveal-pretty.json").read_bytes()
    compact = part_file(json.loads(pretty)["statement"], [host_key(d)])
    assert len(compact) < len(pretty)
    done = reveal("compact", "--max-part-bytes", str((len(compact) + len(pretty)) // 2 + 40))  # room for the longer phase name
    assert "parts" not in done
    statement = json.loads((d / "out" / "reveal-compact.json").read_text())["statement"]
    assert "part" not in statement and len(statement["openings"]) == 6
    assert verify(capsys, d, d / "out" / "reveal-compact.json")[0] == 0
    limit = len(compact) - 1
    done = reveal("two-parts", "--max-part-bytes", str(limit))  # one opening a line no longer fits: parts, never one
    assert len(done["parts"]) >= 2 and all(Path(p).stat().st_size <= limit for p in done["parts"])
    assert verify(capsys, d, *map(Path, done["parts"]))[0] == 0


def test_a_version_2_workspace_keeps_its_phases_as_whole_files(tmp_path: Path) -> None:
    """Schema 2 -> 3 (one row per part): every recorded phase stays, as a whole file (part 0)."""
    import sqlite3

    from unveil.store import workspace_db
    from unveil.store import workspace_queries as q

    path = tmp_path / "workspace.db"
    db = sqlite3.connect(path)
    db.executescript(workspace_db.SCHEMA_V1)
    db.execute(workspace_db.MIGRATIONS[2])
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '2')")
    db.execute("INSERT INTO escrows (escrow_id, own, escrow_json, cells_txt, recorded) VALUES ('e', 0, x'7b7d', x'', 't')")
    db.execute("INSERT INTO phases (escrow_id, phase, bundle_json, sha256, openings, recorded) VALUES ('e', 'p1', x'7b7d', 'aa', 3, 't1')")
    db.commit()
    db.close()
    assert workspace_db.read_meta(path)["schema_version"] == str(workspace_db.SCHEMA_VERSION)
    db = workspace_db.connect(path)
    assert q.phases(db, "e") == [q.PhaseRow("p1", 3, "aa", "t1")]
    assert q.phase_bundle(db, "e", "p1") == (b"{}", "aa") and q.phase_files(db, "e", "p1")[0].part == 0
    db.close()


def test_a_part_that_overflows_is_undone_and_the_phase_cut_again() -> None:
    """The multiproof of a part can exceed the allowance: every part handed over is undone,
    and the phase is cut again until each fits (here a proof of 20 hashes for the part that
    opens index 0)."""
    from unveil.core.commitments import Salter
    from unveil.core.escrow import parse_escrow
    from unveil.core.keys import SigningKey
    from unveil.workspace import reveal_parts

    vectors = Path(__file__).resolve().parent / "vectors" / "h3"
    escrow = parse_escrow(json.loads((vectors / "escrow.json").read_text())["statement"])
    key = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"overflow").digest())
    openings = [{"index": i, "cell": f"c{i:02d}", "salt": "00" * 32, "content": {"cell": f"c{i:02d}", "sites": []}} for i in range(40)]
    sizes = [len(line) + 2 for line in reveal_parts.opening_lines(openings)]
    undone, kept = [], []

    def attempt(build: Any) -> None:
        puts: list[tuple[int, int, int, list[int]]] = []
        try:
            build(lambda k, n, data, held: puts.append((k, n, len(data), [o["index"] for o in held])))
        except BaseException:
            undone.append(len(puts))
            raise
        kept.extend(puts)

    limit = 3000
    n = reveal_parts.write_parts(
        escrow=escrow, phase="p", count=40, openings_of=lambda a, b: openings[a:b], sizes=sizes,
        proof_of=lambda indices: [b"\x00" * 32] * (20 if 0 in indices else 2), keys=[key], limit=limit, totals=None,
        salter=Salter(b"\x01" * 32, escrow.escrow_id), attempt=attempt)
    assert undone and n == len(kept) >= 2
    assert all(size <= limit and parts == n for _, parts, size, _ in kept) and [k for k, *_ in kept] == list(range(1, n + 1))
    assert [i for *_, held in kept for i in held] == list(range(40))
