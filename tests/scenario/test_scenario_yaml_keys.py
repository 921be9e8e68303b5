"""Scenario files and ``--set`` values refuse a key given twice (YAML would keep the last)."""

from pathlib import Path

import pytest

from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario

SCENARIO = """\
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


def _path(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_a_repeated_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = SCENARIO.replace(
        "    parcels: {count: 10}\n", "    parcels: {count: 10}\n    parcels: {count: 99}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(_path(tmp_path, text))
    assert str(info.value) == (
        f"{tmp_path / 's.yaml'}:10: invalid YAML: duplicate key 'parcels' (first given on line 9)"
    )


def test_a_repeated_key_in_a_set_value_is_the_settings_error(tmp_path: Path) -> None:
    path = _path(tmp_path, SCENARIO)
    assert load_scenario(path).spec.firms[0].parcels.count == 10
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=["firms.0.parcels={count: 5, count: 50}"])
    assert str(info.value) == (
        "--set firms.0.parcels={count: 5, count: 50}: the value is not valid YAML "
        "(duplicate key 'count' (first given on line 1))"
    )
