"""The planner audit of siting, scenario side: candidates spread over the demand, demand no
candidate reaches said, size mixes held to a sum of 1, budgets in the scenario's words, the
sweep's locker cost, GIS-ready layers, and the report's locker table, wording and axes."""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.report import plots
from api.report.html import write_report
from api.scenario import sites
from api.scenario.checks import check_inputs
from api.scenario.demand import DemandPoints
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.runner import run_scenario
from api.scenario.schema import LockersSpec, SitingSpec
from api.scenario.sweep import _point

# Siting only on a synthetic city: a few road-node candidates and a short walk leave some demand
# out of every candidate's reach.
SITING_ONLY = """\
name: siting only
map: {source: "synthetic:300"}
demand: {source: road_nodes, points: 60, seed: 3, parcels_per_point: [0.5, 7.3]}
lockers:
  candidates: {road_nodes: 6, compartments: {S: 30, M: 20, L: 6}, cost: 1000}
siting:
  model: max_coverage
  radius_m: 250
  budget: 3
  capacitated: true
  dwell_days: 1
  time_limit_s: 5
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


# --- #2 candidates spread over the demand --------------------------------------------------


def _buildings(refs: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "osm_ref": refs, "building": ["office"] * len(refs),
        "site_lat": np.linspace(32.0, 32.01, len(refs)), "site_lon": [118.0] * len(refs),
        "name": [f"tower {r}" if r != "w4" else None for r in refs],
    })  # fmt: skip


def _demand(parcels: list[float]) -> DemandPoints:
    n = len(parcels)
    return DemandPoints(ids=[f"d{i}" for i in range(n)], lat=np.zeros(n), lon=np.zeros(n),
                        parcels=np.array(parcels, dtype=float), size_mix=np.ones((n, 3)) / 3,
                        kind=["x"] * n)


#: Four towers in one busy block reach demand points 0-2; the fifth building reaches 3 alone,
#: and the sixth no demand at all.
REACH = [[0, 1, 2], [0, 1], [1, 2], [0, 2], [3], []]
PARCELS = [100.0, 90.0, 80.0, 30.0]


def _spread(max_sites: int) -> list[sites.Site]:
    spec = LockersSpec.model_validate(
        {"candidates": {"building_types": ["office"], "max_sites": max_sites}})
    refs = [f"w{k}" for k in range(1, 7)]
    seen: list[list[str]] = []

    def near(found: list[sites.Site]) -> list[np.ndarray]:
        seen.append([site.id for site in found])
        return [np.array(idx, dtype=int) for idx in REACH]

    chosen = sites.sites_at_buildings(_buildings(refs), spec, _demand(PARCELS), near)
    assert seen == [[f"site-b{r}" for r in refs]]  # every building's reach is asked, once
    return chosen


def test_candidates_spread_over_the_demand_rather_than_pile_into_one_block() -> None:
    """Seen failing on the old code (it ranked by parcels within 200 m of each alone, taking
    two of the busy block's towers; its signature took no reach)."""
    chosen = _spread(2)
    assert [s.id for s in chosen] == ["site-bw1", "site-bw5"]
    assert chosen[0].name == "tower w1" and chosen[0].kind == "building (office)"


def test_more_sites_than_the_demand_needs_add_second_choices_then_the_rest() -> None:
    """Once the demand is all near a chosen site, the count starts again among the rest (the
    busy block's next towers), and sites reaching nothing come last."""
    assert [s.id for s in _spread(6)] == [
        "site-bw1", "site-bw5", "site-bw2", "site-bw3", "site-bw4", "site-bw6"]
    assert _spread(6)[3].name is None or _spread(6)[4].name is None  # no OSM name: None


def test_spread_order_is_greedy_covering() -> None:
    near = [np.array(idx) for idx in ([0], [1], [2], [1, 2, 3])]
    parcels = np.array([5.0, 1.0, 4.0, 2.0])
    assert sites.spread_order(near, parcels, 2) == [3, 0]  # 7 parcels, then 5 more
    assert sites.spread_order(near, parcels, 0) == []


# --- #2 / #10 demand out of reach, said in the summary, the CLI and the report -------------


@pytest.fixture(scope="module")
def siting_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("siting-only")
    (base / "s.yaml").write_text(SITING_ONLY)
    run_scenario(base / "s.yaml", base / "out", quiet=True)
    return base / "out"


def test_demand_out_of_reach_is_in_the_summary_stage_and_report(siting_run: Path) -> None:
    """Seen failing on the old code: only summary.json's uncoverable_points had the count."""
    summary = json.loads((siting_run / "summary.json").read_text())
    far = summary["siting"]["out_of_reach"]
    assert far["points"] == summary["siting"]["uncoverable_points"] > 0
    assert far["of_points"] == summary["demand"]["points"]
    assert 0 < far["share"] < 1
    assert far["share"] == pytest.approx(far["parcels"] / summary["demand"]["parcels_per_day"])
    note = summary["stages"]["siting"]["note"]
    assert f"{far['points']} of {far['of_points']} demand points" in note
    assert "within 250 m walk" in note
    html = (siting_run / "report.html").read_text()
    assert 'id="out-of-reach"' in html and f"{100 * far['share']:.1f} % of the parcels" in html


def test_the_cli_warns_of_demand_out_of_reach(tmp_path: Path, caplog) -> None:
    """``--quiet`` shows warnings only: the count reaches the terminal."""
    with caplog.at_level(logging.WARNING, logger="gongpei.scenario"):
        run_scenario(_write(tmp_path, SITING_ONLY), tmp_path / "out", quiet=True,
                     coverage_curve=False)
    assert any("have no candidate site within 250 m walk" in r.getMessage()
               for r in caplog.records)


# --- #9 GIS layers -------------------------------------------------------------------------


def test_lockers_layer_gives_flat_numbers(siting_run: Path) -> None:
    """Seen failing on the old code: compartments were text ("S 30 / M 20 / L 6"), with no
    capacity, utilisation, cost or name."""
    summary = json.loads((siting_run / "summary.json").read_text())
    layer = json.loads((siting_run / "layers" / "lockers.geojson").read_text())["features"]
    rows = {row["id"]: row for row in summary["siting"]["lockers"]}
    chosen = [f["properties"] for f in layer if f["properties"]["chosen"]]
    assert len(chosen) == len(rows) > 0
    for props in chosen:
        row = rows[props["id"]]
        assert [props[s] for s in "SML"] == [30, 20, 6]
        assert props["capacity"] == row["capacity_per_day"] == 56.0  # 56 compartments a day
        assert props["utilisation"] == row["utilisation"]
        assert props["parcels"] == row["parcels_per_day"]
        assert props["fixed_cost"] == 1000 and "name" in props and "compartments" not in props
    assert all(isinstance(f["properties"]["S"], int) for f in layer)


def test_demand_layer_adds_up_to_the_summary(siting_run: Path) -> None:
    """Seen failing on the old code: parcels rounded to 0.01 added up to another total."""
    summary = json.loads((siting_run / "summary.json").read_text())
    layer = json.loads((siting_run / "layers" / "demand.geojson").read_text())["features"]
    total = sum(f["properties"]["parcels"] for f in layer)
    assert total == pytest.approx(summary["demand"]["parcels_per_day"], rel=1e-12, abs=0)


# --- #10 the report's locker table and wording ---------------------------------------------


def test_locker_rows_carry_name_and_position(siting_run: Path) -> None:
    summary = json.loads((siting_run / "summary.json").read_text())
    row = summary["siting"]["lockers"][0]
    assert {"name", "lat", "lon"} <= set(row) and -90 <= row["lat"] <= 90


def test_report_locker_table_and_served_wording(generated_run: Path) -> None:
    """Seen failing on the old code: no name or position, and "covered" beside a plot saying
    "served" for a capacitated siting."""
    path = generated_run / "summary.json"
    summary = json.loads(path.read_text())
    for row in summary["siting"]["lockers"]:
        row.update(name="紫荆学生公寓", lat=40.0123456, lon=116.3265432)
    path.write_text(json.dumps(summary))
    html = write_report(generated_run).read_text()
    assert "<th>Name</th>" in html and "紫荆学生公寓" in html and "40.012346, 116.326543" in html
    assert "Daily parcels served within 300 m walk and the lockers&#39; capacity" in html
    assert "Daily parcels covered" not in html


# --- #6 size_mix as gongpei site reads it --------------------------------------------------


@pytest.mark.parametrize("mix, total", [("{S: 60, M: 30, L: 10}", "100"),
                                         ("{S: 0.6, M: 0.3}", "0.9")])
def test_a_size_mix_not_summing_to_one_is_refused(tmp_path: Path, mix: str, total: str) -> None:
    """Seen failing on the old code: both were divided by their sum without a word."""
    path = _write(tmp_path, SITING_ONLY)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, overrides=[f"demand.size_mix={mix}"])
    assert "demand.size_mix" in str(err.value) and f"sums to {total}" in str(err.value)


