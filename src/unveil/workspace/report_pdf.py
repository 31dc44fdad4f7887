"""The report as PDF, printed by a real browser engine: the system's Chromium driven by
Playwright (the ``pdf`` extra; the Playwright browser download is not used). The page is loaded
from the HTML text itself with every network request refused, so nothing leaves the machine.

:data:`CHROMIUM` is ``/usr/bin/chromium`` unless ``UNVEIL_CHROMIUM`` names another executable.
"""

from __future__ import annotations

import os
from pathlib import Path

from unveil.errors import MalformedInputError, MissingExtraError

__all__ = ["CHROMIUM", "check_renderer", "chromium_path", "print_pdf"]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]
TIMEOUT_MS = 120_000


def chromium_path() -> Path:
    return Path(os.environ.get("UNVEIL_CHROMIUM") or CHROMIUM)


def check_renderer() -> None:
    """:class:`MissingExtraError` (``pdf``) without Playwright; :class:`MalformedInputError`
    at ``--pdf`` without the browser (both exit 2, before any work)."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        raise MissingExtraError("pdf", "playwright")
    browser = chromium_path()
    if not (browser.is_file() and os.access(browser, os.X_OK)):
        raise MalformedInputError(
            f"the PDF is printed by the system Chromium, and there is none at {browser}: install the operating system's "
            "'chromium' package (or set UNVEIL_CHROMIUM to its path)", where="--pdf")


def print_pdf(html: str) -> bytes:
    """The PDF of ``html`` (A4, backgrounds printed), rendered by headless Chromium. Playwright
    runs in a thread of its own: its sync API refuses a thread that already runs an event loop
    (a caller inside an async framework, or a test driving a browser)."""
    from concurrent.futures import ThreadPoolExecutor

    check_renderer()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="unveil-pdf") as pool:
        return pool.submit(_render, html).result()


def _render(html: str) -> bytes:
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium_path()), args=ARGS, headless=True, timeout=TIMEOUT_MS)
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.abort())  # no request leaves: the report is self-contained
                page.set_content(html, wait_until="load", timeout=TIMEOUT_MS)
                return page.pdf(format="A4", print_background=True, margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except Error as exc:
        raise MalformedInputError(f"Chromium could not print the report: {str(exc).splitlines()[0][:300]}", where="--pdf") from None
