"""A pool run's solves end on a plateau as `gongpei solve`'s do (`routing.pooling.compare.
plan_stop`): a small day (PyVRP's, or of at most 10 stops on any engine) stops after half its
time limit, 1 s at most, without a better plan, each limit still its cap; `--no-plateau` (API
`stop_on_plateau: false`) runs every solve to its limit. Before, every one of a run's solves
(hundreds of coalitions) ran to its limit."""

import sys

import pytest
import yaml
from pydantic import ValidationError

import routing.pooling.compare as compare
from api.cli.main import run
from api.jobs.runner import JobStopped, run_pool
from api.schemas.pooling import PoolSubmit
from routing.pooling.compare import PoolStopped, SolveSettings, compare_day, plan_stop
from routing.pooling.day import parse_day
from routing.pooling.plans import pooled_plan
from routing.pooling.travel import day_travel
from routing.solution import build_solution
from routing.solve import ORTOOLS_SMALL_DAY_STOPS
from routing.stop import MaxRuntime, NoImprovement
from routing.unassigned import explain

QUICK = {"time_limit_s": 0.4, "coalition_time_limit_s": 0.4, "min_time_limit_s": 0.2,
         "shapley_plans": ("pooled",)}  # fmt: skip


@pytest.fixture
def stops(monkeypatch) -> list:
    """The stop each of a pool run's solves was given."""
    given: list = []
    solve = compare.solve

    def spy(problem, **options):
        given.append(options["stop"])
        return solve(problem, **options)

    monkeypatch.setattr(compare, "solve", spy)
    return given


def test_plan_stop_is_half_the_limit_at_most_1_s_on_a_small_pyvrp_day(day_data) -> None:
    day = parse_day(day_data)
    problem = pooled_plan(day, day_travel(day), day.firm_ids()).problem
    assert plan_stop(problem, 0.6, engine="auto") == MaxRuntime(0.6) | NoImprovement(0.3)
    assert plan_stop(problem, 5, engine="pyvrp") == MaxRuntime(5) | NoImprovement(1.0)


def test_plan_stop_gives_ortools_the_plateau_on_days_of_at_most_10_stops(day_data) -> None:
    # as `default_stop` does since OR-Tools' small days end on a plateau: a pool run on
    # --engine ortools ran each such solve to its limit (far-firm example: 21.1 -> 7.9 s)
    day = parse_day(day_data)
    problem = pooled_plan(day, day_travel(day), day.firm_ids()).problem
    assert len(problem.jobs) == 6
    assert plan_stop(problem, 0.6, engine="ortools") == MaxRuntime(0.6) | NoImprovement(0.3)
    assert plan_stop(problem, 5, engine="ortools") == MaxRuntime(5) | NoImprovement(1.0)
    day_data["parcels"] += [
        {"id": f"sf-{k}", "firm": "sf", "at": [36.0660 + 0.001 * k, 120.3800]} for k in range(4, 9)
    ]
    day = parse_day(day_data)
    problem = pooled_plan(day, day_travel(day), day.firm_ids()).problem
    assert len(problem.jobs) == ORTOOLS_SMALL_DAY_STOPS + 1
    assert plan_stop(problem, 5, engine="ortools") == MaxRuntime(5)  # guided search goes on


def test_a_pool_runs_small_solves_end_on_a_plateau(day_data, stops) -> None:
    day = parse_day(day_data)
    settings = SolveSettings(engine="auto", time_limit_s=3.0, coalition_time_limit_s=0.6,
                             min_time_limit_s=0.2, shapley_plans=("pooled",))  # fmt: skip
    result = compare_day(day, day_travel(day), settings, locker_drops=False)
    pooled = result.pooled.solution
    assert pooled.meta["stopped_by"] == "no_improvement"  # 6 parcels: found at once
    assert "ended early: no better plan for 1 s" in pooled.engine_reason
    assert all(any(isinstance(p, NoImprovement) for p in stop.parts()) for stop in stops)
    assert len(stops) == result.solves and result.checks_ok


def test_no_plateau_runs_every_solve_to_its_limit(day_data, stops) -> None:
    day = parse_day(day_data)
    settings = SolveSettings(engine="auto", stop_on_plateau=False, **QUICK)
    result = compare_day(day, day_travel(day), settings, locker_drops=False)
    assert stops and all(isinstance(stop, MaxRuntime) for stop in stops)
    assert result.pooled.solution.meta["stopped_by"] == "max_runtime"


def test_the_cli_turns_the_plateau_off(tmp_path, monkeypatch, day_data) -> None:
    heard: list[SolveSettings] = []

    def fake(day, travel, settings, **_options):
        heard.append(settings)
        raise PoolStopped("enough")

    monkeypatch.setattr(compare, "compare_day", fake)
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    for flag in ("--plateau", "--no-plateau"):
        argv = ["gongpei", "pool", str(day), "-o", str(tmp_path / flag), flag]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises((PoolStopped, SystemExit)):
            run()
    assert [s.stop_on_plateau for s in heard] == [True, False]


def test_a_pool_run_asks_for_the_plateau_by_name(monkeypatch, day_data) -> None:
    assert PoolSubmit(day={}).stop_on_plateau is True
    with pytest.raises(ValidationError) as bad:
        PoolSubmit(day={}, stop_on_plateau="sometimes")
    assert bad.value.errors()[0]["loc"] == ("stop_on_plateau",)
    heard: list[SolveSettings] = []

    def fake(day, travel, settings, **_options):
        heard.append(settings)
        raise PoolStopped("enough")

    monkeypatch.setattr(compare, "compare_day", fake)
    for asked in (True, False):
        with pytest.raises(JobStopped):
            run_pool(PoolSubmit(day=day_data, stop_on_plateau=asked).model_dump(), lambda _: None)
    payload = PoolSubmit(day=day_data).model_dump()
    del payload["stop_on_plateau"]  # a run queued before the field existed
    with pytest.raises(JobStopped):
        run_pool(payload, lambda _: None)
    assert [s.stop_on_plateau for s in heard] == [True, False, True]


def test_solves_that_ran_out_of_time_are_a_warning(monkeypatch, day_data) -> None:
    """A search cut short by its limit, here before any plan (as OR-Tools is on hundreds of
    parcels in a few ms), leaves every parcel out with `explain`'s reason: the warnings only
    said the plan delivers fewer than the solo ones, not that its limit was too short."""
    day = parse_day(day_data)

    def cut_short(problem, **_options):
        left = {t.id: explain(problem, t.id, used=()) for t in problem.jobs}
        return build_solution(problem, [], left, engine="ortools", engine_reason="cut short")

    monkeypatch.setattr(compare, "solve", cut_short)
    result = compare_day(day, day_travel(day), SolveSettings(**QUICK), locker_drops=False)
    (line,) = [w for w in result.warnings() if "ran out of time" in w]
    assert line.startswith("5 solve(s) ran out of time")
    named = (
        "solo sf (3 parcels, 0.2 s), solo yto (3 parcels, 0.2 s), pooled sf+yto (6 parcels, 0.4 s)"
    )
    assert f": {named} and 2 more;" in line
    monkeypatch.undo()
    result = compare_day(day, day_travel(day), SolveSettings(**QUICK), locker_drops=False)
    assert not result.timed_out and not [w for w in result.warnings() if "ran out" in w]
