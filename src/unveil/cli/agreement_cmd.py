"""``unveil agreement sign|claim|verify|dispute|withdraw|status``: a party's side of an
agreement on a board (spec §12). Service: :mod:`unveil.workspace.agreements`.

Every command reads the agreement file (``--agreement``: JSON or YAML, spec §12) first: a bad
file is exit 2 naming the field, and nothing is sent.

- ``sign`` logs the agreement's text when the board holds none for the escrow, then this
  party's signature of its hash; prints ``{"agreement", "escrow_id", "sha256", "published",
  "index", "created"}`` (``created`` false: the same event was logged already, byte for byte).
- ``claim --obligation ID [--evidence entry:N|sha256:HEX|file:PATH|text:…]…`` (the obligor),
  ``verify``, ``dispute --reason TEXT`` and ``withdraw`` (another party) print
  ``{"agreement", "obligation", "kind", "index", "created"}``.
- ``status --parties P [--at TIME]`` replays the board's signed log and prints
  ``{"agreement", "escrow_id", "sha256", "signed_by", "fully_signed", "at", "size",
  "obligations": [{"id", "party", "state", "due"}], "problems"}``; ``due`` is an RFC 3339 time
  or ``null`` while an ``after`` obligation is not verified.

Exit codes (:mod:`unveil.cli.exits`): 0 done; 1 the board (or this party, before sending)
refused: a claim by another party than the obligor, a verification by the obligor, … — nothing
is logged; or the board holds no agreement for the escrow, or another one (status); 2 an input
could not be read (the agreement file, an option, the workspace).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unveil.cli.edge import Done, run

if TYPE_CHECKING:
    from unveil.agreements.model import Agreement


def _say(message: str) -> None:
    from unveil.cli.output import say

    say(message)


def _read(path: Path) -> tuple[Agreement, dict[str, Any]]:
    from unveil.agreements.files import read_agreement

    return read_agreement(path)


def _connect(board: str):  # type: ignore[no-untyped-def]  # a BoardClient
    from unveil.cli import board_cmd

    return board_cmd.connect(board)  # looked up at call time: tests replace it


def _now():  # type: ignore[no-untyped-def]  # a datetime
    from unveil.cli import workflow_cmd

    return workflow_cmd.now()


def sign(workspace: Path, board: str, agreement_path: Path, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace import agreements
        from unveil.workspace.workspace import open_workspace

        agreement, doc = _read(agreement_path)
        ws = open_workspace(workspace)
        with _connect(board) as client:
            result = agreements.sign(ws, client, agreement, doc, _now())
        published = f"published as entry {result['published']} and " if result["published"] is not None else ""
        return Done(result, lambda: _say(f"agreement {agreement.id} ({result['sha256'][:16]}…) {published}signed by {ws.name} as entry [bold]{result['index']}[/]"))

    return run(as_json, action)


def obligation(step: str, workspace: Path, board: str, agreement_path: Path, obligation_id: str, evidence: list[str],
               reason: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.workspace import agreements
        from unveil.workspace.evidence import evidence as read_evidence
        from unveil.workspace.workspace import open_workspace

        agreement, _ = _read(agreement_path)
        items = read_evidence(evidence)
        ws = open_workspace(workspace)
        with _connect(board) as client:
            if step == "claim":
                result = agreements.claim(ws, client, agreement, obligation_id, items, _now())
            else:
                result = agreements.verdict(ws, client, agreement, obligation_id, step, reason, _now())
        return Done(result, lambda: _say(f"{result['kind']} of {obligation_id} by {ws.name}: entry [bold]{result['index']}[/]"))

    return run(as_json, action)


def status(board: str, agreement_path: Path, parties: Path, at: str | None, as_json: bool) -> int:
    def action() -> Done:
        from unveil.board.parties import read_parties
        from unveil.cli.files import read_bytes
        from unveil.workspace import agreements

        agreement, doc = _read(agreement_path)
        registered = read_parties(read_bytes(parties, "parties file"), source=str(parties))
        with _connect(board) as client:
            result = agreements.status(client, registered, agreement, doc, at)

        def show() -> None:
            _say(f"agreement {agreement.id} on escrow {agreement.escrow} at {result['at']}"
                 f" (signed by {', '.join(result['signed_by']) or 'nobody'}{'' if result['fully_signed'] else ': not by every party'})")
            for row in result["obligations"]:
                _say(f"  {row['id']:<24} {row['party']:<16} {row['state']:<9} due {row['due'] or '—'}")
            if result["items"]:
                _say("  items: " + ", ".join(f"{step} {n}" for step, n in result["items"].items()))
            for row in result["access"]:
                _say(f"  access {row['id']:<17} {'site ' + row['site'] if row['site'] else 'cell ' + str(row['cell']):<24} {row['state']}")
            for problem in result["problems"]:
                _say(f"  [bold]{problem['reason']}[/]: {problem['detail']}")

        return Done(result, show)

    return run(as_json, action)


# --- typer wiring ----------------------------------------------------------------------------

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]
BoardOpt = Annotated[str, typer.Option("--board", metavar="URL", help="The board's base URL.", show_default=False)]
AgreementOpt = Annotated[Path, typer.Option("--agreement", metavar="FILE", help="The agreement file, JSON or YAML (spec §12).", show_default=False)]
ObligationOpt = Annotated[str, typer.Option("--obligation", metavar="ID", help="The obligation's id in the agreement.", show_default=False)]


def register(app: typer.Typer) -> None:
    """Add ``agreement`` to ``app``."""
    agreement_app = typer.Typer(help="Sign an agreement, claim, verify or dispute its obligations, and read their states (spec §12).",
                                no_args_is_help=True)

    @agreement_app.command("sign")
    def sign_command(workspace: WorkspaceOpt, board: BoardOpt, agreement: AgreementOpt, json_output: JsonFlag = False) -> None:
        """Log the agreement's text if the board holds none for its escrow, then sign its hash (agreement.signed)."""
        raise typer.Exit(sign(workspace, board, agreement, json_output))

    @agreement_app.command("claim")
    def claim_command(
        workspace: WorkspaceOpt, board: BoardOpt, agreement: AgreementOpt, obligation_id: ObligationOpt,
        evidence: Annotated[list[str] | None, typer.Option(
            "--evidence", help="entry:N (an earlier entry), sha256:HEX, file:PATH (its SHA-256) or text:…; repeat for more.")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Claim this party's obligation done, with evidence (obligation.claimed; the obligor only)."""
        raise typer.Exit(obligation("claim", workspace, board, agreement, obligation_id, evidence or [], None, json_output))

    @agreement_app.command("verify")
    def verify_command(workspace: WorkspaceOpt, board: BoardOpt, agreement: AgreementOpt, obligation_id: ObligationOpt,
                       json_output: JsonFlag = False) -> None:
        """Verify another party's claimed obligation (obligation.verified)."""
        raise typer.Exit(obligation("verify", workspace, board, agreement, obligation_id, [], None, json_output))

    @agreement_app.command("dispute")
    def dispute_command(
        workspace: WorkspaceOpt, board: BoardOpt, agreement: AgreementOpt, obligation_id: ObligationOpt,
        reason: Annotated[str, typer.Option("--reason", help="Why the claim does not hold (1 to 1,000 characters).", show_default=False)],
        json_output: JsonFlag = False,
    ) -> None:
        """Dispute another party's claimed obligation (obligation.disputed)."""
        raise typer.Exit(obligation("dispute", workspace, board, agreement, obligation_id, [], reason, json_output))

    @agreement_app.command("withdraw")
    def withdraw_command(workspace: WorkspaceOpt, board: BoardOpt, agreement: AgreementOpt, obligation_id: ObligationOpt,
                         json_output: JsonFlag = False) -> None:
        """Withdraw this party's standing dispute of an obligation (obligation.withdrawn)."""
        raise typer.Exit(obligation("withdraw", workspace, board, agreement, obligation_id, [], None, json_output))

    @agreement_app.command("status")
    def status_command(
        board: BoardOpt, agreement: AgreementOpt,
        parties: Annotated[Path, typer.Option("--parties", help="PARTIES.json: the registered parties, to replay the log.", show_default=False)],
        at: Annotated[str | None, typer.Option("--at", metavar="TIME", help="Evaluate as of this time (YYYY-MM-DDTHH:MM:SSZ); default: the newest entry's.")] = None,
        json_output: JsonFlag = False,
    ) -> None:
        """Every obligation's state, from the board's signed log (spec §12)."""
        raise typer.Exit(status(board, agreement, parties, at, json_output))

    app.add_typer(agreement_app, name="agreement")
