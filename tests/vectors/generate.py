"""Generate unveil's published test vectors (``tests/vectors/``).

Run ``python tests/vectors/generate.py [OUT_DIR]``. Everything is deterministic: fixed master
secrets, fixed Ed25519 seeds, fixed times, so regenerating gives the same bytes (a test checks).
Expected verdicts and reason codes are written here by hand, per vector, from what each
mutation breaks; they are not computed by the verifier under test.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Callable

import h3

from unveil.core import cells as cell_file
from unveil.core.build import escrow_statement, reveal_statement
from unveil.core.commitments import Salter
from unveil.core.escrow import Grid, parse_escrow
from unveil.core.keys import STATEMENT_KEY, SigningKey
from unveil.core.statements import sign_statement
from unveil.escrowing import commit_cells, open_cells

CREATED = "2019-01-18T15:00:00Z"
HOST = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"unveil vectors: host statement key").digest())
INSPECTOR = SigningKey.generate("Inspector", STATEMENT_KEY, hashlib.sha256(b"unveil vectors: inspector statement key").digest())
MALLORY = SigningKey.generate("Host", STATEMENT_KEY, hashlib.sha256(b"unveil vectors: an impostor's key under the host's name").digest())


def master(name: str) -> bytes:
    return hashlib.sha256(b"unveil vectors: master secret of " + name.encode()).digest()


# A fictional area: every resolution-7 cell under one resolution-5 cell (49 cells).
H3_CELLS = sorted(h3.cell_to_children(h3.latlng_to_cell(45.0, 10.0, 5), 7))


def at(cell: str) -> dict[str, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def h3_declaration() -> dict[str, dict[str, Any]]:
    c = H3_CELLS
    return {
        c[3]: {"cell": c[3], "sites": [
            {"id": "S-001", "kind": "enrichment", "name": "North Valley plant", **at(c[3]), "items": [
                {"category": "centrifuge", "quantity": 2000, "unit": "count"},
                {"category": "heu", "quantity": 41.5, "unit": "kg", "type": "90% U-235"},
                {"category": "warhead", "quantity": 3, "unit": "count", "serials": ["W-0001", "W-0002", "W-0003"]}]}]},
        c[10]: {"cell": c[10], "sites": [
            {"id": "S-002", "kind": "missile-base", **at(c[10]), "items": [
                {"category": "launcher", "quantity": 4, "unit": "count"},
                {"category": "missile", "quantity": 8, "unit": "count"}]}]},
        c[11]: {"cell": c[11], "sites": [
            {"id": "S-003", "kind": "weapons-storage", **at(c[11]), "items": [
                {"category": "warhead", "quantity": 2, "unit": "count", "serials": ["W-0004", "W-0005"]}]},
            {"id": "S-004", "kind": "research", "name": "Institute annex", **at(c[11]), "items": [],
             "ext": {"note": "free-form, committed like every other field"}}]},
        c[30]: {"cell": c[30], "sites": [
            {"id": "S-005", "kind": "reactor", **at(c[30]), "items": [
                {"category": "plutonium", "quantity": 12.25, "unit": "kg"},
                {"category": "reactor", "quantity": 1, "unit": "count"}]}]},
    }


def flawed_declaration() -> dict[str, dict[str, Any]]:
    c = H3_CELLS
    return {
        c[5]: {"cell": c[5], "sites": [{"id": "S-101", "kind": "weapons-storage", **at(c[40]), "items": []}]},
        c[6]: {"cell": c[6], "sites": [{"id": "S-102", "kind": "weapons-storage", **at(c[6]), "items": [
            {"category": "warhead", "quantity": 3, "unit": "count", "serials": ["W-0101", "W-0102"]}]}]},
        c[7]: {"cell": c[7], "sites": [{"id": "S-103", "kind": "bunker", **at(c[7]), "items": []}]},
        c[8]: {"cell": c[8], "sites": [{"id": "S-104", "kind": "conversion", **at(c[8]), "items": [
            {"category": "uranium", "quantity": 10, "unit": "kg"}]}]},
    }


LIST_CELLS = [f"depot-{i:02d}" for i in range(1, 14)]


def list_declaration() -> dict[str, dict[str, Any]]:
    return {
        "depot-02": {"cell": "depot-02", "sites": [{"id": "D-2", "kind": "weapons-storage", "items": [
            {"category": "missile", "quantity": 6, "unit": "count"},
            {"category": "warhead", "quantity": 4, "unit": "count"}]}]},
        "depot-07": {"cell": "depot-07", "sites": [{"id": "D-7", "kind": "weapons-storage", "name": "Depot seven", "items": [
            {"category": "tritium", "quantity": 0.1, "unit": "g"},
            {"category": "warhead", "quantity": 1, "unit": "count"}]}]},
        "depot-13": {"cell": "depot-13", "sites": [{"id": "D-13", "kind": "other", "items": [
            {"category": "tritium", "quantity": 0.2, "unit": "g"}]}]},
    }


def intel_holdings() -> dict[str, dict[str, Any]]:
    c = H3_CELLS
    return {
        c[10]: {"cell": c[10], "suspects": [
            {"id": "Q-1", "kind": "missile-base", **at(c[10]), "radius_m": 1500, "confidence": 0.9}]},
        c[20]: {"cell": c[20], "suspects": [
            {"id": "Q-2", "kind": "weapons-storage", **at(c[20]), "radius_m": 800, "confidence": 0.6,
             "ext": {"estimates": {"warhead": [2, 6]}}},
            {"id": "Q-3", "kind": "launcher-garrison", **at(c[20]), "radius_m": 2000, "confidence": 1.5}]},
    }


class Escrowed:
    """One committed escrow: its files and what the host needs to open it."""

    def __init__(self, name: str, grid: str, cells: list[str], contents: dict[str, dict[str, Any]],
                 public_totals: dict[str, Any] | None = None, sealed: dict[str, Any] | None = None,
                 host: SigningKey = HOST, shadows: str | None = None):
        self.name, self.cells, self.contents, self.sealed = name, cells, contents, sealed
        self.intel = shadows is not None
        self.secret = master(name)
        self.escrow_id = f"vectors-{name}"
        self.salter = Salter(self.secret, self.escrow_id)
        commitment = commit_cells(self.secret, self.escrow_id, cells, contents, workers=1, intel=self.intel)
        self.leaves = commitment.leaves
        self.cells_txt = cell_file.render(cells)
        grid_obj = Grid(grid, len(cells), hashlib.sha256(self.cells_txt).hexdigest(), 7 if grid == "h3" else None)
        statement = escrow_statement(
            escrow_id=self.escrow_id, host=host.name, created=CREATED, grid=grid_obj, root=commitment.root,
            salter=self.salter, public_totals=public_totals, sealed=sealed,
            purpose="intel" if self.intel else "declaration", shadows=shadows,
        )
        self.signer = host
        self.signed = sign_statement(statement, [host])
        self.escrow = parse_escrow(statement)

    def bundle(self, phase: str, indices: list[int], open_totals: bool = False) -> dict[str, Any]:
        openings, proof = open_cells(self.secret, self.escrow_id, self.cells, self.contents, self.leaves, indices, intel=self.intel)
        return reveal_statement(escrow=self.escrow, phase=phase, openings=openings, proof=proof,
                                totals=self.sealed if open_totals else None, salter=self.salter)


def flip_hex_bit(value: str) -> str:
    raw = bytearray(bytes.fromhex(value))
    raw[0] ^= 0x01
    return raw.hex()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def dump(doc: Any) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def generate(out: Path) -> None:
    h3_escrow = Escrowed("h3", "h3", H3_CELLS, h3_declaration(),
                         public_totals={"warhead": {"quantity": 5, "unit": "count"}},
                         sealed={"heu": {"quantity": 41.5, "unit": "kg"}, "plutonium": {"quantity": 12.25, "unit": "kg"}})
    flawed = Escrowed("h3-flawed", "h3", H3_CELLS, flawed_declaration())
    listed = Escrowed("list", "list", LIST_CELLS, list_declaration(),
                      public_totals={"warhead": {"quantity": 5, "unit": "count"}},
                      sealed={"missile": {"quantity": 6, "unit": "count"}, "tritium": {"quantity": 0.3, "unit": "g"}})
    wrong = Escrowed("list-wrong-totals", "list", LIST_CELLS, list_declaration(),
                     public_totals={"warhead": {"quantity": 6, "unit": "count"}, "tritium": {"quantity": 0.3, "unit": "g"}})
    intel = Escrowed("h3-intel", "h3", H3_CELLS, intel_holdings(), host=INSPECTOR, shadows=h3_escrow.escrow_id)
    for e in (h3_escrow, flawed, listed, wrong, intel):
        write(out / e.name / "escrow.json", dump(e.signed))
        write(out / e.name / "cells.txt", e.cells_txt)
        write(out / e.name / "leaves.bin", e.leaves)

    vectors: list[dict[str, Any]] = []
    region = list(range(0, 7))  # the seven cells of one resolution-6 parent: a contiguous run
    base_indices = [*region, 10, 11, 30]
    base = h3_escrow.bundle("phase-1", base_indices)

    def add(name: str, e: Escrowed, statement: dict[str, Any], problems: list[tuple[int | None, str]],
            *, signers: list[SigningKey] | None = None, leaves: bool = True, cells: bool = True,
            describe: str, mutate_signed: Callable[[dict[str, Any]], None] | None = None) -> None:
        signed = sign_statement(statement, signers if signers is not None else [e.signer])
        if mutate_signed:
            mutate_signed(signed)
        path = f"{e.name}/bundles/{name}.json"
        write(out / path, dump(signed))
        status = "invalid" if problems else ("valid" if cells else "incomplete")
        vectors.append({
            "name": name, "description": describe,
            "escrow": f"{e.name}/escrow.json", "cells": f"{e.name}/cells.txt" if cells else None,
            "leaves": f"{e.name}/leaves.bin" if leaves else None, "bundle": path,
            "trust": [e.signer.vkey], "valid": status == "valid", "status": status,
            "problems": [{"index": i, "reason": r} for i, r in sorted(problems, key=lambda p: (p[0] is not None, p[0] or 0, p[1]))],
        })

    def mutated(change: Callable[[dict[str, Any]], None], source: dict[str, Any] = base) -> dict[str, Any]:
        statement = copy.deepcopy(source)
        change(statement)
        return statement

    pos = {o["index"]: n for n, o in enumerate(base["openings"])}  # opening index -> position
    add("valid", h3_escrow, base, [], describe="a region (7 contiguous cells) and 3 scattered cells, 4 sites")
    add("valid-no-leaves", h3_escrow, base, [], leaves=False, describe="the same bundle checked without leaves.bin")
    add("incomplete-no-cells", h3_escrow, base, [], cells=False, describe="no cells.txt: nothing failed, but it cannot be called valid")
    add("valid-totals-opened", h3_escrow, h3_escrow.bundle("phase-2", [3, 30], open_totals=True), [],
        describe="opens the sealed totals beside two cells")
    add("valid-list-all-cells", listed, listed.bundle("final", list(range(len(LIST_CELLS))), open_totals=True), [],
        describe="list grid, every cell opened: exact decimal sums (0.1 + 0.2 = 0.3) equal public and sealed totals")

    add("salt-bit-flipped", h3_escrow, mutated(lambda s: s["openings"][pos[3]].update(salt=flip_hex_bit(s["openings"][pos[3]]["salt"]))),
        [(3, "leaf-mismatch"), (None, "proof-root-mismatch")], describe="one bit of opening 3's salt flipped, re-signed")
    add("salt-bit-flipped-no-leaves", h3_escrow, mutated(lambda s: s["openings"][pos[3]].update(salt=flip_hex_bit(s["openings"][pos[3]]["salt"]))),
        [(None, "proof-root-mismatch")], leaves=False, describe="without leaves.bin a wrong leaf shows only as a root mismatch")
    add("content-field-changed", h3_escrow, mutated(lambda s: s["openings"][pos[3]]["content"]["sites"][0].update(name="South Valley plant")),
        [(3, "leaf-mismatch"), (None, "proof-root-mismatch")], describe="a site's name changed")
    add("quantity-changed", h3_escrow, mutated(lambda s: s["openings"][pos[3]]["content"]["sites"][0]["items"][1].update(quantity=40.5)),
        [(3, "leaf-mismatch"), (None, "proof-root-mismatch")], describe="41.5 kg of HEU declared as 40.5")

    def change_index(s: dict[str, Any]) -> None:
        s["openings"][pos[30]]["index"] = 31
    add("index-changed", h3_escrow, mutated(change_index),
        [(31, "cell-mismatch"), (31, "leaf-mismatch"), (None, "proof-root-mismatch")], describe="opening 30 relabelled as index 31")

    def swap_cells(s: dict[str, Any]) -> None:
        a, b = s["openings"][pos[10]], s["openings"][pos[11]]
        for key in ("cell", "salt", "content"):
            a[key], b[key] = b[key], a[key]
    add("cells-swapped", h3_escrow, mutated(swap_cells),
        [(10, "cell-mismatch"), (10, "leaf-mismatch"), (11, "cell-mismatch"), (11, "leaf-mismatch"), (None, "proof-root-mismatch")],
        describe="the cells, salts and contents of openings 10 and 11 swapped")
    add("proof-hash-changed", h3_escrow, mutated(lambda s: s["proof"].__setitem__(1, flip_hex_bit(s["proof"][1]))),
        [(None, "proof-root-mismatch")], describe="one bit of the second proof hash flipped")
    add("proof-hash-dropped", h3_escrow, mutated(lambda s: s["proof"].pop()), [(None, "proof-hash-count")], describe="the last proof hash removed")
    add("proof-hash-added", h3_escrow, mutated(lambda s: s["proof"].append(s["proof"][0])), [(None, "proof-hash-count")], describe="a proof hash appended")

    def reorder(s: dict[str, Any]) -> None:
        s["proof"][0], s["proof"][1] = s["proof"][1], s["proof"][0]
    add("proof-hashes-reordered", h3_escrow, mutated(reorder), [(None, "proof-root-mismatch")], describe="the first two proof hashes swapped")
    add("root-changed", h3_escrow, mutated(lambda s: s.update(root=flip_hex_bit(s["root"]))), [(None, "root-mismatch")],
        describe="the bundle claims another root")
    add("tree-size-changed", h3_escrow, mutated(lambda s: s.update(tree_size=s["tree_size"] + 1)), [(None, "tree-size-mismatch")],
        describe="the bundle claims 50 leaves")
    add("escrow-id-changed", h3_escrow, mutated(lambda s: s.update(escrow_id="vectors-other")), [(None, "escrow-id-mismatch")],
        describe="the bundle names another escrow")
    add("opening-duplicated", h3_escrow, mutated(lambda s: s["openings"].insert(pos[10] + 1, copy.deepcopy(s["openings"][pos[10]]))),
        [(10, "openings-order")], describe="opening 10 appears twice")

    def unsort(s: dict[str, Any]) -> None:
        o = s["openings"]
        o[pos[10]], o[pos[11]] = o[pos[11]], o[pos[10]]
    add("openings-unsorted", h3_escrow, mutated(unsort), [(10, "openings-order")], describe="openings 10 and 11 in the wrong order")
    add("bad-signature", h3_escrow, base, [(None, "signature-invalid")], describe="a bit of the host's signature flipped (not re-signed)",
        mutate_signed=lambda d: d["signatures"][0].update(sig=_flip_b64(d["signatures"][0]["sig"])))
    add("signed-by-untrusted-key", h3_escrow, base, [(None, "signature-untrusted")], signers=[MALLORY],
        describe="signed under the host's name by a key the reader does not trust")
    add("sealed-totals-changed", h3_escrow, mutated(lambda s: s["totals"]["content"]["heu"].update(quantity=40), h3_escrow.bundle("phase-2", [3, 30], open_totals=True)),
        [(None, "totals-mismatch")], describe="the opened sealed totals claim 40 kg of HEU")

    def part(indices: list[int], k: int, n: int, open_totals: bool = False) -> dict[str, Any]:
        statement = h3_escrow.bundle("phase-3", indices, open_totals=open_totals)
        numbered = {key: value for key, value in statement.items() if key not in ("openings", "proof", "totals")}
        numbered.update(part=k, parts=n, openings=statement["openings"], proof=statement["proof"])
        if "totals" in statement:
            numbered["totals"] = statement["totals"]
        return numbered
    add("part-1-of-2", h3_escrow, part(region, 1, 2, open_totals=True), [],
        describe="a phase in numbered parts (spec §5.1): part 1, the region, with the sealed totals; valid alone")
    add("part-2-of-2", h3_escrow, part([10, 11, 30], 2, 2), [],
        describe="part 2 of the same phase: the scattered cells, its own multiproof; valid alone, and with part 1 a whole phase")

    c = flawed.cells
    add("site-outside-cell", flawed, flawed.bundle("p", [5]), [(5, "site-outside-cell")],
        describe="the host committed a site whose point lies in another cell")
    add("serials-disagree-with-quantity", flawed, flawed.bundle("p", [6]), [(6, "serials-mismatch")],
        describe="3 warheads with 2 serials, as committed")
    add("kind-outside-vocabulary", flawed, flawed.bundle("p", [7]), [(7, "kind-unknown")], describe="site kind 'bunker'")
    add("category-outside-vocabulary", flawed, flawed.bundle("p", [8]), [(8, "category-unknown")], describe="item category 'uranium'")
    assert c == H3_CELLS
    add("totals-sum-mismatch", wrong, wrong.bundle("final", list(range(len(LIST_CELLS)))), [(None, "totals-sum-mismatch")],
        describe="every cell opened: 5 warheads held, 6 declared in the public totals")

    add("intel-valid", intel, intel.bundle("challenge-1", [10]), [],
        describe="the inspector opens one cell of its intelligence escrow (spec §9) to back a discrepancy")
    add("intel-confidence-out-of-range", intel, intel.bundle("challenge-2", [20]), [(20, "confidence-invalid")],
        describe="a suspect committed with confidence 1.5")

    write(out / "expected.json", dump({
        "format": "unveil test vectors v1: paths relative to this file; problems are (index, reason) pairs, index null for bundle-level",
        "vectors": vectors,
    }))


def reason_table() -> str:
    """The reason-code section of README.md, from the registry in unveil.core.reasons."""
    from unveil.core import reasons

    parts = []
    for title, table in (
        ("Bundle-level (`index` is null)", reasons.BUNDLE_LEVEL),
        ("Opening-level (`index` is the opening's index)", reasons.OPENING_LEVEL),
        ("Warnings (reported, never failures)", reasons.WARNINGS),
        ("Signed notes and cosignatures (the log, spec §7)", reasons.NOTES),
    ):
        rows = "\n".join(f"| `{code}` | {meaning} |" for code, meaning in table.items())
        parts.append(f"### {title}\n\n| reason | meaning |\n|---|---|\n{rows}\n")
    return "\n".join(parts)


def update_readme(readme: Path) -> None:
    text = readme.read_text()
    head = text[: text.index("### Bundle-level")]
    readme.write_text(head + reason_table())


def _flip_b64(value: str) -> str:
    import base64

    raw = bytearray(base64.b64decode(value))
    raw[10] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    generate(target)
    if len(sys.argv) == 1:
        update_readme(target / "README.md")
