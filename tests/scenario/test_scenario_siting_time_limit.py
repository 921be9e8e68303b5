"""A scenario's ``siting.time_limit_s`` covers its walking catchments too, as ``gongpei site``'s
and a siting job's limit does: the search gets what the candidate spread and the instance left
of it. The search had the whole limit after them, and the stage ended that much past it."""

import time
from pathlib import Path

import pytest

import routing.siting
from api.scenario import sites
from api.scenario.runner import run_scenario
from tests.scenario.test_scenario_reach_once import DEMO_LOCKERS


@pytest.mark.slow  # a lockers-only scenario on the demo map
def test_the_siting_search_gets_what_the_catchments_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spread, solve = sites.sites_at_buildings, routing.siting.solve
    seen: list[dict] = []
    stages: list[str] = []

    def slow_spread(*args, **kwargs):
        time.sleep(0.5)  # catchments that take a while
        return spread(*args, **kwargs)

    def spy(*args, **options):
        seen.append(options)
        report = options.get("progress") or (lambda update: None)
        options["progress"] = lambda update: (stages.append(update.stage), report(update))
        return solve(*args, **options)

    monkeypatch.setattr(sites, "sites_at_buildings", slow_spread)
    monkeypatch.setattr(routing.siting, "solve", spy)
    (tmp_path / "s.yaml").write_text(DEMO_LOCKERS)
    run_scenario(tmp_path / "s.yaml", tmp_path / "out", quiet=True, coverage_curve=False)
    assert len(seen) == 1 and seen[0]["time_limit_s"] == 2
    assert seen[0].get("spent_s", 0) >= 0.5 and seen[0].get("keep_s", 0) > 0
    assert stages[0] == "heuristic" and stages[-1] == "done"
