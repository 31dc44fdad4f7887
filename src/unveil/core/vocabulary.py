"""The default vocabulary ``unveil/vocabulary/v1`` (spec §10)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

DEFAULT_VOCABULARY = "unveil/vocabulary/v1"


@dataclass(frozen=True)
class Vocabulary:
    """Site kinds and item categories with their units."""

    name: str
    kinds: frozenset[str]
    units: Mapping[str, str]

    def unit_for(self, category: str) -> str | None:
        return self.units.get(category)


V1 = Vocabulary(
    name=DEFAULT_VOCABULARY,
    kinds=frozenset(
        {
            "mining-milling", "conversion", "fuel-fabrication", "reactor", "reprocessing",
            "enrichment", "weapons-production", "weapons-storage", "test-site",
            "missile-production", "missile-base", "launcher-garrison", "research", "other",
        }
    ),
    units=MappingProxyType(
        {
            "warhead": "count", "plutonium": "kg", "heu": "kg", "leu": "kg", "tritium": "g",
            "centrifuge": "count", "missile": "count", "launcher": "count", "reactor": "count",
            "other": "count",
        }
    ),
)

KNOWN: Mapping[str, Vocabulary] = MappingProxyType({V1.name: V1})


def lookup(name: str) -> Vocabulary | None:
    """The vocabulary called ``name``, or ``None``: its checks are then skipped (spec §10)."""
    return KNOWN.get(name)