def test_a_size_left_out_is_zero(tmp_path: Path) -> None:
    from api.scenario.demand import _mix_array

    loaded = load_scenario(_write(tmp_path, SITING_ONLY),
                           overrides=["demand.size_mix={S: 0.75, L: 0.25}"])
    assert _mix_array(loaded.spec.demand.size_mix, 1).tolist() == [[0.75, 0.0, 0.25]]


# --- #7 budgets in the scenario's words ----------------------------------------------------


@pytest.mark.parametrize("overrides, expected", [
    (["siting.budget=100000"], "budget 100000 lockers is more than the at most 6 candidate"),
    (["siting.budget=7", "lockers.candidates.road_nodes=0",
      "lockers.candidates.building_types=[office]", "lockers.candidates.max_sites=6",
      "demand.source=file", "demand.file=d.csv"], "at most 6 candidate sites"),
    (["siting.budget=1", "lockers.candidates.file=c.csv"], "below the 2 standing lockers"),
])
def test_validate_refuses_a_budget_the_candidates_cannot_meet(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    """Seen failing on the old code: validate said valid and the run stopped with "model
    'maxcover': p=100000 is larger than the 60 candidate sites"."""
    (tmp_path / "d.csv").write_text("id,lat,lon,parcels\na,60.17,24.94,3\n")
    (tmp_path / "c.csv").write_text(
        "id,lat,lon,existing,compartments_S,compartments_M,compartments_L\n"
        "a,60.17,24.94,true,1,0,0\nb,60.18,24.95,true,1,0,0\n")
    loaded = load_scenario(_write(tmp_path, SITING_ONLY), overrides=overrides)
    with pytest.raises(ScenarioError) as err:
        check_inputs(loaded, None)
    assert "siting.budget" in str(err.value) and expected in str(err.value)


def test_set_cover_ignores_the_budget(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, SITING_ONLY),
                           overrides=["siting.model=set_cover", "siting.budget=100"])
    check_inputs(loaded, None)


