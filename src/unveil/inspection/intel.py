"""Read the inspecting party's suspected sites from CSV or GeoJSON (spec §0, §9, §10).

Every suspect is a spec §9 suspect object ``{"id", "kind", "lat", "lon", "radius_m",
"confidence"}`` plus, when the input gives estimates, ``ext = {"estimates": {category: [min, max]}}``
with ``null`` for an open side.

- **CSV** a header row naming columns in any order, then one row per suspect: :data:`CSV_REQUIRED`
  and any number of estimate columns ``min:<category>`` / ``max:<category>`` (category from the
  vocabulary). An empty estimate cell leaves that side open; both empty means no estimate.
  Unknown or repeated columns are refused. A leading UTF-8 byte order mark is skipped.
- **GeoJSON** a FeatureCollection of Point features, ``geometry.coordinates = [lon, lat]``;
  ``properties`` holds ``id``, ``kind``, ``radius_m``, ``confidence``, the same optional
  ``min:<category>`` / ``max:<category>`` members (numbers or ``null``) and an optional free-form
  ``ext`` object (without ``estimates``). A feature's own ``id`` and ``bbox`` are ignored.

Numbers are strict: NaN, Infinity, hex, spaces and overflow are refused, as is a written
estimate no double holds exactly (its committed JCS form would be another number, spec §0
"Exact sums"); GeoJSON is parsed once, by the strict JSON reader (spec §0). The first problem
stops reading; the :class:`MalformedInputError` names the file and the place as a
:class:`~unveil.errors.Location` (CSV ``line n``, GeoJSON ``feature i`` with i the 0-based index
in ``features``) with the field.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Callable, Iterable

from unveil.core import shape
from unveil.core.content import point_cell
from unveil.core.encoding import is_id
from unveil.core.jsonparse import Written, loads
from unveil.core.quantities import exact
from unveil.core.vocabulary import V1, Vocabulary
from unveil.errors import Location, MalformedInputError
from unveil.textformats import (
    POINT,
    Contains,
    csv_cell,
    format_of,
    geojson_features,
    inexact,
    input_text,
    point_feature,
    text_number,
)

FORMATS = ("csv", "geojson")
EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}
CSV_REQUIRED = ("id", "kind", "lat", "lon", "radius_m", "confidence")
ESTIMATE_SIDES = ("min", "max")


def read_intel(
    data: bytes,
    *,
    source: str,
    fmt: str | None = None,
    contains: Contains | None = None,
    vocabulary: Vocabulary = V1,
    max_bytes: int = 64 * 2**20,
) -> list[dict[str, Any]]:
    """Read and check suspected sites; return spec §9 suspect objects sorted by id.

    ``fmt`` is one of :data:`FORMATS`, by default taken from the extension of ``source``.
    ``contains(lon, lat)`` tells whether a point lies in the territory (as for declarations).
    Raises :class:`MalformedInputError` naming ``source``, the place and the field.
    """
    fmt = fmt if fmt is not None else format_of(source, EXTENSIONS)
    if fmt not in FORMATS:
        raise MalformedInputError(f"unknown intelligence format {fmt!r} (one of {', '.join(FORMATS)})", source=source)
    text = input_text(data, source=source, fmt=fmt, max_bytes=max_bytes)
    try:
        placed = _read_csv(text, vocabulary) if fmt == "csv" else _read_geojson(text, vocabulary)
        suspects: list[dict[str, Any]] = []
        first: dict[str, _Where] = {}
        for where, suspect in placed:
            _check(suspect, where, vocabulary, contains)
            seen = first.setdefault(suspect["id"], where)
            if seen != where:
                raise MalformedInputError(f"suspect id {suspect['id']!r} is also given at {seen}", where=where("id"))
            suspects.append(suspect)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    return sorted(suspects, key=lambda s: s["id"].encode())


def contents_by_cell(suspects: Iterable[dict[str, Any]], resolution: int) -> dict[str, dict[str, Any]]:
    """Spec §9 cell contents ``{"cell", "suspects"}`` keyed by H3 cell, cells and suspects ascending."""
    if not (type(resolution) is int and 0 <= resolution <= 15):
        raise ValueError(f"resolution {resolution!r} is outside 0..15")
    cells: dict[str, list[dict[str, Any]]] = {}
    for suspect in suspects:
        cells.setdefault(point_cell(suspect["lat"], suspect["lon"], resolution), []).append(suspect)
    return {
        cell: {"cell": cell, "suspects": sorted(cells[cell], key=lambda s: s["id"].encode())}
        for cell in sorted(cells)
    }


class _Where:
    """A suspect's place (``line 3`` / ``feature 2``), which places one of its fields when called."""

    def __init__(self, base: Location, field: Callable[[str], Location]) -> None:
        self.base = base
        self._field = field

    def __call__(self, name: str) -> Location:
        return self._field(name)

    def __str__(self) -> str:
        return str(self.base)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Where) and other.base == self.base

    def __hash__(self) -> int:
        return hash(self.base)


