"""What every fuzz property shares: example budgets, the robustness check, and mutators.

Budgets: ``@fuzz(n)`` runs a property on ``n`` examples under the fast profile (``make test``,
the same examples on every run) and on ``n × scale`` random ones under the ``fuzz`` profile
(``HYPOTHESIS_PROFILE=fuzz``, ``make fuzz``), where ``scale`` is the loaded profile's
``max_examples`` / 100 (profiles: tests/conftest.py).

Robustness: :func:`outcome` calls a reader and returns its value or the project's own error;
any other exception (``KeyError``, ``RecursionError``, ``MemoryError``…) escapes and fails the
property, and so does a project error whose message does not name the place it is about.

Mutators draw structure-aware changes of a valid document: of its JSON value
(:func:`mutated_value`), of its text (:func:`mutated_text`, duplicate members included) and of
its bytes (:func:`mutated_bytes`).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from datetime import timedelta
from typing import Any, Callable, TypeVar

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from unveil.core.jsonparse import float_problem
from unveil.errors import MalformedInputError, UnveilError, VerificationError

T = TypeVar("T")

_PROFILE = settings()  # the profile tests/conftest.py loaded
SCALE = max(1, _PROFILE.max_examples // 100)
"""How many times more examples each property runs than under the fast profile."""
FUZZING = SCALE > 1


def fuzz(examples: int) -> Callable[[T], T]:
    """Hypothesis settings for a fuzz property: ``examples`` in ``make test``, the same ones on
    every run (derandomized: the suite must not fail by chance); ``× SCALE`` fresh random ones in
    ``make fuzz``, where an example slower than 10 s fails (a near-hang is a finding)."""
    return settings(
        _PROFILE,
        max_examples=examples * SCALE,
        derandomize=not FUZZING,
        deadline=timedelta(seconds=10) if FUZZING else None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def outcome(read: Callable[..., T], *args: Any, names: str | None = None, where: bool = False,
            allowed: tuple[type[UnveilError], ...] = (MalformedInputError,), **kwargs: Any) -> T | UnveilError:
    """``read(*args, **kwargs)``'s value, or the project error it raised (one of ``allowed``).

    A MalformedInputError must say what is wrong, name the file (``names``, by default the
    ``source`` keyword passed to ``read``) and, with ``where``, the field path or line.
    """
    names = names if names is not None else kwargs.get("source")
    try:
        value = read(*args, **kwargs)
    except allowed as exc:
        _event(read, type(exc).__name__)
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        if isinstance(exc, MalformedInputError):
            assert exc.message.strip(), "MalformedInputError without a message"
            if names is not None:
                assert exc.source == names, f"{exc!s} does not name the file {names}"
            if where:
                assert exc.where, f"{exc!s} does not name the field or line"
        if isinstance(exc, VerificationError):
            assert exc.problems and all(str(p.reason) for p in exc.problems)
        return exc
    _event(read, "read")
    return value


def _event(read: Callable[..., Any], what: str) -> None:
    """Counted in ``--hypothesis-show-statistics``: how often each reader read or refused."""
    if currently_in_test_context():
        event(f"{getattr(read, '__name__', 'read')}: {what}")


# --- values ----------------------------------------------------------------------------------

MAX_SAFE = 2**53 - 1
ODD_STRINGS = [
    "", " ", "a" * 300, "\u2014", "\u2014 ", "+", "++", "=", "é", "e\u0301", "\u202e", "\ufeff", "\u00a0",
    "\u2028", "\U0001f600", "\x00", "\x7f", "\x85", "\t", "\n", "\r\n", "\\", '"', "null", "0", "-0",
    "1e400", "NaN", "[", "{", "Host", "Host+", "Host+00000000+", "H" * 65, "0" * 64, "f" * 64, "F" * 64,
    "g" * 64, "2019-01-18T15:00:00Z", "2019-02-29T15:00:00Z", "2019-01-18T15:00:60Z", "861f8d6cfffffff",
    "unveil/escrow/v1", "unveil/reveal/v1", "unveil/event/v1", "count", "kg", "warhead", "other",
]
"""Strings that sit on format boundaries: dashes, bidi and BOM, escapes, ids, hex, times."""
ODD_NUMBERS = [
    0, 1, -1, 2, 64, 65, MAX_SAFE, -MAX_SAFE, 2**31, 2**32, 2**63 - 1, 0.5, -0.0, 1e-7, 1e-300, 5e-324,
    1e308, -1e308, 1.7976931348623157e308, 2.0, 1e21, 0.1, 90, 90.00000000000001, -180, 180.5,
]
"""Numbers JSON can carry that sit on boundaries: zero, signs, ±(2^53−1), tiny and huge doubles."""


def nested(depth: int, leaf: Any = 0) -> Any:
    """``depth`` arrays and objects around ``leaf``, alternating (``[{"a": [...]}]``)."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def _json_number(value: int | float) -> bool:
    """Whether a strict JSON reader could return ``value`` (finite; integers within ±(2^53−1))."""
    return abs(value) <= MAX_SAFE if type(value) is int else float_problem(value) is None


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-MAX_SAFE, MAX_SAFE), st.floats(-MAX_SAFE, MAX_SAFE) | st.sampled_from([1e21, -1e300, 1.7976931348623157e308]),
    st.text(max_size=20), st.sampled_from(ODD_STRINGS), st.sampled_from([n for n in ODD_NUMBERS if _json_number(n)]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(ODD_STRINGS), inner, max_size=4),
    max_leaves=12,
)
"""Any value a strict JSON reader can return (integers within ±(2^53−1), finite floats)."""
odd_values = st.one_of(
    json_scalars, st.sampled_from([[], {}, [[]], {"": None}]).map(copy.deepcopy), st.integers(1, 70).map(nested),
)