def test_a_run_refuses_a_budget_above_the_candidates_in_the_scenarios_words(
    tmp_path: Path,
) -> None:
    """Fewer candidates than validate could know (a map's road nodes, its buildings)."""
    with pytest.raises(ScenarioError) as err:
        run_scenario(_write(tmp_path, SITING_ONLY.replace("road_nodes: 6", "road_nodes: 6000")
                            .replace("budget: 3", "budget: 5999")), tmp_path / "out",
                     quiet=True)
    assert "siting.budget: budget 5999 lockers is more than the" in str(err.value)
    assert "maxcover" not in str(err.value) and "p=" not in str(err.value)


def test_library_words_become_the_scenarios() -> None:
    text = sites.in_scenario_words("model 'pmedian': p=3 is below the 4 lockers that must stay")
    assert text == "siting.model 'p_median': siting.budget=3 is below the 4 lockers that must stay"


# --- #8 the sweep's locker cost ------------------------------------------------------------


def test_a_siting_only_sweep_point_keeps_the_lockers_cost() -> None:
    """Seen failing on the old code: a siting-only point had ``"cost": {}`` and nothing else."""
    summary = {"siting": {"opened": ["a", "b"], "coverage": 0.5, "fixed_cost": 2000.0,
                          "sizing": {"compartment_cost": 255600.0}}}
    point = _point(6, "run", "siting.budget=6", summary)
    assert point["cost"] == {} and point["locker_cost"] == {"fixed": 2000.0,
                                                            "compartments": 255600.0}