# --- rules shared by both formats ------------------------------------------------------------


def _check(suspect: dict[str, Any], where: _Where, vocabulary: Vocabulary, contains: Contains | None) -> None:
    def fail(name: str, message: str) -> MalformedInputError:
        return MalformedInputError(message, where=where(name))

    if not is_id(suspect["id"]):
        raise fail("id", f"suspect id {suspect['id'][:80]!r} is not an id (1-64 of [A-Za-z0-9._:-])")
    label = f"suspect {suspect['id']!r}"
    if suspect["kind"] not in vocabulary.kinds:
        raise fail("kind", f"{label}: kind {suspect['kind']!r} is not in {vocabulary.name}")
    lat, lon = suspect["lat"], suspect["lon"]
    if not -90 <= lat <= 90:
        raise fail("lat", f"{label}: lat {lat} is outside [-90, 90]")
    if not -180 <= lon <= 180:
        raise fail("lon", f"{label}: lon {lon} is outside [-180, 180]")
    if contains is not None and not contains(lon, lat):
        raise fail("lat/lon", f"{label}: point (lat {lat}, lon {lon}) is outside the territory")
    if not suspect["radius_m"] > 0:
        raise fail("radius_m", f"{label}: radius_m {suspect['radius_m']} is not > 0")
    if not 0 < suspect["confidence"] <= 1:
        raise fail("confidence", f"{label}: confidence {suspect['confidence']} is outside (0, 1]")
    for category, (low, high) in suspect.get("ext", {}).get("estimates", {}).items():
        for side, value in (("min", low), ("max", high)):
            if value is not None and value < 0:
                raise fail(f"{side}:{category}", f"{label}: {side}:{category} {value} is negative")
        if low is not None and high is not None and exact(low) > exact(high):
            raise fail(f"min:{category}", f"{label}: min:{category} {low} is greater than max:{category} {high}")


def _estimate_column(name: str, vocabulary: Vocabulary) -> tuple[str, str] | None:
    """``(side, category)`` for ``min:<category>`` / ``max:<category>``, else ``None``."""
    side, colon, category = name.partition(":")
    if colon and side in ESTIMATE_SIDES and vocabulary.unit_for(category) is not None:
        return side, category
    return None


def _estimates(values: dict[tuple[str, str], int | float | None]) -> dict[str, list[int | float | None]]:
    out: dict[str, list[int | float | None]] = {}
    for (side, category), value in sorted(values.items(), key=lambda kv: kv[0][1]):
        if value is None:
            continue
        out.setdefault(category, [None, None])[ESTIMATE_SIDES.index(side)] = value
    return out


def _suspect(fields: dict[str, Any], estimates: dict[str, list[Any]], ext: dict[str, Any] | None = None) -> dict[str, Any]:
    suspect = {name: fields[name] for name in CSV_REQUIRED}
    extension = dict(ext) if ext else {}
    if estimates:
        extension["estimates"] = estimates
    if extension:
        suspect["ext"] = extension
    return suspect


# --- CSV -------------------------------------------------------------------------------------


def _csv_header(header: list[str], line: int, vocabulary: Vocabulary) -> None:
    def at(column: str) -> Location:
        return Location(line=line, note="header", label="column", path=(column,))

    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise MalformedInputError(f"repeated column {column!r}", where=at(column))
        seen.add(column)
        if column not in CSV_REQUIRED and _estimate_column(column, vocabulary) is None:
            raise MalformedInputError(
                f"unknown column {column!r} (columns: {', '.join(CSV_REQUIRED)}, and min:<category> / max:<category> "
                f"with a category of {vocabulary.name})", where=at(column))
    missing = [c for c in CSV_REQUIRED if c not in seen]
    if missing:
        raise MalformedInputError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
                                  where=Location(line=line, note="header"))


