"""Render report.html: an offline page with a Leaflet map, tables of key figures and PNG plots."""

import base64
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from api.scenario.sites import share_words
from routing.pooling.chart import COST_UNIT, PLAN_COLOURS, PLAN_LABELS

PLAN_ROWS = [
    ("parcels", "Parcels delivered"),
    ("unserved", "Parcels not delivered"),
    ("parcels_in_lockers", "Parcels left in lockers"),
    ("stops", "Stops"),
    ("vehicles", "Vehicles used"),
    ("vehicle_km", "Vehicle-km"),
    ("transfer_km", "of which line haul, depots to centres"),
    ("driver_hours", "Driver hours"),
    ("co2_kg", "CO2 (kg)"),
    ("cost", f"Cost ({COST_UNIT})"),
]
SAVING_ROWS = [
    ("cost", f"Cost ({COST_UNIT})"),
    ("vehicle_km", "Vehicle-km"),
    ("co2_kg", "CO2 (kg)"),
]
#: The scenario names no currency: its fleets' costs are in whatever unit the user wrote them.
COST_NOTE = (
    f"Costs are in {COST_UNIT}: the money unit the scenario's fleet costs (cost_per_km, "
    "cost_per_hour, fixed_cost) are written in; the scenario names no currency. A plan's cost "
    "includes run.unserved_parcel_cost for each parcel it leaves undelivered."
)
PLOT_TITLES = {
    "coverage_curve.png": (
        "Coverage curve: parcels the lockers can serve within walking reach (and within their "
        "capacity when the siting is capacitated) against lockers opened"
    ),
    "firm_costs.png": "Cost per firm: delivering alone against the fair share of each pooled plan",
    "route_profiles.png": "Route load and time profiles",
}
#: The coverage curve is maximal covering whatever the siting model; a p-median plan, which
#: minimises walking, lies on or below it (BJ: 59.9 % against the curve's 62.8 % at 6 lockers).
PMEDIAN_CURVE_NOTE = (
    ". The curve is maximal covering (the most parcels each count of lockers can reach); the "
    "chosen p-median plan minimises walking instead, so it may lie below the curve"
)


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS from the installed package, CSS images as data URIs."""
    folder = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        return f"url({_png_data_uri((folder / 'images' / match.group(1)).read_bytes())})"

    return script, re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


def _png_data_uri(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode()}"


def _json_for_script(value: Any) -> str:
    """JSON safe to place inside a <script> element: every "<" escaped, so neither "</script>"
    nor "<!--" in a scenario's properties can end the script early."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _fmt(value: Any) -> str:
    """A figure for a table cell; one the summary lacks (None, or a key an older summary.json
    does not have) shows as a dash rather than as an empty cell."""
    if value is None or isinstance(value, jinja2.Undefined):
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def fmt_kg(value: float) -> str:
    """CO2 in kg to 3 significant figures (whole kg from 100 kg), at most the 3 decimals the
    summary keeps: one decimal showed 0.177 and 0.202 kg alike as "0.2"."""
    if not value:
        return "0"
    decimals = min(3, max(0, 2 - math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def _fmt_figure(key: str, value: Any) -> str:
    """A plan's figure by its kind: CO2 as `fmt_kg`, so small savings stay apart; the rest as
    `_fmt`."""
    if key == "co2_kg" and isinstance(value, int | float):
        return fmt_kg(value)
    return _fmt(value)


def _plan_warning(text: str) -> str:
    """A warning from routing.pooling (``"<plan>: ..."``) with the plan named as the report's
    tables name it (``lockers`` is "pooled + lockers" there)."""
    plan, sep, rest = text.partition(": ")
    return f"{PLAN_LABELS[plan]}: {rest}" if sep and plan in PLAN_LABELS else text


def _fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _fmt_saving(solo: float | None, share: float | None) -> str:
    if solo is None or share is None:
        return "–"
    saving = solo - share
    pct = f" ({100 * saving / solo:.0f} %)" if solo else ""
    return f"{saving:,.1f}{pct}"


def _plot_title(name: str, summary: dict[str, Any]) -> str:
    """A plot's caption; the coverage curve's says when it is not the siting model's own."""
    title = PLOT_TITLES.get(name, name.removesuffix(".png"))
    if name == "coverage_curve.png" and (summary.get("siting") or {}).get("model") == "p_median":
        return title + PMEDIAN_CURVE_NOTE
    return title


def write_report(outdir: Path) -> Path:
    """Write ``outdir/report.html`` from the run's ``summary.json``, ``layers/`` and ``plots/``.

    Leaflet comes from the installed ``django-js-lib-leaflet`` package (module ``js_lib_leaflet``)
    and is inlined, its CSS images and the plots as data URIs, so the report opens from disk with
    no network, also moved away from its folder. The road network is drawn under everything so
    the map still reads when tiles cannot be fetched.
    """
    summary = json.loads((outdir / "summary.json").read_text(encoding="utf-8"))
    layers = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((outdir / "layers").glob("*.geojson"))
    }
    # inlined, as the layers are: a report.html mailed or moved on its own kept its map but
    # lost every plot (the PNGs stay in plots/ for slides)
    plots = [
        {"src": _png_data_uri(path.read_bytes()), "title": _plot_title(path.name, summary)}
        for path in sorted((outdir / "plots").glob("*.png"))
    ]
    script, css = _leaflet_assets()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("api.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.ChainableUndefined,
    )
    share_plans = [
        plan for plan in ("pooled", "lockers")
        if any(plan in firm.get("shares", {}) for firm in summary.get("firms") or [])
    ]
    html = env.get_template("report.html").render(
        summary=summary,
        plots=plots,
        leaflet_js=script,
        leaflet_css=css,
        layers_json=_json_for_script(layers),
        plan_colours_json=_json_for_script(PLAN_COLOURS),
        plan_labels_json=_json_for_script(PLAN_LABELS),
        plan_labels=PLAN_LABELS,
        plan_rows=PLAN_ROWS,
        saving_rows=SAVING_ROWS,
        share_plans=share_plans,
        cost_unit=COST_UNIT,
        cost_note=COST_NOTE,
        warnings=[_plan_warning(text) for text in summary.get("warnings") or []],
        unserved={plan: rows for plan, rows in (summary.get("unserved") or {}).items() if rows},
        fmt=_fmt,
        fmt_figure=_fmt_figure,
        fmt_pct=_fmt_pct,
        share_words=share_words,
        fmt_saving=_fmt_saving,
    )
    path = outdir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
