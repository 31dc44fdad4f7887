"""Material balances as a workspace sees them (``unveil material balance``; spec §13,
docs/material.md): from a balance file, or from the declarations a workspace has recorded.

With a workspace, each declaration escrow it recorded is one physical inventory taking, dated
by the escrow's ``created`` time: its inventory of a fissile category is the sum of that
category's items over the cells opened so far, phase by phase (as the recorded reveals opened
them). A declaration counts as an inventory once every cell is open; period t runs from the
(t−1)-th complete declaration to the t-th and is named by the escrow id that closes it.
Receipts and shipments come from a flows file (spec §13) whose periods are those escrow ids.
Each measurement's σ is a relative σ of its quantity from :data:`DEFAULT_UNCERTAINTIES`, or
from a file that overrides rows of it; a flows row may give its own σ.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from unveil.core.escrow import parse_escrow
from unveil.core.jsonparse import loads
from unveil.core.quantities import exact_sum
from unveil.errors import Location, MalformedInputError
from unveil.material.balance import Measured, read_balance
from unveil.material.csvfile import read_rows
from unveil.material.evaluation import balance as evaluate_balance
from unveil.store import workspace_queries as q
from unveil.workspace.workspace import open_workspace

DEFAULT_UNCERTAINTIES: dict[tuple[str, str], tuple[float, float]] = {
    (category, kind): (0.005, 0.003)
    for category in ("plutonium", "heu") for kind in ("inventory", "receipt", "shipment")
}
"""(category, measurement kind) → (relative random σ, relative systematic σ): 0.5 % and 0.3 %
of the quantity, of the order of the International Target Values for weighing and assaying
bulk plutonium and HEU (IAEA STR-368, 2010). Illustrative: replace them with the measurement
systems' own (``--uncertainties FILE``)."""
UNCERTAINTY_COLUMNS = ("category", "kind", "relative_random", "relative_systematic")
FLOW_KINDS = ("receipt", "shipment")


def _read(path: Path, what: str) -> bytes:
    from unveil.material.csvfile import MAX_BYTES

    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise MalformedInputError(f"{what} not found", source=str(path)) from None
    except IsADirectoryError:
        raise MalformedInputError(f"{what} is a directory, not a file", source=str(path)) from None
    except OSError as exc:
        raise MalformedInputError(f"{what} cannot be read: {exc.strerror or exc}", source=str(path)) from None


def balance_file(path: Path, **options: Any) -> dict[str, Any]:
    """``balance FILE``: the file's evaluation (:func:`unveil.material.evaluation.balance`)."""
    rows = read_balance(_read(path, "balance file"), source=str(path))
    return evaluate_balance(rows, **options)


def read_uncertainties(data: bytes, *, source: str) -> dict[tuple[str, str], tuple[float, float]]:
    """An uncertainty table file (spec §13) over the default table."""
    table = dict(DEFAULT_UNCERTAINTIES)
    seen: dict[tuple[str, str], int] = {}
    for row in read_rows(data, source=source, columns=UNCERTAINTY_COLUMNS):
        try:
            category, kind = row.ident("category"), row.cells["kind"]
            if kind not in ("inventory", *FLOW_KINDS):
                raise MalformedInputError(f"kind {kind[:40]!r} is not one of inventory, receipt, shipment", where=row.at("kind"))
            if (category, kind) in seen:
                raise MalformedInputError(f"{category} {kind} appears twice (first on line {seen[category, kind]})", where=row.at("kind"))
            seen[category, kind] = row.line
            table[category, kind] = (row.number("relative_random"), row.number("relative_systematic"))
        except MalformedInputError as exc:
            raise exc.within(source) from None
    return table


