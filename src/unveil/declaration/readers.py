"""Read a declaration from CSV, GeoJSON, JSON or YAML and check it (spec §0, §2, §10).

Forms (every site is a spec §2 site object; the cell is computed from the point, never given):

- **JSON** ``{"sites": [site, ...]}``; **YAML** the same structure, read by a strict loader
  (duplicate keys, aliases, merge keys, timestamps, binary, sets, ``.nan``/``.inf``, YAML 1.1
  booleans such as ``yes``, numbers that are not JSON numbers such as ``0x1f`` or ``1_000``, and
  mappings and sequences nested more than 64 deep (spec §0) are refused, each with its line and
  column).
- **GeoJSON** a FeatureCollection of Point features, ``geometry.coordinates = [lon, lat]``;
  ``properties`` holds ``id``, ``kind``, optional ``name``, ``items`` (as in JSON) and optional
  ``ext``. A feature's own ``id`` and ``bbox`` are ignored; a top-level ``crs``, if present,
  must name WGS 84 lon/lat.
- **CSV** a header row naming columns in any order, then one row per item with the site
  columns repeated: :data:`CSV_REQUIRED`, the item columns :data:`CSV_ITEM` (all or none; a
  file without them declares sites without items) and :data:`CSV_OPTIONAL`. A site without
  items is one row with the item columns empty; ``serials`` are separated by ``;``; an empty
  ``name``, ``type`` or ``serials`` cell means the field is absent. Unknown columns are refused.
  A leading UTF-8 byte order mark is skipped.

Sites, items and serials may come in any order: the declaration is put in §2 order. Quantities
keep their exact written decimal: a written quantity no double holds exactly (``1e-400``,
``0.1000000000000000055511151231257827``) is refused, since the committed JCS form would be
another number. Coordinates are read as the nearest double.

Format errors stop reading. Rule errors (§2, vocabulary §10, duplicates, territory) are
collected and raised as one :class:`MalformedInputError` listing up to :data:`MAX_LISTED`;
every entry names the place (CSV/YAML line, JSON ``$.sites[i]`` path, GeoJSON
``feature i`` with i the 0-based index in ``features``) and the field.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

import yaml

from unveil.core import shape
from unveil.core.content import DeclarationIndex, GridRules, check_shape, content_problems
from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.jsonparse import MAX_DEPTH, decode_utf8, float_problem, loads
from unveil.core.quantities import exact
from unveil.core.vocabulary import V1
from unveil.declaration.model import Declaration, item_key
from unveil.declaration.writers import CSV_COLUMNS, SERIAL_SEPARATOR
from unveil.errors import MalformedInputError
from unveil.textformats import NUMBER, format_of, geojson_features, point_feature, text_number

Contains = Callable[[float, float], bool]
Hint = Callable[[float, float], "str | None"]
Locate = Callable[[int, "int | None", "str | None"], str]

FORMATS = ("csv", "geojson", "json", "yaml")
EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
CSV_REQUIRED = ("site_id", "kind", "lat", "lon")
CSV_ITEM = ("category", "quantity", "unit")  # all or none: without them every site has no items
CSV_OPTIONAL = ("name", "type", "serials")  # type and serials need the item columns
MAX_LISTED = 20
COMPUTED = "the cell is computed from lat/lon, not given"

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_SHAPE_PATH = re.compile(r"\$\.sites\[(\d+)\](?:\.items\[(\d+)\])?(?:\.(.+))?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SITE_REASONS = {"site-id-invalid": "id", "kind-unknown": "kind", "field-empty": "name"}
_ITEM_REASONS = {
    "category-unknown": "category", "unit-mismatch": "unit", "field-empty": "type", "quantity-invalid": "quantity",
    "serials-mismatch": "serials", "serial-invalid": "serials", "serials-order": "serials",
}


@dataclass
class _Input:
    """Sites as read (JSON values), where each place is, and the written decimal of float quantities."""

    sites: list[Any]
    locate: Locate
    written: dict[tuple[int, int], Decimal] = field(default_factory=dict)


def read_declaration(
    data: bytes,
    *,
    source: str,
    fmt: str | None = None,
    contains: Contains | None = None,
    hint: Hint | None = None,
    resolution: int | None = None,
    max_bytes: int = 64 * 2**20,
) -> Declaration:
    """Read and check a declaration (see the module docstring for the forms).

    ``fmt`` is one of :data:`FORMATS`, by default taken from the extension of ``source``.
    ``contains(lon, lat)`` tells whether a point lies in the territory; ``hint(lon, lat)`` may
    explain a point outside it (e.g. :func:`swap_hint`). With ``resolution`` the declaration is
    also cut into cells and every cell content checked under §2 as a verifier will check it.
    Raises :class:`MalformedInputError` naming ``source``, the place and the field.
    """
    fmt = fmt if fmt is not None else format_of(source, EXTENSIONS)
    if fmt not in FORMATS:
        raise MalformedInputError(f"unknown declaration format {fmt!r} (one of {', '.join(FORMATS)})", source=source)
    if resolution is not None and not (type(resolution) is int and 0 <= resolution <= 15):
        raise ValueError(f"resolution {resolution!r} is outside 0..15")
    if len(data) > max_bytes:
        raise MalformedInputError(f"is {len(data)} bytes, over the limit of {max_bytes}", source=source)
    if fmt == "csv" and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # spreadsheets write one; the bytes are never committed
    text = decode_utf8(data, source=source)
    if not text.strip():
        raise MalformedInputError("is empty", source=source)
    reader = {"csv": _read_csv, "geojson": _read_geojson, "json": _read_json, "yaml": _read_yaml}[fmt]
    try:
        found = reader(text)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    return _check(found, source=source, contains=contains, hint=hint, resolution=resolution)


def swap_hint(contains: Contains) -> Hint:
    """A ``hint`` that says so when the point with lat and lon swapped lies in the territory."""

    def hint(lon: float, lat: float) -> str | None:
        if -90 <= lon <= 90 and -180 <= lat <= 180 and contains(lat, lon):
            return f"did you swap lat and lon? (lat {lon}, lon {lat}) is inside the territory"
        return None

    return hint


# --- checking (shared by every format) -------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.found.append((where, message))

    def raise_any(self, source: str) -> None:
        if len(self.found) == 1:
            where, message = self.found[0]
            raise MalformedInputError(message, source=source, where=where)
        if self.found:
            lines = [f"{len(self.found)} problems:"] + [f"  {w}: {m}" for w, m in self.found[:MAX_LISTED]]
            if len(self.found) > MAX_LISTED:
                lines.append(f"  … and {len(self.found) - MAX_LISTED} more")
            raise MalformedInputError("\n".join(lines), source=source)


def _shape(found: _Input) -> None:
    """Spec §2 field sets and JSON types, errors moved to the format's own places."""
    for i, site in enumerate(found.sites):
        if type(site) is dict and "cell" in site:
            raise MalformedInputError(COMPUTED, where=found.locate(i, None, "cell"))
    try:
        check_shape({"cell": "", "sites": found.sites}, "$")
    except MalformedInputError as exc:
        match = _SHAPE_PATH.fullmatch(exc.where or "")
        if match is None:
            raise
        item = int(match[2]) if match[2] is not None else None
        raise MalformedInputError(exc.message, where=found.locate(int(match[1]), item, match[3])) from None


