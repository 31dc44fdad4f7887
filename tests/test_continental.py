"""Continent-sized escrows: the streaming commit, the host's kept tree levels, the lazy cells.txt
and its whole-array checks, and the block merge of coverage. Every artifact is compared byte for
byte with a plain reference implementation kept here (the spec's formulas written out, no chunks,
no workers, no numpy); memory is measured on a mid-size escrow; a full disk or an unwritable
output directory is a clean exit 2 with nothing left behind."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h3
import h3.api.basic_int as h3int
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from unveil.cli.main import main
from unveil.core import cells as cell_file
from unveil.core.commitments import Salter, content_jcs, leaves_and_hashes, leaves_for
from unveil.core.h3cells import PENTAGON_BASE_CELLS, h3_blocks, h3_list_ok, h3_valid, h3_values, locate
from unveil.core.jsonparse import loads
from unveil.core.leveled import LeveledTree
from unveil.core.merkle import MerkleTree, hash_leaves
from unveil.escrowing import CHUNK, LEVEL_FLOOR, H3Cells, ListCells, TreeLevels, commit_cells, commit_chunks
from unveil.geo.territory import _h3_parts, missing_cells, missing_ids, overlapping_cell_ids, read_territory
from unveil.store import escrow_blobs
from unveil.workspace import host
from unveil.workspace.workspace import create, open_workspace

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
SECRET = hashlib.sha256(b"continental test secret").digest()

# --- the plain reference: the spec's formulas, one cell at a time --------------------------


def ref_cells(geometry: shapely.Geometry, resolution: int) -> list[str]:
    """§1: every cell overlapping the territory, ascending (h3's string API, a set, sorted)."""
    found: set[str] = set()
    for shape in _h3_parts(geometry):
        found.update(h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap"))
    return sorted(found)


def ref_mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 over leaf hashes, recursively as written."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + ref_mth(hashes[:k]) + ref_mth(hashes[k:])).digest()


def ref_mproof(hashes: list[bytes], opened: set[int], lo: int, hi: int, out: list[bytes]) -> None:
    """Spec §5 MPROOF(lo, hi) as written."""
    if not any(lo <= i < hi for i in opened):
        out.append(ref_mth(hashes[lo:hi]))
        return
    if hi - lo == 1:
        return
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    ref_mproof(hashes, opened, lo, lo + k, out)
    ref_mproof(hashes, opened, lo + k, hi, out)


def ref_leaves(escrow_id: str, cells: list[str], contents: dict[str, Any]) -> list[bytes]:
    """§3: leaf(c) = SHA256(TAG ‖ HMAC(K, TAG ‖ id ‖ 0 ‖ c) ‖ JCS(content)), via hmac itself."""
    import hmac

    from unveil.core.commitments import CELL_TAG, SALT_TAG

    out = []
    for cell in cells:
        salt = hmac.new(SECRET, SALT_TAG + escrow_id.encode() + b"\x00" + cell.encode(), "sha256").digest()
        content = contents.get(cell, {"cell": cell, "sites": []})
        out.append(hashlib.sha256(CELL_TAG + salt + content_jcs(content)).digest())
    return out


def territory_doc(west: float, south: float, east: float, north: float) -> bytes:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]}).encode()


DECLARATION = b"""site_id,kind,name,lat,lon,category,quantity,unit,type,serials
S-1,weapons-storage,North depot,45.30,10.20,warhead,3,count,,W-1;W-2;W-3
S-2,enrichment,,45.10,10.50,heu,10.25,kg,90% U-235,
"""


def commit_territory(tmp: Path, territory: bytes, resolution: int, name: str = "h") -> tuple[Any, Path]:
    ws = create(tmp / name, "host", "Host")
    out = tmp / f"{name}-out"
    host.commit_declaration(
        ws, escrow_id="continent", territory=territory, territory_source="t.geojson", territory_filter=None,
        resolution=resolution, declaration=DECLARATION, declaration_source="d.csv", out=out, now=NOW, random=lambda n: SECRET,
    )
    return ws, out


# --- byte-identical artifacts against the reference -----------------------------------------


