"""Truth test: the declared sites of opened cells against the inspector's suspects there.

A declared site and a suspect may be paired when their great-circle distance is at most the
suspect's ``radius_m``. Among admissible pairs, the pairing is an optimal assignment: as many
pairs as possible, and among those the least total distance (``linear_sum_assignment`` with a
cost for inadmissible pairs larger than every admissible total, such pairs dropped afterwards).
Each pair is then classified:

- **confirmed**: same kind, and for every category in the suspect's ``ext.estimates`` the site's
  exact total of that category (spec §0 exact sums, all types) lies in ``[min, max]``
  (``null`` = open side);
- **mismatch**: reason ``"kind"`` (checked first) or ``"quantity"``;
- **undeclared**: a suspect paired with no declared site (a challenge-inspection candidate);
- **new**: a declared site paired with no suspect.

The caller gives the sites and suspects of the same opened cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any, Iterable

import numpy as np

from unveil.core.quantities import exact, exact_sum
from unveil.core.reasons import Reason

EARTH_RADIUS_M = 6_371_008.8
STATUSES = ("confirmed", "mismatch", "undeclared", "new")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on a sphere of radius :data:`EARTH_RADIUS_M`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class TruthTest:
    """The outcome, by id; every list sorted by its first id."""

    confirmed: list[tuple[str, str]] = field(default_factory=list)  # (site, suspect)
    mismatch: list[tuple[str, str, Reason]] = field(default_factory=list)  # (site, suspect, reason)
    undeclared: list[str] = field(default_factory=list)  # suspect
    new: list[str] = field(default_factory=list)  # site
    distances_m: dict[tuple[str, str], float] = field(default_factory=dict)  # every pair made

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {
            "confirmed": [{"site": a, "suspect": b} for a, b in self.confirmed],
            "mismatch": [{"site": a, "suspect": b, "reason": str(r)} for a, b, r in self.mismatch],
            "undeclared": [{"suspect": s} for s in self.undeclared],
            "new": [{"site": s} for s in self.new],
        }

    def status_of_site(self) -> dict[str, tuple[str, str | None, str | None]]:
        """site id -> (status, paired suspect id, mismatch reason)."""
        out: dict[str, tuple[str, str | None, str | None]] = {a: ("confirmed", b, None) for a, b in self.confirmed}
        out |= {a: ("mismatch", b, r) for a, b, r in self.mismatch}
        out |= {a: ("new", None, None) for a in self.new}
        return out

    def status_of_suspect(self) -> dict[str, tuple[str, str | None, str | None]]:
        """suspect id -> (status, paired site id, mismatch reason)."""
        out: dict[str, tuple[str, str | None, str | None]] = {b: ("confirmed", a, None) for a, b in self.confirmed}
        out |= {b: ("mismatch", a, r) for a, b, r in self.mismatch}
        out |= {b: ("undeclared", None, None) for b in self.undeclared}
        return out


def truth_test(sites: list[dict[str, Any]], suspects: list[dict[str, Any]]) -> TruthTest:
    """Pair ``sites`` (spec §2, with lat/lon) with ``suspects`` (spec §9) and classify every one."""
    from scipy.optimize import linear_sum_assignment  # the 'analytics' extra: only the truth test needs it

    sites = _sorted_unique(sites, "site")
    suspects = _sorted_unique(suspects, "suspect")
    result = TruthTest()
    paired_sites: set[int] = set()
    paired_suspects: set[int] = set()
    if sites and suspects:
        distance = np.array([[haversine_m(s["lat"], s["lon"], x["lat"], x["lon"]) for x in suspects] for s in sites],
                            dtype=float)
        radius = np.array([float(x["radius_m"]) for x in suspects], dtype=float)
        admissible = distance <= radius[np.newaxis, :]
        # Larger than any total of admissible distances: the optimum first pairs as many as it can.
        big = 1.0 + 2.0 * float(distance[admissible].sum()) + 1e6
        rows, cols = linear_sum_assignment(np.where(admissible, distance, big))
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            if not admissible[i, j]:
                continue
            site, suspect = sites[i], suspects[j]
            paired_sites.add(i)
            paired_suspects.add(j)
            result.distances_m[(site["id"], suspect["id"])] = float(distance[i, j])
            reason = _mismatch(site, suspect)
            if reason is None:
                result.confirmed.append((site["id"], suspect["id"]))
            else:
                result.mismatch.append((site["id"], suspect["id"], reason))
    result.undeclared = [x["id"] for j, x in enumerate(suspects) if j not in paired_suspects]
    result.new = [s["id"] for i, s in enumerate(sites) if i not in paired_sites]
    result.confirmed.sort(key=lambda t: t[0].encode())
    result.mismatch.sort(key=lambda t: t[0].encode())
    return result


def estimates_of(suspect: dict[str, Any]) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """The suspect's ``ext.estimates`` as exact decimals, ``None`` for an open side."""
    raw = suspect.get("ext", {}).get("estimates", {}) if type(suspect.get("ext")) is dict else {}
    if type(raw) is not dict:
        raise ValueError(f"suspect {suspect['id']!r}: ext.estimates is not an object")
    out: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for category, bounds in raw.items():
        if type(bounds) is not list or len(bounds) != 2 or any(b is not None and type(b) not in (int, float) for b in bounds):
            raise ValueError(f"suspect {suspect['id']!r}: ext.estimates.{category} is not [min or null, max or null]")
        out[category] = (None if bounds[0] is None else exact(bounds[0]), None if bounds[1] is None else exact(bounds[1]))
    return out


