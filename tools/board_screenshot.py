"""The README's screenshot of the board page (``docs/img/board.png``), taken of the demo's board.

Runs ``unveil demo`` into a temporary folder (or uses ``--demo-out``, an existing one), serves
its board with ``serve.sh``, hands the board the demo's ``cells.txt`` (``PUT /cells/{sha256}``,
spec §11: anyone may, the escrow commits to it) when it does not hold it yet, and photographs
the page in headless Chromium (/usr/bin/chromium) on the chosen step::

    PYTHONPATH=src python tools/board_screenshot.py [--demo-out demo-out] [--step phase-3] [--out docs/img/board.png]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.web_fixtures import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from unveil.cli.main import main as unveil_main  # noqa: E402


def screenshot(demo_out: Path, out: Path, step: str | None, width: int, height: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen([str(demo_out / "serve.sh"), "--port", "0", "--json"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"].rstrip("/")
        cells = (demo_out / "cells.txt").read_bytes()
        httpx.put(f"{url}/cells/{hashlib.sha256(cells).hexdigest()}", content=cells).raise_for_status()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(f"{url}/")
            page.wait_for_selector("body[data-ready='yes']", timeout=60_000)
            if step is not None:
                button = page.locator("#timeline button", has_text=step).first
                number = button.get_attribute("data-step")
                button.click()
                page.wait_for_selector(f"#map[data-step='{number}']")
            page.wait_for_timeout(400)  # let the land outlines paint
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=False)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-out", type=Path, help="an existing demo-out folder (default: run the demo afresh)")
    parser.add_argument("--step", default="phase-3", help="the timeline step to show (a phase id; default phase-3)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "board.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        demo_out = args.demo_out
        if demo_out is None:
            demo_out = Path(scratch) / "demo-out"
            with contextlib.redirect_stdout(io.StringIO()):
                if unveil_main(["demo", "--out", str(demo_out), "--json"]) != 0:
                    sys.exit("unveil demo failed")
        screenshot(demo_out.resolve(), args.out, args.step, args.width, args.height)
    print(args.out)


if __name__ == "__main__":
    main()
