"""The board's rules for coin draws (spec §7, §8): one :class:`Draw` per context, and the check
and effect of ``coin.committed``, ``coin.revealed`` and ``selection.drawn`` that
:class:`unveil.board.protocol.BoardState` dispatches to (its ``_CHECKS`` and ``_APPLY``).

- The context's first ``coin.committed`` is an inspector's (the inspecting party) and carries
  the population, its hash and ``n``: the draw is fixed before any coin
  (``population-missing``). Every later commitment names that hash and ``n`` and carries no
  population (``population-mismatch``); one commitment per party (``coin-repeat``).
- ``coin.revealed`` only once every draw party's commitment is in (``coin-early``), opening
  the party's commitment (``coin-mismatch``); one per party.
- ``selection.drawn`` only once every party revealed (``selection-early``), once per context
  (``selection-duplicate``), with the seed of the reveals (``selection-invalid``) and exactly
  the logged population's hash and ``n`` and the selection spec §8 computes from them
  (``selection-mismatch``): nobody can log a selection first that the others cannot replace.
- A context belongs to the escrow of its first event (``context-mismatch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unveil.board.parties import INSPECTOR
from unveil.core.reasons import Reason
from unveil.core.selection import coin_commitment, draw_seed, select
from unveil.errors import BoardRefused

if TYPE_CHECKING:
    from unveil.board.events import Event
    from unveil.board.parties import Party
    from unveil.board.protocol import BoardState, BundleLookup, PublishedEscrow

__all__ = [
    "Draw", "apply_coin_committed", "apply_coin_revealed", "apply_selection_drawn",
    "check_coin_committed", "check_coin_revealed", "check_selection_drawn",
]


@dataclass
class Draw:
    """One coin draw (spec §8), opened by its inspecting party's first commitment (``inspector``,
    a statement vkey), which fixed ``population`` and ``n``; commitments and reveals keyed by the
    party's statement vkey (``entries``: the entry index of each, by ``(kind, vkey)``);
    ``selection`` is the logged ``selection.drawn`` body and ``selection_index`` its entry."""

    escrow_id: str
    inspector: str
    population: tuple[str, ...]
    population_sha256: str
    n: int
    commitments: dict[str, bytes] = field(default_factory=dict)
    reveals: dict[str, bytes] = field(default_factory=dict)
    entries: dict[tuple[str, str], int] = field(default_factory=dict)
    selection: dict[str, Any] | None = None
    selection_index: int | None = None


def _draw(state: BoardState, event: Event) -> Draw | None:
    draw = state.draws.get(event.body["context"])
    if draw is not None and draw.escrow_id != event.escrow_id:
        raise BoardRefused(Reason.CONTEXT_MISMATCH, f"context {event.body['context']!r} belongs to escrow {draw.escrow_id!r}")
    return draw


def _missing(state: BoardState, have: dict[str, bytes]) -> list[str]:
    parties = state.parties.draw_parties()
    if not parties:
        return ["(no host or inspector is registered)"]
    return [p.name for p in parties if p.vkey not in have]


def check_coin_committed(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    context, body = event.body["context"], event.body
    draw = _draw(state, event)
    if draw is None:
        if author.role != INSPECTOR or "population" not in body:
            raise BoardRefused(
                Reason.POPULATION_MISSING,
                f"context {context!r} has no logged population: its first coin.committed is the inspecting party's,"
                " carrying the population and n (spec §8)",
            )
        return
    if author.vkey in draw.commitments:
        raise BoardRefused(Reason.COIN_REPEAT, f"{author.name} already committed in context {context!r}: only the first counts")
    if "population" in body:
        raise BoardRefused(Reason.POPULATION_MISMATCH, f"the population of context {context!r} is already logged: a later commitment carries none (spec §8)")
    if body["population_sha256"] != draw.population_sha256 or body["n"] != draw.n:
        raise BoardRefused(
            Reason.POPULATION_MISMATCH,
            f"context {context!r} draws n = {draw.n} of the population {draw.population_sha256}"
            f" ({len(draw.population)} ids); this commitment names n = {body['n']} of {body['population_sha256']}",
        )


def check_coin_revealed(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    context = event.body["context"]
    draw = _draw(state, event)
    if draw is not None and author.vkey in draw.reveals:
        raise BoardRefused(Reason.COIN_REPEAT, f"{author.name} already revealed in context {context!r}: only the first counts")
    missing = _missing(state, draw.commitments if draw else {})
    if missing:
        raise BoardRefused(Reason.COIN_EARLY, f"nobody reveals before every party's commitment is logged; missing: {', '.join(missing)}")
    assert draw is not None
    r = bytes.fromhex(event.body["r"])
    if coin_commitment(context, author.vkey, r) != draw.commitments[author.vkey]:
        raise BoardRefused(Reason.COIN_MISMATCH, f"r does not open {author.name}'s commitment in context {context!r}")


def check_selection_drawn(state: BoardState, event: Event, author: Party, published: PublishedEscrow, _: BundleLookup | None) -> None:
    context, body = event.body["context"], event.body
    draw = _draw(state, event)
    missing = _missing(state, draw.reveals if draw else {})
    if missing:
        raise BoardRefused(Reason.SELECTION_EARLY, f"not every party has revealed in context {context!r}; missing: {', '.join(missing)}")
    assert draw is not None
    if draw.selection is not None:
        raise BoardRefused(Reason.SELECTION_DUPLICATE, f"the selection of context {context!r} is already entry {draw.selection_index}")
    if body["population_sha256"] != draw.population_sha256 or body["n"] != draw.n:
        raise BoardRefused(
            Reason.SELECTION_MISMATCH,
            f"context {context!r} draws n = {draw.n} of the logged population {draw.population_sha256};"
            f" this selection names n = {body['n']} of {body['population_sha256']}",
        )
    seed = draw_seed(context, {p.vkey: draw.reveals[p.vkey] for p in state.parties.draw_parties()})
    if seed.hex() != body["seed"]:
        raise BoardRefused(Reason.SELECTION_INVALID, f"the seed of context {context!r} is {seed.hex()} (spec §8), not {body['seed']}")
    expected = select(draw.population, draw.n, seed)
    if body["selection"] != expected:
        raise BoardRefused(Reason.SELECTION_MISMATCH, f"the selection of context {context!r} is {', '.join(expected)[:2000]} (spec §8), in that order")


def apply_coin_committed(state: BoardState, event: Event, author: Party, index: int) -> None:
    body = event.body
    draw = state.draws.get(body["context"])
    if draw is None:
        draw = Draw(event.escrow_id, author.vkey, tuple(body["population"]), body["population_sha256"], body["n"])
        state.draws[body["context"]] = draw
    draw.commitments[author.vkey] = bytes.fromhex(body["commitment"])
    draw.entries[(event.kind, author.vkey)] = index


def apply_coin_revealed(state: BoardState, event: Event, author: Party, index: int) -> None:
    draw = state.draws[event.body["context"]]
    draw.reveals[author.vkey] = bytes.fromhex(event.body["r"])
    draw.entries[(event.kind, author.vkey)] = index


def apply_selection_drawn(state: BoardState, event: Event, author: Party, index: int) -> None:
    draw = state.draws[event.body["context"]]
    draw.selection, draw.selection_index = dict(event.body), index
