"""The strict YAML loader: YAML that says what JSON can say, read as JSON values (spec §0).

Every YAML input goes through :func:`load_yaml`, which refuses what the strict JSON reader
(:func:`unveil.core.jsonparse.loads`) refuses and what YAML has beyond JSON:

- sequences and mappings nested more than :data:`MAX_DEPTH` deep (spec §0), counted on the
  parser's event stream before anything deeper is built. Values are built from the events by a
  loop with an explicit stack: nothing recurses, so the interpreter's stack never decides what
  is read (PyYAML's own composer and constructor recurse once per level, and its pure-Python
  parser takes minutes over 100,000 open brackets; libyaml gives up at 1000 levels, and that
  error is reported as the same nesting error);
- duplicate keys, keys that are not strings, merge keys (``<<``);
- an anchored value used again by an alias (``*name``), tags other than JSON's types,
  timestamps, binary, sets;
- numbers that are not JSON numbers (``0x1f``, ``1_000``, ``+1``, ``.nan``, ``.inf``), integers
  outside ±(2^53−1), YAML 1.1 booleans (``yes``, ``on``, ``True``);
- lone surrogates in strings, more than one document.

Each error names the line and column. A float whose double is not exactly the decimal written
is noted in a :class:`~unveil.core.jsonparse.Written`, as the JSON reader notes it, and
:class:`Places` tells where each value starts, for the reader's own checks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from unveil.core.encoding import MAX_SAFE_INTEGER
from unveil.core.jsonparse import MAX_DEPTH, Written, float_problem
from unveil.errors import Location, MalformedInputError
from unveil.textformats.numbers import INTEGER, NUMBER

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _SEQ, _MAP, _MERGE = (
    _TAG + name for name in ("str", "int", "float", "bool", "null", "seq", "map", "merge"))
_REFUSED = {
    _TAG + "timestamp": "a date or time is not a JSON value: quote it",
    _TAG + "binary": "binary data is not a JSON value",
    _MERGE: "merge keys (<<) are not JSON: write the fields out",
}
_NULLS = ("", "~", "null", "Null", "NULL")
_SURROGATE = re.compile("[\ud800-\udfff]")

# libyaml's parser when PyYAML has it (many times faster); either parser only yields events.
_PARSER: Any = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader

Mark = tuple[int, int]
"""A 1-based (line, column)."""


class Places:
    """Where each sequence and mapping of a document starts, and where each member's value starts."""

    def __init__(self) -> None:
        self._of: dict[int, tuple[Any, Mark, dict[Any, Mark]]] = {}  # holds the value: ids stay unique

    def add(self, container: Any, start: Mark, members: dict[Any, Mark]) -> None:
        self._of[id(container)] = (container, start, members)

    def start(self, container: Any) -> Mark | None:
        """Where ``container`` (a list or dict of the document) starts."""
        entry = self._of.get(id(container))
        return entry[1] if entry is not None and entry[0] is container else None

    def member(self, container: Any, key: Any) -> Mark | None:
        """Where the value of ``container[key]`` starts (a key of a dict, an index of a list)."""
        entry = self._of.get(id(container))
        return entry[2].get(key) if entry is not None and entry[0] is container else None


@dataclass(frozen=True)
class YamlDocument:
    """A document read by :func:`load_yaml`: its JSON value, where each value starts, and the
    written text of every float whose double is not that decimal."""

    value: Any
    places: Places
    written: Written


class _Refused(Exception):
    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


def _mark(mark: Any) -> Mark:
    return (mark.line + 1, mark.column + 1)


def _nesting(mark: Any) -> _Refused:
    return _Refused(f"sequences and mappings nest more than {MAX_DEPTH} deep; at most {MAX_DEPTH} are allowed (spec §0)", mark)


