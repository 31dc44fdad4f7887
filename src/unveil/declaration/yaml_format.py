"""Declarations in YAML: the JSON form (``sites:`` holding a list of spec §2 sites), read by
the strict YAML loader (:mod:`unveil.textformats.yaml`: what JSON can say, nested at most 64
deep, spec §0). Places are the line and column where the value starts, and the field."""

from __future__ import annotations

from typing import Any

from unveil.declaration.sites import POINT, Found
from unveil.errors import Location, MalformedInputError
from unveil.textformats.yaml import load_yaml


def read_yaml(text: str) -> Found:
    doc = load_yaml(text)
    value, places = doc.value, doc.places
    if type(value) is not dict or set(value) != {"sites"} or type(value["sites"]) is not list:
        raise MalformedInputError('expected a mapping with the one key "sites" holding a list of sites', where=Location(line=1))
    sites: list[Any] = value["sites"]

    def locate(i: int, j: int | None, /, *field: str | int) -> Location:
        mark = places.member(sites, i) or (1, 1)
        target: Any = sites[i]
        if j is not None:
            items = target["items"]
            mark = places.member(items, j) or mark
            target = items[j]
        name = "lat" if field[:1] == (POINT,) else field[0] if field else None
        if type(target) is dict and name in target:
            mark = places.member(target, name) or mark
        path = field or (("items", j) if j is not None else ())
        return Location(line=mark[0], column=mark[1], label="field" if path else "", path=path)

    return Found(sites, locate, doc.written)
