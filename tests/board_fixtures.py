"""Shared by the board storage tests: the board of tests/test_board_core.py, an endless supply
of valid events, and a ``storage_url`` fixture over SQLite and PostgreSQL.

PostgreSQL: ``UNVEIL_TEST_PG_URL`` (default: ``postgresql://postgres@127.0.0.1:5432/test``,
then the same as ``root``). When no server answers, the PostgreSQL cases skip with the reason,
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.test_board_core import (  # noqa: F401  (re-exported for the storage tests)
    BOARD,
    CONTEXT,
    DECL,
    HOST,
    INSPECTOR,
    INSPECTOR_W,
    NOW,
    OBSERVER_W,
    ORIGIN,
    PARTIES,
    R_HOST,
    R_INSPECTOR,
    commit,
    event,
    file_bytes,
    publish,
    reveal_coin,
    reveal_event,
    selection,
)
from unveil.board.log import Log, LogStorage

REPO = Path(__file__).resolve().parent.parent
PG_CANDIDATES = (
    [os.environ["UNVEIL_TEST_PG_URL"]]
    if os.environ.get("UNVEIL_TEST_PG_URL")
    else ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]
)

_pg_url: str | None = None
_pg_error: str | None = None


def open_log(storage: LogStorage, **kwargs: Any) -> Log:
    """The test board's log over ``storage``."""
    return Log.open(storage, ORIGIN, BOARD, PARTIES, lambda: NOW, **kwargs)


PHASE_1 = file_bytes(DECL.bundle("phase-1", [0, 1, 2]))
"""The reveal file of the test escrow's phase 1 (three openings)."""


def publish_with_phase(log: Log) -> None:
    """Log the test escrow and its phase 1 (entries 0 and 1): what :func:`verification` names."""
    log.submit(publish())
    sha = log.put_bundle(PHASE_1)
    log.submit(event("reveal.published", {"phase": "phase-1", "sha256": sha, "openings": 3}))


def verification(i: int) -> dict[str, Any]:
    """The ``i``-th of as many distinct valid events as wanted (after :func:`publish_with_phase`):
    a recorded verification of phase 1 that failed at opening ``i`` (spec §7: a verification
    names the logged file of its phase)."""
    body = {"phase": "phase-1", "sha256": hashlib.sha256(PHASE_1).hexdigest(), "valid": False,
            "problems": [{"index": i, "reason": "cell-mismatch"}]}
    return event("verification.recorded", body, INSPECTOR)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_url() -> str:
    """A PostgreSQL URL that answers; skip (or, under CI=true, fail) when none does."""
    global _pg_url, _pg_error
    if _pg_url is None and _pg_error is None:
        errors = []
        for url in PG_CANDIDATES:
            try:
                with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error as exc:
                errors.append(f"{url}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
                continue
            _pg_url = url
            break
        else:
            _pg_error = "; ".join(errors)
    if _pg_url is None:
        message = f"no PostgreSQL server answers ({_pg_error}); set UNVEIL_TEST_PG_URL to test that backend"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    return _pg_url


def pg_execute(url: str, sql: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``sqlite:///…/board.db`` in ``tmp_path``, or a PostgreSQL URL with a fresh random
    schema (``?schema=…``), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'board.db'}"
        return
    base = postgres_url()
    schema = "unveil_test_" + secrets.token_hex(6)
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        pg_execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
