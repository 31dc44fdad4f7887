"""Access requests under an agreement and their states at a time (spec §12 "Access states").

An inspecting party requests access to a site or a cell (``access.requested``); the escrow's
host grants (``access.granted``) or refuses (``access.refused``) it. The agreement's deadlines
run from the request's effective time: unanswered past ``delayed`` seconds it is ``delayed``,
past ``refused`` seconds it is ``refused``. :class:`AccessBook` holds one escrow's requests:

- :meth:`AccessBook.check_request`: one request per id (``access-duplicate``);
- :meth:`AccessBook.check_answer`: the request exists (``access-unknown``) and is unanswered
  (``access-answered``); a grant after the refusal deadline is ``access-expired`` (the request
  already counts as refused);
- :meth:`AccessBook.state`, :meth:`AccessBook.views`, :meth:`AccessBook.problems`: at time
  ``T`` (``--at``), ``granted`` (by a grant no later than the delay deadline),
  ``granted-late`` (a later grant), ``refused`` (a refusal, or unanswered past the refusal
  deadline), ``delayed`` (unanswered past the delay deadline), else ``requested``; a
  ``delayed`` or ``refused`` request's site or cell counts as not inspected (:meth:`AccessBook.withheld`).

A deadline is passed when ``T`` is later than it ("past"): at the deadline itself the request
is not yet delayed or refused, and a grant then is on time. Times are effective times (spec
§12), unix seconds. A pure library: the board (:mod:`unveil.board.access`), an audit and
``status`` feed it the same events in log order.
"""

from __future__ import annotations

from dataclasses import dataclass

from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["GRANTED", "GRANTED_LATE", "REFUSED", "DELAYED", "REQUESTED", "STATES", "AccessBook", "Request"]

GRANTED = "granted"
GRANTED_LATE = "granted-late"
REFUSED = "refused"
DELAYED = "delayed"
REQUESTED = "requested"
STATES = (GRANTED, GRANTED_LATE, REFUSED, DELAYED, REQUESTED)
"""Every access state (spec §12)."""


@dataclass
class Request:
    """One logged request: its id, target (exactly one of ``site`` and ``cell``), author, the
    effective time it was logged, and its answer once logged (``granted``: True for a grant,
    ``answered``: the answer's effective time, ``reason``: a refusal's reason)."""

    id: str
    site: str | None
    cell: str | None
    requested_by: str
    time: int
    granted: bool | None = None
    answered: int | None = None
    reason: str | None = None


class AccessBook:
    """One escrow's access requests under an agreement whose access deadlines are ``delayed``
    and ``refused`` seconds (spec §12; ``delayed`` < ``refused``)."""

    def __init__(self, delayed: int, refused: int):
        if not 0 < delayed < refused:
            raise ValueError("access deadlines: 0 < delayed < refused (spec §12)")
        self.delayed = delayed
        self.refused = refused
        self.requests: dict[str, Request] = {}  # id -> request, in log order

    # --- the board's checks and effects ----------------------------------------------------------

    def check_request(self, id: str) -> None:
        """Refuse a second request with ``id`` (``access-duplicate``). Changes nothing."""
        if id in self.requests:
            raise BoardRefused(Reason.ACCESS_DUPLICATE, f"access request {id!r} is already logged for this escrow")

    def request(self, id: str, site: str | None, cell: str | None, requested_by: str, time: int) -> Request:
        """Record a request :meth:`check_request` accepted, at effective time ``time``."""
        self.check_request(id)
        if (site is None) == (cell is None):
            raise ValueError("a request names exactly one of site and cell")
        made = self.requests[id] = Request(id, site, cell, requested_by, time)
        return made

    def check_answer(self, id: str, grant: bool, time: int) -> None:
        """Refuse an answer to request ``id`` at effective time ``time`` unless the request is
        logged (``access-unknown``) and unanswered (``access-answered``), and, for a grant, no
        later than its refusal deadline (``access-expired``). Changes nothing."""
        found = self.requests.get(id)
        if found is None:
            raise BoardRefused(Reason.ACCESS_UNKNOWN, f"no access request {id[:80]!r} is logged for this escrow")
        if found.answered is not None:
            what = "granted" if found.granted else "refused"
            raise BoardRefused(Reason.ACCESS_ANSWERED, f"access request {id!r} is already {what}")
        if grant and time > found.time + self.refused:
            raise BoardRefused(
                Reason.ACCESS_EXPIRED,
                f"access request {id!r} counts as refused since {found.time + self.refused} (unix seconds):"
                f" a grant at {time} comes after its refusal deadline",
            )

    def answer(self, id: str, grant: bool, time: int, reason: str | None = None) -> Request:
        """Record an answer :meth:`check_answer` accepted (``reason``: a refusal's)."""
        self.check_answer(id, grant, time)
        found = self.requests[id]
        found.granted, found.answered, found.reason = grant, time, reason
        return found

    # --- views at a time -------------------------------------------------------------------------

    def state(self, id: str, at: int) -> str | None:
        """The state of request ``id`` at time ``at``; ``None`` if it is not logged by then."""
        found = self.requests.get(id)
        if found is None or found.time > at:
            return None
        if found.answered is not None and found.answered <= at:
            if not found.granted:
                return REFUSED
            return GRANTED if found.answered <= found.time + self.delayed else GRANTED_LATE
        if at > found.time + self.refused:
            return REFUSED
        if at > found.time + self.delayed:
            return DELAYED
        return REQUESTED

    def views(self, at: int) -> list[dict[str, object]]:
        """Every request logged by ``at``, in log order: ``{"id", "state", "site", "cell"}``."""
        return [
            {"id": r.id, "state": state, "site": r.site, "cell": r.cell}
            for r in self.requests.values()
            if (state := self.state(r.id, at)) is not None
        ]

    def problems(self, at: int) -> list[dict[str, str]]:
        """``access-delayed`` / ``access-refused`` for each request in that state at ``at``."""
        found = []
        for view in self.views(at):
            target = f"site {view['site']}" if view["site"] is not None else f"cell {view['cell']}"
            request = self.requests[str(view["id"])]
            if view["state"] == DELAYED:
                found.append({"reason": str(Reason.ACCESS_DELAYED),
                              "detail": f"access request {view['id']} ({target}) is unanswered past its delay deadline"})
            elif view["state"] == REFUSED:
                why = f"refused: {request.reason}" if request.answered is not None and request.answered <= at else "unanswered past its refusal deadline"
                found.append({"reason": str(Reason.ACCESS_REFUSED), "detail": f"access request {view['id']} ({target}) is {why}"})
        return found

    def withheld(self, at: int) -> tuple[set[str], set[str]]:
        """The sites and cells of the requests ``delayed`` or ``refused`` at ``at``: they count
        as not inspected, never cleared (spec §12)."""
        sites: set[str] = set()
        cells: set[str] = set()
        for r in self.requests.values():
            if self.state(r.id, at) in (DELAYED, REFUSED):
                if r.site is not None:
                    sites.add(r.site)
                if r.cell is not None:
                    cells.add(r.cell)
        return sites, cells
