"""Audited report defects: undelivered parcels and warnings kept, splits named by plan, sweeps of
any setting plotted against it, run-to-run variation said, CO2 precision and the cost unit."""

import html
import json
import re
from pathlib import Path

import pytest

from api.report import plots
from api.report.html import write_report
from api.scenario import plans
from routing.pooling.compare import DayResult, SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.travel import day_travel

TOWER = (36.0660, 120.3800)
FAST = SolveSettings(
    engine="ortools", time_limit_s=0.4, coalition_time_limit_s=0.2, min_time_limit_s=0.2
)


def _parcel(pid: str, firm: str, dlat: float, dlon: float) -> dict:
    return {"id": pid, "firm": firm, "at": [TOWER[0] + dlat, TOWER[1] + dlon]}


@pytest.fixture(scope="module")
def short_fleet() -> DayResult:
    """Two firms, each delivering its 3 parcels alone, and a shared van that carries only 4: the
    pooled plans leave parcels undelivered and look cheaper for it."""
    day = parse_day(
        {
            "name": "short shared fleet",
            "travel": {"straight_line": True, "speed_kmh": 25, "walk_radius_m": 300},
            "firms": [
                {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
                {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
            ],
            "centres": [
                {"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"capacity_parcels": 4}]}
            ],
            "lockers": [{"id": "tower", "at": list(TOWER), "free": {"S": 4, "M": 2, "L": 1}}],
            "parcels": [
                _parcel(f"{firm}-{k}", firm, 0.0003 * k, 0.0002 * (k - 2 * j))
                for j, firm in enumerate(("sf", "yto"))
                for k in range(1, 4)
            ],
            "transfer": None,
        }
    )
    return compare_day(day, day_travel(day), FAST)


def _report(run: Path, **changes: object) -> str:
    """report.html of the generated run with ``changes`` made to its summary.json, scripts cut
    (the map's inlined JSON holds every id whether or not a table shows it)."""
    path = run / "summary.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return re.sub(r"<script>.*?</script>", "", write_report(run).read_text(), flags=re.S)


def _cells(page: str, table: str) -> list[list[str]]:
    """Each row of the table with id ``table`` as its cells' text."""
    body = re.search(rf'<table id="{table}".*?</table>', page, re.S).group(0)
    cell = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in cell.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


# 1. Undelivered parcels and pooling warnings reach summary.json and report.html


def test_summary_lists_every_undelivered_parcel_of_every_plan(short_fleet: DayResult) -> None:
    summary = plans.result_summary(short_fleet)
    assert summary["plans"]["pooled"]["unserved"] >= 2 and summary["plans"]["solo"]["unserved"] == 0
    for plan, figures in summary["plans"].items():
        rows = summary["unserved"][plan]
        assert len(rows) == figures["unserved"], plan
        assert all(row["firm"] in ("sf", "yto") and row["parcel"] and row["reason"] for row in rows)


def test_summary_keeps_the_warning_that_savings_include_undelivered(short_fleet) -> None:
    warnings = plans.result_summary(short_fleet)["warnings"]
    # (a second "pooled: " warning names the day's cheaper arrangement, the firms alone)
    (pooled,) = [w for w in warnings if w.startswith("pooled: ") and "undelivered" in w]
    # this day's shared van is dearer than the firms' own: no saving to speak of
    assert pooled.endswith("it costs more than the solo plans and delivers 2 parcels fewer")


def test_report_warns_above_the_savings_and_tables_undelivered(short_fleet, generated_run) -> None:
    summary = plans.result_summary(short_fleet)
    page = _report(generated_run, **summary)
    start = page.index('id="warnings"')
    box = page[start:page.index("</div>", start)]
    assert start < page.index('id="plans-table"') < page.index("saved vs solo")
    assert re.search(r"<li>pooled: \d+ parcels undelivered[^<]*delivers \d+ parcels fewer", box)
    assert re.search(r"<li>pooled \+ lockers: \d+ parcels undelivered", box)  # tables' name
    for plan in ("pooled", "lockers"):
        head, *rows = _cells(page, f"unserved-{plan}")
        assert head == ["Parcel", "Firm", "Task left out", "Solver's reason"]
        assert rows == [[u["parcel"], u["firm"], u["job"], u["reason"]]
                        for u in summary["unserved"][plan]]  # fmt: skip
    assert 'id="unserved-solo"' not in page  # a plan that delivers everything has no table


def test_report_escapes_undelivered_parcels_and_warnings(generated_run: Path) -> None:
    row = {"firm": "F<i>1", "parcel": "<b>P-1</b>", "job": "P-1", "reason": "no <em>room</em>"}
    page = _report(
        generated_run,
        warnings=["lockers: 1 parcels undelivered; <script>x</script>"],
        unserved={"solo": [], "pooled": [row], "lockers": []},
    )
    assert "pooled + lockers: 1 parcels undelivered; &lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b&gt;P-1&lt;/b&gt;" in page and "no &lt;em&gt;room&lt;/em&gt;" in page
    assert "<b>P-1" not in page and "<em>" not in page and "F<i>" not in page


# 2. Splits labelled with their plan; sweeps of another setting plotted against it


def test_summary_keys_each_firms_simple_splits_by_plan(short_fleet: DayResult) -> None:
    summary = plans.result_summary(short_fleet)
    assert set(summary["splits"]) == {"pooled", "lockers"}
    for firm in summary["firms"]:
        for split in ("by_parcels", "by_standalone"):
            assert firm[split] == {
                kind: summary["splits"][kind][split][firm["name"]] for kind in summary["splits"]
            }


def test_report_shows_each_plans_splits_under_that_plan(generated_run: Path) -> None:
    firms = [{"name": f"F{k}", "parcels": 30, "solo_cost": 160.0,
              "shares": {"pooled": 120.0, "lockers": 100.0},
              "by_parcels": {"pooled": 111.1, "lockers": 99.9},
              "by_standalone": {"pooled": 122.2, "lockers": 88.8}} for k in range(2)]  # fmt: skip
    header, columns, first, _ = _cells(_report(generated_run, firms=firms), "firms-table")
    assert header[3:] == ["pooled", "pooled + lockers"]
    assert columns == ["Fair share (Shapley)", "Saving", "Split by parcels",
                       "Split by standalone cost"] * 2  # fmt: skip
    assert first[3:] == ["120.0", "40.0 (25 %)", "111.1", "122.2",
                         "100.0", "60.0 (38 %)", "99.9", "88.8"]  # fmt: skip


def _sweep(values: list, lockers: list[int]) -> list[dict]:
    return [{"value": v, "lockers": n, "coverage": 0.2 * (k + 1), "cost": {"pooled": 10.0}}
            for k, (v, n) in enumerate(zip(values, lockers, strict=True))]  # fmt: skip


def test_sweep_of_the_radius_plots_coverage_against_the_radius(tmp_path, figures) -> None:
    plots.sweep_curves(_sweep([100, 200, 300], [3, 3, 3]), "siting.radius_m", tmp_path / "s.png")
    cov_ax, cost_ax = figures[0].axes
    assert list(cov_ax.lines[0].get_xdata()) == [100, 200, 300]
    assert cov_ax.get_xlabel() == cost_ax.get_xlabel() == "siting.radius_m (m)"
    assert [t.get_text() for t in cov_ax.texts] == ["3 lockers"] * 3


def test_sweep_of_the_budget_plots_coverage_against_lockers(tmp_path, figures) -> None:
    plots.sweep_curves(_sweep([2, 4, 6], [2, 4, 5]), "siting.budget", tmp_path / "s.png")
    cov_ax = figures[0].axes[0]
    assert list(cov_ax.lines[0].get_xdata()) == [2, 4, 5]
    assert cov_ax.get_xlabel() == "lockers opened"


# 3. Run-to-run variation said


def test_summary_and_report_say_figures_vary_between_runs(short_fleet, generated_run) -> None:
    note = plans.result_summary(short_fleet)["run_to_run"]
    assert "time limit" in note and "slightly different" in note
    page = _report(generated_run, run_to_run=note)
    assert re.search(r'<p class="note" id="run-to-run">[^<]*time limit', page)


# 4. CO2 precision and the cost unit


def test_co2_keeps_three_significant_figures(generated_run: Path) -> None:
    summary = json.loads((generated_run / "summary.json").read_text())
    plan_rows = {name: {**figures, "co2_kg": kg} for (name, figures), kg
                 in zip(summary["plans"].items(), (0.379, 0.202, 1234.4), strict=True)}  # fmt: skip
    rows = {row[0]: row[1:] for row in _cells(_report(generated_run, plans=plan_rows),
                                              "plans-table")}  # fmt: skip
    assert rows["CO2 (kg)"] == ["0.379", "0.202", "1,234"]


def test_costs_name_their_unit(generated_run: Path) -> None:
    saved = {"cost": {"saved": 160.0, "percent": 25.0}}
    page = _report(generated_run, savings_vs_solo={"pooled": saved, "lockers": saved})
    labels = [row[0] for row in _cells(page, "plans-table")]
    assert "Cost (cost units)" in labels and "Cost (cost units) saved vs solo" in labels
    assert re.search(r'id="cost-unit">Costs are in cost units: [^<]*cost_per_km', page)
