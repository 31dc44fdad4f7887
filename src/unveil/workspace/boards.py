"""Reaching a public board (spec §11): the HTTP client a party's board-side services
(:mod:`.publish`, :mod:`.sync`, :mod:`.audit`, :mod:`.coins`, :mod:`.findings`,
:mod:`.checkpoints`) talk to, so that commands name a board by its URL and never reach into
:mod:`unveil.store` themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient


def connect(url: str) -> BoardClient:
    """The client of the board at ``url`` (a context manager: ``with connect(url) as client``)."""
    from unveil.store.board_client import BoardClient

    return BoardClient(url)
