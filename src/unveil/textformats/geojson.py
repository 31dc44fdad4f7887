"""GeoJSON point features (RFC 7946), as declarations and intelligence files write them.

A FeatureCollection of Point features, ``geometry.coordinates = [lon, lat]``; a top-level
``crs``, if present, must name WGS 84 lon/lat. Errors are placed at the feature (its 0-based
index in ``features``) and its field. The document is parsed by the strict JSON reader (spec §0)
before it gets here.
"""

from __future__ import annotations

from typing import Any

from unveil.core import shape
from unveil.errors import Location, MalformedInputError
from unveil.textformats.text import located

WGS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}
"""``crs`` names that mean RFC 7946's longitude/latitude (an absent ``crs`` means it too)."""


def geojson_features(doc: Any) -> list[Any]:
    """The features of a GeoJSON FeatureCollection in longitude/latitude (RFC 7946); a
    MalformedInputError names the field otherwise."""
    with located(Location()):
        shape.fields(doc, "", ("type", "features"), ("bbox", "name", "crs"))
    if doc["type"] != "FeatureCollection":
        raise MalformedInputError(f"expected \"FeatureCollection\", found {doc['type']!r}", where=Location(path=("type",)))
    crs = doc.get("crs")
    if crs is not None and not (type(crs) is dict and type(crs.get("properties")) is dict and crs["properties"].get("name") in WGS84):
        raise MalformedInputError("coordinates must be WGS 84 longitude/latitude (RFC 7946): remove crs or name CRS84",
                                  where=Location(path=("crs",)))
    with located(Location(path=("features",))):
        return shape.array(doc, "features", "")


def point_feature(feature: Any, index: int, what: str) -> tuple[list[int | float], dict[str, Any]]:
    """``(coordinates [lon, lat], properties)`` of a GeoJSON Feature whose geometry is a
    Point; ``index`` is the feature's place in ``features`` and ``what`` the thing it places
    (``"a site"``), for a MalformedInputError."""

    def at(*path: str) -> Location:
        return Location(feature=index, path=path)

    with located(at()):
        shape.fields(feature, "", ("type", "geometry", "properties"), ("id", "bbox"))
    if feature["type"] != "Feature":
        raise MalformedInputError(f"expected \"Feature\", found {feature['type']!r}", where=at("type"))
    geometry = feature["geometry"]
    if type(geometry) is not dict or geometry.get("type") != "Point":
        kind = geometry.get("type") if type(geometry) is dict else shape.json_type(geometry)
        raise MalformedInputError(f"{what} is a Point, found {kind!r}", where=at("geometry"))
    with located(at("geometry")):
        shape.fields(geometry, "", ("type", "coordinates"), ("bbox",))
    point = geometry["coordinates"]
    if type(point) is not list or len(point) != 2 or any(type(x) not in (int, float) for x in point):
        raise MalformedInputError("expected [lon, lat]: two numbers (no altitude)", where=at("geometry", "coordinates"))
    properties = feature["properties"]
    if type(properties) is not dict:
        raise MalformedInputError(f"expected an object, found {shape.json_type(properties)}", where=at("properties"))
    return point, properties