class Members(list):  # type: ignore[type-arg]
    """An object written member by member, so a name may repeat (``{"a":1,"a":2}``)."""


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if type(value) is dict:
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif type(value) is list:
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _change_string(draw: st.DrawFn, text: str) -> str:
    if not text:
        return draw(st.sampled_from(ODD_STRINGS[1:]))
    i = draw(st.integers(0, len(text) - 1))
    how = draw(st.sampled_from(["replace", "insert", "delete", "case"]))
    if how == "case":
        return text.swapcase() if text.swapcase() != text else text + "x"
    new = draw(st.characters(codec=None) | st.sampled_from(list("\u2014 +=/\n0aF\ud800")))
    if how == "replace":
        return text[:i] + new + text[i + 1:]
    if how == "insert":
        return text[:i] + new + text[i:]
    return text[:i] + text[i + 1:]


@st.composite
def mutated_value(draw: st.DrawFn, seed: Any, *, members: bool = False, max_changes: int = 3) -> Any:
    """A copy of the JSON value ``seed`` with 1 to ``max_changes`` changes: a value replaced
    (by any JSON value, an odd one, another type, deep nesting), a member removed, renamed or
    added, an element dropped, repeated or moved, a string or number nudged. With ``members``,
    an object may also repeat a member name (:class:`Members`; for :func:`dump` only)."""
    value = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, max_changes))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        node = _at(value, path)
        ops = ["replace", "odd"]
        if type(node) is dict:
            ops += ["add"] + (["remove", "rename"] if node else []) + (["repeat-member"] if members and node else [])
        if type(node) is list:
            ops += ["append"] + (["drop", "repeat", "swap"] if node else [])
        if type(node) is str:
            ops += ["string"] * 3
        if type(node) in (int, float):
            ops += ["nudge"] * 2
        op = draw(st.sampled_from(ops))
        new: Any = node
        if op == "replace":
            new = draw(json_values)
        elif op == "odd":
            new = draw(odd_values)
        elif op == "string":
            new = _change_string(draw, node)
        elif op == "nudge":
            candidates = [node + 1, node - 1, -node, float(node), node + 0.5, node * 1e300]
            new = draw(st.sampled_from([c for c in candidates if _json_number(c)] or [0]))
        elif op == "add":
            new = dict(node)
            new[draw(st.sampled_from([*ODD_STRINGS, "ext", "extra", "cell", "sites", "index", "totals"]))] = draw(odd_values)
        elif op == "remove":
            new = dict(node)
            del new[draw(st.sampled_from(sorted(new)))]
        elif op == "rename":
            key = draw(st.sampled_from(sorted(node)))
            new = {(_change_string(draw, k) if k == key else k): v for k, v in node.items()}
        elif op == "repeat-member":
            items = list(node.items())
            key, item = draw(st.sampled_from(items))
            new = Members([*items, (key, draw(st.just(item) | odd_values))])
        elif op == "append":
            new = [*node, draw(odd_values if not node else st.just(copy.deepcopy(node[-1])) | odd_values)]
        elif op == "drop":
            new = list(node)
            del new[draw(st.integers(0, len(new) - 1))]
        elif op == "repeat":
            i = draw(st.integers(0, len(node) - 1))
            new = [*node[: i + 1], copy.deepcopy(node[i]), *node[i + 1:]]
        elif op == "swap":
            i, j = draw(st.integers(0, len(node) - 1)), draw(st.integers(0, len(node) - 1))
            new = list(node)
            new[i], new[j] = new[j], new[i]
        if not path:
            value = new
        else:
            _at(value, path[:-1])[path[-1]] = new
    return value


def _has_members(value: Any) -> bool:
    if isinstance(value, Members):
        return True
    if type(value) is dict:
        return any(map(_has_members, value.values()))
    return type(value) is list and any(map(_has_members, value))


def dump(value: Any, *, indent: int | None = None, ascii: bool = False) -> str:
    """JSON text of ``value``; :class:`Members` objects keep repeated names."""
    if not _has_members(value):
        return json.dumps(value, ensure_ascii=ascii, indent=indent)
    pairs = list(value) if isinstance(value, Members) else list(value.items()) if type(value) is dict else None
    if pairs is not None:
        return "{" + ",".join(json.dumps(k, ensure_ascii=ascii) + ":" + dump(v, ascii=ascii) for k, v in pairs) + "}"
    return "[" + ",".join(dump(v, ascii=ascii) for v in value) + "]"


