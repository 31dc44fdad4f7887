"""Points given as (lat, lon) where (lon, lat) was meant, and the hint that says so.

Declarations, intelligence and territories name points by longitude and latitude (GeoJSON
order, RFC 7946); a point written the other way round usually lands far outside the territory.
"""

from __future__ import annotations

from typing import Callable

POINT = "lat/lon"
"""The name of a point's two coordinates taken together, as a field (a point outside the territory)."""

Contains = Callable[[float, float], bool]
"""``contains(lon, lat)``: whether a point lies in the territory."""

Hint = Callable[[float, float], "str | None"]
"""``hint(lon, lat)``: a sentence explaining why a point lies outside the territory, or ``None``."""


def swap_hint(contains: Contains) -> Hint:
    """The hint for a point outside the territory whose swapped coordinates lie inside it.

    ``swap_hint(contains)(lon, lat)`` is ``None`` when (lon, lat) is inside, or when (lat, lon)
    is no point or is outside as well.
    """

    def hint(lon: float, lat: float) -> str | None:
        if contains(lon, lat) or not (-90 <= lon <= 90 and -180 <= lat <= 180) or not contains(lat, lon):
            return None
        return (f"did you swap lat and lon? (lat, lon) swapped would be inside the territory, at lat {lon}, "
                f"lon {lat} (GeoJSON coordinates are lon, lat)")

    return hint
