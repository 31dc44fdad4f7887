"""Shared pieces of the input-file readers (declarations, intelligence): which format a file
is in, strict numbers in text cells (the JSON number grammar, spec §0), and GeoJSON point
features (RFC 7946)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from unveil.core import shape

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.jsonparse import float_problem
from unveil.core.quantities import exact
from unveil.errors import MalformedInputError

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # RFC 8259 §6
WGS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}
"""``crs`` names that mean RFC 7946's longitude/latitude (an absent ``crs`` means it too)."""


def format_of(source: str, extensions: Mapping[str, str]) -> str:
    """The format a file name's extension names, or MalformedInputError listing the known ones."""
    lowered = source.lower()
    for extension, fmt in extensions.items():
        if lowered.endswith(extension):
            return fmt
    raise MalformedInputError(
        f"cannot tell the format from the file name; use one of {', '.join(sorted(extensions))}", source=source
    )


def text_number(text: str, where: str, what: str, *, exact_form: bool = False) -> int | float:
    """A number written in a text cell: JSON number grammar only (no spaces, hex, NaN,
    Infinity), integers within ±(2^53−1), finite floats; with ``exact_form``, only values whose
    JCS form is exactly the written decimal (so what is committed is what was written)."""
    if text == "":
        raise MalformedInputError(f"{what} is required", where=where)
    match = NUMBER.fullmatch(text)
    if match is None:
        raise MalformedInputError(
            f"{what} {text!r} is not a number (write a decimal such as 41.5: no spaces, hex, NaN or Infinity)", where=where)
    if match[1] is None and match[2] is None:
        value = int(text) if len(text) <= 17 else None  # int() refuses 4300+ digits; 2^53−1 has 16
        if value is None or abs(value) > MAX_SAFE_INTEGER:
            raise MalformedInputError(f"{what} {text[:24]}{'…' if len(text) > 24 else ''} is outside ±(2^53−1)", where=where)
        return value
    number = float(text)
    if not math.isfinite(number):
        raise MalformedInputError(f"{what} {text} is not finite as a JSON number", where=where)
    problem = float_problem(number)
    if problem is not None:  # spec §0: its JCS form would not read back
        raise MalformedInputError(f"{what} {text} {problem}", where=where)
    if exact_form and exact(number) != Decimal(text):
        raise MalformedInputError(
            f"{what} {text} has no exact JSON number form (it would be committed as {exact(number)})", where=where)
    return number


def geojson_features(doc: Any) -> list[Any]:
    """The features of a GeoJSON FeatureCollection in longitude/latitude (RFC 7946); a
    MalformedInputError names the field otherwise."""
    shape.fields(doc, "$", ("type", "features"), ("bbox", "name", "crs"))
    if doc["type"] != "FeatureCollection":
        raise MalformedInputError(f"expected \"FeatureCollection\", found {doc['type']!r}", where="$.type")
    crs = doc.get("crs")
    if crs is not None and not (type(crs) is dict and type(crs.get("properties")) is dict and crs["properties"].get("name") in WGS84):
        raise MalformedInputError("coordinates must be WGS 84 longitude/latitude (RFC 7946): remove crs or name CRS84", where="$.crs")
    return shape.array(doc, "features", "$")


def point_feature(feature: Any, at: str, what: str) -> tuple[list[int | float], dict[str, Any]]:
    """``(coordinates [lon, lat], properties)`` of a GeoJSON Feature whose geometry is a
    Point; ``at`` names the feature (``"feature 3"``) and ``what`` the thing it places (``"a
    site"``) in a MalformedInputError."""
    shape.fields(feature, at, ("type", "geometry", "properties"), ("id", "bbox"))
    if feature["type"] != "Feature":
        raise MalformedInputError(f"expected \"Feature\", found {feature['type']!r}", where=f"{at}, type")
    geometry = feature["geometry"]
    if type(geometry) is not dict or geometry.get("type") != "Point":
        kind = geometry.get("type") if type(geometry) is dict else shape.json_type(geometry)
        raise MalformedInputError(f"{what} is a Point, found {kind!r}", where=f"{at}, geometry")
    shape.fields(geometry, f"{at}, geometry", ("type", "coordinates"), ("bbox",))
    point = geometry["coordinates"]
    if type(point) is not list or len(point) != 2 or any(type(x) not in (int, float) for x in point):
        raise MalformedInputError("expected [lon, lat]: two numbers (no altitude)", where=f"{at}, geometry.coordinates")
    properties = feature["properties"]
    if type(properties) is not dict:
        raise MalformedInputError(f"expected an object, found {shape.json_type(properties)}", where=f"{at}, properties")
    return point, properties