def _check(found: _Input, *, source: str, contains: Contains | None, hint: Hint | None, resolution: int | None) -> Declaration:
    """Every §2 / §10 rule, each problem placed; then the whole declaration as cell contents."""
    try:
        _shape(found)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    problems = _Problems()
    first_site: dict[str, int] = {}
    first_serial: dict[str, tuple[int, int]] = {}
    for i, site in enumerate(found.sites):
        _check_site(found, i, site, problems, contains, hint)
        first = first_site.setdefault(site["id"], i)
        if first != i:
            problems.add(found.locate(i, None, "id"), f"site id {site['id']!r} is also declared at {found.locate(first, None, 'id')}")
        first_item: dict[tuple[str, str], int] = {}
        for j, item in enumerate(site["items"]):
            _check_item(found, i, j, site, item, problems)
            other = first_item.setdefault(item_key(item), j)
            if other != j:
                key = "category " + repr(item["category"]) + (f" type {item['type']!r}" if "type" in item else "")
                problems.add(found.locate(i, j, "category"),
                             f"site {site['id']!r} declares {key} twice: also at {found.locate(i, other, 'category')}")
            for serial in sorted(set(item.get("serials", ()))):
                owner = first_serial.setdefault(serial, (i, j))
                if owner != (i, j):
                    problems.add(found.locate(i, j, "serials"),
                                 f"serial {serial!r} is also declared at {found.locate(*owner, 'serials')}")
    problems.raise_any(source)
    decl = Declaration.of(found.sites, copy=False)  # the reader's own objects, never shared
    _check_contents(decl, resolution, problems)
    problems.raise_any(source)
    return decl


