"""PNG plots of a scenario run: coverage curve, cost per firm solo vs pooled, route profiles."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PLAN_COLOURS = {"solo": "#d62728", "pooled": "#1f77b4", "lockers": "#2ca02c"}
PLAN_LABELS = {"solo": "solo", "pooled": "pooled", "lockers": "pooled + lockers"}


def coverage_curve(curve: Sequence[dict[str, Any]], path: Path, *,
                   chosen: tuple[int, float] | None = None, capacitated: bool = False,
                   radius_m: float | None = None) -> Path:
    """Share of daily parcels within walking reach against the lockers opened (routing.siting's
    curve: best plan and proven bound), with the scenario's chosen plan marked."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    xs = [point["lockers"] for point in curve]
    ax.plot(xs, [100.0 * point["share"] for point in curve], marker="o", color="#1f77b4",
            label="best plan found")
    bounds = [p for p in curve if p.get("bound") is not None and p.get("total_parcels")]
    if bounds:
        ax.plot([p["lockers"] for p in bounds],
                [100.0 * min(1.0, p["bound"] / p["total_parcels"]) for p in bounds],
                linestyle="--", color="#999", label="proven upper bound")
    if chosen is not None:
        label = "chosen plan" + (" (within locker capacity)" if capacitated else "")
        ax.plot([chosen[0]], [100.0 * chosen[1]], marker="*", markersize=14, color="#2ca02c",
                linestyle="none", label=label)
    reach = f" within {radius_m:.0f} m" if radius_m else ""
    ax.set(xlabel="lockers opened", ylabel=f"daily parcels{reach} walk (%)", ylim=(0, 105),
           title="Coverage curve")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def firm_costs(firms: Sequence[dict[str, Any]], path: Path) -> Path:
    """Each firm's cost delivering alone against its fair (Shapley) share of each pooled plan."""
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(firms) + 3), 4), dpi=100)
    names = [firm["name"] for firm in firms]
    series = [("solo", [firm["solo_cost"] for firm in firms])]
    for plan in ("pooled", "lockers"):
        shares = [firm.get("shares", {}).get(plan) for firm in firms]
        if any(share is not None for share in shares):
            series.append((plan, [share or 0.0 for share in shares]))
    width = 0.8 / len(series)
    for k, (plan, values) in enumerate(series):
        offsets = [i + (k - (len(series) - 1) / 2) * width for i in range(len(names))]
        ax.bar(offsets, values, width, label=PLAN_LABELS[plan], color=PLAN_COLOURS[plan])
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="cost of the day", title="Cost per firm: solo vs pooled (fair share)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def route_profiles(routes: Sequence[dict[str, Any]], path: Path) -> Path:
    """Parcels on board over the day for every route, and when each vehicle is out, per plan."""
    fig, (load_ax, time_ax) = plt.subplots(2, 1, figsize=(8, 7), dpi=100,
                                           gridspec_kw={"height_ratios": [3, 2]})
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
    for plan, colour in PLAN_COLOURS.items():
        load_ax.plot([], [], color=colour, label=PLAN_LABELS[plan])
    load_ax.set(ylabel="parcels on board", title="Route load profiles")
    load_ax.legend(loc="upper right")
    load_ax.grid(alpha=0.3)
    for row, (_route, start, end, colour) in enumerate(rows):
        time_ax.barh(row, end - start, left=start, color=colour, alpha=0.8)
    time_ax.set_yticks(range(len(rows)),
                       [f"{PLAN_LABELS.get(r['plan'], r['plan'])}: {r['vehicle'].split(':', 1)[-1]}"
                        for r, *_ in rows], fontsize=7)
    time_ax.set(xlabel="time of day (h)", title="Route time profiles")
    time_ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def sweep_curves(points: Sequence[dict[str, Any]], parameter: str, path: Path) -> Path:
    """Trade-off curves of a sweep: coverage against lockers, and cost against the parameter."""
    fig, (cov_ax, cost_ax) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    done = [p for p in points if p.get("coverage") is not None]
    cov_ax.plot([p["lockers"] for p in done], [100 * p["coverage"] for p in done], marker="o")
    cov_ax.set(xlabel="lockers opened", ylabel="parcels covered (%)", ylim=(0, 105),
               title="Coverage against lockers")
    cov_ax.grid(alpha=0.3)
    for plan, colour in PLAN_COLOURS.items():
        xs = [p["value"] for p in points if p.get("cost", {}).get(plan) is not None]
        ys = [p["cost"][plan] for p in points if p.get("cost", {}).get(plan) is not None]
        if xs:
            cost_ax.plot(xs, ys, marker="o", color=colour, label=PLAN_LABELS[plan])
    cost_ax.set(xlabel=parameter, ylabel="cost of the day", title=f"Cost against {parameter}")
    cost_ax.legend()
    cost_ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
