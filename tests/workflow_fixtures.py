"""Shared fixtures for the workflow tests: a small fictional territory, a CSV declaration on it,
an intelligence file, and helpers that run the CLI through its entry point."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from unveil.cli.main import main

TESTLAND = {"type": "Feature", "properties": {"name": "Testland"}, "geometry": {"type": "Polygon", "coordinates": [
    [[10.0, 45.0], [10.6, 45.05], [10.65, 45.4], [10.05, 45.45], [10.0, 45.0]]]}}  # lon, lat; about 50 km across
ELSEWHERE = {"type": "Feature", "properties": {"name": "Elsewhere"}, "geometry": {"type": "Polygon", "coordinates": [
    [[20.0, 45.0], [20.2, 45.0], [20.2, 45.2], [20.0, 45.0]]]}}
TERRITORY = {"type": "FeatureCollection", "features": [TESTLAND, ELSEWHERE]}  # needs --territory-filter name=Testland
TESTLAND_ONLY = {"type": "FeatureCollection", "features": [TESTLAND]}
CSV = """site_id,kind,name,lat,lon,category,quantity,unit,type,serials
S-1,weapons-storage,North depot,45.30,10.20,warhead,3,count,,W-1;W-2;W-3
S-1,weapons-storage,North depot,45.30,10.20,plutonium,4.5,kg,,
S-2,enrichment,,45.10,10.50,heu,10.25,kg,90% U-235,
S-3,research,Lab,45.20,10.30,,,,,
"""
RES = 6
EMPTY = (45.25, 10.40)  # a point in a cell where nothing is declared
UNOPENED = (45.38, 10.30)  # a point in a cell the tests' first phase does not open
INTEL = f"""id,kind,lat,lon,radius_m,confidence,min:warhead,max:warhead
X-1,weapons-storage,45.3005,10.2005,500,0.9,2,5
X-2,enrichment,{EMPTY[0]},{EMPTY[1]},300,0.5,,
X-3,research,{UNOPENED[0]},{UNOPENED[1]},300,0.4,,
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """``unveil ARGS --json``: the exit code and the parsed output."""
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def unveil(*args: str) -> tuple[int, str]:
    """``unveil ARGS`` through :func:`unveil.cli.main.main`, without capsys: the exit code and
    what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(list(args))
    return code, buffer.getvalue()