def declarations(workspace: Path, categories: set[str]) -> list[dict[str, Any]]:
    """Every declaration escrow the workspace recorded, by ``created`` time: its cells, cells
    opened, and per phase (in recorded order) the kilograms of each category it opened."""
    ws = open_workspace(workspace)
    found = []
    with ws.connect() as db:
        for escrow_id in q.escrow_ids(db):
            row = q.escrow(db, escrow_id)
            if row is None:
                continue
            escrow = parse_escrow(loads(row.escrow_json)["statement"])
            per_phase: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
            opened = 0
            for _, phase, text in q.opened_rows(db, escrow_id):
                opened += 1
                for site in loads(text).get("sites", ()):
                    for item in site["items"]:
                        if item["category"] in categories and item["unit"] == "kg":
                            per_phase[phase][item["category"]].append(item["quantity"])
            phases = []
            running: dict[str, Any] = defaultdict(int)
            for p in q.phases(db, escrow_id):
                sums = {c: exact_sum(v) for c, v in sorted(per_phase.get(p.phase, {}).items())}
                for c, v in sums.items():
                    running[c] = running[c] + v
                phases.append({"phase": p.phase, "recorded": p.recorded, "opened_kg": {c: float(v) for c, v in sums.items()}})
            found.append({"escrow_id": escrow_id, "created": escrow.created, "cells": escrow.tree_size, "opened": opened,
                          "complete": opened == escrow.tree_size, "phases": phases,
                          "inventory_kg": {c: float(v) for c, v in sorted(running.items())}})
    return sorted(found, key=lambda d: (d["created"], d["escrow_id"]))


def balance_workspace(workspace: Path, flows: Path | None = None, uncertainties: Path | None = None, **options: Any) -> dict[str, Any]:
    """``balance --workspace W [--flows FILE] [--uncertainties FILE]``: the evaluation of the
    inventories the workspace's complete declarations give, with the flows between them, plus
    ``declarations`` (:func:`declarations`) and the ``uncertainties`` table used."""
    table = DEFAULT_UNCERTAINTIES if uncertainties is None else read_uncertainties(
        _read(uncertainties, "uncertainty table"), source=str(uncertainties))
    categories = {category for category, _ in table}
    found = declarations(workspace, categories)
    complete = [d for d in found if d["complete"]]
    if len(complete) < 2:
        raise MalformedInputError(
            f"a balance needs two declarations with every cell open (begin and end inventories); this workspace has "
            f"{len(complete)} of {len(found)}", source=str(workspace))
    closing = [d["escrow_id"] for d in complete[1:]]
    flow_rows = [] if flows is None else read_balance(_read(flows, "flows file"), source=str(flows), kinds=FLOW_KINDS, blank_sigma=True)
    by_period: dict[str, list[Measured]] = defaultdict(list)
    for m in flow_rows:
        if m.period not in closing:
            raise MalformedInputError(
                f"period {m.period} is not a declaration closing a period here (one of {', '.join(closing)})",
                source=m.source, where=Location(line=m.line, label="column", path=("period",)))
        by_period[m.period].append(_with_sigma(m, table))
    used = {c for d in complete for c in d["inventory_kg"]} | {m.category for m in flow_rows}
    rows: list[Measured] = []
    for t, period in enumerate(closing):
        for category in sorted(used):
            if t == 0:
                rows.append(_inventory(period, category, "begin", complete[0], table))
            rows += [m for m in by_period[period] if m.category == category]
            rows.append(_inventory(period, category, "end", complete[t + 1], table))
    result = evaluate_balance(rows, **options)
    result["declarations"] = found
    result["uncertainties"] = [{"category": c, "kind": k, "relative_random": r, "relative_systematic": s}
                               for (c, k), (r, s) in sorted(table.items())]
    return result


def _relative(table: dict[tuple[str, str], tuple[float, float]], category: str, kind: str,
              source: str | None = None, where: str | Location = "--uncertainties") -> tuple[float, float]:
    if (category, kind) not in table:
        raise MalformedInputError(f"no uncertainty for {category} {kind}: give it in an uncertainty table (--uncertainties)",
                                  source=source, where=where)
    return table[category, kind]


def _inventory(period: str, category: str, kind: str, declaration: dict[str, Any],
               table: dict[tuple[str, str], tuple[float, float]]) -> Measured:
    quantity = declaration["inventory_kg"].get(category, 0.0)
    r, s = _relative(table, category, "inventory")
    return Measured(period, category, kind, quantity, r * quantity, s * quantity, 0, declaration["escrow_id"])


def _with_sigma(m: Measured, table: dict[tuple[str, str], tuple[float, float]]) -> Measured:
    random, systematic = m.sigma_random, m.sigma_systematic
    if math.isnan(random) or math.isnan(systematic):
        r, s = _relative(table, m.category, m.kind, m.source, Location(line=m.line, label="column", path=("sigma_random",)))
        random = r * m.quantity if math.isnan(random) else random
        systematic = s * m.quantity if math.isnan(systematic) else systematic
    return Measured(m.period, m.category, m.kind, m.quantity, random, systematic, m.line, m.source)