def _check_site(found: _Input, i: int, site: dict[str, Any], problems: _Problems, contains: Contains | None, hint: Hint | None) -> None:
    bare = {k: v for k, v in site.items() if k != "items"} | {"items": []}
    placed = True
    for reason, detail in content_problems({"cell": "", "sites": [bare]}, "", GridRules("h3"), V1):
        if reason.startswith("coordinates-"):
            placed = False
            name = "lat" if "lat" not in site or not -90 <= site["lat"] <= 90 else "lon"
            if reason == "coordinates-out-of-range":
                detail += _hint_text(hint, site)
            problems.add(found.locate(i, None, name), detail)
        else:
            problems.add(found.locate(i, None, _SITE_REASONS.get(reason)), detail)
    if placed and contains is not None and not contains(site["lon"], site["lat"]):
        problems.add(found.locate(i, None, "lat/lon"),
                     f"site {site['id']!r}: point (lat {site['lat']}, lon {site['lon']}) is outside the territory" + _hint_text(hint, site))


def _hint_text(hint: Hint | None, site: dict[str, Any]) -> str:
    text = hint(site["lon"], site["lat"]) if hint is not None else None
    return f"; {text}" if text else ""


def _check_item(found: _Input, i: int, j: int, site: dict[str, Any], item: dict[str, Any], problems: _Problems) -> None:
    ordered = dict(item)
    if "serials" in item:
        ordered["serials"] = sorted(item["serials"])
    lone = {"id": site["id"], "kind": "other", "items": [ordered]}  # list grid: item rules only
    for reason, detail in content_problems({"cell": "", "sites": [lone]}, "", GridRules("list"), V1):
        if reason not in _ITEM_REASONS:
            continue
        if reason == "serials-order":  # serials were sorted, so this is a repeat
            serials = ordered["serials"]
            repeated = next(a for a, b in zip(serials, serials[1:]) if a == b)
            detail = f"site {site['id']!r}: serial {repeated!r} is listed twice in one item"
        problems.add(found.locate(i, j, _ITEM_REASONS[reason]), detail)
    quantity, written = item["quantity"], found.written.get((i, j))
    if type(quantity) is float and written is not None and exact(quantity) != written:
        problems.add(found.locate(i, j, "quantity"), _inexact(str(written), quantity))


def _inexact(text: str, value: float) -> str:
    return f"quantity {text} has no exact JSON number form (it would be committed as {exact(value)})"


def _check_contents(decl: Declaration, resolution: int | None, problems: _Problems) -> None:
    """The declaration cut into cells and checked as a verifier checks an opening (spec §2)."""
    if resolution is None:
        contents = {"": {"cell": "", "sites": list(decl.sites)}}
        grid = GridRules("h3")
    else:
        contents = {cell: {"cell": cell, "sites": sites} for cell, sites in decl.cells(resolution).items()}
        grid = GridRules("h3", resolution)
    index = DeclarationIndex()
    for cell, content in contents.items():
        for reason, detail in content_problems(content, cell, grid, V1) + index.add(content):
            problems.add(f"cell {cell}" if cell else "declaration", f"{reason}: {detail}")


# --- JSON and GeoJSON ------------------------------------------------------------------------


def _written(raw_sites: list[Any]) -> dict[tuple[int, int], Decimal]:
    """The exact written decimal of every fractional or exponent quantity token (shape checked)."""
    return {
        (i, j): item["quantity"]
        for i, site in enumerate(raw_sites) if type(site) is dict and type(site.get("items")) is list
        for j, item in enumerate(site["items"]) if type(item) is dict and isinstance(item.get("quantity"), Decimal)
    }