@pytest.mark.parametrize(("bounds", "resolution"), [((10.0, 45.0, 10.6, 45.4), 7), ((9.5, 44.8, 11.2, 46.0), 9)], ids=["small", "medium"])
def test_commit_and_reveal_are_byte_identical_to_the_plain_reference(tmp_path: Path, bounds: tuple[float, ...], resolution: int) -> None:
    data = territory_doc(*bounds)
    ws, out = commit_territory(tmp_path, data, resolution)
    cells = ref_cells(box(*bounds), resolution)
    if resolution == 9:
        assert len(cells) > 2 * CHUNK + 1000, "the medium case spans several chunks and the worker path"
    from unveil.declaration import read_declaration

    land = read_territory(data, source="t")
    contents = read_declaration(DECLARATION, source="d.csv", contains=land.contains, resolution=resolution).contents(resolution)
    assert contents, "the declaration puts sites in the territory"
    leaves = ref_leaves("continent", cells, contents)
    hashes = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    cells_txt = "".join(c + "\n" for c in cells).encode()

    assert (out / "cells.txt").read_bytes() == cells_txt
    assert (out / "leaves.bin").read_bytes() == b"".join(leaves)
    statement = loads((out / "escrow.json").read_bytes())["statement"]
    assert statement["root"] == ref_mth(hashes).hex()
    assert statement["grid"] == {"system": "h3", "resolution": resolution, "cell_count": len(cells),
                                 "cells_sha256": hashlib.sha256(cells_txt).hexdigest()}
    assert sorted(p.name for p in out.iterdir()) == ["cells.txt", "escrow.json", "leaves.bin"], "no temporaries left"

    # The stored copies are the same bytes, and the kept levels are the reference tree's.
    with ws.connect() as db:
        head = escrow_blobs.sealed_head(db, "continent")
        assert head is not None
        kept = escrow_blobs.tree(db, "continent")
        assert kept is not None and kept.floor == LEVEL_FLOOR
        with escrow_blobs.cells_blob(db, head.rowid) as stored_cells, escrow_blobs.leaves_blob(db, head.rowid, kept) as stored_leaves:
            assert escrow_blobs.read(stored_cells, 0, len(stored_cells)) == cells_txt
            assert escrow_blobs.read(stored_leaves, 0, len(stored_leaves)) == b"".join(leaves)
    tree = MerkleTree.from_leaf_hashes(b"".join(hashes))
    assert kept.levels == b"".join(tree._levels[LEVEL_FLOOR:])

    # A reveal: a bbox region plus scattered cells, against the reference multiproof.
    rng = random.Random(resolution)
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    region = host.Region(bbox=f"{lon - 0.05},{lat - 0.03},{lon + 0.05},{lat + 0.03}")
    bundle_path = tmp_path / "region.json"
    done = host.reveal_region(ws, escrow_id="continent", phase="region", region=region, out=bundle_path, now=NOW)
    bundle = loads(bundle_path.read_bytes())["statement"]
    indices = [o["index"] for o in bundle["openings"]]
    assert len(indices) == done.openings > 10
    expected_cells = ref_cells(box(lon - 0.05, lat - 0.03, lon + 0.05, lat + 0.03), resolution)
    committed = set(cells)
    assert [o["cell"] for o in bundle["openings"]] == [c for c in expected_cells if c in committed]
    proof: list[bytes] = []
    ref_mproof(hashes, set(indices), 0, len(hashes), proof)
    assert bundle["proof"] == [h.hex() for h in proof]
    scattered = sorted(rng.sample(range(len(cells)), 25))
    listed = "".join(cells[i] + "\n" for i in scattered).encode()
    host.reveal_region(ws, escrow_id="continent", phase="scattered", region=host.Region(cell_list=(listed, "l.txt")),
                       out=tmp_path / "scattered.json", now=NOW)
    bundle = loads((tmp_path / "scattered.json").read_bytes())["statement"]
    proof = []
    ref_mproof(hashes, set(scattered), 0, len(hashes), proof)
    assert [o["index"] for o in bundle["openings"]] == scattered and bundle["proof"] == [h.hex() for h in proof]
    salter = Salter(SECRET, "continent")
    assert all(o["salt"] == salter.salt(o["cell"]).hex() for o in bundle["openings"])


