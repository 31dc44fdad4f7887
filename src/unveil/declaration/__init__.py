"""Declarations: the sites and items a host declares, read from and written to files (spec §2).

:func:`read_declaration` reads CSV, GeoJSON, JSON or YAML (one module per format) and checks
every §2 / §10 rule; :class:`Declaration` cuts the sites into cell contents and sums totals
(spec §4); the writers produce forms that read back to an equal declaration.
"""

from unveil.declaration.model import Declaration
from unveil.declaration.readers import FORMATS, read_declaration
from unveil.declaration.writers import CSV_COLUMNS, to_csv, to_geojson, to_json
from unveil.textformats.coordinates import swap_hint

__all__ = ["CSV_COLUMNS", "FORMATS", "Declaration", "read_declaration", "swap_hint", "to_csv", "to_geojson", "to_json"]
