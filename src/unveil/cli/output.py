"""Human output (rich). Imported only when a command prints for a person."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unveil.core.verify import BundleReport
from unveil.errors import Problem

_out = Console(width=None if Console().is_terminal else 120)
_err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)


def error(message: str) -> None:
    """``error: message`` on stderr; the message is text, never markup (it may quote input)."""
    _err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)


def show_report(report: BundleReport) -> None:
    part = f", {report.reveal.part_name()}" if report.reveal.part is not None else ""
    title = f"escrow {report.escrow.escrow_id}, phase {report.reveal.phase}{part}: {len(report.reveal.openings)} openings"
    show_problems(report.status, title, report.problems, report.warnings, pinned=report.host_key_pinned)


def show_problems(status: str, title: str, problems: Sequence[Problem], warnings: Sequence[Problem], *, pinned: bool) -> None:
    """A verdict line (``VALID``, ``INVALID``, ``INCOMPLETE``), then every problem and warning."""
    style = {"valid": "bold green", "invalid": "bold red", "incomplete": "bold yellow"}[status]
    _out.print(f"[{style}]{status.upper()}[/] {escape(title)}", highlight=False)
    if not pinned:
        _out.print("note: host key not pinned (no --trust): trusted the key that signed the escrow", style="yellow", highlight=False)
    if problems or warnings:
        table = Table("opening", "reason", "detail", show_lines=False)
        for p in problems:
            table.add_row("-" if p.index is None else str(p.index), str(p.reason), escape(p.detail))
        for w in warnings:
            table.add_row("-" if w.index is None else str(w.index), f"warning: {w.reason}", escape(w.detail))
        _out.print(table)


def show_phase(phase: dict) -> None:  # type: ignore[type-arg]  # PhaseVerified.to_json()
    """A phase given in parts (spec §5.1): one line per part file, then the problems across them."""
    style = "bold green" if phase["valid"] else "bold red"
    _out.print(f"[{style}]{phase['status'].upper()}[/] escrow {escape(phase['escrow_id'])}, phase {escape(phase['phase'])}:"
               f" {len(phase['files'])} files of {phase['parts']} parts, {phase['openings']} openings", highlight=False)
    table = Table("file", "part", "status", "openings", "problems", show_lines=False)
    for f in phase["files"]:
        table.add_row(escape(f["file"]), f"{f.get('part', '-')}/{f.get('parts', '-')}", f["status"], str(f["openings"]), str(len(f["problems"])))
    _out.print(table)
    problems = [(p["index"], p["reason"], p["detail"]) for f in phase["files"] for p in f["problems"]]
    problems += [(p["index"], p["reason"], p["detail"]) for p in phase["problems"]]
    if problems:
        listed = Table("opening", "reason", "detail", show_lines=False)
        for index, reason, detail in problems:
            listed.add_row("-" if index is None else str(index), str(reason), escape(detail))
        _out.print(listed)


def say(message: str) -> None:
    _out.print(message, highlight=False)


def show_status(status: dict) -> None:  # type: ignore[type-arg]  # the JSON status object
    _out.print(f"escrow [bold]{status['escrow_id']}[/] ({'sealed here' if status['own'] else 'received'}): "
               f"{status['opened']} of {status['cells']} cells opened", highlight=False)
    if status["phases"]:
        phases = Table("phase", "openings", "recorded", "sha256", "on the board")
        for p in status["phases"]:
            board = "-" if p.get("final") is None else f"entry {p['entry']}, " + ("final" if p["final"] else "[bold yellow]pending[/]")
            name = escape(p["phase"]) + (f" (part {p['part']} of {p['parts']})" if p.get("part") else "")
            phases.add_row(name, str(p["openings"]), p["recorded"], p["sha256"][:16] + "…", board)
        _out.print(phases)
    for whole in status.get("phases_in_parts", []):  # spec §5.1
        state = "complete" if whole["complete"] else f"[bold yellow]incomplete[/]: parts {', '.join(map(str, whole['missing']))} missing"
        final = "" if whole["final"] is None else (", final" if whole["final"] else ", [bold yellow]not final[/]")
        _out.print(f"phase {escape(whole['phase'])} in {whole['parts']} parts: {state}{final}", highlight=False)
    for board in status.get("boards", []):
        pending = [f"{e['kind']} (entry {e['index']})" for e in board["pending"]]
        _out.print(f"board {escape(board['origin'])}: {board['size']} entries mirrored, final size {board['final_size']} "
                   f"(quorum {board['quorum']} of {len(board['cosigned'])})"
                   + (f"; [bold yellow]pending[/]: {', '.join(pending)}" if pending else ""),
                   highlight=False)
    if status["totals"]:
        totals = Table("category", "declared", "opened so far")
        for category, t in status["totals"].items():
            totals.add_row(category, "-" if t["declared"] is None else str(t["declared"]), str(t["opened"]))
        _out.print(totals)
    if status["problems"]:
        problems = Table("phase", "opening", "reason", "detail", title="the declaration repeats ids across phases (spec §5)")
        for p in status["problems"]:
            problems.add_row(escape(p["phase"]), "-" if p["index"] is None else str(p["index"]), str(p["reason"]), escape(p["detail"]))
        _out.print(problems)
    if status["reconciled"] is None:
        _out.print("reconciliation: when every cell is open", highlight=False)
    elif status["reconciled"]:
        _out.print("reconciled: every total matches", highlight=False)
    else:
        why = "the declaration has problems" if status["problems"] else "totals differ"
        _out.print(f"[bold red]NOT reconciled[/]: {why}", highlight=False)


def predates_text(value: object) -> str:
    """How a person reads a discrepancy's ``intel_predates_reveal`` (spec §7)."""
    if value is None:
        return "no intel"
    return "intel sealed before the reveal" if value else "intel sealed AFTER the reveal: it proves no earlier suspicion"
