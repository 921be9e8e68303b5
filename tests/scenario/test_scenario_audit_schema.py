"""Audit fixes: `scenario validate` refuses, by its scenario field and in one line, what the run
refused only after the slow stages (or with a traceback); YAML aliases; `--set` errors."""

import subprocess
import sys
from pathlib import Path

import pytest
from pyvrp import RandomNumberGenerator

from api.scenario.checks import check_inputs
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.schema import MAX_PARCELS, SEED_MAX
from api.scenario.yaml_lines import MAX_ALIAS_NODES
from routing.model import MAX_AMOUNT, MAX_MONEY, MAX_SECONDS
from routing.pooling.day import MAX_ID_LENGTH

BASE = """\
name: t
map: {source: demo, bbox: [24.92, 60.16, 24.96, 60.18]}
demand: {seed: 0, parcels_per_point: [1, 20]}
lockers:
  existing: [{id: e1, at: {rel: [0.2, 0.2]}, compartments: {S: 4}}]
  candidates: {building_types: [apartments]}
firms:
  - name: a
    depot: {rel: [0.5, 0.5]}
    fleet:
      - {count: 2, capacity: 100, cost_per_km: 1, cost_per_hour: 30, fixed_cost: 50}
    parcels: {count: 10, seed: 0, service_s: 60}
centres: [{id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van}]}]
run: {seed: 0, unserved_parcel_cost: 100}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text), overrides=overrides)
    return info.value.problems


def _edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    assert load_scenario(_write(tmp_path, BASE)).spec.firms[0].name == "a"


# --- 1. seeds and counts the solvers and numpy cannot take


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("count: 10, seed: 0", "count: 10, seed: -1", "12: firms[0].parcels.seed: "),
        ("demand: {seed: 0", "demand: {seed: -1", "3: demand.seed: "),
        ("run: {seed: 0", "run: {seed: -1", "14: run.seed: "),
        ("run: {seed: 0", f"run: {{seed: {SEED_MAX + 1}", "14: run.seed: "),
        ("run: {seed: 0", f"run: {{seed: {2**64}", "14: run.seed: "),
        ("count: 10,", f"count: {10**20},", "12: firms[0].parcels.count: "),
        ("count: 10,", f"count: {MAX_PARCELS + 1},", "12: firms[0].parcels.count: "),
    ],
)
def test_seeds_and_counts_out_of_range_are_refused_by_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """A seed of -1 or 2**64 and a count of 1e20 passed validate, then the run crashed in
    numpy or PyVRP with a traceback after the map and the siting."""
    problems = _problems(tmp_path, _edited(old, new))
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 's.yaml'}:{expected}")


def test_the_largest_seed_is_one_pyvrp_takes_for_both_searches(tmp_path: Path) -> None:
    """``routing.solve`` seeds its second PyVRP search with seed + 1: both must be accepted."""
    RandomNumberGenerator(seed=SEED_MAX + 1)
    with pytest.raises(TypeError):
        RandomNumberGenerator(seed=SEED_MAX + 2)
    text = _edited("run: {seed: 0", f"run: {{seed: {SEED_MAX}").replace("seed: 0", "seed: 7")
    spec = load_scenario(_write(tmp_path, text)).spec
    assert spec.run.seed == SEED_MAX and spec.demand.seed == 7


# --- 2. bounds the day refuses, now refused at the scenario's own key


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("capacity: 100", f"capacity: {MAX_AMOUNT + 1}", "11: firms[0].fleet[0].capacity: "),
        ("cost_per_km: 1", f"cost_per_km: {MAX_MONEY * 2}", "11: firms[0].fleet[0].cost_per_km: "),
        ("cost_per_hour: 30", "cost_per_hour: 2.0e+9", "11: firms[0].fleet[0].cost_per_hour: "),
        ("fixed_cost: 50", "fixed_cost: 2.0e+9", "11: firms[0].fleet[0].fixed_cost: "),
        ("service_s: 60", f"service_s: {int(MAX_SECONDS) + 1}", "12: firms[0].parcels.service_s: "),
        ("unserved_parcel_cost: 100", "unserved_parcel_cost: 2.0e+9",
         "14: run.unserved_parcel_cost: "),
        ("{id: hub,", "{id: '',", "13: centres[0].id: String should have at least 1 character"),
        ("{id: hub,", f"{{id: {'h' * (MAX_ID_LENGTH + 1)},", "13: centres[0].id: String should "
         f"have at most {MAX_ID_LENGTH} characters"),
        ("{id: e1,", f"{{id: {'e' * (MAX_ID_LENGTH + 1)},", "5: lockers.existing[0].id: "),
        ("{S: 4}", f"{{S: {MAX_AMOUNT + 1}}}", "5: lockers.existing[0].compartments.S: "),
        ("bbox: [24.92, 60.16, 24.96, 60.18]", "bbox: [39.995, 116.31, 40.01, 116.33]",
         "2: map.bbox: bbox (39.995, 116.31, 40.01, 116.33) is W,S,E,N: south 116.31 and north "
         "116.33 must be latitudes with S<N, within -90..90 (latitude and longitude swapped?)"),
        ("bbox: [24.92, 60.16, 24.96, 60.18]", "bbox: [170, 60.16, 190, 60.18]",
         "2: map.bbox: bbox (170.0, 60.16, 190.0, 60.18) is W,S,E,N: west 170 and east 190 must "
         "be longitudes"),
    ],
)
def test_what_the_day_refuses_is_refused_at_the_scenario_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """Each passed validate, then the run refused it after the graphs, demand and siting, at the
    `firms:` line in the day's field names (``fleet.0.capacity_parcels``)."""
    problems = _problems(tmp_path, _edited(old, new))
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 's.yaml'}:{expected}"), (
        problems
    )


