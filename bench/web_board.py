"""The board page's speed with many cells (issue 14: responsive with 100,000 cells), printed as JSON.

Serves the page (the board's own routes) over a synthetic board view (tests/web_fixtures.py: one
escrow of N H3 resolution-6 cells in 3 phases, sites, inspections, discrepancies) and drives it
in headless Chromium (/usr/bin/chromium). For each size it reports, in milliseconds:

- ``load_ms``: from navigation to the page drawn (``body[data-ready]``), and the page's own split
  (``fetched_ms``: the view answers read; ``tree_ms``: the H3 hierarchy built; ``ready_ms``);
- ``first_draw_ms``: the first map draw, split into choosing the groups in view, tallying states
  and making the SVG paths;
- ``pan_ms`` / ``zoom_ms`` / ``step_ms``: median and worst of panning by 300 px, zooming in and
  out one level, and switching the timeline's step, each up to the next painted frame;
- ``paths``: the most SVG paths drawn at once; ``js_heap_mb``: the page's JavaScript heap.

Baseline, same run: the same page with ``--baseline`` cells (1,000 by default); each figure of
the large board has its ratio to it. Run: ``PYTHONPATH=src python bench/web_board.py [--cells
100000] [--repeat 8]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.web_fixtures import CHROMIUM, CHROMIUM_ARGS, serving, synthetic_app, synthetic_view  # noqa: E402

TIMED = """async (action) => {
  const map = window.unveilPage.page.map;
  const node = document.getElementById('map');
  const before = Number(node.dataset.renders);
  const started = performance.now();
  if (action.kind === 'pan') map.panBy(action.by, {animate: false});
  else if (action.kind === 'zoom') map.setZoom(map.getZoom() + action.by, {animate: false});
  else document.querySelector(`#timeline button[data-step='${action.step}']`).click();
  while (Number(node.dataset.renders) === before) await new Promise(r => setTimeout(r, 1));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - started;
}"""


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def measure(browser: Any, cells: int, repeat: int) -> dict[str, Any]:
    view = synthetic_view(cells)
    centre = (20.0, -60.0)
    with serving(synthetic_app(view)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready='yes']", timeout=120_000)
        load_ms = (time.perf_counter() - started) * 1000
        timings = page.evaluate("window.unveilPage.page.timings")
        paths = [int(page.get_attribute("#map", "data-drawn") or 0)]
        pans, zooms, steps = [], [], []
        for k in range(repeat):
            pans.append(page.evaluate(TIMED, {"kind": "pan", "by": [300 if k % 2 == 0 else -300, 0]}))
            paths.append(int(page.get_attribute("#map", "data-drawn") or 0))
            steps.append(page.evaluate(TIMED, {"kind": "step", "step": k % 3}))
        page.evaluate(f"window.unveilPage.page.map.setView([{centre[0]}, {centre[1]}], 9, {{animate: false}})")
        for k in range(repeat):
            zooms.append(page.evaluate(TIMED, {"kind": "zoom", "by": 1 if k % 2 == 0 else -1}))
            paths.append(int(page.get_attribute("#map", "data-drawn") or 0))
            pans.append(page.evaluate(TIMED, {"kind": "pan", "by": [0, 300 if k % 2 == 0 else -300]}))
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        first = timings.get("firstDraw", {})
        page.close()
    return {
        "cells": cells,
        "load_ms": round(load_ms, 1),
        "fetched_ms": round(timings["fetched"], 1),
        "tree_ms": round(timings["tree"] - timings["parsed"], 1),
        "ready_ms": round(timings["ready"], 1),
        "first_draw_ms": {k: round(v, 1) for k, v in first.items()},
        "pan_ms": spread(pans),
        "zoom_ms": spread(zooms),
        "step_ms": spread(steps),
        "paths": max(paths),
        "js_heap_mb": round(heap / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        baseline = measure(browser, args.baseline, args.repeat)
        large = measure(browser, args.cells, args.repeat)
        browser.close()
    ratios = {key: round(large[key]["median"] / max(baseline[key]["median"], 0.1), 2) for key in ("pan_ms", "zoom_ms", "step_ms")}
    ratios["load_ms"] = round(large["load_ms"] / baseline["load_ms"], 2)
    print(json.dumps({"baseline": baseline, "large": large, "ratio_to_baseline": ratios}, indent=2))


if __name__ == "__main__":
    main()