TOKENS = [
    b"1e400", b"-1e400", b"1e16", b"9007199254740993", b"-0", b"1.0e-400", b"9" * 30, b"-" + b"9" * 20, b"0x1f", b"NaN", b"Infinity",
    b'"\\ud800"', b'"\\udc00\\ud800"', b"\xef\xbb\xbf", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00",
    b"\r", b"\r\n", b"\t", b"\\", b'"', b",", b":", b"[", b"]", b"{", b"}", b"null", b"true",
    b"[" * 65 + b"]" * 65, b"[" * 200, b'{"a":' * 70 + b"0" + b"}" * 70, "\u2014 ".encode(), b"\n\n",
]
"""Byte strings that break or stress a reader when spliced in: overflows, lone surrogates,
bad UTF-8, a BOM, control bytes, brackets, deep nesting."""


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes, *, max_changes: int = 3, tokens: list[bytes] = TOKENS) -> bytes:
    """``seed`` with 1 to ``max_changes`` byte-level changes: a bit flipped, a byte set, bytes
    inserted or deleted, a slice repeated, the tail cut off, a stress token spliced in."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_changes))):
        n = len(data)
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "repeat", "truncate", "token", "token"]))
        i = draw(st.integers(0, n))
        if op == "flip" and n:
            i = min(i, n - 1)
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and n:
            data[min(i, n - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        elif op == "repeat":
            data[i:i] = data[i : i + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[i:]
        elif op == "token":
            end = i + draw(st.integers(0, 4))
            data[i:end] = draw(st.sampled_from(tokens))
    return bytes(data)


NUMBER_TEXTS = [
    "9" * 5000, "-" + "9" * 4301, "1e16", "9007199254740993", "9007199254740991", "1e400", "-1e400", "1e-400", "0x1f", "0o17",
    "1_000", ".nan", "-.inf", "NaN", "Infinity", "-0", "00", "+1", "1.", ".5", "1e", "0.1000000000000000055511151231257827",
    "1e21", "5e-324", "90.0000001", "-180.5", "١٢", "1 ", "",
]
"""Number texts on every side of the JSON grammar, ±(2^53−1), the exactness rule, Python's
4300-digit int conversion limit and YAML 1.1's number forms."""
_NUMBER_TOKEN = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


@st.composite
def mutated_numbers(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with one to three of its number tokens replaced by :data:`NUMBER_TEXTS`."""
    data = seed
    for _ in range(draw(st.integers(1, 3))):
        spans = [m.span() for m in _NUMBER_TOKEN.finditer(data)]
        if not spans:
            break
        start, end = draw(st.sampled_from(spans))
        data = data[:start] + draw(st.sampled_from(NUMBER_TEXTS)).encode() + data[end:]
    return data


@st.composite
def mutated_csv(draw: st.DrawFn, seed: bytes, cells: list[str]) -> bytes:
    """The CSV ``seed`` changed as rows and cells (a cell replaced by one of ``cells`` or any
    text, a row dropped, repeated, shortened or lengthened), then written by a CSV writer; or
    changed as bytes, or in its numbers."""
    how = draw(st.integers(0, 4))
    if how == 0:
        return draw(mutated_bytes(seed))
    if how == 1:
        return draw(mutated_numbers(seed))
    rows = list(csv.reader(io.StringIO(seed.decode())))
    for _ in range(draw(st.integers(1, 3))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop", "repeat", "short", "long"]))
        if op == "cell" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(st.sampled_from(cells) | st.text(max_size=8))
        elif op == "drop":
            del rows[r]
        elif op == "repeat":
            rows.insert(r, list(rows[r]))
        elif op == "short" and rows[r]:
            rows[r].pop()
        elif op == "long":
            rows[r].append(draw(st.sampled_from(cells)))
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def mutated_text(draw: st.DrawFn, seed: Any) -> bytes:
    """Bytes of a JSON document built from the value ``seed``: mutated as a value (repeated
    member names allowed), as bytes, or both, in any layout."""
    how = draw(st.sampled_from(["value", "bytes", "both"]))
    value = draw(mutated_value(seed, members=True)) if how != "bytes" else seed
    text = dump(value, indent=draw(st.sampled_from([None, 1])), ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if how != "value":
        text = draw(mutated_bytes(text))
    return text


@st.composite
def mutated_str(draw: st.DrawFn, seed: str, *, max_changes: int = 3) -> str:
    """``seed`` with 1 to ``max_changes`` character changes (any code point, lone surrogates,
    dashes, newlines), or cut short."""
    text = seed
    for _ in range(draw(st.integers(1, max_changes))):
        if draw(st.integers(0, 9)) == 0:
            text = text[: draw(st.integers(0, len(text)))]
        else:
            text = _change_string(draw, text)
    return text
