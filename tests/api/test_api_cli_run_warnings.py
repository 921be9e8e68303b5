"""`gongpei scenario run` and `gongpei demo` say the day's pooling warnings on stderr, as
`gongpei pool` does: that every firm pooled is not the cheapest arrangement (far-firm-like
days) or that a saving is partly parcels left undelivered was only in summary.json and the
report, while the line above the report's path looked like a plain success. The demo's plan
lines give CO2 as the report does (0.344 and 0.316 kg both printed "0.3")."""

import pytest
from typer.testing import CliRunner

from api.cli.main import app

WARNING = ("pooled: pooling every firm is not the cheapest arrangement: near-a+near-b pooled, "
           "far on its own costs 148.06 (saving 61.54 against solo)")
FIGURES = {"cost": 144.2, "vehicle_km": 22.9, "transfer_km": 6.9, "vehicles": 2}
SUMMARY = {"plans": {"pooled": {**FIGURES, "co2_kg": 0.344},
                     "lockers": {**FIGURES, "co2_kg": 0.316}},
           "warnings": [WARNING], "checker": {"ok": True, "violations": []}, "stages": {}}


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.scenario.runner.run_scenario", lambda *a, **k: SUMMARY)


@pytest.mark.parametrize("command", [["scenario", "run", "scenarios/campus.yaml"], ["demo"]])
def test_the_pooling_warnings_are_said_on_stderr(fake_run, tmp_path, command) -> None:
    result = CliRunner().invoke(app, [*command, "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f"warning: {WARNING}\n" in result.stderr


def test_the_demo_gives_co2_as_the_report_does(fake_run, tmp_path) -> None:
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path / "out"), "-q"])
    assert "CO2  0.344 kg" in result.stdout and "CO2  0.316 kg" in result.stdout
