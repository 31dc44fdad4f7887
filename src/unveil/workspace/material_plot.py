"""A balance's plot (``unveil material balance … --plot OUT.png|.svg``): for each category,
MUF per period with its ±2σ band (kg); below it SITMUF and Page's statistic against the
threshold h (in σ of SITMUF), alarms marked; last, the probability that a loss spread evenly
over the periods is caught, against its size (kg), by the cumulative test and by per-period
tests at the same total false-alarm rate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from unveil.errors import MalformedInputError

__all__ = ["plot_balance"]


def plot_balance(result: dict[str, Any], out: Path) -> None:
    """Draw ``result`` (:func:`unveil.material.evaluation.balance`'s) into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = [c["category"] for c in result["cumulative"]]
    tests = {t["category"]: t for t in result["page"]}
    spread = {p["category"]: p for p in result["protracted"]}
    figure, axes = plt.subplots(3, len(categories), figsize=(6.5 * len(categories), 9.5), squeeze=False)
    for column, category in enumerate(categories):
        rows = [r for r in result["periods"] if r["category"] == category]
        xs = list(range(len(rows)))
        muf = [r["muf"] for r in rows]
        band = [2 * r["sigma_muf"] for r in rows]
        top, bottom = axes[0][column], axes[1][column]
        top.sharex(bottom)
        top.tick_params(labelbottom=False)
        top.axhline(0, color="grey", linewidth=0.8)
        top.fill_between(xs, [-b for b in band], band, alpha=0.2, label="±2σMUF (no loss)")
        top.plot(xs, muf, marker="o", label="MUF")
        top.set_ylabel(f"{category}: MUF (kg)")
        top.set_title(f"{category}: material unaccounted for, by period")
        top.legend(loc="upper left")
        bottom.bar(xs, [r["sitmuf"] for r in rows], alpha=0.4, label="SITMUF")
        bottom.plot(xs, [r["page"] for r in rows], marker="s", color="black", label="Page's S_t")
        bottom.axhline(tests[category]["h"], color="red", linestyle="--", label=f"h = {tests[category]['h']:.2f}")
        alarms = [x for x, r in zip(xs, rows, strict=True) if r["alarm"]]
        if alarms:
            bottom.scatter(alarms, [rows[x]["page"] for x in alarms], color="red", zorder=3, label="alarm")
        bottom.set_ylabel("SITMUF, Page's S_t (σ, no unit)")
        bottom.set_xlabel("balance period")
        bottom.set_xticks(xs, [r["period"] for r in rows], rotation=45 if len(rows) > 8 else 0)
        bottom.legend(loc="upper left")
        power = axes[2][column]
        points = spread[category]["curve"]
        losses = [p["loss"] for p in points]
        power.plot(losses, [p["cumulative_detection"] for p in points], label="cumulative MUF test")
        power.plot(losses, [p["per_period_detection"] for p in points], linestyle="--", label="per-period tests on SITMUF")
        power.axhline(result["alpha"], color="grey", linewidth=0.8, linestyle=":", label=f"false-alarm rate α = {result['alpha']:g}")
        power.set_ylim(0, 1)
        power.set_xlabel(f"{category} lost, spread evenly over {len(rows)} periods (kg)")
        power.set_ylabel("probability of detection")
        power.legend(loc="lower right")
    figure.tight_layout()
    partial = out.with_name(f".{out.name}.partial")
    try:
        figure.savefig(partial, format=out.suffix.lower().lstrip("."))
        os.replace(partial, out)  # never a half-written plot under the name asked for
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MalformedInputError(f"cannot write the plot: {exc.strerror or exc}", source=str(out), where="--plot") from None
    finally:
        plt.close(figure)
