"""A tiny day OR-Tools plans alone ends on the default plateau, not at its time limit.

`default_stop` gave only days PyVRP plans a plateau, so `gongpei solve --engine ortools` (and
a small day `auto` hands OR-Tools) searched a 3-job day for its whole 10 s limit, its plan found
in milliseconds. The solves here have a cap far above the plateau and assert on what ended the
search (`meta["stopped_by"]`), never on time.
"""

from __future__ import annotations

from routing_helpers import line_model

from routing.check import check
from routing.model import Problem
from routing.solve import ORTOOLS_SMALL_DAY_STOPS, SMALL_DAY_PLATEAU_S, default_stop, solve
from routing.stop import MaxRuntime, NoImprovement

CAP_S = 20.0  # far above the 1 s plateau these few stops need


def _day(jobs: int, **vehicle: object) -> Problem:
    m = line_model(jobs + 1)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(100,), **vehicle)
    for k in range(1, jobs + 1):
        m.add_job(f"j{k}", location=k, delivery=(1,))
    return m.build()


def test_a_tiny_day_ortools_plans_alone_gets_the_plateau() -> None:
    plateau = MaxRuntime(10) | NoImprovement(SMALL_DAY_PLATEAU_S)
    assert default_stop(_day(3), 10, engine="ortools") == plateau
    # auto on a day PyVRP cannot model, even simplified: OR-Tools alone plans it
    assert default_stop(_day(3, max_distance=5000, cost_per_hour=10), 10) == plateau


def test_the_ortools_plateau_stops_at_its_size() -> None:
    small, larger = _day(ORTOOLS_SMALL_DAY_STOPS), _day(ORTOOLS_SMALL_DAY_STOPS + 1)
    plateau = MaxRuntime(10) | NoImprovement(SMALL_DAY_PLATEAU_S)
    assert default_stop(small, 10, engine="ortools") == plateau
    assert default_stop(larger, 10, engine="ortools") == MaxRuntime(10)
    assert default_stop(larger, 10) == plateau  # auto: PyVRP plans it, up to SMALL_DAY_STOPS
    assert default_stop(small, 10, engine="ortools", no_improvement_s=10) == MaxRuntime(10)


def test_a_tiny_ortools_day_ends_on_the_default_plateau_with_a_sound_plan() -> None:
    problem = _day(3)
    solution = solve(problem, engine="ortools", stop=default_stop(problem, CAP_S, engine="ortools"))
    assert solution.meta["stopped_by"] == "no_improvement"
    assert f"ended early: no better plan for {SMALL_DAY_PLATEAU_S:g} s" in solution.engine_reason
    assert not solution.unassigned and check(problem, solution).ok
    assert solution.summary.cost == 600  # out and back along the line: the best plan


def test_a_day_past_the_size_is_not_cut_short() -> None:
    """No plateau: OR-Tools searches to its (short, here) limit."""
    problem = _day(ORTOOLS_SMALL_DAY_STOPS + 1)
    solution = solve(problem, engine="ortools", stop=default_stop(problem, 0.5, engine="ortools"))
    assert solution.meta["stopped_by"] == "max_runtime"
    assert "ended early" not in solution.engine_reason and check(problem, solution).ok
