"""The host's side: seal a declaration, open it phase by phase.

The master secret is drawn here, stored only in the host's workspace database, and used only
to derive salts; what leaves the workspace is escrow.json, cells.txt, leaves.bin and reveal
bundles (spec §3–§6).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from sqlite3 import Blob
from typing import Any, Callable, Mapping, Sequence

from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, opening, reveal_statement
from unveil.core.commitments import Salter, leaves_of
from unveil.core.encoding import format_time, is_id
from unveil.core.escrow import Escrow, Grid, parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.leveled import LeveledTree
from unveil.core.merkle import MerkleTree, hash_leaves, leaf_hash
from unveil.core.multiproof import packed_multiproof_root
from unveil.core.statements import sign_statement
from unveil.errors import MalformedInputError, VerificationError
from unveil.escrowing import LEVEL_FLOOR, CellSource, H3Cells, ListCells, TreeLevels, commit_chunks, open_with
from unveil.store import escrow_blobs as blobs
from unveil.store import workspace_queries as q
from unveil.store.workspace_db import transaction
from unveil.workspace.files import staged, staged_stream, staged_streams, sync
from unveil.workspace.workspace import Workspace


def dump(doc: Any) -> bytes:
    """Artifacts are pretty JSON, UTF-8, newline-terminated (readers re-canonicalize)."""
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Committed:
    escrow_id: str
    cells: int
    non_empty: int
    root: str
    out: Path


def commit(
    ws: Workspace,
    *,
    escrow_id: str,
    cells: Sequence[str] | H3Cells,
    resolution: int | None,
    contents: Mapping[str, Mapping[str, Any]],
    out: Path,
    now: datetime,
    public_totals: Mapping[str, Any] | None = None,
    sealed_totals: Mapping[str, Any] | None = None,
    territory_geojson: bytes | None = None,
    random: Callable[[int], bytes] = os.urandom,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Committed:
    """Seal ``contents`` over ``cells`` (sorted; absent cells are empty) as escrow ``escrow_id``.

    Streams (spec §3 bytes unchanged): chunks of cells are committed in order (in worker
    processes for large escrows), ``cells.txt`` and ``leaves.bin`` written as they come into
    hidden temporaries in ``out`` and copied into the workspace a few MiB at a time, with the
    tree's levels from :data:`~unveil.escrowing.LEVEL_FLOOR` up for later reveals. Memory holds
    the cells as given (8 bytes a cell for :class:`~unveil.escrowing.H3Cells`), a few chunks and
    those levels (0.5 byte a cell). A failure, a full disk included, leaves no file behind and
    nothing recorded (exit 2, naming ``out``)."""
    ws.require_role("host")
    if not is_id(escrow_id):
        raise MalformedInputError(f"{escrow_id!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--escrow-id")
    source: CellSource = cells if isinstance(cells, H3Cells) else ListCells(cells)
    stray = [cell for cell in sorted(contents) if not source.holds(cell)]
    if stray:
        raise MalformedInputError(f"declared cell {stray[0]} is not among the territory's cells", where="--declaration")
    key = ws.statement_key()
    n = len(source)
    with ws.connect() as db:
        if q.escrow_exists(db, escrow_id):
            raise MalformedInputError(f"escrow {escrow_id!r} already exists in this workspace", where="--escrow-id")
        if 33 * n > blobs.blob_limit(db):
            raise MalformedInputError(f"{n} cells: leaves.bin and the tree levels would exceed the workspace's largest row "
                                      f"({blobs.blob_limit(db)} bytes, about {blobs.blob_limit(db) // 33} cells)", where="--resolution")
        secret = random(32)  # fresh for each escrow, never reused (spec §3)
        salter = Salter(secret, escrow_id)
        try:
            with staged_streams(out, ("cells.txt", "leaves.bin", "escrow.json")) as files:
                tree, cells_sha = TreeLevels(), hashlib.sha256()
                for chunk in commit_chunks(secret, escrow_id, source, contents, workers=workers):
                    files["cells.txt"].write(chunk.cells_txt)
                    files["leaves.bin"].write(chunk.leaves)
                    cells_sha.update(chunk.cells_txt)
                    tree.add(chunk)
                    if on_progress:
                        on_progress(len(chunk.leaves) // 32)
                root = tree.root()
                grid = Grid("h3" if resolution is not None else "list", n, cells_sha.hexdigest(), resolution)
                statement = escrow_statement(
                    escrow_id=escrow_id, host=ws.name, created=format_time(now), grid=grid, root=root,
                    salter=salter, public_totals=public_totals, sealed=sealed_totals,
                )
                escrow_json = dump(sign_statement(statement, [key]))
                files["escrow.json"].write(escrow_json)
                for handle in files.values():
                    sync(handle)
                with transaction(db):
                    blobs.insert_escrow_streamed(
                        db, escrow_id, own=True, escrow_json=escrow_json, cells_txt=files["cells.txt"], cells_size=files["cells.txt"].tell(),
                        territory_geojson=territory_geojson, coverage_checked=True, recorded=format_time(now))
                    blobs.insert_tree(db, escrow_id, LEVEL_FLOOR, tree.upper(), files["leaves.bin"], 32 * n)
                    q.insert_secret(db, escrow_id, secret, json.dumps(sealed_totals) if sealed_totals else None)
                    q.insert_contents(db, escrow_id, ((cell, json.dumps(content, ensure_ascii=False)) for cell, content in contents.items()))
        except OSError as exc:
            raise MalformedInputError(f"cannot write the escrow: {exc.strerror or exc}; nothing was written or recorded",
                                      source=str(out)) from None
        except sqlite3.OperationalError as exc:
            raise MalformedInputError(f"cannot record the escrow: {exc}; nothing was written or recorded", source=str(ws.db_path)) from None
    return Committed(escrow_id, n, len(contents), root.hex(), out)


@dataclass(frozen=True)
class Revealed:
    """A revealed phase: written to ``path`` as one file, or (``parts`` non-empty) as the part
    files ``parts`` beside it (spec §5.1), part 1 first."""

    escrow_id: str
    phase: str
    openings: int
    reopened: list[str]
    path: Path
    parts: tuple[Path, ...] = ()


def reveal(
    ws: Workspace,
    *,
    escrow_id: str,
    phase: str,
    indices: Sequence[int],
    out: Path,
    now: datetime,
    open_totals: bool = False,
    max_part_bytes: int | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> Revealed:
    """Open the cells at ``indices`` (sorted) as phase ``phase``: a signed reveal bundle (§5)
    written to ``out``, or, when that file would exceed ``max_part_bytes`` (default 16 MiB),
    numbered parts of at most that size beside it, ``<out stem>.part-<k>-of-<n>.json``
    (spec §5.1, :mod:`unveil.workspace.reveal_parts`; ``progress(part count)`` returns the
    callback that advances a progress bar by each part)."""
    from unveil.core.reveal import PART_MAX_BYTES
    from unveil.workspace import reveal_parts

    ws.require_role("host")
    limit = PART_MAX_BYTES if max_part_bytes is None else max_part_bytes
    reveal_parts.check_limit(limit)
    if not is_id(phase):
        raise MalformedInputError(f"{phase!r} is not an id (1-64 of [A-Za-z0-9._:-])", where="--phase")
    if not indices:
        raise MalformedInputError("the region holds no committed cell", where="region")
    key = ws.statement_key()
    with ws.connect() as db:
        head = blobs.sealed_head(db, escrow_id)
        if head is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} sealed in this workspace", where="--escrow-id")
        if q.phase_files(db, escrow_id, phase):  # as one file or in parts (spec §5.1)
            raise MalformedInputError(f"phase {phase!r} of escrow {escrow_id!r} was already published", where="--phase")
        secret, sealed_json = head.master_secret, head.sealed_totals_json
        escrow = parse_escrow(loads(head.escrow_json)["statement"])
        if open_totals and not sealed_json:
            raise MalformedInputError("this escrow has no sealed totals to open", where="--open-totals")
        contents = {cell: loads(text) for cell, text in q.contents(db, escrow_id).items()}
        totals = loads(sealed_json) if open_totals and sealed_json else None
        salter = Salter(secret, escrow_id)
        kept = blobs.tree(db, escrow_id)
        with blobs.cells_blob(db, head.rowid) as cells_blob, blobs.leaves_blob(db, head.rowid, kept) as leaves_blob:
            cells = _committed_cells(escrow, cells_blob)
            if indices[-1] >= len(cells):
                raise MalformedInputError(f"cell index {indices[-1]} is outside the escrow's {len(cells)} cells", where="region")
            tree: LeveledTree | MerkleTree = (
                LeveledTree(escrow.tree_size, kept.floor, kept.levels, lambda lo, hi: blobs.read(leaves_blob, 32 * lo, 32 * hi))
                if kept is not None else MerkleTree.from_leaf_hashes(hash_leaves(blobs.read(leaves_blob, 0, len(leaves_blob))))
            )
            already = q.opened_indices(db, escrow_id)
            reopened = [cells[i] for i in indices if i in already]

            def openings_of(start: int, stop: int) -> list[dict[str, Any]]:
                return [opening(i, cells[i], salter, contents.get(cells[i])) for i in indices[start:stop]]

            sizes = array("q", (len(line) + 2 for start in range(0, len(indices), _SIZING)
                                for line in reveal_parts.opening_lines(openings_of(start, start + _SIZING))))  # only the sizes are kept
            if sum(sizes) <= limit:  # likely one file: built as always, and kept if it fits
                openings, proof = open_with(secret, escrow_id, cells, contents, tree, list(indices))
                _check_own_proof(escrow, openings, proof, str(ws.db_path))
                statement = reveal_statement(escrow=escrow, phase=phase, openings=openings, proof=proof, totals=totals, salter=salter)
                bundle = dump(sign_statement(statement, [key]))
                if len(bundle) > limit:  # the same file, one opening a line, may still fit: a phase of one part is one file
                    bundle = reveal_parts.part_file(statement, [key])
                if len(bundle) <= limit:
                    record_opening(db, out, escrow_id, phase, bundle, openings, now, sealed_json if open_totals else None)
                    return Revealed(escrow_id, phase, len(indices), reopened, out)
                del bundle, statement, proof, openings
            stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
            directory = out.resolve().parent
            written: list[Path] = []

            def attempt(build: reveal_parts.Builder) -> None:
                written.clear()
                with staged_stream(directory) as write, transaction(db):
                    build(lambda k, n, data, held: written.append(record_part(db, write, directory, stem, escrow_id, phase, k, n, data, held, now)))
                    if open_totals and sealed_json:
                        q.insert_opened_totals(db, escrow_id, sealed_json, phase)

            def proof_of(chosen: list[int]) -> list[bytes]:
                return tree.multiproof(chosen)

            reveal_parts.write_parts(
                escrow=escrow, phase=phase, count=len(indices), openings_of=openings_of, sizes=sizes, proof_of=proof_of,
                keys=[key], limit=limit, totals=totals, salter=salter, attempt=attempt, progress=progress,
            )
    return Revealed(escrow_id, phase, len(indices), reopened, out, tuple(written))


_SIZING = 10_000
"""Openings built at a time to measure them (then dropped: only their sizes are kept)."""


def record_part(
    db: sqlite3.Connection, write: Callable[[str, bytes], None], directory: Path, stem: str, escrow_id: str, phase: str,
    k: int, n: int, data: bytes, held: Sequence[Mapping[str, Any]], now: datetime,
) -> Path:
    """Write part ``k`` of ``n`` of a phase (its file ``data``, holding the openings ``held``)
    with ``write`` (:func:`unveil.workspace.files.staged_stream`) as ``<stem>.part-<k>-of-<n>.json``
    (spec §5.1) and record it and its opened cells in ``db`` (inside the caller's transaction);
    the path it will have."""
    from unveil.core.parts import part_file_name

    name = part_file_name(stem, k, n)
    write(name, data)
    q.insert_phase(db, escrow_id, phase, data, hashlib.sha256(data).hexdigest(), len(held), format_time(now),
                   part=k, parts=n, first_index=int(held[0]["index"]), last_index=int(held[-1]["index"]))
    q.insert_opened(db, escrow_id, phase, ((o["index"], o["cell"], json.dumps(o["content"], ensure_ascii=False)) for o in held))
    return directory / name


def _check_own_proof(escrow: Escrow, openings: Sequence[Mapping[str, Any]], proof: Sequence[bytes], source: str) -> None:
    """The multiproof leads to the escrow's root from the openings (spec §5), before anything is
    written: a damaged workspace copy (stored levels or leaves) is an error, never a bundle
    that fails every verifier."""
    salts = [bytes.fromhex(o["salt"]) for o in openings]
    hashes = b"".join(leaf_hash(value) for value in leaves_of(salts, [o["content"] for o in openings]))
    try:
        root = packed_multiproof_root(escrow.tree_size, [o["index"] for o in openings], hashes, b"".join(proof))
    except VerificationError:
        root = b""
    if root.hex() != escrow.root:
        raise MalformedInputError(f"the stored tree of escrow {escrow.escrow_id!r} does not lead to its root: "
                                  "the workspace's copy is damaged; nothing was written", source=source)


def _committed_cells(escrow: Escrow, cells_txt: Blob) -> Sequence[str]:
    """The committed cells of an escrow sealed here: read line by line from the stored
    ``cells.txt`` when its lines have one width (an h3 grid), else the whole file."""
    if escrow.grid.system == "h3" and len(cells_txt) == cell_file.H3_LINE * escrow.tree_size:
        return cell_file.FixedWidthCells(lambda lo, hi: blobs.read(cells_txt, lo, hi), escrow.tree_size)
    return cell_file.read(blobs.read(cells_txt, 0, len(cells_txt))).cells


def record_opening(
    db: sqlite3.Connection, out: Path, escrow_id: str, phase: str, bundle: bytes,
    openings: Sequence[Mapping[str, Any]], now: datetime, totals_json: str | None = None,
) -> None:
    """Write a signed reveal bundle to ``out`` and record its phase and opened cells, all or
    nothing (shared by the host's reveals and the inspector's intel openings)."""
    with staged(out.resolve().parent, {out.name: bundle}), transaction(db):
        q.insert_phase(db, escrow_id, phase, bundle, hashlib.sha256(bundle).hexdigest(), len(openings), format_time(now))
        q.insert_opened(db, escrow_id, phase, ((o["index"], o["cell"], json.dumps(o["content"], ensure_ascii=False)) for o in openings))
        if totals_json is not None:
            q.insert_opened_totals(db, escrow_id, totals_json, phase)


# --- from files: what unveil commit and unveil reveal call ------------------------------------


def commit_declaration(
    ws: Workspace,
    *,
    escrow_id: str,
    territory: bytes,
    territory_source: str,
    territory_filter: str | None,
    resolution: int,
    declaration: bytes,
    declaration_source: str,
    out: Path,
    now: datetime,
    public_totals: Sequence[str] = (),
    sealed_totals: Sequence[str] = (),
    max_cells: int | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
    random: Callable[[int], bytes] = os.urandom,
) -> Committed:
    """Seal the declaration in ``declaration`` (bytes, any format) over every cell of the
    territory in ``territory`` (GeoJSON bytes, recorded as they were read) at ``resolution``.
    The cover's size is checked first (:func:`unveil.geo.budget.check_cell_budget`, limit
    ``max_cells``); ``progress(cell count)`` returns the callback that advances a progress bar."""
    from unveil.declaration import read_declaration
    from unveil.geo.budget import check_cell_budget
    from unveil.geo.territory import read_territory

    ws.require_role("host")
    if not 0 <= resolution <= 15:
        raise MalformedInputError(f"resolution {resolution} is outside 0..15", where="--resolution")
    land = read_territory(territory, source=territory_source, filter=territory_filter)
    check_cell_budget(land.geometry, resolution, max_cells)
    decl = read_declaration(declaration, source=declaration_source, contains=land.contains, resolution=resolution)
    public, sealed = decl.totals(list(public_totals)) if public_totals else None, decl.totals(list(sealed_totals)) if sealed_totals else None
    cells = H3Cells(land.cell_ids(resolution))
    return commit(
        ws, escrow_id=escrow_id, cells=cells, resolution=resolution, contents=decl.contents(resolution), out=out, now=now,
        public_totals=public, sealed_totals=sealed, territory_geojson=territory, random=random,
        on_progress=progress(len(cells)) if progress is not None else None,
    )


@dataclass(frozen=True)
class Region:
    """The cells a phase opens, chosen with exactly one of: coarser H3 ``parents``, a GeoJSON
    ``polygon`` (bytes and their source), a ``bbox`` (the ``--bbox`` text), or a ``cell_list``
    file (bytes and their source), one cell id a line."""

    parents: Sequence[str] | None = None
    polygon: tuple[bytes, str] | None = None
    bbox: str | None = None
    cell_list: tuple[bytes, str] | None = None


def select_cells(ws: Workspace, escrow_id: str, region: Region) -> list[int]:
    """Indices into the committed cells of escrow ``escrow_id`` (sealed here) that ``region``
    selects (:func:`unveil.geo.regions.select_indices`)."""
    chosen = [name for name, value in (("--region", region.parents), ("--polygon", region.polygon), ("--bbox", region.bbox),
                                       ("--cells", region.cell_list)) if value is not None]
    if len(chosen) != 1:
        raise MalformedInputError("choose the region with exactly one of --region, --polygon, --bbox, --cells",
                                  where=", ".join(chosen) or "region")
    with ws.connect() as db:
        head = blobs.sealed_head(db, escrow_id)
        if head is None:
            raise MalformedInputError(f"no escrow {escrow_id!r} sealed in this workspace", where="--escrow-id")
        escrow = parse_escrow(loads(head.escrow_json)["statement"])
        with blobs.cells_blob(db, head.rowid) as cells_blob:
            return _select(escrow, _committed_cells(escrow, cells_blob), region, escrow_id, chosen[0])


def _select(escrow: Escrow, cells: Sequence[str], region: Region, escrow_id: str, chosen: str) -> list[int]:
    from unveil.geo import regions, territory

    if region.cell_list is not None:
        data, source = region.cell_list
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError(f"not UTF-8 (byte {exc.start})", source=source) from None
        listed = [line.strip() for line in text.splitlines() if line.strip()]
        return regions.select_indices(cells, 0, cell_list=listed)  # a list of cells needs no resolution
    resolution = escrow.grid.resolution
    if resolution is None:
        raise MalformedInputError(f"escrow {escrow_id!r} is on a list grid: choose its cells with --cells", where=chosen)
    if region.parents is not None:
        return regions.select_indices(cells, resolution, parents=list(region.parents))
    if region.polygon is not None:
        return regions.select_indices(cells, resolution, polygon=regions.read_polygon(*region.polygon))
    assert region.bbox is not None
    return regions.select_indices(cells, resolution, bbox=territory.bbox(region.bbox))


def reveal_region(
    ws: Workspace, *, escrow_id: str, phase: str, region: Region, out: Path, now: datetime, open_totals: bool = False,
    max_part_bytes: int | None = None, progress: Callable[[int], Callable[[int], None]] | None = None,
) -> Revealed:
    """:func:`reveal` of the cells ``region`` selects."""
    ws.require_role("host")
    return reveal(ws, escrow_id=escrow_id, phase=phase, indices=select_cells(ws, escrow_id, region), out=out, now=now, open_totals=open_totals,
                  max_part_bytes=max_part_bytes, progress=progress)
