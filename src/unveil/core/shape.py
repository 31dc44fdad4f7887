"""Shape checks at the edge: exact field sets and JSON types (spec §0 "Unknown fields").

A shape failure means the input cannot be read as its format; it raises
:class:`~unveil.errors.MalformedInputError` naming the field path (e.g.
``statement.openings[3].content.sites[0].lat``). Value rules (ids, hex, order, vocabulary)
are checked later and reported as verification problems, so every one can be listed.
"""

from __future__ import annotations

from typing import Any, Collection

from unveil.core.encoding import is_integer_token
from unveil.errors import MalformedInputError

_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) in (int, float):
        return "a number"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def fields(
    obj: Any, where: str, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """``obj`` as an object with all ``required`` and no fields beyond ``optional``."""
    if type(obj) is not dict:
        raise MalformedInputError(f"expected an object, found {json_type(obj)}", where=where)
    keys = obj.keys()
    missing = [name for name in required if name not in keys]
    if missing:
        raise MalformedInputError(f"missing required field {missing[0]!r}", where=where)
    if len(keys) > len(required):
        for name in keys:
            if name not in required and name not in optional:
                raise MalformedInputError(f"unknown field {name!r}", where=where)
    return obj


def string(obj: dict[str, Any], name: str, where: str) -> str:
    value = obj[name]
    if type(value) is not str:
        raise MalformedInputError(f"expected a string, found {json_type(value)}", where=f"{where}.{name}")
    return value


def integer(obj: dict[str, Any], name: str, where: str) -> int:
    """An integer-valued field: an integer token within ±(2^53−1), never a bool (spec §0)."""
    value = obj[name]
    if not is_integer_token(value):
        if type(value) is float:
            problem = f"expected an integer token (no fraction or exponent), found {value!r}"
        elif type(value) is int:
            problem = f"integer {value} is outside ±(2^53−1)"
        else:
            problem = f"expected an integer, found {json_type(value)}"
        raise MalformedInputError(problem, where=f"{where}.{name}")
    return value


def number(obj: dict[str, Any], name: str, where: str) -> int | float:
    value: int | float = obj[name]  # checked next
    if type(value) not in (int, float):
        raise MalformedInputError(f"expected a number, found {json_type(value)}", where=f"{where}.{name}")
    return value


def array(obj: dict[str, Any], name: str, where: str) -> list[Any]:
    value = obj[name]
    if type(value) is not list:
        raise MalformedInputError(f"expected an array, found {json_type(value)}", where=f"{where}.{name}")
    return value


def obj(parent: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = parent[name]
    if type(value) is not dict:
        raise MalformedInputError(f"expected an object, found {json_type(value)}", where=f"{where}.{name}")
    return value


def strings(obj_: dict[str, Any], name: str, where: str) -> list[str]:
    values = array(obj_, name, where)
    for i, value in enumerate(values):
        if type(value) is not str:
            raise MalformedInputError(
                f"expected a string, found {json_type(value)}", where=f"{where}.{name}[{i}]"
            )
    return values
