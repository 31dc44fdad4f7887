"""The demo's last stage: the inspector's report on the exercise (``OUT/report.html``, and
``OUT/report.pdf`` when the ``pdf`` extra and the system Chromium are present), through the
same service as ``unveil report`` (:func:`unveil.workspace.report.write_report`); and the
lines that tell a newcomer how to see it all again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PORT = 8123
"""The port the printed ``serve.sh`` line uses."""


def run(out: Path, inspector_ws: Any, escrow_id: str) -> dict[str, Any]:
    """``{"html", "pdf" (None when not printed), "pdf_skipped" (why), "bytes"}``."""
    from unveil.errors import MalformedInputError, MissingExtraError
    from unveil.workspace.report import write_report
    from unveil.workspace.report_pdf import check_renderer

    html, pdf = out / "report.html", out / "report.pdf"
    html.unlink(missing_ok=True)
    pdf.unlink(missing_ok=True)
    skipped = None
    try:
        check_renderer()
    except (MissingExtraError, MalformedInputError) as exc:
        skipped = str(exc)
    try:
        result = write_report(inspector_ws, escrow_id, html, None if skipped else pdf)
    except MalformedInputError as exc:
        if skipped is not None or not html.is_file():
            raise
        skipped = str(exc)  # the HTML is written; the browser failed to print it
        return {"html": str(html), "pdf": None, "pdf_skipped": skipped, "bytes": html.stat().st_size}
    return {"html": result["html"], "pdf": result["pdf"], "pdf_skipped": skipped, "bytes": result["bytes"]}


def expected(report: dict[str, Any]) -> bool:
    return Path(report["html"]).is_file() and (report["pdf"] is None or Path(report["pdf"]).is_file())


def show(console: Any, summary: dict[str, Any]) -> None:
    report = summary["report"]
    console.print(f"the inspector's report: {report['html']}" + (f" and {report['pdf']}" if report["pdf"] else
                  f" (no PDF: {report['pdf_skipped']})"), highlight=False)
    console.print(f"a party's private view: unveil ui --workspace {summary['out']}/workspaces/inspector", highlight=False)
