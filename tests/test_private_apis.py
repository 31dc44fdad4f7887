"""The one private API unveil relies on, and the typer behaviour the CLI edge relies on: each
test fails with a message saying what changed.

- ``unveil.core.jcs`` drives CPython's C JSON encoder (``_json.make_encoder``,
  ``_json.encode_basestring``) directly: it is several times faster than
  ``json.JSONEncoder.encode``, which rebuilds the encoder on every call.
- ``unveil.cli.main.main`` catches usage errors as ``typer.TyperException`` (public), the base
  of typer 0.28's bundled click exceptions.
- ``unveil.api.connections`` watches uvicorn's HTTP protocols (httptools and h11) through
  their ``loop``, ``transport``, ``flow.read_paused``, ``cycle`` (``more_body``,
  ``response_complete``) and ``on_response_complete``.
"""

from __future__ import annotations

import platform
import sys

import pytest
import rfc8785
import typer

from unveil.cli.main import main
from unveil.core import jcs

# Values whose RFC 8785 form the C encoder must reproduce byte for byte (jcs sends only such
# shapes to it): escapes, non-ASCII text, nesting, key order, integers at the safe limits.
FIXED = [
    None, True, False, 0, -1, 2**53 - 1, -(2**53 - 1), 41.5, 0.1, -2.5, 123456.789,
    "", "plain", "é\u2028\U0001f600", '"\\/\b\f\n\r\t', "\x00\x01\x1f\x7f",
    [], {}, [1, "a", None, [True, {}]], {"b": 1, "a": [2, {"d": "x", "c": 0.5}], "": "empty"},
    {"sites": [{"id": "s-1", "items": [{"category": "warhead", "quantity": 3}]}], "cell": "86302d037ffffff"},
]


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="_json is CPython's C accelerator")
def test_cpython_c_encoder_is_in_use_and_matches_rfc8785() -> None:
    try:
        from _json import encode_basestring, make_encoder
    except ImportError as exc:  # pragma: no cover
        pytest.fail(f"CPython {sys.version.split()[0]} has no _json.make_encoder/encode_basestring ({exc}): "
                    "unveil.core.jcs silently fell back to the slow json.JSONEncoder path")
    assert jcs._C is not None and jcs._FAST is jcs._C, "unveil.core.jcs is not using _json.make_encoder"
    try:  # the positional signature jcs builds it with (markers ... allow_nan)
        encoder = make_encoder(None, jcs._refuse, encode_basestring, None, ":", ",", True, False, False)
    except TypeError as exc:  # pragma: no cover
        pytest.fail(f"_json.make_encoder's signature changed in CPython {sys.version.split()[0]}: {exc}")
    for value in FIXED:
        expected = rfc8785.dumps(value).decode()
        assert "".join(encoder(value, 0)) == expected, f"_json.make_encoder output for {value!r} no longer equals RFC 8785"
        assert jcs._FAST(value) == expected, f"unveil.core.jcs fast path for {value!r} no longer equals RFC 8785"
    with pytest.raises(TypeError):  # anything else goes to the default hook, which refuses
        jcs._FAST({"k": b"bytes"})


def test_typer_usage_errors_derive_from_typer_exception(capsys: pytest.CaptureFixture[str]) -> None:
    assert issubclass(typer.BadParameter, typer.TyperException), (
        "typer's usage errors no longer derive from typer.TyperException: unveil.cli.main.main would let them "
        "escape as tracebacks (pin typer, or catch its new public base)")
    assert main(["verify"]) == 2  # a missing argument: typer's parser raises, main catches
    err = capsys.readouterr().err
    assert "Usage: unveil verify" in err and "Missing argument 'bundle'" in err, err
    assert main(["select", "--context", "c", "--population", "p", "--n", "1", "--bogus"]) == 2  # typer.BadParameter
    assert "coins are given as --reveal VKEY HEX" in capsys.readouterr().err


@pytest.mark.parametrize("module, name", [("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"), ("uvicorn.protocols.http.h11_impl", "H11Protocol")])
def test_uvicorn_protocol_internals_the_connection_watch_reads(module: str, name: str) -> None:
    import asyncio
    import importlib
    import inspect

    protocol = getattr(importlib.import_module(module), name)
    cycle = importlib.import_module(module).RequestResponseCycle
    for hook in ("connection_made", "data_received", "connection_lost", "on_response_complete"):
        assert callable(getattr(protocol, hook, None)), f"uvicorn {name}.{hook} is gone: unveil.api.connections overrides it"
    setup = inspect.getsource(protocol.__init__) + inspect.getsource(protocol.connection_made)
    for attribute in ("self.loop", "self.transport", "self.flow", "self.cycle"):
        assert attribute in setup, f"uvicorn {name} no longer sets {attribute}: unveil.api.connections reads it"
    for attribute in ("self.more_body", "self.response_complete"):
        assert attribute in inspect.getsource(cycle.__init__), f"uvicorn's cycle no longer has {attribute}"
    from uvicorn.protocols.http.flow_control import FlowControl

    assert "self.read_paused" in inspect.getsource(FlowControl.__init__)
    assert issubclass(protocol, asyncio.Protocol)
