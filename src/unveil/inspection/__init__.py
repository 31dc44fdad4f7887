"""Inspection: the inspector's suspected sites (spec §9) and the truth test against reveals."""

from unveil.inspection.intel import contents_by_cell, read_intel
from unveil.inspection.truthtest import EARTH_RADIUS_M, TruthTest, haversine_m, to_geojson, truth_test

__all__ = ["EARTH_RADIUS_M", "TruthTest", "contents_by_cell", "haversine_m", "read_intel", "to_geojson", "truth_test"]
