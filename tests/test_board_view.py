"""The board's inspections, cells.txt files and views (spec §7 ``inspection.reported``, §11
``PUT/GET /cells``, ``GET /view/…``): the protocol, the pure views, the API, and the hostile
cases (wrong author, unopened cell, duplicates, wrong hash, unknown escrow, bad ranges)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.board_fixtures import storage_url  # noqa: F401  (the fixture)
from tests.test_api import refusal
from tests.test_board_core import (
    CELLS,
    DECL,
    ESCROW_ID,
    HOST,
    INSPECTOR,
    MALLORY,
    OBSERVER,
    ORIGIN,
    PARTIES,
    event,
    new_log,
    publish,
    reveal_event,
)
from unveil.api.app import create_app
from unveil.api.errors import json_bytes
from unveil.board.audit import audit
from unveil.board.cells import check_cells
from unveil.board.log import Log, MemoryStorage
from unveil.board.view import BoardView, final_size_of
from unveil.core import cells as cell_file
from unveil.core.escrow import parse_escrow
from unveil.errors import BoardRefused, MalformedInputError

CELLS_TXT = cell_file.render(CELLS)
CELLS_SHA = hashlib.sha256(CELLS_TXT).hexdigest()


def inspection(cell: str = "depot-02", *, phase: str = "phase-1", site: str | None = "D-2", outcome: str = "confirmed",
               detail: str = "4 warheads counted", context: str | None = None, key: Any = INSPECTOR) -> dict[str, Any]:
    body = {"phase": phase, "cell": cell, "site_id": site, "outcome": outcome, "detail": detail, "context": context}
    return event("inspection.reported", body, key)


def discrepancy(cell: str = "depot-07", id: str = "d-1") -> dict[str, Any]:
    return event("discrepancy.raised", {"id": id, "phase": "phase-2", "cell": cell, "detail": "more seen", "intel": None}, INSPECTOR)


def two_phases() -> tuple[Log, MemoryStorage]:
    """Published, phase-1 opens cells 0..2 (depot-02 declares D-2), phase-2 opens 5..6."""
    log, storage = new_log()
    log.submit(publish())
    log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1, 2])))
    log.submit(reveal_event(log, DECL.bundle("phase-2", [5, 6]), phase="phase-2"))
    return log, storage


def refused(log: Log, doc: dict[str, Any], reason: str) -> None:
    size = log.size
    with pytest.raises(BoardRefused) as caught:
        log.submit(doc)
    assert caught.value.reason == reason, caught.value.message
    assert log.size == size  # nothing logged


# --- inspection.reported -------------------------------------------------------------------------


def test_an_inspector_reports_an_opened_cell_and_the_audit_replays_it() -> None:
    log, storage = two_phases()
    assert log.submit(inspection()).index == 3
    assert log.submit(inspection("depot-07", phase="phase-2", site="D-7", outcome="not-found")).index == 4
    assert log.submit(inspection(site=None, context="phase-1:inspect")).index == 5  # another context
    report = audit([e for _, e in storage.load_entries()], PARTIES, ORIGIN, [], bundles=storage.get_bundle)
    assert report.ok, report.problems
    assert len(log.state.inspections) == 3


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (inspection(key=HOST), "role-not-allowed"),
        (inspection(key=OBSERVER), "role-not-allowed"),
        (inspection(key=MALLORY), "author-unknown"),
        (inspection("depot-04", site=None), "cell-not-opened"),
        (inspection("depot-07", site="D-7"), "cell-not-opened"),  # opened by phase-2, not phase-1
        (inspection(phase="phase-9"), "phase-unknown"),
        (inspection(site="D-7"), "site-unknown"),  # D-7 is in depot-07
        (inspection(site="D-99"), "site-unknown"),
    ],
)
def test_hostile_inspection_reports_are_refused(doc: dict[str, Any], reason: str) -> None:
    log, _ = two_phases()
    refused(log, doc, reason)


def test_one_report_per_cell_site_and_context() -> None:
    log, _ = two_phases()
    log.submit(inspection())
    refused(log, inspection(outcome="refused", detail="again"), "inspection-duplicate")
    assert log.submit(inspection()).created is False  # the byte-identical repeat is idempotent


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"detail": "x" * 1001}, "detail"),
        ({"outcome": "maybe"}, "outcome"),
        ({"cell": ""}, "cell"),
        ({"cell": "c" * 65}, "cell"),
        ({"site_id": "not an id"}, "site_id"),
        ({"context": 3}, "context"),
    ],
)
def test_malformed_inspection_bodies_name_the_field(change: dict[str, Any], field: str) -> None:
    body = {"phase": "phase-1", "cell": "depot-02", "site_id": None, "outcome": "confirmed", "detail": "", "context": None, **change}
    with pytest.raises(MalformedInputError) as caught:
        event("inspection.reported", body, INSPECTOR)
    assert f"statement.body.{field}" in str(caught.value)


def test_an_inspection_of_an_unknown_escrow_is_refused() -> None:
    log, _ = two_phases()
    body = {"phase": "phase-1", "cell": "depot-02", "site_id": None, "outcome": "confirmed", "detail": "", "context": None}
    refused(log, event("inspection.reported", body, INSPECTOR, escrow_id="nobody"), "escrow-unknown")


# --- cells.txt ---------------------------------------------------------------------------------


def test_cells_are_stored_only_for_a_published_escrow_with_that_hash() -> None:
    log, storage = new_log()
    with pytest.raises(BoardRefused) as caught:
        log.put_cells(CELLS_SHA, CELLS_TXT)
    assert caught.value.reason == "cells-unknown"
    log.submit(publish())
    with pytest.raises(BoardRefused) as caught:
        log.put_cells(CELLS_SHA, CELLS_TXT + b"depot-99\n")
    assert caught.value.reason == "sha256-mismatch"
    assert log.put_cells(CELLS_SHA, CELLS_TXT) is True
    assert log.put_cells(CELLS_SHA, CELLS_TXT) is False  # replayed upload: held already
    assert log.purge_bundles(0) == 0 and storage.get_bundle(CELLS_SHA) == CELLS_TXT  # never purged


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"depot-01\ndepot-02", "does not end"),  # not newline-terminated
        (b"depot-02\ndepot-01\n", "strictly after"),
        (b"depot-01\n", "lines"),  # one line, the grid says two
        (b"depot-01\r\ndepot-02\r\n", "carriage return"),
        (b"depot-01\n" * 200, "more than"),  # oversized for its cell count
    ],
)
def test_cells_that_are_not_the_grids_list_are_refused(data: bytes, why: str) -> None:
    sha = hashlib.sha256(data).hexdigest()
    statement = {**DECL.statement, "grid": {"system": "list", "cell_count": 2, "cells_sha256": sha}}
    with pytest.raises(BoardRefused) as caught:
        check_cells([parse_escrow(statement)], sha, data)
    assert caught.value.reason == "cells-invalid" and why in caught.value.message


# --- the views ---------------------------------------------------------------------------------


def exercised() -> tuple[Log, MemoryStorage]:
    log, storage = two_phases()
    log.put_cells(CELLS_SHA, CELLS_TXT)
    log.submit(inspection())  # step 1 (phase-2 is the latest reveal when it is logged)
    log.submit(discrepancy())
    log.submit(event("verification.recorded", {"phase": "phase-1", "sha256": log.state.reveals[(ESCROW_ID, "phase-1")],
                                               "valid": True, "problems": []}, OBSERVER))
    return log, storage


def folded(storage: MemoryStorage) -> BoardView:
    view = BoardView(PARTIES, ORIGIN)
    view.extend(e for _, e in storage.load_entries())
    return view


def test_the_cells_view_gives_each_cells_first_step_of_each_state() -> None:
    _, storage = exercised()
    doc = folded(storage).cells(ESCROW_ID, CELLS_TXT, storage.get_bundle)
    assert doc["steps"] == ["phase-1", "phase-2"]
    rows = {row[0]: row[1:] for row in doc["cells"]}
    assert [row[0] for row in doc["cells"]] == CELLS  # cells.txt order
    assert rows["depot-01"] == [0, -1, -1]
    assert rows["depot-02"] == [0, 1, -1]  # inspected at step 1: logged after phase-2's reveal
    assert rows["depot-07"] == [1, -1, 1]
    assert rows["depot-05"] == [-1, -1, -1]  # sealed
    assert json.loads(folded(storage).cells_json(ESCROW_ID, CELLS_TXT, storage.get_bundle)) == doc
    view = folded(storage)
    assert view.cells_json(ESCROW_ID, CELLS_TXT, storage.get_bundle) == json_bytes(view.cells(ESCROW_ID, CELLS_TXT, storage.get_bundle))


def test_summary_sites_events_and_log_views() -> None:
    log, storage = exercised()
    view = folded(storage)
    summary = view.summary(2, storage.has_bundle)
    (escrow,) = summary["escrows"]
    assert escrow["cells_held"] is True and escrow["tree_size"] == len(CELLS) and escrow["cells_sha256"] == CELLS_SHA
    assert [s["phase"] for s in escrow["steps"]] == ["phase-1", "phase-2"]
    assert [s["final"] for s in escrow["steps"]] == [True, False]  # entries 1 and 2, final size 2
    assert escrow["steps"][0]["verifications"][0]["author"] == "Observer" and escrow["steps"][0]["verifications"][0]["valid"]
    assert escrow["steps"][0]["openings"] == 3 and (escrow["inspections"], escrow["discrepancies"]) == (1, 1)
    assert summary["quorum"] == ["Inspector", "Observer"] and summary["size"] == log.size == 6
    sites = view.sites(ESCROW_ID, storage.get_bundle)["sites"]
    assert [(s["site_id"], s["cell"], s["phase"], s["step"]) for s in sites] == [("D-2", "depot-02", "phase-1", 0), ("D-7", "depot-07", "phase-2", 1)]
    assert sites[0]["items"] == [{"category": "warhead", "quantity": 4, "unit": "count", "type": None, "serials": []}]
    events = view.events(ESCROW_ID, 4)
    assert events["inspections"][0] | {"final": True} == events["inspections"][0]
    assert events["inspections"][0]["site_id"] == "D-2" and events["inspections"][0]["step"] == 1
    (raised,) = events["discrepancies"]
    assert raised["resolved"] is False and raised["final"] is False and raised["intel_predates_reveal"] is None
    page = view.log(1, 3, 2)
    assert [(e["index"], e["kind"], e["author"], e["final"]) for e in page["entries"]] == [(1, "reveal.published", "Host", True), (2, "reveal.published", "Host", False)]
    assert page["entries"][0]["summary"] == "phase-1 (3 openings)"


def test_a_resolved_discrepancy_stays_a_discrepancy() -> None:
    log, storage = exercised()
    log.submit(event("discrepancy.resolved", {"id": "d-1", "resolution": "miscount"}, INSPECTOR))
    view = folded(storage)
    assert view.events(ESCROW_ID, 0)["discrepancies"][0]["resolved"] is True
    assert {r[0]: r[3] for r in view.cells(ESCROW_ID, CELLS_TXT, storage.get_bundle)["cells"]}["depot-07"] == 1


def test_views_refuse_unknown_escrows_missing_cells_and_bad_ranges() -> None:
    _, storage = exercised()
    view = folded(storage)
    for bad in ("nobody", "../../etc", ""):
        with pytest.raises(BoardRefused) as caught:
            view.sites(bad, storage.get_bundle)
        assert caught.value.reason == "escrow-missing"
    with pytest.raises(BoardRefused) as caught:
        view.cells(ESCROW_ID, None, storage.get_bundle)
    assert caught.value.reason == "cells-missing"
    for start, end in ((-1, None), (view.size + 1, None), (3, 2)):
        with pytest.raises(BoardRefused) as caught:
            view.log(start, end, 0)
        assert caught.value.reason == "range-invalid"
    assert view.log(view.size, None, 0)["entries"] == []


def test_folding_in_steps_is_folding_at_once() -> None:
    _, storage = exercised()
    entries = [e for _, e in storage.load_entries()]
    once = folded(storage)
    stepwise = BoardView(PARTIES, ORIGIN)
    for entry in entries:
        stepwise.add(entry)
        stepwise.summary(0, storage.has_bundle)  # read between entries, as a server does
    assert stepwise.summary(0, storage.has_bundle) == once.summary(0, storage.has_bundle)
    assert stepwise.cells(ESCROW_ID, CELLS_TXT, storage.get_bundle) == once.cells(ESCROW_ID, CELLS_TXT, storage.get_bundle)


def test_final_size_needs_the_whole_quorum() -> None:
    assert final_size_of(PARTIES, {"Inspector": 5}) == 0
    assert final_size_of(PARTIES, {"Inspector": 5, "Observer": 3}) == 3


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[tuple[TestClient, Log]]:
    log, _ = exercised()
    with TestClient(create_app(log, max_bundle=4096)) as client:
        yield client, log


def test_put_and_get_cells_over_http(client: tuple[TestClient, Log]) -> None:
    http, log = client
    assert http.put(f"/cells/{CELLS_SHA}", content=CELLS_TXT).status_code == 200  # held already
    assert http.get(f"/cells/{CELLS_SHA}").content == CELLS_TXT
    refusal(http.put(f"/cells/{CELLS_SHA}", content=CELLS_TXT + b"x\n"), 400, "sha256-mismatch")
    other = b"depot-01\n"
    refusal(http.put(f"/cells/{hashlib.sha256(other).hexdigest()}", content=other), 404, "cells-unknown")
    refusal(http.get(f"/cells/{hashlib.sha256(other).hexdigest()}"), 404, "cells-missing")
    refusal(http.put(f"/cells/{CELLS_SHA}", content=b"d\n" * 4096), 413, "body-too-large")
    refusal(http.put("/cells/not-a-hash", content=CELLS_TXT), 400, "malformed")


def test_a_fresh_board_takes_the_cells_once(client: tuple[TestClient, Log]) -> None:
    log, storage = two_phases()
    with TestClient(create_app(log)) as http:
        refusal(http.get(f"/view/escrows/{ESCROW_ID}/cells"), 404, "cells-missing")
        answer = http.put(f"/cells/{CELLS_SHA}", content=CELLS_TXT)
        assert answer.status_code == 201 and answer.json() == {"sha256": CELLS_SHA, "escrow_ids": [ESCROW_ID]}
        assert http.put(f"/cells/{CELLS_SHA}", content=CELLS_TXT).status_code == 200
        cells = http.get(f"/view/escrows/{ESCROW_ID}/cells").json()
        assert len(cells["cells"]) == len(CELLS)
    assert storage.get_bundle(CELLS_SHA) == CELLS_TXT


def test_view_endpoints_over_http(client: tuple[TestClient, Log]) -> None:
    http, log = client
    summary = http.get("/view/summary").json()
    assert summary["origin"] == ORIGIN and summary["final_size"] == 0 and summary["escrows"][0]["escrow_id"] == ESCROW_ID
    cells = http.get(f"/view/escrows/{ESCROW_ID}/cells").json()
    assert cells["cells"][1] == ["depot-02", 0, 1, -1]
    assert http.get(f"/view/escrows/{ESCROW_ID}/sites").json()["sites"][0]["site_id"] == "D-2"
    assert http.get(f"/view/escrows/{ESCROW_ID}/events").json()["discrepancies"][0]["id"] == "d-1"
    assert [e["index"] for e in http.get("/view/log?start=2&end=4").json()["entries"]] == [2, 3]
    checkpoints = http.get("/view/checkpoints").json()
    assert checkpoints["latest"]["size"] == log.size and checkpoints["latest"]["root"] == log.root().hex()
    assert http.get("/view/agreements").json() == {"agreements": [], "draws": []}
    # the log grows: the views follow
    log.submit(inspection("depot-01", site=None))
    assert http.get(f"/view/escrows/{ESCROW_ID}/cells").json()["cells"][0] == ["depot-01", 0, 1, -1]
    assert http.get("/view/summary").json()["size"] == log.size


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/view/escrows/nobody/cells", 404, "escrow-missing"),
        ("/view/escrows/nobody/sites", 404, "escrow-missing"),
        ("/view/escrows/nobody/events", 404, "escrow-missing"),
        ("/view/escrows/..%2F..%2Fetc/cells", 404, "not-found"),
        ("/view/escrows/%2E%2E/cells", 404, "escrow-missing"),  # ".." is an id (spec §0): no such escrow
        ("/view/escrows/a%20b/sites", 400, "malformed"),
        ("/view/log?start=-1", 400, "malformed"),
        ("/view/log?start=999", 400, "range-invalid"),
        ("/view/log?start=3&end=1", 400, "range-invalid"),
        ("/view/log?start=x", 400, "malformed"),
    ],
)
def test_view_endpoints_refuse_bad_paths_and_ranges(client: tuple[TestClient, Log], path: str, status: int, reason: str) -> None:
    http, _ = client
    refusal(http.get(path), status, reason)


# --- storage: SQLite and PostgreSQL ----------------------------------------------------------------


def test_cells_and_inspections_survive_reopening_over_sql(storage_url: str) -> None:  # noqa: F811
    from tests.board_fixtures import open_log
    from unveil.store.board_db import open_storage

    with open_storage(storage_url) as store:
        log = open_log(store)
        log.submit(publish())
        log.submit(reveal_event(log, DECL.bundle("phase-1", [0, 1, 2])))
        assert log.put_cells(CELLS_SHA, CELLS_TXT) is True
        log.submit(inspection())
        assert log.purge_bundles(0) == 0  # the cells.txt and the named reveal file stay
    with open_storage(storage_url) as store:
        log = open_log(store)  # replays the inspection through the same checks
        assert log.audit().ok and len(log.state.inspections) == 1
        assert log.get_bundle(CELLS_SHA) == CELLS_TXT and log.put_cells(CELLS_SHA, CELLS_TXT) is False
        refused(log, inspection(outcome="refused"), "inspection-duplicate")
        view = BoardView(PARTIES, ORIGIN)
        view.extend(log.entries(0, log.size))
        assert view.cells(ESCROW_ID, log.get_bundle(CELLS_SHA), log.get_bundle)["cells"][1] == ["depot-02", 0, 0, -1]


def test_the_agreements_view_matches_the_boards_obligation_states() -> None:
    from tests.test_board_agreements import _full_story

    board = _full_story()
    view = BoardView(PARTIES, ORIGIN)
    view.extend(board.log.entries(0, board.log.size))
    doc = view.agreements(board.log.size, board.storage.get_bundle)
    (agreement,) = doc["agreements"]
    assert agreement["id"] == "A-1" and agreement["status"] == "signed" and agreement["final"] is True
    assert {o["id"]: o["state"] for o in agreement["obligations"]} == board.states()
    assert all(o["due"] is None or o["due"].endswith("Z") for o in agreement["obligations"])
    assert [i["state"] for i in agreement["items"]][0] == "declared" and sum(i["count"] for i in agreement["items"]) >= 0
    assert doc["draws"] == []


def test_a_log_with_a_refused_entry_shows_it_in_the_log_only() -> None:
    _, storage = exercised()
    entries = [e for _, e in storage.load_entries()]
    forged = inspection("depot-04", site=None)  # a cell nobody opened: a board would refuse it
    from unveil.board.events import parse_event

    view = BoardView(PARTIES, ORIGIN, storage.get_bundle)  # a mirror's view reads what each phase opened
    view.extend([*entries, parse_event(forged).entry, b"{not json"])
    rows = view.log(0, None, 0)["entries"]
    assert [r["accepted"] for r in rows[-2:]] == [False, False] and rows[-1]["kind"] == "entry-malformed"
    assert view.events(ESCROW_ID, 0)["inspections"] == folded(storage).events(ESCROW_ID, 0)["inspections"]
    blind = BoardView(PARTIES, ORIGIN)  # without the files, the cell cannot be checked (as an audit without them)
    blind.extend([*entries, parse_event(forged).entry])
    assert blind.log(0, None, 0)["entries"][-1]["accepted"] is True


def test_views_read_while_writers_append_and_see_every_entry() -> None:
    """Readers of the views and writers run at once on a live server: every write is logged,
    every view answers, and once the writers are done the views hold every entry."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.board_fixtures import verification
    from tests.test_api import LiveServer

    log, _ = exercised()
    docs = [verification(i) for i in range(40)]
    with LiveServer(create_app(log)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        def read(i: int) -> int:
            path = ("/view/summary", f"/view/escrows/{ESCROW_ID}/cells", "/view/log?start=0", "/view/checkpoints")[i % 4]
            return http.get(path).status_code

        with ThreadPoolExecutor(16) as pool:
            writes = pool.map(lambda doc: http.post("/entries", json=doc).status_code, docs)
            reads = pool.map(read, range(40))
            assert list(writes) == [201] * 40 and list(reads) == [200] * 40
        summary = http.get("/view/summary").json()
        assert summary["size"] == log.size == 46
        verifications = summary["escrows"][0]["steps"][0]["verifications"]
        assert len(verifications) == 41 and {v["author"] for v in verifications} == {"Observer", "Inspector"}
        assert len(http.get("/view/log?start=6").json()["entries"]) == 40


def test_views_count_an_entry_final_once_the_whole_quorum_cosigned(client: tuple[TestClient, Log]) -> None:
    from tests.test_board_core import INSPECTOR_W, NOW, OBSERVER_W
    from unveil.core.notes import cosign, open_note

    http, log = client
    body = open_note(log.checkpoint())[0]
    log.add_cosignature(body, cosign(body, INSPECTOR_W, NOW))
    assert http.get("/view/summary").json()["final_size"] == 0  # the observer has not cosigned
    checkpoints = http.get("/view/checkpoints").json()
    assert checkpoints["latest"]["cosigners"] == ["Inspector"] and checkpoints["witnesses"] == [
        {"witness": "Inspector", "size": log.size, "final": False, "quorum": True}]
    log.add_cosignature(body, cosign(body, OBSERVER_W, NOW))
    summary = http.get("/view/summary").json()
    assert summary["final_size"] == log.size and all(s["final"] for s in summary["escrows"][0]["steps"])
    assert all(e["final"] for e in http.get("/view/log").json()["entries"])
    assert all(i["final"] for i in http.get(f"/view/escrows/{ESCROW_ID}/events").json()["inspections"])
    log.submit(inspection("depot-01", site=None))  # a new entry: not final
    assert http.get(f"/view/escrows/{ESCROW_ID}/events").json()["inspections"][-1]["final"] is False
