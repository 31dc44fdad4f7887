"""A sweep's plot (``unveil simulate --sweep … --plot OUT.png|.svg``): the detection
probability by the end of the last phase against the first swept value, one line per value of
the other swept keys, with its 95% interval as a band and the exact answer dotted where known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_sweep"]


def plot_sweep(result: dict[str, Any], out: Path) -> None:
    """Draw ``result`` (:func:`unveil.workspace.simulation.sweep`'s) into ``out`` (.png or .svg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = result["keys"]
    first, rest = keys[0], keys[1:]
    lines: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in result["rows"]:
        lines.setdefault(tuple(row["point"][key] for key in rest), []).append(row)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label, rows in lines.items():
        xs = list(range(len(rows)))
        ys = [row["phases"][-1]["detection_probability"] for row in rows]
        lo = [row["phases"][-1]["ci95"][0] for row in rows]
        hi = [row["phases"][-1]["ci95"][1] for row in rows]
        name = ", ".join(f"{key}={value}" for key, value in zip(rest, label, strict=True)) or "simulated"
        drawn = axes.plot(xs, ys, marker="o", label=name)[0]
        axes.fill_between(xs, lo, hi, alpha=0.2, color=drawn.get_color())
        exact = [row["phases"][-1]["exact"] for row in rows]
        if all(value is not None for value in exact):
            axes.plot(xs, exact, linestyle=":", color=drawn.get_color())
        axes.set_xticks(xs, [str(row["point"][first]) for row in rows])
    axes.set_xlabel(first)
    axes.set_ylabel("P(at least one hidden site found by the end)")
    axes.set_ylim(0, 1)
    axes.set_title(f"{result['trials']} trials a point, seed {result['seed']} (band: 95% interval; dotted: exact)")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(out, format=out.suffix.lower().lstrip("."))
    plt.close(figure)
