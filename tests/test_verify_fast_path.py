"""``unveil verify``'s private fast path gives check_bundle's report, on every bundle of the
tamper suite and on malformed ones; the command leaves the garbage collector as it found it."""

from __future__ import annotations

import gc
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from unveil.cli.main import main
from unveil.cli.verify_cmd import _check_forked
from unveil.core import cells as cell_file
from unveil.core.envelope import parse_signed
from unveil.core.jsonparse import loads
from unveil.core.verify import BundleReport, check_bundle, verify_bundle
from unveil.errors import MalformedInputError

VECTORS = Path(__file__).resolve().parent / "vectors"
EXPECTED: list[dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text())["vectors"]
BY_NAME = {v["name"]: v for v in EXPECTED}


def _inputs(vector: dict[str, Any]) -> tuple[Any, Any, bytes | None, list[str]]:
    escrow = parse_signed(loads((VECTORS / vector["escrow"]).read_bytes()))
    cells = cell_file.read((VECTORS / vector["cells"]).read_bytes()) if vector["cells"] else None
    leaves = (VECTORS / vector["leaves"]).read_bytes() if vector["leaves"] else None
    return escrow, cells, leaves, vector["trust"]


def _plain(vector: dict[str, Any], bundle_bytes: bytes, bundle: Path, trusted: list[str] | None) -> BundleReport:
    escrow, cells, leaves, _ = _inputs(vector)
    try:
        return check_bundle(escrow, parse_signed(loads(bundle_bytes, source=str(bundle)), "$"), cells, leaves=leaves, trusted=trusted)
    except MalformedInputError as exc:
        raise exc.within(str(bundle)) from None


def _fast(vector: dict[str, Any], bundle_bytes: bytes, bundle: Path, trusted: list[str] | None) -> BundleReport:
    escrow, cells, leaves, _ = _inputs(vector)
    return _check_forked(escrow, bundle_bytes, bundle, cells, leaves, trusted)


def _same(a: BundleReport, b: BundleReport) -> None:
    assert a.problems == b.problems and a.warnings == b.warnings
    assert (a.status, a.valid, a.host_key_pinned, a.complete) == (b.status, b.valid, b.host_key_pinned, b.complete)
    assert json.dumps(a.to_json(), ensure_ascii=False).encode() == json.dumps(b.to_json(), ensure_ascii=False).encode()


@pytest.mark.parametrize("vector", EXPECTED, ids=[v["name"] for v in EXPECTED])
@pytest.mark.parametrize("pinned", [True, False], ids=["trust", "no-trust"])
def test_the_fast_path_gives_check_bundles_report(vector: dict[str, Any], pinned: bool) -> None:
    bundle = VECTORS / vector["bundle"]
    data = bundle.read_bytes()
    trusted = vector["trust"] if pinned else None
    plain = _plain(vector, data, bundle, trusted)
    _same(_fast(vector, data, bundle, trusted), plain)
    if pinned:  # and both are the published verdict
        assert {(p.index, p.reason) for p in plain.problems} == {(p["index"], p["reason"]) for p in vector["problems"]}


def _malformed(data: bytes) -> dict[str, bytes]:
    doc = json.loads(data)
    variants = {"truncated": data[:-40], "not-utf8": data[:10] + b"\xff" + data[11:], "empty": b""}
    for name, change in {
        "unknown-field": lambda d: d["statement"].__setitem__("extra", 1),
        "openings-not-array": lambda d: d["statement"].__setitem__("openings", {}),
        "index-float": lambda d: d["statement"]["openings"][0].__setitem__("index", 1.5),
        "signatures-missing": lambda d: d.pop("signatures"),
        "signature-not-object": lambda d: d["signatures"].__setitem__(0, "sig"),
        "statement-wrong-type": lambda d: d["statement"].__setitem__("type", "unveil/v1/escrow"),
    }.items():
        copy = json.loads(json.dumps(doc))
        change(copy)
        variants[name] = json.dumps(copy).encode()
    return variants


@pytest.mark.parametrize("name", ["valid", "cells-swapped", "bad-signature", "intel-valid"])
def test_the_fast_path_raises_check_bundles_error_on_malformed_bundles(name: str, tmp_path: Path) -> None:
    import multiprocessing

    vector = BY_NAME[name]
    bundle = tmp_path / "bundle.json"
    for variant, data in _malformed((VECTORS / vector["bundle"]).read_bytes()).items():
        with pytest.raises(MalformedInputError) as plain:
            _plain(vector, data, bundle, vector["trust"])
        with pytest.raises(MalformedInputError) as fast:
            _fast(vector, data, bundle, vector["trust"])
        assert str(fast.value) == str(plain.value), variant
        assert str(bundle) in str(fast.value), variant
    assert multiprocessing.active_children() == []


def test_the_public_verifier_cannot_be_given_precomputed_checks() -> None:
    for verifier in (check_bundle, verify_bundle):
        parameters = inspect.signature(verifier).parameters
        assert list(parameters) == ["escrow_signed", "reveal_signed", "cells", "leaves", "trusted"], verifier
    vector = BY_NAME["bad-signature"]
    escrow, cells, leaves, trust = _inputs(vector)
    bundle = parse_signed(loads((VECTORS / vector["bundle"]).read_bytes()))
    with pytest.raises(TypeError):
        check_bundle(escrow, bundle, cells, leaves=leaves, trusted=trust, independent=list)  # type: ignore[call-arg]


@pytest.mark.parametrize("case", ["valid", "invalid", "malformed"])
def test_verify_leaves_the_garbage_collector_on(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v = BY_NAME["valid" if case != "invalid" else "cells-swapped"]
    bundle = VECTORS / v["bundle"]
    if case == "malformed":
        bundle = tmp_path / "bundle.json"
        bundle.write_bytes((VECTORS / v["bundle"]).read_bytes()[:-5])
    args = ["verify", str(bundle), "--escrow", str(VECTORS / v["escrow"]), "--cells", str(VECTORS / v["cells"]), "--json"]
    assert gc.isenabled()
    assert main(args) == {"valid": 0, "invalid": 1, "malformed": 2}[case]
    capsys.readouterr()
    assert gc.isenabled()
    gc.disable()  # a caller that turned it off finds it off
    try:
        main(args)
        capsys.readouterr()
        assert not gc.isenabled()
    finally:
        gc.enable()
