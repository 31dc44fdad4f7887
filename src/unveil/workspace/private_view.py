"""A party's private view of one escrow (``unveil ui``, docs/guide.md "Your private view"):
everything a report shows (:func:`unveil.workspace.report.gather`) and what only this party may
see, which never goes into a report nor onto the board:

- for the host of its own escrow, its whole declaration: every declared site with the phase
  that opened it, or ``sealed`` while no phase has (from the workspace's sealed contents),
  also drawn on the maps (hollow circles: still sealed after that phase);
- for every party, its own obligations under the escrow's agreement (as its mirror of the
  board holds them);
- for an inspector, its sealed intelligence (the suspects, overlaid on the maps), the truth
  test per phase, its inspections and its confidence per phase (already in the report data).

:func:`private_page` renders it as one HTML page (the report's template with a private
section; :mod:`unveil.workspace.report_render`).
"""

from __future__ import annotations

from typing import Any

from unveil.core.jsonparse import loads
from unveil.store import workspace_queries as q
from unveil.workspace.workspace import Workspace

__all__ = ["private_page", "private_view"]


def private_view(ws: Workspace, escrow_id: str | None) -> dict[str, Any]:
    """:func:`~unveil.workspace.report.gather` plus ``private``: ``{"declaration": [site rows
    with "sealed": bool] or None, "obligations": [this party's]}``."""
    from unveil.workspace.report import gather

    data = gather(ws, escrow_id)
    escrow = data["escrow"]
    declaration = None
    if escrow["own"] and ws.role == "host":
        opened_phase = {s["cell"]: s["phase"] for s in data["sites"]}
        with ws.connect() as db:
            contents = q.contents(db, escrow["escrow_id"])
        declaration = []
        for cell, text in sorted(contents.items()):
            for site in loads(text).get("sites", ()):
                phase = opened_phase.get(cell)
                declaration.append({"site_id": site.get("id"), "name": site.get("name"), "kind": site.get("kind"), "cell": cell,
                                    "lat": site.get("lat"), "lon": site.get("lon"), "sealed": phase is None, "phase": phase,
                                    "items": [{"category": i.get("category"), "quantity": i.get("quantity"), "unit": i.get("unit")}
                                              for i in site.get("items", ())]})
        declaration.sort(key=lambda s: (not s["sealed"], str(s["site_id"])))
    agreement = data["board"]["agreement"]
    mine = [o for o in (agreement or {}).get("obligations", []) if o["party"] == ws.name]
    return {**data, "private": {"declaration": declaration, "obligations": mine}}


def private_page(ws: Workspace, escrow_id: str | None) -> str:
    """The private view as one HTML page (no script; styles inline and ``/static/private.css``)."""
    from unveil.workspace.report_render import render_html

    html, _ = render_html(private_view(ws, escrow_id), template="private.html.j2")
    return html