def _drawn(monkeypatch, points: list[dict], parameter: str, tmp_path: Path) -> list:
    figures = []
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or save(fig, path))
    plots.sweep_curves(points, parameter, tmp_path / "sweep.png")
    return figures[0].axes


def test_a_siting_only_sweep_plots_locker_cost_not_an_empty_panel(monkeypatch,
                                                                  tmp_path: Path) -> None:
    """Seen failing on the old code: its right panel had no data and axes from 0 to 1."""
    points = [{"value": b, "lockers": b, "coverage": 0.1 * b, "cost": {},
               "locker_cost": {"fixed": 1000.0 * b, "compartments": 40000.0 * b}}
              for b in (2, 4, 6)]
    axes = _drawn(monkeypatch, points, "siting.budget", tmp_path)
    assert len(axes) == 2 and all(ax.lines for ax in axes)
    assert "Locker cost" in axes[1].get_title()
    bare = [{**p, "locker_cost": {"fixed": None, "compartments": None}} for p in points]
    assert len(_drawn(monkeypatch, bare, "siting.budget", tmp_path)) == 1


# --- #12 plots -----------------------------------------------------------------------------


def test_a_sweeps_coverage_axis_fits_small_coverages(monkeypatch, tmp_path: Path) -> None:
    """Seen failing on the old code: 0-105 % whatever the values, so 1-13 % lay flat."""
    points = [{"value": v, "lockers": 3, "coverage": c, "cost": {"pooled": 10.0}}
              for v, c in ((100, 0.01), (200, 0.06), (300, 0.13))]
    axes = _drawn(monkeypatch, points, "siting.radius_m", tmp_path)
    assert 13 < axes[0].get_ylim()[1] < 20
    assert plots.coverage_top([20.0, 80.0]) == 105.0


def test_a_p_median_curve_says_it_is_maximal_covering(tmp_path: Path, monkeypatch) -> None:
    """Seen failing on the old code: titled "Coverage curve" like a max-coverage run's."""
    from routing.siting import curve

    titles = []
    plot = curve.plot_curve
    monkeypatch.setattr(curve, "plot_curve",
                        lambda *a, **k: titles.append(k["title"]) or plot(*a, **k))
    run_scenario(_write(tmp_path, SITING_ONLY.replace("max_coverage", "p_median")),
                 tmp_path / "out", quiet=True)
    assert titles and "maximal-covering" in titles[0].lower()
    assert "maximal covering" in (tmp_path / "out" / "report.html").read_text()


def test_a_coverage_curves_axis_fits_small_coverages(monkeypatch, tmp_path: Path) -> None:
    """A capacitated curve of 1-13 % filled the bottom tenth of a 0-105 % axis; the PNG's axis
    now stops a fifth above its highest point (the chosen plan's and the bounds' included)."""
    from matplotlib.figure import Figure

    from routing.siting import curve

    limits = []
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: limits.append(fig.axes[0].get_ylim())
    )
    points = [{"lockers": k, "share": 0.01 * k, "bound": 2.0 * k, "total_parcels": 100.0}
              for k in range(1, 6)]
    curve.plot_curve(points, tmp_path / "curve.png", chosen=(5, 0.05))
    assert limits and limits[0][1] == pytest.approx(1.2 * 10.0)
    curve.plot_curve([{**p, "share": 0.2 * p["lockers"]} for p in points], tmp_path / "c.png")
    assert limits[1][1] == 105.0