def test_the_days_largest_values_are_accepted(tmp_path: Path) -> None:
    text = _edited("capacity: 100", f"capacity: {MAX_AMOUNT}").replace(
        "cost_per_km: 1", f"cost_per_km: {MAX_MONEY}"
    ).replace("service_s: 60", f"service_s: {int(MAX_SECONDS)}")
    spec = load_scenario(_write(tmp_path, text)).spec
    assert spec.firms[0].fleet[0].capacity == MAX_AMOUNT


def test_a_firm_name_longer_than_a_day_id_is_refused(tmp_path: Path) -> None:
    """With parcels from a file the name alone is the day's firm id, refused by the run."""
    (tmp_path / "parcels.csv").write_text("id,lat,lon\n1,60.17,24.94\n")
    text = _edited("name: a", f"name: {'a' * (MAX_ID_LENGTH + 1)}").replace(
        "count: 10,", "file: parcels.csv,"
    )
    problems = _problems(tmp_path, text)
    assert problems == [
        f"{tmp_path / 's.yaml'}:8: firms[0].name: String should have at most {MAX_ID_LENGTH} "
        f"characters (got '{'a' * (MAX_ID_LENGTH + 1)}')"
    ]


def test_a_firm_name_too_long_for_its_parcel_ids_is_refused(tmp_path: Path) -> None:
    """Drawn parcels are named ``FIRM-N``: a 200-character firm name passed validate and the
    run refused parcel 'FF...F-1' at the `firms:` line."""
    fits = "a" * (MAX_ID_LENGTH - len("-10"))
    assert load_scenario(_write(tmp_path, _edited("name: a", f"name: {fits}"))).spec
    problems = _problems(tmp_path, _edited("name: a", f"name: {fits}a"))
    assert problems == [
        f"{tmp_path / 's.yaml'}:8: firms[0].name: the name has {len(fits) + 1} characters, so "
        f"its parcels' ids (NAME-10) would be longer than the day's {MAX_ID_LENGTH}; give at "
        f"most {len(fits)}"
    ]


def test_ids_from_files_too_long_for_the_day_are_refused_before_the_map(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text(f"id,lat,lon\nok,60.17,24.94\n{'c' * 201},60.171,24.941\n")
    (tmp_path / "parcels.csv").write_text(f"id,lat,lon\n{'p' * 199},60.17,24.94\n")
    text = _edited("building_types: [apartments]", "file: sites.csv").replace(
        "count: 10,", "file: parcels.csv,"
    )
    loaded = load_scenario(_write(tmp_path, text))
    with pytest.raises(ScenarioError) as info:
        check_inputs(loaded, None)
    site, parcel = info.value.problems
    assert site.startswith(f"{tmp_path / 's.yaml'}:6: lockers.candidates.file: sites.csv: site ")
    assert site.endswith(f"the id has 201 characters, more than the day's {MAX_ID_LENGTH}")
    assert parcel.startswith(f"{tmp_path / 's.yaml'}:12: firms[0].parcels: parcels.csv: parcel ")
    assert parcel.endswith(f"(FIRM-ID) has 201 characters, more than the day's {MAX_ID_LENGTH}")


# --- 3. and 4. shares above one, a reversed range


def test_window_shares_above_one_are_refused(tmp_path: Path) -> None:
    """0.7 + 0.6 was silently rescaled to 0.54 / 0.46."""
    windows = "time_windows: [{window: ['12:00', '13:30'], share: %s}, " \
              "{window: ['17:00', '18:00'], share: %s}]}"
    over = _edited("service_s: 60}", "service_s: 60, " + windows % (0.7, 0.6))
    assert _problems(tmp_path, over) == [
        f"{tmp_path / 's.yaml'}:12: firms[0].parcels.time_windows: the shares add up to 1.3, "
        "more than 1 (each is a part of the firm's parcels; the rest have no window)"
    ]
    rounding = _edited("service_s: 60}", "service_s: 60, " + windows % (0.3, 0.7000000000000001))
    assert len(load_scenario(_write(tmp_path, rounding)).spec.firms[0].parcels.time_windows) == 2


def test_parcels_per_point_low_above_high_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _edited("[1, 20]", "[20, 1]"))
    assert problems == [
        f"{tmp_path / 's.yaml'}:3: demand.parcels_per_point: give [low, high] with low <= high "
        "(got [20.0, 1.0])"
    ]
    assert load_scenario(_write(tmp_path, _edited("[1, 20]", "[5, 5]"))).spec


