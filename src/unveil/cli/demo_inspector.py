"""The demo's inspector: intelligence sealed before the reveals, a truth test
after each verified phase, challenge inspections of the undeclared suspects, routine inspections
drawn fairly with the coin protocol on the board, and the confidence after each phase.

The inspections are simulated: they consult the exercise's ``ground-truth.json`` (FICTIONAL,
like everything in :mod:`unveil.exercise`), which only this module reads. Everything else runs
through the same services as the CLI commands (``unveil accept``, ``intel import|seal|open|check``,
``coin commit|reveal``, ``draw``, ``discrepancy raise``, ``inspect report|post``, ``confidence``).
Intel files are written to ``OUT/intel/`` (the intel escrow's own ``leaves.bin`` must not
overwrite the declaration's).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DETECTION = 0.9  # a challenge inspection's chance of finding a site that is there
ROUTINE_GOAL = "0.8"  # routine inspections: catch one falsified declared site with probability ≥ 0.8
BACKGROUND = "1/2"  # expected undeclared sites no intelligence points to (the confidence model's λ)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DemoInspector:
    """The inspector's side of the demo, against a running :class:`~unveil.cli.demo_board.BoardSession`."""

    def __init__(self, out: Path, board: Any, host_ws: Any, inspector_ws: Any, escrow_id: str, when: datetime) -> None:
        from unveil import exercise
        from unveil.core.jsonparse import loads

        self.out, self.board, self.host_ws, self.ws, self.escrow_id, self.when = out, board, host_ws, inspector_ws, escrow_id, when
        self.intel_id = f"{escrow_id}-intel"
        self.truth = loads(exercise.ground_truth_bytes(), source="exercise/ground-truth.json")["sites"]
        self.declared_ids = {s["id"] for s in loads(exercise.declaration_bytes(), source="exercise/declaration.json")["sites"]}
        self.phases: list[dict[str, Any]] = []
        self.client = board.client()
        self.parties = board.parties()
        self.sealed: dict[str, Any] = {}

    def close(self) -> None:
        self.client.close()

    # --- before phase 1 ------------------------------------------------------------------

    def prepare(self, escrow_json: bytes, cells_txt: bytes, territory: bytes) -> None:
        """Accept the escrow, import and seal the intelligence (not late), publish the intel escrow."""
        from unveil import exercise
        from unveil.workspace.intel import import_intel, seal_intel
        from unveil.workspace.records import accept_escrow

        accept_escrow(self.ws, escrow_json=escrow_json, cells_txt=cells_txt, territory_geojson=territory, now=self.when)
        import_intel(self.ws, exercise.intel_bytes(), source="exercise/intel.csv", now=self.when)
        folder = self.out / "intel"
        folder.mkdir(parents=True, exist_ok=True)
        self.sealed = seal_intel(self.ws, escrow_id=self.intel_id, shadows=self.escrow_id, out=folder, now=self.when)
        self.board.publish_intel_escrow(folder / "intel-escrow.json")

    # --- after each verified phase -------------------------------------------------------

    def after_phase(self, phase: str, bundle: Path) -> dict[str, Any]:
        from unveil.workspace.confidence import confidence_by_phase
        from unveil.workspace.findings import inspect_report
        from unveil.workspace.intel import check_reveal

        checked = check_reveal(self.ws, bundle.read_bytes())
        suspects = {s["id"]: s for s in checked.suspects}
        found, cleared, results = [], [], []
        for sid in checked.result.undeclared:
            hit = self._challenge(phase, suspects[sid])
            if hit is not None:
                found.append(hit)
            else:
                cleared.append(sid)
            results.append({"suspect": sid, "result": "found" if hit else "nothing-found", "detection": DETECTION})
        draw = self._routine_draw(phase, sorted({s["id"] for s in checked.sites}, key=lambda s: s.encode()))
        inspected = [self._inspect_site(site) for site in draw["selection"]]
        inspect_report(self.ws, self.escrow_id, phase, results + inspected, now=self.when)
        self._post_inspections(phase, bundle, draw["context"], inspected)
        last = confidence_by_phase(self.ws, self.escrow_id, background=BACKGROUND)[-1]
        row = {
            "phase": phase, "opened_cells": checked.opened, "declared_sites": len(checked.sites),
            "confirmed": [x for _, x in checked.result.confirmed], "undeclared": list(checked.result.undeclared),
            "found": found, "cleared": cleared, "draw": draw,
            "inspected": [{"site": r["site"], "result": r["result"]} for r in inspected],
            "confidence": {"phase": last["phase"], "probability": last["probability"], "exact_part": last["exact_part"]},
        }
        self.phases.append(row)
        return row

    def _challenge(self, phase: str, suspect: dict[str, Any]) -> dict[str, Any] | None:
        """A challenge inspection of an undeclared suspect: is a real site within its radius?
        Found: open the suspect's intel cell and raise a discrepancy carrying the opening."""
        from unveil.core.content import point_cell
        from unveil.inspection.truthtest import haversine_m
        from unveil.workspace.findings import raise_discrepancy
        from unveil.workspace.intel import open_intel

        near = sorted((haversine_m(suspect["lat"], suspect["lon"], s["lat"], s["lon"]), s["id"], s) for s in self.truth
                      if haversine_m(suspect["lat"], suspect["lon"], s["lat"], s["lon"]) <= suspect["radius_m"])
        if not near:
            return None
        distance, _, site = near[0]
        cell = point_cell(suspect["lat"], suspect["lon"], _resolution())
        path = open_intel(self.ws, escrow_id=self.intel_id, cell=cell, out=self.out / "intel" / f"intel-challenge-{suspect['id']}.json",
                          now=self.when)
        detail = (f"challenge inspection of suspect {suspect['id']}: an undeclared {site['kind']} ({site['id']}) "
                  f"{distance:.0f} m from the suspected point")
        raised = raise_discrepancy(self.ws, self.client, self.escrow_id, f"undeclared-{suspect['id']}", phase, cell, detail,
                                   path.read_bytes(), _now())
        self.board.record(f"discrepancy.raised undeclared-{suspect['id']}", raised)
        return {"suspect": suspect["id"], "site": site["id"], "declared": site["id"] in self.declared_ids, "cell": cell,
                "distance_m": round(distance), "intel_bundle": path.name, "discrepancy_index": raised["index"]}

    def _routine_draw(self, phase: str, population: list[str]) -> dict[str, Any]:
        """Host and inspector commit and reveal coins on the board; host, inspector and observer
        cosign, so the reveals are final; the draw picks the sites."""
        from unveil.analytics.planning import plan
        from unveil.workspace.coins import commit_coin, draw, reveal_coin

        context = f"{self.escrow_id}.routine.{phase}"
        N = len(population)
        n = min(plan(N, 1, ROUTINE_GOAL).n, N) if N else 0
        if not N:
            return {"context": context, "population": [], "n": 0, "seed": None, "selection": [], "status": "empty", "index": None}
        # the inspector's commitment fixes the population and n before any coin (spec §8)
        self.board.record(f"coin.committed {context} ({self.ws.name}, {N} sites, n = {n})",
                          commit_coin(self.ws, self.client, context, self.escrow_id, _now(), parties=self.parties,
                                      population=population, n=n))
        self.board.record(f"coin.committed {context} ({self.host_ws.name})",
                          commit_coin(self.host_ws, self.client, context, self.escrow_id, _now(), parties=self.parties))
        for ws in (self.host_ws, self.ws):
            self.board.record(f"coin.revealed {context} ({ws.name})",
                              reveal_coin(ws, self.client, context, self.escrow_id, _now(), parties=self.parties))
        self.board.cosign(f": the reveals of {context} become final")  # a draw acts on final reveals only (spec §8)
        result = draw(self.client, self.parties, context, self.escrow_id, None, None, self.ws, _now())
        self.board.record(f"selection.drawn {context}", {"index": result["index"]})
        return {"context": context, "population": population, "n": n, "seed": result["seed"],
                "selection": result["selection"], "status": result["status"], "index": result["index"]}

    def _inspect_site(self, site_id: str) -> dict[str, Any]:
        """A routine inspection of a declared site: what is really there against what was opened."""
        from unveil.core.jcs import canonicalize
        from unveil.workspace.records import opened_site

        truth = next((s for s in self.truth if s["id"] == site_id), None)
        opened = opened_site(self.ws, self.escrow_id, site_id)
        if truth is None:
            return {"site": site_id, "result": "discrepancy", "detail": "nothing found at the declared site"}
        same = opened is not None and canonicalize({k: truth[k] for k in ("kind", "items")}) == canonicalize(
            {k: opened[k] for k in ("kind", "items")})
        return {"site": site_id, "result": "consistent" if same else "discrepancy",
                "detail": "as declared" if same else "what is there differs from the declaration"}

    def _post_inspections(self, phase: str, bundle: Path, context: str, inspected: list[dict[str, Any]]) -> None:
        """Log each drawn site's inspection on the board (inspection.reported), so the board's
        page shows the inspected cells."""
        from unveil.core.envelope import parse_signed
        from unveil.core.jsonparse import loads
        from unveil.workspace.findings import report_inspection

        statement = parse_signed(loads(bundle.read_bytes(), source=bundle.name), bundle.name).statement
        cell_of = {site["id"]: o["cell"] for o in statement["openings"] for site in o["content"]["sites"]}
        for row in inspected:
            outcome = "confirmed" if row["result"] == "consistent" else "discrepancy"
            posted = report_inspection(self.ws, self.client, self.escrow_id, phase, cell_of[row["site"]], outcome, row["site"],
                                       row["detail"], context, _now())
            self.board.record(f"inspection.reported {row['site']} ({outcome})", {"index": posted["index"]})

    # --- the summary ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        hidden = [{"site": f["site"], "suspect": f["suspect"], "phase": p["phase"]} for p in self.phases for f in p["found"]
                  if not f["declared"]]
        cleared = [{"suspect": s, "phase": p["phase"]} for p in self.phases for s in p["cleared"]]
        return {"intel_escrow": self.intel_id, "sealed": {k: self.sealed.get(k) for k in ("suspects", "non_empty", "root", "late")},
                "phases": self.phases, "hidden_found": hidden, "false_leads_cleared": cleared,
                "confidence": [p["confidence"] for p in self.phases]}


def _resolution() -> int:
    from unveil import exercise

    return exercise.RESOLUTION


def expected(inspector: dict[str, Any], chosen_regions: list[str]) -> bool:
    """Hidden site #1 found in phase 2, the false lead cleared, hidden site #2 found in the
    final phase, and every draw drawn."""
    from unveil import exercise

    hidden = {(h["site"], h["phase"]) for h in inspector["hidden_found"]}
    first, second = exercise.HIDDEN_SITES
    cleared = {c["suspect"] for c in inspector["false_leads_cleared"]}
    draws_ok = all(p["draw"]["status"] in ("drawn", "empty") for p in inspector["phases"])
    return (hidden == {(first, "phase-2"), (second, "final")} and cleared == set(exercise.FALSE_LEADS) and draws_ok
            and len(inspector["confidence"]) == 4 and len(chosen_regions) == 3)
