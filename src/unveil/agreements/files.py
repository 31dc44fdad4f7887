"""Agreement files (spec §12): JSON read by the strict reader, YAML by the strict loader (spec
§0: the same JSON value, so the same hash), at most :data:`MAX_BYTES`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unveil.agreements.model import Agreement, FieldPath, RuleBroken, agreement_of, parse_agreement
from unveil.core.jsonparse import loads
from unveil.errors import Location, MalformedInputError
from unveil.textformats.text import document_text
from unveil.textformats.yaml import Places, load_yaml

__all__ = ["MAX_BYTES", "read_agreement"]

MAX_BYTES = 1 << 20
"""The largest agreement file :func:`read_agreement` reads: it must fit in one board entry (spec §7)."""


def _yaml_place(places: Places, doc: Any, path: FieldPath) -> tuple[int, int] | None:
    mark = places.start(doc)
    container = doc
    for step in path:
        inner = places.member(container, step)
        if inner is None:
            break
        mark = inner
        container = container[step]
    return mark


def read_agreement(path: str | Path, *, max_bytes: int = MAX_BYTES) -> tuple[Agreement, dict[str, Any]]:
    """Read an agreement file (spec §12): JSON by the strict reader, or YAML by the strict loader
    (``.yaml``/``.yml``; by content otherwise: a file starting with ``{`` is JSON); at most
    ``max_bytes``. Returns the agreement and the document (its JSON value, what the board logs
    and the hash covers). :class:`MalformedInputError` names the file, the field and, in YAML,
    the line."""
    source = str(path)
    text, is_yaml = document_text(path, max_bytes)
    if not is_yaml:
        doc = loads(text, source=source)
        return parse_agreement(doc, source), doc
    found = load_yaml(text, source=source)
    try:
        agreement = agreement_of(found.value)
    except RuleBroken as exc:
        mark = _yaml_place(found.places, found.value, exc.path)
        where = Location(line=mark[0] if mark else None, column=mark[1] if mark else None, path=exc.path, label="field")
        raise MalformedInputError(exc.message, source=source, where=where) from None
    return agreement, found.value
