"""Convert world-atlas's ``land-110m.json`` (TopoJSON of Natural Earth 1:110m land, public domain)
into the GeoJSON the board page draws for context: ``src/unveil/webui/static/vendor/natural-earth/land-110m.geojson``.

Run once when the vendored land changes (the result is committed, with its SHA-256 in
``static/vendor/README.md``)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/land_geojson.py package/land-110m.json src/unveil/webui/static/vendor/natural-earth/land-110m.geojson

TopoJSON (https://github.com/topojson/topojson-specification): arcs are delta-encoded integer
positions under ``transform`` (scale, translate); a ring lists arc indexes, ``~i`` (= ``-i-1``)
for arc ``i`` reversed; consecutive arcs share their joining point. Coordinates are rounded to
4 decimals (about 10 m, far finer than 1:110m).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Every arc of the topology as absolute (lon, lat) positions."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * sx + tx, 4), round(y * sy + ty, 4)))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    """One ring stitched from its arcs (the first point of each arc after the first dropped)."""
    points: list[tuple[float, float]] = []
    for k, index in enumerate(indexes):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if k == 0 else arc[1:])
    return [list(p) for p in points]


def to_geojson(topology: dict[str, Any], name: str = "land") -> dict[str, Any]:
    """The object ``name`` of the topology as one GeoJSON MultiPolygon feature collection."""
    arcs = decode_arcs(topology)
    polygons = []
    for geometry in topology["objects"][name]["geometries"]:
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        polygons += [[ring(r, arcs) for r in shape] for shape in shapes]
    feature = {"type": "Feature", "properties": {"source": "Natural Earth 1:110m land (public domain), via world-atlas 2.0.2"},
               "geometry": {"type": "MultiPolygon", "coordinates": polygons}}
    return {"type": "FeatureCollection", "features": [feature]}


def main(argv: list[str]) -> None:
    source, target = Path(argv[0]), Path(argv[1])
    target.write_text(json.dumps(to_geojson(json.loads(source.read_text())), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