def _read_json(text: str) -> _Input:
    doc = loads(text)
    shape.fields(doc, "$", ("sites",))
    sites = shape.array(doc, "sites", "$")

    def locate(i: int, j: int | None, name: str | None) -> str:
        return f"$.sites[{i}]" + (f".items[{j}]" if j is not None else "") + (f".{name}" if name else "")

    raw = json.loads(text, parse_float=Decimal)["sites"]
    return _Input(sites, locate, _written(raw))


def _read_geojson(text: str) -> _Input:
    doc = loads(text)

    def fail(where: str, message: str) -> MalformedInputError:
        return MalformedInputError(message, where=where)

    features = geojson_features(doc)
    sites: list[Any] = []
    for n, feature in enumerate(features):
        at = f"feature {n}"
        point, properties = point_feature(feature, at, "a site")
        for name in ("lat", "lon"):
            if name in properties:
                raise fail(f"{at}, property {name}", "the point is geometry.coordinates [lon, lat], not a property")
        sites.append({**properties, "lon": point[0], "lat": point[1]})

    def locate(i: int, j: int | None, name: str | None) -> str:
        if name in ("lat", "lon", "lat/lon"):
            return f"feature {i}, geometry.coordinates"
        path = ".".join(p for p in ((f"items[{j}]" if j is not None else None), name) if p)
        return f"feature {i}, property {path}" if path else f"feature {i}, properties"

    raw = json.loads(text, parse_float=Decimal)["features"]
    return _Input(sites, locate, _written([f["properties"] for f in raw]))


# --- YAML ------------------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_YAML_ALLOWED = {_TAG + name for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_YAML_REFUSED = {
    "timestamp": "a date or time is not a JSON value: quote it",
    "binary": "binary data is not a JSON value",
    "merge": "merge keys (<<) are not JSON: write the fields out",
}


@dataclass
class _Place:
    """Where a YAML mapping or sequence starts, and where each of its values starts."""

    value: Any  # keeps the object alive, so its id stays unique
    mark: Any
    marks: dict[Any, Any]
    texts: dict[Any, str]


