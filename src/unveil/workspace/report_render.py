"""The report's HTML (docs/reports.md): matplotlib figures as inline ``data:`` PNGs and the
jinja2 template shipped in the package (``workspace/templates/report.html.j2``), autoescaped:
every text that comes from an input (site names, details, ids) is rendered as text, never as
markup. The document makes no request to anything: no script, no external style, font or
image.

Figures are drawn on :class:`matplotlib.figure.Figure` objects, never through pyplot's global
state, so that two requests of the private view may render at once.

Maps draw every committed cell coloured by its state after each phase; an escrow of more than
:data:`MAX_DRAWN` cells is drawn at the coarsest H3 resolution that keeps at least that much
detail without exceeding it, each coarse cell in the state most of its cells have (the board
page's rule).
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from typing import Any

__all__ = ["COLOURS", "MAX_DRAWN", "aggregate", "render_html"]

MAX_DRAWN = 20_000
"""Cells drawn per map at most; beyond, cells are aggregated to a coarser resolution."""
COLOURS = {"sealed": "#cfd4da", "opened": "#4c8fd6", "inspected": "#f0a830", "discrepancy": "#d0342c"}
CLIP = 300
"""Characters of a name or detail shown in a table cell (the rest elided with '…')."""


def aggregate(rows: list[tuple[str, str]], resolution: int, limit: int = MAX_DRAWN) -> tuple[list[tuple[str, str]], int]:
    """``(cell, state)`` rows as drawn: as they are when at most ``limit``, else their parents
    at the finest coarser resolution with at most ``limit`` cells, each in the state most of
    its cells have (ties: the stronger state). Returns the rows and the resolution drawn."""
    import h3

    from unveil.workspace.report import STATES

    drawn = resolution
    while len(rows) > limit and drawn > 0:
        drawn -= 1
        parents: dict[str, Counter[str]] = {}
        for cell, state in rows:
            parents.setdefault(h3.cell_to_parent(cell, drawn), Counter())[state] += 1
        if len(parents) <= limit or drawn == 0:
            return [(p, max(c, key=lambda s: (c[s], STATES.index(s)))) for p, c in sorted(parents.items())], drawn
    return rows, drawn


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _maps(data: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    import h3
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from unveil.workspace.report import state_at

    resolution = data["escrow"]["resolution"]
    if not data["cells"] or resolution is None:
        return [], None
    maps = []
    suspects = (data["inspector"] or {}).get("suspects", [])
    outlines: dict[str, list[tuple[float, float]]] = {}
    drawn = resolution
    for phase in data["phases"]:
        step = phase["step"]
        rows, drawn = aggregate([(r[0], state_at(r, step)) for r in data["cells"]], resolution)
        polygons, colours = [], []
        for cell, state in rows:
            if cell not in outlines:
                outlines[cell] = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
            polygons.append(outlines[cell])
            colours.append(COLOURS[state])
        fig = Figure(figsize=(7.5, 6))
        ax = fig.subplots()
        ax.add_collection(PolyCollection(polygons, facecolors=colours, edgecolors="white", linewidths=0.15))
        ax.autoscale_view()
        ax.set_aspect("equal", adjustable="datalim")
        sites = [s for s in data["sites"] if 0 <= s["step"] <= step and s["lat"] is not None]
        if sites:
            ax.scatter([s["lon"] for s in sites], [s["lat"] for s in sites], s=14, c="#111111", marker="o", label="declared site", zorder=3)
        step_of = {p["phase"]: p["step"] for p in data["phases"]}
        sealed = [s for s in ((data.get("private") or {}).get("declaration") or [])
                  if s["lat"] is not None and (s["phase"] is None or step_of.get(s["phase"], -1) > step)]  # sealed after this step
        if sealed:  # the host's private view only: a report never holds its sealed sites
            ax.scatter([s["lon"] for s in sealed], [s["lat"] for s in sealed], s=22, facecolors="none", edgecolors="#111111",
                       marker="o", label="declared, still sealed (yours)", zorder=3)
        if suspects:
            ax.scatter([s["lon"] for s in suspects], [s["lat"] for s in suspects], s=40, c="#7b1fa2", marker="x", label="suspect (own intelligence)",
                       zorder=4)
            for s in suspects:
                ax.annotate(str(s["id"])[:12], (s["lon"], s["lat"]), xytext=(3, 3), textcoords="offset points", fontsize=6, color="#7b1fa2",
                            zorder=5)
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
        ax.set_title(f"after {phase['phase']} (step {step + 1})" + (f", drawn at H3 resolution {drawn}" if drawn != resolution else ""))
        handles = [Patch(facecolor=COLOURS[s], label=s) for s in COLOURS]
        ax.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        maps.append({"phase": phase["phase"], "image": _png(fig), "counts": phase["counts"]})
    return maps, drawn


def _confidence_plot(curve: list[dict[str, Any]]) -> str | None:
    if not curve:
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.subplots()
    xs = list(range(len(curve)))
    ax.plot(xs, [c["probability"] for c in curve], marker="o", color="#1f5fa8")
    ax.set_xticks(xs, [c["phase"] for c in curve], rotation=20, fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(no undeclared site left)")
    ax.set_xlabel("after phase")
    ax.grid(alpha=0.3)
    return _png(fig)


def _clip(value: Any, limit: int = CLIP) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("unveil.workspace", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["clip"] = _clip
    return env


def render_html(data: dict[str, Any], template: str = "report.html.j2") -> tuple[str, int | None]:
    """The report's HTML (or with ``template="private.html.j2"``, a party's private page over
    :func:`unveil.workspace.private_view.private_view` data) and the H3 resolution its maps were
    drawn at (``None``: no map)."""
    maps, drawn = _maps(data)
    curve = (data["inspector"] or {}).get("confidence", [])
    html = _environment().get_template(template).render(
        d=data, maps=maps, drawn=drawn, confidence_plot=_confidence_plot(curve), colours=COLOURS)
    return html, drawn
