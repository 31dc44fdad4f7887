"""Declarations in GeoJSON (RFC 7946): a FeatureCollection of Point features, one per site.

``geometry.coordinates = [lon, lat]``; ``properties`` holds ``id``, ``kind``, optional
``name``, ``items`` (as in JSON, spec §2) and optional ``ext``. A feature's own ``id`` and
``bbox`` are ignored; a top-level ``crs``, if present, must name WGS 84 lon/lat. Parsed once by
the strict JSON reader (spec §0); places are ``feature i`` (0-based in ``features``) with the
property or ``geometry.coordinates``.
"""

from __future__ import annotations

from typing import Any

from unveil.core.jsonparse import Written, loads
from unveil.declaration.sites import POINT, Found
from unveil.errors import Location, MalformedInputError
from unveil.textformats.geojson import geojson_features, point_feature

_COORDINATES = ("geometry", "coordinates")


def read_geojson(text: str) -> Found:
    written = Written()
    features = geojson_features(loads(text, written=written))
    sites: list[Any] = []
    for n, feature in enumerate(features):
        point, properties = point_feature(feature, n, "a site")
        for name in ("lat", "lon"):
            if name in properties:
                raise MalformedInputError("the point is geometry.coordinates [lon, lat], not a property",
                                          where=Location(feature=n, label="property", path=(name,)))
        sites.append({**properties, "lon": point[0], "lat": point[1]})

    def locate(i: int, j: int | None, /, *field: str | int) -> Location:
        if field and field[0] in ("lat", "lon", POINT):
            return Location(feature=i, path=_COORDINATES)
        path = (*(("items", j) if j is not None else ()), *field)
        return Location(feature=i, label="property", path=path) if path else Location(feature=i, path=("properties",))

    return Found(sites, locate, written)
