"""Optional parts of unveil and the packages they import (``pip install 'unveil[EXTRA]'``).

A plain ``pip install unveil`` brings only what verifying needs (:mod:`unveil.core`,
``unveil verify``, workspaces). Everything else is an extra, declared in ``pyproject.toml``:

- ``board``: the public board's server, storage and clients (``serve``, ``publish``, ``sync``,
  ``audit``, ``coin``, ``draw``, ``discrepancy``, ``agreement``, ``item``, ``access``, and
  ``checkpoint compare --board``);
- ``geo``: territories, regions, declaration and agreement files (``commit``, ``reveal``,
  ``export``, ``agreement``, ``--territory`` on ``verify`` and ``accept``);
- ``analytics``: the truth test's optimal matching (``check``, ``confidence``) and material
  accountancy's normal quantiles (``material``);
- ``simulation``: the regime simulator, its plots and its Dask cluster runs (``simulate``);
- ``report``: reports and plots (``report``, ``ui`` with ``board``, ``material balance --plot``);
- ``pdf``: a report as PDF, rendered by the system's Chromium through Playwright (``report
  --pdf``, checked only when asked);
- ``all``: every extra (``demo`` needs them all but ``pdf``: it prints the PDF only when it can).

:func:`required_extras` turns the :class:`ModuleNotFoundError` of a package that only an extra
brings into :class:`~unveil.errors.MissingExtraError`, which names the extra to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from unveil.errors import MissingExtraError

#: The top-level modules unveil imports from each extra's packages (their own dependencies
#: included where unveil imports them directly).
EXTRAS: dict[str, tuple[str, ...]] = {
    "board": ("fastapi", "starlette", "pydantic", "anyio", "uvicorn", "sqlalchemy", "psycopg", "httpx"),
    "geo": ("shapely", "yaml"),
    "analytics": ("scipy",),
    "simulation": ("dask", "distributed", "matplotlib"),
    "report": ("jinja2", "matplotlib"),
    "pdf": ("playwright",),
}

_EXTRA_OF = {module: extra for extra, modules in reversed(EXTRAS.items()) for module in modules}
"""A module two extras bring (matplotlib) is named by the first."""

#: The extras each command needs whatever its options (``verify --territory`` needs ``geo``
#: only with that option: its import is caught by :func:`required_extras`).
COMMAND_EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": ("board",), "publish": ("board",), "sync": ("board",), "audit": ("board",),
    "coin": ("board",), "draw": ("board",), "discrepancy": ("board",), "agreement": ("board", "geo"), "item": ("board",),
    "access": ("board",),
    "commit": ("geo",), "reveal": ("geo",), "export": ("geo",),
    "check": ("analytics",), "confidence": ("analytics",), "material": ("analytics",),
    "report": ("report",), "ui": ("board", "report"),
    "demo": tuple(extra for extra in EXTRAS if extra != "pdf"),
}


def require(*extras: str) -> None:
    """Raise :class:`MissingExtraError` for the first package of ``extras`` not installed, before
    a command reads any input (so the user learns what to install, not that a file is missing)."""
    for extra in extras:
        for module in EXTRAS[extra]:
            try:
                found = importlib.util.find_spec(module)
            except (ModuleNotFoundError, ValueError):  # a finder that refuses it, or a broken module
                found = None
            if found is None:
                raise MissingExtraError(extra, module)


def extra_for(module: str | None) -> str | None:
    """The extra whose packages provide ``module`` (a dotted name), or None."""
    if not module:
        return None
    return _EXTRA_OF.get(module.partition(".")[0])


@contextmanager
def required_extras() -> Iterator[None]:
    """Raise :class:`MissingExtraError` for an extra-only package missing inside the block."""
    try:
        yield
    except ModuleNotFoundError as exc:
        extra = extra_for(exc.name)
        if extra is None:
            raise
        raise MissingExtraError(extra, exc.name or "") from exc