# --- 5. YAML aliases


def test_an_alias_inside_its_own_anchor_is_one_line(tmp_path: Path) -> None:
    """It was a RecursionError traceback."""
    problems = _problems(tmp_path, BASE + "description: &d [*d]\n")
    assert problems == [
        f"{tmp_path / 's.yaml'}:15: invalid YAML: an alias refers to the anchor that holds it, "
        "so the document would never end"
    ]


def test_aliases_that_expand_hugely_are_refused(tmp_path: Path) -> None:
    """Six levels of ten aliases (a million items from 500 bytes) took seconds and gigabytes,
    seven took 30 s: refused once the aliases add ``MAX_ALIAS_NODES`` items."""
    levels = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    problems = _problems(tmp_path, BASE + "x:\n" + "".join(f"  {lv}\n" for lv in levels))
    assert problems == [
        f"{tmp_path / 's.yaml'}:19: invalid YAML: aliases repeat more than "
        f"{MAX_ALIAS_NODES:,} items; write the repeated part out, or use fewer aliases"
    ]


def test_ordinary_anchors_and_merges_still_load(tmp_path: Path) -> None:
    text = _edited("      - {count: 2,", "      - &van {count: 2,").replace(
        "fleet: [{profile: van}]", "fleet: [{<<: *van, count: 1}]"
    )
    centre_fleet = load_scenario(_write(tmp_path, text)).spec.centres[0].fleet[0]
    assert (centre_fleet.count, centre_fleet.capacity, centre_fleet.fixed_cost) == (1, 100, 50)


def test_a_document_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, BASE + "description: " + "[" * 600 + "]" * 600 + "\n")
    assert problems == [f"{tmp_path / 's.yaml'}: invalid YAML: nested too deeply"]


def test_validate_command_exits_2_on_a_self_referencing_alias(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "description: &d [*d]\n")
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "scenario", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {path}:15: invalid YAML: an alias refers to the anchor that holds it, so the "
        "document would never end"
    ]


# --- 6. errors in a --set value name the --set, not a line of the file


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("siting.budjet=3", "--set siting.budjet=3: siting: unknown key 'budjet'"),
        ("run.seed=-1", "--set run.seed=-1: run.seed: Input should be greater than or equal to 0"),
        ("run={seed: -1}", "--set run={seed: -1}: run.seed: Input should be greater than"),
        ("firms.0.fleet.0.count=0", "--set firms.0.fleet.0.count=0: firms[0].fleet[0].count: "),
        ("firms.0.parcels={file: nope.csv}",
         "--set firms.0.parcels={file: nope.csv}: firms[0].parcels.file: file not found: "),
        ("siting.budget=0", "--set siting.budget=0: siting.budget: budget must be at least 1"),
        ("demand.parcels_per_point=[3, 2]",
         "--set demand.parcels_per_point=[3, 2]: demand.parcels_per_point: give [low, high]"),
    ],
)
def test_an_error_in_a_set_value_names_the_set(
    tmp_path: Path, setting: str, expected: str
) -> None:
    """``--set siting.budjet=3`` said ``s.yaml:30: siting: unknown key 'budjet'``, a line that
    holds no such key."""
    problems = _problems(tmp_path, BASE, (setting,))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_later_set_wins_and_the_files_own_mistakes_keep_their_line(tmp_path: Path) -> None:
    text = _edited("name: a", "name: a\n    colour: red")
    problems = _problems(tmp_path, text, ("run.seed=3", "run={seed: -2}", "siting.budjet=1"))
    assert problems == [
        "--set siting.budjet=1: siting: unknown key 'budjet'; did you mean 'budget'?",
        f"{tmp_path / 's.yaml'}:9: firms[0]: unknown key 'colour' "
        "(known: name, depot, fleet, parcels)",
        "--set run={seed: -2}: run.seed: Input should be greater than or equal to 0 (got -2)",
    ]