def _read_csv(text: str, vocabulary: Vocabulary) -> list[tuple[_Where, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    found: list[tuple[_Where, dict[str, Any]]] = []
    last = 0
    try:
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(row):
                continue
            if header is None:
                header = row
                _csv_header(header, line, vocabulary)
                continue
            if len(row) != len(header):
                raise MalformedInputError(f"{len(row)} fields, the header has {len(header)}", where=Location(line=line))
            found.append(_csv_row(dict(zip(header, row, strict=True)), line, vocabulary))
    except csv.Error as exc:
        raise MalformedInputError(f"not CSV: {exc}", where=Location(line=reader.line_num)) from None
    if header is None:
        raise MalformedInputError("no header row")
    return found


def _csv_row(values: dict[str, str], line: int, vocabulary: Vocabulary) -> tuple[_Where, dict[str, Any]]:
    def at(column: str) -> Location:
        return csv_cell(line, column)

    fields: dict[str, Any] = {}
    for name in ("id", "kind"):
        if values[name] == "":
            raise MalformedInputError(f"{name} is required", where=at(name))
        fields[name] = values[name]
    for name in ("lat", "lon", "radius_m", "confidence"):
        fields[name] = text_number(values[name], at(name), name)
    estimates: dict[tuple[str, str], int | float | None] = {}
    for column, text in values.items():
        key = _estimate_column(column, vocabulary)
        if key is not None:
            estimates[key] = None if text == "" else text_number(text, at(column), column, exact_form=True)
    return _Where(Location(line=line), at), _suspect(fields, _estimates(estimates))


# --- GeoJSON ---------------------------------------------------------------------------------


def _read_geojson(text: str, vocabulary: Vocabulary) -> list[tuple[_Where, dict[str, Any]]]:
    written = Written()
    doc = loads(text, written=written)
    return [_feature(n, feature, vocabulary, written) for n, feature in enumerate(geojson_features(doc))]


def _feature(n: int, feature: Any, vocabulary: Vocabulary, written: Written) -> tuple[_Where, dict[str, Any]]:
    def at(*path: str) -> Location:
        if path[0] in ("lat", "lon", POINT):
            return Location(feature=n, path=("geometry", "coordinates"))
        return Location(feature=n, label="property", path=path)

    def fail(where: Location, message: str) -> MalformedInputError:
        return MalformedInputError(message, where=where)

    point, properties = point_feature(feature, n, "a suspect")
    fields: dict[str, Any] = {"lon": point[0], "lat": point[1]}
    estimates: dict[tuple[str, str], int | float | None] = {}
    for name, value in properties.items():
        key = _estimate_column(name, vocabulary)
        if name in ("lat", "lon"):
            raise fail(Location(feature=n, label="property", path=(name,)),
                       "the point is geometry.coordinates [lon, lat], not a property")
        if name in ("id", "kind"):
            if type(value) is not str:
                raise fail(at(name), f"expected a string, found {shape.json_type(value)}")
            fields[name] = value
        elif name in ("radius_m", "confidence"):
            if type(value) not in (int, float):
                raise fail(at(name), f"expected a number, found {shape.json_type(value)}")
            fields[name] = value
        elif key is not None:
            if value is not None and type(value) not in (int, float):
                raise fail(at(name), f"expected a number or null, found {shape.json_type(value)}")
            text = written.text(value)
            if text is not None:
                raise fail(at(name), inexact(name, text, value))
            estimates[key] = value
        elif name == "ext":
            if type(value) is not dict:
                raise fail(at(name), f"expected an object, found {shape.json_type(value)}")
            if "estimates" in value:
                raise fail(at("ext", "estimates"), "give estimates as min:<category> / max:<category> properties")
        else:
            raise fail(at(name), f"unknown property {name!r} (properties: id, kind, radius_m, confidence, "
                                 f"min:<category> / max:<category> with a category of {vocabulary.name}, ext)")
    for name in CSV_REQUIRED:
        if name not in fields:
            raise fail(at(name), f"missing required property {name!r}")
    return _Where(Location(feature=n), at), _suspect(fields, _estimates(estimates), properties.get("ext"))
