"""Fuzzing the inspecting party's intelligence files (CSV, GeoJSON; spec §0, §9, §10): any
bytes and any change of a valid file give suspects or a MalformedInputError naming the file;
suspects written in either format read back as themselves."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import NUMBER_TEXTS, ODD_STRINGS, fuzz, mutated_csv, mutated_numbers, mutated_text, outcome
from unveil.core.jcs import canonicalize
from unveil.core.vocabulary import V1
from unveil.errors import MalformedInputError
from unveil.geo.territory import read_territory
from unveil.inspection.intel import CSV_REQUIRED, contents_by_cell, read_intel

EXERCISE = Path(__file__).resolve().parents[2] / "src" / "unveil" / "exercise"
TERRITORY = read_territory((EXERCISE / "territory.geojson").read_bytes(), source="territory.geojson")
SEED_CSV = (EXERCISE / "intel.csv").read_bytes()
SUSPECTS = read_intel(SEED_CSV, source="intel.csv")


def to_geojson(suspects: list[dict[str, Any]]) -> dict[str, Any]:
    """The GeoJSON form read_intel documents: estimates as ``min:<category>`` properties."""
    features = []
    for s in suspects:
        properties: dict[str, Any] = {k: s[k] for k in ("id", "kind", "radius_m", "confidence")}
        ext = dict(s.get("ext", {}))
        for category, (low, high) in ext.pop("estimates", {}).items():
            properties[f"min:{category}"], properties[f"max:{category}"] = low, high
        if ext:
            properties["ext"] = ext
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]}, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def to_csv(suspects: list[dict[str, Any]]) -> bytes:
    categories = sorted({c for s in suspects for c in s.get("ext", {}).get("estimates", {})})
    header = [*CSV_REQUIRED, *(f"{side}:{c}" for c in categories for side in ("min", "max"))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for s in suspects:
        estimates = s.get("ext", {}).get("estimates", {})
        row = [s[k] if type(s[k]) is str else repr(s[k]) for k in CSV_REQUIRED]
        for c in categories:
            row += ["" if v is None else repr(v) for v in estimates.get(c, [None, None])]
        writer.writerow(row)
    return out.getvalue().encode()


SEED_GEOJSON = to_geojson(SUSPECTS)
CSV_CELLS = [*ODD_STRINGS, *NUMBER_TEXTS, "min:warhead", "max:heu", "min:nothing", "X-01", "0", "1", "1.5", "-1", "weapons-storage"]


def read(data: bytes, source: str, territory: bool) -> list[dict[str, Any]] | MalformedInputError:
    suspects = outcome(read_intel, data, source=source, contains=TERRITORY.contains if territory else None)
    if isinstance(suspects, list):
        canonicalize(suspects)  # what is committed has a JCS form
        contents_by_cell(suspects, 6)
    return suspects


@fuzz(30)
@given(st.sampled_from(["i.csv", "i.geojson"]), st.binary(max_size=80) | mutated_csv(SEED_CSV, CSV_CELLS), st.booleans())
def test_any_bytes_and_mutated_csv(source: str, data: bytes, territory: bool) -> None:
    read(data, source, territory)


@fuzz(30)
@given(mutated_text(SEED_GEOJSON) | mutated_numbers(json.dumps(SEED_GEOJSON).encode()), st.booleans())
def test_mutated_geojson(data: bytes, territory: bool) -> None:
    read(data, "i.geojson", territory)


IDS = st.from_regex(r"[A-Za-z0-9._:-]{1,10}", fullmatch=True)


@st.composite
def suspects(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for suspect_id in draw(st.lists(IDS, unique=True, min_size=1, max_size=4)):
        s: dict[str, Any] = {"id": suspect_id, "kind": draw(st.sampled_from(sorted(V1.kinds))),
                             "lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180)),
                             "radius_m": draw(st.floats(0.5, 1e6) | st.integers(1, 10**6)), "confidence": draw(st.sampled_from([1, 0.5, 1e-9]) | st.floats(0.01, 1))}
        estimates: dict[str, list[Any]] = {}
        for category in draw(st.lists(st.sampled_from(sorted(V1.units)), unique=True, max_size=2)):
            low = draw(st.none() | st.integers(0, 50))
            high = draw((st.none() if low is not None else st.nothing()) | st.integers(50, 100))
            estimates[category] = [low, high]
        if estimates:
            s["ext"] = {"estimates": dict(sorted(estimates.items()))}
        found.append(s)
    return sorted(found, key=lambda s: s["id"].encode())


@fuzz(20)
@given(suspects())
def test_suspects_round_trip_in_both_formats(written: list[dict[str, Any]]) -> None:
    assert read_intel(to_csv(written), source="i.csv") == written
    assert read_intel(json.dumps(to_geojson(written)).encode(), source="i.geojson") == written


def test_the_seed_round_trips() -> None:
    assert read_intel(to_csv(SUSPECTS), source="i.csv") == SUSPECTS
    assert read_intel(json.dumps(SEED_GEOJSON).encode(), source="i.geojson") == SUSPECTS
    assert not isinstance(read(SEED_CSV, "i.csv", True), MalformedInputError)
