"""Coverage curve: parcels within reach against the number of lockers, as data and a PNG plot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from routing.siting.errors import SitingInputError
from routing.siting.model import SitingInstance, SitingModel
from routing.siting.solve import solve


def coverage_curve(
    inst: SitingInstance,
    counts: Iterable[int],
    *,
    like: SitingModel | None = None,
    method: str = "auto",
    time_limit_s: float = 10.0,
    rel_gap: float = 1e-4,
) -> list[dict]:
    """Maximal covering solved for each locker count: covered parcels, share and the bound.

    With ``method="heuristic"`` each point is a good plan without proof (fast); otherwise each
    carries the solver's bound, so the curve shows how far any plan could still go. Lockers
    that already stand count among the lockers, so the curve starts at their number: a count
    below it is raised to it (no plan can have fewer). ``like``: a model whose capacity rules
    (``capacitated``, ``sizing``) every point keeps, so that the curve counts the parcels the
    lockers have room for, as that model's plan does; without it, every parcel within reach.
    """
    counts = sorted({int(c) for c in counts})
    if not counts or counts[0] < 1:
        raise SitingInputError("coverage curve: locker counts must be whole numbers >= 1")
    standing = int(inst.must_open.sum())
    counts = sorted({max(c, standing) for c in counts})
    total = float(inst.weight.sum())
    rules = {} if like is None else {"capacitated": like.capacitated, "sizing": like.sizing}
    curve = []
    for p in counts:
        if p > inst.n_sites:
            break
        plan = solve(
            inst,
            SitingModel("maxcover", p=p, **rules),
            method=method,
            time_limit_s=time_limit_s,
            rel_gap=rel_gap,
        )
        curve.append(
            {
                "lockers": p,
                "covered_parcels": plan.objective,
                "share": plan.objective / total if total else 1.0,
                "total_parcels": total,
                "bound": plan.bound,
                "gap": plan.gap,
                "open_site_ids": [inst.site_ids[j] for j in np.flatnonzero(plan.is_open)],
            }
        )
    return curve


def coverage_top(percents: Sequence[float]) -> float:
    """The top of a coverage axis (per cent): the whole 0-100 % when coverage goes past half,
    else a fifth above the highest point, so that capacitated curves of 1-13 % do not lie flat
    along the bottom."""
    top = max(percents, default=100.0)
    return 105.0 if top > 50 else max(1.0, 1.2 * top)


def plot_curve(
    curve: list[dict],
    path: str | Path,
    *,
    title: str = "Locker coverage",
    chosen: tuple[int, float] | None = None,
    capacitated: bool = False,
    curve_capacitated: bool = False,
    radius_m: float | None = None,
    distance: Literal["walk", "straight_line"] | None = None,
) -> Path:
    """Write the curve as a PNG: share of daily parcels within reach against locker count, the
    proven bound beside each plan (how far any plan could still go), and ``chosen`` (lockers,
    share), a plan to mark, such as a scenario's (``capacitated``: its share counts only the
    parcels its lockers have room for; ``curve_capacitated``: the curve's too). ``distance``
    names how ``radius_m`` was measured, for the axis label; where it is not given the label
    names no kind (a straight-line input had been labelled a walk). The legend stands below
    the axes: at their lower right it covered a low curve and a chosen plan far right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110, layout="constrained")
    ax.plot(
        [c["lockers"] for c in curve],
        [100 * c["share"] for c in curve],
        marker="o",
        color="#1f6f8b",
        label="best plan found" + (" (within locker capacity)" if curve_capacitated else ""),
    )
    bounds = [c for c in curve if c.get("bound") is not None and c.get("total_parcels")]
    if bounds:
        ax.plot(
            [c["lockers"] for c in bounds],
            [100 * min(c["bound"] / c["total_parcels"], 1.0) for c in bounds],
            linestyle="--",
            color="#999999",
            label="proven upper bound",
        )
    if chosen is not None:
        label = "chosen plan" + (" (within locker capacity)" if capacitated else "")
        ax.plot(
            [chosen[0]],
            [100 * chosen[1]],
            marker="*",
            markersize=14,
            color="#2ca02c",
            linestyle="none",
            label=label,
        )
    reach = _reach_label(radius_m, distance)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # lockers come whole
    ax.set_xlabel("lockers opened")
    served = "served " if curve_capacitated else ""  # within reach is not served at capacity
    ax.set_ylabel(f"daily parcels {served}{reach} (%)")
    shown = [100 * c["share"] for c in curve] + ([100 * chosen[1]] if chosen else [])
    shown += [100 * min(c["bound"] / c["total_parcels"], 1.0) for c in bounds]
    ax.set_ylim(0, coverage_top(shown))
    ax.grid(alpha=0.3)
    ax.set_title(title, parse_math=False)  # an instance's name: a `$` is no mathtext
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _reach_label(radius_m: float | None, distance: str | None) -> str:
    """What "within reach" means on the axis: the radius and the kind of distance, where known."""
    kind = {"walk": " walk", "straight_line": " in a straight line"}.get(distance, "")
    if radius_m:
        return f"within {radius_m:.0f} m{kind}"
    return "within walking reach" if distance == "walk" else f"within reach{kind}"
