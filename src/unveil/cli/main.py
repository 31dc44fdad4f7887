"""``unveil`` command line: the edge where errors become exit codes.

Exit codes: 0 valid / done; 1 verification failed (every problem listed); 2 an input could
not be read as its format, or the command line is wrong. Every command takes ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="unveil",
    help="Verify disarmament declarations step by step: salted Merkle escrows, phased reveals, signed logs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_INVALID, EXIT_MALFORMED = 0, 1, 2


@app.callback()
def _root() -> None:
    """Verify disarmament declarations step by step: salted Merkle escrows, phased reveals, signed logs.

    Exit codes: 0 valid, 1 invalid (every problem listed), 2 input unreadable or bad usage.
    """


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="Signed reveal bundle (reveal-<phase>.json).", show_default=False)],
    escrow: Annotated[Path, typer.Option("--escrow", help="Signed escrow statement (escrow.json).", show_default=False)],
    cells: Annotated[Path, typer.Option("--cells", help="The escrow's cells.txt.", show_default=False)],
    leaves: Annotated[Optional[Path], typer.Option("--leaves", help="The host's leaves.bin, to pin a wrong leaf to its opening.")] = None,
    trust: Annotated[Optional[list[str]], typer.Option("--trust", metavar="VKEY", help="A verifier key trusted for the host (repeatable). Without it, the key that signed the escrow under the host's name is trusted.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Check a reveal bundle against its escrow and cell list (spec §1–§6)."""
    from unveil.cli.verify_cmd import run

    raise typer.Exit(run(bundle, escrow, cells, leaves, trust or [], json_output))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's artifacts.")] = Path("demo-out"),
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Run a fictional declaration through commit, three phased reveals, and verification."""
    from unveil.cli.demo_cmd import run

    raise typer.Exit(run(out, json_output))


def main(argv: list[str] | None = None) -> int:
    """Entry point: usage errors exit 2, printing JSON when ``--json`` was asked for."""
    from typer._click import exceptions as click_exceptions  # typer's bundled click

    args = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=args, prog_name="unveil", standalone_mode=False)
    except click_exceptions.UsageError as exc:
        if "--json" in args:
            import json

            print(json.dumps({"valid": False, "error": exc.format_message()}))
        else:
            exc.show()
        return EXIT_MALFORMED
    except click_exceptions.Exit as exc:
        return exc.exit_code
    except click_exceptions.Abort:
        print("Aborted.", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
