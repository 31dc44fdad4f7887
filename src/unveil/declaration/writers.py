"""Write a declaration as JSON, GeoJSON or CSV; each reads back to an equal declaration.

The forms are those :mod:`unveil.declaration.readers` reads (spec §2 site objects). Floats are
written by ``repr``, the shortest decimal that reads back to the same double, so every number
reads back exactly and keeps its type (``2.0`` stays a float).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from unveil.declaration.model import Declaration, copied

CSV_COLUMNS = ("site_id", "kind", "name", "lat", "lon", "category", "quantity", "unit", "type", "serials")
SERIAL_SEPARATOR = ";"


def to_json(decl: Declaration) -> dict[str, Any]:
    """The JSON (and YAML) form: ``{"sites": [...]}``, spec §2 site objects without ``cell``."""
    return {"sites": copied(list(decl.sites))}


def to_geojson(decl: Declaration) -> dict[str, Any]:
    """A GeoJSON (RFC 7946) FeatureCollection: one Point per site at ``[lon, lat]``.

    Properties are the site's other fields: ``id``, ``kind``, ``name`` (when given), ``items``
    and ``ext`` (when given).
    """
    features = []
    for site in decl.sites:
        properties = {k: copied(v) for k, v in site.items() if k not in ("lat", "lon")}
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [site["lon"], site["lat"]]},
            "properties": properties,
        })
    return {"type": "FeatureCollection", "features": features}


def _number(value: int | float) -> str:
    return repr(value)


def to_csv(decl: Declaration) -> str:
    """The CSV form: a header row of :data:`CSV_COLUMNS`, then one row per item, ``\\n``-ended.

    Site columns repeat on every row of the site; a site without items is one row with the item
    columns empty; ``serials`` are joined by ``;``. CSV has no place for ``ext`` objects, nor
    for an empty ``serials`` list (an empty cell means "no serials field"): a declaration holding
    either raises ``ValueError`` — write it as GeoJSON or JSON instead.
    """
    out = io.StringIO()
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(row: list[str]) -> None:
        # With "\n" as line terminator, Python 3.11's writer leaves a lone "\r" unquoted.
        (quoted if any("\r" in field for field in row) else plain).writerow(row)

    writerow(list(CSV_COLUMNS))
    for site in decl.sites:
        if "ext" in site:
            raise ValueError(f"site {site['id']!r} has an ext object, which CSV cannot hold")
        head = [site["id"], site["kind"], site.get("name", ""), _number(site["lat"]), _number(site["lon"])]
        if not site["items"]:
            writerow(head + [""] * 5)
        for item in site["items"]:
            if "ext" in item or item.get("serials") == []:
                raise ValueError(f"site {site['id']!r} has an item with ext or an empty serials list, which CSV cannot hold")
            writerow(head + [
                item["category"], _number(item["quantity"]), item["unit"], item.get("type", ""),
                SERIAL_SEPARATOR.join(item.get("serials", ())),
            ])
    return out.getvalue()
