"""Scenario files: the shipped ones validate; bad input gives one readable error with its line."""

import subprocess
import sys
from pathlib import Path

import pytest

from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.outdir import staged_output
from api.scenario.sweep import sweep_values

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
GOOD = """\
name: t
map: {source: demo}
lockers: {candidates: {building_types: [apartments]}}
firms:
  - name: a
    depot: {rel: [0.5, 0.5]}
    fleet:
      - {profile: van, count: 2}
    parcels: {count: 10}
centres: [{id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van}]}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    return info.value


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    spec = load_scenario(path).spec
    assert spec.firms and spec.centres


def test_unknown_key_names_line_and_field(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "siting:\n  budjet: 5\n")
    assert str(err) == (
        f"{tmp_path / 's.yaml'}:12: siting: unknown key 'budjet'; did you mean 'budget'?"
    )


def test_wrong_type_names_line_field_and_value(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("count: 2", "count: many"))
    assert ":8: firms[0].fleet[0].count: " in str(err) and "'many'" in str(err)


def test_a_fleet_beyond_the_days_vehicle_limit_names_its_line(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("count: 2", "count: 1001"))
    assert ":8: firms[0].fleet[0].count: " in str(err) and "1000" in str(err)


def test_line_haul_is_set_or_switched_off_under_run(tmp_path: Path) -> None:
    spec = load_scenario(_write(tmp_path, GOOD + "run:\n  transfer: null\n")).spec
    assert spec.run.transfer is None
    spec = load_scenario(_write(tmp_path, GOOD + "run:\n  transfer: {cost_per_km: 3}\n")).spec
    assert spec.run.transfer.cost_per_km == 3 and spec.run.transfer.type == "van"
    err = _error(tmp_path, GOOD + "run:\n  transfer: {capacity_kg: -1}\n")
    assert ":12: run.transfer.capacity_kg: Input should be greater than 0" in str(err)
    err = _error(tmp_path, GOOD + "run:\n  transfer: {type: barge}\n")
    assert ":12: run.transfer: vehicle type 'barge' is unknown (use van, truck, e-tricycle)" in str(
        err
    )
    # e-tricycle fleets with the default van line haul need the van roads too
    trikes = GOOD.replace("profile: van", "profile: e-tricycle")
    assert load_scenario(_write(tmp_path, trikes)).spec.profiles() == ["e-tricycle", "van"]
    spec = load_scenario(_write(tmp_path, trikes + "run:\n  transfer: null\n")).spec
    assert spec.profiles() == ["e-tricycle"]


def test_budget_of_zero(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "siting:\n  budget: 0\n")
    assert ":12: siting.budget: budget must be at least 1 locker (got 0)" in str(err)


def test_firm_with_no_parcels(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("count: 10", "count: 0"))
    assert ":9: firms[0].parcels: the firm has no parcels" in str(err)


def test_missing_file_names_the_field(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("{count: 10}", "{file: day.csv}"))
    assert ":9: firms[0].parcels.file: file not found: " in str(err)
    assert str(tmp_path / "day.csv") in str(err)


def test_several_problems_one_line_each(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("count: 2", "count: -1") + "siting: {budget: 0}\nx: 1\n")
    assert len(err.problems) == 3 and "(and 2 more)" in str(err) and "\n" not in str(err)
    assert [p.split(":")[1] for p in err.problems] == ["8", "11", "12"]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "siting: [1, 2\n")
    assert ":12: invalid YAML" in str(err) or ":13: invalid YAML" in str(err)


def test_overrides_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert load_scenario(path, overrides=["siting.budget=9"]).spec.siting.budget == 9
    with pytest.raises(ScenarioError, match="budget must be at least 1"):
        load_scenario(path, overrides=["siting.budget=0"])
    with pytest.raises(ScenarioError, match=r"'firms\.3' is not in the scenario"):
        load_scenario(path, overrides=["firms.3.name=x"])


def test_an_override_that_is_not_yaml_names_the_setting(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=["siting.budget=[1"])
    assert (
        str(info.value) == "--set siting.budget=[1: the value is not valid YAML "
        "(expected ',' or ']', but got '<stream end>')"
    )
    with pytest.raises(ScenarioError, match=r"^--set siting\.budget=4,\{5: the value is not"):
        sweep_values("siting.budget=4,{5")


def test_sweep_values() -> None:
    assert sweep_values("siting.budget=5:30:5") == ("siting.budget", [5, 10, 15, 20, 25, 30])
    assert sweep_values("siting.radius_m=100,250.5") == ("siting.radius_m", [100, 250.5])
    with pytest.raises(ScenarioError):
        sweep_values("siting.budget=5:1:1")


def test_failed_run_leaves_no_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_output(out) as folder:
        (folder / "summary.json").write_text("{}")
        raise RuntimeError("stage failed")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with staged_output(out) as folder:
        (folder / "summary.json").write_text("{}")
    assert (out / "summary.json").is_file() and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(ScenarioError, match="not empty"), staged_output(out):
        pass
    with pytest.raises(RuntimeError), staged_output(out, overwrite=True) as folder:
        raise RuntimeError("a failed re-run keeps the previous result")
    assert (out / "summary.json").read_text() == "{}"
    with staged_output(out, overwrite=True) as folder:
        (folder / "report.html").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-o .` fills the current folder in place (the shell stays in it), refused when not empty
    unless overwriting, and never when overwriting would delete the scenario itself."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with staged_output(Path(".")) as folder:
        (folder / "summary.json").write_text("{}")
    assert [p.name for p in here.iterdir()] == ["summary.json"]
    assert Path.cwd() == here and [p.name for p in tmp_path.iterdir()] == ["here"]
    with (
        pytest.raises(ScenarioError, match=f"^{here}: output folder is not empty"),
        staged_output(Path(".")),
    ):
        pass
    with staged_output(Path("."), overwrite=True) as folder:
        (folder / "report.html").write_text("new")
    assert [p.name for p in here.iterdir()] == ["report.html"]
    scenario = here / "s.yaml"
    scenario.write_text(GOOD)
    with (
        pytest.raises(
            ScenarioError,
            match=f"^{here}: output folder holds .*s.yaml, which --overwrite would delete",
        ),
        staged_output(Path("."), overwrite=True, inputs=[Path("s.yaml")]),
    ):
        pass
    assert sorted(p.name for p in here.iterdir()) == ["report.html", "s.yaml"]


def test_cli_validate_exit_code(tmp_path: Path) -> None:
    """Through a real `gongpei` process: exit code 2 and one line per problem on stderr."""
    path = _write(tmp_path, GOOD + "siting: {budget: 0}\nfoo: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "scenario", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert ":11: siting.budget:" in lines[0] and ":12: (top level): unknown key 'foo'" in lines[1]


# a key given twice: YAML would keep the last value without a word
def test_a_repeated_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    parcels: {count: 10}\n", "    parcels: {count: 10}\n    parcels: {count: 99}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    assert str(info.value) == (
        f"{tmp_path / 's.yaml'}:10: invalid YAML: duplicate key 'parcels' (first given on line 9)"
    )


def test_a_repeated_key_in_a_set_value_is_the_settings_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert load_scenario(path).spec.firms[0].parcels.count == 10
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=["firms.0.parcels={count: 5, count: 50}"])
    assert str(info.value) == (
        "--set firms.0.parcels={count: 5, count: 50}: the value is not valid YAML "
        "(duplicate key 'count' (first given on line 1))"
    )
