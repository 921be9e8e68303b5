"""The plots' axes: counts in whole ticks, costs from 0 in named units, and the map's colours."""

import json
import re
from pathlib import Path

from matplotlib.text import Text

from api.report import plots
from api.report.html import write_report
from routing.pooling.chart import PLAN_COLOURS, cost_chart
from routing.siting.curve import plot_curve

SWEEP = [
    {
        "value": v,
        "lockers": v,
        "coverage": 0.5 + 0.1 * v,
        "cost": {"solo": 950.0, "pooled": 900.0 + 10 * v, "lockers": 880.0 + 10 * v},
    }
    for v in (1, 2, 3)
]


def _whole(ticks) -> bool:
    return all(float(t).is_integer() for t in ticks)


def test_sweep_counts_whole_and_costs_from_zero(tmp_path: Path, figures: list) -> None:
    plots.sweep_curves(SWEEP, "siting.budget", tmp_path / "sweep.png")
    cov_ax, cost_ax = figures[0].axes
    assert _whole(cov_ax.get_xticks()) and _whole(cost_ax.get_xticks())
    assert cost_ax.get_ylim()[0] == 0
    assert cost_ax.get_ylabel() == "cost of the day (cost units)"


def test_sweep_of_a_fractional_setting_keeps_its_ticks(tmp_path: Path, figures: list) -> None:
    points = [{**p, "value": 1.0 + 0.5 * k} for k, p in enumerate(SWEEP)]
    plots.sweep_curves(points, "siting.dwell_days", tmp_path / "sweep.png")
    assert not _whole(figures[0].axes[1].get_xticks())


def test_route_loads_whole(generated_run: Path, tmp_path: Path, figures: list) -> None:
    routes = json.loads((generated_run / "summary.json").read_text())["routes"][:1]
    routes[0]["profile"] = [
        {"t": 8 * 3600 + 600 * k, "load": n, "type": "delivery"} for k, n in enumerate((3, 2, 1, 0))
    ]
    plots.route_profiles(routes, tmp_path / "routes.png")
    assert _whole(figures[0].axes[0].get_yticks())


def test_route_legend_lists_only_the_plans_drawn(tmp_path: Path, figures: list) -> None:
    steps = [{"t": 8 * 3600, "load": 1, "type": "start"}, {"t": 9 * 3600, "load": 0, "type": "end"}]
    routes = [{"plan": plan, "vehicle": f"{plan}:v1", "profile": steps}
              for plan in ("solo", "pooled")]  # fmt: skip
    plots.route_profiles(routes, tmp_path / "routes.png")
    legend = figures[0].axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["solo", "pooled"]


def test_firm_costs_from_zero_in_cost_units(generated_run: Path, figures: list) -> None:
    rows = json.loads((generated_run / "summary.json").read_text())["firms_table"]
    cost_chart(rows, generated_run / "costs.png", plans=["pooled", "lockers"], title="t")
    ax = figures[0].axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_ylabel() == "cost of the day (cost units)"


def test_chosen_lockers_and_routes_differ_in_colour(generated_run: Path) -> None:
    html = write_report(generated_run).read_text()
    chosen = re.search(r'fillColor: f\.properties\.chosen \? "(#[0-9a-fA-F]{6})"', html)
    assert chosen, "the report draws chosen lockers in a colour of their own"
    assert chosen.group(1).lower() not in {c.lower() for c in PLAN_COLOURS.values()}


def test_names_with_dollar_signs_are_drawn_as_written(tmp_path: Path, figures: list) -> None:
    """A `$` in a firm's name, a vehicle id, a swept value or an instance's name is a character:
    read as matplotlib's mathtext, `$x^$` fails the run after all its solving and `A$B$C`
    comes out garbled."""
    names = ["S$x^$F", "A$B$C"]
    rows = [{"firm": n, "solo_cost": 10.0, "pooled_shapley": 8.0} for n in names]
    steps = [{"t": 8 * 3600, "load": 1, "type": "start"}, {"t": 9 * 3600, "load": 0, "type": "end"}]
    routes = [{"plan": "solo", "vehicle": f"{n}:v$x^$", "profile": steps} for n in names]
    swept = [{**p, "value": v} for p, v in zip(SWEEP, [*names, "JD"], strict=True)]
    pngs = [
        cost_chart(rows, tmp_path / "costs.png", plans=["pooled"], title=f"{names[0]} day"),
        plots.route_profiles(routes, tmp_path / "routes.png"),
        plots.sweep_curves(swept, "firms.0.name", tmp_path / "sweep.png"),
        plot_curve([{"lockers": 1, "share": 0.5}], tmp_path / "curve.png", title=names[0]),
    ]
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in pngs)
    texts = [t for fig in figures for t in fig.findobj(Text) if "$" in t.get_text()]
    assert {t.get_text() for t in texts} >= {*names, "solo: v$x^$", "S$x^$F day"}
    assert not any(t.get_parse_math() for t in texts)
