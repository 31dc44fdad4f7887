"""Optional parts of unveil and the packages they import (``pip install 'unveil[EXTRA]'``).

A plain ``pip install unveil`` brings only what verifying needs (:mod:`unveil.core`,
``unveil verify``, workspaces). Everything else is an extra, declared in ``pyproject.toml``:

- ``board``: the public board's server, storage and clients (``serve``, ``publish``, ``sync``,
  ``audit``, ``coin``, ``draw``, ``discrepancy``);
- ``geo``: territories, regions and declaration files (``commit``, ``reveal``, ``export``,
  ``--territory`` on ``verify`` and ``accept``);
- ``analytics``: the truth test's optimal matching (``check``, ``confidence``);
- ``all``: every extra (``demo`` needs them all).

:func:`required_extras` turns the :class:`ModuleNotFoundError` of a package that only an extra
brings into :class:`~unveil.errors.MissingExtraError`, which names the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from unveil.errors import MissingExtraError

#: The top-level modules unveil imports from each extra's packages (their own dependencies
#: included where unveil imports them directly).
EXTRAS: dict[str, tuple[str, ...]] = {
    "board": ("fastapi", "starlette", "pydantic", "anyio", "uvicorn", "sqlalchemy", "psycopg", "httpx"),
    "geo": ("shapely", "yaml"),
    "analytics": ("scipy",),
}

_EXTRA_OF = {module: extra for extra, modules in EXTRAS.items() for module in modules}


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