def site_total(site: dict[str, Any], category: str) -> Decimal:
    """The exact total quantity of ``category`` at ``site``, over every type (0 when none)."""
    return exact_sum(item["quantity"] for item in site["items"] if item["category"] == category)


def _mismatch(site: dict[str, Any], suspect: dict[str, Any]) -> Reason | None:
    if site["kind"] != suspect["kind"]:
        return Reason.MISMATCH_KIND
    for category, (low, high) in estimates_of(suspect).items():
        total = site_total(site, category)
        if (low is not None and total < low) or (high is not None and total > high):
            return Reason.MISMATCH_QUANTITY
    return None


def _sorted_unique(objects: Iterable[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    ordered = sorted(objects, key=lambda o: o["id"].encode())
    for a, b in pairwise(ordered):
        if a["id"] == b["id"]:
            raise ValueError(f"{what} id {a['id']!r} is given twice")
    for o in ordered:
        if "lat" not in o or "lon" not in o:
            raise ValueError(f"{what} {o['id']!r} has no lat/lon: the truth test needs points")
    return ordered


def to_geojson(sites: list[dict[str, Any]], suspects: list[dict[str, Any]], result: TruthTest) -> dict[str, Any]:
    """A FeatureCollection of Point features (sites, then suspects, each by id) for QGIS.

    Properties: ``role`` (``site`` / ``suspect``), ``id``, ``kind``, ``status`` (one of
    :data:`STATUSES`), ``paired`` (the other id or ``null``), ``reason`` (mismatch reason or
    ``null``), ``distance_m`` (of the pair or ``null``); suspects add ``radius_m`` and ``confidence``.
    """
    by_site, by_suspect = result.status_of_site(), result.status_of_suspect()
    features: list[dict[str, Any]] = []
    for role, objects, statuses in (("site", sites, by_site), ("suspect", suspects, by_suspect)):
        for o in sorted(objects, key=lambda o: o["id"].encode()):
            if o["id"] not in statuses:
                raise ValueError(f"{role} {o['id']!r} is not in the truth-test result")
            status, paired, reason = statuses[o["id"]]
            pair = None if paired is None else ((o["id"], paired) if role == "site" else (paired, o["id"]))
            properties: dict[str, Any] = {
                "role": role, "id": o["id"], "kind": o["kind"], "status": status, "paired": paired, "reason": None if reason is None else str(reason),
                "distance_m": None if pair is None else result.distances_m.get(pair),
            }
            if role == "suspect":
                properties |= {"radius_m": o["radius_m"], "confidence": o["confidence"]}
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [o["lon"], o["lat"]]},
                             "properties": properties})
    return {"type": "FeatureCollection", "features": features}
