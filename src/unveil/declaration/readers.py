"""Read a declaration from CSV, GeoJSON, JSON or YAML and check it (spec §0, §2, §10).

The format comes from the file's extension (:data:`EXTENSIONS`) or is given. Each format has
its module, which parses the file once and reads it into the same sites-and-places form
(:mod:`.sites`): :mod:`.csv_format`, :mod:`.geojson_format`, :mod:`.json_format` (both by the
strict JSON reader) and :mod:`.yaml_format` (by the strict YAML loader). Every site is a spec
§2 site object; its cell is computed from the point, never given.

Sites, items and serials may come in any order: the declaration is put in §2 order. Quantities
keep their exact written decimal: a written quantity no double holds exactly (``1e-400``,
``0.1000000000000000055511151231257827``) is refused, since the committed JCS form would be
another number (spec §0 "Exact sums"). Coordinates are read as the nearest double.

Format errors stop reading. Rule errors (§2, vocabulary §10, duplicates, territory) are
collected and raised as one :class:`MalformedInputError` (:mod:`.rules`); every entry names the
place as a :class:`~unveil.errors.Location` (CSV or YAML line, JSON path, GeoJSON ``feature i``
with i the 0-based index in ``features``) and the field.
"""

from __future__ import annotations

from typing import Callable

from unveil.declaration.csv_format import read_csv
from unveil.declaration.geojson_format import read_geojson
from unveil.declaration.json_format import read_json
from unveil.declaration.model import Declaration
from unveil.declaration.rules import check
from unveil.declaration.sites import Found
from unveil.declaration.yaml_format import read_yaml
from unveil.errors import MalformedInputError
from unveil.textformats.coordinates import Contains, Hint, swap_hint
from unveil.textformats.text import format_of, input_text

__all__ = ["EXTENSIONS", "FORMATS", "read_declaration"]

_READERS: dict[str, Callable[[str], Found]] = {"csv": read_csv, "geojson": read_geojson, "json": read_json, "yaml": read_yaml}
FORMATS = tuple(_READERS)
EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


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
    ``contains(lon, lat)`` tells whether a point lies in the territory; ``hint(lon, lat)``
    explains a point outside it, by default :func:`~unveil.textformats.swap_hint` of
    ``contains``. With ``resolution`` the declaration is also cut into cells and every cell
    content checked under §2 as a verifier will check it. Raises :class:`MalformedInputError`
    naming ``source``, the place and the field.
    """
    fmt = fmt if fmt is not None else format_of(source, EXTENSIONS)
    if fmt not in FORMATS:
        raise MalformedInputError(f"unknown declaration format {fmt!r} (one of {', '.join(FORMATS)})", source=source)
    if resolution is not None and not (type(resolution) is int and 0 <= resolution <= 15):
        raise ValueError(f"resolution {resolution!r} is outside 0..15")
    text = input_text(data, source=source, fmt=fmt, max_bytes=max_bytes)
    try:
        found = _READERS[fmt](text)
    except MalformedInputError as exc:
        raise exc.within(source) from None
    if hint is None and contains is not None:
        hint = swap_hint(contains)
    return check(found, source=source, contains=contains, hint=hint, resolution=resolution)