def test_a_building_off_the_walk_graph_is_left_out_with_a_warning(caplog) -> None:
    """Every candidate building's reach is now asked, not only the chosen ones': one the walk
    graph cannot place (far out in a park, by a footway dropped as unconnected) stopped the
    whole run at `lockers.candidates`. It is left out, and the run says how many were."""
    from network.graph import build_graph

    walk = build_graph("synthetic:100", profile="walk")
    lat = float(np.mean([d["y"] for _, d in walk.nodes(data=True)]))
    lon = float(np.mean([d["x"] for _, d in walk.nodes(data=True)]))
    spec = LockersSpec.model_validate(
        {"candidates": {"building_types": ["office"], "max_sites": 5}})
    demand = DemandPoints(ids=["d0"], lat=np.array([lat]), lon=np.array([lon]),
                          parcels=np.array([5.0]), size_mix=np.ones((1, 3)) / 3, kind=["x"])
    buildings = _buildings(["w1", "w2"])
    buildings["site_lat"] = [lat, lat + 0.2]  # w2 stands 22 km north of every footway
    buildings["site_lon"] = [lon, lon]
    near = sites.walk_reach(demand, walk, SitingSpec.model_validate({"radius_m": 300}), "t")
    with caplog.at_level(logging.WARNING, logger="gongpei.scenario"):
        chosen = sites.sites_at_buildings(buildings, spec, demand, near)
    assert [s.id for s in chosen] == ["site-bw1"]
    assert "1 of 2 candidate buildings cannot be placed on the walk graph" in caplog.text


# --- candidates go where no site stands --------------------------------------------------


def _spread_beside(max_sites: int, standing: list[int]) -> list[str]:
    """``_spread``'s buildings beside an existing locker reaching the demand points
    ``standing``; the stub answers by id, and sees the locker and the buildings in one call."""
    spec = LockersSpec.model_validate(
        {"candidates": {"building_types": ["office"], "max_sites": max_sites}})
    locker = sites.Site("lk1", 32.0, 118.0, spec.candidates.compartments, 0.0, existing=True,
                        kind="existing")
    refs = [f"w{k}" for k in range(1, 7)]
    reach = {"lk1": standing, **{f"site-b{r}": idx for r, idx in zip(refs, REACH, strict=True)}}
    seen: list[list[str]] = []

    def near(found: list[sites.Site]) -> list[np.ndarray]:
        seen.append([site.id for site in found])
        return [np.array(reach[site.id], dtype=int) for site in found]

    chosen = sites.sites_at_buildings(_buildings(refs), spec, _demand(PARCELS), near, [locker])
    assert seen == [["lk1", *(f"site-b{r}" for r in refs)]]
    return [s.id for s in chosen]


def test_candidates_go_where_no_locker_stands_yet() -> None:
    """Seen failing on the old code (it took no standing sites and put the one candidate in the
    busy block the existing locker already serves): the demand a standing locker reaches counts
    as covered, so the candidate goes to the block nothing reaches; then the count restarts."""
    assert _spread_beside(1, [0, 1, 2]) == ["site-bw5"]
    assert _spread_beside(6, [0, 1, 2]) == [
        "site-bw5", "site-bw1", "site-bw2", "site-bw3", "site-bw4", "site-bw6"]
    # a locker reaching all the demand leaves the busiest blocks' second choices, not the rest
    # in their order
    assert _spread_beside(2, [0, 1, 2, 3]) == ["site-bw1", "site-bw5"]


def test_spread_order_starts_from_demand_already_covered() -> None:
    near = [np.array(idx) for idx in ([0], [1], [2], [1, 2, 3])]
    parcels = np.array([5.0, 1.0, 4.0, 2.0])
    covered = np.array([False, True, True, True])
    assert sites.spread_order(near, parcels, 2, covered) == [0, 3]  # only 0 adds; then anew
    assert sites.spread_order(near, parcels, 2, covered | True) == [3, 0]  # all covered: anew
    assert covered.tolist() == [False, True, True, True]  # the caller's mask is left alone


def test_a_share_of_the_parcels_under_a_tenth_of_a_percent_is_not_said_to_be_none() -> None:
    """`make demo` said "2 of 446 demand points (0.0 % of the parcels)": read as none at all."""
    from api.scenario.sites import out_of_reach_text

    far = {"points": 2, "of_points": 446, "share": 0.0003}
    assert "(under 0.1 % of the parcels)" in out_of_reach_text(far, 250)
    assert "(2.5 % of the parcels)" in out_of_reach_text({**far, "share": 0.025}, 250)
