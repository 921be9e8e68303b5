"""`scenario validate` takes a run's `--set` and a sweep's `--fix`, so overrides are checked
without starting a run; an unknown key names the one likely meant, as solve's input does."""

import sys
from pathlib import Path

import pytest

from api.cli.main import run

CAMPUS = Path(__file__).resolve().parents[2] / "scenarios" / "campus.yaml"
SITING_ONLY = "name: t\nmap: {source: demo}\nlockers: {candidates: {road_nodes: 5}}\n"


def gongpei(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    out = capsys.readouterr()
    return stop.value.code or 0, out.out, out.err


def test_validate_reports_each_bad_override(monkeypatch, capsys) -> None:
    code, _, err = gongpei(monkeypatch, capsys, "scenario", "validate", str(CAMPUS),
                           "--set", "siting.radius_m=abc", "--fix", "run.transfr=null")  # fmt: skip
    assert code == 2
    assert err.splitlines() == [
        "error: --set siting.radius_m=abc: siting.radius_m: expected a number, "
        "not the text 'abc'",
        "error: --set run.transfr=null: run: unknown key 'transfr'; did you mean 'transfer'?",
    ]


def test_validate_accepts_good_overrides(monkeypatch, capsys) -> None:
    code, out, err = gongpei(monkeypatch, capsys, "scenario", "validate", str(CAMPUS),
                             "--set", "siting.budget=3", "--fix", "run.transfer=null")  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"{CAMPUS}: valid scenario ")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("siting:\n  budgte: 5\n", "siting: unknown key 'budgte'; did you mean 'budget'?"),
        ("run:\n  engien: pyvrp\n", "run: unknown key 'engien'; did you mean 'engine'?"),
        ("siting:\n  sizing: {max_compartmnts: 9}\n",
         "siting.sizing: unknown key 'max_compartmnts'; did you mean 'max_compartments'?"),
        # nothing close: no guess, the keys that may go there ('XL' was only "unknown")
        ("siting:\n  zzz: 5\n", "siting: unknown key 'zzz' (known: model, radius_m, budget, "
         "capacitated, dwell_days, time_limit_s, sizing)"),
        ("siting:\n  sizing: {costs: {XL: 3}}\n",
         "siting.sizing.costs: unknown key 'XL' (known: S, M, L)"),
        # a number's bound names it ("greater than 0" held a 0, so the value was left out)
        ("siting:\n  time_limit_s: 0\n",
         "siting.time_limit_s: Input should be greater than 0 (got 0)"),
    ],
)  # fmt: skip
def test_an_unknown_key_names_the_likely_one(tmp_path, text, hint) -> None:
    from api.scenario.errors import ScenarioError
    from api.scenario.load import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(SITING_ONLY + text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [p.split(": ", 1)[1] for p in info.value.problems] == [hint]