def test_chunks_compose_the_same_tree_at_every_boundary() -> None:
    contents = {"c0000005": {"cell": "c0000005", "sites": [{"id": "x", "kind": "research", "items": []}]}}
    for n in (1, 2, LEVEL_FLOOR, 63, 64, 65, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3):
        cells = [f"c{i:07d}" for i in range(n)]
        plain = commit_cells(SECRET, "e", cells, contents, workers=1)
        for workers in (1, 2):
            levels, text, leaves = TreeLevels(), bytearray(), bytearray()
            for chunk in commit_chunks(SECRET, "e", ListCells(cells), contents, workers=workers):
                levels.add(chunk)
                text += chunk.cells_txt
                leaves += chunk.leaves
            assert bytes(leaves) == plain.leaves and levels.root() == plain.root and levels.size == n
            assert bytes(text) == cell_file.render(cells)
        tree = LeveledTree(n, LEVEL_FLOOR, levels.upper(), lambda lo, hi: plain.leaves[32 * lo : 32 * hi])
        reference = MerkleTree.from_leaf_hashes(hash_leaves(plain.leaves))
        assert tree.root == reference.root
        rng = random.Random(n)
        for k in (1, 2, 17):
            chosen = sorted(rng.sample(range(n), min(k, n)))
            assert tree.multiproof(chosen) == reference.multiproof(chosen)


def test_leveled_tree_refuses_levels_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="upper levels"):
        LeveledTree(1000, LEVEL_FLOOR, b"\x00" * 32, lambda lo, hi: b"")
    with pytest.raises(ValueError, match="size >= 1"):
        LeveledTree(0, LEVEL_FLOOR, b"", lambda lo, hi: b"")


@pytest.mark.parametrize("intel", [False, True])
def test_leaves_and_hashes_is_leaves_for_and_its_leaf_hashes(intel: bool) -> None:
    cells = [f"8a1fb46622{i:05x}" for i in range(300)] + ["ünï"[:0] + "weird-id"]
    contents = {cells[3]: {"cell": cells[3], "suspects" if intel else "sites": [{"id": "s", "kind": "research", "items": []}]}}
    salter = Salter(SECRET, "esc")
    leaves, hashes = leaves_and_hashes(salter, cells, contents, intel=intel)
    assert leaves == leaves_for(salter, cells, contents, intel=intel)
    assert hashes == hash_leaves(leaves)


def test_h3_lines_and_ids_round_trip() -> None:
    ids = overlapping_cell_ids(box(10.0, 45.0, 10.4, 45.3), 8)
    lines = H3Cells(ids).lines(0, len(ids))
    assert lines == cell_file.render(ref_cells(box(10.0, 45.0, 10.4, 45.3), 8))
    assert np.array_equal(h3_values(lines), ids)
    assert np.array_equal(np.concatenate(list(h3_blocks(lines, 1000))), ids)
    source = H3Cells(ids)
    first = format(int(ids[5]), "x")
    assert source.holds(first) and not source.holds(first[:-1] + "0") and not source.holds("not-a-cell")


def test_overlapping_cell_ids_match_the_string_api_on_awkward_shapes() -> None:
    shapes = [box(-170, -10, 170, 10), box(100, 20, 130, 50), shapely.Polygon([(0, 0), (5, 1), (3, 6), (0, 0)]),
              shapely.MultiPolygon([box(0, 0, 1, 1), box(0.5, 0.5, 2, 2)])]
    for shape, resolution in zip(shapes, (2, 4, 5, 6), strict=True):
        assert [format(v, "x") for v in overlapping_cell_ids(shape, resolution).tolist()] == ref_cells(shape, resolution)


# --- the lazy cells.txt and its whole-array checks ------------------------------------------


