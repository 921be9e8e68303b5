"""PNG plots of a scenario run: route profiles and sweep trade-offs.

The coverage curve and the cost-per-firm chart are routing's own (`routing.siting.curve`,
`routing.pooling.chart`), so the CLI and the report draw them alike.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from routing.pooling.chart import COST_UNIT, PLAIN_TEXT, PLAN_COLOURS, PLAN_LABELS
from routing.siting.curve import coverage_top


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


#: The setting that is the number of lockers: a sweep of it plots coverage against the lockers
#: opened; a sweep of any other setting plots coverage against that setting's values.
LOCKER_COUNT = "siting.budget"
#: Units of the settings a sweep may vary, by their key's last part (see api/scenario/schema.py).
UNITS = {
    "cost_per_km": f"{COST_UNIT} per km",
    "cost_per_hour": f"{COST_UNIT} per hour",
    "fixed_cost": COST_UNIT,
    "unserved_parcel_cost": COST_UNIT,
    "capacity": "parcels",
    "max_compartments": "compartments",
    "dwell_days": "days",
}
#: Units by the end of a key's last part, for the schema's ``*_m`` and ``*_s`` settings.
UNIT_SUFFIXES = {"_m": "m", "_s": "s"}


def setting_label(parameter: str) -> str:
    """A swept setting with its unit for an axis (``siting.radius_m (m)``); a setting without a
    known unit (a count, a name) as written."""
    last = parameter.rsplit(".", 1)[-1]
    unit = UNITS.get(last) or next(
        (unit for end, unit in UNIT_SUFFIXES.items() if last.endswith(end)), None
    )
    return f"{parameter} ({unit})" if unit else parameter


@matplotlib.rc_context(PLAIN_TEXT)  # swept values (text ones) as written
def sweep_curves(points: Sequence[dict[str, Any]], parameter: str, path: Path) -> Path:
    """Trade-off curves of a sweep: coverage against the lockers opened (or against the swept
    setting, when that is not the locker count), and against the setting (from 0) the day's cost
    per plan and what the opened lockers cost to build, each where the runs have it: a
    siting-only sweep drew an empty day-cost panel with axes from 0 to 1."""
    costs = [draw for draw, key in ((_plan_costs, "cost"), (_locker_costs, "locker_cost"))
             if any(v is not None for p in points for v in (p.get(key) or {}).values())]
    fig, axes = plt.subplots(1, 1 + len(costs), figsize=(5.5 * (1 + len(costs)), 4), dpi=100,
                             squeeze=False)
    _coverage(axes[0][0], [p for p in points if p.get("coverage") is not None], parameter)
    for draw, ax in zip(costs, axes[0][1:], strict=True):
        draw(ax, points, parameter)
        ax.set(xlabel=setting_label(parameter))
        ax.set_ylim(bottom=0)
        _whole_ticks(ax, points)
        ax.legend()
        ax.grid(alpha=0.3)
    return _save(fig, path)


def _plan_costs(ax: plt.Axes, points: Sequence[dict[str, Any]], parameter: str) -> None:
    """The day's cost of each plan the runs made."""
    for plan, colour in PLAN_COLOURS.items():
        _line(ax, points, lambda p, plan=plan: (p.get("cost") or {}).get(plan),
              color=colour, label=PLAN_LABELS[plan])
    ax.set(ylabel=f"cost of the day ({COST_UNIT})", title=f"Cost against {parameter}")


def _locker_costs(ax: plt.Axes, points: Sequence[dict[str, Any]], parameter: str) -> None:
    """What the opened lockers cost to build: ``candidates.cost`` each, and their compartments
    when the siting sizes them (a one-off cost, so not on the day's cost axis)."""
    for key, label in (("fixed", "lockers (candidates.cost each)"),
                       ("compartments", "compartments (sizing)")):
        _line(ax, points, lambda p, key=key: (p.get("locker_cost") or {}).get(key), label=label)
    ax.set(ylabel=f"cost to build ({COST_UNIT})", title=f"Locker cost against {parameter}")


def _line(ax: plt.Axes, points: Sequence[dict[str, Any]],
          figure: Callable[[dict[str, Any]], float | None], **style: Any) -> None:
    """The runs' ``figure`` (a function of a point; None where a run lacks it) against the
    setting, where any run has it."""
    drawn = [(p["value"], figure(p)) for p in points if figure(p) is not None]
    if drawn:
        ax.plot(*zip(*drawn, strict=True), marker="o", **style)


def _coverage(ax: plt.Axes, done: Sequence[dict[str, Any]], parameter: str) -> None:
    """Coverage against the lockers opened when the sweep varies the locker count. Any other
    setting (the walking radius, say) mostly leaves the count alone, which drew every point at
    one x: then coverage is plotted against the setting, each point marked with its lockers."""
    coverage = [100 * p["coverage"] for p in done]
    if parameter == LOCKER_COUNT:
        ax.plot([p["lockers"] for p in done], coverage, marker="o")
        ax.set(xlabel="lockers opened", title="Coverage against lockers")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.plot([p["value"] for p in done], coverage, marker="o")
        for point, y in zip(done, coverage, strict=True):
            lockers = point["lockers"]
            ax.annotate(
                f"{lockers} locker{'' if lockers == 1 else 's'}",
                (point["value"], y),
                textcoords="offset points",
                xytext=(0, -12),
                ha="center",
                fontsize=7,
            )
        ax.margins(x=0.1)  # room for the end points' labels
        ax.set(xlabel=setting_label(parameter), title=f"Coverage against {parameter}")
        _whole_ticks(ax, done)
    ax.set(ylabel="parcels covered (%)", ylim=(0, coverage_top(coverage)))
    ax.grid(alpha=0.3)


def _whole_ticks(ax: plt.Axes, points: Sequence[dict[str, Any]]) -> None:
    """Whole-number ticks on the setting's axis when every swept value is a whole number."""
    if all(isinstance(p["value"], int) for p in points):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
