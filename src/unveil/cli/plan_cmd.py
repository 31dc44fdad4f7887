"""``unveil plan`` and ``unveil select``: inspection planning and offline draw recomputation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unveil.cli.edge import Done, run
from unveil.cli.files import read_bytes
from unveil.errors import MalformedInputError


def plan(population: str, falsified: str | None, goal_quantity: str | None, item_size: str | None, detection: str, as_json: bool) -> int:
    def action() -> Done:
        from unveil.analytics.planning import falsified_from_goal
        from unveil.analytics.planning import plan as make_plan

        try:
            if (falsified is None) == (goal_quantity is None and item_size is None):
                raise MalformedInputError("give --falsified M, or --goal-quantity Q with --item-size X", where="--falsified")
            m: int | str
            if falsified is None:
                if goal_quantity is None or item_size is None:
                    raise MalformedInputError("--goal-quantity and --item-size go together", where="--goal-quantity")
                m = falsified_from_goal(goal_quantity, item_size)
            else:
                m = int(falsified) if falsified.isascii() and falsified.isdigit() else falsified  # "²".isdigit() too
            result: dict[str, Any] = make_plan(population, m, detection).to_json()
        except ValueError as exc:
            name = str(exc).split(" ", 1)[0].split(":", 1)[0]
            raise MalformedInputError(str(exc), where=f"--{name}") from None

        def show() -> None:
            from unveil.cli.output import say

            say(f"inspect [bold]{result['n']}[/] of {result['population']} items to detect at least one of "
                f"{result['falsified']} falsified with probability ≥ {result['detection_target']}")
            say(f"exact detection probability {result['detection_probability']:.6f} ({result['detection_probability_exact'][:60]}); "
                f"the usual approximation N(1 − (1 − P)^(1/M)) gives {result['approximation']:.2f}")

        return Done(result, show)

    return run(as_json, action)


def select(context: str, reveals: list[tuple[str, str]], population: Path, n: int, as_json: bool) -> int:
    def action() -> Done:
        from unveil.core import selection
        from unveil.core.encoding import is_id

        if not is_id(context):
            raise MalformedInputError(f"{context!r} is not an id", where="--context")
        rs: dict[str, bytes] = {}
        for vkey, hex_r in reveals:
            try:
                value = bytes.fromhex(hex_r)
            except ValueError:
                raise MalformedInputError(f"{hex_r[:70]!r} is not hex", where="--reveal") from None
            if len(value) != 32 or value.hex() != hex_r:
                raise MalformedInputError("r must be 32 bytes as 64 lowercase hex digits (spec §8)", where="--reveal")
            if vkey in rs:
                raise MalformedInputError(f"two reveals for {vkey}", where="--reveal")
            rs[vkey] = value
        if not rs:
            raise MalformedInputError("at least one --reveal VKEY HEX is needed", where="--reveal")
        text = read_bytes(population, "population").decode("utf-8", errors="strict")
        ids = [line.strip() for line in text.splitlines() if line.strip()]
        dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        if dupes:
            raise MalformedInputError(f"duplicate id {dupes[0]!r}", source=str(population))
        ids.sort(key=lambda s: s.encode("utf-8"))
        try:
            seed = selection.draw_seed(context, rs)
            chosen = selection.select(ids, n, seed)
        except (ValueError, MalformedInputError) as exc:
            raise MalformedInputError(str(exc), where="--population/--n") from None
        result = {"context": context, "seed": seed.hex(), "population_sha256": selection.population_sha256(ids).hex(),
                  "n": n, "selection": chosen}

        def show() -> None:
            from unveil.cli.output import say

            say(f"seed {result['seed']}")
            say("selection: " + ", ".join(chosen))

        return Done(result, show)

    return run(as_json, action)
