"""The cost-per-firm bar chart: each firm alone against its Shapley share of each pooled plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Green is the lockers' own colour on maps and plots (chosen lockers, catchments), so the plan
# with locker drops is drawn in purple.
PLAN_COLOURS = {"solo": "#d62728", "pooled": "#1f77b4", "lockers": "#9467bd"}
PLAN_LABELS = {"solo": "solo", "pooled": "pooled", "lockers": "pooled + lockers"}
#: Costs are in whatever unit the fleets' per-km, per-hour and fixed costs are given in.
COST_UNIT = "cost units"
#: Plots draw names as they are written: a `$` in a firm's name or a vehicle id is a character,
#: not the start of matplotlib's mathtext, which fails on `$x^$` and garbles `A$B$C`.
PLAIN_TEXT = {"text.parse_math": False}


def cost_chart(
    rows: Sequence[Mapping[str, Any]], path: str | Path, *, plans: Sequence[str], title: str
) -> Path:
    """Write the chart as a PNG from per-firm rows (``DayResult.firm_rows()``: ``firm``,
    ``solo_cost``, and per plan ``{plan}_shapley`` with ``{plan}_shapley_ci``, the half-width
    of sampled Shapley's 95 % interval, drawn as an error bar where it is not exact); the cost
    axis starts at 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    with matplotlib.rc_context(PLAIN_TEXT):  # until saved: tick labels are made as it draws
        firms = [row["firm"] for row in rows]
        series = [("solo", [row["solo_cost"] for row in rows], None)]
        for plan in plans:
            errors = [row.get(f"{plan}_shapley_ci") or 0.0 for row in rows]
            series.append((plan, [row[f"{plan}_shapley"] for row in rows], errors))
        x = np.arange(len(firms))
        width = 0.8 / len(series)
        fig, ax = plt.subplots(figsize=(max(6.5, 0.9 * len(firms) + 2), 4.5), dpi=110)
        for k, (plan, values, errors) in enumerate(series):
            label = PLAN_LABELS.get(plan, plan) + (" (Shapley share)" if plan != "solo" else "")
            ax.bar(
                x + (k - (len(series) - 1) / 2) * width,
                values,
                width,
                label=label,
                color=PLAN_COLOURS.get(plan),
                yerr=errors if errors and any(errors) else None,
            )
        ax.set_xticks(x, firms, rotation=30 if len(firms) > 6 else 0)
        ax.set_ylabel(f"cost of the day ({COST_UNIT})")
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(series), frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
        plt.close(fig)
    return path