def test_h3_valid_is_h3s_is_valid_cell() -> None:
    assert sorted(h3int.get_base_cell_number(p) for p in h3int.get_pentagons(0)) == list(PENTAGON_BASE_CELLS)
    rng = random.Random(3)
    for resolution in range(16):
        cells = [h3int.latlng_to_cell(rng.uniform(-90, 90), rng.uniform(-180, 180), resolution) for _ in range(40)]
        cells += list(h3int.get_pentagons(resolution))
        for cell in cells:
            variants = [cell] + [cell ^ (1 << rng.randrange(64)) for _ in range(12)]
            variants += [(cell & ~(7 << 3 * (15 - d))) | (digit << 3 * (15 - d)) for d in range(1, 16) for digit in (0, 1, 7)]
            for value in variants:
                expected = h3int.is_valid_cell(value) and h3int.get_resolution(value) == resolution
                assert h3_valid(np.array([value], dtype=np.uint64), resolution) == expected, hex(value)


GOOD = ref_cells(box(10.0, 45.0, 10.3, 45.2), 7)


def lazy_and_plain(data: bytes) -> tuple[cell_file.CellList, cell_file.CellList]:
    lazy = cell_file.read(data)
    return lazy, cell_file.CellList(tuple(data[:-1].decode().split("\n")), lazy.sha256)


@pytest.mark.parametrize("edit", [
    lambda c: c,
    lambda c: [c[0].upper(), *c[1:]],
    lambda c: c[:5] + [c[5][:-1] + "g"] + c[6:],
    lambda c: c[:5] + [c[6], c[5]] + c[7:],
    lambda c: c[:5] + [c[5]] + c[5:],
    lambda c: c[:5] + [c[5][:1] + "8" + c[5][2:]] + c[6:],
    lambda c: c[:5] + ["8" + c[5][1:3] + "f" + c[5][4:]] + c[6:],
    lambda c: c[:3] + [format(h3int.get_pentagons(7)[0], "x")] + c[3:],
    lambda c: ["9" + c[0][1:]] + c[1:],
], ids=["good", "uppercase", "not-hex", "unsorted", "repeated", "wrong-resolution", "invalid-digit", "pentagon-out-of-order", "reserved-bit"])
def test_lazy_cell_list_finds_exactly_what_the_plain_checks_find(edit: Any) -> None:
    lines = edit(list(GOOD))
    data = "".join(c + "\n" for c in lines).encode()
    lazy, plain = lazy_and_plain(data)
    assert lazy.data is not None and isinstance(lazy.cells, cell_file.FixedWidthCells)
    assert lazy.cells == plain.cells and list(lazy.cells) == list(plain.cells) and len(lazy) == len(plain)
    assert lazy.cells[3] == plain.cells[3] and lazy.cells[-1] == plain.cells[-1] and lazy.cells[2:9] == list(plain.cells[2:9])
    assert cell_file.problems(lazy, "h3", 7) == cell_file.problems(plain, "h3", 7)
    assert cell_file.problems(lazy, "h3", 8) == cell_file.problems(plain, "h3", 8)
    assert cell_file.problems(lazy, "list", None) == cell_file.problems(plain, "list", None)
    assert (cell_file.problems(lazy, "h3", 7) == []) == (lines == GOOD)


def test_a_list_of_other_line_lengths_is_read_as_before() -> None:
    parsed = cell_file.read(b"a\nbb\n")
    assert parsed.cells == ("a", "bb") and parsed.data is None


def test_h3_list_ok_checks_order_across_blocks() -> None:
    data = cell_file.render(GOOD)
    assert h3_list_ok(data, 7)
    swapped = cell_file.render([*GOOD[1:], GOOD[0]])
    assert not h3_list_ok(swapped, 7) and not h3_list_ok(data, 8)


def test_locate_finds_cells_across_blocks() -> None:
    ids = overlapping_cell_ids(box(10.0, 45.0, 10.6, 45.4), 8)
    data = H3Cells(ids).lines(0, len(ids))
    rng = random.Random(5)
    chosen = sorted(rng.sample(range(len(ids)), 40))
    wanted = np.concatenate([ids[chosen], np.array([ids[-1] + np.uint64(1)], dtype=np.uint64)])
    wanted.sort()
    found = locate(wanted, len(ids), lambda lo, hi: data[lo:hi], 0, len(ids))
    expected = [int(np.searchsorted(ids, v)) if v in set(ids[chosen].tolist()) else -1 for v in wanted.tolist()]
    assert found.tolist() == expected


