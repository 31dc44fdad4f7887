"""Shared pieces of the input-file readers (declarations, intelligence).

- :mod:`~unveil.textformats.text`: the format a file name says, and the text of an input file
  (size limit, strict UTF-8, spec §0);
- :mod:`~unveil.textformats.numbers`: numbers written in text cells, by the JSON number grammar
  (spec §0);
- :mod:`~unveil.textformats.geojson`: GeoJSON point features (RFC 7946);
- :mod:`~unveil.textformats.yaml`: the strict YAML loader, which reads what JSON can say and
  refuses what the strict JSON reader refuses (spec §0);
- :mod:`~unveil.textformats.coordinates`: the hint for a point given as (lat, lon).

Errors are :class:`~unveil.errors.MalformedInputError` with a structured
:class:`~unveil.errors.Location`.
"""

from unveil.textformats.coordinates import POINT, Contains, Hint, swap_hint
from unveil.textformats.geojson import WGS84, geojson_features, point_feature
from unveil.textformats.numbers import NUMBER, inexact, text_number
from unveil.textformats.text import csv_cell, format_of, input_text, located

__all__ = [
    "NUMBER", "POINT", "WGS84", "Contains", "Hint", "csv_cell", "format_of", "geojson_features", "inexact",
    "input_text", "located", "point_feature", "swap_hint", "text_number",
]
