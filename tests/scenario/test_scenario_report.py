"""report.html and its plots, built from a generated run folder and rendered in Chromium."""

import json
import re
from pathlib import Path

import pytest

from api.report import plots
from api.report.html import write_report
from routing.pooling.chart import cost_chart
from routing.siting.curve import plot_curve


def _write_plots(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    plot_curve(summary["siting"]["curve"], run / "plots" / "coverage_curve.png",
               chosen=(3, 0.63), capacitated=True, radius_m=300)
    cost_chart(summary["firms_table"], run / "plots" / "firm_costs.png",
               plans=list(summary["splits"]), title="Cost per firm")
    plots.route_profiles(summary["routes"], run / "plots" / "route_profiles.png")


def test_plots_are_png(generated_run: Path) -> None:
    _write_plots(generated_run)
    for name in ("coverage_curve", "firm_costs", "route_profiles"):
        data = (generated_run / "plots" / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_report_is_self_contained(generated_run: Path) -> None:
    _write_plots(generated_run)
    html = write_report(generated_run).read_text()
    # nothing the page loads comes from the net (links in text are fine)
    assert not re.findall(r'<(?:script|img|link)[^>]*(?:src|href)="(?:https?:)?//', html)
    assert "L.map(" in html and "Leaflet" in html  # Leaflet inlined from js_lib_leaflet
    assert "url(images/" not in html  # CSS images inlined as data URIs
    assert 'src="plots/' not in html and html.count('<img src="data:image/png;base64,') == 3
    assert "s27" in html and "pooled + lockers" in html
    assert "40.0" in html  # vehicle-km from the plans table
    assert "88.30 %" in html and "40 / 20 / 8" in html  # the chosen lockers' table


@pytest.mark.browser
def test_report_renders_in_chromium(generated_run: Path, render_report) -> None:
    _write_plots(generated_run)
    page = render_report(write_report(generated_run), "scenario-report-generated.png")
    assert page["overlays"] >= 6 and len(page["plots"]) == 3


def test_layers_in_the_page_script_cannot_end_it_early():
    from api.report.html import _json_for_script

    text = _json_for_script({"name": "<!--<script>", "note": "</script><b>"})
    assert "<" not in text  # neither "</script>" nor "<!--" can reach the HTML parser
    assert json.loads(text) == {"name": "<!--<script>", "note": "</script><b>"}
