"""The built-in exercise: Exampleland, a FICTIONAL state for demos and tests.

Nothing here describes a real place or a real arsenal. The territory is an invented island in
open ocean in the South Pacific (around 35°S 140°W, hundreds of kilometres from any land), and
every site name, quantity and serial is made up. See ``README.md`` beside this file.

The files are package data, read as bytes so callers can parse them with the project's own
strict JSON reader:

- ``territory.geojson``: a FeatureCollection with one Polygon feature (lon/lat order).
- ``declaration.json``: ``{"sites": [...]}``, site objects as in spec §2 without ``cell``;
  group them by ``h3.latlng_to_cell(lat, lon, RESOLUTION)`` to build cell contents.
- ``intel.csv``: the inspector's suspected sites (spec §9 CSV: ``id,kind,lat,lon,radius_m,
  confidence`` and ``min:warhead,max:warhead``): five on declared sites, two on real undeclared
  sites, one false lead.
- ``ground-truth.json``: ``{"sites": [...]}``, what is "really" there: every declared site plus
  the two undeclared ones (``H-01``, ``H-02``). Only the demo's simulated inspections read it.
- ``production-history.csv``: an invented operating history of the Lowmarsh graphite reactor
  (spec §13 production history), for the declared plutonium's truth test.
- ``plutonium-balance.csv``: an invented monthly plutonium balance of the Lowmarsh separation
  plant in 2025 (spec §13 balance file), hiding a protracted diversion of 0.1 kg a month from
  April on.
"""

from __future__ import annotations

from importlib import resources

EXERCISE_NAME = "Exampleland"
RESOLUTION = 6
DESCRIPTION = (
    "Exampleland is a FICTIONAL state on an invented island in the empty South Pacific "
    "(about 120,000 km², 40 declared sites, 30 warheads). It describes no real place or arsenal; "
    "it exists only to demonstrate and test unveil."
)

TERRITORY_FILE = "territory.geojson"
DECLARATION_FILE = "declaration.json"
INTEL_FILE = "intel.csv"
GROUND_TRUTH_FILE = "ground-truth.json"
HISTORY_FILE = "production-history.csv"
BALANCE_FILE = "plutonium-balance.csv"
HIDDEN_SITES = ("H-01", "H-02")
FALSE_LEADS = ("X-06",)


def _read(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def territory_bytes() -> bytes:
    """The territory outline as GeoJSON bytes (one Polygon feature, lon/lat order)."""
    return _read(TERRITORY_FILE)


def declaration_bytes() -> bytes:
    """The declaration as JSON bytes: ``{"sites": [...]}`` (spec §2 site objects, no ``cell``)."""
    return _read(DECLARATION_FILE)


def intel_bytes() -> bytes:
    """The inspector's suspects as CSV bytes (spec §9 fields, plus ``min:warhead,max:warhead``)."""
    return _read(INTEL_FILE)


def ground_truth_bytes() -> bytes:
    """What is really there, as JSON bytes: ``{"sites": [...]}`` (the declared sites and the hidden ones)."""
    return _read(GROUND_TRUTH_FILE)


def history_bytes() -> bytes:
    """The Lowmarsh reactor's invented production history (spec §13 CSV)."""
    return _read(HISTORY_FILE)


def balance_bytes() -> bytes:
    """The Lowmarsh separation plant's invented 2025 plutonium balance (spec §13 CSV)."""
    return _read(BALANCE_FILE)