# libyaml's parser when PyYAML has it (many times faster); the constructor is Python either way.
_SAFE_LOADER: Any = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _StrictLoader(_SAFE_LOADER):  # type: ignore[misc]
    """A SafeLoader that builds JSON values only, recording the place of every value."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.places: dict[int, _Place] = {}
        self.depth = 0  # mappings and sequences open around the node being built

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:  # met before: an alias
            raise _yaml_error("the value anchored here (&name) is used again by an alias (*name): "
                              "aliases are not JSON, write the value out", node.start_mark)
        if node.tag not in _YAML_ALLOWED:
            short = node.tag.removeprefix(_TAG)
            raise _yaml_error(_YAML_REFUSED.get(short, f"a value tagged {node.tag} is not a JSON value"), node.start_mark)
        if not isinstance(node, yaml.CollectionNode):
            return super().construct_object(node, deep=deep)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:  # spec §0, as for JSON: [[]] nests 2 deep
                raise _yaml_error(f"mappings and sequences nest more than {MAX_DEPTH} deep; at most {MAX_DEPTH} are allowed (spec §0)",
                                  node.start_mark)
            return super().construct_object(node, deep=deep)
        finally:
            self.depth -= 1


def _yaml_error(problem: str, mark: Any) -> yaml.MarkedYAMLError:
    return yaml.constructor.ConstructorError(None, None, problem, mark)


def _where(mark: Any) -> str:
    return f"line {mark.line + 1} column {mark.column + 1}"


def _construct_map(loader: _StrictLoader, node: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    place = _Place(data, node.start_mark, {}, {})
    for key_node, value_node in node.value:
        if key_node.tag != _TAG + "str":
            problem = (_YAML_REFUSED["merge"] if key_node.tag == _TAG + "merge" else
                       f"member names are strings; quote {key_node.value!r}" if isinstance(key_node.value, str) else
                       "member names are strings, not collections")
            raise _yaml_error(problem, key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if key in data:
            raise _yaml_error(f"duplicate key {key!r} (first at {_where(place.marks[key])})", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        place.marks[key] = value_node.start_mark
        if value_node.tag == _TAG + "float":
            place.texts[key] = value_node.value
    loader.places[id(data)] = place
    return data


def _construct_seq(loader: _StrictLoader, node: Any) -> list[Any]:
    data = [loader.construct_object(child, deep=True) for child in node.value]
    loader.places[id(data)] = _Place(data, node.start_mark, {i: c.start_mark for i, c in enumerate(node.value)}, {})
    return data


def _construct_str(loader: _StrictLoader, node: Any) -> str:
    value = loader.construct_scalar(node)
    if _SURROGATE.search(value):
        raise _yaml_error("lone surrogate in string", node.start_mark)
    return str(value)


def _construct_int(loader: _StrictLoader, node: Any) -> int:
    if not _INTEGER.fullmatch(node.value):
        raise _yaml_error(f"{node.value!r} is not a JSON number (decimal digits only)", node.start_mark)
    value = int(node.value) if len(node.value) <= 17 else None  # int() refuses 4300+ digits; 2^53−1 has 16
    if value is None or abs(value) > MAX_SAFE_INTEGER:
        raise _yaml_error(f"integer {node.value[:24]}{'…' if len(node.value) > 24 else ''} is outside ±(2^53−1)", node.start_mark)
    return value


def _construct_float(loader: _StrictLoader, node: Any) -> float:
    if not NUMBER.fullmatch(node.value):
        raise _yaml_error(f"{node.value!r} is not a finite JSON number (write e.g. 0.5, 41.5, 1.0e-7)", node.start_mark)
    value = float(node.value)
    problem = float_problem(value)
    if problem is not None:  # spec §0
        raise _yaml_error(f"number {node.value} {problem}", node.start_mark)
    return value


def _construct_bool(loader: _StrictLoader, node: Any) -> bool:
    if node.value not in ("true", "false"):
        raise _yaml_error(f"{node.value!r} is read as a boolean by YAML: quote it, or write true or false", node.start_mark)
    return node.value == "true"


for _tag, _constructor in (("map", _construct_map), ("seq", _construct_seq), ("str", _construct_str),
                           ("int", _construct_int), ("float", _construct_float), ("bool", _construct_bool)):
    _StrictLoader.add_constructor(_TAG + _tag, _constructor)


def _read_yaml(text: str) -> _Input:
    loader = _StrictLoader(text)
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise MalformedInputError(problem, where=_where(mark) if mark else None) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        line = text.count("\n", 0, exc.position) + 1
        raise MalformedInputError(f"character {exc.character!r} is not allowed in YAML", where=f"line {line}") from None
    except yaml.YAMLError as exc:
        raise MalformedInputError(str(exc)) from None
    except RecursionError:
        raise MalformedInputError("nested too deeply") from None
    finally:
        loader.dispose()
    places = loader.places
    if type(doc) is not dict or set(doc) != {"sites"} or type(doc["sites"]) is not list:
        raise MalformedInputError('expected a mapping with the one key "sites" holding a list of sites', where="line 1")
    sites = doc["sites"]

    def locate(i: int, j: int | None, name: str | None) -> str:
        mark = places[id(sites)].marks[i]
        target: Any = sites[i]
        if j is not None:
            items = places.get(id(target.get("items"))) if type(target) is dict else None
            mark = items.marks[j] if items is not None and j in items.marks else mark
            target = target["items"][j]
        place = places.get(id(target)) if type(target) is dict else None
        base = name.split("[")[0].split("/")[0] if name else None
        if place is not None and base in place.marks:
            mark = place.marks[base]
        label = ".".join(p for p in ((f"items[{j}]" if j is not None and base is None else None), name) if p)
        return _where(mark) + (f", field {label}" if label else "")

    written = {
        (i, j): Decimal(places[id(item)].texts["quantity"])
        for i, site in enumerate(sites) if type(site) is dict and type(site.get("items")) is list
        for j, item in enumerate(site["items"])
        if type(item) is dict and id(item) in places and "quantity" in places[id(item)].texts
    }
    return _Input(sites, locate, written)


# --- CSV -------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """One CSV site: its site columns, the line they were first given on, its item lines."""

    site: dict[str, Any]
    line: int
    item_lines: list[int] = field(default_factory=list)
    bare_line: int | None = None  # the line of an item-less row


def _read_csv(text: str) -> _Input:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = _csv_rows(reader)
    except csv.Error as exc:
        raise MalformedInputError(f"not CSV: {exc}", where=f"line {reader.line_num}") from None
    entries = list(rows.values())
    names = {"id": "site_id"}

    def locate(i: int, j: int | None, name: str | None) -> str:
        line = entries[i].line if j is None else entries[i].item_lines[j]
        if name is None:
            return f"line {line}"
        column = names.get(name, name.split("[")[0])
        return f"line {line}, column{'s' if '/' in column else ''} {column}"

    return _Input([entry.site for entry in entries], locate)


def _csv_header(header: list[str], line: int) -> None:
    where = f"line {line} (header)"
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise MalformedInputError(f"repeated column {repeated[0]!r}", where=where)
    if "cell" in header:
        raise MalformedInputError(f"column 'cell': {COMPUTED}", where=where)
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise MalformedInputError(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                                  f"(columns: {', '.join(CSV_COLUMNS)})", where=where)
    missing = [c for c in CSV_REQUIRED if c not in header]
    if any(c in header for c in (*CSV_ITEM, "type", "serials")):
        missing += [c for c in CSV_ITEM if c not in header]
    if missing:
        raise MalformedInputError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}", where=where)


def _csv_rows(reader: Any) -> dict[str, _Rows]:
    header: list[str] | None = None
    sites: dict[str, _Rows] = {}
    last = 0
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(row):
            continue  # blank lines, and rows of empty cells that spreadsheets append
        if header is None:
            header = row
            _csv_header(header, line)
            continue
        if len(row) != len(header):
            raise MalformedInputError(f"{len(row)} fields, the header has {len(header)}", where=f"line {line}")
        _csv_row(dict(zip(header, row)), line, sites)
    if header is None:
        raise MalformedInputError("no header row")
    return sites


def _csv_row(values: dict[str, str], line: int, sites: dict[str, _Rows]) -> None:
    def at(column: str) -> str:
        return f"line {line}, column {column}"

    site: dict[str, Any] = {"id": values["site_id"], "kind": values["kind"],
                            "lat": text_number(values["lat"], at("lat"), "lat"),
                            "lon": text_number(values["lon"], at("lon"), "lon"), "items": []}
    if values.get("name"):
        site["name"] = values["name"]
    entry = sites.setdefault(site["id"], _Rows(site, line))
    if entry.site is not site:
        for column, key in (("kind", "kind"), ("name", "name"), ("lat", "lat"), ("lon", "lon")):
            if entry.site.get(key) != site.get(key):
                raise MalformedInputError(
                    f"site {site['id']!r}: {column} {site.get(key, '')!r} differs from {entry.site.get(key, '')!r} "
                    f"on line {entry.line} (rows of one site repeat the same site columns)", where=at(column))
    if not any(values.get(c) for c in (*CSV_ITEM, "type", "serials")):
        if entry.item_lines or entry.bare_line is not None:
            raise MalformedInputError(f"site {site['id']!r} has another row on line {(entry.item_lines or [entry.bare_line])[0]}: "
                                      "a row without an item is only for a site without items", where=at("category"))
        entry.bare_line = line
        return
    if entry.bare_line is not None:
        raise MalformedInputError(f"site {site['id']!r} has a row without an item on line {entry.bare_line}: "
                                  "a row without an item is only for a site without items", where=at("category"))
    for column in ("category", "unit"):
        if not values.get(column):
            raise MalformedInputError(f"{column} is required when the row declares an item", where=at(column))
    quantity = text_number(values.get("quantity", ""), at("quantity"), "quantity", exact_form=True)
    item: dict[str, Any] = {"category": values["category"], "quantity": quantity, "unit": values["unit"]}
    if values.get("type"):
        item["type"] = values["type"]
    if values.get("serials"):
        item["serials"] = [s.strip() for s in values["serials"].split(SERIAL_SEPARATOR)]
    entry.site["items"].append(item)
    entry.item_lines.append(line)
