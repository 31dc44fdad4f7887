"""Geography for h3 grids (spec §1, §2): the agreed territory, its cells, and region selection.

``territory`` reads a territory polygon (GeoJSON, lon/lat order) and computes the H3 cells that
must be committed; ``regions`` chooses which committed cells a reveal phase opens.
"""

from unveil.geo.regions import read_polygon, select_indices
from unveil.geo.territory import (
    Territory,
    area_km2,
    bbox,
    missing_cells,
    overlapping_cells,
    read_territory,
)

__all__ = [
    "Territory",
    "area_km2",
    "bbox",
    "missing_cells",
    "overlapping_cells",
    "read_polygon",
    "read_territory",
    "select_indices",
]
