"""``unveil`` command line: every command runs in the one edge (:func:`unveil.cli.edge.run`)
where errors become exit codes (:mod:`unveil.cli.exits`).

Exit codes: 0 valid / done; 1 verification failed (every problem listed), or the board, a
draw or the witness refused; 2 an input could not be read as its format, or the command line
is wrong. Every command takes ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from unveil.cli.exits import ExitCode, exit_code

app = typer.Typer(
    name="unveil",
    help="Verify disarmament declarations step by step: salted Merkle escrows, phased reveals, signed logs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Verify disarmament declarations step by step: salted Merkle escrows, phased reveals, signed logs.

    Exit codes: 0 valid, 1 invalid (every problem listed), 2 input unreadable or bad usage.
    """


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", help="The workspace directory.", show_default=False)]
MaxCellsOpt = Annotated[Optional[int], typer.Option(
    "--max-cells", min=1, metavar="N",
    help="Refuse to cover the territory when it takes more than N cells (default: what fits in half this machine's memory).")]


@app.command()
def init(
    workspace: WorkspaceOpt,
    role: Annotated[str, typer.Option("--role", help="host, inspector, observer or board.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="The party's key name (no spaces, no '+').", show_default=False)],
    passphrase_env: Annotated[Optional[str], typer.Option("--passphrase-env", metavar="VAR", help="Encrypt the private keys with the passphrase in environment variable VAR; later commands read it from UNVEIL_PASSPHRASE.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Create a workspace with a statement key and a witness key (spec §6)."""
    from unveil.cli.workflow_cmd import init as run

    raise typer.Exit(run(workspace, role, name, passphrase_env, json_output))


@app.command()
def commit(
    workspace: WorkspaceOpt,
    escrow_id: Annotated[str, typer.Option("--escrow-id", help="A new escrow id.", show_default=False)],
    territory: Annotated[Path, typer.Option("--territory", help="Territory GeoJSON (lon, lat order).", show_default=False)],
    resolution: Annotated[int, typer.Option("--resolution", help="H3 resolution of the grid (0-15).", show_default=False)],
    declaration: Annotated[Path, typer.Option("--declaration", help="Sites and items: .csv, .geojson, .json or .yaml.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Folder for escrow.json, cells.txt, leaves.bin.", show_default=False)],
    territory_filter: Annotated[Optional[str], typer.Option("--territory-filter", metavar="KEY=VALUE", help="Pick features of a FeatureCollection.")] = None,
    public_totals: Annotated[Optional[str], typer.Option("--public-totals", metavar="CATEGORY[,…]", help="Commit these categories' exact sums publicly.")] = None,
    sealed_totals: Annotated[Optional[str], typer.Option("--sealed-totals", metavar="CATEGORY[,…]", help="Commit these categories' exact sums sealed.")] = None,
    max_cells: MaxCellsOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Seal a declaration over every cell of a territory (host)."""
    from unveil.cli.workflow_cmd import commit as run

    raise typer.Exit(run(workspace, escrow_id, territory, territory_filter, resolution, declaration, out, public_totals, sealed_totals,
                         json_output, max_cells))


@app.command()
def reveal(
    workspace: WorkspaceOpt,
    escrow_id: Annotated[str, typer.Option("--escrow-id", show_default=False)],
    phase: Annotated[str, typer.Option("--phase", help="The phase's name (an id).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The reveal bundle file to write.", show_default=False)],
    region: Annotated[Optional[str], typer.Option("--region", metavar="CELL[,CELL…]", help="Coarser H3 cells: open every committed cell inside them.")] = None,
    polygon: Annotated[Optional[Path], typer.Option("--polygon", help="GeoJSON polygon: open every committed cell that overlaps it.")] = None,
    bbox: Annotated[Optional[str], typer.Option("--bbox", metavar="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT", help="Open every committed cell that overlaps the box.")] = None,
    cells: Annotated[Optional[Path], typer.Option("--cells", help="A file of cell ids to open, one per line.")] = None,
    open_totals: Annotated[bool, typer.Option("--open-totals", help="Also open the sealed totals.")] = False,
    max_part_bytes: Annotated[Optional[int], typer.Option("--max-part-bytes", metavar="BYTES", help="Largest file in bytes (default, and at most, 16 MiB); a larger phase becomes parts OUT-STEM.part-K-of-N.json (spec §5.1).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Open a region of a sealed declaration as a signed reveal bundle, or its numbered parts (host)."""
    from unveil.cli.workflow_cmd import reveal as run

    raise typer.Exit(run(workspace, escrow_id, phase, region, polygon, bbox, cells, out, open_totals, json_output, max_part_bytes))


@app.command()
def verify(
    bundle: Annotated[list[Path], typer.Argument(help="Signed reveal bundle (reveal-<phase>.json); or every part of one phase (spec §5.1), as files or their directory.", show_default=False)],
    escrow: Annotated[Path, typer.Option("--escrow", help="Signed escrow statement (escrow.json).", show_default=False)],
    cells: Annotated[Path, typer.Option("--cells", help="The escrow's cells.txt.", show_default=False)],
    leaves: Annotated[Optional[Path], typer.Option("--leaves", help="The host's leaves.bin, to pin a wrong leaf to its opening.")] = None,
    trust: Annotated[Optional[list[str]], typer.Option("--trust", metavar="VKEY", help="A verifier key trusted for the host (repeatable). Without it: the key pinned in --workspace, else the escrow's signer when first seen.")] = None,
    workspace: Annotated[Optional[Path], typer.Option("--workspace", help="Record the escrow, the result and the opened cells in this workspace.")] = None,
    territory: Annotated[Optional[Path], typer.Option("--territory", help="The agreed territory: check the cells cover it (spec §1).")] = None,
    territory_filter: Annotated[Optional[str], typer.Option("--territory-filter", metavar="KEY=VALUE")] = None,
    max_cells: MaxCellsOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Check a reveal bundle, or a whole phase in parts, against its escrow and cell list (spec §1–§6)."""
    from unveil.cli.verify_cmd import run

    raise typer.Exit(run(bundle, escrow, cells, leaves, trust or [], json_output, workspace=workspace, territory=territory,
                         territory_filter=territory_filter, max_cells=max_cells))


@app.command()
def accept(
    workspace: WorkspaceOpt,
    escrow: Annotated[Path, typer.Option("--escrow", help="The host's signed escrow.json.", show_default=False)],
    cells: Annotated[Path, typer.Option("--cells", help="The escrow's cells.txt.", show_default=False)],
    trust: Annotated[Optional[list[str]], typer.Option("--trust", metavar="VKEY", help="The host's verifier key (repeatable), pinned for the escrow in this workspace.")] = None,
    territory: Annotated[Optional[Path], typer.Option("--territory", help="The agreed territory: check the cells cover it (spec §1).")] = None,
    territory_filter: Annotated[Optional[str], typer.Option("--territory-filter", metavar="KEY=VALUE")] = None,
    max_cells: MaxCellsOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Check a received escrow (signature, cell list, coverage) and record it before any reveal."""
    from unveil.cli.workflow_cmd import accept as run

    raise typer.Exit(run(workspace, escrow, cells, trust or [], territory, territory_filter, json_output, max_cells))


@app.command()
def export(
    declaration: Annotated[Path, typer.Option("--declaration", help="A declaration: .csv, .geojson, .json or .yaml.", show_default=False)],
    to: Annotated[str, typer.Option("--to", help="geojson, csv or json.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The file to write.", show_default=False)],
    territory: Annotated[Optional[Path], typer.Option("--territory", help="Also check every site lies in this territory.")] = None,
    territory_filter: Annotated[Optional[str], typer.Option("--territory-filter", metavar="KEY=VALUE")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Check a declaration and write it as GeoJSON (e.g. for QGIS), CSV or JSON."""
    from unveil.cli.workflow_cmd import export as run

    raise typer.Exit(run(declaration, to, out, territory, territory_filter, json_output))


@app.command()
def status(
    workspace: WorkspaceOpt,
    escrow_id: Annotated[Optional[str], typer.Option("--escrow-id", help="Which escrow (needed when the workspace holds several).")] = None,
    quorum: Annotated[Optional[int], typer.Option("--quorum", metavar="K", help="Count an entry final once K quorum members cosigned it (default: all; spec §7).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """What is sealed and opened, running totals, the final reconciliation, and what is not final on the board yet."""
    from unveil.cli.workflow_cmd import status as run

    raise typer.Exit(run(workspace, escrow_id, json_output, quorum=quorum))


@app.command()
def plan(
    population: Annotated[str, typer.Option("--population", metavar="N", help="Items that could be inspected.", show_default=False)],
    detection: Annotated[str, typer.Option("--detection", metavar="P", help="Target probability of detecting at least one falsified item, e.g. 0.95.", show_default=False)],
    falsified: Annotated[Optional[str], typer.Option("--falsified", metavar="M", help="Falsified items to detect.")] = None,
    goal_quantity: Annotated[Optional[str], typer.Option("--goal-quantity", metavar="Q", help="Material the cheat must hide (M = ceil(Q / X)).")] = None,
    item_size: Annotated[Optional[str], typer.Option("--item-size", metavar="X", help="Material per item.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Exact (hypergeometric) inspection sample size for a detection probability."""
    from unveil.cli.plan_cmd import plan as run

    raise typer.Exit(run(population, falsified, goal_quantity, item_size, detection, json_output))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def select(
    ctx: typer.Context,
    context: Annotated[str, typer.Option("--context", help="The draw's context id (spec §8).", show_default=False)],
    population: Annotated[Path, typer.Option("--population", help="File of ids, one per line.", show_default=False)],
    n: Annotated[int, typer.Option("--n", help="How many to select.", show_default=False)],
    json_output: JsonFlag = False,
) -> None:
    """Recompute a verifiable random selection offline (spec §8).

    Give each party's coin as --reveal VKEY HEX (repeatable): its statement vkey and revealed r.
    """
    from unveil.cli.plan_cmd import select as run

    args, reveals = list(ctx.args), []
    while args:
        flag = args.pop(0)
        if flag != "--reveal" or len(args) < 2 or args[0].startswith("--") or args[1].startswith("--"):
            raise typer.BadParameter(f"unexpected {flag!r}: coins are given as --reveal VKEY HEX", param_hint="--reveal")
        reveals.append((args.pop(0), args.pop(0)))
    raise typer.Exit(run(context, reveals, population, n, json_output))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's artifacts.")] = Path("demo-out"),
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Run a fictional declaration through commit, three phased reveals, and verification."""
    from unveil.cli.demo_cmd import run

    raise typer.Exit(run(out, json_output))


@app.command()
def serve(
    db: Annotated[str, typer.Option("--db", metavar="URL", help="The board database: sqlite:///PATH or postgresql://USER@HOST/DB.", show_default=False)],
    origin: Annotated[str, typer.Option("--origin", help="The log's origin: the board's name in PARTIES.json.", show_default=False)],
    key: Annotated[Path, typer.Option("--key", help="The board's statement key (WS/keys/statement.pem of 'unveil init --role board').", show_default=False)],
    parties: Annotated[Path, typer.Option("--parties", help="PARTIES.json: the registered parties.", show_default=False)],
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port (0: any free port).")] = 8080,
    idle_timeout: Annotated[float, typer.Option("--idle-timeout", metavar="SECONDS", help="Close a connection that sends nothing for this long while the board waits for it.")] = 10.0,
    request_timeout: Annotated[float, typer.Option("--request-timeout", metavar="SECONDS", help="Close a connection whose request (headers and body) takes longer than this to arrive.")] = 60.0,
    purge_after: Annotated[int, typer.Option("--purge-after", metavar="SECONDS", min=0, help="Delete a reveal file no entry names this long after its upload.")] = 3600,
    json_output: Annotated[bool, typer.Option("--json", help="Print where it listens (and errors) as JSON.")] = False,
    unsafe_clock_offset: Annotated[int, typer.Option("--unsafe-clock-offset", metavar="SECONDS", min=0, max=366 * 86400,
                                                     help="Exercises only: run the board's clock this far ahead, so that an exercise can show deadlines pass without waiting. A real board never sets it.")] = 0,
) -> None:
    """Run the board's HTTP API (spec §11) over its database until interrupted (board)."""
    from unveil.cli.serve_cmd import command as run

    raise typer.Exit(run(db, origin, key, parties, host, port, json_output, idle_timeout=idle_timeout, request_timeout=request_timeout,
                         purge_after=purge_after, clock_offset=unsafe_clock_offset))


BoardOpt = Annotated[str, typer.Option("--board", metavar="URL", help="The board's base URL.", show_default=False)]
QuorumOpt = Annotated[Optional[int], typer.Option("--quorum", metavar="K", help="Lower the quorum to K of its members (default: every registered witness but the board; spec §7).")]


@app.command()
def publish(
    workspace: WorkspaceOpt,
    board: BoardOpt,
    escrow: Annotated[Optional[Path], typer.Option("--escrow", help="Publish this signed escrow.json (escrow.published).")] = None,
    reveal: Annotated[Optional[Path], typer.Option("--reveal", help="Upload this reveal file byte for byte and log it (reveal.published); a directory: every part of one phase, in order.")] = None,
    verification: Annotated[Optional[Path], typer.Option("--verification", help="Log this workspace's latest verification of this reveal file (verification.recorded).")] = None,
    accept: Annotated[Optional[Path], typer.Option("--accept", help="Accept this escrow.json (escrow.accepted); needs --cells.")] = None,
    cells: Annotated[Optional[Path], typer.Option("--cells", help=(
        "The escrow's cells.txt, checked against its cells_sha256: with --accept, to accept it; with --escrow, uploaded"
        " to the board (default: a cells.txt beside the escrow file that hashes to it)."))] = None,
    json_output: JsonFlag = False,
) -> None:
    """Sign an event with the workspace's statement key and log it on the board (spec §7)."""
    from unveil.cli.board_cmd import publish as run

    raise typer.Exit(run(workspace, board, escrow, reveal, verification, accept, cells, json_output))


@app.command()
def sync(
    workspace: WorkspaceOpt,
    board: BoardOpt,
    board_key: Annotated[str, typer.Option("--board-key", metavar="VKEY", help="The board's statement verifier key (its name is the log's origin).", show_default=False)],
    parties: Annotated[Path, typer.Option("--parties", help="PARTIES.json: the registered parties; the quorum is every witness but the board.", show_default=False)],
    quorum: QuorumOpt = None,
    json_output: JsonFlag = False,
) -> None:
    """Mirror the board's log, check it against its signed checkpoint, and witness it:
    cosign if consistent with the last checkpoint cosigned, else refuse and keep the evidence;
    then report the final size (spec §7)."""
    from unveil.cli.board_cmd import sync as run

    raise typer.Exit(run(workspace, board, board_key, parties, quorum, json_output))


@app.command()
def audit(
    origin: Annotated[str, typer.Option("--origin", help="The log's origin (the board's key name).", show_default=False)],
    parties: Annotated[Path, typer.Option("--parties", help="PARTIES.json: the registered parties and keys.", show_default=False)],
    board: Annotated[Optional[str], typer.Option("--board", metavar="URL", help="Audit the log a board serves.")] = None,
    db: Annotated[Optional[str], typer.Option("--db", metavar="URL", help="Audit a board database (sqlite:///PATH or postgresql://…).")] = None,
    quorum: QuorumOpt = None,
    allow_pending: Annotated[bool, typer.Option("--allow-pending", help="Report entries not final yet instead of failing (quorum-missing).")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Re-verify a whole board log offline: every entry, checkpoint, reveal file and every entry's finality (spec §6, §7)."""
    from unveil.cli.board_cmd import audit as run

    raise typer.Exit(run(board, db, origin, parties, quorum, allow_pending, json_output))


def _register_more() -> None:
    """Command groups kept in their own modules (their heavy imports stay inside commands)."""
    from unveil.cli import agreement_cmd, checkpoint_cmd, confidence_cmd, custody_cmd, draw_cmd, game_cmd, intel_cmd, material_cmd, report_cmd, simulate_cmd, ui_cmd

    checkpoint_cmd.register(app)
    custody_cmd.register(app)
    intel_cmd.register(app)
    draw_cmd.register(app)
    confidence_cmd.register(app)
    agreement_cmd.register(app)
    simulate_cmd.register(app)
    game_cmd.register(app)
    material_cmd.register(app)
    report_cmd.register(app)
    ui_cmd.register(app)


_register_more()


def main(argv: list[str] | None = None) -> int:
    """Entry point: usage errors and a missing extra exit 2, printing JSON when ``--json`` was
    asked for; every other error is mapped by each command's edge (:mod:`unveil.cli.edge`)."""
    from unveil.errors import MissingExtraError
    from unveil.extras import COMMAND_EXTRAS, require, required_extras

    args = sys.argv[1:] if argv is None else argv
    try:
        if args and "--help" not in args:
            require(*COMMAND_EXTRAS.get(args[0], ()))
        with required_extras():
            result = app(args=args, prog_name="unveil", standalone_mode=False)
    except typer.TyperException as exc:  # every usage error of typer's parser (UsageError, BadParameter, …)
        if "--json" in args:
            _json_error(exc.format_message())
        elif hasattr(exc, "show"):
            exc.show()  # usage line, hint and message
        else:
            print(f"Error: {exc.format_message()}", file=sys.stderr)
        return ExitCode.MALFORMED
    except MissingExtraError as exc:
        if "--json" in args:
            _json_error(f"unveil {args[0]}: {exc}")
        else:
            print(f"error: unveil {args[0]}: {exc}", file=sys.stderr)
        return exit_code(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    return result if isinstance(result, int) else ExitCode.OK


def _json_error(message: str) -> None:
    import json

    print(json.dumps({"valid": False, "error": message}))


if __name__ == "__main__":
    sys.exit(main())
