"""The board's HTTP API (spec §11): :func:`create_app` over a :class:`~unveil.board.log.Log`,
and :func:`~unveil.api.serve.serve` (``unveil serve``) to run it under uvicorn. The modules,
one concern each, are listed in :mod:`unveil.api.app`."""

from unveil.api.app import create_app
from unveil.api.board import PAGE_BYTES, PAGE_MAX

__all__ = ["PAGE_BYTES", "PAGE_MAX", "create_app"]
