"""siting.sizing in a scenario: the schema's checks with their lines, and a run whose new lockers
get the fewest S/M/L compartments that turn over their parcels, priced and summed."""

import json
from pathlib import Path

import pytest

from api.report.html import _fmt
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.runner import run_scenario

SIZED_CITY = """\
name: sized city
map: {source: "synthetic:500"}
demand: {source: road_nodes, points: 80, seed: 1, parcels_per_point: [0.2, 1.5],
         size_mix: {S: 0.5, M: 0.3, L: 0.2}}
lockers:
  existing: [{id: old-1, at: {rel: [0.5, 0.5]}, compartments: {S: 25, M: 12, L: 8}}]
  candidates: {road_nodes: 30, compartments: {S: 1, M: 0, L: 0}}
siting:
  radius_m: 400
  budget: 4
  dwell_days: 2
  time_limit_s: 5
  sizing:
    max_compartments: 40
    costs: {S: 100, L: 900}
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 12, seed: 1}
  - name: B
    depot: {rel: [1, 1]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 12, seed: 2}
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 2, capacity: 60}]}
run: {time_limit_s: 0.5, shapley: "off"}
"""
GOOD = """\
name: t
map: {source: demo}
lockers:
  existing: [{id: old, at: {rel: [0.5, 0.5]}, compartments: {S: 60, M: 30, L: 10}}]
siting:
  sizing:
    max_compartments: 120
"""


def _load(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenario(path, overrides=overrides)


def _error(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, text, overrides)
    return str(info.value)


def test_sizing_block_is_optional_and_takes_defaults(tmp_path: Path) -> None:
    assert _load(tmp_path, GOOD.split("siting:")[0]).spec.siting.sizing is None
    siting = _load(tmp_path, GOOD).spec.siting
    assert siting.sizing.max_compartments == 120 and siting.is_capacitated
    assert siting.sizing.costs.model_dump() == {"S": None, "M": None, "L": None}
    switched = _load(tmp_path, GOOD, ("siting.sizing=true",)).spec.siting
    assert switched.sizing.max_compartments == 120
    assert _load(tmp_path, GOOD, ("siting.sizing=false",)).spec.siting.sizing is None
    costs = _load(tmp_path, GOOD, ("siting.sizing.costs.M=420",)).spec.siting.sizing.costs
    assert (costs.S, costs.M) == (None, 420.0)


@pytest.mark.parametrize(("written", "expected"), [
    ("max_compartments: 0",
     "7: siting.sizing.max_compartments: Input should be greater than or equal to 1 (got 0)"),
    ("max_compartments: many",
     "7: siting.sizing.max_compartments: expected a number, not the text 'many'"),
    ("costs: {S: 300, L: -5}",
     "7: siting.sizing.costs.L: Input should be greater than or equal to 0 (got -5)"),
    ("costs: {XL: 5}", "7: siting.sizing.costs: unknown key 'XL'"),
    ("dwell_days: 2", "7: siting.sizing: unknown key 'dwell_days'"),
])
def test_bad_sizing_names_line_and_field(tmp_path: Path, written: str, expected: str) -> None:
    assert f"s.yaml:{expected}" in _error(tmp_path, GOOD.replace("max_compartments: 120", written))


def test_bad_sizing_override_is_an_error(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD, ("siting.sizing=3",))
    assert "--set siting.sizing=3: siting.sizing: Input should be a valid dictionary" in err


def test_existing_locker_above_the_cap_is_accepted(tmp_path: Path) -> None:
    # max_compartments caps what the siting builds; an existing locker keeps all it has
    loaded = _load(tmp_path, GOOD.replace("max_compartments: 120", "max_compartments: 90"))
    assert loaded.spec.siting.sizing.max_compartments == 90


@pytest.fixture(scope="module")
def sized_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sized")
    (base / "scenario.yaml").write_text(SIZED_CITY)
    run_scenario(base / "scenario.yaml", base / "out", quiet=True, coverage_curve=False)
    return base / "out"


def test_new_lockers_get_the_fewest_compartments_for_their_load(sized_run: Path) -> None:
    summary = json.loads((sized_run / "summary.json").read_text())
    assert {s["status"] for s in summary["stages"].values()} == {"done"}, summary["stages"]
    siting = summary["siting"]
    assert siting["capacitated"] and len(siting["opened"]) == 4
    dwell, at_least = 2.0, {"S": 1.0, "M": 0.5, "L": 0.2}  # shares of parcels of size >= S/M/L
    new = [row for row in siting["lockers"] if row["kind"] != "existing"]
    assert new and any(row["parcels_per_day"] > 1 for row in new)
    for row in new:
        built, load = row["build"], row["parcels_per_day"]
        assert built == row["compartments"] and sum(built.values()) <= 40
        assert row["capacity_per_day"] == pytest.approx(sum(built.values()) / dwell, abs=0.05)
        # compartments of size >= t turn over at least the parcels that need size t or larger
        for i, size in enumerate("SML"):
            bigger = sum(built[k] for k in "SML"[i:])
            assert bigger / dwell >= load * at_least[size] - 0.05 * at_least[size] - 1e-9, row
            # the fewest: one compartment less of size >= t would not hold them
            assert (bigger - 1) / dwell < load * at_least[size] + 0.05, row
    # the existing locker keeps all 45 compartments (more than max_compartments 40), builds none
    old = next(row for row in siting["lockers"] if row["id"] == "old-1")
    assert old["compartments"] == {"S": 25, "M": 12, "L": 8} and old["compartment_cost"] == 0
    assert old["build"] == {"S": 0, "M": 0, "L": 0}
    assert old["parcels_per_day"] <= old["capacity_per_day"] == 22.5  # 45 compartments / 2 days
    # its 8 L turn over 4 large parcels a day, a fifth of its load at most: 20 parcels
    assert 0 < old["parcels_per_day"] <= 20.0 + 0.05


def test_compartment_costs_add_up(sized_run: Path) -> None:
    siting = json.loads((sized_run / "summary.json").read_text())["siting"]
    sizing = siting["sizing"]
    assert sizing["costs"] == {"S": 100.0, "M": 400.0, "L": 900.0}  # M from the defaults
    assert sizing["max_compartments"] == 40 and sizing["dwell_days"] == 2.0
    for row in siting["lockers"]:
        assert row["compartment_cost"] == sum(row["build"][k] * sizing["costs"][k] for k in "SML")
    assert sizing["build"] == {k: sum(row["build"][k] for row in siting["lockers"])
                               for k in "SML"}
    assert sizing["compartment_cost"] == pytest.approx(
        sum(row["compartment_cost"] for row in siting["lockers"]))
    assert sizing["compartment_cost"] > 0


def test_sized_lockers_reach_the_layers_and_the_report(sized_run: Path) -> None:
    siting = json.loads((sized_run / "summary.json").read_text())["siting"]
    layer = json.loads((sized_run / "layers" / "lockers.geojson").read_text())["features"]
    shown = {f["properties"]["id"]: {s: f["properties"][s] for s in "SML"} for f in layer
             if f["properties"]["chosen"]}
    for row in siting["lockers"]:
        assert shown[row["id"]] == row["compartments"]
    html = (sized_run / "report.html").read_text()
    cost = f"<td>{_fmt(siting['sizing']['compartment_cost'])}</td>"
    assert "To build S / M / L" in html and cost in html