def load_yaml(text: str, *, source: str | None = None) -> YamlDocument:
    """Read one YAML document strictly (see the module docstring); an empty stream reads as
    ``None``. Raises :class:`MalformedInputError` naming ``source``, the line and the column."""
    try:
        loader = _PARSER(text)  # PyYAML's own reader checks the characters here
        try:
            return _Builder(loader).run()
        finally:
            loader.dispose()
    except _Refused as exc:
        line, column = _mark(exc.mark)
        raise MalformedInputError(exc.problem, source=source, where=Location(line=line, column=column)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        if exc.problem and "maximum nesting depth" in exc.problem:  # libyaml's limit, far beyond ours
            problem = str(_nesting(mark))
        where = Location(line=mark.line + 1, column=mark.column + 1) if mark else None
        raise MalformedInputError(problem, source=source, where=where) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        line = text.count("\n", 0, exc.position) + 1
        raise MalformedInputError(f"character {exc.character!r} is not allowed in YAML", source=source,
                                  where=Location(line=line)) from None
    except yaml.YAMLError as exc:
        raise MalformedInputError(str(exc), source=source) from None


_NO_KEY = object()


@dataclass
class _Frame:
    """An open sequence or mapping: its value, where it and its members start, the key read."""

    value: Any
    start: Mark
    members: dict[Any, Mark] = field(default_factory=dict)
    key: Any = _NO_KEY
    key_marks: dict[str, Mark] = field(default_factory=dict)


class _Builder:
    """JSON values from a parser's events, with an explicit stack (no recursion)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.places = Places()
        self.written = Written()
        self.anchors: dict[str, Any] = {}

    def run(self) -> YamlDocument:
        stack: list[_Frame] = []
        root: list[Any] = []
        documents = 0
        while True:
            event = self.loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self.anchor(event)
                if stack and type(stack[-1].value) is dict and stack[-1].key is _NO_KEY:
                    self.key(stack[-1], event)
                else:
                    self.attach(stack, root, self.scalar(event), event.start_mark)
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                self.anchor(event)
                if stack and type(stack[-1].value) is dict and stack[-1].key is _NO_KEY:
                    raise _Refused("member names are strings, not collections", event.start_mark)
                if len(stack) >= MAX_DEPTH:
                    raise _nesting(event.start_mark)
                is_seq = kind is yaml.SequenceStartEvent
                self.check_tag(event, _SEQ if is_seq else _MAP, yaml.SequenceNode if is_seq else yaml.MappingNode)
                container: Any = [] if is_seq else {}
                self.attach(stack, root, container, event.start_mark)
                stack.append(_Frame(container, _mark(event.start_mark)))
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                done = stack.pop()
                self.places.add(done.value, done.start, done.members)
            elif kind is yaml.AliasEvent:
                anchored = self.anchors.get(event.anchor)
                if anchored is None:
                    raise _Refused(f"alias *{event.anchor} names no anchor", event.start_mark)
                line, column = _mark(event.start_mark)
                raise _Refused(f"the value anchored here (&{event.anchor}) is used again by an alias (*{event.anchor}) "
                               f"on line {line} column {column}: aliases are not JSON, write the value out", anchored)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Refused("expected a single document, but found another", event.start_mark)
            elif kind is yaml.StreamEndEvent:
                return YamlDocument(root[0] if root else None, self.places, self.written)

    def anchor(self, event: Any) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = event.start_mark

    def attach(self, stack: list[_Frame], root: list[Any], value: Any, mark: Any) -> None:
        if not stack:
            root.append(value)
            return
        top = stack[-1]
        if type(top.value) is list:
            top.members[len(top.value)] = _mark(mark)
            top.value.append(value)
        else:
            top.members[top.key] = _mark(mark)
            top.value[top.key] = value
            top.key = _NO_KEY

    def tag(self, event: Any, node: type) -> str:
        if event.tag is None or event.tag == "!":  # no tag, or the non-specific one: resolved as PyYAML does
            return str(self.loader.resolve(node, getattr(event, "value", None), event.implicit))
        return str(event.tag)

    def check_tag(self, event: Any, expected: str, node: type) -> None:
        tag = self.tag(event, node)
        if tag != expected:
            raise _Refused(_REFUSED.get(tag, f"a value tagged {tag} is not a JSON value"), event.start_mark)

    def key(self, frame: _Frame, event: Any) -> None:
        tag = self.tag(event, yaml.ScalarNode)
        if tag != _STR:
            raise _Refused(_REFUSED[_MERGE] if tag == _MERGE else f"member names are strings; quote {event.value!r}",
                           event.start_mark)
        key = self.string(event)
        first = frame.key_marks.get(key)
        if first is not None:
            raise _Refused(f"duplicate key {key!r} (first at line {first[0]} column {first[1]})", event.start_mark)
        frame.key_marks[key] = _mark(event.start_mark)
        frame.key = key

    def string(self, event: Any) -> str:
        if _SURROGATE.search(event.value):
            raise _Refused("lone surrogate in string", event.start_mark)
        return str(event.value)

    def scalar(self, event: Any) -> Any:
        tag, text, mark = self.tag(event, yaml.ScalarNode), event.value, event.start_mark
        if tag == _STR:
            return self.string(event)
        if tag == _INT:
            if not INTEGER.fullmatch(text):
                raise _Refused(f"{text!r} is not a JSON number (decimal digits only)", mark)
            value = int(text) if len(text) <= 17 else None  # int() refuses 4300+ digits; 2^53−1 has 16
            if value is None or abs(value) > MAX_SAFE_INTEGER:
                raise _Refused(f"integer {text[:24]}{'…' if len(text) > 24 else ''} is outside ±(2^53−1)", mark)
            return value
        if tag == _FLOAT:
            number = float(text) if NUMBER.fullmatch(text) else math.nan
            if not math.isfinite(number):
                raise _Refused(f"{text[:24]!r} is not a finite JSON number (write e.g. 0.5, 41.5, 1.0e-7)", mark)
            problem = float_problem(number)
            if problem is not None:  # spec §0: its JCS form would not read back
                raise _Refused(f"number {text[:24]} {problem}", mark)
            return self.written.note(text, number)
        if tag == _BOOL:
            if text not in ("true", "false"):
                raise _Refused(f"{text!r} is read as a boolean by YAML: quote it, or write true or false", mark)
            return text == "true"
        if tag == _NULL:
            if text not in _NULLS:
                raise _Refused(f"{text!r} is tagged null: write null, or quote it", mark)
            return None
        raise _Refused(_REFUSED.get(tag, f"a value tagged {tag} is not a JSON value"), mark)
