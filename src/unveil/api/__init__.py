"""The board's HTTP API (spec §7): :func:`create_app` over a :class:`~unveil.board.log.Log`,
and :func:`~unveil.api.serve.serve` (``unveil serve``) to run it under uvicorn.

- :mod:`.app`    the FastAPI application: endpoints, group commit
- :mod:`.errors` the one mapping of errors to HTTP statuses and bodies
- :mod:`.serve`  open the key, parties and storage; run one uvicorn worker
"""

from unveil.api.app import PAGE_MAX, create_app

__all__ = ["PAGE_MAX", "create_app"]
