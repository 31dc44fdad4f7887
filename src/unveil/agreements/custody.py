"""Every declared item's chain of custody under an agreement (spec §12 "Items").

Every serial of every opened cell of the escrow (spec §2: an item's ``serials``) is an item, in
exactly one of the agreement's steps: the first step from the effective time its cell opened
(even if the agreement came later), then one step on at each ``item.moved``. :class:`Custody`
holds them for one escrow, with their history, so every view at a time ``T`` (``--at``) reads
the same state from the same log:

- :meth:`Custody.check_move` / :meth:`Custody.move`: a move goes to the step right after the
  item's current one (``step-unknown``, ``step-skipped``, ``step-invalid``; an unknown serial
  is ``custody-gap``). A move out of a step that no inspecting party witnessed the item at is
  accepted and marked (``unwitnessed-transition``), except out of the first step: the escrow
  is the evidence there;
- :meth:`Custody.check_witness` / :meth:`Custody.witness`: a witness is of the item's current
  step (``step-unknown``, ``step-mismatch``);
- :meth:`Custody.counts`, :meth:`Custody.counts_by_category`, :meth:`Custody.problems`: the
  status at a time (every step listed, zeros included);
- :meth:`Custody.reached`, :meth:`Custody.reached_count`: when items first stood at a step or
  a later one, what a ``move-items`` obligation is verified by (the ``ItemClock`` of
  :mod:`unveil.agreements.obligations`).

Times are effective times (spec §12), unix seconds, never decreasing in the order the events
are given. A pure library: the board (:mod:`unveil.board.custody`), an audit and ``status``
feed it the same events in log order. The checks raise :class:`~unveil.errors.BoardRefused`,
the refusal every reader of the log applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from unveil.core.reasons import Reason
from unveil.errors import BoardRefused

__all__ = ["Custody", "Item", "Transition"]


@dataclass(frozen=True)
class Transition:
    """One accepted move of an item: out of step ``src`` into step ``dst`` (indexes into the
    agreement's steps) at effective time ``time``; ``witnessed`` whether an inspecting party
    witnessed the item at ``src`` before (always true out of the first step)."""

    src: int
    dst: int
    time: int
    witnessed: bool
    site: str | None = None


@dataclass
class Item:
    """One serial-bearing item (spec §2): where it was declared, when its cell opened
    (``opened``, an effective time), its moves, and when it was first witnessed at each step
    (step index → effective time)."""

    serial: str
    category: str
    site: str
    cell: str
    opened: int
    moves: list[Transition] = field(default_factory=list)
    witnessed: dict[int, int] = field(default_factory=dict)
    assumed: bool = False
    """Entered by a replay that could not read the reveal files (:meth:`Custody.check_move`'s
    ``assume``): its category, site and cell are unknown (``""``) until its cell is opened."""

    def step_at(self, at: int | None = None) -> int | None:
        """The index of the item's step at time ``at`` (default: now); ``None`` before its cell opened."""
        if at is not None and self.opened > at:
            return None
        step = 0
        for move in self.moves:
            if at is not None and move.time > at:
                break
            step = move.dst
        return step

    def reached(self, step: int) -> int | None:
        """The effective time the item first stood at ``step`` or a later one, or ``None``."""
        if step <= 0:
            return self.opened
        return next((move.time for move in self.moves if move.dst >= step), None)


class Custody:
    """The items of one escrow under an agreement with ``steps`` (spec §12)."""

    def __init__(self, steps: Sequence[str]):
        if len(steps) < 2 or len(set(steps)) != len(steps):
            raise ValueError("an agreement has at least two steps, no repeats (spec §12)")
        self.steps = tuple(steps)
        self._index = {step: i for i, step in enumerate(self.steps)}
        self.items: dict[str, Item] = {}  # serial -> item, in the order their cells opened
        self.log: list[tuple[str, Transition]] = []  # every accepted move, in log order

    # --- opening ---------------------------------------------------------------------------------

    def open(self, serial: str, category: str, site: str, cell: str, time: int) -> bool:
        """Record a serial of an opened cell at the first step (effective time ``time``); a
        serial already held (its cell opened again in a later phase) keeps its place. Returns
        whether it is new."""
        held = self.items.get(serial)
        if held is not None and held.assumed:
            held.category, held.site, held.cell, held.assumed = category, site, cell, False
            held.opened = min(held.opened, time)
        if held is not None:
            return False
        self.items[serial] = Item(serial, category, site, cell, time)
        return True

    def open_content(self, content: dict[str, object], time: int) -> int:
        """:meth:`open` every serial of one opened cell's content (spec §2, as a bundle holds
        it, already checked); returns how many are new."""
        new = 0
        cell = str(content["cell"])
        for site in content.get("sites", ()):  # type: ignore[attr-defined]
            for item in site["items"]:
                for serial in item.get("serials", ()):
                    new += self.open(serial, item["category"], site["id"], cell, time)
        return new

    # --- the board's checks and effects ----------------------------------------------------------

    def step_index(self, step: str) -> int:
        """The index of ``step`` among the agreement's steps (``step-unknown`` if none)."""
        found = self._index.get(step)
        if found is None:
            raise BoardRefused(Reason.STEP_UNKNOWN, f"{step[:80]!r} is not a step of the agreement ({', '.join(self.steps)})")
        return found

    def item(self, serial: str, assume: bool = False) -> Item:
        """The item with ``serial`` (``custody-gap``: no opened cell of the escrow declares it).
        With ``assume`` (a replay that cannot read every opened cell) an unknown serial is taken
        to be an unmoved item, not entered (:meth:`enter`)."""
        found = self.items.get(serial)
        if found is None and assume:
            return Item(serial, "", "", "", 0, assumed=True)
        if found is None:
            raise BoardRefused(Reason.CUSTODY_GAP, f"serial {serial[:80]!r} is declared in no opened cell of the escrow (spec §12)")
        return found

    def enter(self, serial: str, time: int) -> Item:
        """The item with ``serial``, entered unmoved at ``time`` if unknown (``assumed``)."""
        if serial not in self.items:
            self.items[serial] = Item(serial, "", "", "", time, assumed=True)
        return self.items[serial]

    def check_move(self, serial: str, to: str, assume: bool = False) -> None:
        """Refuse a move of ``serial`` to step ``to`` unless it goes to the step right after the
        item's current one (spec §12; ``assume``: see :meth:`item`). Changes nothing."""
        item = self.item(serial, assume)
        dst = self.step_index(to)
        src = item.step_at()
        assert src is not None
        if dst == src + 1:
            return
        here = self.steps[src]
        if dst > src:
            raise BoardRefused(Reason.STEP_SKIPPED, f"serial {serial!r} is at {here!r}: it moves to {self.steps[src + 1]!r} first, not {to!r}")
        raise BoardRefused(Reason.STEP_INVALID, f"serial {serial!r} is at {here!r}: {to!r} is not later (a move goes one step on)")

    def move(self, serial: str, to: str, time: int, site: str | None = None, assume: bool = False) -> Transition:
        """Record a move :meth:`check_move` accepted, at effective time ``time``; the transition
        says whether the step it leaves was witnessed (spec §12: else it is marked). With
        ``assume``, an unknown serial is entered first (:meth:`enter`)."""
        self.check_move(serial, to, assume)
        item = self.enter(serial, time) if assume else self.items[serial]
        src = item.step_at()
        assert src is not None
        done = Transition(src, src + 1, time, src == 0 or src in item.witnessed, site)
        item.moves.append(done)
        self.log.append((serial, done))
        return done

    def check_witness(self, serial: str, step: str, assume: bool = False) -> None:
        """Refuse a witness of ``serial`` at ``step`` unless that is its current step (``assume``:
        see :meth:`item`). Changes nothing."""
        item = self.item(serial, assume)
        index = self.step_index(step)
        now = item.step_at()
        assert now is not None
        if index != now:
            raise BoardRefused(Reason.STEP_MISMATCH, f"serial {serial!r} is at {self.steps[now]!r}, not {step!r}")

    def witness(self, serial: str, step: str, time: int, assume: bool = False) -> None:
        """Record a witness :meth:`check_witness` accepted (the first one at a step counts;
        ``assume``: see :meth:`move`)."""
        self.check_witness(serial, step, assume)
        item = self.enter(serial, time) if assume else self.items[serial]
        item.witnessed.setdefault(self._index[step], time)

    # --- views at a time -------------------------------------------------------------------------

    def step_of(self, serial: str, at: int | None = None) -> str | None:
        """The step of ``serial`` at time ``at`` (default: now), or ``None`` if the log does not know it then."""
        item = self.items.get(serial)
        index = item.step_at(at) if item is not None else None
        return None if index is None else self.steps[index]

    def witnessed(self, serial: str, at: int | None = None) -> bool:
        """Whether an inspecting party witnessed ``serial`` at its current step (as of ``at``)."""
        item = self.items.get(serial)
        index = item.step_at(at) if item is not None else None
        if item is None or index is None:
            return False
        when = item.witnessed.get(index)
        return when is not None and (at is None or when <= at)

    def counts(self, at: int | None = None) -> dict[str, int]:
        """Items per step at time ``at`` (every step, zeros included; spec §12 ``items``)."""
        found = dict.fromkeys(self.steps, 0)
        for item in self.items.values():
            index = item.step_at(at)
            if index is not None:
                found[self.steps[index]] += 1
        return found

    def counts_by_category(self, at: int | None = None) -> dict[str, dict[str, int]]:
        """Items per category and step at time ``at`` (``items_by_category``; every step of each
        category with an item, zeros included), categories in ascending order."""
        found: dict[str, dict[str, int]] = {}
        for item in self.items.values():
            index = item.step_at(at)
            if index is not None:
                found.setdefault(item.category, dict.fromkeys(self.steps, 0))[self.steps[index]] += 1
        return dict(sorted(found.items()))

    def problems(self, at: int | None = None) -> list[dict[str, str]]:
        """``unwitnessed-transition`` for each move out of an unwitnessed step up to ``at``, in
        the order they were logged (spec §12 "Problems")."""
        return [
            {"reason": str(Reason.UNWITNESSED_TRANSITION), "serial": serial,
             "detail": f"serial {serial} moved from {self.steps[move.src]} to {self.steps[move.dst]}"
                       f" without an inspecting party's witness of {self.steps[move.src]}"}
            for serial, move in self.log
            if not move.witnessed and (at is None or move.time <= at)
        ]

    # --- the obligations' clock ------------------------------------------------------------------

    def reached(self, serial: str, step: str) -> int | None:
        """The effective time ``serial`` first stood at ``step`` or a later one; ``None`` if it has
        not (yet), or the log does not know it, or ``step`` is none of the agreement's."""
        item = self.items.get(serial)
        index = self._index.get(step)
        return None if item is None or index is None else item.reached(index)

    def reached_count(self, category: str, count: int, step: str) -> int | None:
        """The effective time the ``count``-th item of ``category`` first stood at ``step`` or a
        later one (items never move back, so from then on at least ``count`` have); ``None`` if
        fewer have so far."""
        index = self._index.get(step)
        if index is None or count < 1:
            return None
        times = sorted(t for t in (item.reached(index) for item in self.items.values() if item.category == category) if t is not None)
        return times[count - 1] if len(times) >= count else None
