"""PNG plots of a scenario run: route profiles and sweep trade-offs.

The coverage curve and the cost-per-firm chart are routing's own (`routing.siting.curve`,
`routing.pooling.chart`), so the CLI and the report draw them alike.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from routing.pooling.chart import COST_UNIT, PLAIN_TEXT, PLAN_COLOURS, PLAN_LABELS


@matplotlib.rc_context(PLAIN_TEXT)  # vehicle ids as written
def route_profiles(routes: Sequence[dict[str, Any]], path: Path) -> Path:
    """Parcels on board over the day for every route, and when each vehicle is out, per plan."""
    fig, (load_ax, time_ax) = plt.subplots(
        2, 1, figsize=(8, 7), dpi=100, gridspec_kw={"height_ratios": [3, 2]}
    )
    rows = []
    for route in routes:
        steps = route["profile"]
        if not steps:
            continue
        hours = [step["t"] / 3600.0 for step in steps]
        loads = [step["load"] for step in steps]
        colour = PLAN_COLOURS.get(route["plan"], "#555")
        load_ax.step(hours, loads, where="post", color=colour, alpha=0.7, linewidth=1.2)
        rows.append((route, hours[0], hours[-1], colour))
    drawn = {route["plan"] for route, *_ in rows}
    for plan, colour in PLAN_COLOURS.items():
        if plan in drawn:  # a plan not run (no locker drops) is not listed
            load_ax.plot([], [], color=colour, label=PLAN_LABELS[plan])
    load_ax.set(ylabel="parcels on board", title="Route load profiles")
    load_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if drawn:
        load_ax.legend(loc="upper right")
    load_ax.grid(alpha=0.3)
    for row, (_route, start, end, colour) in enumerate(rows):
        time_ax.barh(row, end - start, left=start, color=colour, alpha=0.8)
    time_ax.set_yticks(
        range(len(rows)),
        [
            f"{PLAN_LABELS.get(r['plan'], r['plan'])}: {r['vehicle'].split(':', 1)[-1]}"
            for r, *_ in rows
        ],
        fontsize=7,
    )
    time_ax.set(xlabel="time of day (h)", title="Route time profiles")
    time_ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


@matplotlib.rc_context(PLAIN_TEXT)  # swept values (text ones) as written
def sweep_curves(points: Sequence[dict[str, Any]], parameter: str, path: Path) -> Path:
    """Trade-off curves of a sweep: coverage against lockers, and cost (from 0) against the
    parameter."""
    fig, (cov_ax, cost_ax) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    done = [p for p in points if p.get("coverage") is not None]
    cov_ax.plot([p["lockers"] for p in done], [100 * p["coverage"] for p in done], marker="o")
    cov_ax.set(
        xlabel="lockers opened",
        ylabel="parcels covered (%)",
        ylim=(0, 105),
        title="Coverage against lockers",
    )
    cov_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    cov_ax.grid(alpha=0.3)
    for plan, colour in PLAN_COLOURS.items():
        xs = [p["value"] for p in points if p.get("cost", {}).get(plan) is not None]
        ys = [p["cost"][plan] for p in points if p.get("cost", {}).get(plan) is not None]
        if xs:
            cost_ax.plot(xs, ys, marker="o", color=colour, label=PLAN_LABELS[plan])
    cost_ax.set(
        xlabel=parameter, ylabel=f"cost of the day ({COST_UNIT})", title=f"Cost against {parameter}"
    )
    cost_ax.set_ylim(bottom=0)
    if all(isinstance(p["value"], int) for p in points):
        cost_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if cost_ax.lines:
        cost_ax.legend()
    cost_ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
