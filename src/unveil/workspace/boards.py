"""Reaching a public board (spec §11): the HTTP client a party's board-side services
(:mod:`.publish`, :mod:`.sync`, :mod:`.audit`, :mod:`.coins`, :mod:`.findings`,
:mod:`.checkpoints`) talk to, so that commands name a board by its URL and never reach into
:mod:`unveil.store` themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from unveil.board.events import make_event
from unveil.core.encoding import format_time
from unveil.core.reasons import Reason
from unveil.errors import BoardError

if TYPE_CHECKING:
    from unveil.store.board_client import BoardClient
    from unveil.workspace.workspace import Workspace

RETRIES = 3
"""How many times :func:`post_event` re-dates an event the board refused as ``statement-conflict``."""


def connect(url: str) -> BoardClient:
    """The client of the board at ``url`` (a context manager: ``with connect(url) as client``)."""
    from unveil.store.board_client import BoardClient

    return BoardClient(url)


def post_event(ws: Workspace, client: BoardClient, kind: str, escrow_id: str, body: dict[str, Any], now: datetime) -> tuple[int, bool]:
    """Sign and log one event of this party at ``now``; its index and whether this call added it
    (``False``: the same event was logged already, byte for byte). A statement names no author
    (spec §12), so another party's identical event of the same second is a
    ``statement-conflict``: the event is signed again a second later, up to :data:`RETRIES` times."""
    key = ws.statement_key()
    attempt = 0
    while True:
        envelope = make_event(kind, escrow_id, format_time(now + timedelta(seconds=attempt)), body, [key])
        try:
            receipt = client.submit(envelope)
            return receipt.index, receipt.created
        except BoardError as exc:
            if exc.reason != Reason.STATEMENT_CONFLICT or attempt == RETRIES:
                raise
        attempt += 1