def test_missing_ids_merges_like_missing_cells() -> None:
    land = read_territory(territory_doc(10.0, 45.0, 10.5, 45.3), source="t")
    cells = land.cells(8)
    rng = random.Random(9)
    dropped = set(rng.sample(cells, 30)) | {cells[0], cells[-1]}
    committed = [c for c in cells if c not in dropped] + ["8f" + "f" * 13]
    committed.sort()
    data = cell_file.render(committed)
    ids = missing_ids(land.cell_ids(8), h3_blocks(data, 997))
    assert ids is not None
    assert [format(v, "x") for v in ids.tolist()] == missing_cells(land, 8, committed) == sorted(dropped)
    assert missing_ids(land.cell_ids(8), h3_blocks(cell_file.render(committed[::-1]), 997)) is None


# --- memory ---------------------------------------------------------------------------------


def test_commit_and_reveal_memory_does_not_grow_with_the_territory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python-heap peak (tracemalloc, numpy included) of a commit in one process and of a small
    reveal, from about 50,000 to 200,000 cells: the commit's grows by the kept levels (about
    2 bytes a cell while they are joined), where holding leaves.bin and the cell strings would
    cost some 100 bytes a cell; the reveal's does not grow. Chunks of 4,096 cells and copies
    into the workspace of 64 KiB, so both sizes take many (their own share is the same for both)."""
    import unveil.escrowing as escrowing

    monkeypatch.setattr(escrow_blobs, "_COPY_BYTES", 1 << 16)
    monkeypatch.setattr(escrowing, "CHUNK", 1 << 12)
    monkeypatch.setattr(escrowing, "CHUNK_LEVEL", 12)
    peaks = {}
    for name, east in (("small", 10.6), ("large", 12.4)):
        ids = overlapping_cell_ids(box(10.0, 45.0, east, 46.0), 9)
        ws = create(tmp_path / name, "host", "Host")
        tracemalloc.start()
        host.commit(ws, escrow_id="e", cells=H3Cells(ids), resolution=9, contents={}, out=tmp_path / f"{name}-out", now=NOW, workers=1)
        commit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        middle = format(int(ids[len(ids) // 2]), "x")
        host.reveal_region(ws, escrow_id="e", phase="p", region=host.Region(parents=[h3.cell_to_parent(middle, 7)]),
                           out=tmp_path / f"{name}.json", now=NOW)
        reveal_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks[name] = (len(ids), commit_peak, reveal_peak)
    (small_n, small_commit, small_reveal), (large_n, large_commit, large_reveal) = peaks["small"], peaks["large"]
    assert large_n > 3.5 * small_n > 150_000
    assert (large_commit - small_commit) / (large_n - small_n) < 4, peaks  # leaves.bin alone is 32 bytes a cell
    assert large_commit < 4_000_000, peaks  # a chunk in flight and the levels, whatever the territory
    assert large_reveal < small_reveal + 500_000 and large_reveal < 4_000_000, peaks


# --- a full disk, an unwritable directory ---------------------------------------------------


@pytest.fixture
def host_files(tmp_path: Path) -> dict[str, Path]:
    territory = tmp_path / "t.geojson"
    territory.write_bytes(territory_doc(10.0, 45.0, 10.6, 45.4))
    declaration = tmp_path / "d.csv"
    declaration.write_bytes(DECLARATION)
    assert main(["init", "--workspace", str(tmp_path / "ws"), "--role", "host", "--name", "Host", "--json"]) == 0
    return {"territory": territory, "declaration": declaration, "ws": tmp_path / "ws"}


def commit_cli(files: dict[str, Path], out: Path) -> int:
    return main(["commit", "--workspace", str(files["ws"]), "--escrow-id", "e", "--territory", str(files["territory"]),
                 "--resolution", "8", "--declaration", str(files["declaration"]), "--out", str(out), "--json"])


def assert_nothing_recorded(files: dict[str, Path]) -> None:
    with open_workspace(files["ws"]).connect() as db:
        assert escrow_blobs.sealed_head(db, "e") is None
        assert escrow_blobs.tree(db, "e") is None


def test_a_full_disk_exits_2_and_leaves_nothing(host_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import unveil.workspace.files as files_module

    real_fdopen = os.fdopen

    class Filling:
        """A file on a disk that fills after 64 KiB (ENOSPC on write, as a real one)."""

        def __init__(self, handle: Any):
            self.handle, self.written = handle, 0

        def write(self, data: bytes) -> int:
            self.written += len(data)
            if self.written > 1 << 16:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return int(self.handle.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.handle, name)

    monkeypatch.setattr(files_module.os, "fdopen", lambda fd, mode: Filling(real_fdopen(fd, mode)))
    out = tmp_path / "out"
    assert commit_cli(host_files, out) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "No space left on device" in error and str(out) in error
    assert not out.exists(), "the output directory it made is gone, no partial file in it"
    assert_nothing_recorded(host_files)
    monkeypatch.undo()
    assert commit_cli(host_files, out) == 0, "the same commit succeeds once there is room"


def test_an_existing_output_directory_is_left_as_it_was_when_the_disk_fills(
    host_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import unveil.workspace.files as files_module

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")

    def full(handle: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files_module, "sync", full)
    monkeypatch.setattr("unveil.workspace.host.sync", full)
    assert commit_cli(host_files, out) == 2
    assert "No space left" in json.loads(capsys.readouterr().out)["error"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert_nothing_recorded(host_files)


@pytest.mark.parametrize("how", ["under-a-file", "permission"])
def test_an_unwritable_output_directory_exits_2(host_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], how: str) -> None:
    if how == "under-a-file":
        (tmp_path / "plain").write_text("a file, not a directory")
        out = tmp_path / "plain" / "out"
    else:  # root ignores mode bits: refuse the way a read-only directory does
        out = tmp_path / "readonly"
        out.mkdir()

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr("unveil.workspace.files.tempfile.mkstemp", refuse)
    assert commit_cli(host_files, out) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "cannot write the escrow" in error and str(out) in error
    assert_nothing_recorded(host_files)
    if how == "permission":
        assert list(out.iterdir()) == []


def test_h3_values_refuses_every_byte_that_is_not_a_lowercase_hex_digit() -> None:
    good = GOOD[0].encode()
    for byte in range(256):
        for at in (0, 7, 8, 14):
            line = good[:at] + bytes([byte]) + good[at + 1 :] + b"\n"
            if bytes([byte]) in b"0123456789abcdef":
                assert h3_values(line)[0] == int(line[:15], 16)
            else:
                with pytest.raises(ValueError, match="not a lowercase hex digit"):
                    h3_values(line)


def test_a_damaged_stored_tree_is_refused_before_a_bundle_is_written(tmp_path: Path) -> None:
    import sqlite3

    from unveil.errors import MalformedInputError

    ws, out = commit_territory(tmp_path, territory_doc(10.0, 45.0, 10.6, 45.4), 8)
    with ws.connect() as db:
        kept = escrow_blobs.tree(db, "continent")
        assert kept is not None
    damaged = bytearray(kept.levels)
    damaged[32 + 5] ^= 1  # a bit of the second hash of level 6: leaves 64..127, a sibling on leaf 0's path
    db = sqlite3.connect(ws.db_path)
    db.execute("UPDATE escrow_trees SET levels = ? WHERE escrow_id = 'continent'", (bytes(damaged),))
    db.commit()
    db.close()
    bundle = tmp_path / "bundle.json"
    cells = (out / "cells.txt").read_bytes().split(b"\n")
    far = host.Region(cell_list=(cells[0] + b"\n", "one.txt"))  # its proof reads the damaged subtree
    with pytest.raises(MalformedInputError, match="does not lead to its root"):
        host.reveal_region(ws, escrow_id="continent", phase="p", region=far, out=bundle, now=NOW)
    assert not bundle.exists()
    with ws.connect() as db:
        assert escrow_blobs.tree(db, "continent") is not None
